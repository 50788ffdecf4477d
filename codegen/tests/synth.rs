//! Yosys synthesis of a small generated network for every target completes without latches,
//! undriven or multiply-driven nets (the scripts assert that), and the resource report is parsed
//! from `stat -json`.

use codegen::random::{RandomSpec, Rng, random_model};
use codegen::stimulus::random_samples;
use codegen::{Options, Plan, Target, generate, synth, write_design};
use kernels::model::Encoding;

#[test]
fn yosys_generic_ice40_xc7_small_network() {
    let mut rng = Rng::new(42);
    let spec = RandomSpec {
        sizes: vec![20, 9, 4],
        timesteps: 6,
        encoding: Encoding::Lfsr { seed: 5, lanes: 4 },
    };
    let m = random_model(&mut rng, "small", &spec);
    let opts = Options {
        parallel: Some(3),
        neuron_units: Some(3),
        ..Options::default()
    };
    let plan = Plan::new(&m, &opts).unwrap();
    let samples = random_samples(&plan, 1, 1);
    let mut d = generate(&m, &opts, &samples, None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("small");
    write_design(&mut d, &dir, true).unwrap();
    for t in synth::TARGETS {
        let r = synth::run_yosys(&dir, t).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.cells > 0, "{t:?}: {r:?}");
        assert!(r.ffs > 50, "{t:?}: {r:?}");
        if t != Target::Generic {
            assert!(r.luts > 50, "{t:?}: {r:?}");
        }
    }
}

#[test]
fn parse_stat_counts_xc7_cells() {
    let json = r#"{"modules": {}, "design": {"num_cells": 10, "num_cells_by_type": {
        "LUT2": 3, "LUT6": 2, "FDRE": 4, "RAMB36E1": 1, "CARRY4": 5, "RAMB18E1": 2,
        "RAM64M": 2, "RAM32X1D": 1}}}"#;
    let r = synth::parse_stat(json, Target::Xc7).unwrap();
    // 5 LUTs + 2 RAM64M of 4 LUTs each + 1 RAM32X1D of 2.
    assert_eq!(
        (r.luts, r.ffs, r.brams, r.bram18, r.carries),
        (15, 4, 3, 2, 5)
    );
    assert!(synth::parse_stat("no json", Target::Xc7).is_err());
}
