//! `--parallel` with one value per layer (`Options::parallel_layers`): the plan takes exactly
//! the given `P` per layer in both architectures (with `--arch mem` also where a later layer
//! would otherwise get derived lanes), the design lints clean, and bad lists are refused with a
//! message naming the layer. Co-simulation of such designs: `verify/tests/parallel_per_layer.rs`.

use std::path::Path;
use std::process::Command;

use codegen::plan::Arch;
use codegen::random::{RandomSpec, Rng, random_model};
use codegen::stimulus::random_samples;
use codegen::{EncoderKind, Error, Options, Plan, generate, write_design};
use kernels::model::Encoding;

fn lint(top: &str, sources: &[String], dir: &Path) {
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", top])
        .args(sources)
        .current_dir(dir)
        .output()
        .expect("verilator is required: install the Debian package `verilator`");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "verilator -Wall on {}:\n{text}",
        dir.display()
    );
}

fn model(seed: u64, sizes: &[usize]) -> kernels::model::IntModel {
    let mut rng = Rng::new(seed);
    let spec = RandomSpec {
        sizes: sizes.to_vec(),
        timesteps: 5,
        encoding: Encoding::Lfsr { seed: 9, lanes: 3 },
    };
    random_model(&mut rng, &format!("pl{seed}"), &spec)
}

#[test]
fn per_layer_parallel_is_honoured_and_lints_clean() {
    let tmp = tempfile::tempdir().unwrap();
    // (sizes, per-layer P, architecture). The mem cases give later layers more lanes than the
    // first layer's group count would derive (fc1: 29 neurons / P 3 = 10 groups, so fc2 with
    // 13 neurons would get 2 lanes) and P equal to the whole layer.
    let cases: Vec<(Vec<usize>, Vec<usize>, Arch)> = vec![
        (vec![37, 29, 13, 6], vec![5, 13, 1], Arch::Regs),
        (vec![37, 29, 13, 6], vec![29, 4, 6], Arch::Regs),
        (vec![37, 29, 13, 6], vec![3, 13, 6], Arch::Mem),
        (vec![20, 11, 7], vec![11, 1], Arch::Mem),
    ];
    for (i, (sizes, pp, arch)) in cases.into_iter().enumerate() {
        let m = model(100 + i as u64, &sizes);
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
        let plan = Plan::new(&m, &opts).unwrap_or_else(|e| panic!("case {i}: {e}"));
        let got: Vec<usize> = plan.layers.iter().map(|l| l.pp).collect();
        assert_eq!(got, pp, "case {i}");
        for (l, &p) in plan.layers.iter().zip(&pp) {
            assert_eq!(l.g, l.n.div_ceil(p), "case {i} {}", l.name);
            assert_eq!(l.mem, arch == Arch::Mem);
        }
        let samples = random_samples(&plan, 2, 3);
        let mut d = generate(&m, &opts, &samples, None).unwrap();
        let dir = tmp.path().join(format!("c{i}"));
        write_design(&mut d, &dir, true).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        let summary_pp: Vec<u64> = json["layer_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["parallel"].as_u64().unwrap())
            .collect();
        assert_eq!(summary_pp, pp.iter().map(|&p| p as u64).collect::<Vec<_>>());
        lint(&d.plan.header.top, &d.sources, &dir);
    }
}

#[test]
fn bad_per_layer_lists_are_refused() {
    let m = model(7, &[12, 9, 4]);
    let bad = |pp: Vec<usize>, arch: Arch| -> String {
        let opts = Options {
            parallel_layers: Some(pp),
            arch,
            ..Options::default()
        };
        match Plan::new(&m, &opts) {
            Err(Error::Input(msg)) => msg,
            other => panic!("not refused as bad input: {other:?}"),
        }
    };
    for arch in [Arch::Regs, Arch::Mem] {
        let msg = bad(vec![3], arch);
        assert!(msg.contains("1 values for the 2 dense layers"), "{msg}");
        let msg = bad(vec![3, 4, 1], arch);
        assert!(msg.contains("3 values"), "{msg}");
        let msg = bad(vec![10, 4], arch);
        assert!(
            msg.contains("layer \"fc1\" has 9 neurons") && msg.contains("P = 10"),
            "{msg}"
        );
        let msg = bad(vec![9, 0], arch);
        assert!(
            msg.contains("layer \"fc2\"") && msg.contains("P = 0"),
            "{msg}"
        );
    }
    let opts = Options {
        parallel: Some(2),
        parallel_layers: Some(vec![2, 2]),
        ..Options::default()
    };
    assert!(matches!(Plan::new(&m, &opts), Err(Error::Input(_))));
}

/// The CLI: `--parallel 64,10` on the bundled model reaches the plan; a wrong count, an
/// out-of-range value and a non-number exit with status 2, naming the problem, writing nothing.
#[test]
fn cli_per_layer_parallel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = out.to_str().unwrap();
    let run = |p: &str| {
        Command::new(env!("CARGO_BIN_EXE_codegen"))
            .current_dir(&root)
            .args(["--no-synth", "--json", "--samples", "1", "--out", o])
            .args(["--parallel", p])
            .output()
            .unwrap()
    };
    let r = run("64,10");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let pp: Vec<u64> = v["layer_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["parallel"].as_u64().unwrap())
        .collect();
    assert_eq!(pp, [64, 10]);
    std::fs::remove_dir_all(&out).unwrap();
    for (p, expect) in [
        (
            "64,10,5",
            "3 values for the 2 dense layers of this model (fc1, fc2)",
        ),
        ("64,11", "layer \"fc2\" has 10 neurons; its P = 11"),
        ("129,10", "layer \"fc1\" has 128 neurons"),
        ("64,ten", "\"ten\" is not a whole number"),
        ("64,", "\"\" is not a whole number"),
    ] {
        let r = run(p);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{p}: {err}");
        assert!(
            err.contains(expect) && err.lines().count() == 1,
            "{p}: {err}"
        );
        assert!(!out.exists(), "{p} wrote {o}");
    }
}
