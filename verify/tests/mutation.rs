//! The comparison bites: deliberately broken variants of a design (saturation removed; firing
//! on `>=` instead of `>`) must be reported as mismatches, while the unmodified design passes.

mod common;

use codegen::{EncoderKind, Options};
use common::{Case, case, run_cases};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
use verify::Simulator;

fn model(name: &str) -> IntModel {
    let mut rng = codegen::random::Rng::new(7);
    let (fi, n) = (12, 6);
    IntModel {
        name: name.into(),
        input: Shape::flat(fi),
        timesteps: 40,
        encoding: Encoding::Direct,
        layers: vec![IntLayer {
            name: "fc".into(),
            op: LayerOp::Dense {
                inputs: fi,
                outputs: n,
            },
            weight_bits: 6,
            weights: (0..fi * n).map(|_| rng.range(-20, 31) as i16).collect(),
            bias: vec![],
            scale: 1.0,
            neuron: Some(IntLifParams {
                leak: Leak::Shift { k: 3 },
                threshold: 60,
                reset: ResetMode::Subtract,
                rule: FiringRule::Snntorch,
                membrane_bits: 8,
                syn_leak: None,
            }),
        }],
    }
}

fn mutate(c: &Case, from: &str, to: &str) {
    let f = c.dir.join(format!("{}_fc_lif.v", c.design.plan.header.p));
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains(from), "mutation site {from:?} not found");
    std::fs::write(&f, text.replace(from, to)).unwrap();
}

#[test]
fn broken_designs_are_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options {
        encoder: EncoderKind::Spikes,
        spike_word: 12,
        ..Options::default()
    };
    let cases: Vec<Case> = ["ok", "nosat", "geq"]
        .iter()
        .map(|n| case(tmp.path(), &model(n), &opts, 4, 3))
        .collect();
    // Saturation removed: the 8-bit membrane wraps instead of clamping.
    mutate(&cases[1], "= sat(sum);", "= sum[7:0];");
    // Fire on v >= theta (SpikingJelly's comparison) in an snnTorch design.
    mutate(
        &cases[2],
        "assign s_out[i] = nv_w > THETA;",
        "assign s_out[i] = nv_w >= THETA;",
    );
    let (_, reports, _) = run_cases(&cases, Simulator::Verilator, &tmp.path().join("vl"));
    assert!(
        reports[0].bit_exact,
        "the unmodified design must pass: {:?}",
        reports[0].first_mismatch
    );
    // The golden runs must reach saturation, or the first mutation could not be seen.
    let goldens = codegen::stimulus::golden(&cases[1].design.plan, &cases[1].samples).unwrap();
    let saturated = goldens.iter().any(|g| {
        g.run.trace.as_ref().unwrap()[0]
            .membranes
            .iter()
            .any(|&v| v == 127 || v == -128)
    });
    assert!(
        saturated,
        "the test model never saturates its 8-bit membrane"
    );
    for (r, name) in reports[1..].iter().zip(["nosat", "geq"]) {
        assert!(!r.bit_exact, "mutant {name} was not caught");
        assert!(r.mismatches > 0);
        let m = r.first_mismatch.as_ref().unwrap();
        eprintln!("mutant {name} caught: {m}");
    }
    // The waveform of the first mismatching sample (what --vcd keeps) can be produced.
    let c = &cases[1];
    let m = reports[1].first_mismatch.as_ref().unwrap();
    let b = verify::build(
        &c.design,
        &c.dir,
        Simulator::Verilator,
        &tmp.path().join("obj_vcd"),
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (stim, exp, _) = verify::write_samples(
        &c.design,
        tmp.path(),
        "vcd",
        &c.samples[m.sample..=m.sample],
    )
    .unwrap();
    let wave = tmp.path().join("mutant.vcd");
    verify::run(
        &b,
        &stim,
        &exp,
        &tmp.path().join("vcd_out.txt"),
        false,
        Some(&wave),
    )
    .unwrap();
    let vcd = std::fs::read_to_string(&wave).unwrap();
    assert!(
        vcd.contains("$enddefinitions") && vcd.contains("v_q"),
        "no usable VCD"
    );
}
