//! A ReLU multilayer perceptron without biases, trained with Adam on cross-entropy: the source
//! network of ANN-to-SNN conversion ([`crate::convert`]).
//!
//! Biases are left out on purpose (as in the seed article's conversion recipe): a bias becomes
//! a constant input current whose rate meaning depends on `T` and on the normalisation.

use std::time::Instant;

use rayon::prelude::*;

use kernels::{Error, Result};

use kernels::data::Dataset;

use crate::data::{check_dataset, shift_image};
use crate::optim::{Adam, DenseParams, chunks, cosine_lr};
use crate::rng::Rng;
use crate::snn::{EpochStats, Progress};

/// Training recipe of the ANN.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Output neurons (classes).
    pub classes: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per Adam step.
    pub batch_size: usize,
    /// Peak learning rate (cosine schedule).
    pub lr: f32,
    /// Random shift augmentation in pixels.
    pub max_shift: usize,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
}

impl Default for AnnConfig {
    fn default() -> Self {
        AnnConfig {
            hidden: vec![128],
            classes: 10,
            epochs: 30,
            batch_size: 64,
            lr: 2e-3,
            max_shift: 2,
            seed: 1,
        }
    }
}

/// A trained ReLU network: `x -> relu(W1 x) -> ... -> W_L h` (logits), inputs `pixel / 255`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ann {
    /// Layers, input first, biases all zero.
    pub layers: Vec<DenseParams>,
}

/// A trained ANN and its learning curve.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnTrained {
    /// The network.
    pub ann: Ann,
    /// One entry per epoch.
    pub history: Vec<EpochStats>,
}

impl Ann {
    /// Activations of every layer for `x` (the last entry holds the logits).
    pub fn activations(&self, x: &[f32]) -> Vec<Vec<f32>> {
        let mut acts: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        for (l, p) in self.layers.iter().enumerate() {
            let input: &[f32] = if l == 0 { x } else { &acts[l - 1] };
            let mut out = vec![0.0f32; p.outputs];
            for (j, &xj) in input.iter().enumerate() {
                if xj != 0.0 {
                    for (o, w) in out.iter_mut().zip(p.row(j)) {
                        *o += xj * w;
                    }
                }
            }
            if l + 1 < self.layers.len() {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            acts.push(out);
        }
        acts
    }

    /// Test accuracy (argmax of logits, ties to the lowest index).
    pub fn accuracy(&self, data: &Dataset) -> f32 {
        let correct: usize = (0..data.len())
            .into_par_iter()
            .map(|i| {
                let x = to_input(data.image(i));
                let z = self.activations(&x).pop().unwrap_or_default();
                usize::from(argmax_f32(&z) == data.labels[i] as usize)
            })
            .sum();
        correct as f32 / data.len().max(1) as f32
    }
}

/// `pixel / 255`.
pub fn to_input(image: &[u8]) -> Vec<f32> {
    image.iter().map(|&p| p as f32 / 255.0).collect()
}

pub(crate) fn argmax_f32(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// Softmax cross-entropy of the output `z` against `label`: the loss, whether `z`'s argmax is
/// `label`, and the gradient with respect to `z` (`softmax(z) - onehot(label)`).
pub(crate) fn softmax_cross_entropy(z: &[f32], label: usize) -> (f32, bool, Vec<f32>) {
    let m = z.iter().cloned().fold(f32::MIN, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    let loss = -(e[label] / s).ln();
    let delta = e
        .iter()
        .enumerate()
        .map(|(k, &ek)| ek / s - f32::from(k == label))
        .collect();
    (loss, argmax_f32(z) == label, delta)
}

/// Adds the gradient of the cross-entropy of sample `x` with `label` into `grads`; returns the
/// loss and whether the prediction was right.
fn backprop(ann: &Ann, x: &[f32], label: usize, grads: &mut [DenseParams]) -> (f32, bool) {
    let acts = ann.activations(x);
    let z = acts.last().expect("at least one layer");
    let (loss, ok, mut delta) = softmax_cross_entropy(z, label);
    for l in (0..ann.layers.len()).rev() {
        let p = &ann.layers[l];
        let input: &[f32] = if l == 0 { x } else { &acts[l - 1] };
        let g = &mut grads[l];
        for (j, &xj) in input.iter().enumerate() {
            if xj != 0.0 {
                for (w, d) in g.wt[j * p.outputs..(j + 1) * p.outputs]
                    .iter_mut()
                    .zip(&delta)
                {
                    *w += xj * d;
                }
            }
        }
        if l > 0 {
            // Through the ReLU of the layer below: zero where its activation was zero.
            delta = (0..p.inputs)
                .map(|j| {
                    if input[j] > 0.0 {
                        p.row(j).iter().zip(&delta).map(|(w, d)| w * d).sum()
                    } else {
                        0.0
                    }
                })
                .collect();
        }
    }
    (loss, ok)
}

/// Trains the ANN. Deterministic for a given seed (fixed-size gradient chunks summed in order).
pub fn train_ann(
    cfg: &AnnConfig,
    data: &Dataset,
    validation: Option<&Dataset>,
    mut progress: impl FnMut(&Progress),
) -> Result<AnnTrained> {
    check_dataset(data, cfg.classes, "training")?;
    let fit = FitConfig {
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        lr: cfg.lr,
        seed: cfg.seed,
        max_shift: cfg.max_shift,
        stream: 1 << 40,
    };
    fit.validate("ANN")?;
    let mut rng = Rng::stream(cfg.seed, 0, 1);
    let mut sizes = vec![data.pixels()];
    sizes.extend(&cfg.hidden);
    sizes.push(cfg.classes);
    let mut ann = Ann {
        layers: sizes
            .windows(2)
            .map(|w| DenseParams::init(w[0], w[1], false, &mut rng))
            .collect(),
    };
    let history = fit_relu(&mut ann, &fit, &mut rng, data, validation, &mut progress);
    Ok(AnnTrained { ann, history })
}

/// A ReLU network without biases, trained on shifted images by [`fit_relu`]: the MLP here and
/// the CNN of `crate::cnn`.
pub(crate) trait ReluNet: Sync {
    /// Trainable parameters, one entry per layer.
    fn params(&self) -> &[DenseParams];
    /// The same, to update.
    fn params_mut(&mut self) -> &mut [DenseParams];
    /// Cross-entropy loss of one input and whether it was classified right; adds the gradients
    /// into `grads`.
    fn backprop(&self, x: &[f32], label: usize, grads: &mut [DenseParams]) -> (f32, bool);
    /// Test accuracy.
    fn accuracy(&self, data: &Dataset) -> f32;
}

impl ReluNet for Ann {
    fn params(&self) -> &[DenseParams] {
        &self.layers
    }
    fn params_mut(&mut self) -> &mut [DenseParams] {
        &mut self.layers
    }
    fn backprop(&self, x: &[f32], label: usize, grads: &mut [DenseParams]) -> (f32, bool) {
        backprop(self, x, label, grads)
    }
    fn accuracy(&self, data: &Dataset) -> f32 {
        Ann::accuracy(self, data)
    }
}

/// The settings [`fit_relu`] needs.
pub(crate) struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub seed: u64,
    pub max_shift: usize,
    /// Mixed into every sample's augmentation stream (differs between the ANN and the CNN).
    pub stream: u64,
}

impl FitConfig {
    /// Refuses settings that cannot train; `what` names the network in the message.
    pub(crate) fn validate(&self, what: &str) -> Result<()> {
        if self.epochs == 0 || self.batch_size == 0 || !self.lr.is_finite() || self.lr <= 0.0 {
            return Err(Error::invalid(format!(
                "{what} training needs epochs > 0, batch size > 0 and a learning rate > 0"
            )));
        }
        Ok(())
    }
}

/// Adam with a cosine schedule over mini-batches of randomly shifted images, gradients summed
/// in fixed chunks of 16 samples in order, so the result is the same whatever the thread count.
pub(crate) fn fit_relu<N: ReluNet>(
    net: &mut N,
    fit: &FitConfig,
    rng: &mut Rng,
    data: &Dataset,
    validation: Option<&Dataset>,
    progress: &mut impl FnMut(&Progress),
) -> Vec<EpochStats> {
    let mut adam = Adam::new(net.params());
    let batches = data.len().div_ceil(fit.batch_size);
    let total = batches * fit.epochs;
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut history = Vec::new();
    for epoch in 0..fit.epochs {
        let start = Instant::now();
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (bi, batch) in order.chunks(fit.batch_size).enumerate() {
            let parts: Vec<(Vec<DenseParams>, f64, usize)> = chunks(batch.len(), 16)
                .into_par_iter()
                .map(|r| {
                    let mut grads: Vec<DenseParams> =
                        net.params().iter().map(DenseParams::zeros_like).collect();
                    let mut img = vec![0u8; data.pixels()];
                    let (mut ls, mut ok) = (0.0f64, 0usize);
                    for &i in &batch[r] {
                        let mut srng =
                            Rng::stream(fit.seed, epoch as u64 + 1, i as u64 ^ fit.stream);
                        let m = fit.max_shift as isize;
                        let dy = srng.below(2 * fit.max_shift + 1) as isize - m;
                        let dx = srng.below(2 * fit.max_shift + 1) as isize - m;
                        shift_image(data.image(i), data.rows, data.cols, dy, dx, &mut img);
                        let (l, good) =
                            net.backprop(&to_input(&img), data.labels[i] as usize, &mut grads);
                        ls += l as f64;
                        ok += usize::from(good);
                    }
                    (grads, ls, ok)
                })
                .collect();
            let mut it = parts.into_iter();
            let (mut grads, ls, ok) = it.next().expect("non-empty batch");
            loss_sum += ls;
            correct += ok;
            for (g, ls, ok) in it {
                for (a, b) in grads.iter_mut().zip(&g) {
                    a.add(b);
                }
                loss_sum += ls;
                correct += ok;
            }
            let inv = 1.0 / batch.len() as f32;
            grads
                .iter_mut()
                .for_each(|g| g.wt.iter_mut().for_each(|x| *x *= inv));
            seen += batch.len();
            let lr = cosine_lr(fit.lr, epoch * batches + bi, total, 0.0);
            adam.step(net.params_mut(), &grads, lr, false);
            progress(&Progress {
                epoch,
                epochs: fit.epochs,
                batch: bi + 1,
                batches,
                loss: (loss_sum / seen as f64) as f32,
                train_accuracy: correct as f32 / seen as f32,
            });
        }
        history.push(EpochStats {
            epoch,
            loss: (loss_sum / data.len() as f64) as f32,
            train_accuracy: correct as f32 / data.len() as f32,
            validation_accuracy: validation.map(|v| net.accuracy(v)),
            seconds: start.elapsed().as_secs_f32(),
        });
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        // 3 inputs, 2 hidden, 2 outputs, deterministic weights away from ReLU kinks.
        let ann = Ann {
            layers: vec![
                DenseParams::from_output_major(3, 2, &[0.5, -0.2, 0.3, 0.1, 0.4, -0.3], &[]),
                DenseParams::from_output_major(2, 2, &[0.7, -0.5, -0.2, 0.6], &[]),
            ],
        };
        let x = [1.0, 0.5, 0.25];
        let mut grads: Vec<DenseParams> = ann.layers.iter().map(DenseParams::zeros_like).collect();
        backprop(&ann, &x, 1, &mut grads);
        let loss = |a: &Ann| {
            let z = a.activations(&x).pop().unwrap();
            let s: f32 = z.iter().map(|v| v.exp()).sum();
            -(z[1].exp() / s).ln()
        };
        for (l, gl) in grads.iter().enumerate() {
            for k in 0..gl.wt.len() {
                let mut a = ann.clone();
                a.layers[l].wt[k] += 1e-3;
                let up = loss(&a);
                a.layers[l].wt[k] -= 2e-3;
                let down = loss(&a);
                let fd = (up - down) / 2e-3;
                assert!(
                    (fd - grads[l].wt[k]).abs() < 1e-3,
                    "layer {l} w {k}: {fd} vs {}",
                    grads[l].wt[k]
                );
            }
        }
    }
}
