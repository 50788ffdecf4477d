//! The verify command line: bad input exits 2; a missing simulator is an error naming the
//! Debian package (never a silent skip).

use std::path::Path;
use std::process::Command;

fn verify_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verify"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    c
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["--samples", "0"],
        vec!["--samples", "5000"],
        vec!["--model", "/nonexistent.safetensors"],
        vec!["--simulator", "modelsim"],
        vec!["--parallel", "64,abc"],
        vec!["--parallel", "64,10,3"],
        vec!["--parallel", "0"],
        vec!["--target", "ecp5"],
        vec!["--arch", "mem", "--neuron-units", "3", "--parallel", "2"],
    ] {
        let r = verify_cmd().args(&args).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        assert!(!r.stderr.is_empty());
    }
}

#[test]
fn missing_simulator_names_the_package() {
    let empty = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    for (sim, pkg) in [("verilator", "verilator"), ("icarus", "iverilog")] {
        let r = verify_cmd()
            .args(["--samples", "1", "--simulator", sim, "--work"])
            .arg(work.path())
            .env("PATH", empty.path())
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(1));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            err.contains(&format!("apt-get install {pkg}")),
            "{sim}: {err}"
        );
    }
}

/// The iCE40 design (memory architecture, fc1 weights loaded into SPRAM at run time) with a
/// per-layer P, through the command line: bit-exact on a few digits, and the JSON report says
/// which design was simulated.
#[test]
fn ice40_design_with_per_layer_parallel() {
    let work = tempfile::tempdir().unwrap();
    let r = verify_cmd()
        .args([
            "--target",
            "ice40up5k",
            "--parallel",
            "4,2",
            "--samples",
            "3",
            "--json",
            "--work",
        ])
        .arg(work.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bit_exact"], true, "{out}");
    assert_eq!(v["cycles_per_inference"], v["cycles_predicted"], "{out}");
    // P = 4 on fc1 takes half the cycles of the default P = 2 (iCE40 table: 85,846 vs
    // 170,273 on average): this is the per-layer design, not the default one.
    let cycles = v["cycles_per_inference"].as_f64().unwrap();
    assert!(cycles < 130_000.0, "{cycles} cycles: not the P = 4 design");
}
