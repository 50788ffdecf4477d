//! A small convolutional ReLU network without biases and with average pooling, trained with
//! Adam on cross-entropy: the source network of convolutional ANN-to-SNN conversion
//! ([`crate::convert::cnn_to_snn`]).
//!
//! Layers are described with `kernels::model::LayerOp` geometry (conv with stride 1 and zero
//! padding, non-overlapping average pooling, dense); a dense layer after a map reads it
//! channel-major (PyTorch's `flatten`). ReLU follows every conv and every dense layer but the
//! last; pooling averages non-negative values, so it needs none. Biases are left out on
//! purpose, as in the MLP ([`crate::ann`]).
//!
//! Parameters live in [`DenseParams`] so that [`crate::optim::Adam`] updates them: a conv
//! layer is the dense map from one input patch (`in_channels x k x k`, index
//! `(c * k + ky) * k + kx`) to the output channels, input-major like every `DenseParams`, so
//! `DenseParams::to_output_major` gives PyTorch's `[out][in][kh][kw]` layout. Pooling layers
//! hold empty parameters.
//!
//! The forward and backward passes are direct loops over shifted image rows (the inner loop
//! runs along a row, which the compiler vectorises); one sample of the default network costs
//! about 0.8 M multiply-adds forward.

use rayon::prelude::*;

use kernels::data::Dataset;
use kernels::model::{LayerOp, Shape};
use kernels::{Error, Result};

use crate::ann::{FitConfig, ReluNet, argmax_f32, fit_relu, softmax_cross_entropy, to_input};
use crate::data::check_dataset;
use crate::optim::DenseParams;
use crate::rng::Rng;
use crate::snn::{EpochStats, Progress};

/// One hidden layer of the recipe; the output dense layer (`classes` neurons) is appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CnnLayerSpec {
    /// `kernel x kernel` convolution with `channels` outputs, stride 1, zero padding.
    Conv {
        /// Output channels.
        channels: usize,
        /// Kernel size.
        kernel: usize,
        /// Zero padding on every side.
        padding: usize,
    },
    /// Average pooling over non-overlapping `kernel x kernel` windows.
    AvgPool {
        /// Window size.
        kernel: usize,
    },
    /// Fully connected hidden layer.
    Dense {
        /// Neurons.
        outputs: usize,
    },
}

/// Training recipe of the convolutional ANN.
#[derive(Clone, Debug, PartialEq)]
pub struct CnnConfig {
    /// Hidden layers in order (the output dense layer is appended).
    pub layers: Vec<CnnLayerSpec>,
    /// Output neurons (classes).
    pub classes: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per Adam step.
    pub batch_size: usize,
    /// Peak learning rate (cosine schedule to 0).
    pub lr: f32,
    /// Random shift augmentation in pixels.
    pub max_shift: usize,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
}

impl CnnConfig {
    /// The default architecture: conv 5x5x8 (pad 2) - avg pool 2 - conv 5x5x16 (pad 2) - avg
    /// pool 2 - dense `classes`.
    pub fn default_layers() -> Vec<CnnLayerSpec> {
        vec![
            CnnLayerSpec::Conv {
                channels: 8,
                kernel: 5,
                padding: 2,
            },
            CnnLayerSpec::AvgPool { kernel: 2 },
            CnnLayerSpec::Conv {
                channels: 16,
                kernel: 5,
                padding: 2,
            },
            CnnLayerSpec::AvgPool { kernel: 2 },
        ]
    }
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            layers: CnnConfig::default_layers(),
            classes: 10,
            epochs: 15,
            batch_size: 64,
            lr: 2e-3,
            max_shift: 2,
            seed: 1,
        }
    }
}

/// A trained convolutional ReLU network: inputs `pixel / 255`, one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Cnn {
    /// Input image shape.
    pub input: Shape,
    /// Layer geometry in order (`Conv2d` with stride 1, `AvgPool2d`, `Dense`; no `Flatten`).
    pub ops: Vec<LayerOp>,
    /// Parameters per layer (empty for pooling), biases all zero.
    pub params: Vec<DenseParams>,
}

/// A trained CNN and its learning curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CnnTrained {
    /// The network.
    pub cnn: Cnn,
    /// One entry per epoch.
    pub history: Vec<EpochStats>,
}

/// Valid output range `lo..hi` of one axis for kernel tap `t`: outputs `y` with
/// `0 <= y + t - pad < n_in`.
#[inline]
fn tap_range(t: usize, pad: usize, n_in: usize, n_out: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(t);
    let hi = (n_in + pad).saturating_sub(t).min(n_out);
    (lo, hi.max(lo))
}

struct ConvGeo {
    c_in: usize,
    ih: usize,
    iw: usize,
    oc: usize,
    k: usize,
    pad: usize,
    oh: usize,
    ow: usize,
}

impl ConvGeo {
    fn of(op: &LayerOp) -> Option<ConvGeo> {
        match *op {
            LayerOp::Conv2d {
                input,
                out_channels,
                kernel,
                padding,
                ..
            } => {
                let out = op.output_shape().ok()?;
                Some(ConvGeo {
                    c_in: input.channels,
                    ih: input.height,
                    iw: input.width,
                    oc: out_channels,
                    k: kernel[0],
                    pad: padding,
                    oh: out.height,
                    ow: out.width,
                })
            }
            _ => None,
        }
    }

    /// Calls `f(o, c, tap_index, in_offset, out_offset, len)` for every output channel `o`,
    /// input channel `c`, kernel tap and output row: `len` outputs from `out_offset` read the
    /// inputs from `in_offset` (both flat indices).
    #[inline]
    fn for_rows(&self, mut f: impl FnMut(usize, usize, usize, usize, usize, usize)) {
        for o in 0..self.oc {
            for c in 0..self.c_in {
                for ky in 0..self.k {
                    let (y0, y1) = tap_range(ky, self.pad, self.ih, self.oh);
                    for kx in 0..self.k {
                        let (x0, x1) = tap_range(kx, self.pad, self.iw, self.ow);
                        if x1 <= x0 {
                            continue;
                        }
                        let tap = (c * self.k + ky) * self.k + kx;
                        for y in y0..y1 {
                            let iy = y + ky - self.pad;
                            let ix = x0 + kx - self.pad;
                            f(
                                o,
                                c,
                                tap,
                                (c * self.ih + iy) * self.iw + ix,
                                (o * self.oh + y) * self.ow + x0,
                                x1 - x0,
                            );
                        }
                    }
                }
            }
        }
    }
}

fn pool_geo(op: &LayerOp) -> (usize, usize, usize, usize) {
    match *op {
        LayerOp::AvgPool2d { input, kernel } => (input.channels, input.height, input.width, kernel),
        _ => unreachable!("pool layer"),
    }
}

impl Cnn {
    /// Builds the network of `cfg` for `input`, initialised like PyTorch (uniform in
    /// `+-1/sqrt(fan_in)`).
    pub fn init(cfg: &CnnConfig, input: Shape, rng: &mut Rng) -> Result<Cnn> {
        let mut shape = input;
        let mut ops = Vec::new();
        let mut params = Vec::new();
        let specs = cfg.layers.iter().copied().chain([CnnLayerSpec::Dense {
            outputs: cfg.classes,
        }]);
        for spec in specs {
            let op = match spec {
                CnnLayerSpec::Conv {
                    channels,
                    kernel,
                    padding,
                } => LayerOp::Conv2d {
                    input: shape,
                    out_channels: channels,
                    kernel: [kernel, kernel],
                    stride: 1,
                    padding,
                },
                CnnLayerSpec::AvgPool { kernel } => LayerOp::AvgPool2d {
                    input: shape,
                    kernel,
                },
                CnnLayerSpec::Dense { outputs } => LayerOp::Dense {
                    inputs: shape.len(),
                    outputs,
                },
            };
            let out = op.output_shape()?;
            if matches!(op, LayerOp::Conv2d { .. }) && (out.height == 0 || out.width == 0) {
                return Err(Error::shape("a conv layer has an empty output"));
            }
            params.push(match op {
                LayerOp::Conv2d {
                    input,
                    out_channels,
                    kernel,
                    ..
                } => DenseParams::init(
                    input.channels * kernel[0] * kernel[1],
                    out_channels,
                    false,
                    rng,
                ),
                LayerOp::Dense { inputs, outputs } => {
                    DenseParams::init(inputs, outputs, false, rng)
                }
                _ => DenseParams {
                    inputs: 0,
                    outputs: 0,
                    wt: Vec::new(),
                    b: Vec::new(),
                },
            });
            ops.push(op);
            shape = out;
        }
        Ok(Cnn { input, ops, params })
    }

    /// Activations of every layer for `x` (ReLU after conv and hidden dense layers; the last
    /// entry holds the logits).
    pub fn activations(&self, x: &[f32]) -> Vec<Vec<f32>> {
        let mut acts: Vec<Vec<f32>> = Vec::with_capacity(self.ops.len());
        let last = self.ops.len() - 1;
        for (l, op) in self.ops.iter().enumerate() {
            let input: &[f32] = if l == 0 { x } else { &acts[l - 1] };
            let p = &self.params[l];
            let mut out = match op {
                LayerOp::Conv2d { .. } => {
                    let g = ConvGeo::of(op).expect("conv");
                    let mut out = vec![0.0f32; g.oc * g.oh * g.ow];
                    g.for_rows(|o, _c, tap, i0, o0, n| {
                        let w = p.wt[tap * g.oc + o];
                        for (a, b) in out[o0..o0 + n].iter_mut().zip(&input[i0..i0 + n]) {
                            *a += w * b;
                        }
                    });
                    out
                }
                LayerOp::AvgPool2d { .. } => {
                    let (c, h, w, k) = pool_geo(op);
                    let (oh, ow) = (h / k, w / k);
                    let inv = 1.0 / (k * k) as f32;
                    let mut out = vec![0.0f32; c * oh * ow];
                    for ch in 0..c {
                        for y in 0..oh * k {
                            for x in 0..ow * k {
                                out[(ch * oh + y / k) * ow + x / k] += input[(ch * h + y) * w + x];
                            }
                        }
                    }
                    out.iter_mut().for_each(|v| *v *= inv);
                    out
                }
                LayerOp::Dense { outputs, .. } => {
                    let mut out = vec![0.0f32; *outputs];
                    for (j, &xj) in input.iter().enumerate() {
                        if xj != 0.0 {
                            for (o, w) in out.iter_mut().zip(p.row(j)) {
                                *o += xj * w;
                            }
                        }
                    }
                    out
                }
                _ => unreachable!("Cnn holds conv, avg pool and dense layers"),
            };
            if l < last && op.has_weights() {
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
                let z = self
                    .activations(&to_input(data.image(i)))
                    .pop()
                    .unwrap_or_default();
                usize::from(argmax_f32(&z) == data.labels[i] as usize)
            })
            .sum();
        correct as f32 / data.len().max(1) as f32
    }

    /// Multiply-accumulates of one forward pass (conv and dense layers).
    pub fn macs(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                LayerOp::Conv2d { .. } => {
                    let g = ConvGeo::of(op).expect("conv");
                    let mut n = 0;
                    g.for_rows(|_, _, _, _, _, len| n += len);
                    n
                }
                LayerOp::Dense { inputs, outputs } => inputs * outputs,
                _ => 0,
            })
            .sum()
    }
}

/// Adds the gradient of the cross-entropy of sample `x` with `label` into `grads`; returns the
/// loss and whether the prediction was right.
fn backprop(cnn: &Cnn, x: &[f32], label: usize, grads: &mut [DenseParams]) -> (f32, bool) {
    let acts = cnn.activations(x);
    let z = acts.last().expect("at least one layer");
    // delta = dLoss / d(pre-activation output) of layer l.
    let (loss, ok, mut delta) = softmax_cross_entropy(z, label);
    for l in (0..cnn.ops.len()).rev() {
        let op = &cnn.ops[l];
        let p = &cnn.params[l];
        let input: &[f32] = if l == 0 { x } else { &acts[l - 1] };
        let need_input_grad = l > 0;
        let mut d_in = if need_input_grad {
            vec![0.0f32; input.len()]
        } else {
            Vec::new()
        };
        match op {
            LayerOp::Dense { outputs, .. } => {
                let g = &mut grads[l];
                for (j, &xj) in input.iter().enumerate() {
                    if xj != 0.0 {
                        for (w, d) in g.wt[j * outputs..(j + 1) * outputs].iter_mut().zip(&delta) {
                            *w += xj * d;
                        }
                    }
                }
                if need_input_grad {
                    for (j, di) in d_in.iter_mut().enumerate() {
                        *di = p.row(j).iter().zip(&delta).map(|(w, d)| w * d).sum();
                    }
                }
            }
            LayerOp::Conv2d { .. } => {
                let geo = ConvGeo::of(op).expect("conv");
                let g = &mut grads[l];
                geo.for_rows(|o, _c, tap, i0, o0, n| {
                    let dout = &delta[o0..o0 + n];
                    let xin = &input[i0..i0 + n];
                    let dot: f32 = dout.iter().zip(xin).map(|(a, b)| a * b).sum();
                    g.wt[tap * geo.oc + o] += dot;
                    if need_input_grad {
                        let w = p.wt[tap * geo.oc + o];
                        for (a, b) in d_in[i0..i0 + n].iter_mut().zip(dout) {
                            *a += w * b;
                        }
                    }
                });
            }
            LayerOp::AvgPool2d { .. } => {
                let (c, h, w, k) = pool_geo(op);
                let (oh, ow) = (h / k, w / k);
                let inv = 1.0 / (k * k) as f32;
                for ch in 0..c {
                    for y in 0..oh * k {
                        for xx in 0..ow * k {
                            d_in[(ch * h + y) * w + xx] =
                                delta[(ch * oh + y / k) * ow + xx / k] * inv;
                        }
                    }
                }
            }
            _ => unreachable!("Cnn holds conv, avg pool and dense layers"),
        }
        if need_input_grad {
            // Through the ReLU of the layer below (pool outputs are averages of ReLU outputs,
            // so their gradient passes unchanged and the ReLU mask applies one layer further
            // down, where the activation is exactly zero).
            if cnn.ops[l - 1].has_weights() {
                for (d, &a) in d_in.iter_mut().zip(input) {
                    if a <= 0.0 {
                        *d = 0.0;
                    }
                }
            }
            delta = d_in;
        }
    }
    (loss, ok)
}

/// Trains the CNN. Deterministic for a given seed (fixed-size gradient chunks summed in order),
/// whatever the number of threads.
pub fn train_cnn(
    cfg: &CnnConfig,
    data: &Dataset,
    validation: Option<&Dataset>,
    mut progress: impl FnMut(&Progress),
) -> Result<CnnTrained> {
    check_dataset(data, cfg.classes, "training")?;
    let fit = FitConfig {
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        lr: cfg.lr,
        seed: cfg.seed,
        max_shift: cfg.max_shift,
        stream: 1 << 41,
    };
    fit.validate("CNN")?;
    if cfg.classes == 0 {
        return Err(Error::invalid("CNN training needs at least one class"));
    }
    let mut rng = Rng::stream(cfg.seed, 0, 1);
    let input = Shape {
        channels: 1,
        height: data.rows,
        width: data.cols,
    };
    let mut cnn = Cnn::init(cfg, input, &mut rng)?;
    let history = fit_relu(&mut cnn, &fit, &mut rng, data, validation, &mut progress);
    Ok(CnnTrained { cnn, history })
}

impl ReluNet for Cnn {
    fn params(&self) -> &[DenseParams] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [DenseParams] {
        &mut self.params
    }
    fn backprop(&self, x: &[f32], label: usize, grads: &mut [DenseParams]) -> (f32, bool) {
        backprop(self, x, label, grads)
    }
    fn accuracy(&self, data: &Dataset) -> f32 {
        Cnn::accuracy(self, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Cnn {
        let cfg = CnnConfig {
            layers: vec![
                CnnLayerSpec::Conv {
                    channels: 2,
                    kernel: 3,
                    padding: 1,
                },
                CnnLayerSpec::AvgPool { kernel: 2 },
                CnnLayerSpec::Conv {
                    channels: 3,
                    kernel: 3,
                    padding: 0,
                },
            ],
            classes: 3,
            ..CnnConfig::default()
        };
        let mut rng = Rng::new(7);
        let mut cnn = Cnn::init(
            &cfg,
            Shape {
                channels: 1,
                height: 6,
                width: 6,
            },
            &mut rng,
        )
        .unwrap();
        // Larger weights so that activations are well away from zero for most units.
        for p in &mut cnn.params {
            p.wt.iter_mut().for_each(|w| *w *= 2.0);
        }
        cnn
    }

    #[test]
    fn conv_forward_matches_naive_loops() {
        let cnn = tiny();
        let x: Vec<f32> = (0..36).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
        let acts = cnn.activations(&x);
        // Naive conv 1: 6x6 -> 2x6x6, 3x3, pad 1, weights from the PyTorch layout.
        let w = cnn.params[0].to_output_major();
        for o in 0..2 {
            for y in 0..6i32 {
                for xx in 0..6i32 {
                    let mut s = 0.0f32;
                    for ky in 0..3i32 {
                        for kx in 0..3i32 {
                            let (iy, ix) = (y + ky - 1, xx + kx - 1);
                            if (0..6).contains(&iy) && (0..6).contains(&ix) {
                                s += w[o * 9 + (ky * 3 + kx) as usize] * x[(iy * 6 + ix) as usize];
                            }
                        }
                    }
                    let got = acts[0][o * 36 + (y * 6 + xx) as usize];
                    assert!((got - s.max(0.0)).abs() < 1e-5, "{got} vs {s}");
                }
            }
        }
        // Pool: 2x3x3 averages.
        for c in 0..2 {
            for y in 0..3 {
                for xx in 0..3 {
                    let s: f32 = (0..4)
                        .map(|q| acts[0][c * 36 + (2 * y + q / 2) * 6 + 2 * xx + q % 2])
                        .sum();
                    assert!((acts[1][c * 9 + y * 3 + xx] - s / 4.0).abs() < 1e-6);
                }
            }
        }
        assert_eq!(acts[2].len(), 3); // 3 channels of 1x1
        assert_eq!(acts[3].len(), 3); // logits
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let cnn = tiny();
        let x: Vec<f32> = (0..36).map(|i| ((i * 5) % 13) as f32 / 12.0).collect();
        let label = 2;
        let mut grads: Vec<DenseParams> = cnn.params.iter().map(DenseParams::zeros_like).collect();
        backprop(&cnn, &x, label, &mut grads);
        let loss = |c: &Cnn| {
            let z = c.activations(&x).pop().unwrap();
            let m = z.iter().cloned().fold(f32::MIN, f32::max);
            let s: f32 = z.iter().map(|v| (v - m).exp()).sum();
            -((z[label] - m).exp() / s).ln()
        };
        let mut checked = 0;
        for (l, gl) in grads.iter().enumerate() {
            for k in 0..gl.wt.len() {
                let mut c = cnn.clone();
                let h = 1e-2;
                c.params[l].wt[k] += h;
                let up = loss(&c);
                c.params[l].wt[k] -= 2.0 * h;
                let down = loss(&c);
                let fd = (up - down) / (2.0 * h);
                // A step across a ReLU kink makes the difference quotient meaningless; such
                // weights are rare with these inputs, and the bound is loose enough for f32.
                assert!(
                    (fd - gl.wt[k]).abs() < 2e-2 * (1.0 + fd.abs()),
                    "layer {l} w {k}: {fd} vs {}",
                    gl.wt[k]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 18 + 54 + 9);
    }

    #[test]
    fn macs_of_the_default_network() {
        let mut rng = Rng::new(1);
        let cnn = Cnn::init(
            &CnnConfig::default(),
            Shape {
                channels: 1,
                height: 28,
                width: 28,
            },
            &mut rng,
        )
        .unwrap();
        // conv1 with zero padding: per output channel the taps that hit the image,
        // sum over taps of (valid rows x valid cols).
        let valid = |n: i32, k: i32, pad: i32| -> i32 {
            (0..k)
                .map(|t| (0..n).filter(|y| (0..n).contains(&(y + t - pad))).count() as i32)
                .sum()
        };
        let c1 = 8 * valid(28, 5, 2).pow(2);
        let c2 = 16 * 8 * valid(14, 5, 2).pow(2);
        let fc = 16 * 7 * 7 * 10;
        assert_eq!(cnn.macs(), (c1 + c2 + fc) as usize);
    }
}
