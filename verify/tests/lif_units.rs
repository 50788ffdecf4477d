//! The LIF neuron-group core under random currents over long runs: one single-layer design per
//! combination of reset mode (subtract, zero, none), leak (none, shift, multiply), firing rule
//! (snnTorch, SpikingJelly) and neuron kind (plain, synaptic), with membrane widths from 4 to 32
//! bits, wide weights and small membranes so that saturation happens. 150 timesteps of dense
//! random input per sample; potentials compared bit for bit every step.

mod common;

use codegen::{EncoderKind, Options};
use common::{Case, assert_exact, case, run_cases};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
use verify::Simulator;

fn unit_model(i: usize, reset: ResetMode, leak: Leak, rule: FiringRule, syn: bool) -> IntModel {
    let widths = [4u8, 7, 12, 17, 24, 32];
    let mb = widths[i % widths.len()];
    let vmax = (1i64 << (mb - 1)) - 1;
    let mut rng = codegen::random::Rng::new(i as u64 + 100);
    let (fi, n) = (6, 5);
    let wmax = 127i64;
    IntModel {
        name: format!("u{i}"),
        input: Shape::flat(fi),
        timesteps: 150,
        encoding: Encoding::Direct,
        layers: vec![IntLayer {
            name: "lif".into(),
            op: LayerOp::Dense {
                inputs: fi,
                outputs: n,
            },
            weight_bits: 8,
            weights: (0..fi * n)
                .map(|_| rng.range(-wmax - 1, wmax) as i16)
                .collect(),
            bias: (0..n)
                .map(|_| rng.range(-vmax.min(50), vmax.min(50)) as i32)
                .collect(),
            scale: 1.0,
            neuron: Some(IntLifParams {
                leak,
                threshold: rng.range(1, vmax.min(300)) as i32,
                reset,
                rule,
                membrane_bits: mb,
                syn_leak: syn.then_some(Leak::Shift { k: 2 }),
            }),
        }],
    }
}

#[test]
fn lif_core_every_mode_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<Case> = Vec::new();
    let leaks = [
        Leak::None,
        Leak::Shift { k: 2 },
        Leak::Multiply {
            beta_q: 200,
            frac_bits: 8,
        },
    ];
    let mut i = 0;
    for reset in [ResetMode::Subtract, ResetMode::Zero, ResetMode::None] {
        for leak in leaks {
            for rule in [FiringRule::Snntorch, FiringRule::Spikingjelly] {
                for syn in [false, true] {
                    let m = unit_model(i, reset, leak, rule, syn);
                    let opts = Options {
                        encoder: EncoderKind::Spikes,
                        neuron_units: Some(1 + i % 5),
                        parallel: Some(1 + i % 5),
                        spike_word: 8,
                        ..Options::default()
                    };
                    cases.push(case(tmp.path(), &m, &opts, 3, i as u64));
                    i += 1;
                }
            }
        }
    }
    assert_eq!(cases.len(), 36);
    let (_, reports, _) = run_cases(&cases, Simulator::Verilator, &tmp.path().join("vl"));
    assert_exact(&cases, &reports);
    // The runs must actually exercise the neurons: spikes and saturated potentials occur.
    let mut saturated = 0;
    for c in &cases {
        let p = c.design.plan.layers[0].params;
        for g in &c.design.goldens {
            let tr = &g.run.trace.as_ref().unwrap()[0];
            saturated += tr
                .membranes
                .iter()
                .filter(|&&v| v as i64 == p.v_max() || v as i64 == p.v_min())
                .count();
        }
    }
    assert!(saturated > 0, "no run reached saturation");
}
