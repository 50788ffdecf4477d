//! The hardware LFSR rate encoder, bit-exact with the on-chip encoder.
//!
//! The sequence is specified in `docs/numeric-contract.md` ("LFSR rate encoder"); this module
//! is written from that text and the generated Verilog reproduces it. In short: `L` lanes of
//! 32-bit xorshift (`x ^= x << 13; x ^= x >> 17; x ^= x << 5`), each seeded at the start of
//! every inference by [`lfsr_lane_seed`]; every timestep walks the pixels in groups of `L`,
//! every lane steps once per group (also lanes past the last pixel), and pixel `g*L + l`
//! spikes when `pixel > (x_l >> 24)` after the step.
//!
//! Two implementations:
//! * [`LfsrEncoder`] steps the lanes one pixel at a time: the definition, kept as the test
//!   reference (it is latency-bound: one xorshift step, ~6 dependent cycles, per pixel).
//! * [`LfsrTable`] is the fast path. The lane states never depend on the pixels and every
//!   inference starts from the same seed, so the `T x N` thresholds `x >> 24` are the same for
//!   every image: the table computes them once, and encoding an image is then one SIMD byte
//!   compare per pixel and step (`pixel > threshold`, 16 or 32 pixels per instruction, the
//!   comparison mask is the bit-packed spike row). [`lfsr_encode`] keeps the last table in a
//!   process-wide cache, so a data set encoded with one model pays the generation once.

use crate::error::{Error, Result};
use crate::fc::{Path, paths};
use crate::model::{MAX_LAYER_ELEMENTS, MAX_TIMESTEPS};
use crate::spikes::SpikeTrain;
use std::sync::{Arc, Mutex};

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
///
/// Uses the fast path: a [`LfsrTable`] for `(seed, lanes, pixels.len(), timesteps)`, taken from
/// a one-entry process-wide cache (built on a miss) when the table has at most
/// [`LFSR_CACHE_MAX_BYTES`] bytes; larger encodings step an [`LfsrEncoder`] instead. The result
/// is the same either way (tested).
pub fn lfsr_encode(pixels: &[u8], timesteps: usize, seed: u32, lanes: u32) -> Result<SpikeTrain> {
    check_timesteps(timesteps)?;
    let n = pixels.len();
    if table_bytes(n, timesteps) > LFSR_CACHE_MAX_BYTES {
        return lfsr_encode_reference(pixels, timesteps, seed, lanes);
    }
    let table = cached_table(seed, lanes, n, timesteps)?;
    table.encode(pixels)
}

/// [`lfsr_encode`] by the definition: an [`LfsrEncoder`] stepped one pixel at a time. The
/// reference of the fast path's tests and benchmarks.
pub fn lfsr_encode_reference(
    pixels: &[u8],
    timesteps: usize,
    seed: u32,
    lanes: u32,
) -> Result<SpikeTrain> {
    check_timesteps(timesteps)?;
    let mut enc = LfsrEncoder::new(seed, lanes)?;
    let mut train = SpikeTrain::zeros(timesteps, pixels.len());
    for t in 0..timesteps {
        enc.encode_step(pixels, train.row_mut(t));
    }
    Ok(train)
}

fn check_timesteps(timesteps: usize) -> Result<()> {
    if timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is above the limit of {MAX_TIMESTEPS}"
        )));
    }
    Ok(())
}

/// Largest threshold table [`lfsr_encode`] caches (bytes: `timesteps x` pixels rounded up to 64).
pub const LFSR_CACHE_MAX_BYTES: usize = 16 << 20;

/// Largest table [`LfsrTable::new`] builds (bytes: `timesteps x` pixels rounded up to 64):
/// 256 MiB.
pub const LFSR_TABLE_MAX_BYTES: usize = 1 << 28;

fn table_bytes(pixels: usize, timesteps: usize) -> usize {
    pixels
        .div_ceil(64)
        .saturating_mul(64)
        .saturating_mul(timesteps)
}

/// The cached table for these parameters, built (and cached) on a miss.
fn cached_table(seed: u32, lanes: u32, pixels: usize, timesteps: usize) -> Result<Arc<LfsrTable>> {
    static CACHE: Mutex<Option<Arc<LfsrTable>>> = Mutex::new(None);
    let hit = {
        let guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| t.is_for(seed, lanes, pixels, timesteps))
            .cloned()
    };
    if let Some(t) = hit {
        return Ok(t);
    }
    // Built outside the lock (two threads missing at once both build, the same table).
    let t = Arc::new(LfsrTable::new(seed, lanes, pixels, timesteps)?);
    *CACHE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&t));
    Ok(t)
}

/// The LFSR thresholds of one whole inference, `T x N` bytes: the fast path of the encoder.
///
/// Row `t` holds, for pixel `p`, the threshold `x >> 24` of the lane state that decides `p` at
/// step `t` (so `p` spikes when `pixel[p] > threshold`), stored as `threshold ^ 0x80` so that a
/// signed byte compare of `pixel ^ 0x80` against it is the unsigned compare of the contract.
/// Rows are padded to a multiple of 64 pixels with thresholds of 255 (never exceeded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfsrTable {
    seed: u32,
    lanes: u32,
    pixels: usize,
    timesteps: usize,
    /// Row length in bytes: `pixels` rounded up to 64.
    stride: usize,
    biased: Vec<u8>,
}

impl LfsrTable {
    /// Computes the thresholds of `timesteps` steps of a `pixels`-pixel image for `seed` and
    /// `lanes` lanes. Errors: `lanes` outside `1..=MAX_LAYER_ELEMENTS`, `timesteps` above
    /// [`MAX_TIMESTEPS`], a table (`timesteps x` pixels rounded up to 64) above
    /// [`LFSR_TABLE_MAX_BYTES`] bytes (checked before anything is allocated).
    pub fn new(seed: u32, lanes: u32, pixels: usize, timesteps: usize) -> Result<Self> {
        check_timesteps(timesteps)?;
        if lanes == 0 || lanes as usize > MAX_LAYER_ELEMENTS {
            return Err(Error::invalid(format!(
                "LFSR lanes {lanes} is outside 1..={MAX_LAYER_ELEMENTS}"
            )));
        }
        let stride = pixels.div_ceil(64).saturating_mul(64);
        let bytes = stride
            .checked_mul(timesteps)
            .filter(|&b| b <= LFSR_TABLE_MAX_BYTES)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "LFSR table of {timesteps} steps x {pixels} pixels is above the limit of \
                     {LFSR_TABLE_MAX_BYTES} bytes"
                ))
            })?;
        let mut biased = vec![255u8 ^ 0x80; bytes];
        // Lanes at or past the last pixel never decide a spike (with `L >= N` there is one
        // group): their states are not kept.
        let l = (lanes as usize).min(pixels.max(1));
        let groups = pixels.div_ceil(l);
        let mut x: Vec<u32> = (0..l as u32).map(|i| lfsr_lane_seed(seed, i)).collect();
        // One step's thresholds in group order (the last group may run past the last pixel).
        let mut tmp = vec![0u8; groups * l];
        for row in biased.chunks_exact_mut(stride.max(1)).take(timesteps) {
            for dst in tmp.chunks_exact_mut(l) {
                // Every lane steps once per group; a plain loop over independent lanes, which
                // the compiler vectorises (shifts and xors on 4 or 8 lanes at once).
                for (d, s) in dst.iter_mut().zip(x.iter_mut()) {
                    *s = lfsr_step(*s);
                    *d = ((*s >> 24) as u8) ^ 0x80;
                }
            }
            row[..pixels].copy_from_slice(&tmp[..pixels]);
        }
        Ok(LfsrTable {
            seed,
            lanes,
            pixels,
            timesteps,
            stride,
            biased,
        })
    }

    /// True when this table encodes `pixels`-pixel images over `timesteps` steps with `seed`
    /// and `lanes`.
    pub fn is_for(&self, seed: u32, lanes: u32, pixels: usize, timesteps: usize) -> bool {
        (self.seed, self.lanes, self.pixels, self.timesteps) == (seed, lanes, pixels, timesteps)
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.pixels
    }

    /// Timesteps per inference.
    pub fn timesteps(&self) -> usize {
        self.timesteps
    }

    /// The contract's threshold for pixel `p` at step `t` (`x >> 24` of the deciding lane).
    pub fn threshold(&self, t: usize, p: usize) -> u8 {
        assert!(t < self.timesteps && p < self.pixels, "index out of range");
        self.biased[t * self.stride + p] ^ 0x80
    }

    /// Encodes one image into a new spike train. Errors: `pixels.len()` differs from the
    /// table's image size.
    pub fn encode(&self, pixels: &[u8]) -> Result<SpikeTrain> {
        let mut train = SpikeTrain::zeros(self.timesteps, self.pixels);
        self.encode_into(pixels, &mut train)?;
        Ok(train)
    }

    /// Encodes one image into `train` (overwritten; it must be `timesteps x pixels`).
    pub fn encode_into(&self, pixels: &[u8], train: &mut SpikeTrain) -> Result<()> {
        if pixels.len() != self.pixels {
            return Err(Error::shape(format!(
                "image has {} pixels, the LFSR table was built for {}",
                pixels.len(),
                self.pixels
            )));
        }
        if (train.steps(), train.neurons()) != (self.timesteps, self.pixels) {
            return Err(Error::shape(format!(
                "spike train is {}x{}, the LFSR table encodes {}x{}",
                train.steps(),
                train.neurons(),
                self.timesteps,
                self.pixels
            )));
        }
        if self.pixels == 0 {
            return Ok(());
        }
        // Biased pixels, padded with 0 (biased -128: never above a threshold).
        let mut px = vec![0x80u8; self.stride];
        for (d, &p) in px.iter_mut().zip(pixels) {
            *d = p ^ 0x80;
        }
        for t in 0..self.timesteps {
            let thr = &self.biased[t * self.stride..(t + 1) * self.stride];
            compare_row(&px, thr, train.row_mut(t));
        }
        Ok(())
    }
}

/// The path [`LfsrTable::encode`] compares with: AVX2 when [`paths::allows`] it (so
/// `KERNELS_MAX_PATH` caps it like the fc kernels), SSE2 (part of x86-64) for the portable
/// cap, the plain loop for the scalar cap.
pub(crate) fn compare_path() -> Path {
    if paths::allows(Path::Avx2) {
        Path::Avx2
    } else if paths::allows(Path::Portable) {
        Path::Portable
    } else {
        Path::Scalar
    }
}

/// `row[w]` bit `j` = `px[64w + j] > thr[64w + j]` as signed bytes, for whole 64-byte chunks.
fn compare_row(px: &[u8], thr: &[u8], row: &mut [u64]) {
    compare_row_with(compare_path(), px, thr, row)
}

/// [`compare_row`] on `path` (`Avx512` uses the AVX2 kernel; a path the CPU lacks, or any
/// non-scalar path off x86-64, falls back to the plain loop).
fn compare_row_with(path: Path, px: &[u8], thr: &[u8], row: &mut [u64]) {
    debug_assert!(px.len() == thr.len() && px.len() == row.len() * 64);
    #[cfg(target_arch = "x86_64")]
    match path {
        Path::Avx2 | Path::Avx512 if Path::Avx2.is_available() => {
            // SAFETY: AVX2 was checked just above.
            unsafe { x86::compare_row_avx2(px, thr, row) };
            return;
        }
        Path::Portable => {
            x86::compare_row_sse2(px, thr, row);
            return;
        }
        _ => {}
    }
    let _ = path;
    for ((w, p), t) in row
        .iter_mut()
        .zip(px.chunks_exact(64))
        .zip(thr.chunks_exact(64))
    {
        let mut bits = 0u64;
        for j in 0..64 {
            bits |= (((p[j] as i8) > (t[j] as i8)) as u64) << j;
        }
        *w = bits;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! Byte compares with movemask. Every pointer comes from a 64-byte chunk of a slice
    //! (`chunks_exact(64)`), and the loads read bytes `16k .. 16k + 16` (SSE2) or
    //! `32k .. 32k + 32` (AVX2) of it with `k` below 4 or 2: always inside the chunk.
    use std::arch::x86_64::*;

    pub(super) fn compare_row_sse2(px: &[u8], thr: &[u8], row: &mut [u64]) {
        for ((w, p), t) in row
            .iter_mut()
            .zip(px.chunks_exact(64))
            .zip(thr.chunks_exact(64))
        {
            let mut bits = 0u64;
            for k in 0..4 {
                // SAFETY: see the module comment (SSE2 is part of x86-64).
                let m = unsafe {
                    let a = _mm_loadu_si128(p.as_ptr().add(16 * k).cast());
                    let b = _mm_loadu_si128(t.as_ptr().add(16 * k).cast());
                    _mm_movemask_epi8(_mm_cmpgt_epi8(a, b))
                };
                bits |= (m as u32 as u64) << (16 * k);
            }
            *w = bits;
        }
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn compare_row_avx2(px: &[u8], thr: &[u8], row: &mut [u64]) {
        for ((w, p), t) in row
            .iter_mut()
            .zip(px.chunks_exact(64))
            .zip(thr.chunks_exact(64))
        {
            // SAFETY: see the module comment.
            let (lo, hi) = unsafe {
                let a0 = _mm256_loadu_si256(p.as_ptr().cast());
                let a1 = _mm256_loadu_si256(p.as_ptr().add(32).cast());
                let b0 = _mm256_loadu_si256(t.as_ptr().cast());
                let b1 = _mm256_loadu_si256(t.as_ptr().add(32).cast());
                (
                    _mm256_movemask_epi8(_mm256_cmpgt_epi8(a0, b0)),
                    _mm256_movemask_epi8(_mm256_cmpgt_epi8(a1, b1)),
                )
            };
            *w = (lo as u32 as u64) | ((hi as u32 as u64) << 32);
        }
    }
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

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The fast path (threshold table, SIMD compare; and `lfsr_encode` through the cache)
        /// equals the definition (`LfsrEncoder` stepped pixel by pixel) bit for bit.
        #[test]
        fn table_equals_definition(
            pixels in prop::collection::vec(any::<u8>(), 0..400),
            steps in 0usize..8,
            seed in any::<u32>(),
            lanes in prop_oneof![1u32..40, 40u32..600],
            other in prop::collection::vec(any::<u8>(), 400),
        ) {
            let want = lfsr_encode_reference(&pixels, steps, seed, lanes).unwrap();
            let table = LfsrTable::new(seed, lanes, pixels.len(), steps).unwrap();
            prop_assert_eq!(&table.encode(&pixels).unwrap(), &want);
            prop_assert_eq!(&lfsr_encode(&pixels, steps, seed, lanes).unwrap(), &want);
            // A second image with the same parameters (a cache hit, unless another test
            // thread replaced the entry in between: both paths must agree either way).
            let img2 = &other[..pixels.len()];
            let want2 = lfsr_encode_reference(img2, steps, seed, lanes).unwrap();
            prop_assert_eq!(&lfsr_encode(img2, steps, seed, lanes).unwrap(), &want2);
            prop_assert_eq!(&table.encode(img2).unwrap(), &want2);
        }
    }

    #[test]
    fn table_thresholds_are_the_lane_states() {
        // 3 lanes, 7 pixels: 3 groups per step, lanes step 3 times per step.
        let (seed, lanes, n, steps) = (0xDEAD_BEEFu32, 3u32, 7usize, 2usize);
        let table = LfsrTable::new(seed, lanes, n, steps).unwrap();
        let mut x: Vec<u32> = (0..lanes).map(|l| lfsr_lane_seed(seed, l)).collect();
        for t in 0..steps {
            for g in 0..3 {
                for (l, s) in x.iter_mut().enumerate() {
                    *s = lfsr_step(*s);
                    let p = g * 3 + l;
                    if p < n {
                        assert_eq!(table.threshold(t, p), (*s >> 24) as u8, "t {t} p {p}");
                    }
                }
            }
        }
        // Pixel 255 against threshold 254 spikes, against 255 does not: both ends of the
        // unsigned compare through the biased signed one.
        let mut img = vec![0u8; n];
        for (p, v) in img.iter_mut().enumerate() {
            *v = table.threshold(0, p);
        }
        let t = table.encode(&img).unwrap();
        assert_eq!(
            t.count(),
            (0..n).filter(|&p| img[p] > table.threshold(1, p)).count()
        );
        for p in 0..n {
            assert!(!t.get(0, p), "pixel equal to its threshold must not spike");
        }
    }

    #[test]
    fn table_shape_errors() {
        let table = LfsrTable::new(1, 4, 10, 3).unwrap();
        assert!(table.encode(&[0; 9]).is_err());
        let mut wrong = SpikeTrain::zeros(3, 11);
        assert!(table.encode_into(&[0; 10], &mut wrong).is_err());
        assert!(LfsrTable::new(1, 0, 10, 3).is_err());
        assert!(LfsrTable::new(1, 1, 10, MAX_TIMESTEPS + 1).is_err());
        assert!(table.is_for(1, 4, 10, 3) && !table.is_for(2, 4, 10, 3));
    }

    #[test]
    fn every_compare_path_matches_the_plain_loop() {
        // Bytes chosen to hit both signs and equality after the 0x80 bias.
        let px: Vec<u8> = (0..192u32).map(|i| (i * 37 % 256) as u8).collect();
        let thr: Vec<u8> = (0..192u32).map(|i| (i * 91 % 256) as u8).collect();
        let mut want = [0u64; 3];
        for (k, w) in want.iter_mut().enumerate() {
            for j in 0..64 {
                let i = 64 * k + j;
                if (px[i] as i8) > (thr[i] as i8) {
                    *w |= 1 << j;
                }
            }
        }
        for path in [Path::Scalar, Path::Portable, Path::Avx2, Path::Avx512] {
            let mut got = [0u64; 3];
            compare_row_with(path, &px, &thr, &mut got);
            assert_eq!(got, want, "{path:?}");
        }
    }

    #[test]
    fn compare_path_honours_the_cap() {
        // Whatever KERNELS_MAX_PATH says (the test suite may run under a cap), the compare
        // never uses a path above paths::best().
        let p = compare_path();
        assert!(paths::allows(p), "{p:?} above {:?}", paths::best());
        if paths::best() == Path::Scalar {
            assert_eq!(p, Path::Scalar);
        }
    }

    #[test]
    fn table_size_is_checked_before_allocating() {
        // The multiply would overflow: refused with a clear error, no panic, no allocation.
        let e = LfsrTable::new(1, 1, usize::MAX - 63, 2).unwrap_err();
        assert!(e.to_string().contains("above the limit"), "{e}");
        let e = LfsrTable::new(1, 1, usize::MAX, 1).unwrap_err();
        assert!(e.to_string().contains("above the limit"), "{e}");
        // Just above the limit: 2^22 pixels (already a multiple of 64) x 65 steps > 2^28.
        let e = LfsrTable::new(1, 1, 1 << 22, 65).unwrap_err();
        assert!(
            e.to_string().contains("above the limit of 268435456 bytes"),
            "{e}"
        );
        assert!(LfsrTable::new(1, 1, 64, 4).is_ok());
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(lfsr_encode(&[1, 2], 3, 0, 0).is_err());
        assert!(lfsr_encode(&[1, 2], MAX_TIMESTEPS + 1, 0, 1).is_err());
        let t = lfsr_encode(&[], 3, 0, 1).unwrap();
        assert_eq!((t.steps(), t.neurons()), (3, 0));
    }
}
