//! Bernoulli and Poisson rate coding.
//!
//! **Bernoulli** ([`bernoulli_u8`], [`bernoulli_f32`]): every pixel spikes independently at
//! every step with probability equal to its intensity (`p / 255` for bytes, `x` clamped to
//! `[0, 1]` for floats), as snnTorch's `spikegen.rate`. Random numbers come from
//! [`RateRng`], eight xoshiro128++ generators side by side in a `wide::i32x8`: one call yields
//! eight 32-bit draws, split into sixteen 16-bit draws for 16 pixels, compared against
//! precomputed 16-bit thresholds and packed into spike words with a movemask (about 3
//! instructions per pixel and step). Each pixel's probability is represented as
//! `threshold / 2^16` (`ceil(x * 2^16)`), an error below `1.6e-5`, far below the sampling noise
//! of any practical `T`.
//!
//! **Poisson** ([`poisson_f32`], [`poisson_u8`]): a Poisson process per pixel with `rate` events
//! per step, binned into steps (a step spikes when at least one event falls into it, so
//! `P(spike) = 1 - exp(-rate)`). The generator jumps from one spiking step to the next with
//! exponential waiting times (memorylessness makes the jump exact), so its cost grows with the
//! number of spikes, not with `T x pixels`. [`poisson_u8`] uses `rate = -ln(1 - p / 255)`, which
//! makes the per-step spike probability equal to the intensity, as for Bernoulli coding.

use wide::{CmpLt, i32x8};

use crate::error::{Error, Result};
use crate::model::MAX_TIMESTEPS;
use crate::spikes::{SpikeTrain, words_for};

/// One output of SplitMix64 (Steele et al.), used to expand seeds; advances `state`.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Eight independent xoshiro128++ generators (Blackman and Vigna) in SIMD lanes.
///
/// Lane `j` starts from the SplitMix64 stream of `seed`: outputs `2j` and `2j + 1` give its four
/// 32-bit state words (low half first); an all-zero state (never observed) is replaced by
/// `s0 = 1`. Every [`RateRng::next_i32x8`] advances all lanes once.
#[derive(Clone, Debug)]
pub struct RateRng {
    s: [i32x8; 4],
}

#[inline(always)]
fn rotl(x: i32x8, k: i32) -> i32x8 {
    // `>>` on i32x8 is arithmetic; masking the top bits gives the logical shift.
    (x << k) | ((x >> (32 - k)) & i32x8::splat((1i32 << k) - 1))
}

impl RateRng {
    /// Seeds the eight lanes from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let lanes: [[u32; 4]; 8] = std::array::from_fn(|_| {
            let a = splitmix64(&mut sm);
            let b = splitmix64(&mut sm);
            let lane = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
            if lane == [0; 4] { [1, 0, 0, 0] } else { lane }
        });
        RateRng {
            s: std::array::from_fn(|k| i32x8::new(std::array::from_fn(|j| lanes[j][k] as i32))),
        }
    }

    /// The next 32-bit output of every lane (as `i32` bit patterns).
    #[inline(always)]
    pub fn next_i32x8(&mut self) -> i32x8 {
        let [s0, s1, s2, s3] = self.s;
        let result = rotl(s0 + s3, 7) + s0;
        let t: i32x8 = s1 << 9i32;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        let s2 = s2 ^ t;
        let s3 = rotl(s3, 11);
        self.s = [s0, s1, s2, s3];
        result
    }

    /// The next 32-bit output of every lane.
    pub fn next_u32s(&mut self) -> [u32; 8] {
        self.next_i32x8().to_array().map(|x| x as u32)
    }
}

/// `2^16`: thresholds and draws are 16-bit fixed point.
pub const ONE_16: i32 = 1 << 16;

/// Bernoulli threshold of a byte intensity: `ceil(p * 2^16 / 255)`, so `0 -> 0` (never) and
/// `255 -> 2^16` (every step).
#[inline]
pub fn threshold_u8(p: u8) -> i32 {
    (p as i32 * ONE_16 + 254) / 255
}

/// Bernoulli threshold of a float intensity: `ceil(x * 2^16)` clamped to `[0, 2^16]`; NaN and
/// values `<= 0` never spike, values `>= 1` spike every step.
#[inline]
pub fn threshold_f32(x: f32) -> i32 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= 1.0 {
        ONE_16
    } else {
        // x * 2^16 is exact (power-of-two scaling), and so is ceil of a value below 2^16.
        (x * ONE_16 as f32).ceil() as i32
    }
}

fn check_steps(timesteps: usize) -> Result<()> {
    if timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is above the limit of {MAX_TIMESTEPS}"
        )));
    }
    Ok(())
}

/// Bernoulli coding from 16-bit thresholds (one per pixel, in `0..=2^16`): a pixel spikes at
/// a step when its 16-bit draw is below its threshold.
///
/// The draws are consumed in a fixed order, which defines the sequence: every step makes four
/// [`RateRng::next_i32x8`] calls per 64 pixels (rows padded to whole words); call `v` of a word
/// serves its pixels `16v + j` with the low half and `16v + 8 + j` with the high half of lane
/// `j`'s 32-bit output.
pub fn bernoulli_thresholds(thresholds: &[i32], timesteps: usize, seed: u64) -> Result<SpikeTrain> {
    check_steps(timesteps)?;
    if let Some(i) = thresholds.iter().position(|t| !(0..=ONE_16).contains(t)) {
        return Err(Error::invalid(format!(
            "Bernoulli threshold {} of pixel {i} is outside 0..=65536",
            thresholds[i]
        )));
    }
    let n = thresholds.len();
    let words = words_for(n);
    // Thresholds padded to whole words with zeros: padding pixels never spike, so the padding
    // bits of the train stay zero.
    let mut thr = vec![i32x8::splat(0); words * 8];
    for (v, chunk) in thresholds.chunks(8).enumerate() {
        let mut a = [0i32; 8];
        a[..chunk.len()].copy_from_slice(chunk);
        thr[v] = i32x8::new(a);
    }
    let mut train = SpikeTrain::zeros(timesteps, n);
    let mut rng = RateRng::new(seed);
    let low = i32x8::splat(0xFFFF);
    for t in 0..timesteps {
        let row = train.row_mut(t);
        for (word, thr) in row.iter_mut().zip(thr.chunks_exact(8)) {
            let mut bits = 0u64;
            for v in 0..4 {
                let r = rng.next_i32x8();
                let lo: i32x8 = r & low;
                let hi: i32x8 = (r >> 16i32) & low;
                let mlo = lo.cmp_lt(thr[2 * v]).move_mask() as u64 & 0xFF;
                let mhi = hi.cmp_lt(thr[2 * v + 1]).move_mask() as u64 & 0xFF;
                bits |= (mlo | mhi << 8) << (16 * v);
            }
            *word = bits;
        }
    }
    Ok(train)
}

/// Bernoulli rate coding of byte intensities: spike probability `p / 255` per step.
pub fn bernoulli_u8(pixels: &[u8], timesteps: usize, seed: u64) -> Result<SpikeTrain> {
    let thr: Vec<i32> = pixels.iter().map(|&p| threshold_u8(p)).collect();
    bernoulli_thresholds(&thr, timesteps, seed)
}

/// Bernoulli rate coding of float intensities: spike probability `x` clamped to `[0, 1]` per
/// step (NaN never spikes).
pub fn bernoulli_f32(intensities: &[f32], timesteps: usize, seed: u64) -> Result<SpikeTrain> {
    let thr: Vec<i32> = intensities.iter().map(|&x| threshold_f32(x)).collect();
    bernoulli_thresholds(&thr, timesteps, seed)
}

/// Uniform draw in `(0, 1]` from 53 bits of SplitMix64.
#[inline]
fn unit_open0(state: &mut u64) -> f64 {
    ((splitmix64(state) >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Poisson coding: pixel `i` is a Poisson process of `rates[i]` events per step (`>= 0`,
/// `+inf` allowed: every step); a step spikes when it holds at least one event.
///
/// Pixel `i` draws from its own SplitMix64 stream started at
/// `seed ^ (0x9E3779B97F4A7C15 * (i + 1))`, so results do not depend on the pixel count.
/// Errors: a negative or NaN rate, or too many timesteps.
pub fn poisson_f32(rates: &[f32], timesteps: usize, seed: u64) -> Result<SpikeTrain> {
    check_steps(timesteps)?;
    if let Some(i) = rates.iter().position(|r| r.is_nan() || *r < 0.0) {
        return Err(Error::invalid(format!(
            "Poisson rate {} of pixel {i} must be >= 0",
            rates[i]
        )));
    }
    let mut train = SpikeTrain::zeros(timesteps, rates.len());
    let end = timesteps as f64;
    for (i, &rate) in rates.iter().enumerate() {
        if rate == 0.0 {
            continue;
        }
        let mut state = seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
        let inv = 1.0 / rate as f64; // 0 for +inf: every step spikes.
        let mut t = -unit_open0(&mut state).ln() * inv;
        while t < end {
            let k = t as usize;
            train.row_mut(k)[i / 64] |= 1 << (i % 64);
            // Events after the first in step k do not matter; by memorylessness the next event
            // after the end of step k is (k + 1) + Exp(rate).
            t = (k + 1) as f64 - unit_open0(&mut state).ln() * inv;
        }
    }
    Ok(train)
}

/// Poisson coding of byte intensities with `rate = -ln(1 - p / 255)`: the per-step spike
/// probability equals `p / 255` (255 spikes every step, 0 never).
pub fn poisson_u8(pixels: &[u8], timesteps: usize, seed: u64) -> Result<SpikeTrain> {
    let rates: Vec<f32> = pixels
        .iter()
        .map(|&p| -(1.0 - p as f64 / 255.0).ln() as f32)
        .collect();
    poisson_f32(&rates, timesteps, seed)
}
