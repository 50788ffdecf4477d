//! `i8` weights into `i16` accumulators at half the memory traffic of `i16` rows, without
//! sign-extension shuffles: [`I8PairRows`].
//!
//! Rows are stored as 16-bit words, each packing two weights of one 32-output block: the low
//! byte holds `w[o] + 128` (unsigned) for output `o = 32b + k`, the high byte `w[o + 16]`
//! (two's complement). Read as `i16`, a word is `256 * w_hi + u_lo`. Per active input the
//! kernel does, for every 32 outputs, one 32-byte load and
//!
//! * `raw += word` (wrapping), and
//! * `hi += word >> 8` (arithmetic shift: exactly `w_hi`).
//!
//! At the end `hi` is the high outputs' sum, and the low outputs' sum is recovered as
//! `raw - 256 * hi - 128 * count` (count = active inputs). Everything is arithmetic modulo
//! 2^16, which is exact because the true results (bias included) are proven to fit `i16`
//! ([`super::I16Rows::new`]'s proof). Only additions and shifts; nothing is multiplied except
//! the constant scaling of the count, done once per call.

use super::{I16Rows, Path, RowMatrix, paths};
use crate::aligned::{AlignedBuf, padded_len};
use crate::error::Result;

/// Outputs per block (16 words of two weights).
pub(crate) const BLOCK: usize = 32;

/// `i8` weights and bias proven to fit `i16` accumulators, stored as byte pairs (see the
/// module docs). Results are identical to [`I16Rows`] on the same weights.
#[derive(Clone, Debug, PartialEq)]
pub struct I8PairRows {
    /// The plain form: proof, bias, and the scalar reference path.
    plain: I16Rows<i8>,
    /// Paired rows, `stride` words per row.
    words: AlignedBuf<i16>,
    stride: usize,
}

impl I8PairRows {
    /// Proves that bias plus any subset of each column fits `i16` (see [`I16Rows::new`]) and
    /// packs the rows in pairs.
    pub fn new(rows: RowMatrix<i8>, bias: &[i32]) -> Result<Self> {
        let plain = I16Rows::new(rows, bias)?;
        let m = plain.rows();
        // Words per row: half the outputs rounded up to whole 32-output blocks and cache lines.
        let stride = padded_len::<i16>(m.outputs().div_ceil(BLOCK) * BLOCK / 2);
        let mut words = AlignedBuf::zeroed(stride * m.inputs());
        for j in 0..m.inputs() {
            let row = m.row(j);
            let w = |o: usize| row.get(o).copied().unwrap_or(0);
            for (k, word) in words[j * stride..(j + 1) * stride].iter_mut().enumerate() {
                let (b, k) = (k / 16, k % 16);
                let lo = (w(b * BLOCK + k) as i16 + 128) as u16;
                let hi = w(b * BLOCK + 16 + k) as u8 as u16;
                *word = (hi << 8 | lo) as i16;
            }
        }
        Ok(I8PairRows {
            plain,
            words,
            stride,
        })
    }

    /// The plain rows and bias.
    pub fn plain(&self) -> &I16Rows<i8> {
        &self.plain
    }

    /// `out = bias + sum of the rows selected by spikes`, on the fastest path.
    pub fn currents(&self, spikes: &[u64], out: &mut [i16]) -> Result<()> {
        self.currents_with(paths::best(), spikes, out)
    }

    /// [`I8PairRows::currents`] on an explicit path. `Scalar` is the plain reference on the
    /// unpaired rows; `Portable` and the x86 paths use the pair trick (the AVX-512 path runs
    /// the AVX2 kernel: a 512-bit version is not written).
    pub fn currents_with(&self, path: Path, spikes: &[u64], out: &mut [i16]) -> Result<()> {
        if path == Path::Scalar {
            return self.plain.currents_with(path, spikes, out);
        }
        super::check_path(path)?;
        super::check_args(self.plain.rows(), spikes, out)?;
        let bias = self.plain.bias();
        let count = crate::spikes::count_ones(spikes);
        // 128 * count, modulo 2^16 like everything else.
        let c = (count as i16).wrapping_mul(128);
        let outputs = out.len();
        let mut off = 0; // first output of the current group of blocks
        while off < outputs {
            let blocks = (outputs - off).div_ceil(BLOCK).min(GROUP);
            let real = (outputs - off).min(blocks * BLOCK);
            let word_off = off / 2;
            let (b, o) = (&bias[off..off + real], &mut out[off..off + real]);
            match path {
                #[cfg(target_arch = "x86_64")]
                Path::Avx2 | Path::Avx512 => super::x86::avx2_pairs(
                    &self.words,
                    self.stride,
                    word_off,
                    blocks,
                    c,
                    spikes,
                    b,
                    o,
                ),
                _ => {
                    let mut sums = [0i16; GROUP * BLOCK];
                    portable_pairs(
                        &self.words,
                        self.stride,
                        word_off,
                        blocks,
                        c,
                        spikes,
                        &mut sums,
                    );
                    for ((o, &b), &x) in o.iter_mut().zip(b).zip(&sums[..real]) {
                        *o = b.wrapping_add(x);
                    }
                }
            }
            off += blocks * BLOCK;
        }
        Ok(())
    }
}

/// Blocks of 32 outputs handled per pass over the spikes (8 accumulator vectors).
pub(crate) const GROUP: usize = 4;

/// The portable pair kernel: for `blocks` blocks starting at word `word_off` of each row,
/// writes `raw - (hi << 8) - c` (`c = 128 * count`) to the low 16 and `hi` to the high 16
/// entries of each block of `sums`: the block's sums in output order.
fn portable_pairs(
    words: &[i16],
    stride: usize,
    word_off: usize,
    blocks: usize,
    c: i16,
    spikes: &[u64],
    sums: &mut [i16; GROUP * BLOCK],
) {
    use wide::i16x16;
    let mut raw = [i16x16::ZERO; GROUP];
    let mut hi = [i16x16::ZERO; GROUP];
    for j in super::SpikeCursor::new(spikes) {
        let row = &words[j * stride + word_off..][..blocks * 16];
        for b in 0..blocks {
            let x = i16x16::from(<[i16; 16]>::try_from(&row[b * 16..b * 16 + 16]).unwrap());
            raw[b] += x;
            hi[b] += x >> 8_u32;
        }
    }
    for b in 0..blocks {
        let lo: i16x16 = raw[b] - (hi[b] << 8_u32) - i16x16::splat(c);
        sums[b * BLOCK..b * BLOCK + 16].copy_from_slice(&lo.to_array());
        sums[b * BLOCK + 16..b * BLOCK + 32].copy_from_slice(&hi[b].to_array());
    }
}
