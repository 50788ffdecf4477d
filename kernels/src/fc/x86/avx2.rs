//! AVX2 kernels: 256-bit registers, 8 accumulator vectors per block (16 registers exist; the
//! rest hold loaded rows). See the safety notes in [`super`].

use std::arch::x86_64::*;

use super::{block_kernel, has_avx2};

block_kernel! {
    name: f32_f32, feature: "avx2", detect: has_avx2,
    w: f32, a: f32, v: __m256, lanes: 8, rmax: 8,
    zero: _mm256_setzero_ps(),
    load_a: |p| _mm256_loadu_ps(p),
    store_a: |p, v| _mm256_storeu_ps(p, v),
    load_w: |p| _mm256_loadu_ps(p),
    add: |x, y| _mm256_add_ps(x, y),
}

block_kernel! {
    name: i16_i32, feature: "avx2", detect: has_avx2,
    w: i16, a: i32, v: __m256i, lanes: 8, rmax: 8,
    zero: _mm256_setzero_si256(),
    load_a: |p| _mm256_loadu_si256(p as *const __m256i),
    store_a: |p, v| _mm256_storeu_si256(p as *mut __m256i, v),
    load_w: |p| _mm256_cvtepi16_epi32(_mm_loadu_si128(p as *const __m128i)),
    add: |x, y| _mm256_add_epi32(x, y),
}

block_kernel! {
    name: i8_i32, feature: "avx2", detect: has_avx2,
    w: i8, a: i32, v: __m256i, lanes: 8, rmax: 8,
    zero: _mm256_setzero_si256(),
    load_a: |p| _mm256_loadu_si256(p as *const __m256i),
    store_a: |p, v| _mm256_storeu_si256(p as *mut __m256i, v),
    // Reads exactly 8 bytes.
    load_w: |p| _mm256_cvtepi8_epi32(_mm_loadl_epi64(p as *const __m128i)),
    add: |x, y| _mm256_add_epi32(x, y),
}

block_kernel! {
    name: i16_i16, feature: "avx2", detect: has_avx2,
    w: i16, a: i16, v: __m256i, lanes: 16, rmax: 8,
    zero: _mm256_setzero_si256(),
    load_a: |p| _mm256_loadu_si256(p as *const __m256i),
    store_a: |p, v| _mm256_storeu_si256(p as *mut __m256i, v),
    load_w: |p| _mm256_loadu_si256(p as *const __m256i),
    add: |x, y| _mm256_add_epi16(x, y),
}

block_kernel! {
    name: i8_i16, feature: "avx2", detect: has_avx2,
    w: i8, a: i16, v: __m256i, lanes: 16, rmax: 8,
    zero: _mm256_setzero_si256(),
    load_a: |p| _mm256_loadu_si256(p as *const __m256i),
    store_a: |p, v| _mm256_storeu_si256(p as *mut __m256i, v),
    load_w: |p| _mm256_cvtepi8_epi16(_mm_loadu_si128(p as *const __m128i)),
    add: |x, y| _mm256_add_epi16(x, y),
}
