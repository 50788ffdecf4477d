//! # train: surrogate-gradient training, ANN-to-SNN conversion and quantization
//!
//! See `DESIGN.md` in this crate for the recipes and the measured results.

pub mod data;
pub mod optim;
pub mod rng;
pub mod snn;

pub use data::Dataset;
pub use snn::{EpochStats, Loss, Progress, Surrogate, TrainConfig, Trained, train_snn};
