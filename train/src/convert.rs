//! ANN-to-SNN conversion with data-based weight normalisation (Diehl et al. 2015, Rueckauer et
//! al. 2017).
//!
//! A ReLU activation `a` is approximated by the firing rate of an IF neuron (no leak, subtract
//! reset, threshold 1) fed with rate-coded inputs. The rate saturates at one spike per step,
//! so each layer is rescaled by `lambda_l`, a high percentile of its activations on
//! calibration data: `W_l' = W_l * lambda_{l-1} / lambda_l` (`lambda_0 = 1`, inputs are
//! intensities in `[0, 1]`). Then an activation of `lambda_l` maps to rate 1.

use kernels::model::{Encoding, Layer, LayerOp, Model, Shape};
use kernels::neuron::{FiringRule, LifParams, ResetMode};
use kernels::{Error, Result};
use rayon::prelude::*;

use crate::ann::{Ann, to_input};
use crate::cnn::Cnn;
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
            let v: Vec<f32> = acts
                .iter()
                .flat_map(|a| a[l].iter().copied().filter(|&x| x > 0.0))
                .collect();
            positive_percentile(v, percentile)
        })
        .collect()
}

/// Converts `ann` to a spiking [`Model`] of IF/LIF neurons (threshold 1, subtract reset, snnTorch
/// firing rule), normalising weights with [`activation_scales`] on `calibration`.
pub fn ann_to_snn(ann: &Ann, calibration: &Dataset, cfg: &ConvertConfig) -> Result<Model> {
    check_calibration(calibration, cfg)?;
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

/// The checks shared by [`ann_to_snn`] and [`cnn_to_snn`]: a percentile in `(0, 100]` and a
/// non-empty calibration set.
fn check_calibration(calibration: &Dataset, cfg: &ConvertConfig) -> Result<()> {
    if !(cfg.percentile > 0.0 && cfg.percentile <= 100.0) {
        return Err(Error::invalid(format!(
            "percentile {} is outside (0, 100]",
            cfg.percentile
        )));
    }
    if calibration.is_empty() {
        return Err(Error::invalid("the calibration set is empty"));
    }
    Ok(())
}

/// Value at `percentile` (in `(0, 100]`) of the positive entries of `v` (1 when there are none);
/// reorders `v`.
fn positive_percentile(mut v: Vec<f32>, percentile: f32) -> f32 {
    v.retain(|&x| x > 0.0);
    if v.is_empty() {
        return 1.0;
    }
    let k = ((percentile as f64 / 100.0) * (v.len() - 1) as f64).round() as usize;
    let k = k.min(v.len() - 1);
    *v.select_nth_unstable_by(k, f32::total_cmp).1
}

/// `lambda_l` for every layer of a CNN: the `percentile` of the positive activations of each
/// conv and dense layer over `calibration` (after ReLU; logits for the last layer), 1 for a
/// layer that never activates. Pooling layers get the `lambda` of the layer they pool (an
/// average of rates in `[0, 1]` is a rate in `[0, 1]`).
pub fn cnn_activation_scales(cnn: &Cnn, calibration: &Dataset, percentile: f32) -> Vec<f32> {
    let weighted: Vec<usize> = (0..cnn.ops.len())
        .filter(|&l| cnn.ops[l].has_weights())
        .collect();
    let acts: Vec<Vec<Vec<f32>>> = (0..calibration.len())
        .into_par_iter()
        .map(|i| {
            let mut a = cnn.activations(&to_input(calibration.image(i)));
            weighted
                .iter()
                .map(|&l| std::mem::take(&mut a[l]))
                .collect()
        })
        .collect();
    let per_weighted: Vec<f32> = (0..weighted.len())
        .map(|k| {
            let v: Vec<f32> = acts.iter().flat_map(|a| a[k].iter().copied()).collect();
            positive_percentile(v, percentile)
        })
        .collect();
    let mut out = Vec::with_capacity(cnn.ops.len());
    let mut k = 0;
    let mut prev = 1.0f32;
    for op in &cnn.ops {
        if op.has_weights() {
            prev = per_weighted[k];
            k += 1;
        }
        out.push(prev);
    }
    out
}

/// Converts a convolutional ReLU network to a spiking [`Model`] of IF/LIF neurons (threshold
/// 1, subtract reset, snnTorch firing rule): conv and dense weights are normalised with
/// [`cnn_activation_scales`] on `calibration` (`W_l' = W_l lambda_{l-1} / lambda_l`), every
/// average-pooling layer gets the same neurons (its current, the mean of the input spikes of
/// a window, is at most 1 per step, so its rate is the mean input rate), and a `flatten`
/// layer is inserted before the first dense layer that reads a map. Layer names: `conv1`,
/// `pool1`, `conv2`, ..., `flatten`, `fc1`, ...
pub fn cnn_to_snn(cnn: &Cnn, calibration: &Dataset, cfg: &ConvertConfig) -> Result<Model> {
    check_calibration(calibration, cfg)?;
    if calibration.pixels() != cnn.input.len() {
        return Err(Error::shape(format!(
            "calibration images have {} pixels, the network expects {}",
            calibration.pixels(),
            cnn.input.len()
        )));
    }
    let lambdas = cnn_activation_scales(cnn, calibration, cfg.percentile);
    let neuron = Some(kernels::neuron::Neuron::Lif(LifParams {
        beta: cfg.beta,
        threshold: 1.0,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
    }));
    let (mut n_conv, mut n_pool, mut n_fc) = (0, 0, 0);
    let mut prev = 1.0f32;
    let mut layers = Vec::new();
    for ((op, p), &lam) in cnn.ops.iter().zip(&cnn.params).zip(&lambdas) {
        let name = match op {
            LayerOp::Conv2d { .. } => {
                n_conv += 1;
                format!("conv{n_conv}")
            }
            LayerOp::AvgPool2d { .. } => {
                n_pool += 1;
                format!("pool{n_pool}")
            }
            LayerOp::Dense { .. } => {
                // A dense layer after a conv or pooling map reads it channel-major.
                if let Some(last) = layers.last().filter(|l: &&Layer| {
                    matches!(l.op, LayerOp::Conv2d { .. } | LayerOp::AvgPool2d { .. })
                }) {
                    let map = last.op.output_shape()?;
                    layers.push(Layer {
                        name: "flatten".into(),
                        op: LayerOp::Flatten { input: map },
                        weights: Vec::new(),
                        bias: Vec::new(),
                        neuron: None,
                    });
                }
                n_fc += 1;
                format!("fc{n_fc}")
            }
            _ => {
                return Err(Error::invalid(
                    "a CNN holds only conv, average pooling and dense layers",
                ));
            }
        };
        let weights = if op.has_weights() {
            let f = prev / lam;
            let mut w = p.to_output_major();
            w.iter_mut().for_each(|x| *x *= f);
            prev = lam;
            w
        } else {
            Vec::new()
        };
        layers.push(Layer {
            name,
            op: *op,
            weights,
            bias: Vec::new(),
            neuron: neuron.clone(),
        });
    }
    let model = Model {
        name: cfg.name.clone(),
        input: cnn.input,
        timesteps: cfg.timesteps,
        encoding: cfg.encoding,
        layers,
    };
    model.validate()?;
    Ok(model)
}
