//! ANN-to-SNN conversion with data-based weight normalisation (Diehl et al. 2015, Rueckauer et
//! al. 2017).
//!
//! A ReLU activation `a` is approximated by the firing rate of an IF neuron (no leak, subtract
//! reset, threshold 1) fed with rate-coded inputs. The rate saturates at one spike per step,
//! so each layer is rescaled by `lambda_l`, a high percentile of its activations on
//! calibration data: `W_l' = W_l * lambda_{l-1} / lambda_l` (`lambda_0 = 1`, inputs are
//! intensities in `[0, 1]`). Then an activation of `lambda_l` maps to rate 1.

use kernels::model::{Encoding, Model, Shape};
use kernels::neuron::{FiringRule, LifParams, ResetMode};
use kernels::{Error, Result};
use rayon::prelude::*;

use crate::ann::{Ann, to_input};
use crate::optim::DenseParams;
use crate::snn::to_model;
use kernels::data::Dataset;

/// Conversion settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertConfig {
    /// Name of the converted model.
    pub name: String,
    /// Timesteps stored in the model (accuracy against `T` is measured separately).
    pub timesteps: usize,
    /// Percentile of the positive activations used as `lambda_l` (100 = the maximum).
    pub percentile: f32,
    /// Membrane decay: 1 gives IF neurons (the classic conversion), below 1 LIF.
    pub beta: f32,
    /// Encoding stored in the model.
    pub encoding: Encoding,
}

impl Default for ConvertConfig {
    fn default() -> Self {
        ConvertConfig {
            name: "mnist_mlp_converted".into(),
            timesteps: 100,
            percentile: 99.9,
            beta: 1.0,
            encoding: Encoding::Rate { seed: 1 },
        }
    }
}

/// `lambda_l` for every layer: the `percentile` of the positive activations of layer `l` over
/// `calibration` (1 for a layer that never activates).
pub fn activation_scales(ann: &Ann, calibration: &Dataset, percentile: f32) -> Vec<f32> {
    let acts: Vec<Vec<Vec<f32>>> = (0..calibration.len())
        .into_par_iter()
        .map(|i| ann.activations(&to_input(calibration.image(i))))
        .collect();
    (0..ann.layers.len())
        .map(|l| {
            let mut v: Vec<f32> = acts
                .iter()
                .flat_map(|a| a[l].iter().copied().filter(|&x| x > 0.0))
                .collect();
            if v.is_empty() {
                return 1.0;
            }
            v.sort_by(f32::total_cmp);
            let k = ((percentile as f64 / 100.0) * (v.len() - 1) as f64).round() as usize;
            v[k.min(v.len() - 1)]
        })
        .collect()
}

/// Converts `ann` to a spiking [`Model`] of IF/LIF neurons (threshold 1, subtract reset, snnTorch
/// firing rule), normalising weights with [`activation_scales`] on `calibration`.
pub fn ann_to_snn(ann: &Ann, calibration: &Dataset, cfg: &ConvertConfig) -> Result<Model> {
    if !(cfg.percentile > 0.0 && cfg.percentile <= 100.0) {
        return Err(Error::invalid(format!(
            "percentile {} is outside (0, 100]",
            cfg.percentile
        )));
    }
    if calibration.is_empty() {
        return Err(Error::invalid("the calibration set is empty"));
    }
    let lambdas = activation_scales(ann, calibration, cfg.percentile);
    let mut prev = 1.0f32;
    let layers: Vec<DenseParams> = ann
        .layers
        .iter()
        .zip(&lambdas)
        .map(|(p, &lam)| {
            let mut q = p.clone();
            let f = prev / lam;
            q.wt.iter_mut().for_each(|w| *w *= f);
            prev = lam;
            q
        })
        .collect();
    let model = to_model(
        &cfg.name,
        Shape {
            channels: 1,
            height: calibration.rows,
            width: calibration.cols,
        },
        cfg.timesteps,
        cfg.encoding,
        &layers,
        false,
        LifParams {
            beta: cfg.beta,
            threshold: 1.0,
            reset: ResetMode::Subtract,
            rule: FiringRule::Snntorch,
        },
    );
    model.validate()?;
    Ok(model)
}
