//! Runs the `snn` binary: JSON fields and values against independent computations, and exit
//! status 2 with one clear stderr line for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kernels::data::load_mnist;
use kernels::encode::encode_sample;
use kernels::model::{Encoding, IntLayer, IntModel, Layer, LayerOp, Model, Shape};
use kernels::model_io::{save_int_model, save_model};
use kernels::network::IntNetwork;
use kernels::neuron::{FiringRule, IntLifParams, Leak, LifParams, Neuron, ResetMode};
use serde_json::Value;

fn snn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn"))
        .args(args)
        .output()
        .expect("run snn")
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/mnist")
}

fn image() -> Shape {
    Shape {
        channels: 1,
        height: 28,
        width: 28,
    }
}

/// A deterministic 784-16-10 integer model: weights from a fixed formula.
fn int_model() -> IntModel {
    let lif = |threshold| IntLifParams {
        leak: Leak::Shift { k: 4 },
        threshold,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 16,
        syn_leak: None,
    };
    IntModel {
        name: "tiny".into(),
        input: image(),
        timesteps: 8,
        encoding: Encoding::Rate { seed: 5 },
        layers: vec![
            IntLayer {
                name: "flatten".into(),
                op: LayerOp::Flatten { input: image() },
                weight_bits: 8,
                weights: vec![],
                bias: vec![],
                scale: 1.0,
                neuron: None,
            },
            IntLayer {
                name: "fc1".into(),
                op: LayerOp::Dense {
                    inputs: 784,
                    outputs: 16,
                },
                weight_bits: 8,
                weights: (0..784 * 16)
                    .map(|i| ((i * 7919) % 41) as i16 - 20)
                    .collect(),
                bias: vec![0; 16],
                scale: 0.01,
                neuron: Some(lif(60)),
            },
            IntLayer {
                name: "fc2".into(),
                op: LayerOp::Dense {
                    inputs: 16,
                    outputs: 10,
                },
                weight_bits: 8,
                weights: (0..160).map(|i| ((i * 31) % 21) as i16 - 10).collect(),
                bias: vec![],
                scale: 0.01,
                neuron: Some(lif(10)),
            },
        ],
    }
}

fn write_int_model(dir: &Path) -> PathBuf {
    let p = dir.join("tiny.safetensors");
    save_int_model(&int_model(), &p).unwrap();
    p
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "snn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn eval_json_matches_an_independent_count() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_int_model(dir.path());
    let out = snn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--samples",
        "20",
        "--json",
    ]);
    let v = json_of(&out);
    // Independent: run the same 20 test digits through the integer runtime and count
    // spikes x fan-out (784 -> 16, 16 -> 10).
    let m = int_model();
    let net = IntNetwork::new(&m).unwrap();
    let test = load_mnist(data_dir()).unwrap().test;
    let (mut ops, mut correct, mut out_spikes) = (0u64, 0usize, 0u64);
    for i in 0..20 {
        let x = encode_sample(&m.encoding, test.image(i), 8, i as u64).unwrap();
        let r = net.run(x.spikes().unwrap(), false).unwrap();
        ops += r.input_spikes * 16 + r.layer_spike_counts[0] * 10;
        out_spikes += r.layer_spike_counts[0];
        correct += (r.class == test.labels[i] as usize) as usize;
    }
    assert!(ops > 0);
    assert_eq!(v["samples"], 20);
    assert_eq!(v["correct"].as_u64().unwrap() as usize, correct);
    assert!((v["accuracy"].as_f64().unwrap() - correct as f64 / 20.0).abs() < 1e-12);
    assert_eq!(v["synaptic_ops"]["sum_over_samples"].as_u64().unwrap(), ops);
    let total = v["synaptic_ops"]["total"].as_f64().unwrap();
    assert!((total - ops as f64 / 20.0).abs() < 1e-9);
    let fc1 = v["synaptic_ops"]["per_layer"]["fc1"].as_f64().unwrap();
    let fc2 = v["synaptic_ops"]["per_layer"]["fc2"].as_f64().unwrap();
    assert!((fc1 + fc2 - total).abs() < 1e-6);
    assert_eq!(v["ann_macs"]["total"], 784 * 16 + 16 * 10);
    // Weights: (784*16 + 16*10) * 8 bits + 16 biases at the 16-bit membrane width.
    assert_eq!(v["memory_bits"]["weights"], (784 * 16 + 160) * 8 + 16 * 16);
    assert_eq!(v["memory_bits"]["membranes"], 26 * 16);
    assert!(v["memory_bits"]["peak_spikes"].as_u64().unwrap() > 0);
    let rate = v["spike_rates"]["fc1"].as_f64().unwrap();
    assert!((rate - out_spikes as f64 / (20.0 * 8.0 * 16.0)).abs() < 1e-12);
    assert!(v["spike_rates"]["input"].as_f64().unwrap() > 0.0);
    assert_eq!(v["energy"]["e_ac_pj"], 0.9);
    assert_eq!(v["energy"]["e_mac_pj"], 4.6);
    let snn_pj = v["energy"]["snn_pj"].as_f64().unwrap();
    assert!((snn_pj - total * 0.9).abs() < 1e-6);
    assert!((v["energy"]["ann_pj"].as_f64().unwrap() - (784.0 * 16.0 + 160.0) * 4.6).abs() < 1e-6);

    // Overridden energy constants.
    let v = json_of(&snn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--samples",
        "20",
        "--json",
        "--e-ac",
        "2",
        "--e-mac",
        "10",
    ]));
    assert!((v["energy"]["snn_pj"].as_f64().unwrap() - total * 2.0).abs() < 1e-6);
    assert_eq!(v["energy"]["e_mac_pj"], 10.0);

    // The table mentions the accuracy and the energy constants.
    let out = snn(&["eval", "--model", model.to_str().unwrap(), "--samples", "5"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("accuracy") && text.contains("E_AC = 0.9 pJ"),
        "{text}"
    );
}

#[test]
fn bench_json_fields() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_int_model(dir.path());
    let v = json_of(&snn(&[
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--samples",
        "40",
        "--min-time",
        "0.05",
        "--json",
    ]));
    for k in ["images_per_s", "dense_baseline_images_per_s", "gsop_per_s"] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {v}");
    }
    assert_eq!(v["samples"], 40);
    // Same network: the integer model's f32 twin classifies most images the same way.
    assert!(
        v["dense_baseline"]["class_agreement"].as_f64().unwrap() >= 0.8,
        "{v}"
    );
}

#[test]
fn float_model_eval_and_bench() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.safetensors");
    let m = Model {
        name: "f".into(),
        input: image(),
        timesteps: 5,
        encoding: Encoding::Direct,
        layers: vec![
            Layer {
                name: "flatten".into(),
                op: LayerOp::Flatten { input: image() },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "fc".into(),
                op: LayerOp::Dense {
                    inputs: 784,
                    outputs: 10,
                },
                weights: (0..7840).map(|i| ((i % 13) as f32 - 6.0) / 64.0).collect(),
                bias: vec![],
                neuron: Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0))),
            },
        ],
    };
    save_model(&m, &p).unwrap();
    let v = json_of(&snn(&[
        "eval",
        "--model",
        p.to_str().unwrap(),
        "--samples",
        "4",
        "--json",
    ]));
    // Direct encoding: the first layer multiplies analog pixels, 784 x 10 every step.
    assert_eq!(v["analog_macs"], 784.0 * 10.0 * 5.0);
    assert_eq!(v["kind"], "float");
    let v = json_of(&snn(&[
        "bench",
        "--model",
        p.to_str().unwrap(),
        "--samples",
        "8",
        "--min-time",
        "0.02",
        "--json",
    ]));
    assert!(v["images_per_s"].as_f64().unwrap() > 0.0);
}

/// Runs snn expecting exit status 2 and exactly one stderr line containing every `needle`.
fn fails(args: &[&str], needles: &[&str]) {
    let out = snn(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
    }
    assert!(out.stdout.is_empty(), "no output on error");
}

#[test]
fn bad_model_files_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let missing = d.join("missing.safetensors");
    fails(
        &["eval", "--model", missing.to_str().unwrap()],
        &["missing.safetensors", "cannot open"],
    );
    let garbage = d.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model, just some text\n").unwrap();
    fails(
        &["eval", "--model", garbage.to_str().unwrap()],
        &["garbage.safetensors", "not a safetensors file"],
    );
    let good = std::fs::read(write_int_model(d)).unwrap();
    let cut = d.join("cut.safetensors");
    std::fs::write(&cut, &good[..good.len() - 100]).unwrap();
    fails(
        &["bench", "--model", cut.to_str().unwrap()],
        &["cut.safetensors", "truncated"],
    );
    let empty = d.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    fails(
        &["eval", "--model", empty.to_str().unwrap()],
        &["empty.safetensors"],
    );
    fails(
        &["eval", "--model", d.to_str().unwrap()],
        &["not a regular file"],
    );
    // A valid model for 100 inputs cannot take 784-pixel images.
    let mut m = int_model();
    m.input = Shape::flat(100);
    m.layers.remove(0);
    m.layers[0].op = LayerOp::Dense {
        inputs: 100,
        outputs: 16,
    };
    m.layers[0].weights.truncate(1600);
    let small = d.join("small.safetensors");
    save_int_model(&m, &small).unwrap();
    fails(
        &["eval", "--model", small.to_str().unwrap()],
        &["small.safetensors", "100 inputs", "784 pixels"],
    );
}

#[test]
fn bad_arguments_and_data_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_int_model(dir.path());
    let m = model.to_str().unwrap();
    fails(&["eval", "--model", m, "--samples", "0"], &["--samples"]);
    fails(
        &["eval", "--model", m, "--samples", "5000"],
        &["--samples 5000"],
    );
    fails(&["eval", "--model", m, "--e-ac=-1"], &["E_AC"]);
    fails(&["eval", "--model", m, "--e-mac", "nan"], &["E_MAC"]);
    fails(&["bench", "--model", m, "--min-time", "0"], &["--min-time"]);
    fails(
        &["eval", "--model", m, "--data", dir.path().to_str().unwrap()],
        &["images-idx3-ubyte", "cannot open"],
    );
    // Usage errors (clap): one "error:" line then usage; status 2.
    for args in [
        &["eval", "--samples", "abc"][..],
        &["eval", "--model", m, "--float"][..],
        &["frobnicate"][..],
        &["eval", "--no-such-flag"][..],
    ] {
        let out = snn(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error:"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_and_default_model() {
    for sub in ["eval", "bench"] {
        let out = snn(&[sub, "--help"]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("--json"));
    }
    // Without --model the bundled model is used: it either exists and evaluates, or the
    // error names it.
    let bundled =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/mnist_mlp_int8.safetensors");
    let out = snn(&["eval", "--samples", "3", "--json"]);
    if bundled.exists() {
        let v = json_of(&out);
        assert_eq!(v["samples"], 3);
        assert!(
            v["model"]
                .as_str()
                .unwrap()
                .ends_with("mnist_mlp_int8.safetensors")
        );
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("mnist_mlp_int8.safetensors"));
    }
}

#[test]
fn train_quantize_convert_small_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.safetensors");
    let v = json_of(&snn(&[
        "train",
        "--out",
        f.to_str().unwrap(),
        "--train-samples",
        "200",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--timesteps",
        "5",
        "--json",
    ]));
    assert_eq!(v["train_samples"], 200);
    assert_eq!(v["test_samples"], 2000);
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    let m = kernels::model_io::load_model(&f).unwrap();
    assert_eq!(m.timesteps, 5);
    assert_eq!(m.layers.iter().filter(|l| l.neuron.is_some()).count(), 2);
    let dense: Vec<_> = m.layers.iter().filter(|l| l.op.has_weights()).collect();
    assert_eq!(
        dense[0].op,
        LayerOp::Dense {
            inputs: 784,
            outputs: 8
        }
    );

    let q = dir.path().join("q.safetensors");
    let v = json_of(&snn(&[
        "quantize",
        "--model",
        f.to_str().unwrap(),
        "--out",
        q.to_str().unwrap(),
        "--calibration",
        "50",
        "--weight-bits",
        "6",
        "--json",
    ]));
    for k in ["float_accuracy", "int_accuracy"] {
        assert!((0.0..=1.0).contains(&v[k].as_f64().unwrap()), "{k}");
    }
    assert_eq!(v["layers"].as_array().unwrap().len(), 2);
    let im = kernels::model_io::load_int_model(&q).unwrap();
    assert!(
        im.layers
            .iter()
            .all(|l| !l.op.has_weights() || l.weight_bits == 6)
    );
    // The quantized model evaluates.
    let e = json_of(&snn(&[
        "eval",
        "--model",
        q.to_str().unwrap(),
        "--samples",
        "10",
        "--json",
    ]));
    assert_eq!(e["kind"], "int");

    let c = dir.path().join("c.safetensors");
    let v = json_of(&snn(&[
        "convert",
        "--out",
        c.to_str().unwrap(),
        "--train-samples",
        "200",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--t-sweep",
        "5,10",
        "--json",
    ]));
    let sweep = v["accuracy_vs_t"].as_array().unwrap();
    assert_eq!(sweep.len(), 2);
    assert_eq!(sweep[1]["timesteps"], 10);
    assert!(kernels::model_io::load_model(&c).is_ok());
}

#[test]
fn training_commands_refuse_bad_input_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let nowhere = d.join("no/such/dir/m.safetensors");
    fails(
        &["train", "--out", nowhere.to_str().unwrap()],
        &["no/such/dir", "does not exist"],
    );
    let out = d.join("m.safetensors");
    let o = out.to_str().unwrap();
    fails(&["train", "--out", o, "--name", "module"], &["keyword"]);
    fails(
        &["train", "--out", o, "--train-samples", "9000"],
        &["--train-samples 9000"],
    );
    fails(&["train", "--out", o, "--timesteps", "0"], &["timesteps 0"]);
    fails(&["convert", "--out", o, "--t-sweep", "0,5"], &["--t-sweep"]);
    fails(
        &["convert", "--out", o, "--hidden", "100000000"],
        &["--hidden"],
    );
    fails(&["train", "--out", o, "--hidden", "0"], &["hidden"]);
    let int = write_int_model(d);
    fails(
        &["quantize", "--model", int.to_str().unwrap(), "--out", o],
        &["tiny.safetensors", "integer model"],
    );
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["tiny.safetensors"],
        "no output file may be left behind"
    );
}

#[test]
fn eval_timesteps_override() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_int_model(dir.path());
    let m = model.to_str().unwrap();
    let v = json_of(&snn(&[
        "eval",
        "--model",
        m,
        "--samples",
        "6",
        "--timesteps",
        "3",
        "--json",
    ]));
    assert_eq!(v["timesteps"], 3);
    // Independent count at T = 3.
    let mut im = int_model();
    im.timesteps = 3;
    let net = IntNetwork::new(&im).unwrap();
    let test = load_mnist(data_dir()).unwrap().test;
    let ops: u64 = (0..6)
        .map(|i| {
            let x = encode_sample(&im.encoding, test.image(i), 3, i as u64).unwrap();
            let r = net.run(x.spikes().unwrap(), false).unwrap();
            r.input_spikes * 16 + r.layer_spike_counts[0] * 10
        })
        .sum();
    assert_eq!(v["synaptic_ops"]["sum_over_samples"].as_u64().unwrap(), ops);
    fails(
        &["eval", "--model", m, "--timesteps", "0"],
        &["--timesteps 0"],
    );
}
