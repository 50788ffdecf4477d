//! Shared helpers of the co-simulation tests: random designs, multi-design builds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use codegen::random::{RandomSpec, Rng, random_model};
use codegen::stimulus::{Sample, random_samples};
use codegen::{Design, EncoderKind, Options, Plan, generate, write_design};
use kernels::model::{Encoding, IntModel};
use verify::{Build, Report, Simulator, build_multi, compare, parse, run_multi, write_samples};

/// A design with its samples and directory.
pub struct Case {
    pub design: Design,
    pub dir: PathBuf,
    pub samples: Vec<Sample>,
}

/// Generates `model` with `opts` into `root/<name>` with `n` random samples.
pub fn case(root: &Path, model: &IntModel, opts: &Options, n: usize, seed: u64) -> Case {
    let plan = Plan::new(model, opts).expect("plan");
    let samples = random_samples(&plan, n, seed);
    let mut design = generate(model, opts, &samples[..1], None).expect("generate");
    let dir = root.join(&model.name);
    write_design(&mut design, &dir, true).expect("write");
    Case {
        design,
        dir,
        samples,
    }
}

/// A random 2- or 3-layer network case.
pub fn random_case(root: &Path, seed: u64) -> Case {
    let mut rng = Rng::new(seed * 7919 + 1);
    let mut sizes = vec![rng.range(2, 40) as usize];
    for _ in 0..rng.range(1, 2) {
        sizes.push(rng.range(1, 24) as usize);
    }
    sizes.push(rng.range(2, 8) as usize);
    let lfsr = rng.below(2) == 0;
    let spec = RandomSpec {
        sizes: sizes.clone(),
        timesteps: rng.range(1, 12) as usize,
        encoding: Encoding::Lfsr {
            seed: rng.next_u64() as u32,
            lanes: rng.range(1, 9) as u32,
        },
    };
    let model = random_model(&mut rng, &format!("r{seed}"), &spec);
    let maxn = *sizes[1..].iter().max().unwrap() as i64;
    let opts = Options {
        parallel: Some(rng.range(1, maxn) as usize),
        neuron_units: Some(rng.range(1, maxn) as usize),
        encoder: if lfsr {
            EncoderKind::Lfsr
        } else {
            EncoderKind::Spikes
        },
        spike_word: rng.range(2, 40) as usize,
        ..Options::default()
    };
    case(root, &model, &opts, 4, seed)
}

/// Builds all cases in one simulation with `sim`, runs them and compares each.
pub fn run_cases(cases: &[Case], sim: Simulator, work: &Path) -> (Build, Vec<Report>, Vec<String>) {
    let list: Vec<(&Design, &Path)> = cases.iter().map(|c| (&c.design, c.dir.as_path())).collect();
    let shared = work.join(format!("shared_{}", sim.name()));
    let b = build_multi(
        &list,
        sim,
        &shared,
        &work.join(format!("obj_{}", sim.name())),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut runs = Vec::new();
    let mut goldens = Vec::new();
    for c in cases {
        let p = c.design.plan.header.p.clone();
        let (s, e, g) = write_samples(&c.design, &shared, &p, &c.samples).unwrap();
        let o = shared.join(format!("{p}_{}.txt", sim.name()));
        runs.push((p, s, e, o));
        goldens.push(g);
    }
    let texts = run_multi(&b, &runs).unwrap_or_else(|e| panic!("{e}"));
    let reports = cases
        .iter()
        .zip(&goldens)
        .zip(&texts)
        .map(|((c, g), t)| {
            let parsed =
                parse(t, &c.design).unwrap_or_else(|e| panic!("{}: {e}", c.design.plan.header.p));
            compare(&c.design, g, &parsed, None, sim)
        })
        .collect();
    (b, reports, texts)
}

/// Asserts every report is bit-exact, naming the first mismatch otherwise.
pub fn assert_exact(cases: &[Case], reports: &[Report]) {
    let mut bad = Vec::new();
    for (c, r) in cases.iter().zip(reports) {
        if !r.bit_exact {
            bad.push(format!(
                "{}: {} mismatches, first: {:?}",
                c.design.plan.header.p,
                r.mismatches,
                r.first_mismatch.as_ref().map(|m| m.to_string())
            ));
        }
        assert!(r.values_compared > 0);
    }
    assert!(bad.is_empty(), "not bit-exact:\n{}", bad.join("\n"));
}
