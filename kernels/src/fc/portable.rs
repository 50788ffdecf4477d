//! The portable SIMD path on `wide`: same blocking as the arch paths, no `unsafe`.
//!
//! `wide` chooses its implementation at compile time; a default x86-64 build gets SSE2 (pairs of
//! 128-bit registers for the 256-bit types). The path is the fallback for other targets and for
//! x86 machines without AVX2, and the second reference in the tests.
//!
//! Accumulators for a block of `R` vectors are held in local variables across all spikes of a
//! chunk (the compiler keeps them in registers), and each active input adds its row slice to
//! them: per output lane the additions happen in increasing input order, as in the scalar
//! reference.

use wide::{f32x8, i8x16, i16x8, i16x16, i32x8};

use super::{RowMatrix, SpikeCursor};

/// One accumulator vector: how to load weights (widening them) and accumulators, and add.
trait Lane: Copy {
    type W: super::Weight;
    type A: Copy + Default;
    /// Accumulator lanes per vector; also weight elements consumed per vector.
    const L: usize;
    fn load_w(w: &[Self::W]) -> Self;
    fn load_a(a: &[Self::A]) -> Self;
    fn store_a(self, a: &mut [Self::A]);
    fn add(self, other: Self) -> Self;
}

#[derive(Clone, Copy)]
struct F32(f32x8);
impl Lane for F32 {
    type W = f32;
    type A = f32;
    const L: usize = 8;
    #[inline(always)]
    fn load_w(w: &[f32]) -> Self {
        F32(f32x8::from(<[f32; 8]>::try_from(&w[..8]).unwrap()))
    }
    #[inline(always)]
    fn load_a(a: &[f32]) -> Self {
        Self::load_w(a)
    }
    #[inline(always)]
    fn store_a(self, a: &mut [f32]) {
        a[..8].copy_from_slice(&self.0.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        F32(self.0 + o.0)
    }
}

#[derive(Clone, Copy)]
struct I16I32(i32x8);
impl Lane for I16I32 {
    type W = i16;
    type A = i32;
    const L: usize = 8;
    #[inline(always)]
    fn load_w(w: &[i16]) -> Self {
        I16I32(i32x8::from_i16x8(i16x8::from_slice_unaligned(&w[..8])))
    }
    #[inline(always)]
    fn load_a(a: &[i32]) -> Self {
        I16I32(i32x8::from(<[i32; 8]>::try_from(&a[..8]).unwrap()))
    }
    #[inline(always)]
    fn store_a(self, a: &mut [i32]) {
        a[..8].copy_from_slice(&self.0.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        I16I32(self.0 + o.0)
    }
}

#[derive(Clone, Copy)]
struct I8I32(i32x8, i32x8);
impl Lane for I8I32 {
    type W = i8;
    type A = i32;
    const L: usize = 16;
    #[inline(always)]
    fn load_w(w: &[i8]) -> Self {
        let x = i16x16::from_i8x16(i8x16::from_slice_unaligned(&w[..16])).to_array();
        let lo = i16x8::from(<[i16; 8]>::try_from(&x[..8]).unwrap());
        let hi = i16x8::from(<[i16; 8]>::try_from(&x[8..]).unwrap());
        I8I32(i32x8::from_i16x8(lo), i32x8::from_i16x8(hi))
    }
    #[inline(always)]
    fn load_a(a: &[i32]) -> Self {
        I8I32(
            i32x8::from(<[i32; 8]>::try_from(&a[..8]).unwrap()),
            i32x8::from(<[i32; 8]>::try_from(&a[8..16]).unwrap()),
        )
    }
    #[inline(always)]
    fn store_a(self, a: &mut [i32]) {
        a[..8].copy_from_slice(&self.0.to_array());
        a[8..16].copy_from_slice(&self.1.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        I8I32(self.0 + o.0, self.1 + o.1)
    }
}

#[derive(Clone, Copy)]
struct I16I16(i16x16);
impl Lane for I16I16 {
    type W = i16;
    type A = i16;
    const L: usize = 16;
    #[inline(always)]
    fn load_w(w: &[i16]) -> Self {
        I16I16(i16x16::from(<[i16; 16]>::try_from(&w[..16]).unwrap()))
    }
    #[inline(always)]
    fn load_a(a: &[i16]) -> Self {
        Self::load_w(a)
    }
    #[inline(always)]
    fn store_a(self, a: &mut [i16]) {
        a[..16].copy_from_slice(&self.0.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // `wide`'s `+` on integers wraps, like the SIMD instructions.
        I16I16(self.0 + o.0)
    }
}

#[derive(Clone, Copy)]
struct I8I16(i16x16);
impl Lane for I8I16 {
    type W = i8;
    type A = i16;
    const L: usize = 16;
    #[inline(always)]
    fn load_w(w: &[i8]) -> Self {
        I8I16(i16x16::from_i8x16(i8x16::from_slice_unaligned(&w[..16])))
    }
    #[inline(always)]
    fn load_a(a: &[i16]) -> Self {
        I8I16(i16x16::from(<[i16; 16]>::try_from(&a[..16]).unwrap()))
    }
    #[inline(always)]
    fn store_a(self, a: &mut [i16]) {
        a[..16].copy_from_slice(&self.0.to_array());
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        I8I16(self.0 + o.0)
    }
}

/// Vectors per block: 8 accumulator vectors stay in registers on any target with 16 of them.
const RMAX: usize = 8;
/// Scratch for a partial last block: at least `RMAX * L` for every lane type.
const TMP: usize = 128;

/// Adds the rows selected by `spikes` into `acc` (exactly `R * V::L` accumulators) for the columns
/// `off .. off + R * V::L` of every row.
#[inline(always)]
fn block<V: Lane, const R: usize>(
    data: &[V::W],
    stride: usize,
    off: usize,
    spikes: &[u64],
    acc: &mut [V::A],
) {
    let mut v: [V; R] = std::array::from_fn(|r| V::load_a(&acc[r * V::L..]));
    for j in SpikeCursor::new(spikes) {
        let row = &data[j * stride + off..][..R * V::L];
        for r in 0..R {
            v[r] = v[r].add(V::load_w(&row[r * V::L..]));
        }
    }
    for r in 0..R {
        v[r].store_a(&mut acc[r * V::L..]);
    }
}

fn run<V: Lane>(m: &RowMatrix<V::W>, spikes: &[u64], acc: &mut [V::A]) {
    let (data, stride, outputs) = (m.padded_data(), m.stride(), m.outputs());
    let mut off = 0;
    while off < outputs {
        let nvec = (outputs - off).div_ceil(V::L).min(RMAX);
        let width = nvec * V::L;
        let real = (outputs - off).min(width);
        // `stride` is a multiple of `V::L` and >= outputs, so `off + width <= stride`: the
        // block's columns stay inside one padded row.
        let go = |a: &mut [V::A]| match nvec {
            1 => block::<V, 1>(data, stride, off, spikes, a),
            2 => block::<V, 2>(data, stride, off, spikes, a),
            3 => block::<V, 3>(data, stride, off, spikes, a),
            4 => block::<V, 4>(data, stride, off, spikes, a),
            5 => block::<V, 5>(data, stride, off, spikes, a),
            6 => block::<V, 6>(data, stride, off, spikes, a),
            7 => block::<V, 7>(data, stride, off, spikes, a),
            _ => block::<V, RMAX>(data, stride, off, spikes, a),
        };
        if real == width {
            go(&mut acc[off..off + width]);
        } else {
            let mut tmp = [V::A::default(); TMP];
            tmp[..real].copy_from_slice(&acc[off..off + real]);
            go(&mut tmp[..width]);
            acc[off..off + real].copy_from_slice(&tmp[..real]);
        }
        off += width;
    }
}

pub(crate) fn f32_f32(m: &RowMatrix<f32>, spikes: &[u64], acc: &mut [f32]) {
    run::<F32>(m, spikes, acc)
}
pub(crate) fn i16_i32(m: &RowMatrix<i16>, spikes: &[u64], acc: &mut [i32]) {
    run::<I16I32>(m, spikes, acc)
}
pub(crate) fn i8_i32(m: &RowMatrix<i8>, spikes: &[u64], acc: &mut [i32]) {
    run::<I8I32>(m, spikes, acc)
}
pub(crate) fn i16_i16(m: &RowMatrix<i16>, spikes: &[u64], acc: &mut [i16]) {
    run::<I16I16>(m, spikes, acc)
}
pub(crate) fn i8_i16(m: &RowMatrix<i8>, spikes: &[u64], acc: &mut [i16]) {
    run::<I8I16>(m, spikes, acc)
}
