//! Event-camera data (N-MNIST binary format) as spike tensors.
//!
//! (Being written: see the owning branch.)
