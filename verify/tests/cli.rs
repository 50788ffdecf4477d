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
