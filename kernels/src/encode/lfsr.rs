//! The hardware LFSR rate encoder, bit-exact with the on-chip encoder.
//!
//! The sequence is specified in `docs/numeric-contract.md` ("LFSR rate encoder"); this module
//! is written from that text and the generated Verilog reproduces it. In short: `L` lanes of
//! 32-bit xorshift (`x ^= x << 13; x ^= x >> 17; x ^= x << 5`), each seeded at the start of
//! every inference by [`lfsr_lane_seed`]; every timestep walks the pixels in groups of `L`,
//! every lane steps once per group (also lanes past the last pixel), and pixel `g*L + l`
//! spikes when `pixel > (x_l >> 24)` after the step.

use crate::error::{Error, Result};
use crate::model::{MAX_LAYER_ELEMENTS, MAX_TIMESTEPS};
use crate::spikes::SpikeTrain;

/// The golden-ratio increment between lane seeds (`0x9E3779B9`).
pub const LFSR_SEED_INCREMENT: u32 = 0x9E37_79B9;

/// One step of a 32-bit xorshift lane: `x ^= x << 13; x ^= x >> 17; x ^= x << 5` (logical
/// shifts, bits shifted out of 32 bits are dropped). A non-zero state never becomes zero.
#[inline]
pub const fn lfsr_step(mut x: u32) -> u32 {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// Initial state of lane `lane` for `seed`: `s = seed + 0x9E3779B9 * (lane + 1)` (wrapping),
/// then the murmur3 32-bit finaliser, and `0` replaced by `1` (xorshift's only fixed point).
#[inline]
pub const fn lfsr_lane_seed(seed: u32, lane: u32) -> u32 {
    let mut s = seed.wrapping_add(LFSR_SEED_INCREMENT.wrapping_mul(lane.wrapping_add(1)));
    s ^= s >> 16;
    s = s.wrapping_mul(0x85EB_CA6B);
    s ^= s >> 13;
    s = s.wrapping_mul(0xC2B2_AE35);
    s ^= s >> 16;
    if s == 0 { 1 } else { s }
}

/// The spike decision of the contract: pixel `p` spikes when `p > (x >> 24)` for the lane
/// state `x` *after* its step.
#[inline]
pub const fn lfsr_spike(pixel: u8, state: u32) -> bool {
    pixel as u32 > state >> 24
}

/// A running LFSR encoder: the lane states of one inference. [`LfsrEncoder::new`] is the
/// per-inference reset; every call of [`LfsrEncoder::encode_step`] encodes one timestep and
/// carries the lane states over to the next, as the hardware does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfsrEncoder {
    seed: u32,
    lanes: Vec<u32>,
}

impl LfsrEncoder {
    /// Lane states reset for a new inference. `lanes` must be in `1..=MAX_LAYER_ELEMENTS`.
    pub fn new(seed: u32, lanes: u32) -> Result<Self> {
        if lanes == 0 || lanes as usize > MAX_LAYER_ELEMENTS {
            return Err(Error::invalid(format!(
                "LFSR lanes {lanes} is outside 1..={MAX_LAYER_ELEMENTS}"
            )));
        }
        Ok(LfsrEncoder {
            seed,
            lanes: (0..lanes).map(|l| lfsr_lane_seed(seed, l)).collect(),
        })
    }

    /// Resets every lane to its seed (start of a new inference).
    pub fn reset(&mut self) {
        for (l, x) in self.lanes.iter_mut().enumerate() {
            *x = lfsr_lane_seed(self.seed, l as u32);
        }
    }

    /// Current lane states.
    pub fn states(&self) -> &[u32] {
        &self.lanes
    }

    /// Encodes one timestep of `pixels` into the bit-packed row `row` (which must hold
    /// `words_for(pixels.len())` words; it is overwritten).
    pub fn encode_step(&mut self, pixels: &[u8], row: &mut [u64]) {
        assert_eq!(row.len(), pixels.len().div_ceil(64), "row width");
        if let [x] = self.lanes.as_mut_slice() {
            // One lane: one step per pixel, a plain sequential loop.
            for (word, chunk) in row.iter_mut().zip(pixels.chunks(64)) {
                let mut bits = 0u64;
                for (j, &p) in chunk.iter().enumerate() {
                    *x = lfsr_step(*x);
                    bits |= (lfsr_spike(p, *x) as u64) << j;
                }
                *word = bits;
            }
            return;
        }
        row.fill(0);
        let l_count = self.lanes.len();
        for (g, group) in pixels.chunks(l_count).enumerate() {
            let base = g * l_count;
            // Every lane steps once per group, including lanes past the last pixel.
            for x in self.lanes.iter_mut() {
                *x = lfsr_step(*x);
            }
            for (l, (&p, &x)) in group.iter().zip(&self.lanes).enumerate() {
                let i = base + l;
                row[i / 64] |= (lfsr_spike(p, x) as u64) << (i % 64);
            }
        }
    }
}

/// Encodes `pixels` (the flattened input image, channel-major as the model's input) into a
/// `timesteps x pixels.len()` spike train with the hardware LFSR generator. Lanes are reseeded
/// from `seed` at the start (every inference uses the same seed, as the hardware does).
///
/// Errors: `lanes == 0`, or `timesteps` above [`MAX_TIMESTEPS`].
pub fn lfsr_encode(pixels: &[u8], timesteps: usize, seed: u32, lanes: u32) -> Result<SpikeTrain> {
    if timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is above the limit of {MAX_TIMESTEPS}"
        )));
    }
    let mut enc = LfsrEncoder::new(seed, lanes)?;
    let mut train = SpikeTrain::zeros(timesteps, pixels.len());
    for t in 0..timesteps {
        enc.encode_step(pixels, train.row_mut(t));
    }
    Ok(train)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_step_hand_computed() {
        // x = 1: x ^= 1 << 13 -> 0x2001; x >> 17 = 0; x ^= 0x2001 << 5 = 0x40020 -> 0x42021
        // (= 270369, the classic first xorshift32 output from state 1).
        assert_eq!(lfsr_step(1), 0x0004_2021);
        // Further steps from python3: x ^= (x << 13) & M; x ^= x >> 17; x ^= (x << 5) & M.
        assert_eq!(lfsr_step(0x0004_2021), 0x0408_0601);
        assert_eq!(lfsr_step(0x0408_0601), 0x9dcc_a8c5);
        assert_eq!(lfsr_step(0x9dcc_a8c5), 0x1255_994f);
    }

    #[test]
    fn lane_seeds_from_python() {
        // python3: s = (seed + 0x9E3779B9*(l+1)) & M; murmur3 fmix32; 0 -> 1.
        let expect = [
            (0u32, [0x92ca2f0e, 0x3cd6e3f3, 0x1b147dcc, 0x4c081dbf]),
            (1, [0x96a0f96b, 0x12bc8390, 0x971e9964, 0x79adc7e7]),
            (0xDEADBEEF, [0xd3ce9097, 0x62117ced, 0xf2c80841, 0xa4884171]),
        ];
        for (seed, lanes) in expect {
            for (l, &s) in lanes.iter().enumerate() {
                assert_eq!(lfsr_lane_seed(seed, l as u32), s, "seed {seed:#x} lane {l}");
            }
        }
        // fmix32 is a bijection with fmix32(0) = 0, so seed = -0x9E3779B9 mod 2^32 makes lane 0
        // hash to 0, which the contract replaces by 1.
        assert_eq!(lfsr_lane_seed(0x61C8_8647, 0), 1);
    }

    #[test]
    fn encoded_train_from_python() {
        // python3 reference (docs/numeric-contract.md), seed 0, 2 lanes, pixels
        // [0, 255, 128, 200, 1], 4 steps. Lane 0 states after steps: 0x325b17fb,
        // 0x442faa89, 0x9ea494f6, ... so pixel 0 (value 0) never spikes, pixel 2 (128) compares
        // against 0x44 = 68 at step 0 -> spike.
        let t = lfsr_encode(&[0, 255, 128, 200, 1], 4, 0, 2).unwrap();
        let expect = [
            [0, 1, 1, 1, 0],
            [0, 1, 0, 1, 0],
            [0, 1, 1, 1, 0],
            [0, 1, 1, 1, 0],
        ];
        for (s, row) in expect.iter().enumerate() {
            for (p, &b) in row.iter().enumerate() {
                assert_eq!(t.get(s, p), b == 1, "step {s} pixel {p}");
            }
        }
        // More lanes than pixels: 4 lanes, 3 pixels, seed 0xDEADBEEF.
        let t = lfsr_encode(&[10, 250, 130], 3, 0xDEAD_BEEF, 4).unwrap();
        let expect = [[0, 0, 0], [0, 1, 1], [0, 1, 1]];
        for (s, row) in expect.iter().enumerate() {
            for (p, &b) in row.iter().enumerate() {
                assert_eq!(t.get(s, p), b == 1, "step {s} pixel {p}");
            }
        }
    }

    #[test]
    fn first_lane_state_hand_checked() {
        assert_eq!(lfsr_step(lfsr_lane_seed(0, 0)), 0x325b_17fb);
        assert!(!lfsr_spike(0, 0));
        assert!(lfsr_spike(255, 0xFEFF_FFFF));
        assert!(!lfsr_spike(255, 0xFF00_0000));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(lfsr_encode(&[1, 2], 3, 0, 0).is_err());
        assert!(lfsr_encode(&[1, 2], MAX_TIMESTEPS + 1, 0, 1).is_err());
        let t = lfsr_encode(&[], 3, 0, 1).unwrap();
        assert_eq!((t.steps(), t.neurons()), (3, 0));
    }
}
