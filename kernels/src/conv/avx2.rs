//! AVX2 kernels for the convolution: the channel-last scatter (every spike adds, per reachable
//! kernel row, one contiguous run of `len * occp` weights; `occp` is a multiple of 8, so the run
//! is whole 256-bit vectors), the transposed addition of the channel-last scratch into the
//! channel-major output (8 x 8 register transposes), and the row scatter compiled with AVX2.
//!
//! # Safety, once for all kernels
//! * The `#[target_feature(enable = "avx2")]` functions are called only from the safe wrappers
//!   below, right after `assert!(has_avx2())`; those calls are the only `unsafe` calls.
//! * Every pointer access reads or writes 8 elements at an offset that is checked, in the
//!   comment beside it, to stay inside a slice whose length was asserted just before. Unaligned
//!   load/store intrinsics are used, so there is no alignment precondition.
//! * The scatter's runs come from bounds-checked slicing in `Conv2d::scatter_hwc_body`
//!   (`&mut hwc[dst..dst + run]`, `&taps[src..src + run]`); the vector loop covers only whole
//!   groups of 8 inside them and a plain loop adds any rest.

use std::arch::x86_64::*;

use super::Conv2d;

/// True when the CPU has AVX2 (detection is cached by `std`).
#[inline]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Generates `$name(dst, src)`: `dst[i] += src[i]`, 8 lanes per step, for one weight type.
macro_rules! add_run {
    ($name:ident, $w:ty, $a:ty, |$p:ident, $d:ident| $body:expr, $rest:expr) => {
        #[target_feature(enable = "avx2")]
        #[inline]
        fn $name(dst: &mut [$a], src: &[$w]) {
            let n = dst.len().min(src.len());
            let whole = n / 8 * 8;
            let (dp, sp) = (dst.as_mut_ptr(), src.as_ptr());
            let mut i = 0;
            while i < whole {
                // SAFETY: i + 8 <= whole <= n, the length of both slices: the 8 weights read
                // at `sp + i` and the 8 accumulators read and written at `dp + i` are inside.
                unsafe {
                    let $p = sp.add(i);
                    let $d = dp.add(i);
                    $body;
                }
                i += 8;
            }
            for k in whole..n {
                #[allow(clippy::redundant_closure_call)]
                let v = ($rest)(src[k]);
                dst[k] += v;
            }
        }
    };
}

add_run!(
    add_i16_i32,
    i16,
    i32,
    |p, d| {
        let w = _mm256_cvtepi16_epi32(_mm_loadu_si128(p as *const __m128i));
        let a = _mm256_loadu_si256(d as *const __m256i);
        _mm256_storeu_si256(d as *mut __m256i, _mm256_add_epi32(a, w))
    },
    |w: i16| w as i32
);

add_run!(
    add_i8_i32,
    i8,
    i32,
    |p, d| {
        // Reads exactly 8 bytes.
        let w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(p as *const __m128i));
        let a = _mm256_loadu_si256(d as *const __m256i);
        _mm256_storeu_si256(d as *mut __m256i, _mm256_add_epi32(a, w))
    },
    |w: i8| w as i32
);

add_run!(
    add_f32_f32,
    f32,
    f32,
    |p, d| {
        // No FMA, no reassociation: the same rounding as the other paths.
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_loadu_ps(p)))
    },
    |w: f32| w
);

macro_rules! scatter {
    ($name:ident, $w:ty, $a:ty, $add:ident) => {
        /// The channel-last scatter with AVX2 vector runs.
        pub(super) fn $name(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
            #[target_feature(enable = "avx2")]
            fn inner(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
                conv.scatter_hwc_body(spikes, hwc, |d, s| $add(d, s));
            }
            assert!(has_avx2(), "CPU lacks AVX2");
            // SAFETY: AVX2 was detected just above; `inner` is otherwise safe code.
            unsafe { inner(conv, spikes, hwc) }
        }
    };
}

scatter!(scatter_i16_i32, i16, i32, add_i16_i32);
scatter!(scatter_i8_i32, i8, i32, add_i8_i32);
scatter!(scatter_f32_f32, f32, f32, add_f32_f32);

/// The row scatter (generic, safe code) compiled with AVX2 enabled.
pub(super) fn scatter_rows<W, A>(conv: &Conv2d<W>, spikes: &[u64], out: &mut [A])
where
    W: Copy + Into<A>,
    A: Copy + std::ops::AddAssign,
{
    #[target_feature(enable = "avx2")]
    fn inner<W: Copy + Into<A>, A: Copy + std::ops::AddAssign>(
        conv: &Conv2d<W>,
        spikes: &[u64],
        out: &mut [A],
    ) {
        conv.scatter_rows_body(spikes, out)
    }
    assert!(has_avx2(), "CPU lacks AVX2");
    // SAFETY: AVX2 was detected just above; `inner` is otherwise safe code.
    unsafe { inner(conv, spikes, out) }
}

/// Transposes 8 rows of 8 lanes (`r[i][k]` becomes `t[k][i]`); pure data movement, so it is
/// exact for any bit pattern (`i32` values pass through as `f32` bits unchanged).
#[target_feature(enable = "avx2")]
#[inline]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

macro_rules! transpose_add {
    ($name:ident, $a:ty, |$x:ident, $y:ident| $add:expr) => {
        /// `out[oc * p + pos] += hwc[pos * occp + oc]` for `oc < occ`, 8 positions x 8
        /// channels per register transpose; positions beyond the last whole group of 8 in a
        /// plain loop.
        pub(super) fn $name(hwc: &[$a], out: &mut [$a], p: usize, occ: usize, occp: usize) {
            #[target_feature(enable = "avx2")]
            fn inner(hwc: &[$a], out: &mut [$a], p: usize, occ: usize, occp: usize) {
                assert!(occp.is_multiple_of(8) && occ <= occp && occp < occ + 8);
                assert!(hwc.len() == p * occp && out.len() == p * occ);
                let whole = p / 8 * 8;
                for cb in (0..occp).step_by(8) {
                    // cb <= occp - 8 < occ, so at least one real channel in this group.
                    let real = (occ - cb).min(8);
                    let mut pos = 0;
                    while pos < whole {
                        let mut r = [_mm256_setzero_ps(); 8];
                        for (i, ri) in r.iter_mut().enumerate() {
                            // SAFETY: pos + i < p and cb + 8 <= occp, so the 8 values at
                            // (pos + i) * occp + cb end at most at p * occp == hwc.len().
                            *ri = unsafe {
                                _mm256_loadu_ps(
                                    hwc.as_ptr().add((pos + i) * occp + cb) as *const f32
                                )
                            };
                        }
                        let t = transpose8(r);
                        for (k, &tk) in t.iter().enumerate().take(real) {
                            // SAFETY: cb + k < occ and pos + 8 <= p, so the 8 values at
                            // (cb + k) * p + pos end at most at occ * p == out.len().
                            unsafe {
                                let o = out.as_mut_ptr().add((cb + k) * p + pos) as *mut f32;
                                let ($x, $y) = (_mm256_loadu_ps(o), tk);
                                _mm256_storeu_ps(o, $add);
                            }
                        }
                        pos += 8;
                    }
                }
                for pos in whole..p {
                    for oc in 0..occ {
                        out[oc * p + pos] += hwc[pos * occp + oc];
                    }
                }
            }
            assert!(has_avx2(), "CPU lacks AVX2");
            // SAFETY: AVX2 was detected just above; the pointer accesses inside are justified
            // beside them.
            unsafe { inner(hwc, out, p, occ, occp) }
        }
    };
}

transpose_add!(transpose_add_i32, i32, |x, y| _mm256_castsi256_ps(
    _mm256_add_epi32(_mm256_castps_si256(x), _mm256_castps_si256(y))
));
transpose_add!(transpose_add_f32, f32, |x, y| _mm256_add_ps(x, y));
