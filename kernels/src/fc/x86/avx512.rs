//! AVX-512 (F + BW) kernels: 512-bit registers, up to 16 accumulator vectors per block (32
//! registers exist). See the safety notes in [`super`].
//!
//! The property tests run it automatically wherever `fc::paths::available()` lists it (the
//! development VM had no AVX-512 until it moved to a Zen 4 host, where they ran and passed).

use std::arch::x86_64::*;

use super::{block_kernel, has_avx512bw};

block_kernel! {
    name: f32_f32, feature: "avx512f,avx512bw", detect: has_avx512bw,
    w: f32, a: f32, v: __m512, lanes: 16, rmax: 16,
    zero: _mm512_setzero_ps(),
    load_a: |p| _mm512_loadu_ps(p),
    store_a: |p, v| _mm512_storeu_ps(p, v),
    load_w: |p| _mm512_loadu_ps(p),
    add: |x, y| _mm512_add_ps(x, y),
}

block_kernel! {
    name: i16_i32, feature: "avx512f,avx512bw", detect: has_avx512bw,
    w: i16, a: i32, v: __m512i, lanes: 16, rmax: 16,
    zero: _mm512_setzero_si512(),
    load_a: |p| _mm512_loadu_si512(p as *const __m512i),
    store_a: |p, v| _mm512_storeu_si512(p as *mut __m512i, v),
    load_w: |p| _mm512_cvtepi16_epi32(_mm256_loadu_si256(p as *const __m256i)),
    add: |x, y| _mm512_add_epi32(x, y),
}

block_kernel! {
    name: i8_i32, feature: "avx512f,avx512bw", detect: has_avx512bw,
    w: i8, a: i32, v: __m512i, lanes: 16, rmax: 16,
    zero: _mm512_setzero_si512(),
    load_a: |p| _mm512_loadu_si512(p as *const __m512i),
    store_a: |p, v| _mm512_storeu_si512(p as *mut __m512i, v),
    load_w: |p| _mm512_cvtepi8_epi32(_mm_loadu_si128(p as *const __m128i)),
    add: |x, y| _mm512_add_epi32(x, y),
}

block_kernel! {
    name: i16_i16, feature: "avx512f,avx512bw", detect: has_avx512bw,
    w: i16, a: i16, v: __m512i, lanes: 32, rmax: 16,
    zero: _mm512_setzero_si512(),
    load_a: |p| _mm512_loadu_si512(p as *const __m512i),
    store_a: |p, v| _mm512_storeu_si512(p as *mut __m512i, v),
    load_w: |p| _mm512_loadu_si512(p as *const __m512i),
    add: |x, y| _mm512_add_epi16(x, y),
}

block_kernel! {
    name: i8_i16, feature: "avx512f,avx512bw", detect: has_avx512bw,
    w: i8, a: i16, v: __m512i, lanes: 32, rmax: 16,
    zero: _mm512_setzero_si512(),
    load_a: |p| _mm512_loadu_si512(p as *const __m512i),
    store_a: |p, v| _mm512_storeu_si512(p as *mut __m512i, v),
    load_w: |p| _mm512_cvtepi8_epi16(_mm256_loadu_si256(p as *const __m256i)),
    add: |x, y| _mm512_add_epi16(x, y),
}
