//! The command line: defaults, bad input (exit status 2, nothing written) and --force.

use std::path::Path;
use std::process::Command;

fn codegen() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_codegen"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    c
}

#[test]
fn bad_inputs_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = out.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--model", "/nonexistent/model.safetensors", "--out", o],
        vec!["--parallel", "0", "--out", o, "--no-synth"],
        vec!["--timesteps", "0", "--out", o, "--no-synth"],
        vec!["--target", "fpga9000", "--out", o],
        // The MNIST weights (813 kbit) do not fit the iCE40's block RAM as a ROM.
        vec![
            "--target",
            "ice40up5k",
            "--weights",
            "rom",
            "--out",
            o,
            "--no-synth",
        ],
        // Run-time loading needs the memory architecture.
        vec![
            "--arch",
            "regs",
            "--weights",
            "load",
            "--out",
            o,
            "--no-synth",
        ],
        // The memory architecture has one neuron unit per accumulator.
        vec![
            "--arch",
            "mem",
            "--parallel",
            "4",
            "--neuron-units",
            "2",
            "--out",
            o,
            "--no-synth",
        ],
        vec!["--encoder", "spikes", "--spike-word", "0", "--out", o],
    ];
    for args in cases {
        let r = codegen().args(&args).output().unwrap();
        assert_eq!(
            r.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!String::from_utf8_lossy(&r.stderr).is_empty());
        assert!(!out.exists(), "{args:?} wrote {o}");
    }
    let bad = tmp.path().join("bad.safetensors");
    std::fs::write(&bad, b"not a model").unwrap();
    let r = codegen()
        .args(["--model", bad.to_str().unwrap(), "--out", o])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn default_model_json_and_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mnist");
    let o = out.to_str().unwrap();
    let r = codegen()
        .args(["--out", o, "--json", "--no-synth", "--samples", "4"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["top"], "mnist_mlp_int8_top");
    assert_eq!(v["weight_bits"], 784 * 128 * 8 + 128 * 10 * 8);
    assert_eq!(v["target"], "xc7");
    assert!(v["cycles_per_inference"].as_f64().unwrap() > 1000.0);
    for k in ["luts", "ffs", "brams", "dsps", "out_dir"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert!(out.join("mnist_mlp_int8_top.v").exists());
    assert!(out.join("README.md").exists());
    // Existing directory: refused without --force, replaced with it.
    let r = codegen().args(["--out", o, "--no-synth"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let r = codegen()
        .args(["--out", o, "--no-synth", "--force", "--samples", "2"])
        .output()
        .unwrap();
    assert!(r.status.success());
}
