//! Metrics against independent counts: the runtime's own spike counters times hand-known
//! fan-outs, and a brute-force enumeration of convolution windows.

use kernels::metrics::{EnergyModel, MetricsAccumulator, NetDesc};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::network::IntNetwork;
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
use kernels::spikes::SpikeTrain;

fn lif(threshold: i32) -> Option<IntLifParams> {
    Some(IntLifParams {
        leak: Leak::Shift { k: 2 },
        threshold,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 16,
        syn_leak: None,
    })
}

fn mlp() -> IntModel {
    let input = Shape {
        channels: 1,
        height: 2,
        width: 3,
    };
    IntModel {
        name: "m".into(),
        input,
        timesteps: 6,
        encoding: Encoding::Rate { seed: 1 },
        layers: vec![
            IntLayer {
                name: "flat".into(),
                op: LayerOp::Flatten { input },
                weight_bits: 8,
                weights: vec![],
                bias: vec![],
                scale: 1.0,
                neuron: None,
            },
            IntLayer {
                name: "fc1".into(),
                op: LayerOp::Dense {
                    inputs: 6,
                    outputs: 4,
                },
                weight_bits: 8,
                weights: (0..24).map(|i| (i * 7 % 11) as i16 - 2).collect(),
                bias: vec![1, 0, -1, 2],
                scale: 1.0,
                neuron: lif(6),
            },
            IntLayer {
                name: "fc2".into(),
                op: LayerOp::Dense {
                    inputs: 4,
                    outputs: 3,
                },
                weight_bits: 8,
                weights: vec![5, 3, -1, 2, 4, 4, 0, 1, -2, 6, 3, 3],
                bias: vec![],
                scale: 1.0,
                neuron: lif(4),
            },
        ],
    }
}

fn input_train(seed: u64) -> SpikeTrain {
    // A fixed pseudo-random 6 x 6 pattern.
    let mut x = seed;
    let bits: Vec<bool> = (0..36)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 60) & 1 == 1
        })
        .collect();
    SpikeTrain::from_bools(6, 6, &bits).unwrap()
}

#[test]
fn synaptic_ops_equal_spikes_times_fan_out() {
    let m = mlp();
    let net = IntNetwork::new(&m).unwrap();
    let mut acc = MetricsAccumulator::new(NetDesc::from_int_model(&m)).unwrap();
    let (mut expect_ops, mut expect_fc1, mut expect_fc2) = (0u64, 0u64, 0u64);
    let mut peak = 0u64;
    let mut out_spikes = [0u64; 2];
    for s in 0..5 {
        let input = input_train(s + 1);
        let run = net.run(&input, true).unwrap();
        // Independent count: the runtime's counters times the dense fan-outs (4 and 3).
        expect_fc1 += run.input_spikes * 4;
        expect_fc2 += run.layer_spike_counts[0] * 3;
        expect_ops += run.input_spikes * 4 + run.layer_spike_counts[0] * 3;
        out_spikes[0] += run.layer_spike_counts[0];
        out_spikes[1] += run.layer_spike_counts[1];
        let tr = run.trace.as_ref().unwrap();
        for t in 0..6 {
            let n = (0..6).filter(|&j| input.get(t, j)).count()
                + (0..4).filter(|&j| tr[0].spikes.get(t, j)).count()
                + (0..3).filter(|&j| tr[1].spikes.get(t, j)).count();
            peak = peak.max(n as u64);
        }
        acc.add_run(Some(&input), &run).unwrap();
    }
    assert!(expect_ops > 0, "the test pattern must produce spikes");
    let m = acc.finish(EnergyModel::default()).unwrap();
    assert_eq!(m.samples, 5);
    assert_eq!(m.synaptic_ops_sum, expect_ops);
    assert_eq!(m.layers[0].synaptic_ops, 0.0);
    assert_eq!(m.layers[1].synaptic_ops, expect_fc1 as f64 / 5.0);
    assert_eq!(m.layers[2].synaptic_ops, expect_fc2 as f64 / 5.0);
    // ANN: 6*4 + 4*3 = 36 MACs.
    assert_eq!(m.ann_macs, 36);
    // Weights: 24*8 + 4 biases at 16 bits + 12*8 = 352; membranes: 7 neurons * 16 bits.
    assert_eq!(m.memory_bits.weights, 352);
    assert_eq!(m.memory_bits.membranes, 112);
    assert_eq!(m.memory_bits.peak_spikes, peak);
    let rate1 = out_spikes[0] as f64 / (5.0 * 6.0 * 4.0);
    assert!((m.layers[1].spike_rate.unwrap() - rate1).abs() < 1e-12);
    assert!(m.layers[0].spike_rate.is_none());
    let ops = expect_ops as f64 / 5.0;
    assert!((m.energy.snn_pj - ops * 0.9).abs() < 1e-9);
    assert!((m.energy.ann_pj - 36.0 * 4.6).abs() < 1e-9);
    // Overridden constants.
    let e = acc
        .finish(EnergyModel {
            e_ac_pj: 2.0,
            e_mac_pj: 10.0,
        })
        .unwrap();
    assert!((e.energy.snn_pj - ops * 2.0).abs() < 1e-9);
    assert!((e.energy.ann_pj - 360.0).abs() < 1e-9);
    assert!(
        acc.finish(EnergyModel {
            e_ac_pj: f64::NAN,
            e_mac_pj: 1.0
        })
        .is_err()
    );
}

#[test]
fn conv_ops_match_brute_force_windows() {
    // conv 2x5x4 -> 3 channels, kernel 3x2, stride 2, padding 1; then flatten, dense -> 2.
    let input = Shape {
        channels: 2,
        height: 5,
        width: 4,
    };
    let conv = LayerOp::Conv2d {
        input,
        out_channels: 3,
        kernel: [3, 2],
        stride: 2,
        padding: 1,
    };
    let out = conv.output_shape().unwrap(); // 3 x 3 x 3
    assert_eq!((out.height, out.width), (3, 3));
    let desc = NetDesc {
        input,
        timesteps: 4,
        analog_input: false,
        layers: vec![
            kernels::metrics::LayerDesc {
                name: "c".into(),
                op: conv,
                weight_bits: 8,
                biases: 0,
                bias_bits: 16,
                membrane_bits: Some(16),
                state_vars: 1,
            },
            kernels::metrics::LayerDesc {
                name: "f".into(),
                op: LayerOp::Flatten { input: out },
                weight_bits: 8,
                biases: 0,
                bias_bits: 16,
                membrane_bits: None,
                state_vars: 1,
            },
            kernels::metrics::LayerDesc {
                name: "d".into(),
                op: LayerOp::Dense {
                    inputs: 27,
                    outputs: 2,
                },
                weight_bits: 8,
                biases: 0,
                bias_bits: 16,
                membrane_bits: Some(16),
                state_vars: 1,
            },
        ],
    };
    let mut acc = MetricsAccumulator::new(desc).unwrap();
    let n_in = input.len();
    let spikes: Vec<bool> = (0..4 * n_in).map(|i| (i * 5 + i / 7) % 3 == 0).collect();
    let inp = SpikeTrain::from_bools(4, n_in, &spikes).unwrap();
    let hidden: Vec<bool> = (0..4 * 27).map(|i| i % 4 == 1).collect();
    let hid = SpikeTrain::from_bools(4, 27, &hidden).unwrap();
    let outp = SpikeTrain::zeros(4, 2);
    acc.add_trace(Some(&inp), &[&hid, &outp]).unwrap();
    // Brute force: every output (oc, oy, ox) and tap (ic, ky, kx) that lands on a spiking
    // input costs one addition.
    let mut expect = 0u64;
    let mut ann = 0u64;
    for t in 0..4 {
        for _oc in 0..3 {
            for oy in 0..3i64 {
                for ox in 0..3i64 {
                    for ic in 0..2i64 {
                        for ky in 0..3i64 {
                            for kx in 0..2i64 {
                                let y = oy * 2 + ky - 1;
                                let x = ox * 2 + kx - 1;
                                if (0..5).contains(&y) && (0..4).contains(&x) {
                                    if t == 0 {
                                        ann += 1;
                                    }
                                    let j = (ic * 20 + y * 4 + x) as usize;
                                    if inp.get(t, j) {
                                        expect += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let m = acc.finish(EnergyModel::default()).unwrap();
    assert_eq!(m.layers[0].synaptic_ops as u64, expect);
    assert_eq!(m.layers[0].ann_macs, ann);
    assert_eq!(m.layers[2].synaptic_ops as u64, hid.count() as u64 * 2);
    assert_eq!(m.ann_macs, ann + 54);
    // Peak: input + hidden + output spikes in the busiest step.
    let peak = (0..4)
        .map(|t| {
            (0..n_in).filter(|&j| inp.get(t, j)).count()
                + (0..27).filter(|&j| hid.get(t, j)).count()
        })
        .max()
        .unwrap();
    assert_eq!(m.memory_bits.peak_spikes, peak as u64);
}

#[test]
fn analog_input_counts_macs_and_bad_traces_are_refused() {
    let mut m = mlp();
    m.encoding = Encoding::Direct;
    let mut acc = MetricsAccumulator::new(NetDesc::from_int_model(&m)).unwrap();
    let h = SpikeTrain::from_bools(6, 4, &[true; 24]).unwrap();
    let o = SpikeTrain::zeros(6, 3);
    acc.add_trace(None, &[&h, &o]).unwrap();
    let r = acc.finish(EnergyModel::default()).unwrap();
    // Analog first layer: 6 inputs x 4 outputs every one of 6 steps.
    assert_eq!(r.layers[1].analog_macs, 144.0);
    assert_eq!(r.layers[1].synaptic_ops, 0.0);
    // Every hidden neuron fires every step: 4 spikes x 3 outputs x 6 steps.
    assert_eq!(r.synaptic_ops, 72.0);
    assert!((r.energy.snn_pj - (72.0 * 0.9 + 144.0 * 4.6)).abs() < 1e-9);
    assert!(r.input_spike_rate.is_none());
    // Wrong trace count and wrong widths.
    assert!(acc.add_trace(None, &[&h]).is_err());
    assert!(acc.add_trace(None, &[&o, &h]).is_err());
    assert!(acc.add_trace(Some(&h), &[&h, &o]).is_err());
    assert_eq!(acc.samples(), 1);
}

/// The metrics (from recorded spike trains and fan-out tables) agree with the runtime's own
/// per-layer counters (counted inside the kernels) on a conv + pool + dense network.
#[test]
fn metrics_agree_with_runtime_counters_on_a_conv_network() {
    use kernels::encode::encode_sample;
    use kernels::model::{Layer, Model};
    use kernels::network::{Input, Network};
    use kernels::neuron::{LifParams, Neuron};
    let input = Shape {
        channels: 1,
        height: 6,
        width: 6,
    };
    let conv_out = Shape {
        channels: 2,
        height: 6,
        width: 6,
    };
    let pooled = Shape {
        channels: 2,
        height: 3,
        width: 3,
    };
    let lif = Some(Neuron::Lif(LifParams::snntorch(0.9, 0.5)));
    let m = Model {
        name: "cnn".into(),
        input,
        timesteps: 6,
        encoding: Encoding::Rate { seed: 9 },
        layers: vec![
            Layer {
                name: "conv".into(),
                op: LayerOp::Conv2d {
                    input,
                    out_channels: 2,
                    kernel: [3, 3],
                    stride: 1,
                    padding: 1,
                },
                weights: (0..18).map(|i| ((i % 5) as f32 - 1.0) * 0.25).collect(),
                bias: vec![],
                neuron: lif.clone(),
            },
            Layer {
                name: "pool".into(),
                op: LayerOp::SumPool2d {
                    input: conv_out,
                    kernel: 2,
                },
                weights: vec![],
                bias: vec![],
                neuron: lif.clone(),
            },
            Layer {
                name: "flat".into(),
                op: LayerOp::Flatten { input: pooled },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "fc".into(),
                op: LayerOp::Dense {
                    inputs: 18,
                    outputs: 3,
                },
                weights: (0..54).map(|i| ((i % 7) as f32 - 2.0) * 0.2).collect(),
                bias: vec![],
                neuron: lif,
            },
        ],
    };
    let net = Network::new(&m).unwrap();
    let mut acc = MetricsAccumulator::new(NetDesc::from_model(&m)).unwrap();
    let mut runtime_ops = [0u64; 3];
    for s in 0..8u64 {
        let pixels: Vec<u8> = (0..36).map(|i| ((i * 53 + s * 29) % 256) as u8).collect();
        let x = encode_sample(&m.encoding, &pixels, 6, s).unwrap();
        let t = x.spikes().unwrap();
        let run = net.run(&Input::Spikes(t), true).unwrap();
        for (k, st) in run.stats.iter().enumerate() {
            runtime_ops[k] += st.synaptic_ops;
        }
        acc.add_run(Some(t), &run).unwrap();
    }
    let r = acc.finish(EnergyModel::default()).unwrap();
    let ours: Vec<u64> = r
        .layers
        .iter()
        .filter(|l| l.neurons > 0)
        .map(|l| (l.synaptic_ops * 8.0).round() as u64)
        .collect();
    assert!(runtime_ops.iter().all(|&o| o > 0), "{runtime_ops:?}");
    assert_eq!(ours, runtime_ops.to_vec());
}
