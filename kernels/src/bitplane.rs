//! Bit-plane popcount kernel for low-bit weights and dense spikes.
//!
//! (Being written: see the owning branch.)
