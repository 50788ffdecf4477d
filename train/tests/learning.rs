//! Training learns: loss falls and accuracy on held-out data is far above chance, and a run is
//! reproducible from its seed.

mod common;

use kernels::model::Encoding;
use train::eval::float_accuracy;
use train::{Loss, TrainConfig, train_snn};

fn tiny_config() -> TrainConfig {
    TrainConfig {
        name: "tiny".into(),
        hidden: vec![16],
        classes: 3,
        timesteps: 10,
        epochs: 6,
        batch_size: 16,
        lr: 5e-3,
        max_shift: 0,
        ..TrainConfig::default()
    }
}

#[test]
fn bptt_reduces_loss_and_learns_a_tiny_problem() {
    let data = common::bands(300, 1);
    let held_out = common::bands(150, 2);
    let out = train_snn(&tiny_config(), &data, Some(&held_out), |_| {}).unwrap();
    let first = out.history.first().unwrap();
    let last = out.history.last().unwrap();
    assert!(
        last.loss < 0.5 * first.loss,
        "loss {} -> {}",
        first.loss,
        last.loss
    );
    // Chance is 1/3. Evaluate through the kernels runtime, not the trainer's forward pass.
    let acc = float_accuracy(&out.model, &held_out, &Encoding::Lfsr { seed: 7, lanes: 4 }).unwrap();
    assert!(acc > 0.9, "held-out accuracy {acc}");
}

#[test]
fn mse_count_loss_also_learns() {
    let cfg = TrainConfig {
        loss: Loss::MseCount {
            correct_rate: 0.8,
            incorrect_rate: 0.1,
        },
        ..tiny_config()
    };
    let data = common::bands(300, 3);
    let out = train_snn(&cfg, &data, None, |_| {}).unwrap();
    let acc = float_accuracy(
        &out.model,
        &common::bands(150, 4),
        &Encoding::Lfsr { seed: 7, lanes: 4 },
    )
    .unwrap();
    assert!(acc > 0.9, "held-out accuracy {acc}");
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let data = common::bands(90, 5);
    let cfg = TrainConfig {
        epochs: 2,
        ..tiny_config()
    };
    let a = train_snn(&cfg, &data, None, |_| {}).unwrap();
    let b = train_snn(&cfg, &data, None, |_| {}).unwrap();
    assert_eq!(a.model, b.model);
    let c = train_snn(&TrainConfig { seed: 99, ..cfg }, &data, None, |_| {}).unwrap();
    assert_ne!(a.model, c.model);
}

#[test]
fn bad_inputs_are_refused_with_a_message() {
    let data = common::bands(30, 6);
    let cfg = TrainConfig {
        classes: 2,
        ..tiny_config()
    };
    let e = train_snn(&cfg, &data, None, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("label"), "{e}");
    let cfg = TrainConfig {
        threshold: 0.0,
        ..tiny_config()
    };
    let e = train_snn(&cfg, &data, None, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("threshold"), "{e}");
}
