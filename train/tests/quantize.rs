//! Quantization: hand-computed integer values, bounded weight error, and an integer model that
//! classifies like its float model.

mod common;

use kernels::model::{Encoding, Layer, LayerOp, Model, Shape};
use kernels::neuron::{Leak, LifParams, Neuron};
use train::eval::{encode_all, float_accuracy, int_accuracy};
use train::quantize::{LeakMode, QuantConfig, quantize, rail_hits};
use train::{TrainConfig, train_snn};

fn hand_model() -> Model {
    Model {
        name: "hand".into(),
        input: Shape::flat(3),
        timesteps: 4,
        encoding: Encoding::Rate { seed: 0 },
        layers: vec![Layer {
            name: "fc1".into(),
            op: LayerOp::Dense {
                inputs: 3,
                outputs: 2,
            },
            // PyTorch layout [outputs][inputs].
            weights: vec![0.5, -0.25, 1.0, 0.1, -1.0, 0.0],
            bias: vec![0.2, -0.3],
            neuron: Some(Neuron::Lif(LifParams::snntorch(0.9375, 1.0))),
        }],
    }
}

#[test]
fn hand_computed_integer_values() {
    let cfg = QuantConfig {
        membrane_bits: Some(12),
        ..QuantConfig::default()
    };
    let q = quantize(&hand_model(), &cfg, &[]).unwrap();
    let l = &q.model.layers[0];
    // scale = max|W| / 127 = 1/127. 0.5*127 = 63.5 -> 64 (round half away from zero),
    // -0.25*127 = -31.75 -> -32, 0.1*127 = 12.7 -> 13.
    assert!((l.scale - 1.0 / 127.0).abs() < 1e-9);
    assert_eq!(l.weights, vec![64, -32, 127, 13, -127, 0]);
    // bias 0.2*127 = 25.4 -> 25, -0.3*127 = -38.1 -> -38; theta = 127; beta 1 - 2^-4 -> k = 4.
    assert_eq!(l.bias, vec![25, -38]);
    let n = l.neuron.unwrap();
    assert_eq!(n.threshold, 127);
    assert_eq!(n.leak, Leak::Shift { k: 4 });
    assert_eq!(n.membrane_bits, 12);
    assert_eq!(q.model.encoding, Encoding::Lfsr { seed: 1, lanes: 16 });
}

#[test]
fn weight_error_is_at_most_half_a_step_for_every_width() {
    let m = hand_model();
    for bits in [4u8, 6, 8, 12, 16] {
        let cfg = QuantConfig {
            weight_bits: bits,
            membrane_bits: Some(24),
            leak: LeakMode::Multiply { frac_bits: 8 },
            ..QuantConfig::default()
        };
        let q = quantize(&m, &cfg, &[]).unwrap();
        let l = &q.model.layers[0];
        let qmax = (1i32 << (bits - 1)) - 1;
        for (w, &wi) in m.layers[0].weights.iter().zip(&l.weights) {
            assert!((wi as i32).abs() <= qmax);
            assert!(
                (w - wi as f32 * l.scale).abs() <= 0.5 * l.scale + 1e-7,
                "{bits} bits: {w} vs {wi} * {}",
                l.scale
            );
        }
        // beta 0.9375 * 256 = 240 exactly.
        assert_eq!(
            l.neuron.unwrap().leak,
            Leak::Multiply {
                beta_q: 240,
                frac_bits: 8
            }
        );
    }
}

#[test]
fn out_of_range_settings_are_refused() {
    let m = hand_model();
    let bad_bits = QuantConfig {
        weight_bits: 3,
        membrane_bits: Some(16),
        ..QuantConfig::default()
    };
    assert!(
        quantize(&m, &bad_bits, &[])
            .unwrap_err()
            .to_string()
            .contains("weight width")
    );
    let no_calib = QuantConfig::default();
    assert!(
        quantize(&m, &no_calib, &[])
            .unwrap_err()
            .to_string()
            .contains("calibration")
    );
}

#[test]
fn int8_model_classifies_like_the_float_model() {
    let data = common::bands(300, 11);
    let test = common::bands(300, 12);
    let cfg = TrainConfig {
        name: "tiny".into(),
        hidden: vec![16],
        classes: 3,
        timesteps: 10,
        epochs: 6,
        batch_size: 16,
        lr: 5e-3,
        max_shift: 0,
        ..TrainConfig::default()
    };
    let model = train_snn(&cfg, &data, None, |_| {}).unwrap().model;
    let qcfg = QuantConfig {
        encoding: Encoding::Lfsr { seed: 3, lanes: 4 },
        ..QuantConfig::default()
    };
    let calib = encode_all(&data, &qcfg.encoding, model.timesteps, 100).unwrap();
    let q = quantize(&model, &qcfg, &calib).unwrap();
    let fa = float_accuracy(&model, &test, &qcfg.encoding).unwrap();
    let ia = int_accuracy(&q.model, &test).unwrap();
    assert!(fa > 0.9, "float {fa}");
    assert!((fa - ia).abs() <= 0.02, "float {fa} vs int {ia}");
    // The chosen widths hold every calibration potential, so the calibration data never
    // reaches a rail... unless a potential sits exactly on one; check on the calibration set.
    let hits = rail_hits(&q.model, &calib).unwrap();
    for (l, (n, h)) in q.layers.iter().zip(&hits) {
        assert!(*n > 0);
        assert!(
            *h * 1000 <= *n,
            "{}: {h} of {n} updates on a rail ({:?}, {} bits)",
            l.name,
            l.calibration_range,
            l.membrane_bits
        );
    }
}
