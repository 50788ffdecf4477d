//! The network runtime against an independent, straightforward per-neuron implementation
//! written here from the numeric contract (`docs/numeric-contract.md`): currents as plain
//! multiply-by-0/1 sums over PyTorch-layout weights, convolution as a direct gather, pooling as
//! window counts, and the LIF update spelled out. Spikes *and* membrane potentials are compared
//! at every step, bit for bit.

use kernels::model::{Encoding, IntLayer, IntModel, Layer, LayerOp, Model, Shape};
use kernels::network::{Input, IntNetwork, Network};
use kernels::neuron::{FiringRule, IntLifParams, Leak, LifParams, Neuron, ResetMode};
use kernels::spikes::SpikeTrain;
use proptest::prelude::*;

/// Per layer with neurons: spikes `[t][n]` and membranes `[t][n]`.
type Trace = Vec<(Vec<Vec<bool>>, Vec<Vec<i64>>)>;

fn leak(l: Leak, v: i64) -> i64 {
    match l {
        Leak::None => v,
        Leak::Shift { k } => v - (v >> k),
        Leak::Multiply { beta_q, frac_bits } => (v * beta_q as i64) >> frac_bits,
    }
}

fn lif(p: &IntLifParams, v: i64, s_prev: bool, i: i64) -> (i64, bool) {
    let lo = -(1i64 << (p.membrane_bits - 1));
    let hi = (1i64 << (p.membrane_bits - 1)) - 1;
    let sat = |x: i64| x.clamp(lo, hi);
    let th = p.threshold as i64;
    match p.rule {
        FiringRule::Snntorch => {
            let r = s_prev as i64;
            let nv = match p.reset {
                ResetMode::Subtract => sat(leak(p.leak, v) + i - r * th),
                ResetMode::Zero => sat(leak(p.leak, (1 - r) * v) + i),
                ResetMode::None => sat(leak(p.leak, v) + i),
            };
            (nv, nv > th)
        }
        FiringRule::Spikingjelly => {
            let h = sat(leak(p.leak, v) + i);
            let s = h >= th;
            let nv = match (p.reset, s) {
                (ResetMode::Subtract, true) => h - th,
                (ResetMode::Zero, true) => 0,
                _ => h,
            };
            (nv, s)
        }
    }
}

/// Currents of one layer for input spikes `x` (no neurons involved).
fn currents(op: &LayerOp, w: &[i16], b: &[i32], x: &[bool]) -> Vec<i64> {
    match *op {
        LayerOp::Dense { inputs, outputs } => (0..outputs)
            .map(|o| {
                b.get(o).copied().unwrap_or(0) as i64
                    + (0..inputs)
                        .map(|j| w[o * inputs + j] as i64 * x[j] as i64)
                        .sum::<i64>()
            })
            .collect(),
        LayerOp::Conv2d {
            input,
            out_channels,
            kernel,
            stride,
            padding,
        } => {
            let out = op.output_shape().unwrap();
            let mut r = Vec::new();
            for oc in 0..out_channels {
                for oy in 0..out.height {
                    for ox in 0..out.width {
                        let mut acc = b.get(oc).copied().unwrap_or(0) as i64;
                        for c in 0..input.channels {
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let y = (oy * stride + ky) as isize - padding as isize;
                                    let xx = (ox * stride + kx) as isize - padding as isize;
                                    if y < 0
                                        || xx < 0
                                        || y >= input.height as isize
                                        || xx >= input.width as isize
                                    {
                                        continue;
                                    }
                                    let xi =
                                        (c * input.height + y as usize) * input.width + xx as usize;
                                    let wi = ((oc * input.channels + c) * kernel[0] + ky)
                                        * kernel[1]
                                        + kx;
                                    acc += w[wi] as i64 * x[xi] as i64;
                                }
                            }
                        }
                        r.push(acc);
                    }
                }
            }
            r
        }
        LayerOp::SumPool2d { input, kernel } => {
            let out = op.output_shape().unwrap();
            let mut r = Vec::new();
            for c in 0..input.channels {
                for oy in 0..out.height {
                    for ox in 0..out.width {
                        let mut n = 0;
                        for dy in 0..kernel {
                            for dx in 0..kernel {
                                let i = (c * input.height + oy * kernel + dy) * input.width
                                    + ox * kernel
                                    + dx;
                                n += x[i] as i64;
                            }
                        }
                        r.push(n);
                    }
                }
            }
            r
        }
        _ => unreachable!("not generated"),
    }
}

/// The whole network, step by step, neuron by neuron.
fn naive_run(m: &IntModel, input: &SpikeTrain) -> Trace {
    let spiking: Vec<&IntLayer> = m.layers.iter().filter(|l| l.neuron.is_some()).collect();
    let mut v: Vec<Vec<i64>> = Vec::new();
    let mut s: Vec<Vec<bool>> = Vec::new();
    for l in &spiking {
        let n = l.op.output_shape().unwrap().len();
        v.push(vec![0; n]);
        s.push(vec![false; n]);
    }
    let mut trace: Trace = spiking.iter().map(|_| (vec![], vec![])).collect();
    let dense_in = input.to_bools();
    for t in 0..input.steps() {
        let mut x: Vec<bool> = dense_in[t * input.neurons()..(t + 1) * input.neurons()].to_vec();
        for (li, l) in spiking.iter().enumerate() {
            let i = currents(&l.op, &l.weights, &l.bias, &x);
            let p = l.neuron.unwrap();
            for n in 0..i.len() {
                let (nv, ns) = lif(&p, v[li][n], s[li][n], i[n]);
                v[li][n] = nv;
                s[li][n] = ns;
            }
            trace[li].0.push(s[li].clone());
            trace[li].1.push(v[li].clone());
            x = s[li].clone();
        }
    }
    trace
}

fn neuron_strategy() -> impl Strategy<Value = IntLifParams> {
    (
        prop_oneof![
            Just(Leak::None),
            (1u8..6).prop_map(|k| Leak::Shift { k }),
            (0i32..=16).prop_map(|beta_q| Leak::Multiply {
                beta_q,
                frac_bits: 4
            }),
        ],
        prop_oneof![
            Just(ResetMode::Subtract),
            Just(ResetMode::Zero),
            Just(ResetMode::None)
        ],
        prop_oneof![Just(FiringRule::Snntorch), Just(FiringRule::Spikingjelly)],
        10u8..24,
        1i32..200,
    )
        .prop_map(|(leak, reset, rule, bits, th)| IntLifParams {
            leak,
            threshold: th,
            reset,
            rule,
            membrane_bits: bits,
            syn_leak: None,
        })
}

fn train_strategy(steps: usize, n: usize) -> impl Strategy<Value = SpikeTrain> {
    (
        0.0f64..1.0,
        proptest::collection::vec(0.0f64..1.0, steps * n),
    )
        .prop_map(move |(d, u)| {
            let bools: Vec<bool> = u.iter().map(|&x| x < d).collect();
            SpikeTrain::from_bools(steps, n, &bools).unwrap()
        })
}

fn weights(n: usize, bits: u8) -> impl Strategy<Value = Vec<i16>> {
    let hi = (1i32 << (bits - 1)) - 1;
    proptest::collection::vec((-hi - 1)..=hi, n)
        .prop_map(|v| v.into_iter().map(|x| x as i16).collect())
}

fn layer(name: &str, op: LayerOp, bits: u8, w: Vec<i16>, b: Vec<i32>, n: IntLifParams) -> IntLayer {
    IntLayer {
        name: name.into(),
        op,
        weight_bits: bits,
        weights: w,
        bias: b,
        scale: 1.0,
        neuron: Some(n),
    }
}

/// Random 3-layer dense models, weight widths from 2 to 16 bits (2 and 3 bits exercise the
/// bit-plane kernel on dense steps, 8 the i8 rows, 12 and 16 the i16 rows, i16 or i32
/// accumulators as the proof allows).
fn dense_model() -> impl Strategy<Value = (IntModel, SpikeTrain)> {
    (
        1usize..100,
        1usize..70,
        1usize..12,
        prop_oneof![Just(2u8), Just(3), Just(4), Just(8), Just(12), Just(16)],
        1usize..6,
    )
        .prop_flat_map(|(i, h, o, bits, steps)| {
            (
                weights(i * h, bits),
                weights(h * o, bits),
                proptest::collection::vec(-50i32..50, h),
                neuron_strategy(),
                neuron_strategy(),
                train_strategy(steps, i),
                Just((i, h, o, bits, steps)),
            )
        })
        .prop_map(|(w1, w2, b1, n1, n2, train, (i, h, o, bits, steps))| {
            let m = IntModel {
                name: "dense".into(),
                input: Shape::flat(i),
                timesteps: steps,
                encoding: Encoding::Direct,
                layers: vec![
                    layer(
                        "fc1",
                        LayerOp::Dense {
                            inputs: i,
                            outputs: h,
                        },
                        bits,
                        w1,
                        b1,
                        n1,
                    ),
                    layer(
                        "fc2",
                        LayerOp::Dense {
                            inputs: h,
                            outputs: o,
                        },
                        bits,
                        w2,
                        vec![],
                        n2,
                    ),
                ],
            };
            (m, train)
        })
}

/// conv (+ neurons) -> sum pool (+ neurons) -> flatten -> dense (+ neurons).
fn conv_model() -> impl Strategy<Value = (IntModel, SpikeTrain)> {
    (1usize..3, 1usize..4, 0usize..2, 1usize..3, 1usize..4)
        .prop_flat_map(|(cin, cout, pad, stride, steps)| {
            let input = Shape {
                channels: cin,
                height: 6,
                width: 7,
            };
            let conv = LayerOp::Conv2d {
                input,
                out_channels: cout,
                kernel: [3, 2],
                stride,
                padding: pad,
            };
            let cs = conv.output_shape().unwrap();
            let pool = LayerOp::SumPool2d {
                input: cs,
                kernel: 2,
            };
            let ps = pool.output_shape().unwrap();
            let flat = LayerOp::Flatten { input: ps };
            let dense = LayerOp::Dense {
                inputs: ps.len(),
                outputs: 5,
            };
            (
                weights(conv.weight_count(), 6),
                proptest::collection::vec(-20i32..20, cout),
                weights(dense.weight_count(), 8),
                (neuron_strategy(), neuron_strategy(), neuron_strategy()),
                train_strategy(steps, input.len()),
                Just((input, conv, pool, flat, dense, steps)),
            )
        })
        .prop_map(
            |(wc, bc, wd, (n1, n2, n3), train, (input, conv, pool, flat, dense, steps))| {
                let mut p = layer("pool", pool, 2, vec![], vec![], n2);
                p.weight_bits = 2;
                let m = IntModel {
                    name: "convnet".into(),
                    input,
                    timesteps: steps,
                    encoding: Encoding::Direct,
                    layers: vec![
                        layer("conv", conv, 6, wc, bc, n1),
                        p,
                        IntLayer {
                            name: "flat".into(),
                            op: flat,
                            weight_bits: 2,
                            weights: vec![],
                            bias: vec![],
                            scale: 1.0,
                            neuron: None,
                        },
                        layer("fc", dense, 8, wd, vec![], n3),
                    ],
                };
                (m, train)
            },
        )
}

fn check_int(m: &IntModel, train: &SpikeTrain) -> Result<(), TestCaseError> {
    let net = IntNetwork::new(m).unwrap();
    let run = net.run(train, true).unwrap();
    let want = naive_run(m, train);
    let got = run.trace.as_ref().unwrap();
    prop_assert_eq!(got.len(), want.len());
    for (li, (g, (ws, wv))) in got.iter().zip(&want).enumerate() {
        let n = g.spikes.neurons();
        for t in 0..train.steps() {
            let gs: Vec<bool> = (0..n).map(|i| g.spikes.get(t, i)).collect();
            prop_assert_eq!(&gs, &ws[t], "layer {} step {} spikes", li, t);
            let gv: Vec<i64> = g.membranes[t * n..(t + 1) * n]
                .iter()
                .map(|&x| x as i64)
                .collect();
            prop_assert_eq!(&gv, &wv[t], "layer {} step {} membranes", li, t);
        }
        let fired: u64 = ws.iter().flatten().map(|&b| b as u64).sum();
        prop_assert_eq!(run.stats[li].output_spikes, fired);
        prop_assert_eq!(run.layer_spike_counts[li], fired);
    }
    // Output counts and the class from the naive output spikes.
    let last = &want.last().unwrap().0;
    let counts: Vec<u32> = (0..last[0].len())
        .map(|n| last.iter().filter(|s| s[n]).count() as u32)
        .collect();
    prop_assert_eq!(&run.counts, &counts);
    prop_assert_eq!(run.input_spikes, train.count() as u64);
    // Unrecorded and batched runs agree with the recorded one.
    let plain = net.run(train, false).unwrap();
    prop_assert_eq!(&plain.counts, &run.counts);
    prop_assert_eq!(&plain.stats, &run.stats);
    let batch = net.run_batch(&[train.clone(), train.clone()]).unwrap();
    prop_assert_eq!(&batch[1].counts, &run.counts);
    Ok(())
}

/// The float twin of an integer model: same integer-valued weights, IF neurons (beta = 1),
/// strict `>` and the same reset, no saturation reachable (wide membranes). Sums of small
/// integers are exact in `f32`, so the float runtime must match the integer naive run exactly.
fn float_twin(m: &IntModel) -> (Model, IntModel) {
    let mut im = m.clone();
    for l in &mut im.layers {
        if let Some(n) = &mut l.neuron {
            n.leak = Leak::None;
            n.rule = FiringRule::Snntorch;
            n.membrane_bits = 32;
        }
    }
    let fm = Model {
        name: im.name.clone(),
        input: im.input,
        timesteps: im.timesteps,
        encoding: im.encoding,
        layers: im
            .layers
            .iter()
            .map(|l| Layer {
                name: l.name.clone(),
                op: l.op,
                weights: l.weights.iter().map(|&w| w as f32).collect(),
                bias: l.bias.iter().map(|&b| b as f32).collect(),
                neuron: l.neuron.map(|n| {
                    Neuron::Lif(LifParams {
                        beta: 1.0,
                        threshold: n.threshold as f32,
                        reset: n.reset,
                        rule: FiringRule::Snntorch,
                    })
                }),
            })
            .collect(),
    };
    (fm, im)
}

fn check_float(m: &IntModel, train: &SpikeTrain) -> Result<(), TestCaseError> {
    let (fm, im) = float_twin(m);
    let run = Network::new(&fm)
        .unwrap()
        .run(&Input::Spikes(train), true)
        .unwrap();
    let want = naive_run(&im, train);
    for (li, (g, (ws, wv))) in run.trace.as_ref().unwrap().iter().zip(&want).enumerate() {
        let n = g.spikes.neurons();
        for t in 0..train.steps() {
            let gs: Vec<bool> = (0..n).map(|i| g.spikes.get(t, i)).collect();
            prop_assert_eq!(&gs, &ws[t], "layer {} step {}", li, t);
            let wf: Vec<f32> = wv[t].iter().map(|&x| x as f32).collect();
            prop_assert_eq!(&g.membranes[t * n..(t + 1) * n], &wf[..]);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn int_dense_network_equals_naive((m, train) in dense_model()) {
        check_int(&m, &train)?;
    }

    #[test]
    fn int_conv_pool_network_equals_naive((m, train) in conv_model()) {
        check_int(&m, &train)?;
    }

    #[test]
    fn float_dense_network_equals_naive((m, train) in dense_model()) {
        check_float(&m, &train)?;
    }

    #[test]
    fn float_conv_pool_network_equals_naive((m, train) in conv_model()) {
        check_float(&m, &train)?;
    }
}

/// 2-bit weights and all-one input spikes: density 1 is above the bit-plane crossover, so the
/// runtime's first layer uses the bit-plane kernel; it must still equal the naive run.
#[test]
fn bitplane_steps_equal_naive() {
    let (i, h, o) = (150, 40, 3);
    let w1: Vec<i16> = (0..i * h)
        .map(|k| ((k * 7 + k / 13) % 4) as i16 - 2)
        .collect();
    let w2: Vec<i16> = (0..h * o).map(|k| ((k * 5) % 4) as i16 - 2).collect();
    let n = IntLifParams {
        leak: Leak::Shift { k: 2 },
        threshold: 6,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 12,
        syn_leak: None,
    };
    let dense = |inputs, outputs| LayerOp::Dense { inputs, outputs };
    let m = IntModel {
        name: "bp".into(),
        input: Shape::flat(i),
        timesteps: 4,
        encoding: Encoding::Direct,
        layers: vec![
            layer("fc1", dense(i, h), 2, w1, vec![3; h], n),
            layer("fc2", dense(h, o), 2, w2, vec![], n),
        ],
    };
    assert!(kernels::bitplane::prefer_bitplane(2, i, i));
    let train = SpikeTrain::from_bools(4, i, &vec![true; 4 * i]).unwrap();
    check_int(&m, &train).unwrap();
}

fn if_neuron(th: f32) -> Option<Neuron> {
    Some(Neuron::Lif(LifParams::snntorch(1.0, th)))
}

#[test]
fn float_avg_pool_hand_computed() {
    // 1 x 2 x 4 map, 2x2 average pooling -> 1 x 1 x 2; IF neurons with threshold 0.6.
    // Step 0 spikes at (0,0), (1,1), (0,2): window 0 has 2 of 4 -> 0.5, window 1 has 1 -> 0.25.
    let input = Shape {
        channels: 1,
        height: 2,
        width: 4,
    };
    let m = Model {
        name: "avg".into(),
        input,
        timesteps: 2,
        encoding: Encoding::Direct,
        layers: vec![Layer {
            name: "pool".into(),
            op: LayerOp::AvgPool2d { input, kernel: 2 },
            weights: vec![],
            bias: vec![],
            neuron: if_neuron(0.6),
        }],
    };
    let mut t = SpikeTrain::zeros(2, 8);
    for i in [0, 5, 2] {
        t.set(0, i, true);
        t.set(1, i, true);
    }
    let run = Network::new(&m)
        .unwrap()
        .run(&Input::Spikes(&t), true)
        .unwrap();
    let tr = &run.trace.unwrap()[0];
    // v: step 0 [0.5, 0.25]; step 1 [1.0 (fires), 0.5].
    assert_eq!(tr.membranes, vec![0.5, 0.25, 1.0, 0.5]);
    assert_eq!(run.counts, vec![1, 0]);
    assert_eq!(run.stats[0].synaptic_ops, 6);
}

#[test]
fn unsupported_layers_are_clear_errors() {
    let input = Shape {
        channels: 1,
        height: 2,
        width: 2,
    };
    let n = IntLifParams {
        leak: Leak::None,
        threshold: 1,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 8,
        syn_leak: None,
    };
    let mut m = IntModel {
        name: "m".into(),
        input,
        timesteps: 1,
        encoding: Encoding::Direct,
        layers: vec![layer(
            "pool",
            LayerOp::AvgPool2d { input, kernel: 2 },
            2,
            vec![],
            vec![],
            n,
        )],
    };
    let e = IntNetwork::new(&m).unwrap_err().to_string();
    assert!(e.contains("average pooling"), "{e}");
    m.layers[0].op = LayerOp::SumPool2d { input, kernel: 2 };
    assert!(IntNetwork::new(&m).is_ok());
    // A dense layer without neurons in the middle.
    m.layers = vec![
        IntLayer {
            neuron: None,
            ..layer(
                "fc1",
                LayerOp::Dense {
                    inputs: 4,
                    outputs: 2,
                },
                4,
                vec![1; 8],
                vec![],
                n,
            )
        },
        layer(
            "fc2",
            LayerOp::Dense {
                inputs: 2,
                outputs: 2,
            },
            4,
            vec![1; 4],
            vec![],
            n,
        ),
    ];
    let e = IntNetwork::new(&m).unwrap_err().to_string();
    assert!(e.contains("fc1") && e.contains("neurons"), "{e}");
}

#[test]
fn analog_input_into_conv_is_an_error() {
    let input = Shape {
        channels: 1,
        height: 3,
        width: 3,
    };
    let m = Model {
        name: "c".into(),
        input,
        timesteps: 2,
        encoding: Encoding::Direct,
        layers: vec![Layer {
            name: "conv".into(),
            op: LayerOp::Conv2d {
                input,
                out_channels: 1,
                kernel: [2, 2],
                stride: 1,
                padding: 0,
            },
            weights: vec![1.0; 4],
            bias: vec![],
            neuron: if_neuron(1.0),
        }],
    };
    let net = Network::new(&m).unwrap();
    assert!(net.run(&Input::Analog(&[0.5; 9]), false).is_err());
}
