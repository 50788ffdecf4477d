//! Sum and average pooling of spike maps.
//!
//! (Being written: see the owning branch.)
