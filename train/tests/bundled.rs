//! The bundled models in `models/` load through `kernels::model_io`, run on the `kernels`
//! runtimes, and reach the accuracies documented in `models/README.md` (minus 0.1 point).
//! Regenerate the files with `scripts/train-models`; keep the constants below equal to the
//! README's table.

use std::path::PathBuf;

use kernels::data::load_mnist;
use kernels::model::{Encoding, LayerOp};
use kernels::model_io::{load_int_model, load_model};
use kernels::neuron::{Leak, Neuron};
use train::eval::{encode_all, float_accuracy, int_accuracy};
use train::quantize::{QuantConfig, quantize};

/// Documented in models/README.md: float model on the 2,000 test digits, LFSR inputs.
const FLOAT_ACCURACY: f64 = 0.9665;
/// Documented in models/README.md: float model with its own `rate` encoding.
const FLOAT_RATE_ACCURACY: f64 = 0.9665;
/// Documented in models/README.md: int8 golden model on the 2,000 test digits.
const INT8_ACCURACY: f64 = 0.9670;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn bundled_models_reach_documented_accuracy() {
    let test = load_mnist(root().join("data/mnist")).unwrap().test;
    assert_eq!(test.len(), 2000);
    let float = load_model(root().join("models/mnist_mlp.safetensors")).unwrap();
    let int = load_int_model(root().join("models/mnist_mlp_int8.safetensors")).unwrap();

    // Topology: 784-128-10 LIF, T = 25, beta = 1 - 2^-4; int8 with shift leak k = 4, LFSR input.
    let dims: Vec<(usize, usize)> = float
        .layers
        .iter()
        .map(|l| match l.op {
            LayerOp::Dense { inputs, outputs } => (inputs, outputs),
            op => panic!("unexpected {op:?}"),
        })
        .collect();
    assert_eq!(dims, vec![(784, 128), (128, 10)]);
    assert_eq!(float.timesteps, 25);
    assert!(matches!(float.encoding, Encoding::Rate { .. }));
    for l in &float.layers {
        let Some(Neuron::Lif(p)) = l.neuron else {
            panic!("LIF expected")
        };
        assert_eq!((p.beta, p.threshold), (0.9375, 1.0));
    }
    assert!(matches!(int.encoding, Encoding::Lfsr { .. }));
    for l in &int.layers {
        assert_eq!(l.weight_bits, 8);
        assert_eq!(l.neuron.unwrap().leak, Leak::Shift { k: 4 });
    }

    let fa = float_accuracy(&float, &test, &int.encoding).unwrap();
    let ia = int_accuracy(&int, &test).unwrap();
    assert!(fa >= FLOAT_ACCURACY - 0.001, "float accuracy {fa}");
    let fr = float_accuracy(&float, &test, &float.encoding).unwrap();
    assert!(
        fr >= FLOAT_RATE_ACCURACY - 0.001,
        "float accuracy, rate inputs {fr}"
    );
    assert!(ia >= INT8_ACCURACY - 0.001, "int8 accuracy {ia}");
    assert!((fa - ia).abs() <= 0.005, "float {fa} vs int8 {ia}");
}

#[test]
fn bundled_int8_model_is_the_quantized_float_model() {
    // scripts/train-models quantizes with the default QuantConfig (renamed) and the first 1,000
    // training digits as calibration; doing it again from the float file must give the same
    // integer model.
    let train = load_mnist(root().join("data/mnist")).unwrap().train;
    let float = load_model(root().join("models/mnist_mlp.safetensors")).unwrap();
    let int = load_int_model(root().join("models/mnist_mlp_int8.safetensors")).unwrap();
    let cfg = QuantConfig {
        name: Some("mnist_mlp_int8".into()),
        ..QuantConfig::default()
    };
    let calib = encode_all(&train, &cfg.encoding, float.timesteps, 1000).unwrap();
    let q = quantize(&float, &cfg, &calib).unwrap();
    assert_eq!(q.model, int);
}
