//! `--parallel` with one value per layer (`Options::parallel_layers`), both architectures,
//! including `--arch mem` layers with more lanes than the derived default and one-group layers:
//! seeded random networks bit-exact in Icarus against the golden model (input spikes, every
//! spike and potential at every step, counts, class, and the predicted cycle count).

mod common;

use codegen::plan::Arch;
use codegen::random::{RandomSpec, Rng, random_model};
use codegen::{EncoderKind, Options};
use common::{assert_exact, case, run_cases};
use kernels::model::Encoding;
use verify::Simulator;

#[test]
fn per_layer_parallel_bit_exact_in_icarus() {
    let tmp = tempfile::tempdir().unwrap();
    let configs: Vec<(Vec<usize>, Vec<usize>, Arch)> = vec![
        (vec![37, 29, 13, 6], vec![5, 13, 1], Arch::Regs),
        (vec![30, 17, 5], vec![17, 2], Arch::Regs),
        (vec![37, 29, 13, 6], vec![3, 13, 6], Arch::Mem),
        (vec![20, 11, 7], vec![11, 1], Arch::Mem),
    ];
    let cases: Vec<_> = configs
        .into_iter()
        .enumerate()
        .map(|(i, (sizes, pp, arch))| {
            let mut rng = Rng::new(500 + i as u64);
            let spec = RandomSpec {
                sizes,
                timesteps: rng.range(2, 8) as usize,
                encoding: Encoding::Lfsr {
                    seed: rng.next_u64() as u32,
                    lanes: rng.range(1, 6) as u32,
                },
            };
            let model = random_model(&mut rng, &format!("pp{i}"), &spec);
            let opts = Options {
                parallel_layers: Some(pp.clone()),
                arch,
                encoder: if i % 2 == 0 {
                    EncoderKind::Lfsr
                } else {
                    EncoderKind::Spikes
                },
                ..Options::default()
            };
            let c = case(tmp.path(), &model, &opts, 3, i as u64);
            let got: Vec<usize> = c.design.plan.layers.iter().map(|l| l.pp).collect();
            assert_eq!(got, pp);
            c
        })
        .collect();
    let (_, reports, _) = run_cases(&cases, Simulator::Icarus, &tmp.path().join("iv"));
    assert_exact(&cases, &reports);
    for (c, r) in cases.iter().zip(&reports) {
        assert_eq!(
            r.cycles_per_inference, r.cycles_predicted,
            "{}: cycles",
            c.design.plan.header.p
        );
    }
}
