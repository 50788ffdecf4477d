//! The memory-based architecture (`--arch mem`: P accumulators, potentials in RAM, active-input
//! list replayed per group of P neurons) and the run-time weight loader (`--weights load`, the
//! iCE40 SPRAM path): seeded random networks (random sizes, widths, P, reset and leak modes,
//! firing rules, plain and synaptic LIF, both encoders), each bit-exact in Verilator against the
//! golden model (input spikes, every spike and potential at every step, counts, class, and the
//! cycle count predicted by `codegen::timing`); the first few also in Icarus, whose output must
//! equal Verilator's line for line.

mod common;

use codegen::plan::{Arch, WeightStore};
use codegen::random::{RandomSpec, Rng, random_model};
use codegen::{EncoderKind, Options};
use common::{Case, assert_exact, case, run_cases};
use kernels::model::Encoding;
use verify::Simulator;

fn mem_case(root: &std::path::Path, seed: u64) -> Case {
    let mut rng = Rng::new(seed * 104_729 + 17);
    let mut sizes = vec![rng.range(2, 70) as usize];
    for _ in 0..rng.range(1, 2) {
        sizes.push(rng.range(1, 30) as usize);
    }
    sizes.push(rng.range(2, 9) as usize);
    let lfsr = rng.below(3) != 0;
    let spec = RandomSpec {
        sizes: sizes.clone(),
        timesteps: rng.range(1, 10) as usize,
        encoding: Encoding::Lfsr {
            seed: rng.next_u64() as u32,
            lanes: rng.range(1, 9) as u32,
        },
    };
    let model = random_model(&mut rng, &format!("m{seed}"), &spec);
    let maxn = *sizes[1..].iter().max().unwrap() as i64;
    let opts = Options {
        parallel: Some(rng.range(1, maxn.min(12)) as usize),
        encoder: if lfsr {
            EncoderKind::Lfsr
        } else {
            EncoderKind::Spikes
        },
        spike_word: rng.range(2, 40) as usize,
        arch: Arch::Mem,
        weights: if seed.is_multiple_of(2) {
            WeightStore::Load
        } else {
            WeightStore::Rom
        },
        ..Options::default()
    };
    case(root, &model, &opts, 3, seed)
}

#[test]
fn mem_arch_random_networks_verilator_and_icarus() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<_> = (0..12).map(|s| mem_case(tmp.path(), s)).collect();
    // Both weight stores and several groups per layer are covered.
    assert!(cases.iter().any(|c| c.design.plan.loader.is_some()));
    assert!(cases.iter().any(|c| c.design.plan.loader.is_none()));
    assert!(
        cases
            .iter()
            .any(|c| c.design.plan.layers.iter().any(|l| l.g >= 3))
    );
    let (_, reports, vl_texts) = run_cases(&cases, Simulator::Verilator, &tmp.path().join("vl"));
    assert_exact(&cases, &reports);
    let few = &cases[..4];
    let (_, ireports, iv_texts) = run_cases(few, Simulator::Icarus, &tmp.path().join("iv"));
    assert_exact(few, &ireports);
    for (i, (a, b)) in vl_texts.iter().zip(&iv_texts).enumerate() {
        assert_eq!(a, b, "Verilator and Icarus disagree on design {i}");
    }
}

/// The bundled MNIST model as implemented on the iCE40 (`--target ice40up5k`: `--arch mem`,
/// P = 2, fc1 weights loaded at run time into SPRAM through the loader, serial LFSR encoder),
/// first 20 test digits bit-exact in Verilator (about a minute of Verilator build; part of the
/// suite so that the design the iCE40 flow implements is the one proven equal).
#[test]
fn mnist_ice40_design_bit_exact() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let model =
        kernels::model_io::load_int_model(root.join("models/mnist_mlp_int8.safetensors")).unwrap();
    let mnist = kernels::data::load_mnist(root.join(kernels::data::MNIST_DIR)).unwrap();
    let opts = Options {
        target: codegen::Target::Ice40up5k,
        ..Options::default()
    };
    let plan = codegen::Plan::new(&model, &opts).unwrap();
    assert!(plan.loader.is_some() && plan.layers[0].mem && plan.layers[0].load);
    let n = 20;
    let imgs: Vec<&[u8]> = (0..n).map(|i| mnist.test.image(i)).collect();
    let samples = codegen::stimulus::samples_from_images(&plan, &imgs).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, r) = verify::verify(
        &model,
        &opts,
        &samples,
        Some(&mnist.test.labels[..n]),
        Simulator::Verilator,
        tmp.path(),
        false,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.bit_exact, "first mismatch: {:?}", r.first_mismatch);
    assert_eq!(r.accuracy_hardware, r.accuracy_golden);
    assert_eq!(r.cycles_per_inference, r.cycles_predicted);
    eprintln!(
        "MNIST iCE40 design, {n} digits: bit-exact, {:.1} cycles, {} values compared",
        r.cycles_per_inference, r.values_compared
    );
}
