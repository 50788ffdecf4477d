//! IDX (MNIST-format) dataset reader, gzip or plain.
//!
//! (Being written: see the owning branch.)
