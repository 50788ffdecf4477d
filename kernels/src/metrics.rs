//! Evaluation metrics: synaptic operations, ANN MACs, memory cost, energy estimate.
//!
//! (Being written: see the owning branch.)
