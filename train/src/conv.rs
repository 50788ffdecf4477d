//! Surrogate-gradient BPTT for a small convolutional SNN:
//! `conv KxK (C channels, zero padding K/2, LIF) -> sum-pool PxP (LIF) -> flatten -> dense (LIF)`.
//!
//! Same neuron semantics as [`crate::snn`] (the numeric contract's default, reset detached in
//! the backward pass). The pooling layer has fixed unit weights (accumulate-only: every spike
//! in a window adds 1) and its own LIF neurons, so every layer's input is spikes.
//!
//! The `kernels` network runtimes run only dense layers so far, so this module evaluates its
//! models with its own float forward pass ([`ConvNet::accuracy`]); the exported [`Model`] uses
//! `LayerOp::{Conv2d, SumPool2d, Flatten, Dense}` with PyTorch layouts.

use std::time::Instant;

use rayon::prelude::*;

use kernels::data::Dataset;
use kernels::model::{Encoding, Layer, LayerOp, Model, Shape, check_identifier};
use kernels::neuron::{LifParams, Neuron};
use kernels::spikes::for_each_set_bit;
use kernels::{Error, Result};

use crate::data::{check_dataset, rate_encode_indices, shift_image};
use crate::optim::{Adam, DenseParams, chunks, cosine_lr};
use crate::rng::Rng;
use crate::snn::{EpochStats, Loss, Progress, Surrogate, Trained, loss_grad};

/// Recipe of the convolutional SNN.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTrainConfig {
    /// Model name.
    pub name: String,
    /// Convolution output channels.
    pub channels: usize,
    /// Odd kernel size (padding `kernel / 2` keeps the image size).
    pub kernel: usize,
    /// Sum-pooling window (and stride).
    pub pool: usize,
    /// Output classes.
    pub classes: usize,
    /// Timesteps.
    pub timesteps: usize,
    /// Decay of every layer.
    pub beta: f32,
    /// Threshold of the conv and dense layers.
    pub threshold: f32,
    /// Threshold of the pooling neurons (inputs are spike counts `0..=pool^2`).
    pub pool_threshold: f32,
    /// Multiplier of the readout's initialisation bound `1 / sqrt(inputs)`.
    pub dense_gain: f32,
    /// Surrogate derivative.
    pub surrogate: Surrogate,
    /// Loss on output spike counts.
    pub loss: Loss,
    /// Epochs.
    pub epochs: usize,
    /// Samples per Adam step.
    pub batch_size: usize,
    /// Peak learning rate (cosine schedule).
    pub lr: f32,
    /// Random shift augmentation in pixels.
    pub max_shift: usize,
    /// Multiplier of the conv initialisation bound `1 / K` (spiking convs need larger initial
    /// weights than ReLU ones to fire at all).
    pub init_gain: f32,
    /// Seed of everything random in training.
    pub seed: u64,
    /// Seed stored in the model's rate encoding.
    pub encoding_seed: u64,
}

impl Default for ConvTrainConfig {
    fn default() -> Self {
        ConvTrainConfig {
            name: "mnist_conv".into(),
            channels: 12,
            kernel: 5,
            pool: 2,
            classes: 10,
            timesteps: 25,
            beta: 0.9375,
            threshold: 1.0,
            pool_threshold: 0.5,
            dense_gain: 1.0,
            surrogate: Surrogate::FastSigmoid { slope: 25.0 },
            loss: Loss::CrossEntropyCount { scale: 8.0 },
            epochs: 15,
            batch_size: 64,
            lr: 2e-3,
            max_shift: 2,
            init_gain: 4.0,
            seed: 1,
            encoding_seed: 1,
        }
    }
}

/// The convolutional network under training.
#[derive(Clone, Debug)]
pub struct ConvNet {
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    pool: usize,
    /// Conv weights, PyTorch layout `[C][1][K][K]`.
    pub conv_w: Vec<f32>,
    /// Conv biases, one per channel.
    pub conv_b: Vec<f32>,
    /// Dense readout (input-major).
    pub dense: DenseParams,
    beta: f32,
    theta: f32,
    pool_theta: f32,
}

#[derive(Default, Debug)]
struct Trace {
    inputs: Vec<Vec<u32>>,
    v1: Vec<f32>,
    s1: Vec<Vec<u32>>,
    v2: Vec<f32>,
    s2: Vec<Vec<u32>>,
    v3: Vec<f32>,
    image: Vec<u8>,
}

impl ConvNet {
    fn ph(&self) -> usize {
        self.h / self.pool
    }
    fn pw(&self) -> usize {
        self.w / self.pool
    }
    fn n1(&self) -> usize {
        self.c * self.h * self.w
    }
    fn n2(&self) -> usize {
        self.c * self.ph() * self.pw()
    }

    /// Calls `f(output_index, weight_index)` for every conv output that input pixel `j` feeds.
    #[inline]
    fn taps(&self, j: usize, mut f: impl FnMut(usize, usize)) {
        let (h, w, k) = (self.h as isize, self.w as isize, self.k as isize);
        let p = k / 2;
        let (iy, ix) = ((j / self.w) as isize, (j % self.w) as isize);
        for ky in 0..k {
            let oy = iy - ky + p;
            if oy < 0 || oy >= h {
                continue;
            }
            for kx in 0..k {
                let ox = ix - kx + p;
                if ox < 0 || ox >= w {
                    continue;
                }
                let o = (oy * w + ox) as usize;
                let wi = (ky * k + kx) as usize;
                for ch in 0..self.c {
                    f(ch * self.h * self.w + o, ch * self.k * self.k + wi);
                }
            }
        }
    }

    fn lif(
        &self,
        cur: &[f32],
        vprev: &mut [f32],
        fired: &mut [bool],
        vt: &mut [f32],
        out: &mut Vec<u32>,
        theta: f32,
    ) {
        out.clear();
        for i in 0..cur.len() {
            let r = if fired[i] { theta } else { 0.0 };
            let v = self.beta * vprev[i] + cur[i] - r;
            vt[i] = v;
            vprev[i] = v;
            fired[i] = v > theta;
            if fired[i] {
                out.push(i as u32);
            }
        }
    }

    fn forward(&self, steps: usize, tr: &mut Trace) -> Vec<u32> {
        let (n1, n2, n3) = (self.n1(), self.n2(), self.dense.outputs);
        let hw = self.h * self.w;
        tr.v1.resize(steps * n1, 0.0);
        tr.v2.resize(steps * n2, 0.0);
        tr.v3.resize(steps * n3, 0.0);
        tr.s1.resize_with(steps, Vec::new);
        tr.s2.resize_with(steps, Vec::new);
        let mut s3: Vec<u32> = Vec::new();
        let (mut v1, mut f1) = (vec![0.0f32; n1], vec![false; n1]);
        let (mut v2, mut f2) = (vec![0.0f32; n2], vec![false; n2]);
        let (mut v3, mut f3) = (vec![0.0f32; n3], vec![false; n3]);
        let mut cur1 = vec![0.0f32; n1];
        let mut cur2 = vec![0.0f32; n2];
        let mut cur3 = vec![0.0f32; n3];
        let mut counts = vec![0u32; n3];
        let (pw, ph) = (self.pw(), self.ph());
        for t in 0..steps {
            for ch in 0..self.c {
                cur1[ch * hw..(ch + 1) * hw].fill(self.conv_b[ch]);
            }
            for &j in &tr.inputs[t] {
                self.taps(j as usize, |o, wi| cur1[o] += self.conv_w[wi]);
            }
            let mut s1 = std::mem::take(&mut tr.s1[t]);
            self.lif(
                &cur1,
                &mut v1,
                &mut f1,
                &mut tr.v1[t * n1..(t + 1) * n1],
                &mut s1,
                self.theta,
            );
            cur2.fill(0.0);
            for &i in &s1 {
                let i = i as usize;
                let (ch, y, x) = (i / hw, (i % hw) / self.w, i % self.w);
                let (py, px) = (y / self.pool, x / self.pool);
                if py < ph && px < pw {
                    cur2[(ch * ph + py) * pw + px] += 1.0;
                }
            }
            tr.s1[t] = s1;
            let mut s2 = std::mem::take(&mut tr.s2[t]);
            self.lif(
                &cur2,
                &mut v2,
                &mut f2,
                &mut tr.v2[t * n2..(t + 1) * n2],
                &mut s2,
                self.pool_theta,
            );
            cur3.copy_from_slice(&self.dense.b);
            for &j in &s2 {
                for (c, w) in cur3.iter_mut().zip(self.dense.row(j as usize)) {
                    *c += w;
                }
            }
            tr.s2[t] = s2;
            self.lif(
                &cur3,
                &mut v3,
                &mut f3,
                &mut tr.v3[t * n3..(t + 1) * n3],
                &mut s3,
                self.theta,
            );
            for &k in &s3 {
                counts[k as usize] += 1;
            }
        }
        counts
    }

    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        steps: usize,
        sg: Surrogate,
        tr: &Trace,
        dcount: &[f32],
        g_conv_w: &mut [f32],
        g_conv_b: &mut [f32],
        g_dense: &mut DenseParams,
    ) {
        let (n1, n2, n3) = (self.n1(), self.n2(), self.dense.outputs);
        let hw = self.h * self.w;
        let (pw, ph) = (self.pw(), self.ph());
        let mut gv3 = vec![0.0f32; n3];
        let mut gv2 = vec![0.0f32; n2];
        let mut gv1 = vec![0.0f32; n1];
        let mut gs2 = vec![0.0f32; n2];
        // All three layers walk back in time together: layer l at step t only needs the
        // gradient of layer l+1 at the same step and its own at t+1.
        for t in (0..steps).rev() {
            let v3 = &tr.v3[t * n3..(t + 1) * n3];
            for k in 0..n3 {
                gv3[k] = dcount[k] * sg.grad(v3[k] - self.theta) + self.beta * gv3[k];
            }
            for (b, g) in g_dense.b.iter_mut().zip(&gv3) {
                *b += g;
            }
            for &j in &tr.s2[t] {
                let j = j as usize;
                for (w, g) in g_dense.wt[j * n3..(j + 1) * n3].iter_mut().zip(&gv3) {
                    *w += g;
                }
            }
            for (j, out) in gs2.iter_mut().enumerate() {
                *out = self.dense.row(j).iter().zip(&gv3).map(|(w, g)| w * g).sum();
            }
            let v2 = &tr.v2[t * n2..(t + 1) * n2];
            for i in 0..n2 {
                gv2[i] = gs2[i] * sg.grad(v2[i] - self.pool_theta) + self.beta * gv2[i];
            }
            let v1 = &tr.v1[t * n1..(t + 1) * n1];
            for ch in 0..self.c {
                for y in 0..self.h {
                    for x in 0..self.w {
                        let i = ch * hw + y * self.w + x;
                        let (py, px) = (y / self.pool, x / self.pool);
                        let gs = if py < ph && px < pw {
                            gv2[(ch * ph + py) * pw + px]
                        } else {
                            0.0
                        };
                        gv1[i] = gs * sg.grad(v1[i] - self.theta) + self.beta * gv1[i];
                    }
                }
                g_conv_b[ch] += gv1[ch * hw..(ch + 1) * hw].iter().sum::<f32>();
            }
            for &j in &tr.inputs[t] {
                self.taps(j as usize, |o, wi| g_conv_w[wi] += gv1[o]);
            }
        }
    }

    /// Accuracy on `data` with this network's own float forward pass; inputs encoded with
    /// `encoding` (`Encoding::Lfsr` via `kernels::encode`, anything else with the trainer's
    /// Bernoulli generator seeded per image).
    pub fn accuracy(&self, data: &Dataset, steps: usize, encoding: &Encoding) -> Result<f64> {
        let correct: Result<usize> = (0..data.len())
            .into_par_iter()
            .map_init(Trace::default, |tr, i| {
                match encoding {
                    Encoding::Lfsr { .. } => {
                        let x = crate::eval::encode(encoding, data.image(i), steps, i)?;
                        tr.inputs.resize_with(steps, Vec::new);
                        for t in 0..steps {
                            tr.inputs[t].clear();
                            let row = &mut tr.inputs[t];
                            for_each_set_bit(x.row(t), |j| row.push(j as u32));
                        }
                    }
                    _ => {
                        let mut rng = Rng::stream(1, u64::MAX, i as u64);
                        rate_encode_indices(data.image(i), steps, &mut rng, &mut tr.inputs);
                    }
                }
                let c = self.forward(steps, tr);
                Ok(usize::from(
                    kernels::network::argmax(&c) == data.labels[i] as usize,
                ))
            })
            .sum();
        Ok(correct? as f64 / data.len().max(1) as f64)
    }

    /// Mean firing rate (spikes per neuron per step) of the conv, pool and output layers over
    /// the first `n` images of `data` (rate-encoded): a diagnostic for dead or saturated layers.
    pub fn rates(&self, data: &Dataset, steps: usize, n: usize) -> [f64; 3] {
        let mut tr = Trace::default();
        let mut sums = [0usize; 3];
        let n = n.min(data.len());
        for i in 0..n {
            let mut rng = Rng::stream(1, u64::MAX, i as u64);
            rate_encode_indices(data.image(i), steps, &mut rng, &mut tr.inputs);
            let c = self.forward(steps, &mut tr);
            sums[0] += tr.s1[..steps].iter().map(Vec::len).sum::<usize>();
            sums[1] += tr.s2[..steps].iter().map(Vec::len).sum::<usize>();
            sums[2] += c.iter().map(|&x| x as usize).sum::<usize>();
        }
        let d = (n * steps).max(1) as f64;
        [
            sums[0] as f64 / d / self.n1() as f64,
            sums[1] as f64 / d / self.n2() as f64,
            sums[2] as f64 / d / self.dense.outputs as f64,
        ]
    }

    /// The float [`Model`]: `conv1` (LIF), `pool1` (sum pool, LIF), `flatten`, `fc1` (LIF).
    pub fn to_model(&self, name: &str, timesteps: usize, encoding: Encoding) -> Model {
        let lif = |th| Some(Neuron::Lif(LifParams::snntorch(self.beta, th)));
        let input = Shape {
            channels: 1,
            height: self.h,
            width: self.w,
        };
        let conv_out = Shape {
            channels: self.c,
            height: self.h,
            width: self.w,
        };
        let pooled = Shape {
            channels: self.c,
            height: self.ph(),
            width: self.pw(),
        };
        Model {
            name: name.into(),
            input,
            timesteps,
            encoding,
            layers: vec![
                Layer {
                    name: "conv1".into(),
                    op: LayerOp::Conv2d {
                        input,
                        out_channels: self.c,
                        kernel: [self.k, self.k],
                        stride: 1,
                        padding: self.k / 2,
                    },
                    weights: self.conv_w.clone(),
                    bias: self.conv_b.clone(),
                    neuron: lif(self.theta),
                },
                Layer {
                    name: "pool1".into(),
                    op: LayerOp::SumPool2d {
                        input: conv_out,
                        kernel: self.pool,
                    },
                    weights: vec![],
                    bias: vec![],
                    neuron: lif(self.pool_theta),
                },
                Layer {
                    name: "flatten".into(),
                    op: LayerOp::Flatten { input: pooled },
                    weights: vec![],
                    bias: vec![],
                    neuron: None,
                },
                Layer {
                    name: "fc1".into(),
                    op: LayerOp::Dense {
                        inputs: self.dense.inputs,
                        outputs: self.dense.outputs,
                    },
                    weights: self.dense.to_output_major(),
                    bias: self.dense.b.clone(),
                    neuron: lif(self.theta),
                },
            ],
        }
    }
}

/// A trained convolutional SNN: the exported model, the network (for
/// [`ConvNet::accuracy`]) and the learning curve.
#[derive(Clone, Debug)]
pub struct ConvTrained {
    /// Model and history.
    pub trained: Trained,
    /// The network in training form.
    pub net: ConvNet,
}

/// Trains the convolutional SNN (deterministic for a seed, like [`crate::train_snn`]).
pub fn train_conv_snn(
    cfg: &ConvTrainConfig,
    data: &Dataset,
    validation: Option<&Dataset>,
    mut progress: impl FnMut(&Progress),
) -> Result<ConvTrained> {
    check_identifier(&cfg.name, "model name")?;
    check_dataset(data, cfg.classes, "training")?;
    if cfg.kernel.is_multiple_of(2) || cfg.kernel > data.rows.min(data.cols) || cfg.channels == 0 {
        return Err(Error::invalid(format!(
            "conv kernel {} must be odd and fit the image, channels {} must be > 0",
            cfg.kernel, cfg.channels
        )));
    }
    if cfg.pool == 0 || cfg.pool > data.rows.min(data.cols) {
        return Err(Error::invalid(format!(
            "pool window {} does not fit",
            cfg.pool
        )));
    }
    if cfg.timesteps == 0 || cfg.epochs == 0 || cfg.batch_size == 0 || cfg.lr <= 0.0 {
        return Err(Error::invalid(
            "timesteps, epochs, batch size and learning rate must be > 0",
        ));
    }
    let mut rng = Rng::stream(cfg.seed, 0, 2);
    let fan_in = (cfg.kernel * cfg.kernel) as f32;
    let bound = cfg.init_gain / fan_in.sqrt();
    let (h, w, c) = (data.rows, data.cols, cfg.channels);
    let n2 = c * (h / cfg.pool) * (w / cfg.pool);
    let mut net = ConvNet {
        h,
        w,
        c,
        k: cfg.kernel,
        pool: cfg.pool,
        conv_w: (0..c * cfg.kernel * cfg.kernel)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
            .collect(),
        conv_b: (0..c)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
            .collect(),
        dense: {
            let mut d = DenseParams::init(n2, cfg.classes, true, &mut rng);
            d.wt.iter_mut().for_each(|x| *x *= cfg.dense_gain);
            d
        },
        beta: cfg.beta,
        theta: cfg.threshold,
        pool_theta: cfg.pool_threshold,
    };
    // Adam over [conv (as a 1 x (C K K) dense block with C biases), dense].
    let as_params = |n: &ConvNet| {
        vec![
            DenseParams {
                inputs: n.conv_w.len(),
                outputs: 1,
                wt: n.conv_w.clone(),
                b: n.conv_b.clone(),
            },
            n.dense.clone(),
        ]
    };
    if cfg.epochs > 0 && std::env::var_os("TRAIN_CONV_RATES").is_some() {
        eprintln!("initial rates {:?}", net.rates(data, cfg.timesteps, 20));
    }
    let mut params = as_params(&net);
    let mut adam = Adam::new(&params);
    let steps = cfg.timesteps;
    let batches = data.len().div_ceil(cfg.batch_size);
    let total = batches * cfg.epochs;
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut history = Vec::new();
    for epoch in 0..cfg.epochs {
        let start = Instant::now();
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (bi, batch) in order.chunks(cfg.batch_size).enumerate() {
            let parts: Vec<(Vec<DenseParams>, f64, usize)> = chunks(batch.len(), 16)
                .into_par_iter()
                .map(|r| {
                    let mut g: Vec<DenseParams> =
                        params.iter().map(DenseParams::zeros_like).collect();
                    let mut tr = Trace::default();
                    let (mut ls, mut ok) = (0.0f64, 0usize);
                    for &i in &batch[r] {
                        let mut srng = Rng::stream(cfg.seed, epoch as u64 + 1, i as u64 ^ 2 << 40);
                        let m = cfg.max_shift as isize;
                        let dy = srng.below(2 * cfg.max_shift + 1) as isize - m;
                        let dx = srng.below(2 * cfg.max_shift + 1) as isize - m;
                        let mut img = std::mem::take(&mut tr.image);
                        img.resize(h * w, 0);
                        shift_image(data.image(i), h, w, dy, dx, &mut img);
                        rate_encode_indices(&img, steps, &mut srng, &mut tr.inputs);
                        tr.image = img;
                        let counts = net.forward(steps, &mut tr);
                        let label = data.labels[i] as usize;
                        ok += usize::from(kernels::network::argmax(&counts) == label);
                        let (l, dc) = loss_grad(cfg.loss, &counts, label, steps);
                        ls += l as f64;
                        let (gc, gd) = g.split_at_mut(1);
                        net.backward(
                            steps,
                            cfg.surrogate,
                            &tr,
                            &dc,
                            &mut gc[0].wt,
                            &mut gc[0].b,
                            &mut gd[0],
                        );
                    }
                    (g, ls, ok)
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
            for g in &mut grads {
                g.wt.iter_mut()
                    .chain(g.b.iter_mut())
                    .for_each(|x| *x *= inv);
            }
            seen += batch.len();
            let lr = cosine_lr(cfg.lr, epoch * batches + bi, total, 0.02);
            adam.step(&mut params, &grads, lr, true);
            net.conv_w.copy_from_slice(&params[0].wt);
            net.conv_b.copy_from_slice(&params[0].b);
            net.dense = params[1].clone();
            progress(&Progress {
                epoch,
                epochs: cfg.epochs,
                batch: bi + 1,
                batches,
                loss: (loss_sum / seen as f64) as f32,
                train_accuracy: correct as f32 / seen as f32,
            });
        }
        let validation_accuracy = match validation {
            Some(v) => Some(net.accuracy(v, steps, &Encoding::Rate { seed: 1 })? as f32),
            None => None,
        };
        history.push(EpochStats {
            epoch,
            loss: (loss_sum / data.len() as f64) as f32,
            train_accuracy: correct as f32 / data.len() as f32,
            validation_accuracy,
            seconds: start.elapsed().as_secs_f32(),
        });
        params = as_params(&net);
        if std::env::var_os("TRAIN_CONV_RATES").is_some() {
            eprintln!("epoch {epoch} rates {:?}", net.rates(data, steps, 20));
        }
    }
    let model = net.to_model(
        &cfg.name,
        steps,
        Encoding::Rate {
            seed: cfg.encoding_seed,
        },
    );
    model.validate()?;
    Ok(ConvTrained {
        trained: Trained { model, history },
        net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With thresholds so high that nothing spikes and a rectangular surrogate wider than every
    /// `|v - theta|`, every surrogate derivative is the constant `c = 1 / width`, and the
    /// backward pass must equal the exact gradient of the linearised network
    /// `J = sum_t sum_k d_k * c * v3_k[t]` where each layer feeds `c * v` forward instead of
    /// spikes. That network is computed here independently (dense loops, no taps helper) and
    /// differentiated by finite differences.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn backward_matches_linearised_finite_differences() {
        let (h, w, c, k, pool, classes) = (6usize, 6usize, 2usize, 3usize, 2usize, 3usize);
        let mut rng = Rng::new(5);
        let mut net = ConvNet {
            h,
            w,
            c,
            k,
            pool,
            conv_w: (0..c * k * k).map(|_| rng.uniform() - 0.5).collect(),
            conv_b: vec![0.1, -0.2],
            dense: DenseParams::init(c * 9, classes, true, &mut rng),
            beta: 0.5,
            theta: 1e3,
            pool_theta: 1e3,
        };
        let steps = 3;
        let inputs: Vec<Vec<u32>> = vec![vec![0, 7, 14, 35], vec![8, 9], vec![20, 21, 27]];
        let d = [0.3f32, -0.7, 0.4];
        let width = 1e5f32;
        let cc = 1.0 / width;
        let linear = |net: &ConvNet| -> f64 {
            let hw = h * w;
            let (mut v1, mut v2, mut v3) = (
                vec![0.0f64; c * hw],
                vec![0.0f64; c * 9],
                vec![0.0f64; classes],
            );
            let mut j = 0.0f64;
            for inp in inputs.iter().take(steps) {
                let x: Vec<f64> = (0..hw)
                    .map(|i| f64::from(u8::from(inp.contains(&(i as u32)))))
                    .collect();
                for ch in 0..c {
                    for oy in 0..h as isize {
                        for ox in 0..w as isize {
                            let mut s = net.conv_b[ch] as f64;
                            for ky in 0..k as isize {
                                for kx in 0..k as isize {
                                    let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                                    if iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize {
                                        s += net.conv_w[ch * 9 + (ky * 3 + kx) as usize] as f64
                                            * x[(iy * w as isize + ix) as usize];
                                    }
                                }
                            }
                            let i = ch * hw + (oy as usize) * w + ox as usize;
                            v1[i] = 0.5 * v1[i] + s;
                        }
                    }
                }
                for ch in 0..c {
                    for py in 0..3 {
                        for px in 0..3 {
                            let mut s = 0.0;
                            for dy in 0..2 {
                                for dx in 0..2 {
                                    s += cc as f64 * v1[ch * hw + (2 * py + dy) * w + 2 * px + dx];
                                }
                            }
                            let i = (ch * 3 + py) * 3 + px;
                            v2[i] = 0.5 * v2[i] + s;
                        }
                    }
                }
                let wo = net.dense.to_output_major();
                for kk in 0..classes {
                    let mut s = net.dense.b[kk] as f64;
                    for (i, v) in v2.iter().enumerate() {
                        s += wo[kk * c * 9 + i] as f64 * cc as f64 * v;
                    }
                    v3[kk] = 0.5 * v3[kk] + s;
                    j += d[kk] as f64 * cc as f64 * v3[kk];
                }
            }
            j
        };
        let mut tr = Trace {
            inputs: inputs.clone(),
            ..Default::default()
        };
        let counts = net.forward(steps, &mut tr);
        assert_eq!(counts, vec![0; classes]);
        assert!(tr.s1.iter().chain(&tr.s2).all(Vec::is_empty));
        let mut gw = vec![0.0f32; c * k * k];
        let mut gb = vec![0.0f32; c];
        let mut gd = net.dense.zeros_like();
        net.backward(
            steps,
            Surrogate::Rectangular { width },
            &tr,
            &d,
            &mut gw,
            &mut gb,
            &mut gd,
        );
        let eps = 1e-2f32;
        for i in 0..gw.len() {
            let orig = net.conv_w[i];
            net.conv_w[i] = orig + eps;
            let up = linear(&net);
            net.conv_w[i] = orig - eps;
            let down = linear(&net);
            net.conv_w[i] = orig;
            let fd = (up - down) / (2.0 * eps as f64);
            let rel = (fd - gw[i] as f64).abs() / fd.abs().max(1e-14);
            assert!(rel < 1e-3, "conv w {i}: fd {fd:e} vs backward {:e}", gw[i]);
        }
        for ch in 0..c {
            let orig = net.conv_b[ch];
            net.conv_b[ch] = orig + eps;
            let up = linear(&net);
            net.conv_b[ch] = orig - eps;
            let down = linear(&net);
            net.conv_b[ch] = orig;
            let fd = (up - down) / (2.0 * eps as f64);
            let rel = (fd - gb[ch] as f64).abs() / fd.abs().max(1e-14);
            assert!(
                rel < 1e-3,
                "conv b {ch}: fd {fd:e} vs backward {:e}",
                gb[ch]
            );
        }
        // Readout bias: dJ/db_k = d_k * c * sum_t sum_{u<=t} 0.5^(t-u) = d_k * c * (1 + 1.5 + 1.75).
        for kk in 0..classes {
            let e = d[kk] * cc * 4.25;
            assert!(
                (gd.b[kk] - e).abs() <= 1e-6 * e.abs(),
                "{} vs {e}",
                gd.b[kk]
            );
        }
    }
}
