//! The plain scalar reference: the definition every SIMD path is tested against.
//!
//! Written for clarity, not speed: iterate the set bits of the spike words, and for each active
//! input add its whole weight row into the accumulators, output by output, in increasing input
//! order. The SIMD paths add in the same order per output, so `f32` results are bit-identical
//! too, not merely close. Integer sums wrap in two's complement exactly like the SIMD
//! instructions do; callers that need "cannot overflow" prove it up front (see
//! [`super::I16Rows`]).

use super::{IntWeight, RowMatrix};
use crate::spikes::for_each_set_bit;

/// `acc[o] += w[j][o]` for every active input `j`, `f32`.
pub fn accumulate_rows_f32(m: &RowMatrix<f32>, spikes: &[u64], acc: &mut [f32]) {
    for_each_set_bit(spikes, |j| {
        for (a, &w) in acc.iter_mut().zip(m.row(j)) {
            *a += w;
        }
    });
}

/// `acc[o] += w[j][o]` for every active input `j`, integer weights into `i32` (wrapping).
pub fn accumulate_rows_i32<W: IntWeight>(m: &RowMatrix<W>, spikes: &[u64], acc: &mut [i32]) {
    for_each_set_bit(spikes, |j| {
        for (a, &w) in acc.iter_mut().zip(m.row(j)) {
            *a = a.wrapping_add(w.to_i64() as i32);
        }
    });
}

/// `acc[o] += w[j][o]` into `i16` accumulators, computed in `i64` and checked: panics if a
/// partial sum ever leaves the `i16` range, which [`super::I16Rows::new`] proves impossible.
pub fn accumulate_rows_i16<W: IntWeight>(m: &RowMatrix<W>, spikes: &[u64], acc: &mut [i16]) {
    let mut wide: Vec<i64> = acc.iter().map(|&a| a as i64).collect();
    for_each_set_bit(spikes, |j| {
        for (a, &w) in wide.iter_mut().zip(m.row(j)) {
            *a += w.to_i64();
            assert!(
                (i16::MIN as i64..=i16::MAX as i64).contains(a),
                "i16 accumulator overflow: the I16Rows proof was violated"
            );
        }
    });
    for (a, w) in acc.iter_mut().zip(wide) {
        *a = w as i16;
    }
}
