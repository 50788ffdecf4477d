//! A dense `f32` implementation of the same network, the yardstick `snn bench` measures the
//! spiking fast path against.
//!
//! What it does, honestly: at every timestep, every layer computes its full input current
//! `I = b + W x` as a dense matrix-vector product over the previous layer's (0/1) outputs,
//! ignoring sparsity, then applies the same neuron update as the float runtime. Convolutions
//! are computed directly (every output position sums its whole window, zero padding skipped),
//! pooling sums (or averages) every window; flatten is the identity on channel-major data. Weights are
//! row-major (`[outputs][inputs]`, PyTorch's layout), the dot product runs with eight
//! independent accumulators so the compiler vectorises it, and on x86-64 an AVX2 + FMA build
//! of the same code is selected at run time (`is_x86_feature_detected!`), so the baseline is
//! not handicapped by a default (SSE2) build. Like the fast path it works on one image at a
//! time (batch 1) and runs images in parallel across all cores; the encoding is the model's
//! own and is part of the timed work on both sides.
//!
//! Integer models run here with their integer weights, biases and thresholds as `f32` and the
//! leak as a multiplication by the `beta` it approximates, without saturation: the same
//! network, not a bit-exact twin. `snn bench` reports how often its classes agree with the
//! fast path.

use kernels::encode::Encoded;
use kernels::model::{IntModel, LayerOp, Model, Shape};
use kernels::neuron::{FiringRule, Neuron, ResetMode};
use kernels::{Error, Result};

#[derive(Clone, Copy, Debug)]
struct Lif {
    beta: f32,
    threshold: f32,
    reset: ResetMode,
    rule: FiringRule,
    /// Synaptic current decay for current-based LIF.
    alpha: Option<f32>,
}

#[derive(Clone, Debug)]
enum Op {
    /// Row-major `[outputs][inputs]` weights.
    Dense { w: Vec<f32> },
    /// Direct convolution, weights `[out_ch][in_ch][kh][kw]`.
    Conv {
        input: Shape,
        output: Shape,
        w: Vec<f32>,
        kernel: [usize; 2],
        stride: usize,
        padding: usize,
    },
    /// Non-overlapping windows; `avg` divides the window sum by `k * k`.
    Pool {
        input: Shape,
        output: Shape,
        kernel: usize,
        avg: bool,
    },
}

#[derive(Clone, Debug)]
struct DenseLayer {
    inputs: usize,
    outputs: usize,
    op: Op,
    /// One bias per output neuron (conv biases repeated over the plane).
    b: Vec<f32>,
    neuron: Lif,
}

/// The dense `f32` network.
#[derive(Clone, Debug)]
pub struct DenseBaseline {
    inputs: usize,
    timesteps: usize,
    layers: Vec<DenseLayer>,
}

fn unsupported(name: &str, op: &LayerOp) -> Error {
    Error::invalid(format!(
        "layer {name:?}: the dense baseline does not support {op:?}"
    ))
}

/// One layer of either model kind, as the builder needs it.
struct Spec<'a> {
    name: &'a str,
    op: LayerOp,
    weights: Vec<f32>,
    bias: Vec<f32>,
    neuron: Option<Lif>,
}

fn build(
    input: Shape,
    timesteps: usize,
    shapes: &[Shape],
    specs: Vec<Spec>,
) -> Result<DenseBaseline> {
    let mut layers = Vec::new();
    for (i, l) in specs.into_iter().enumerate() {
        let (inp, out) = (shapes[i], shapes[i + 1]);
        let op = match l.op {
            LayerOp::Flatten { .. } if l.neuron.is_none() => continue,
            LayerOp::Dense { .. } => Op::Dense { w: l.weights },
            LayerOp::Conv2d {
                kernel,
                stride,
                padding,
                ..
            } => Op::Conv {
                input: inp,
                output: out,
                w: l.weights,
                kernel,
                stride,
                padding,
            },
            LayerOp::SumPool2d { kernel, .. } => Op::Pool {
                input: inp,
                output: out,
                kernel,
                avg: false,
            },
            LayerOp::AvgPool2d { kernel, .. } => Op::Pool {
                input: inp,
                output: out,
                kernel,
                avg: true,
            },
            op => return Err(unsupported(l.name, &op)),
        };
        let Some(neuron) = l.neuron else {
            return Err(Error::invalid(format!(
                "layer {:?}: the dense baseline needs spiking neurons after every layer but \
                 flatten",
                l.name
            )));
        };
        let n = out.len();
        let b = if l.bias.is_empty() {
            vec![0.0; n]
        } else if l.bias.len() == n {
            l.bias
        } else {
            // Conv: one bias per output channel, repeated over the plane.
            let plane = n / l.bias.len();
            l.bias
                .iter()
                .flat_map(|&b| std::iter::repeat_n(b, plane))
                .collect()
        };
        layers.push(DenseLayer {
            inputs: inp.len(),
            outputs: n,
            op,
            b,
            neuron,
        });
    }
    if layers.is_empty() {
        return Err(Error::invalid("the model has no layer with neurons"));
    }
    Ok(DenseBaseline {
        inputs: input.len(),
        timesteps,
        layers,
    })
}

impl DenseBaseline {
    /// Builds the baseline of a float model.
    pub fn from_model(m: &Model) -> Result<Self> {
        let shapes = m.validate()?;
        if let Some(l) = m
            .layers
            .iter()
            .find(|l| l.neuron.as_ref().is_some_and(|n| n.lif().is_none()))
        {
            return Err(Error::invalid(format!(
                "layer {:?}: the dense baseline supports spiking neurons with one decay and \
                 threshold per layer (no readouts, no per-neuron parameters)",
                l.name
            )));
        }
        let specs = m
            .layers
            .iter()
            .map(|l| Spec {
                name: &l.name,
                op: l.op,
                weights: l.weights.clone(),
                bias: l.bias.clone(),
                neuron: l.neuron.as_ref().and_then(|n| {
                    let p = *n.lif()?;
                    Some(Lif {
                        beta: p.beta,
                        threshold: p.threshold,
                        reset: p.reset,
                        rule: p.rule,
                        alpha: match n {
                            Neuron::Synaptic { alpha, .. } => Some(*alpha),
                            _ => None,
                        },
                    })
                }),
            })
            .collect();
        build(m.input, m.timesteps, &shapes, specs)
    }

    /// Builds the baseline of an integer model (integer values as `f32`, see the module docs).
    pub fn from_int_model(m: &IntModel) -> Result<Self> {
        let shapes = m.validate()?;
        let specs = m
            .layers
            .iter()
            .map(|l| Spec {
                name: &l.name,
                op: l.op,
                weights: l.weights.iter().map(|&w| w as f32).collect(),
                bias: l.bias.iter().map(|&b| b as f32).collect(),
                neuron: l.neuron.map(|n| Lif {
                    beta: n.leak.beta() as f32,
                    threshold: n.threshold as f32,
                    reset: n.reset,
                    rule: n.rule,
                    alpha: n.syn_leak.map(|s| s.beta() as f32),
                }),
            })
            .collect();
        build(m.input, m.timesteps, &shapes, specs)
    }

    /// Runs one encoded image and returns the output spike counts.
    pub fn run(&self, x: &Encoded) -> Result<Vec<u32>> {
        let (steps, analog) = match x {
            Encoded::Spikes(t) => {
                if t.neurons() != self.inputs {
                    return Err(Error::shape(format!(
                        "input has {} neurons, the network expects {}",
                        t.neurons(),
                        self.inputs
                    )));
                }
                (t.steps(), None)
            }
            Encoded::Analog(a) => {
                if a.len() != self.inputs {
                    return Err(Error::shape(format!(
                        "input has {} values, the network expects {}",
                        a.len(),
                        self.inputs
                    )));
                }
                (self.timesteps, Some(a.as_slice()))
            }
        };
        let mut v: Vec<Vec<f32>> = self.layers.iter().map(|l| vec![0.0; l.outputs]).collect();
        let mut syn = v.clone();
        // Outputs of every layer as dense 0/1 floats, and the previous step's spikes.
        let mut s: Vec<Vec<f32>> = v.clone();
        let mut input = vec![0.0f32; self.inputs];
        let mut cur = Vec::new();
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].outputs];
        for t in 0..steps {
            match (x, analog) {
                (_, Some(a)) => input.copy_from_slice(a),
                (Encoded::Spikes(tr), None) => {
                    // Unpack the step's spike bits into dense 0/1 values.
                    let row = tr.row(t);
                    for (j, xj) in input.iter_mut().enumerate() {
                        *xj = (row[j / 64] >> (j % 64) & 1) as f32;
                    }
                }
                _ => unreachable!("analog is Some exactly for analog inputs"),
            }
            for li in 0..self.layers.len() {
                let l = &self.layers[li];
                cur.clear();
                cur.resize(l.outputs, 0.0);
                {
                    let x: &[f32] = if li == 0 { &input } else { &s[li - 1] };
                    layer_current(l, x, &mut cur);
                }
                let inp: &[f32] = match l.neuron.alpha {
                    None => &cur,
                    Some(a) => {
                        for (y, &c) in syn[li].iter_mut().zip(&cur) {
                            *y = a * *y + c;
                        }
                        &syn[li]
                    }
                };
                lif_step(&l.neuron, inp, &mut v[li], &mut s[li]);
            }
            for (c, &o) in counts.iter_mut().zip(&s[last]) {
                *c += o as u32;
            }
        }
        Ok(counts)
    }

    /// Runs one encoded image and returns its class (argmax of counts, ties to the lowest).
    pub fn classify(&self, x: &Encoded) -> Result<usize> {
        Ok(kernels::network::argmax(&self.run(x)?))
    }
}

/// The layer's input current for dense input values `x`.
fn layer_current(l: &DenseLayer, x: &[f32], cur: &mut [f32]) {
    match &l.op {
        Op::Dense { w } => matvec(w, l.inputs, x, &l.b, cur),
        Op::Conv {
            input,
            output,
            w,
            kernel,
            stride,
            padding,
        } => {
            let (kh, kw) = (kernel[0], kernel[1]);
            let (ih, iw) = (input.height as isize, input.width as isize);
            let taps = input.channels * kh * kw;
            for oc in 0..output.channels {
                let wk = &w[oc * taps..(oc + 1) * taps];
                for oy in 0..output.height {
                    for ox in 0..output.width {
                        let o = (oc * output.height + oy) * output.width + ox;
                        let mut sum = 0.0f32;
                        for ic in 0..input.channels {
                            for ky in 0..kh {
                                let y = (oy * stride + ky) as isize - *padding as isize;
                                if y < 0 || y >= ih {
                                    continue;
                                }
                                for kx in 0..kw {
                                    let xx = (ox * stride + kx) as isize - *padding as isize;
                                    if xx < 0 || xx >= iw {
                                        continue;
                                    }
                                    let xi = (ic * input.height + y as usize) * input.width
                                        + xx as usize;
                                    sum += wk[(ic * kh + ky) * kw + kx] * x[xi];
                                }
                            }
                        }
                        cur[o] = l.b[o] + sum;
                    }
                }
            }
        }
        Op::Pool {
            input,
            output,
            kernel,
            avg,
        } => {
            let k = *kernel;
            for c in 0..output.channels {
                for oy in 0..output.height {
                    for ox in 0..output.width {
                        let mut sum = 0.0f32;
                        for dy in 0..k {
                            for dx in 0..k {
                                let y = oy * k + dy;
                                let xx = ox * k + dx;
                                sum += x[(c * input.height + y) * input.width + xx];
                            }
                        }
                        let o = (c * output.height + oy) * output.width + ox;
                        cur[o] = l.b[o] + if *avg { sum / (k * k) as f32 } else { sum };
                    }
                }
            }
        }
    }
}

/// `s` holds the previous step's spikes on entry and this step's on exit.
fn lif_step(p: &Lif, input: &[f32], v: &mut [f32], s: &mut [f32]) {
    for i in 0..input.len() {
        match p.rule {
            FiringRule::Snntorch => {
                let r = s[i];
                let nv = match p.reset {
                    ResetMode::Subtract => p.beta * v[i] + input[i] - r * p.threshold,
                    ResetMode::Zero => p.beta * ((1.0 - r) * v[i]) + input[i],
                    ResetMode::None => p.beta * v[i] + input[i],
                };
                v[i] = nv;
                s[i] = (nv > p.threshold) as u32 as f32;
            }
            FiringRule::Spikingjelly => {
                let h = p.beta * v[i] + input[i];
                let fired = h >= p.threshold;
                v[i] = match (p.reset, fired) {
                    (ResetMode::Subtract, true) => h - p.threshold,
                    (ResetMode::Zero, true) => 0.0,
                    _ => h,
                };
                s[i] = fired as u32 as f32;
            }
        }
    }
}

/// `out[o] = b[o] + dot(w[o], x)`, dispatched to an AVX2 + FMA build when the CPU has it.
fn matvec(w: &[f32], inputs: usize, x: &[f32], b: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above; the function body is
            // safe code compiled with those features enabled.
            unsafe { matvec_avx2(w, inputs, x, b, out) };
            return;
        }
    }
    matvec_generic(w, inputs, x, b, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn matvec_avx2(w: &[f32], inputs: usize, x: &[f32], b: &[f32], out: &mut [f32]) {
    matvec_generic(w, inputs, x, b, out)
}

#[inline(always)]
fn matvec_generic(w: &[f32], inputs: usize, x: &[f32], b: &[f32], out: &mut [f32]) {
    for (o, (y, row)) in out.iter_mut().zip(w.chunks_exact(inputs)).enumerate() {
        *y = b[o] + dot(row, x);
    }
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] = x[k].mul_add(y[k], acc[k]);
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernels::encode::encode_sample;
    use kernels::model::{Encoding, Layer, Shape};
    use kernels::network::{Input, Network};
    use kernels::neuron::LifParams;

    fn model(rule: FiringRule, reset: ResetMode) -> Model {
        let w1: Vec<f32> = (0..20 * 12)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 16.0)
            .collect();
        let w2: Vec<f32> = (0..12 * 5)
            .map(|i| ((i * 13 % 17) as f32 - 8.0) / 8.0)
            .collect();
        let lif = LifParams {
            beta: 0.875,
            threshold: 1.0,
            reset,
            rule,
        };
        Model {
            name: "b".into(),
            input: Shape::flat(20),
            timesteps: 12,
            encoding: Encoding::Rate { seed: 3 },
            layers: vec![
                Layer {
                    name: "fc1".into(),
                    op: LayerOp::Dense {
                        inputs: 20,
                        outputs: 12,
                    },
                    weights: w1,
                    bias: vec![0.125; 12],
                    neuron: Some(Neuron::Lif(lif)),
                },
                Layer {
                    name: "fc2".into(),
                    op: LayerOp::Dense {
                        inputs: 12,
                        outputs: 5,
                    },
                    weights: w2,
                    bias: vec![],
                    neuron: Some(Neuron::Lif(lif)),
                },
            ],
        }
    }

    /// The dense baseline computes the same network as the float runtime: with weights that
    /// are multiples of 1/16 every sum is exact in f32 in any order, so output spike counts
    /// must be identical.
    #[test]
    fn agrees_with_the_float_runtime_exactly_on_exact_weights() {
        for (rule, reset) in [
            (FiringRule::Snntorch, ResetMode::Subtract),
            (FiringRule::Snntorch, ResetMode::Zero),
            (FiringRule::Spikingjelly, ResetMode::Subtract),
        ] {
            let m = model(rule, reset);
            let net = Network::new(&m).unwrap();
            let base = DenseBaseline::from_model(&m).unwrap();
            let mut total = 0;
            for s in 0..20u64 {
                let pixels: Vec<u8> = (0..20).map(|i| ((i * 41 + s * 97) % 256) as u8).collect();
                let x = encode_sample(&m.encoding, &pixels, 12, s).unwrap();
                let run = net.run(&Input::Spikes(x.spikes().unwrap()), false).unwrap();
                let counts = base.run(&x).unwrap();
                assert_eq!(counts, run.counts, "{rule:?} {reset:?} sample {s}");
                total += counts.iter().sum::<u32>();
            }
            assert!(total > 0, "the test network must spike");
        }
    }

    /// Conv (stride 2, padding 1), sum and average pooling and dense, against the float
    /// runtime; weights are multiples of 1/4, so every sum is exact in any order.
    #[test]
    fn conv_and_pool_agree_with_the_float_runtime() {
        let sh = |c, h, w| Shape {
            channels: c,
            height: h,
            width: w,
        };
        let lif = Some(Neuron::Lif(LifParams::snntorch(0.75, 0.5)));
        let layer = |name: &str, op, weights: Vec<f32>, bias: Vec<f32>| Layer {
            name: name.into(),
            op,
            weights,
            bias,
            neuron: lif.clone(),
        };
        for avg in [false, true] {
            let pool_op = if avg {
                LayerOp::AvgPool2d {
                    input: sh(3, 4, 4),
                    kernel: 2,
                }
            } else {
                LayerOp::SumPool2d {
                    input: sh(3, 4, 4),
                    kernel: 2,
                }
            };
            let m = Model {
                name: "c".into(),
                input: sh(2, 8, 7),
                timesteps: 10,
                encoding: Encoding::Rate { seed: 4 },
                layers: vec![
                    layer(
                        "conv",
                        LayerOp::Conv2d {
                            input: sh(2, 8, 7),
                            out_channels: 3,
                            kernel: [3, 3],
                            stride: 2,
                            padding: 1,
                        },
                        (0..54).map(|i| ((i * 7 % 9) as f32 - 3.0) * 0.25).collect(),
                        vec![0.25, 0.0, -0.25],
                    ),
                    layer("pool", pool_op, vec![], vec![]),
                    Layer {
                        name: "flat".into(),
                        op: LayerOp::Flatten { input: sh(3, 2, 2) },
                        weights: vec![],
                        bias: vec![],
                        neuron: None,
                    },
                    layer(
                        "fc",
                        LayerOp::Dense {
                            inputs: 12,
                            outputs: 4,
                        },
                        (0..48).map(|i| ((i % 5) as f32 - 1.0) * 0.5).collect(),
                        vec![],
                    ),
                ],
            };
            let net = Network::new(&m).unwrap();
            let base = DenseBaseline::from_model(&m).unwrap();
            let mut total = 0;
            for s in 0..10u64 {
                let pixels: Vec<u8> = (0..112).map(|i| ((i * 71 + s * 13) % 256) as u8).collect();
                let x = encode_sample(&m.encoding, &pixels, 10, s).unwrap();
                let run = net.run(&Input::Spikes(x.spikes().unwrap()), false).unwrap();
                let counts = base.run(&x).unwrap();
                assert_eq!(counts, run.counts, "avg {avg} sample {s}");
                total += counts.iter().sum::<u32>();
            }
            assert!(total > 0, "the test network must spike");
        }
    }

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..37).map(|i| (i % 3) as f32).collect();
        // sum of i * (i mod 3) for i < 37, computed by hand-check in integers.
        let expect: i64 = (0..37i64).map(|i| i * (i % 3)).sum();
        assert_eq!(dot(&a, &b), expect as f32);
    }
}
