//! `snn eval` on a model whose last layer is a non-spiking readout (leaky integrator): the
//! class comes from the readout's potentials, not from (absent) output spikes; and the integer
//! path refuses such models naming the layer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kernels::data::load_mnist;
use kernels::decode::Readout;
use kernels::encode::encode_sample;
use kernels::model::Model;
use kernels::model_io::{load_model, save_model};
use kernels::network::{Input, Network};
use kernels::neuron::{LiParams, Neuron, PerNeuron};
use serde_json::Value;

fn snn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn"))
        .args(args)
        .output()
        .expect("run snn")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled float MNIST model with its output layer replaced by an integrator readout
/// (beta 1, final potential): the class is the argmax of the output layer's summed input
/// current, which a network trained on output spike counts ranks almost the same way.
fn readout_model(readout: Readout) -> Model {
    let mut m = load_model(root().join("models/mnist_mlp.safetensors")).unwrap();
    let last = m.layers.len() - 1;
    m.layers[last].neuron = Some(Neuron::Li(LiParams {
        beta: 1.0,
        alpha: None,
        readout,
    }));
    m
}

fn eval_json(model: &Path, samples: usize) -> Value {
    let n = samples.to_string();
    let out = snn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--samples",
        &n,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "snn eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn eval_classifies_by_the_readout_potentials() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("readout.safetensors");
    let m = readout_model(Readout::Final);
    save_model(&m, &p).unwrap();
    let v = eval_json(&p, 100);
    // Output spikes would give class 0 for every digit (about 10 % accuracy).
    let acc = v["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.85, "accuracy {acc}: {v}");
    // The same count from the library's runs of the same encoded digits.
    let net = Network::new(&m).unwrap();
    let test = load_mnist(root().join("data/mnist")).unwrap().test;
    let mut correct = 0;
    for i in 0..100 {
        let x = encode_sample(&m.encoding, test.image(i), m.timesteps, i as u64).unwrap();
        let r = net.run(&Input::Spikes(x.spikes().unwrap()), false).unwrap();
        correct += (r.class == test.labels[i] as usize) as u64;
    }
    assert_eq!(v["correct"].as_u64().unwrap(), correct);
    // Metrics: the readout layer emits no spikes; membranes are one per neuron (128 + 10).
    assert_eq!(v["spike_rates"]["fc2"].as_f64().unwrap(), 0.0, "{v}");
    assert_eq!(v["memory_bits"]["membranes"], (128 + 10) * 32);
    assert!(v["synaptic_ops"]["per_layer"]["fc2"].as_f64().unwrap() > 0.0);
}

#[test]
fn integer_path_refuses_readouts_and_per_neuron_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("readout.safetensors");
    save_model(&readout_model(Readout::Max), &p).unwrap();
    let o = dir.path().join("int.safetensors");
    let o = o.to_str().unwrap();
    let quantize = |m: &Path| {
        snn(&[
            "quantize",
            "--model",
            m.to_str().unwrap(),
            "--out",
            o,
            "--calibration",
            "4",
        ])
    };
    let out = quantize(&p);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"fc2\"") && err.contains("non-spiking readout"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let mut m = load_model(root().join("models/mnist_mlp.safetensors")).unwrap();
    let base = m.layers[0].neuron.clone().unwrap();
    let beta: Vec<f32> = (0..128).map(|i| 0.5 + i as f32 / 512.0).collect();
    let th = vec![base.lif().unwrap().threshold; 128];
    m.layers[0].neuron = Some(Neuron::PerNeuron(Box::new(PerNeuron::new(
        base,
        beta,
        th,
        vec![],
    ))));
    let q = dir.path().join("per_neuron.safetensors");
    save_model(&m, &q).unwrap();
    // The float runtime runs it ...
    let v = eval_json(&q, 10);
    assert_eq!(v["samples"], 10);
    // ... the integer path refuses it.
    let out = quantize(&q);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"fc1\"") && err.contains("per-neuron"),
        "{err}"
    );
    assert!(!Path::new(o).exists(), "nothing written");
}

#[test]
fn import_saves_the_readout_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("li.safetensors");
    let nir = root().join("nir/tests/fixtures/li_readout.nir");
    let o = snn(&[
        "import",
        nir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--readout",
        "final",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("argmax of the final value of v"), "{text}");
    let m = load_model(&out).unwrap();
    assert_eq!(
        m.layers[1]
            .neuron
            .as_ref()
            .and_then(|n| n.readout())
            .map(|p| p.readout),
        Some(Readout::Final)
    );
    let o = snn(&[
        "import",
        nir.to_str().unwrap(),
        "--out",
        dir.path().join("x.safetensors").to_str().unwrap(),
        "--readout",
        "last",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"last\"") && err.contains("max, final, mean"),
        "{err}"
    );
    assert!(!dir.path().join("x.safetensors").exists());
}
