//! AVX-512 (F + BW) kernels for the channel-last convolution scatter: the same contiguous runs
//! as `avx2.rs`, added 16 lanes at a time (512-bit) with one 8-lane (256-bit) step for a run
//! that is an odd number of 8-lane groups. The transposed addition stays on AVX2 (an 8 x 8
//! register transpose per block of 8 channels; AVX-512 has AVX2).
//!
//! # Safety
//! As in `avx2.rs`: the `#[target_feature]` functions are called only right after the safe
//! wrapper asserted the features; every pointer access is justified beside it by the lengths
//! of the slices it reads and writes.

use std::arch::x86_64::*;

use super::Conv2d;

/// True when the CPU has AVX-512F and AVX-512BW (detection is cached by `std`).
#[inline]
fn has_avx512bw() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

macro_rules! add_run {
    ($name:ident, $w:ty, $a:ty, |$p:ident, $d:ident| $wide:expr, |$p8:ident, $d8:ident| $narrow:expr, $rest:expr) => {
        #[target_feature(enable = "avx512f,avx512bw,avx2")]
        #[inline]
        fn $name(dst: &mut [$a], src: &[$w]) {
            let n = dst.len().min(src.len());
            let (dp, sp) = (dst.as_mut_ptr(), src.as_ptr());
            let mut i = 0;
            while i + 16 <= n {
                // SAFETY: i + 16 <= n, the length of both slices.
                unsafe {
                    let $p = sp.add(i);
                    let $d = dp.add(i);
                    $wide;
                }
                i += 16;
            }
            if i + 8 <= n {
                // SAFETY: i + 8 <= n, the length of both slices.
                unsafe {
                    let $p8 = sp.add(i);
                    let $d8 = dp.add(i);
                    $narrow;
                }
                i += 8;
            }
            for k in i..n {
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
        let w = _mm512_cvtepi16_epi32(_mm256_loadu_si256(p as *const __m256i));
        let a = _mm512_loadu_si512(d as *const __m512i);
        _mm512_storeu_si512(d as *mut __m512i, _mm512_add_epi32(a, w))
    },
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
        let w = _mm512_cvtepi8_epi32(_mm_loadu_si128(p as *const __m128i));
        let a = _mm512_loadu_si512(d as *const __m512i);
        _mm512_storeu_si512(d as *mut __m512i, _mm512_add_epi32(a, w))
    },
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
    |p, d| _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), _mm512_loadu_ps(p))),
    |p, d| _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_loadu_ps(p))),
    |w: f32| w
);

macro_rules! scatter {
    ($name:ident, $w:ty, $a:ty, $add:ident) => {
        /// The channel-last scatter with AVX-512 vector runs.
        pub(super) fn $name(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
            #[target_feature(enable = "avx512f,avx512bw,avx2")]
            fn inner(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
                conv.scatter_hwc_body(spikes, hwc, |d, s| $add(d, s));
            }
            assert!(has_avx512bw(), "CPU lacks AVX-512F/BW");
            // SAFETY: the features were detected just above; `inner` is otherwise safe code
            // (its pointer accesses are justified in `add_run!`).
            unsafe { inner(conv, spikes, hwc) }
        }
    };
}

scatter!(scatter_i16_i32, i16, i32, add_i16_i32);
scatter!(scatter_i8_i32, i8, i32, add_i8_i32);
scatter!(scatter_f32_f32, f32, f32, add_f32_f32);
