//! Cache-line aligned, padded buffers for SIMD kernels.
//!
//! (Being written: see the owning branch.)
