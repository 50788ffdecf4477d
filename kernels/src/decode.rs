//! Output decoders: argmax of spike counts, firing rates.
//!
//! (Being written: see the owning branch.)
