//! The bundled convolutional models (`models/mnist_conv*.safetensors`) load, have the
//! documented topology, and reach the accuracies in `models/README.md` through the `kernels`
//! runtimes; re-quantizing the float file gives exactly the int8 file. Regenerate the files
//! with `scripts/train-models`; keep the constants equal to the README's table.

use std::path::PathBuf;

use kernels::data::load_mnist;
use kernels::model::{Encoding, LayerOp};
use kernels::model_io::{load_int_model, load_model};
use train::eval::{encode_all, float_accuracy, int_accuracy};
use train::quantize::{QuantConfig, quantize};

/// Documented in models/README.md: float conv SNN, T = 100, its own `rate` encoding: 98.10 %
/// of the 2,000 test digits. The runs are deterministic (seeded encoders, results independent
/// of threads), so the test asserts the exact count.
const FLOAT_RATE_CORRECT: usize = 1962;
/// Documented: the int8 golden model, T = 100, LFSR inputs: 98.00 % (the float model on the
/// same inputs also gives 98.00 %).
const INT8_CORRECT: usize = 1960;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn bundled_conv_models_reach_documented_accuracy() {
    let mnist = load_mnist(root().join("data/mnist")).unwrap();
    let test = &mnist.test;
    let float = load_model(root().join("models/mnist_conv.safetensors")).unwrap();
    let int = load_int_model(root().join("models/mnist_conv_int8.safetensors")).unwrap();
    let kinds: Vec<&str> = float
        .layers
        .iter()
        .map(|l| match l.op {
            LayerOp::Conv2d { .. } => "conv",
            LayerOp::AvgPool2d { .. } => "avgpool",
            LayerOp::SumPool2d { .. } => "sumpool",
            LayerOp::Flatten { .. } => "flatten",
            LayerOp::Dense { .. } => "dense",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "conv", "avgpool", "conv", "avgpool", "flatten", "dense", "dense"
        ]
    );
    assert_eq!(float.timesteps, 100);
    assert!(matches!(float.encoding, Encoding::Rate { seed: 1 }));
    assert!(
        int.layers
            .iter()
            .all(|l| !matches!(l.op, LayerOp::AvgPool2d { .. }))
    );

    assert_eq!(test.len(), 2000);
    let correct = |acc: f64| (acc * test.len() as f64).round() as usize;
    let acc = float_accuracy(&float, test, &float.encoding).unwrap();
    assert_eq!(correct(acc), FLOAT_RATE_CORRECT, "float (rate) {acc}");
    let acc_int = int_accuracy(&int, test).unwrap();
    assert_eq!(correct(acc_int), INT8_CORRECT, "int8 {acc_int}");

    // `snn quantize --calibration 500` / the train_conv example.
    let qcfg = QuantConfig {
        name: Some("mnist_conv_int8".into()),
        ..QuantConfig::default()
    };
    let calib = encode_all(&mnist.train, &qcfg.encoding, float.timesteps, 500).unwrap();
    let q = quantize(&float, &qcfg, &calib).unwrap();
    assert_eq!(
        q.model, int,
        "re-quantizing the float file must give the int8 file"
    );
}
