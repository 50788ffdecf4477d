//! Fully connected accumulate-only kernels: a spike selects a weight row that is *added*.
//!
//! A fully connected layer's input current is `I = b + sum over active inputs j of W[:, j]`.
//! With binary spikes nothing needs multiplying: each active input selects one row of an
//! input-major weight matrix ([`RowMatrix`]) and that row is added into the accumulators.
//!
//! # Design (in the style of `memchr`)
//! * [`scalar`]: the plain reference, written for clarity. It defines the results.
//! * a portable SIMD path on `wide` (no `unsafe`, any target);
//! * `std::arch` specialisations for AVX2 and AVX-512 (F + BW) on x86-64, selected at run time
//!   with `is_x86_feature_detected!`, so a default `cargo build --release` (no RUSTFLAGS)
//!   reaches the fast path. The choice is made once and cached ([`paths::best`]). `unsafe` lives
//!   only in those arch modules, with its invariants written beside it.
//!
//! Every path is reachable explicitly ([`accumulate_rows_with`], [`paths::available`]) so the
//! property tests compare each one the CPU supports against the scalar reference (the AVX-512
//! kernels ran only where the CPU has AVX-512F+BW: the development VM had none until its move to
//! a Zen 4 host on 2026-11-29). The environment variable `KERNELS_MAX_PATH` caps the path
//! [`paths::best`] picks (to measure the AVX2 path on an AVX-512 CPU); the other run-time
//! dispatched kernels of the crate (the LFSR encoder's byte compare, `spikes::count_ones`)
//! ask [`paths::allows`] and honour the same cap.
//!
//! # How the fast paths work
//! 1. The set bits of the raw `u64` spike words are walked with `trailing_zeros` inside the
//!    kernel (no index buffer). The x86 kernels use a plain loop per word (`while bits != 0`);
//!    the portable ones a counted cursor (`SpikeCursor`), which measured 17 % slower on the
//!    AVX2 byte-pair kernel (it popcounts the spikes first and keeps a counter).
//! 2. The outputs are cut into blocks of up to 8 (AVX2) or 16 (AVX-512) vectors. A block's
//!    accumulators are loaded into registers once; every listed row's slice is added with one
//!    load (plus a sign extension for narrow weights) and one add per vector; then the block is
//!    stored. Weight rows are 64-byte aligned and padded to whole cache lines, so a vector load
//!    never crosses into the next row.
//! 3. Per output, additions happen in increasing input order, as in the scalar reference, so
//!    even `f32` results are bit-identical across paths (no reassociation, no FMA).
//!
//! # Accumulator widths
//! * `f32` weights accumulate into `f32`; `i8` and `i16` weights into `i32` ([`accumulate_rows`]).
//!   Integer additions wrap in two's complement identically on every path; the network runtime
//!   proves beforehand that they cannot overflow ([`RowMatrix::reachable_sums`]).
//! * `i16` accumulators (twice the lanes per register, the fastest path) are only offered through
//!   [`I16Rows`], which owns the bias and proves at construction that no partial sum of any
//!   spike pattern can leave the `i16` range; otherwise it refuses with an error.
//! * [`I8PairRows`]: `i8` weights into `i16` accumulators at half the memory traffic, packing two
//!   weights per 16-bit word and separating them with one shift (additions and shifts only;
//!   same proof, same results as [`I16Rows`]). In a network the rows come from L2 (every step
//!   selects other rows), where pairs measured 73-74 GSOP/s against 49-52 for `i16` rows
//!   (AVX2 / AVX-512, Zen 4, 2026-11-29), so the runtime uses them for weights of at most 8 bits
//!   (`BENCHMARKS.md`).

pub mod scalar;

pub(crate) mod pairs;
mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{avx2_lif_f32, avx2_lif_int, popcnt_bitplane};

use std::fmt::Debug;

pub use pairs::I8PairRows;

use crate::aligned::{AlignedBuf, padded_len};
use crate::error::{Error, Result};
use crate::spikes::words_for;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
}

/// A weight element type: `f32`, `i8` or `i16`.
pub trait Weight:
    Copy + Default + PartialEq + Debug + Send + Sync + sealed::Sealed + 'static
{
}
impl Weight for f32 {}
impl Weight for i8 {}
impl Weight for i16 {}

/// An integer weight type (`i8`, `i16`).
pub trait IntWeight: Weight {
    /// The value, widened.
    fn to_i64(self) -> i64;
    /// Adds rows into `i16` accumulators on `path` (used by [`I16Rows`]; arguments are checked by the caller).
    #[doc(hidden)]
    fn accumulate_i16(path: Path, m: &RowMatrix<Self>, spikes: &[u64], acc: &mut [i16]);
}

/// A weight type that has a kernel adding its rows into accumulators of type `A`:
/// `f32 -> f32`, `i8 -> i32`, `i16 -> i32`.
pub trait AccumulateInto<A>: Weight {
    /// Adds the selected rows on `path`. Arguments are already validated by the caller.
    #[doc(hidden)]
    fn accumulate(path: Path, m: &RowMatrix<Self>, spikes: &[u64], acc: &mut [A]);
}

/// A kernel implementation. Every path computes exactly the same results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// The plain scalar reference ([`scalar`]).
    Scalar,
    /// Portable SIMD on `wide` (compile-time width; SSE2 in a default x86-64 build).
    Portable,
    /// x86-64 AVX2 through `std::arch`, chosen at run time.
    Avx2,
    /// x86-64 AVX-512 F + BW through `std::arch`, chosen at run time.
    Avx512,
}

impl Path {
    /// Short lowercase name (`scalar`, `portable`, `avx2`, `avx512`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Portable => "portable",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        }
    }

    /// True when this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Path::Scalar | Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => x86::has_avx2(),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => x86::has_avx512bw(),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512 => false,
        }
    }
}

/// Which kernel paths exist on this CPU, and which one is used by default.
pub mod paths {
    use super::Path;
    use std::sync::OnceLock;

    /// Every path this CPU can run, slowest first (scalar, portable, then arch paths).
    pub fn available() -> Vec<Path> {
        [Path::Scalar, Path::Portable, Path::Avx2, Path::Avx512]
            .into_iter()
            .filter(|p| p.is_available())
            .collect()
    }

    /// Environment variable capping [`best`]: `scalar`, `portable`, `avx2` or `avx512`. Lets
    /// one machine measure the slower paths the runtime would pick elsewhere (e.g. the AVX2
    /// path on an AVX-512 CPU). An unknown value is reported on stderr and ignored.
    pub const MAX_PATH_ENV: &str = "KERNELS_MAX_PATH";

    fn rank(p: Path) -> u8 {
        match p {
            Path::Scalar => 0,
            Path::Portable => 1,
            Path::Avx2 => 2,
            Path::Avx512 => 3,
        }
    }

    /// The fastest available path (capped by [`MAX_PATH_ENV`] when set), detected once and
    /// cached.
    pub fn best() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| {
            let all = available();
            let cap = match std::env::var(MAX_PATH_ENV) {
                Ok(v) => {
                    let p = [Path::Scalar, Path::Portable, Path::Avx2, Path::Avx512]
                        .into_iter()
                        .find(|p| p.name() == v);
                    if p.is_none() {
                        eprintln!(
                            "warning: {MAX_PATH_ENV}={v:?} is not one of scalar, portable, \
                             avx2, avx512; ignored"
                        );
                    }
                    p
                }
                Err(_) => None,
            };
            all.into_iter()
                .rfind(|&p| cap.is_none_or(|c| rank(p) <= rank(c)))
                .expect("scalar is always available")
        })
    }

    /// True when `path` is available and not above [`best`] (so the runtime may use it).
    pub fn allows(path: Path) -> bool {
        path.is_available() && rank(path) <= rank(best())
    }
}

/// Weights stored input-major: row `j` holds the weights from input `j` to every output, so one
/// input spike selects one contiguous row.
///
/// Each row is padded with zeros to a whole number of 64-byte cache lines ([`RowMatrix::stride`])
/// and the storage starts on a cache line, so SIMD loads never cross rows.
#[derive(Debug, PartialEq)]
pub struct RowMatrix<W> {
    inputs: usize,
    outputs: usize,
    stride: usize,
    data: AlignedBuf<W>,
}

impl<W: Weight> Clone for RowMatrix<W> {
    fn clone(&self) -> Self {
        RowMatrix {
            inputs: self.inputs,
            outputs: self.outputs,
            stride: self.stride,
            data: self.data.clone(),
        }
    }
}

/// Largest fan-in accepted.
pub const MAX_INPUTS: usize = 1 << 31;

impl<W: Weight> RowMatrix<W> {
    /// Re-packs PyTorch's `[outputs][inputs]` (output-major) weights.
    pub fn from_output_major(outputs: usize, inputs: usize, weights: &[W]) -> Result<Self> {
        let mut m = Self::zeros(inputs, outputs, weights.len())?;
        for j in 0..inputs {
            let row = &mut m.data[j * m.stride..j * m.stride + outputs];
            for (o, r) in row.iter_mut().enumerate() {
                *r = weights[o * inputs + j];
            }
        }
        Ok(m)
    }

    /// Builds from input-major weights: `rows[j * outputs + o]` is the weight from input `j` to
    /// output `o`.
    pub fn from_input_major(inputs: usize, outputs: usize, rows: &[W]) -> Result<Self> {
        let mut m = Self::zeros(inputs, outputs, rows.len())?;
        for j in 0..inputs {
            m.data[j * m.stride..j * m.stride + outputs]
                .copy_from_slice(&rows[j * outputs..(j + 1) * outputs]);
        }
        Ok(m)
    }

    fn zeros(inputs: usize, outputs: usize, given: usize) -> Result<Self> {
        if inputs > MAX_INPUTS {
            return Err(Error::shape(format!(
                "{inputs} inputs exceed the limit of {MAX_INPUTS}"
            )));
        }
        if inputs.checked_mul(outputs) != Some(given) {
            return Err(Error::shape(format!(
                "weight matrix has {given} values, expected {outputs} outputs x {inputs} inputs"
            )));
        }
        let stride = padded_len::<W>(outputs);
        let len = stride
            .checked_mul(inputs)
            .ok_or_else(|| Error::shape("padded weight matrix size overflows"))?;
        Ok(RowMatrix {
            inputs,
            outputs,
            stride,
            data: AlignedBuf::zeroed(len),
        })
    }

    /// Number of inputs (rows).
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of outputs (columns).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Elements between the starts of consecutive rows: `outputs` rounded up to a cache line.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The weights from input `j` (exactly `outputs` values, without padding).
    #[inline]
    pub fn row(&self, j: usize) -> &[W] {
        &self.data[j * self.stride..j * self.stride + self.outputs]
    }

    /// The whole padded storage (`inputs * stride` values, padding is zero).
    pub fn padded_data(&self) -> &[W] {
        &self.data
    }

    /// The weight from input `j` to output `o`.
    pub fn get(&self, j: usize, o: usize) -> W {
        assert!(o < self.outputs, "output {o} out of range");
        self.data[j * self.stride + o]
    }
}

impl<W: IntWeight> RowMatrix<W> {
    /// For every output `o`, the smallest and largest value any subset of its weights can sum
    /// to: `(sum of negative weights, sum of positive weights)`. Every partial sum the kernels
    /// form for any spike pattern lies in this range (each row is added at most once per call).
    pub fn reachable_sums(&self) -> Vec<(i64, i64)> {
        let mut r = vec![(0i64, 0i64); self.outputs];
        for j in 0..self.inputs {
            for (b, &w) in r.iter_mut().zip(self.row(j)) {
                let w = w.to_i64();
                if w < 0 {
                    b.0 += w;
                } else {
                    b.1 += w;
                }
            }
        }
        r
    }
}

fn check_args<W, A>(m: &RowMatrix<W>, spikes: &[u64], acc: &[A]) -> Result<()> {
    if spikes.len() != words_for(m.inputs) {
        return Err(Error::shape(format!(
            "spike vector has {} words, the matrix has {} inputs ({} words)",
            spikes.len(),
            m.inputs,
            words_for(m.inputs)
        )));
    }
    if acc.len() != m.outputs {
        return Err(Error::shape(format!(
            "accumulator has {} values, the matrix has {} outputs",
            acc.len(),
            m.outputs
        )));
    }
    if !m.inputs.is_multiple_of(64)
        && let Some(&last) = spikes.last()
        && last >> (m.inputs % 64) != 0
    {
        return Err(Error::shape(format!(
            "spike padding bits beyond input {} are set",
            m.inputs
        )));
    }
    Ok(())
}

fn check_path(path: Path) -> Result<()> {
    if path.is_available() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "kernel path {} is not available on this CPU",
            path.name()
        )))
    }
}

/// Adds, for every set bit `j` of `spikes`, row `j` of `m` into `acc`, on the fastest path.
///
/// `spikes` holds `words_for(m.inputs())` words with zero padding bits; `acc` has
/// `m.outputs()` values. Errors name the mismatch.
pub fn accumulate_rows<W: AccumulateInto<A>, A>(
    m: &RowMatrix<W>,
    spikes: &[u64],
    acc: &mut [A],
) -> Result<()> {
    check_args(m, spikes, acc)?;
    W::accumulate(paths::best(), m, spikes, acc);
    Ok(())
}

/// [`accumulate_rows`] on an explicit path (for tests and benchmarks); errors when the CPU
/// cannot run it.
pub fn accumulate_rows_with<W: AccumulateInto<A>, A>(
    path: Path,
    m: &RowMatrix<W>,
    spikes: &[u64],
    acc: &mut [A],
) -> Result<()> {
    check_path(path)?;
    check_args(m, spikes, acc)?;
    W::accumulate(path, m, spikes, acc);
    Ok(())
}

/// Indices of the set bits of bit-packed spikes, in increasing order, for the hot loops.
///
/// A `trailing_zeros` scan of the raw words that knows the spike count up front (popcount), so
/// the loop ends on a counter; within a word the only loop-carried work is `bits &= bits - 1`
/// (one cycle). Measured against a branch-free refill that loaded the next word on every
/// spike: that put a load on the loop-carried chain and ran the i16 kernel at 27 instead of
/// 48 GSOP/s; the refill branch mispredicts once per word, which costs less.
#[derive(Clone, Debug)]
pub(crate) struct SpikeCursor<'a> {
    words: &'a [u64],
    w: usize,
    cur: u64,
    remaining: usize,
}

impl<'a> SpikeCursor<'a> {
    #[inline(always)]
    pub(crate) fn new(words: &'a [u64]) -> Self {
        SpikeCursor {
            words,
            w: 0,
            cur: words.first().copied().unwrap_or(0),
            remaining: crate::spikes::count_ones(words),
        }
    }
}

impl Iterator for SpikeCursor<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        // A set bit remains, so this stops inside `words`.
        while self.cur == 0 {
            self.w += 1;
            self.cur = self.words[self.w];
        }
        let j = self.w * 64 + self.cur.trailing_zeros() as usize;
        self.cur &= self.cur - 1;
        Some(j)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

macro_rules! impl_accumulate {
    ($w:ty, $a:ty, $scalar:path, $kernel:ident) => {
        impl AccumulateInto<$a> for $w {
            #[inline]
            fn accumulate(path: Path, m: &RowMatrix<$w>, spikes: &[u64], acc: &mut [$a]) {
                match path {
                    Path::Scalar => $scalar(m, spikes, acc),
                    Path::Portable => portable::$kernel(m, spikes, acc),
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx2 => x86::avx2::$kernel(m, spikes, acc),
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx512 => x86::avx512::$kernel(m, spikes, acc),
                    #[cfg(not(target_arch = "x86_64"))]
                    Path::Avx2 | Path::Avx512 => unreachable!("path availability is checked"),
                }
            }
        }
    };
}

impl_accumulate!(f32, f32, scalar::accumulate_rows_f32, f32_f32);
impl_accumulate!(i16, i32, scalar::accumulate_rows_i32, i16_i32);
impl_accumulate!(i8, i32, scalar::accumulate_rows_i32, i8_i32);

macro_rules! impl_int_weight {
    ($w:ty, $kernel:ident) => {
        impl IntWeight for $w {
            #[inline]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline]
            fn accumulate_i16(path: Path, m: &RowMatrix<$w>, spikes: &[u64], acc: &mut [i16]) {
                match path {
                    Path::Scalar => scalar::accumulate_rows_i16(m, spikes, acc),
                    Path::Portable => portable::$kernel(m, spikes, acc),
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx2 => x86::avx2::$kernel(m, spikes, acc),
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx512 => x86::avx512::$kernel(m, spikes, acc),
                    #[cfg(not(target_arch = "x86_64"))]
                    Path::Avx2 | Path::Avx512 => unreachable!("path availability is checked"),
                }
            }
        }
    };
}

impl_int_weight!(i16, i16_i16);
impl_int_weight!(i8, i8_i16);

/// A weight matrix and bias proven to fit `i16` accumulators, the fastest integer path.
///
/// The proof: for output `o`, every partial sum the kernels form is `b[o]` plus the sum of a
/// subset of column `o` (each active input adds its row once per call), so it lies in
/// `[b[o] + sum of negative weights, b[o] + sum of positive weights]`. [`I16Rows::new`] checks
/// that this interval lies inside `[-32768, 32767]` for every output and refuses otherwise. This
/// is exact for the given weights and usually far tighter than the width rule
/// `weight_bits + ceil(log2(fan_in + 1)) + 1` ([`crate::model::accumulator_bits`]).
#[derive(Clone, Debug, PartialEq)]
pub struct I16Rows<W: Weight> {
    rows: RowMatrix<W>,
    bias: Vec<i16>,
}

impl<W: IntWeight> I16Rows<W> {
    /// Proves that `bias` plus any subset sum of each column fits `i16`. An empty `bias` means
    /// zero. Errors name the first output that could overflow.
    pub fn new(rows: RowMatrix<W>, bias: &[i32]) -> Result<Self> {
        if !bias.is_empty() && bias.len() != rows.outputs() {
            return Err(Error::shape(format!(
                "bias has {} values, the matrix has {} outputs",
                bias.len(),
                rows.outputs()
            )));
        }
        let bounds = rows.reachable_sums();
        let mut b16 = Vec::with_capacity(rows.outputs());
        for (o, &(lo, hi)) in bounds.iter().enumerate() {
            let b = bias.get(o).copied().unwrap_or(0) as i64;
            let (lo, hi) = (b + lo, b + hi);
            if lo < i16::MIN as i64 || hi > i16::MAX as i64 {
                return Err(Error::invalid(format!(
                    "output {o}: bias plus weights can reach [{lo}, {hi}], beyond the i16 \
                     accumulator range [-32768, 32767]; use i32 accumulators"
                )));
            }
            b16.push(b as i16);
        }
        Ok(I16Rows { rows, bias: b16 })
    }

    /// The weight rows.
    pub fn rows(&self) -> &RowMatrix<W> {
        &self.rows
    }

    /// The bias, as `i16`.
    pub fn bias(&self) -> &[i16] {
        &self.bias
    }

    /// `out = bias + sum of the rows selected by spikes`, on the fastest path.
    pub fn currents(&self, spikes: &[u64], out: &mut [i16]) -> Result<()> {
        self.currents_with(paths::best(), spikes, out)
    }

    /// [`I16Rows::currents`] on an explicit path.
    pub fn currents_with(&self, path: Path, spikes: &[u64], out: &mut [i16]) -> Result<()> {
        check_path(path)?;
        check_args(&self.rows, spikes, out)?;
        out.copy_from_slice(&self.bias);
        W::accumulate_i16(path, &self.rows, spikes, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repack_and_pad() {
        // PyTorch [2 outputs][3 inputs].
        let m = RowMatrix::from_output_major(2, 3, &[1i16, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(m.row(0), &[1, 4]);
        assert_eq!(m.row(2), &[3, 6]);
        assert_eq!(m.stride(), 32);
        assert_eq!(m.padded_data().as_ptr() as usize % 64, 0);
        assert!(m.padded_data()[2..32].iter().all(|&x| x == 0));
        assert!(RowMatrix::from_output_major(2, 3, &[1i16; 5]).is_err());
    }

    #[test]
    fn hand_computed_on_every_path() {
        // Inputs 0 and 2 active: [1,4] + [3,6] = [4,10] on top of acc [10, 20].
        let m = RowMatrix::from_output_major(2, 3, &[1i16, 2, 3, 4, 5, 6]).unwrap();
        for p in paths::available() {
            let mut acc = [10i32, 20];
            accumulate_rows_with(p, &m, &[0b101], &mut acc).unwrap();
            assert_eq!(acc, [14, 30], "{p:?}");
            let r = I16Rows::new(m.clone(), &[10, 20]).unwrap();
            let mut out = [0i16; 2];
            r.currents_with(p, &[0b101], &mut out).unwrap();
            assert_eq!(out, [14, 30], "{p:?}");
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let m = RowMatrix::from_output_major(2, 3, &[1.0f32; 6]).unwrap();
        let mut acc = [0.0f32; 2];
        assert!(accumulate_rows(&m, &[0b1000], &mut acc).is_err()); // padding bit
        assert!(accumulate_rows(&m, &[0, 0], &mut acc).is_err()); // word count
        assert!(accumulate_rows(&m, &[1], &mut [0.0f32; 3]).is_err()); // acc width
    }

    #[test]
    fn i16_proof_refuses_overflow() {
        // Column 0 can reach 2 * 20000 = 40000 > 32767.
        let m = RowMatrix::from_output_major(1, 2, &[20000i16, 20000]).unwrap();
        assert!(I16Rows::new(m.clone(), &[]).is_err());
        // Column sums -30000 + bias -3000 < -32768.
        let m = RowMatrix::from_output_major(1, 2, &[-15000i16, -15000]).unwrap();
        assert!(I16Rows::new(m.clone(), &[0]).is_ok());
        assert!(I16Rows::new(m, &[-3000]).is_err());
    }

    #[test]
    fn cursor_matches_set_bits() {
        let mut words: Vec<u64> = (0..20u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | (i << 60))
            .chain([u64::MAX, 0, 0, 1 << 63, 0, 1])
            .collect();
        words[3] = 0;
        for ws in [&words[..], &[], &[0, 0], &[0, 5]] {
            let got: Vec<usize> = SpikeCursor::new(ws).collect();
            let want: Vec<usize> = crate::spikes::SetBits::new(ws).collect();
            assert_eq!(got, want);
        }
    }
}
