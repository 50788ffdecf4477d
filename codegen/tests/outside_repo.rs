//! The defaults (bundled model, MNIST digits) are found when `codegen` runs from another
//! directory than the repository root, and typed paths are never rewritten.

use std::process::Command;

#[test]
fn defaults_resolve_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .current_dir(dir.path())
        .args(["--no-synth", "--json", "--out", "design"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["model"], "mnist_mlp_int8");
    // Testbench digits came from the bundled test split (labels known), not random samples.
    assert!(s["golden_accuracy"].is_number(), "{s}");
    assert!(dir.path().join("design/files.f").exists());

    // A typed relative path that does not exist stays an error (exit 2), naming that path.
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .current_dir(dir.path())
        .args(["--no-synth", "--model", "models/mnist_mlp.safetensors"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("models/mnist_mlp.safetensors"));
}
