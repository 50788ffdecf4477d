//! The bundled MNIST model (784-128-10, T = 25, on-chip LFSR encoder): the first 200 test-split
//! digits bit-exact in Verilator (encoded input, spikes and potentials of both layers at every
//! step, counts, class, cycles). The whole 2,000-digit test split, whose hardware accuracy must
//! equal the golden model's exactly, runs with `cargo test -p verify -- --ignored` (or with
//! SNN_FULL_MNIST=1).

use std::path::Path;

use codegen::Options;
use codegen::stimulus::samples_from_images;
use verify::{Simulator, verify};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn run(n: usize) -> verify::Report {
    run_with(n, &Options::default())
}

fn run_with(n: usize, opts: &Options) -> verify::Report {
    let model = kernels::model_io::load_int_model(root().join("models/mnist_mlp_int8.safetensors"))
        .unwrap();
    let mnist = kernels::data::load_mnist(root().join(kernels::data::MNIST_DIR)).unwrap();
    let plan = codegen::Plan::new(&model, opts).unwrap();
    let imgs: Vec<&[u8]> = (0..n).map(|i| mnist.test.image(i)).collect();
    let samples = samples_from_images(&plan, &imgs).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, r) = verify(
        &model,
        opts,
        &samples,
        Some(&mnist.test.labels[..n]),
        Simulator::Verilator,
        tmp.path(),
        false,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    r
}

/// The smaller xc7 configuration of docs/hardware.md: P = 64 (two weight words per active input,
/// so the accumulator ring shifts) and an LFSR encoder with 8 xorshift units in 2 phases.
#[test]
fn mnist_p64_50_digits_bit_exact() {
    let opts = Options {
        parallel: Some(64),
        target: codegen::Target::Xc7,
        ..Options::default()
    };
    let plan = codegen::Plan::new(
        &kernels::model_io::load_int_model(root().join("models/mnist_mlp_int8.safetensors"))
            .unwrap(),
        &opts,
    )
    .unwrap();
    assert_eq!(plan.layers[0].g, 2);
    assert_eq!(plan.encoder.as_ref().unwrap().phases, 2);
    let r = run_with(50, &opts);
    assert!(r.bit_exact, "first mismatch: {:?}", r.first_mismatch);
    assert_eq!(r.samples, 50);
    assert_eq!(r.accuracy_hardware, r.accuracy_golden);
    assert_eq!(r.cycles_per_inference, r.cycles_predicted);
}

#[test]
fn mnist_200_digits_bit_exact() {
    let n = if std::env::var_os("SNN_FULL_MNIST").is_some() {
        2000
    } else {
        200
    };
    let r = run(n);
    assert!(r.bit_exact, "first mismatch: {:?}", r.first_mismatch);
    assert_eq!(r.samples, n);
    assert_eq!(r.accuracy_hardware, r.accuracy_golden);
    assert_eq!(r.cycles_per_inference, r.cycles_predicted);
    // The trained model classifies well (the README of models/ reports 96.7 % on all 2,000).
    assert!(r.accuracy_golden.unwrap() > 0.9);
}

#[test]
#[ignore = "all 2,000 test digits: about 2 minutes"]
fn mnist_all_2000_digits_accuracy_equal() {
    let r = run(2000);
    assert!(r.bit_exact, "first mismatch: {:?}", r.first_mismatch);
    assert_eq!(r.accuracy_hardware, r.accuracy_golden);
    eprintln!(
        "2000 digits: hardware {:?} golden {:?}, {:.1} cycles",
        r.accuracy_hardware, r.accuracy_golden, r.cycles_per_inference
    );
}
