//! A NIR file goes straight to verified Verilog: the bundled float model is exported to NIR,
//! and `verify --model net.nir` imports it, quantizes it, generates the design and
//! co-simulates it against the golden model of that quantized model.

use std::path::Path;
use std::process::Command;

#[test]
fn nir_file_is_quantized_generated_and_bit_exact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let float = kernels::model_io::load_model(root.join("models/mnist_mlp.safetensors")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let nir = dir.path().join("mnist.nir");
    let bytes = snn_nir::export_bytes(&float, &snn_nir::ExportOptions::default()).unwrap();
    std::fs::write(&nir, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_verify"))
        .current_dir(&root)
        .arg("--model")
        .arg(&nir)
        .args(["--samples", "8", "--json", "--work"])
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("quantized") && stderr.contains("training digits"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bit_exact"], true);
    assert_eq!(report["samples"], 8);
    assert_eq!(report["mismatches"], 0);
    // Spikes and membranes of both layers at every step were compared.
    let per_sample = float.timesteps as u64 * (128 + 10) * 2;
    assert!(report["values_compared"].as_u64().unwrap() >= 8 * per_sample);
}
