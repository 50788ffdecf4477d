//! Accuracy of float and integer models through the `kernels` runtimes (the same code paths
//! `snn eval` and the hardware golden model use), not through the trainer's own forward pass.

use rayon::prelude::*;

use kernels::data::Dataset;
use kernels::encode::encode_sample;
use kernels::model::{Encoding, IntModel, Model};
use kernels::network::{Input, IntNetwork, Network};
use kernels::spikes::SpikeTrain;
use kernels::{Error, Result};

/// Encodes image number `sample` of a set into `steps` steps of input spikes with
/// `kernels::encode::encode_sample` (as `snn eval` does: seeded software encodings derive
/// the sample's seed from its index; `Lfsr` uses the same seed for every image, as the
/// hardware does). `Direct` (analog) input is refused: these helpers run spike inputs.
pub fn encode(
    encoding: &Encoding,
    image: &[u8],
    steps: usize,
    sample: usize,
) -> Result<SpikeTrain> {
    encode_sample(encoding, image, steps, sample as u64)?
        .spikes()
        .cloned()
        .ok_or_else(|| Error::invalid(format!("{encoding:?} does not produce spikes")))
}

/// Encodes the first `n` images of `data` (all when `n >= len`).
pub fn encode_all(
    data: &Dataset,
    encoding: &Encoding,
    steps: usize,
    n: usize,
) -> Result<Vec<SpikeTrain>> {
    (0..n.min(data.len()))
        .into_par_iter()
        .map(|i| encode(encoding, data.image(i), steps, i))
        .collect()
}

/// Accuracy of the float `model` over `data` with inputs encoded by `encoding` at the model's
/// timesteps, run by `kernels::network::Network`.
pub fn float_accuracy(model: &Model, data: &Dataset, encoding: &Encoding) -> Result<f64> {
    let net = Network::new(model)?;
    let correct: Result<usize> = (0..data.len())
        .into_par_iter()
        .map(|i| {
            let x = encode(encoding, data.image(i), model.timesteps, i)?;
            let r = net.run(&Input::Spikes(&x), false)?;
            Ok(usize::from(r.class == data.labels[i] as usize))
        })
        .sum();
    Ok(correct? as f64 / data.len().max(1) as f64)
}

/// Accuracy of the float `model` for each of `timesteps` (the model is run with `T` replaced).
pub fn float_accuracy_vs_t(
    model: &Model,
    data: &Dataset,
    encoding: &Encoding,
    timesteps: &[usize],
) -> Result<Vec<(usize, f64)>> {
    timesteps
        .iter()
        .map(|&t| {
            let mut m = model.clone();
            m.timesteps = t;
            Ok((t, float_accuracy(&m, data, encoding)?))
        })
        .collect()
}

/// Accuracy of the integer `model` over `data`, inputs encoded with the model's own encoding,
/// run by the golden model `kernels::network::IntNetwork`.
pub fn int_accuracy(model: &IntModel, data: &Dataset) -> Result<f64> {
    let net = IntNetwork::new(model)?;
    let correct: Result<usize> = (0..data.len())
        .into_par_iter()
        .map(|i| {
            let x = encode(&model.encoding, data.image(i), model.timesteps, i)?;
            let r = net.run(&x, false)?;
            Ok(usize::from(r.class == data.labels[i] as usize))
        })
        .sum();
    Ok(correct? as f64 / data.len().max(1) as f64)
}
