//! `snn train --surrogate/--loss` and `snn convert --arch conv`: every choice trains a tiny
//! run and is reported; bad values exit with status 2 and name the flag; a converted conv
//! model loads, evaluates and quantizes.

use std::process::{Command, Output};

use kernels::model::LayerOp;
use serde_json::Value;

fn snn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn"))
        .args(args)
        .output()
        .expect("run snn")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn fails(args: &[&str], needles: &[&str]) {
    let out = snn(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr {err:?} lacks {n:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

const TINY: [&str; 8] = [
    "--train-samples",
    "100",
    "--epochs",
    "1",
    "--hidden",
    "8",
    "--timesteps",
    "4",
];

#[test]
fn every_surrogate_and_loss_trains_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], Value, Value); 5] = [
        (
            &[],
            serde_json::json!({"kind": "fast-sigmoid", "slope": 25.0}),
            serde_json::json!({"kind": "ce-count", "scale": 8.0}),
        ),
        (
            &["--surrogate", "fast-sigmoid", "--surrogate-slope", "10"],
            serde_json::json!({"kind": "fast-sigmoid", "slope": 10.0}),
            serde_json::json!({"kind": "ce-count", "scale": 8.0}),
        ),
        (
            &[
                "--surrogate",
                "atan",
                "--surrogate-alpha",
                "3",
                "--loss",
                "mse-count",
            ],
            serde_json::json!({"kind": "atan", "alpha": 3.0}),
            serde_json::json!({"kind": "mse-count", "correct_rate": 0.8, "incorrect_rate": 0.2}),
        ),
        (
            &[
                "--surrogate",
                "rect",
                "--surrogate-width",
                "0.5",
                "--loss",
                "mse-rate",
                "--mse-correct-rate",
                "1",
                "--mse-incorrect-rate",
                "0",
            ],
            serde_json::json!({"kind": "rect", "width": 0.5}),
            serde_json::json!({"kind": "mse-count", "correct_rate": 1.0, "incorrect_rate": 0.0}),
        ),
        (
            &[
                "--surrogate",
                "rect",
                "--loss",
                "ce-count",
                "--ce-scale",
                "4",
            ],
            serde_json::json!({"kind": "rect", "width": 1.0}),
            serde_json::json!({"kind": "ce-count", "scale": 4.0}),
        ),
    ];
    for (i, (extra, surrogate, loss)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("m{i}.safetensors"));
        let mut args = vec!["train", "--out", f.to_str().unwrap(), "--json"];
        args.extend(TINY);
        args.extend(extra.iter());
        let v = json_of(&snn(&args));
        assert_eq!(&v["surrogate"], surrogate, "{extra:?}");
        assert_eq!(&v["loss"], loss, "{extra:?}");
        let acc = v["test_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        let m = kernels::model_io::load_model(&f).unwrap();
        assert_eq!(m.timesteps, 4);
    }
    // The choice reaches the trainer: the same seed with another surrogate or loss gives
    // another model (compared through the weights of the saved files).
    let files: Vec<Vec<f32>> = (0..cases.len())
        .map(|i| {
            let m = kernels::model_io::load_model(dir.path().join(format!("m{i}.safetensors")))
                .unwrap();
            m.layers.iter().flat_map(|l| l.weights.clone()).collect()
        })
        .collect();
    for i in 0..files.len() {
        for j in i + 1..files.len() {
            assert_ne!(
                files[i], files[j],
                "cases {i} and {j} trained the same weights"
            );
        }
    }
}

/// Flags that would be silently ignored are refused with exit 2, before any work: `snn
/// quantize --frac-bits` without `--leak multiply` (as `codegen` refuses it: both map the
/// flags through `train::quantize::QuantOptions::from_cli`), and the conv-only flags of `snn
/// convert` with `--arch mlp`.
#[test]
fn misplaced_quantize_and_convert_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let o = out.to_str().unwrap();
    fails(
        &["quantize", "--out", o, "--frac-bits", "4"],
        &["--frac-bits 4", "--leak multiply"],
    );
    fails(
        &[
            "quantize",
            "--out",
            o,
            "--leak",
            "shift",
            "--frac-bits",
            "4",
        ],
        &["--frac-bits 4", "--leak multiply"],
    );
    for (flag, value) in [
        ("--channels", "8"),
        ("--kernel", "3"),
        ("--calibration", "10"),
    ] {
        fails(
            &["convert", "--out", o, flag, value],
            &[flag, "applies only to --arch conv"],
        );
        fails(
            &["convert", "--out", o, "--arch", "mlp", flag, value],
            &[flag, "applies only to --arch conv"],
        );
    }
    assert!(!out.exists());
}

#[test]
fn bad_surrogate_and_loss_values_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let o = out.to_str().unwrap();
    fails(
        &["train", "--out", o, "--surrogate", "sigmoid"],
        &["--surrogate"],
    );
    fails(&["train", "--out", o, "--loss", "hinge"], &["--loss"]);
    fails(
        &["train", "--out", o, "--surrogate-width", "1"],
        &["--surrogate-width", "rect"],
    );
    fails(
        &[
            "train",
            "--out",
            o,
            "--surrogate",
            "atan",
            "--surrogate-slope",
            "3",
        ],
        &["--surrogate-slope", "fast-sigmoid"],
    );
    fails(
        &["train", "--out", o, "--surrogate-slope=-1"],
        &["slope -1"],
    );
    fails(
        &[
            "train",
            "--out",
            o,
            "--surrogate",
            "rect",
            "--surrogate-width",
            "0",
        ],
        &["width 0"],
    );
    fails(
        &[
            "train",
            "--out",
            o,
            "--surrogate",
            "atan",
            "--surrogate-alpha",
            "NaN",
        ],
        &["alpha NaN"],
    );
    fails(
        &[
            "train",
            "--out",
            o,
            "--loss",
            "mse-count",
            "--mse-correct-rate",
            "1.5",
        ],
        &["rate 1.5"],
    );
    fails(
        &[
            "train",
            "--out",
            o,
            "--loss",
            "mse-count",
            "--ce-scale",
            "2",
        ],
        &["--ce-scale", "ce-count"],
    );
    fails(
        &["train", "--out", o, "--mse-incorrect-rate", "0.1"],
        &["--mse-correct-rate / --mse-incorrect-rate"],
    );
    fails(&["train", "--out", o, "--ce-scale", "0"], &["scale 0"]);
    fails(
        &["convert", "--out", o, "--arch", "conv", "--kernel", "4"],
        &["--kernel 4"],
    );
    fails(
        &["convert", "--out", o, "--arch", "conv", "--kernel", "5,3,3"],
        &["--kernel [5, 3, 3]", "one per --channels"],
    );
    fails(
        &["convert", "--out", o, "--arch", "conv", "--channels", "0"],
        &["--channels"],
    );
    fails(
        &[
            "convert",
            "--out",
            o,
            "--arch",
            "conv",
            "--channels",
            "2,2,2,2,2",
        ],
        &["--channels"],
    );
    fails(&["convert", "--out", o, "--arch", "resnet"], &["--arch"]);
    fails(
        &["convert", "--out", o, "--percentile", "0"],
        &["--percentile 0"],
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no output file may be left behind"
    );
}

#[test]
fn convert_conv_writes_a_model_that_evaluates_and_quantizes() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.safetensors");
    let v = json_of(&snn(&[
        "convert",
        "--arch",
        "conv",
        "--channels",
        "2,4",
        "--kernel",
        "3",
        "--hidden",
        "6",
        "--out",
        c.to_str().unwrap(),
        "--train-samples",
        "100",
        "--calibration",
        "50",
        "--epochs",
        "1",
        "--timesteps",
        "10",
        "--t-sweep",
        "5,10",
        "--json",
    ]));
    assert_eq!(v["arch"], "conv");
    // conv1 3x3, 1 -> 2 channels, pad 1 on 28x28; conv2 3x3, 2 -> 4 on 14x14; fc 4*7*7 -> 6;
    // fc 6 -> 10.
    let taps = |n: i64| -> i64 {
        (0..3)
            .map(|t| (0..n).filter(|y| (0..n).contains(&(y + t - 1))).count() as i64)
            .sum()
    };
    let macs = 2 * taps(28).pow(2) + 4 * 2 * taps(14).pow(2) + 4 * 49 * 6 + 60;
    assert_eq!(v["ann_macs"].as_i64().unwrap(), macs);
    assert_eq!(v["accuracy_vs_t"].as_array().unwrap().len(), 2);
    let m = kernels::model_io::load_model(&c).unwrap();
    assert_eq!(m.name, "mnist_conv");
    let ops: Vec<&str> = m
        .layers
        .iter()
        .map(|l| match l.op {
            LayerOp::Conv2d { .. } => "conv",
            LayerOp::AvgPool2d { .. } => "avgpool",
            LayerOp::Flatten { .. } => "flatten",
            LayerOp::Dense { .. } => "dense",
            LayerOp::SumPool2d { .. } => "sumpool",
        })
        .collect();
    assert_eq!(
        ops,
        [
            "conv", "avgpool", "conv", "avgpool", "flatten", "dense", "dense"
        ]
    );

    // eval reports the conv layers' costs: ANN MACs of the conv layers as computed above.
    let e = json_of(&snn(&[
        "eval",
        "--model",
        c.to_str().unwrap(),
        "--samples",
        "5",
        "--json",
    ]));
    assert_eq!(e["samples"], 5);
    assert_eq!(e["ann_macs"]["total"].as_i64().unwrap(), macs);
    assert!(e["ann_macs"]["per_layer"]["conv2"].as_i64().unwrap() > 0);
    assert!(e["synaptic_ops"].to_string().contains("conv1"));

    let q = dir.path().join("q.safetensors");
    let v = json_of(&snn(&[
        "quantize",
        "--model",
        c.to_str().unwrap(),
        "--out",
        q.to_str().unwrap(),
        "--calibration",
        "20",
        "--json",
    ]));
    assert!((0.0..=1.0).contains(&v["int_accuracy"].as_f64().unwrap()));
    let im = kernels::model_io::load_int_model(&q).unwrap();
    assert!(
        im.layers
            .iter()
            .any(|l| matches!(l.op, LayerOp::SumPool2d { kernel: 2, .. }))
    );
}
