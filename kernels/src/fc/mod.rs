//! Fully connected accumulate-only kernels: a spike selects a weight row that is added.
//!
//! (Being written: see the owning branch.)
