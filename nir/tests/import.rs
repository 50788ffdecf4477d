//! NIR import: fixtures written by `scripts/make-nir-fixtures` (nir 1.0.8) and real files from
//! other frameworks. Expected spikes and membranes come from Python (snnTorch's update equations
//! in float32), never from this crate.

use std::path::{Path, PathBuf};

use kernels::decode::Readout;
use kernels::model::{LayerOp, Shape};
use kernels::network::{Input, Network};
use kernels::neuron::{FiringRule, LiParams, LifParams, Neuron, PerNeuron, ResetMode};
use kernels::spikes::SpikeTrain;
use snn_nir::{Error, ImportOptions, Semantics, import, import_bytes};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn opts() -> ImportOptions {
    ImportOptions::default()
}

/// Imports `name`, runs the f32 network on the fixture's input spikes and compares every
/// layer's spikes and membrane potentials bit for bit with the Python reference.
fn check_expected(name: &str) {
    check_expected_with(name, &opts());
}

fn check_expected_with(name: &str, opts: &ImportOptions) -> kernels::network::FloatRun {
    let (model, report) = import(&fixture(&format!("{name}.nir")), opts).unwrap();
    let text = std::fs::read_to_string(fixture(&format!("{name}.expected.json"))).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = doc["timesteps"].as_u64().unwrap() as usize;
    let inputs = doc["inputs"].as_u64().unwrap() as usize;
    let dense: Vec<bool> = doc["input_spikes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64() == Some(1)))
        .collect();
    let x = SpikeTrain::from_bools(steps, inputs, &dense).unwrap();
    let net = Network::new(&model).unwrap();
    let run = net.run(&Input::Spikes(&x), true).unwrap();
    let trace = run.trace.as_ref().unwrap();
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(trace.len(), layers.len(), "{report}");
    let mut total = 0;
    for (li, (got, want)) in trace.iter().zip(layers).enumerate() {
        let ws: Vec<bool> = want["spikes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64() == Some(1)))
            .collect();
        let wm: Vec<f32> = want["membranes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
            })
            .collect();
        assert_eq!(got.spikes.to_bools(), ws, "{name}: layer {li} spikes");
        let gm: Vec<u32> = got.membranes.iter().map(|v| v.to_bits()).collect();
        let wmb: Vec<u32> = wm.iter().map(|v| v.to_bits()).collect();
        assert_eq!(gm, wmb, "{name}: layer {li} membranes (bitwise)");
        total += ws.iter().filter(|b| **b).count();
    }
    assert!(total > 10, "the fixture must exercise spiking");
    run
}

/// The Python reference of a readout fixture: `(scores, class)` for `rule`.
fn expected_readout(name: &str, rule: &str) -> (Vec<f32>, usize) {
    let text = std::fs::read_to_string(fixture(&format!("{name}.expected.json"))).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &doc["readout"][rule];
    let scores = r["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    (scores, r["class"].as_u64().unwrap() as usize)
}

/// Spikes and membranes of every layer bit for bit (`check_expected_with`), then the readout
/// scores and class of every decoding rule bit for bit.
fn check_readout(name: &str) {
    for (rule, key) in [
        (Readout::Max, "max"),
        (Readout::Final, "final"),
        (Readout::Mean, "mean"),
    ] {
        let o = ImportOptions {
            readout: rule,
            ..opts()
        };
        let run = check_expected_with(name, &o);
        let (scores, class) = expected_readout(name, key);
        let got: Vec<u32> = run.readout.unwrap().iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = scores.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "{name}: {key} scores (bitwise)");
        assert_eq!(run.class, class, "{name}: {key} class");
    }
}

#[test]
fn li_readout_reproduces_python_exactly() {
    check_readout("li_readout");
    let (m, report) = import(&fixture("li_readout.nir"), &opts()).unwrap();
    assert_eq!(
        m.layers[1].neuron,
        Some(Neuron::Li(LiParams {
            beta: 0.875,
            alpha: None,
            readout: Readout::Max
        }))
    );
    let text = report.to_string();
    assert!(
        text.contains("LI readout tau")
            && text.contains("beta = 1 - dt/tau = 0.875")
            && text.contains("argmax of the maximum over time"),
        "{text}"
    );
}

#[test]
fn cubali_readout_and_per_neuron_cubalif_reproduce_python_exactly() {
    check_readout("cubali_per_neuron");
    let (m, report) = import(&fixture("cubali_per_neuron.nir"), &opts()).unwrap();
    // The script's per-neuron values, recovered exactly.
    let want = PerNeuron::new(
        Neuron::Synaptic {
            alpha: 0.5,
            lif: LifParams::snntorch(0.875, 1.0),
        },
        vec![0.875, 0.9, 0.75, 0.5, 0.95, 0.8, 1.0 - 1.0 / 64.0, 0.7],
        vec![1.0, 0.5, 0.5, 0.75, 1.0, 2.0, 1.25, 0.5],
        vec![0.5, 0.75, 0.25, 0.5, 0.875, 0.7, 0.5, 0.625],
    );
    assert_eq!(m.layers[0].neuron, Some(Neuron::PerNeuron(Box::new(want))));
    assert_eq!(
        m.layers[1].neuron,
        Some(Neuron::Li(LiParams {
            beta: 0.75,
            alpha: Some(0.5),
            readout: Readout::Max
        }))
    );
    let text = report.to_string();
    assert!(
        text.contains("CubaLI readout") && text.contains("per-neuron values kept"),
        "{text}"
    );
}

#[test]
fn integrator_readout_and_per_neuron_lif_reproduce_python_exactly() {
    check_readout("integrator_per_neuron");
    let (m, report) = import(&fixture("integrator_per_neuron.nir"), &opts()).unwrap();
    let Some(Neuron::PerNeuron(p)) = &m.layers[0].neuron else {
        panic!("{:?}", m.layers[0].neuron)
    };
    assert_eq!(p.beta, vec![0.5, 0.75, 0.9, 0.95, 1.0 - 1.0 / 32.0, 0.8]);
    assert_eq!(p.threshold, vec![0.5, 1.0, 1.5, 0.75, 1.25, 2.0]);
    assert!(p.alpha.is_empty());
    assert!(
        report
            .to_string()
            .contains("I (integrator) readout: beta = 1")
    );
}

/// Norse's LIBoxCell update, `v += dt / tau * ((v_leak - v) + I)`, computed by Python in
/// Norse's operation order: the imported `beta v + gain I + drive` (with the drive
/// `dt / tau * v_leak` in the bias) agrees within float rounding, and the classes agree.
#[test]
fn norse_li_matches_norse_within_float_rounding() {
    let o = ImportOptions {
        semantics: Semantics::Norse,
        ..opts()
    };
    let (m, report) = import(&fixture("norse_li.nir"), &o).unwrap();
    let text = std::fs::read_to_string(fixture("norse_li.expected.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bools: Vec<bool> = doc["input_spikes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64() == Some(1)))
        .collect();
    let x = SpikeTrain::from_bools(25, 8, &bools).unwrap();
    let want: Vec<f32> = doc["layers"][0]["membranes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    let run = Network::new(&m)
        .unwrap()
        .run(&Input::Spikes(&x), true)
        .unwrap();
    let got = &run.trace.as_ref().unwrap()[0].membranes;
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
            "step {} neuron {}: {g} vs Norse {w}\n{report}",
            i / 3,
            i % 3
        );
    }
    assert_eq!(run.class, expected_readout("norse_li", "max").1);
    // beta = 1 - dt/tau per neuron (tau 8 ms, 4 ms, 20 ms at dt = 1 ms): per-neuron values.
    let Some(Neuron::PerNeuron(p)) = &m.layers[0].neuron else {
        panic!("{:?}", m.layers[0].neuron)
    };
    assert_eq!(p.beta, vec![0.875, 0.75, 0.95]);
    assert!(report.to_string().contains("v_leak drive"), "{report}");
}

#[test]
fn snntorch_lif_mlp_reproduces_python_spikes_and_membranes_exactly() {
    check_expected("snntorch_lif_mlp");
}

#[test]
fn if_network_uncompressed_reproduces_python_exactly() {
    check_expected("if_net_uncompressed");
}

#[test]
fn cubalif_network_reproduces_python_exactly() {
    check_expected("snntorch_cubalif");
}

#[test]
fn conv_pool_network_with_folded_pooling_reproduces_python_exactly() {
    // Python runs the NIR layers as written (conv, IF, sum pool, conv, LIF, average pool,
    // flatten, affine, LIF); the imported model has the pooling folded into the weights.
    check_expected("conv_pool");
}

#[test]
fn scale_and_threshold_nodes_reproduce_python_exactly() {
    check_expected("scale_threshold");
    let (m, report) = import(&fixture("scale_threshold.nir"), &opts()).unwrap();
    assert_eq!(report.layers[0].nodes, vec!["s_in", "fc1", "s_out", "thr"]);
    let p = *m.layers[0].neuron.as_ref().unwrap().lif().unwrap();
    assert_eq!((p.beta, p.threshold, p.reset), (0.0, 0.5, ResetMode::Zero));
}

#[test]
fn snntorch_mapping_recovers_beta_and_reports_it() {
    let (model, report) = import(&fixture("snntorch_lif_mlp.nir"), &opts()).unwrap();
    // The script exported Leaky(beta = 0.9, threshold 1) and Leaky(0.8, 0.5) as snnTorch does.
    assert_eq!(
        model.layers[0].neuron,
        Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0)))
    );
    assert_eq!(
        model.layers[1].neuron,
        Some(Neuron::Lif(LifParams::snntorch(0.8, 0.5)))
    );
    assert_eq!(model.timesteps, 25);
    assert_eq!(model.encoding, kernels::model::Encoding::Rate { seed: 0 });
    assert_eq!(report.dt, 1e-4);
    assert_eq!(report.reset, ResetMode::Subtract);
    let text = report.to_string();
    assert!(text.contains("snntorch semantics"), "{text}");
    assert!(text.contains("beta = 1 - dt/tau"), "{text}");
    // Layer order comes from the edges: "0" -> "1" -> "2" -> "3".
    assert_eq!(report.layers[0].nodes, vec!["0", "1"]);
    assert_eq!(report.layers[1].nodes, vec!["2", "3"]);
}

#[test]
fn options_are_applied_and_saved() {
    let o = ImportOptions {
        dt: Some(2e-4),
        reset: Some(ResetMode::Zero),
        timesteps: 40,
        encoding: snn_nir::InputEncoding::Direct,
        name: Some("mlp".into()),
        ..opts()
    };
    let (model, report) = import(&fixture("snntorch_lif_mlp.nir"), &o).unwrap();
    assert_eq!(model.name, "mlp");
    assert_eq!(model.timesteps, 40);
    assert_eq!(model.encoding, kernels::model::Encoding::Direct);
    let p = *model.layers[0].neuron.as_ref().unwrap().lif().unwrap();
    assert_eq!(p.reset, ResetMode::Zero);
    // tau = 1e-4 / (1 - 0.9) = 1e-3 s; with dt = 2e-4: beta = 1 - 0.2 = 0.8 (float rounding of
    // the stored f32 tau stays far below f32 resolution).
    assert!((p.beta - 0.8).abs() < 1e-6, "{}", p.beta);
    assert_eq!(report.dt, 2e-4);
    // The input gain r*dt/tau = (tau/1e-4)*2e-4/tau = 2 is folded into the weights.
    let (base, _) = import(&fixture("snntorch_lif_mlp.nir"), &opts()).unwrap();
    for (a, b) in model.layers[0].weights.iter().zip(&base.layers[0].weights) {
        assert!(
            (a - 2.0 * b).abs() <= 1e-6 * b.abs().max(1.0),
            "{a} vs 2 * {b}"
        );
    }
}

#[test]
fn norse_and_spikingjelly_semantics() {
    // Norse's LIF (tau = 0.0025 s, threshold 0.1, r = 1), default dt = 1e-3:
    // beta = 1 - 0.001 / 0.0025 = 0.6, input gain dt/tau = 0.4, zero reset in the same step.
    let o = ImportOptions {
        semantics: Semantics::Norse,
        ..opts()
    };
    let (m, report) = import(&fixture("frameworks/lif_norse.nir"), &o).unwrap();
    let p = *m.layers[0].neuron.as_ref().unwrap().lif().unwrap();
    assert!((p.beta - 0.6).abs() < 1e-6);
    assert!((p.threshold - 0.1).abs() < 1e-7);
    assert_eq!(p.reset, ResetMode::Zero);
    assert_eq!(p.rule, FiringRule::Spikingjelly);
    assert!((m.layers[0].weights[0] - 0.4).abs() < 1e-6);
    assert_eq!(report.dt, 1e-3);
    assert!(report.notes.iter().any(|n| n.contains(">= theta")));
    let o = ImportOptions {
        semantics: Semantics::Spikingjelly,
        reset: Some(ResetMode::Subtract),
        ..opts()
    };
    let (m, _) = import(&fixture("frameworks/lif_norse.nir"), &o).unwrap();
    let p = *m.layers[0].neuron.as_ref().unwrap().lif().unwrap();
    assert_eq!(
        (p.reset, p.rule),
        (ResetMode::Subtract, FiringRule::Spikingjelly)
    );
    // CubaLIF under Norse's discretisation is refused, naming the node.
    let o = ImportOptions {
        semantics: Semantics::Norse,
        ..opts()
    };
    match import(&fixture("snntorch_cubalif.nir"), &o) {
        Err(Error::Node { node, message }) => {
            assert_eq!(node, "1");
            assert!(message.contains("Norse"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn norse_file_runs_under_both_semantics() {
    // lif_norse.nir: Affine(1x1, w = 1, b = 0) -> LIF(tau 0.0025, r 1, threshold 0.1), input
    // spiking every step.
    // snntorch (dt 1e-4): beta 0.96, gain 0.04: v = 0.04, 0.0784, 0.115264 > 0.1 -> first
    // spike at step 2.
    // norse (dt 1e-3): beta 0.6, gain 0.4: v = 0.4 >= 0.1 -> spike and reset every step.
    let x = SpikeTrain::from_bools(3, 1, &[true; 3]).unwrap();
    let run = |sem| {
        let o = ImportOptions {
            semantics: sem,
            ..opts()
        };
        let (m, _) = import(&fixture("frameworks/lif_norse.nir"), &o).unwrap();
        let r = Network::new(&m)
            .unwrap()
            .run(&Input::Spikes(&x), true)
            .unwrap();
        r.trace.unwrap()[0].spikes.to_bools()
    };
    assert_eq!(run(Semantics::Snntorch), vec![false, false, true]);
    assert_eq!(run(Semantics::Norse), vec![true, true, true]);
}

#[test]
fn v_leak_becomes_a_bias_and_r_a_gain() {
    // two_lif_neurons.nir: Linear(1) -> LIF(tau 0.01, r 1, v_leak 1.2, thr 1) -> Linear(1) ->
    // LIF(tau 0.01, v_leak 0, thr 20). dt = 1e-4: beta = 0.99, gain r*dt/tau = 0.01, drive
    // dt/tau * v_leak = 0.012.
    let (m, _) = import(&fixture("frameworks/two_lif_neurons.nir"), &opts()).unwrap();
    assert_eq!(m.layers.len(), 2);
    let l = &m.layers[0];
    assert!((l.weights[0] - 0.01).abs() < 1e-9);
    assert!((l.bias[0] - 0.012).abs() < 1e-9);
    assert!((l.neuron.as_ref().unwrap().lif().unwrap().beta - 0.99).abs() < 1e-7);
    assert_eq!(
        m.layers[1]
            .neuron
            .as_ref()
            .unwrap()
            .lif()
            .unwrap()
            .threshold,
        20.0
    );
    assert!(m.layers[1].bias.is_empty());
}

#[test]
fn rockpool_output_shape_is_accepted_leniently() {
    let (m, _) = import(&fixture("frameworks/lif_rockpool.nir"), &opts()).unwrap();
    assert_eq!(m.input, Shape::flat(1));
    assert_eq!(m.layers.len(), 1);
    Network::new(&m).unwrap();
}

#[test]
fn sinabs_cnn_structure() {
    let (m, _) = import(&fixture("frameworks/cnn_sinabs.nir"), &opts()).unwrap();
    let s = |c, h, w| Shape {
        channels: c,
        height: h,
        width: w,
    };
    let ops: Vec<LayerOp> = m.layers.iter().map(|l| l.op).collect();
    assert_eq!(m.input, s(2, 34, 34));
    assert_eq!(
        ops,
        vec![
            LayerOp::Conv2d {
                input: s(2, 34, 34),
                out_channels: 16,
                kernel: [5, 5],
                stride: 2,
                padding: 1
            },
            LayerOp::Conv2d {
                input: s(16, 16, 16),
                out_channels: 16,
                kernel: [3, 3],
                stride: 1,
                padding: 1
            },
            // SumPool2d(2) + Conv2d(3x3, s1, p1) folded: kernel 6x6, stride 2, padding 2.
            LayerOp::Conv2d {
                input: s(16, 16, 16),
                out_channels: 8,
                kernel: [6, 6],
                stride: 2,
                padding: 2
            },
            // SumPool2d(2) + Flatten + Affine(128) folded: flatten the 8x8x8 map, 512 inputs.
            LayerOp::Flatten { input: s(8, 8, 8) },
            LayerOp::Dense {
                inputs: 512,
                outputs: 256
            },
            LayerOp::Dense {
                inputs: 256,
                outputs: 10
            },
        ]
    );
    for l in &m.layers {
        if let Some(n) = &l.neuron {
            assert_eq!(*n, Neuron::Lif(LifParams::snntorch(1.0, 1.0)), "{}", l.name);
        }
    }
}

#[test]
fn sinabs_nmnist_cnn_runs_on_an_nmnist_event_sample() {
    // The real Sinabs N-MNIST CNN, fed with the N-MNIST-format sample binned into 10 frames.
    // No reference output exists for it (Sinabs is not installed); this checks it runs.
    use kernels::events::{Binning, NMNIST_SIZE, read_nmnist, to_spike_train};
    let (m, _) = import(&fixture("frameworks/cnn_sinabs.nir"), &opts()).unwrap();
    let ev = read_nmnist(&fixture("events/nmnist_sample.bin")).unwrap();
    let x = to_spike_train(
        &ev,
        NMNIST_SIZE,
        NMNIST_SIZE,
        Binning::TimeBins { bins: 10 },
    )
    .unwrap();
    let run = Network::new(&m)
        .unwrap()
        .run(&Input::Spikes(&x), false)
        .unwrap();
    assert_eq!(run.counts.len(), 10);
    assert!(run.input_spikes > 0);
}

#[test]
fn conv_pool_fixture_structure_and_order_from_edges() {
    // Node names "10" and "11" sort before "2": the order must come from the edges. Pooling is
    // folded into the weight layer after it (the runtime feeds weight layers spikes only).
    let (m, report) = import(&fixture("conv_pool.nir"), &opts()).unwrap();
    let names: Vec<Vec<String>> = report.layers.iter().map(|l| l.nodes.clone()).collect();
    assert_eq!(
        names,
        vec![
            vec!["1", "2"],
            vec!["3", "4", "5"],
            vec!["7"],
            vec!["6", "7", "10", "11"]
        ]
    );
    let s = |c, h, w| Shape {
        channels: c,
        height: h,
        width: w,
    };
    let ops: Vec<LayerOp> = m.layers.iter().map(|l| l.op).collect();
    assert_eq!(
        ops,
        vec![
            LayerOp::Conv2d {
                input: s(2, 12, 12),
                out_channels: 4,
                kernel: [3, 3],
                stride: 1,
                padding: 1
            },
            LayerOp::Conv2d {
                input: s(4, 12, 12),
                out_channels: 6,
                kernel: [6, 6],
                stride: 2,
                padding: 2
            },
            LayerOp::Flatten { input: s(6, 6, 6) },
            LayerOp::Dense {
                inputs: 216,
                outputs: 5
            },
        ]
    );
    assert_eq!(
        m.layers[1].neuron,
        Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0)))
    );
}

fn expect_graph_error(path: &str, needles: &[&str]) {
    match import(&fixture(path), &opts()) {
        Err(e @ (Error::Graph(_) | Error::Node { .. })) => {
            let text = e.to_string();
            for n in needles {
                assert!(text.contains(n), "{path}: {text:?} lacks {n:?}");
            }
        }
        other => panic!("{path}: expected a graph or node error, got {other:?}"),
    }
}

#[test]
fn unsupported_graphs_name_the_nodes() {
    expect_graph_error(
        "frameworks/braille_rnn.nir",
        &["cycle lif1.lif -> lif1.w_rec -> lif1.lif"],
    );
    expect_graph_error(
        "frameworks/braille_subgraph_broken.nir",
        &["lif1/\"lif\"", "does not exist"],
    );
    expect_graph_error("bad/cycle.nir", &["cycle b -> c -> b"]);
    expect_graph_error("bad/branch.nir", &["\"a\" branches to [b, c]"]);
    expect_graph_error("bad/missing_tau.nir", &["\"b\"", "missing its \"tau\""]);
    expect_graph_error("bad/unknown_type.nir", &["\"b\"", "\"Delay\""]);
    expect_graph_error("bad/shape_mismatch.nir", &["\"a\"", "4 inputs", "[5]"]);
    expect_graph_error("bad/li_not_last.nir", &["\"b\"", "readout", "\"c\""]);
    expect_graph_error(
        "bad/conv_gain_per_neuron.nir",
        &["\"b\"", "input gain varies within channel 0"],
    );
    expect_graph_error(
        "bad/neuron_without_weights.nir",
        &["\"b\"", "must follow an Affine"],
    );
    expect_graph_error(
        "bad/weights_without_neurons.nir",
        &["\"output\"", "no spiking neurons"],
    );
}

#[test]
fn non_hdf5_truncated_and_corrupt_files_are_errors_not_panics() {
    assert!(matches!(
        import_bytes(b"this is not an HDF5 file", &opts()),
        Err(Error::Format(m)) if m.contains("not an HDF5")
    ));
    assert!(matches!(import_bytes(&[], &opts()), Err(Error::Format(_))));
    let missing = import(Path::new("/nonexistent/x.nir"), &opts());
    assert!(matches!(missing, Err(Error::Io(m)) if m.contains("/nonexistent/x.nir")));
    let good = std::fs::read(fixture("snntorch_lif_mlp.nir")).unwrap();
    assert!(import_bytes(&good, &opts()).is_ok());
    // Every truncation point (in steps) must give an error, never a panic or a model.
    let mut cut = 8;
    while cut < good.len() {
        assert!(
            import_bytes(&good[..cut], &opts()).is_err(),
            "truncated at {cut} of {} bytes was accepted",
            good.len()
        );
        cut += 509;
    }
    // Flipped bytes: each corrupted copy may fail or (if the byte was slack) still import, but
    // must not panic.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..300 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bad = good.clone();
        let i = (state as usize) % bad.len();
        bad[i] ^= (state >> 32) as u8 | 1;
        let _ = import_bytes(&bad, &opts());
    }
}

#[test]
fn bad_options_are_refused() {
    let f = fixture("snntorch_lif_mlp.nir");
    for o in [
        ImportOptions {
            timesteps: 0,
            ..opts()
        },
        ImportOptions {
            dt: Some(-1.0),
            ..opts()
        },
        ImportOptions {
            name: Some("module".into()),
            ..opts()
        },
    ] {
        assert!(matches!(import(&f, &o), Err(Error::Options(_))), "{o:?}");
    }
    // dt larger than tau (1e-3 s) gives a negative decay: refused naming the node.
    let o = ImportOptions {
        dt: Some(5e-3),
        ..opts()
    };
    assert!(matches!(import(&f, &o), Err(Error::Node { node, .. }) if node == "1"));
    assert!(Semantics::parse("brian").is_err());
    assert!(snn_nir::parse_reset("none").is_err());
}
