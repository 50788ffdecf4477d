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
        // Quantization options with the (integer) bundled model, or out of range.
        vec!["--weight-bits", "6", "--out", o, "--no-synth"],
        vec!["--leak", "multiply", "--out", o, "--no-synth"],
        vec!["--membrane-bits", "12", "--out", o, "--no-synth"],
        vec![
            "--model",
            "models/mnist_mlp.safetensors",
            "--frac-bits",
            "8",
            "--out",
            o,
            "--no-synth",
        ],
        // --frac-bits with the shift leak would be ignored (as `snn quantize` refuses it).
        vec![
            "--model",
            "models/mnist_mlp.safetensors",
            "--leak",
            "shift",
            "--frac-bits",
            "8",
            "--out",
            o,
            "--no-synth",
        ],
        vec![
            "--model",
            "models/mnist_mlp.safetensors",
            "--weight-bits",
            "17",
            "--out",
            o,
            "--no-synth",
        ],
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

/// The bundled float MNIST model cut down to its first 12 hidden neurons (784-12-10), saved in
/// `dir`: small enough to simulate in a test.
fn small_float_model(dir: &Path) -> std::path::PathBuf {
    use kernels::model::LayerOp;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut m = kernels::model_io::load_model(root.join("models/mnist_mlp.safetensors")).unwrap();
    let hidden = 12;
    let mut prev = 0;
    for l in &mut m.layers {
        if let LayerOp::Dense { inputs, outputs } = l.op {
            let (new_in, new_out) = if prev == 0 {
                (inputs, hidden)
            } else {
                (hidden, outputs)
            };
            let w: Vec<f32> = (0..new_out)
                .flat_map(|o| l.weights[o * inputs..o * inputs + new_in].to_vec())
                .collect();
            l.weights = w;
            l.bias.truncate(new_out);
            l.op = LayerOp::Dense {
                inputs: new_in,
                outputs: new_out,
            };
            prev = new_out;
        }
    }
    m.name = "small".into();
    let path = dir.join("small_float.safetensors");
    kernels::model_io::save_model(&m, &path).unwrap();
    path
}

fn run_ok(args: &[&str]) -> serde_json::Value {
    let r = codegen().args(args).output().unwrap();
    assert!(
        r.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    serde_json::from_slice(&r.stdout).unwrap()
}

/// `--weight-bits 6 --membrane-bits 16` on a float model: 6-bit weight memories, and exactly the
/// design (testbench and golden expectations included) that the same model quantized by
/// `train::quantize` with those settings gives; it lints clean and passes its own testbench in
/// Icarus.
#[test]
fn float_model_with_quantization_options() {
    let tmp = tempfile::tempdir().unwrap();
    let float = small_float_model(tmp.path());
    let a = tmp.path().join("a");
    let common = ["--no-synth", "--json", "--samples", "3"];
    let v = run_ok(
        &[
            &common[..],
            &[
                "--model",
                float.to_str().unwrap(),
                "--weight-bits",
                "6",
                "--membrane-bits",
                "16",
                "--out",
                a.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    // 784 * 12 + 12 * 10 weights of 6 bits.
    assert_eq!(v["weight_bits"], (784 * 12 + 12 * 10) * 6);
    for l in v["layer_params"].as_array().unwrap() {
        assert_eq!(l["weight_bits"], 6, "{l}");
        assert_eq!(l["membrane_bits"], 16, "{l}");
    }
    // Weight memories: P = 12 (fc1) and P = 10 (fc2) lanes of 6 bits.
    for (layer, width) in [("fc1", 72), ("fc2", 60)] {
        let v = std::fs::read_to_string(a.join(format!("small_{layer}_layer.v"))).unwrap();
        let decl = format!("reg [{}:0] wmem [", width - 1);
        assert!(v.contains(&decl), "{layer}: no {decl:?}");
        let hex = std::fs::read_to_string(a.join(format!("small_{layer}_weights.hex"))).unwrap();
        assert!(hex.lines().all(|l| l.len() == width / 4), "{layer}");
    }
    // The same model quantized by the library, as an integer model file.
    let m = kernels::model_io::load_model(&float).unwrap();
    let cfg = train::quantize::QuantConfig {
        weight_bits: 6,
        membrane_bits: Some(16),
        ..Default::default()
    };
    let q = train::quantize::quantize(&m, &cfg, &[]).unwrap();
    let int = tmp.path().join("small_int6.safetensors");
    kernels::model_io::save_int_model(&q.model, &int).unwrap();
    let b = tmp.path().join("b");
    run_ok(
        &[
            &common[..],
            &[
                "--model",
                int.to_str().unwrap(),
                "--out",
                b.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    let mut compared = 0;
    for e in std::fs::read_dir(&a).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name == "README.md" || name == "summary.json" {
            continue; // name the output directory
        }
        let x = std::fs::read(a.join(&name)).unwrap();
        let y = std::fs::read(b.join(&name)).unwrap_or_default();
        assert!(
            x == y,
            "{name} differs between the float and the integer model runs"
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files compared");
    // Lint and simulate the testbench against the golden expectations.
    let sources: Vec<String> = std::fs::read_to_string(a.join("files.f"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let lint = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", "small_top"])
        .args(&sources)
        .current_dir(&a)
        .output()
        .expect("verilator is required: install the Debian package `verilator`");
    let text = String::from_utf8_lossy(&lint.stderr);
    assert!(lint.status.success() && text.trim().is_empty(), "{text}");
    let st = Command::new("iverilog")
        .args(["-g2005", "-o", "sim.vvp", "-s", "small_tb"])
        .args(&sources)
        .arg("small_tb.v")
        .current_dir(&a)
        .status()
        .expect("Icarus Verilog is required: install the Debian package `iverilog`");
    assert!(st.success());
    let sim = Command::new("vvp")
        .arg("sim.vvp")
        .current_dir(&a)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sim.stdout);
    assert!(text.contains("TB PASS small 3 samples"), "{text}");
}

/// A NIR file with `--weight-bits 5 --leak multiply --frac-bits 10`: 5-bit weights, a multiply
/// leak with 10 fraction bits in the neuron units, lint clean, and the testbench passes.
#[test]
fn nir_file_with_quantization_options() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let nir = "nir/tests/fixtures/snntorch_lif_mlp.nir";
    let v = run_ok(&[
        "--model",
        nir,
        "--weight-bits",
        "5",
        "--leak",
        "multiply",
        "--frac-bits",
        "10",
        "--no-synth",
        "--json",
        "--samples",
        "2",
        "--out",
        a.to_str().unwrap(),
    ]);
    let layers = v["layer_params"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    let model = v["model"].as_str().unwrap();
    for l in layers {
        assert_eq!(l["weight_bits"], 5, "{l}");
        let name = l["name"].as_str().unwrap();
        let lif = std::fs::read_to_string(a.join(format!("{model}_{name}_lif.v"))).unwrap();
        assert!(
            lif.contains("prod >>> 10;"),
            "{name}: no 10-bit multiply leak"
        );
    }
    let sources: Vec<String> = std::fs::read_to_string(a.join("files.f"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let st = Command::new("iverilog")
        .args(["-g2005", "-o", "sim.vvp", "-s", &format!("{model}_tb")])
        .args(&sources)
        .arg(format!("{model}_tb.v"))
        .current_dir(&a)
        .status()
        .expect("Icarus Verilog is required: install the Debian package `iverilog`");
    assert!(st.success());
    let sim = Command::new("vvp")
        .arg("sim.vvp")
        .current_dir(&a)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sim.stdout);
    assert!(
        text.contains(&format!("TB PASS {model} 2 samples")),
        "{text}"
    );
}
