//! Input encoders: images become spike trains (`T x pixels`, bit-packed [`SpikeTrain`]s).
//!
//! - [`lfsr`]: rate coding with the hardware LFSR generator, bit-exact with the on-chip
//!   encoder (`docs/numeric-contract.md`).
//!
//! [`SpikeTrain`]: crate::spikes::SpikeTrain

pub mod lfsr;

pub use lfsr::{LfsrEncoder, lfsr_encode, lfsr_lane_seed, lfsr_spike, lfsr_step};
