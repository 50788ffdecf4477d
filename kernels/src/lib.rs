//! # kernels: fast, bit-exact CPU inference for spiking neural networks
//!
//! Spikes are bits ([`spikes`]). A layer's input current is built *accumulate-only*: every
//! active input spike selects one weight row that is added into the currents, nothing is ever
//! multiplied. Neurons ([`neuron`]) exist in `f32` and in an integer form that is the golden
//! model for the generated hardware; both follow the numeric contract in
//! `docs/numeric-contract.md`. [`model`] describes trained networks (float and quantized).

#![deny(missing_docs)]

pub mod aligned;
pub mod bitplane;
pub mod conv;
pub mod data;
pub mod decode;
pub mod encode;
pub mod error;
pub mod events;
pub mod fc;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod model_io;
pub mod network;
pub mod neuron;
pub mod pool;
pub mod spikes;

pub use error::{Error, Result};
