//! Input encoders: images become spike trains (`T x pixels`, bit-packed [`SpikeTrain`]s).
//!
//! - [`lfsr`]: rate coding with the hardware LFSR generator, bit-exact with the on-chip
//!   encoder (`docs/numeric-contract.md`).
//! - [`rate`]: Bernoulli rate coding (SIMD xoshiro128++ lanes) from bytes or floats, and
//!   Poisson-process coding.
//! - [`latency`]: time-to-first-spike coding, and direct analog input.
//!
//! [`encode`] / [`encode_sample`] dispatch on a model's [`Encoding`]. Pixels are the flattened
//! input image in the model's order (channel-major, as PyTorch's `flatten`).
//!
//! Reproducibility: every encoder is a pure function of its arguments. For a batch, sample `i`
//! of a seeded software encoding (`Rate`, `Poisson`) uses the seed [`sample_seed`]`(seed, i)`,
//! so results do not depend on batch order or thread count. The `Lfsr` encoding uses the same
//! seed for every sample, because the hardware reseeds its lanes identically for every image.

pub mod latency;
pub mod lfsr;
pub mod rate;

pub use latency::{direct_u8, latency_f32, latency_step_f32, latency_step_u8, latency_u8};
pub use lfsr::{
    LfsrEncoder, LfsrTable, lfsr_encode, lfsr_encode_reference, lfsr_lane_seed, lfsr_spike,
    lfsr_step,
};
pub use rate::{
    RateRng, bernoulli_f32, bernoulli_thresholds, bernoulli_u8, poisson_f32, poisson_u8, splitmix64,
};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::Encoding;
use crate::spikes::SpikeTrain;

/// An encoded input: spikes for every encoding but `Direct`, analog intensities for `Direct`.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoded {
    /// Spike train, `T x pixels`.
    Spikes(SpikeTrain),
    /// Analog intensities in `[0, 1]`, one per pixel, the same at every step.
    Analog(Vec<f32>),
}

impl Encoded {
    /// The spike train, if this is one.
    pub fn spikes(&self) -> Option<&SpikeTrain> {
        match self {
            Encoded::Spikes(t) => Some(t),
            Encoded::Analog(_) => None,
        }
    }

    /// The analog intensities, if this is a direct input.
    pub fn analog(&self) -> Option<&[f32]> {
        match self {
            Encoded::Spikes(_) => None,
            Encoded::Analog(x) => Some(x),
        }
    }
}

/// Seed of sample `sample` of a batch encoded with `seed`: two SplitMix64 rounds, so that
/// neighbouring samples and neighbouring seeds get unrelated streams.
pub fn sample_seed(seed: u64, sample: u64) -> u64 {
    let mut s = seed;
    let a = splitmix64(&mut s);
    let mut s = a ^ sample;
    splitmix64(&mut s)
}

/// Encodes one image as sample 0 (see [`encode_sample`]).
pub fn encode(encoding: &Encoding, pixels: &[u8], timesteps: usize) -> Result<Encoded> {
    encode_sample(encoding, pixels, timesteps, 0)
}

/// Encodes one image, as sample `sample` of a batch, with the model's encoding:
///
/// - `Rate { seed }`: [`bernoulli_u8`] with [`sample_seed`]`(seed, sample)`;
/// - `Poisson { seed }`: [`poisson_u8`] with [`sample_seed`]`(seed, sample)`;
/// - `Latency`: [`latency_u8`];
/// - `Direct`: [`direct_u8`] (analog);
/// - `Lfsr { seed, lanes }`: [`lfsr_encode`] with `seed` itself, whatever the sample.
pub fn encode_sample(
    encoding: &Encoding,
    pixels: &[u8],
    timesteps: usize,
    sample: u64,
) -> Result<Encoded> {
    Ok(match *encoding {
        Encoding::Rate { seed } => {
            Encoded::Spikes(bernoulli_u8(pixels, timesteps, sample_seed(seed, sample))?)
        }
        Encoding::Poisson { seed } => {
            Encoded::Spikes(poisson_u8(pixels, timesteps, sample_seed(seed, sample))?)
        }
        Encoding::Latency => Encoded::Spikes(latency_u8(pixels, timesteps)?),
        Encoding::Direct => Encoded::Analog(direct_u8(pixels)),
        Encoding::Lfsr { seed, lanes } => {
            Encoded::Spikes(lfsr_encode(pixels, timesteps, seed, lanes)?)
        }
    })
}

/// Encodes a batch of images stored back to back (`images.len()` must be a multiple of
/// `pixels_per_image`); sample `i` is encoded as [`encode_sample`]`(.., first_sample + i)`.
/// Runs in parallel across samples.
pub fn encode_batch(
    encoding: &Encoding,
    images: &[u8],
    pixels_per_image: usize,
    timesteps: usize,
    first_sample: u64,
) -> Result<Vec<Encoded>> {
    if pixels_per_image == 0 || !images.len().is_multiple_of(pixels_per_image) {
        return Err(Error::shape(format!(
            "{} bytes of images are not a whole number of {pixels_per_image}-pixel images",
            images.len()
        )));
    }
    images
        .par_chunks(pixels_per_image)
        .enumerate()
        .map(|(i, img)| encode_sample(encoding, img, timesteps, first_sample + i as u64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_and_batch_reproducible() {
        let img: Vec<u8> = (0..100).map(|i| (i * 37 % 256) as u8).collect();
        let mut two = img.clone();
        two.extend_from_slice(&img);
        let enc = Encoding::Rate { seed: 7 };
        let batch = encode_batch(&enc, &two, 100, 10, 0).unwrap();
        assert_eq!(batch[0], encode_sample(&enc, &img, 10, 0).unwrap());
        assert_eq!(batch[1], encode_sample(&enc, &img, 10, 1).unwrap());
        // Different samples of one seeded encoding differ (same image).
        assert_ne!(batch[0], batch[1]);
        // LFSR: identical for every sample, and equal to lfsr_encode with the model's seed.
        let lf = Encoding::Lfsr { seed: 5, lanes: 4 };
        let b = encode_batch(&lf, &two, 100, 10, 3).unwrap();
        assert_eq!(b[0], b[1]);
        assert_eq!(
            b[0].spikes().unwrap(),
            &lfsr_encode(&img, 10, 5, 4).unwrap()
        );
        assert_eq!(
            encode(&Encoding::Direct, &[255], 3).unwrap().analog(),
            Some(&[1.0f32][..])
        );
        assert!(encode_batch(&enc, &two, 99, 10, 0).is_err());
        assert!(encode_batch(&enc, &two, 0, 10, 0).is_err());
    }
}
