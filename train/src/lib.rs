//! # train: surrogate-gradient training, ANN-to-SNN conversion and quantization
//!
//! Pure Rust on the CPU (rayon across samples), deterministic for a seed. The entry points:
//!
//! - [`train_snn`]: BPTT with surrogate gradients for fully connected LIF networks
//!   ([`TrainConfig`], default = the bundled 784-128-10 recipe) -> `kernels::model::Model`.
//! - [`ann::train_ann`] + [`convert::ann_to_snn`]: ReLU ANN, then data-normalised IF network.
//! - [`cnn::train_cnn`] + [`convert::cnn_to_snn`]: convolutional ReLU ANN with average
//!   pooling, then a data-normalised IF conv SNN (the `mnist_conv` model).
//! - [`quantize::quantize`]: float `Model` -> integer golden `kernels::model::IntModel`.
//! - [`eval`]: accuracies through the `kernels` runtimes.
//!
//! See `DESIGN.md` in this crate for the recipes, and `models/README.md` for measured results.

#![deny(missing_docs)]

pub mod ann;
pub mod cnn;
pub mod conv;
pub mod convert;
pub mod data;
pub mod eval;
pub mod optim;
pub mod quantize;
pub mod rng;
pub mod snn;

pub use kernels::data::Dataset;
pub use snn::{EpochStats, Loss, Progress, Surrogate, TrainConfig, Trained, train_snn};
