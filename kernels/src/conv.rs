//! Accumulate-only 2-D convolution on bit-packed spike maps.
//!
//! (Being written: see the owning branch.)
