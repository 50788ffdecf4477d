//! Non-spiking readout layers (leaky integrators) and per-neuron decays and thresholds in the
//! float runtime and the model file: hand-computed runs, an independent per-neuron oracle, the
//! metrics of a readout model, and malformed files.

use kernels::decode::Readout;
use kernels::metrics::{EnergyModel, MetricsAccumulator, NetDesc};
use kernels::model::{Encoding, Layer, LayerOp, Model, Shape};
use kernels::model_io::{load_any, load_model, save_model};
use kernels::network::{Input, Network};
use kernels::neuron::{FiringRule, LiParams, LifParams, Neuron, PerNeuron, ResetMode};
use kernels::spikes::SpikeTrain;
use serde_json::{Value, json};

fn li(beta: f32, alpha: Option<f32>, readout: Readout) -> Neuron {
    Neuron::Li(LiParams {
        beta,
        alpha,
        readout,
    })
}

/// Dense 3 -> 2, weights `[[1, 0, 0.5], [0, 1, -1]]`, bias `[0, 0.25]`, then `neuron`.
fn readout_model(neuron: Neuron) -> Model {
    Model {
        name: "ro".into(),
        input: Shape::flat(3),
        timesteps: 4,
        encoding: Encoding::Rate { seed: 1 },
        layers: vec![Layer {
            name: "out".into(),
            op: LayerOp::Dense {
                inputs: 3,
                outputs: 2,
            },
            weights: vec![1.0, 0.0, 0.5, 0.0, 1.0, -1.0],
            bias: vec![0.0, 0.25],
            neuron: Some(neuron),
        }],
    }
}

/// Input spikes: t0 {0}, t1 {1, 2}, t2 {}, t3 {0, 1}.
fn input() -> SpikeTrain {
    #[rustfmt::skip]
    let b = [
        true, false, false,
        false, true, true,
        false, false, false,
        true, true, false,
    ];
    SpikeTrain::from_bools(4, 3, &b).unwrap()
}

#[test]
fn li_readout_hand_computed_for_every_rule() {
    // Currents: out0 = x0 + 0.5 x2 = 1, 0.5, 0, 1; out1 = 0.25 + x1 - x2 = 0.25, 0.25, 0.25,
    // 1.25. LI with beta 0.5:
    //   v0 = 1, 0.5 + 0.5 = 1, 0.5, 0.25 + 1 = 1.25
    //   v1 = 0.25, 0.125 + 0.25 = 0.375, 0.1875 + 0.25 = 0.4375, 0.21875 + 1.25 = 1.46875
    // max = final = [1.25, 1.46875] -> class 1; mean = [3.75 / 4, 2.53125 / 4] -> class 0.
    let cases = [
        (Readout::Max, vec![1.25, 1.46875], 1),
        (Readout::Final, vec![1.25, 1.46875], 1),
        (Readout::Mean, vec![0.9375, 0.6328125], 0),
    ];
    for (rule, scores, class) in cases {
        let net = Network::new(&readout_model(li(0.5, None, rule))).unwrap();
        let run = net.run(&Input::Spikes(&input()), true).unwrap();
        let tr = &run.trace.as_ref().unwrap()[0];
        assert_eq!(
            tr.membranes,
            vec![1.0, 0.25, 1.0, 0.375, 0.5, 0.4375, 1.25, 1.46875],
            "{rule:?}"
        );
        assert_eq!(tr.spikes.counts_per_neuron(), vec![0, 0], "never spikes");
        assert_eq!(run.readout.as_deref(), Some(&scores[..]), "{rule:?}");
        assert_eq!(run.class, class, "{rule:?}");
        assert_eq!(run.counts, vec![0, 0]);
    }
}

#[test]
fn cuba_li_and_integrator_hand_computed() {
    // CubaLI alpha 0.5, beta 1 (integrates the synaptic current):
    //   syn0 = 1, 0.5 + 0.5 = 1, 0.5, 0.25 + 1 = 1.25   -> v0 = 1, 2, 2.5, 3.75
    //   syn1 = 0.25, 0.375, 0.4375, 1.46875            -> v1 = 0.25, 0.625, 1.0625, 2.53125
    let net = Network::new(&readout_model(li(1.0, Some(0.5), Readout::Final))).unwrap();
    let run = net.run(&Input::Spikes(&input()), true).unwrap();
    assert_eq!(
        run.trace.as_ref().unwrap()[0].membranes,
        vec![1.0, 0.25, 2.0, 0.625, 2.5, 1.0625, 3.75, 2.53125]
    );
    assert_eq!(run.readout, Some(vec![3.75, 2.53125]));
    assert_eq!(run.class, 0);
    // I (beta 1, no synapse): v = running sums of the currents: [2.5, 2.0].
    let net = Network::new(&readout_model(li(1.0, None, Readout::Final))).unwrap();
    let run = net.run(&Input::Spikes(&input()), false).unwrap();
    assert_eq!(run.readout, Some(vec![2.5, 2.0]));
}

#[test]
fn readout_after_a_spiking_layer_and_metrics() {
    // fc1: identity 3 -> 3 IF neurons with threshold 0.5 (fires whenever its input spikes,
    // snnTorch rule, subtract reset: v = 1 -> fires, next step v = 1 + x - 0.5 ...).
    let mut m = readout_model(li(0.5, Some(0.25), Readout::Max));
    m.layers.insert(
        0,
        Layer {
            name: "fc1".into(),
            op: LayerOp::Dense {
                inputs: 3,
                outputs: 3,
            },
            weights: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            bias: vec![],
            neuron: Some(Neuron::Lif(LifParams::snntorch(1.0, 0.5))),
        },
    );
    let net = Network::new(&m).unwrap();
    let x = input();
    let run = net.run(&Input::Spikes(&x), true).unwrap();
    let mut acc = MetricsAccumulator::new(NetDesc::from_model(&m)).unwrap();
    acc.add_run(Some(&x), &run).unwrap();
    let met = acc.finish(EnergyModel::default()).unwrap();
    // fc1: 5 input spikes x 3 outputs = 15 additions; its spikes feed the readout, 2 outputs
    // per spike.
    let hidden: u64 = run.trace.as_ref().unwrap()[0]
        .spikes
        .counts_per_neuron()
        .iter()
        .map(|&c| c as u64)
        .sum();
    assert!(hidden > 0);
    assert_eq!(met.synaptic_ops_sum, 15 + 2 * hidden);
    // Membranes: 3 LIF (1 state) + 2 CubaLI readouts (2 states each), 32 bits each.
    assert_eq!(met.memory_bits.membranes, (3 + 2 * 2) * 32);
    // Weights 9 + 6 and 2 biases, 32 bits each.
    assert_eq!(met.memory_bits.weights, (9 + 6 + 2) * 32);
    assert_eq!(met.layers[1].spike_rate, Some(0.0));
}

#[test]
fn readout_must_be_the_last_layer() {
    let mut m = readout_model(li(0.5, None, Readout::Max));
    m.layers.push(Layer {
        name: "fc2".into(),
        op: LayerOp::Dense {
            inputs: 2,
            outputs: 2,
        },
        weights: vec![1.0; 4],
        bias: vec![],
        neuron: Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0))),
    });
    let e = m.validate().unwrap_err().to_string();
    assert!(e.contains("\"out\"") && e.contains("last layer"), "{e}");
    let e = Network::new(&m).unwrap_err().to_string();
    assert!(e.contains("last layer"), "{e}");
    let m = readout_model(li(1.5, None, Readout::Max));
    assert!(m.validate().unwrap_err().to_string().contains("beta 1.5"));
    let m = readout_model(li(0.5, Some(-0.1), Readout::Max));
    assert!(m.validate().unwrap_err().to_string().contains("alpha"));
}

/// A dense 4 -> 3 layer with per-neuron parameters must update neuron `i` exactly as a
/// one-neuron scalar layer with row `i` of the weights and `beta[i]`, `threshold[i]`,
/// `alpha[i]` does: the oracle is the scalar runtime, run once per neuron.
#[test]
fn per_neuron_layer_equals_one_scalar_layer_per_neuron() {
    let w: Vec<f32> = (0..12).map(|i| ((i * 5 % 7) as f32 - 2.0) * 0.25).collect();
    let b = vec![0.125, -0.25, 0.5];
    let beta = vec![0.5, 0.875, 1.0];
    let th = vec![0.5, 1.0, 0.75];
    let alpha = vec![0.25, 0.0, 0.5];
    let mut bits = vec![false; 30 * 4];
    let mut s = 12345u32;
    for x in &mut bits {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *x = s >> 16 & 3 != 0;
    }
    let x = SpikeTrain::from_bools(30, 4, &bits).unwrap();
    let model = |outputs: usize, w: Vec<f32>, b: Vec<f32>, n: Neuron| Model {
        name: "pn".into(),
        input: Shape::flat(4),
        timesteps: 30,
        encoding: Encoding::Rate { seed: 1 },
        layers: vec![Layer {
            name: "fc".into(),
            op: LayerOp::Dense { inputs: 4, outputs },
            weights: w,
            bias: b,
            neuron: Some(n),
        }],
    };
    for (reset, rule) in [
        (ResetMode::Subtract, FiringRule::Snntorch),
        (ResetMode::Zero, FiringRule::Snntorch),
        (ResetMode::Subtract, FiringRule::Spikingjelly),
        (ResetMode::Zero, FiringRule::Spikingjelly),
    ] {
        for synaptic in [false, true] {
            let lif = |beta, threshold| LifParams {
                beta,
                threshold,
                reset,
                rule,
            };
            let scalar = |i: usize| {
                if synaptic {
                    Neuron::Synaptic {
                        alpha: alpha[i],
                        lif: lif(beta[i], th[i]),
                    }
                } else {
                    Neuron::Lif(lif(beta[i], th[i]))
                }
            };
            let per = Neuron::PerNeuron(Box::new(PerNeuron::new(
                scalar(0),
                beta.clone(),
                th.clone(),
                if synaptic { alpha.clone() } else { vec![] },
            )));
            let run = Network::new(&model(3, w.clone(), b.clone(), per))
                .unwrap()
                .run(&Input::Spikes(&x), true)
                .unwrap();
            let tr = &run.trace.as_ref().unwrap()[0];
            let mut fired = 0;
            for i in 0..3 {
                let one = model(1, w[i * 4..i * 4 + 4].to_vec(), vec![b[i]], scalar(i));
                let r1 = Network::new(&one)
                    .unwrap()
                    .run(&Input::Spikes(&x), true)
                    .unwrap();
                let t1 = &r1.trace.as_ref().unwrap()[0];
                for t in 0..30 {
                    let case = format!("{reset:?} {rule:?} syn {synaptic} neuron {i} step {t}");
                    assert_eq!(
                        tr.membranes[t * 3 + i].to_bits(),
                        t1.membranes[t].to_bits(),
                        "{case}"
                    );
                    assert_eq!(tr.spikes.get(t, i), t1.spikes.get(t, 0), "{case}");
                    fired += t1.spikes.get(t, 0) as usize;
                }
            }
            assert!(fired > 5, "the oracle must fire ({reset:?} {rule:?})");
        }
    }
}

#[test]
fn per_neuron_readout() {
    // Per-neuron LI: beta [0.5, 1]: v0 as in the scalar test (final 1.25), v1 = running sum of
    // 0.25, 0.25, 0.25, 1.25 = 2.0.
    let per = Neuron::PerNeuron(Box::new(PerNeuron::new(
        li(0.5, None, Readout::Final),
        vec![0.5, 1.0],
        vec![],
        vec![],
    )));
    let run = Network::new(&readout_model(per))
        .unwrap()
        .run(&Input::Spikes(&input()), false)
        .unwrap();
    assert_eq!(run.readout, Some(vec![1.25, 2.0]));
    assert_eq!(run.class, 1);
}

#[test]
fn readout_and_per_neuron_models_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let models = [
        readout_model(li(0.5, None, Readout::Mean)),
        readout_model(li(0.75, Some(0.5), Readout::Final)),
        readout_model(Neuron::PerNeuron(Box::new(PerNeuron::new(
            li(0.5, Some(0.25), Readout::Max),
            vec![0.5, 0.25],
            vec![],
            vec![0.25, 1.0],
        )))),
        readout_model(Neuron::PerNeuron(Box::new(PerNeuron::new(
            Neuron::Synaptic {
                alpha: 0.5,
                lif: LifParams::snntorch(0.9, 1.0),
            },
            vec![0.9, 0.8],
            vec![1.0, 2.0],
            vec![0.5, 0.125],
        )))),
    ];
    for (i, m) in models.iter().enumerate() {
        let p = dir.path().join(format!("m{i}.safetensors"));
        save_model(m, &p).unwrap();
        assert_eq!(&load_model(&p).unwrap(), m, "model {i}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written files (an independent safetensors writer, as in tests/model_io.rs).

fn raw_file(topology: &Value, tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        json!({"format": "snn-model", "format_version": "1", "topology": topology.to_string()}),
    );
    let mut off = 0;
    for (name, shape, data) in tensors {
        let len = data.len() * 4;
        header.insert(
            name.to_string(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [off, off + len]}),
        );
        off += len;
    }
    let h = serde_json::to_vec(&Value::Object(header)).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    for (_, _, data) in tensors {
        out.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    }
    out
}

fn topology(neuron: Value, per_neuron: bool) -> Value {
    let mut layer = json!({"name": "out", "op": {"type": "dense", "inputs": 3, "outputs": 2},
                           "bias": true, "neuron": neuron});
    if per_neuron {
        layer["per_neuron"] = json!(true);
    }
    json!({"kind": "float", "name": "ro", "input": {"channels": 3, "height": 1, "width": 1},
           "timesteps": 4, "encoding": {"kind": "rate", "seed": 1}, "layers": [layer]})
}

fn base_tensors() -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    vec![
        (
            "out.weight",
            vec![2, 3],
            vec![1.0, 0.0, 0.5, 0.0, 1.0, -1.0],
        ),
        ("out.bias", vec![2], vec![0.0, 0.25]),
    ]
}

fn load(topo: &Value, tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> kernels::Result<Model> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hand.safetensors");
    std::fs::write(&p, raw_file(topo, tensors)).unwrap();
    load_any(&p).map(|m| match m {
        kernels::model_io::AnyModel::Float(m) => m,
        _ => panic!("not a float model"),
    })
}

#[test]
fn hand_written_readout_and_per_neuron_files_load() {
    // "readout" omitted: the default is the maximum over time.
    let m = load(
        &topology(json!({"kind": "li", "beta": 0.5}), false),
        &base_tensors(),
    )
    .unwrap();
    assert_eq!(m, readout_model(li(0.5, None, Readout::Max)));
    let m = load(
        &topology(
            json!({"kind": "li", "beta": 0.75, "alpha": 0.5, "readout": "final"}),
            false,
        ),
        &base_tensors(),
    )
    .unwrap();
    assert_eq!(m, readout_model(li(0.75, Some(0.5), Readout::Final)));
    let mut t = base_tensors();
    t.push(("out.beta", vec![2], vec![0.5, 1.0]));
    t.push(("out.threshold", vec![2], vec![1.0, 0.25]));
    let lif = json!({"kind": "lif", "beta": 0.5, "threshold": 1.0, "reset": "subtract",
                     "rule": "snntorch"});
    let m = load(&topology(lif.clone(), true), &t).unwrap();
    assert_eq!(
        m.layers[0].neuron,
        Some(Neuron::PerNeuron(Box::new(PerNeuron::new(
            Neuron::Lif(LifParams::snntorch(0.5, 1.0)),
            vec![0.5, 1.0],
            vec![1.0, 0.25],
            vec![],
        ))))
    );
}

#[test]
fn malformed_readout_and_per_neuron_files_are_refused() {
    let err = |topo: Value, t: Vec<(&str, Vec<usize>, Vec<f32>)>| {
        load(&topo, &t)
            .expect_err("malformed file was accepted")
            .to_string()
    };
    // A readout has no threshold; unknown rule.
    let e = err(
        topology(json!({"kind": "li", "beta": 0.5, "threshold": 1.0}), false),
        base_tensors(),
    );
    assert!(e.contains("threshold"), "{e}");
    let e = err(
        topology(json!({"kind": "li", "beta": 0.5, "readout": "last"}), false),
        base_tensors(),
    );
    assert!(e.contains("last"), "{e}");
    let e = err(
        topology(json!({"kind": "li", "beta": 2.0}), false),
        base_tensors(),
    );
    assert!(e.contains("beta 2"), "{e}");
    let lif = json!({"kind": "lif", "beta": 0.5, "threshold": 1.0, "reset": "subtract",
                     "rule": "snntorch"});
    // Missing threshold tensor, wrong length, out of range, NaN, extra alpha, no neuron.
    let mut t = base_tensors();
    t.push(("out.beta", vec![2], vec![0.5, 1.0]));
    let e = err(topology(lif.clone(), true), t.clone());
    assert!(e.contains("out.threshold is missing"), "{e}");
    let mut t2 = base_tensors();
    t2.push(("out.beta", vec![3], vec![0.5, 1.0, 1.0]));
    t2.push(("out.threshold", vec![2], vec![1.0, 1.0]));
    let e = err(topology(lif.clone(), true), t2);
    assert!(e.contains("out.beta") && e.contains("shape"), "{e}");
    let mut t3 = base_tensors();
    t3.push(("out.beta", vec![2], vec![0.5, 1.5]));
    t3.push(("out.threshold", vec![2], vec![1.0, 1.0]));
    let e = err(topology(lif.clone(), true), t3);
    assert!(
        e.contains("\"out\"") && e.contains("beta") && e.contains("1.5"),
        "{e}"
    );
    let mut t4 = base_tensors();
    t4.push(("out.beta", vec![2], vec![0.5, 0.5]));
    t4.push(("out.threshold", vec![2], vec![1.0, f32::NAN]));
    let e = err(topology(lif.clone(), true), t4);
    assert!(e.contains("out.threshold") && e.contains("NaN"), "{e}");
    let mut t5 = base_tensors();
    t5.push(("out.beta", vec![2], vec![0.5, 0.5]));
    t5.push(("out.threshold", vec![2], vec![1.0, 0.0]));
    let e = err(topology(lif.clone(), true), t5);
    assert!(e.contains("threshold") && e.contains("> 0"), "{e}");
    let mut t6 = t.clone();
    t6.push(("out.threshold", vec![2], vec![1.0, 1.0]));
    t6.push(("out.alpha", vec![2], vec![0.5, 0.5]));
    let e = err(topology(lif.clone(), true), t6);
    assert!(e.contains("unexpected tensor out.alpha"), "{e}");
    // Per-neuron tensors without "per_neuron": true are extra tensors.
    let mut t7 = t.clone();
    t7.push(("out.threshold", vec![2], vec![1.0, 1.0]));
    let e = err(topology(lif, false), t7);
    assert!(e.contains("unexpected tensor"), "{e}");
}
