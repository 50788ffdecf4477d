//! ANN-to-SNN conversion keeps the ANN's accuracy on a tiny problem.

mod common;

use kernels::model::Encoding;
use kernels::neuron::Neuron;
use train::ann::{AnnConfig, train_ann};
use train::convert::{ConvertConfig, activation_scales, ann_to_snn};
use train::eval::float_accuracy;

#[test]
fn converted_snn_keeps_ann_accuracy() {
    let data = common::bands(300, 21);
    let test = common::bands(300, 22);
    let cfg = AnnConfig {
        hidden: vec![16],
        classes: 3,
        epochs: 10,
        batch_size: 16,
        lr: 5e-3,
        max_shift: 0,
        seed: 3,
    };
    let ann = train_ann(&cfg, &data, None, |_| {}).unwrap().ann;
    let ann_acc = ann.accuracy(&test);
    assert!(ann_acc > 0.95, "ANN accuracy {ann_acc}");
    let snn = ann_to_snn(
        &ann,
        &data,
        &ConvertConfig {
            timesteps: 100,
            ..ConvertConfig::default()
        },
    )
    .unwrap();
    // IF neurons with threshold 1.
    for l in &snn.layers {
        let p = *l.neuron.as_ref().unwrap().lif().unwrap();
        assert_eq!((p.beta, p.threshold), (1.0, 1.0));
        assert!(matches!(l.neuron, Some(Neuron::Lif(_))));
    }
    let snn_acc =
        float_accuracy(&snn, &test, &Encoding::Lfsr { seed: 5, lanes: 4 }).unwrap() as f32;
    assert!(snn_acc >= ann_acc - 0.03, "SNN {snn_acc} vs ANN {ann_acc}");
}

#[test]
fn normalisation_scales_layers_by_activation_percentiles() {
    let data = common::bands(60, 23);
    let ann = train_ann(
        &AnnConfig {
            hidden: vec![8],
            classes: 3,
            epochs: 2,
            max_shift: 0,
            ..AnnConfig::default()
        },
        &data,
        None,
        |_| {},
    )
    .unwrap()
    .ann;
    let lam = activation_scales(&ann, &data, 100.0);
    let snn = ann_to_snn(
        &ann,
        &data,
        &ConvertConfig {
            percentile: 100.0,
            ..ConvertConfig::default()
        },
    )
    .unwrap();
    // W1' = W1 / lambda1 and W2' = W2 * lambda1 / lambda2, in PyTorch layout.
    let w1 = ann.layers[0].to_output_major();
    let w2 = ann.layers[1].to_output_major();
    for (a, b) in snn.layers[0].weights.iter().zip(&w1) {
        assert!((a - b / lam[0]).abs() <= 1e-6 * b.abs().max(1.0));
    }
    for (a, b) in snn.layers[1].weights.iter().zip(&w2) {
        assert!((a - b * lam[0] / lam[1]).abs() <= 1e-5 * b.abs().max(1.0));
    }
    // lambda at the 100th percentile is the largest activation: recompute it independently.
    let max_hidden = (0..data.len())
        .map(|i| {
            let x: Vec<f32> = data.image(i).iter().map(|&p| p as f32 / 255.0).collect();
            let w = &w1;
            (0..8)
                .map(|o| (0..36).map(|j| w[o * 36 + j] * x[j]).sum::<f32>().max(0.0))
                .fold(0.0f32, f32::max)
        })
        .fold(0.0f32, f32::max);
    assert!(
        (lam[0] - max_hidden).abs() <= 1e-4 * max_hidden,
        "{} vs {max_hidden}",
        lam[0]
    );
}
