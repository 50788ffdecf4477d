//! Runs the Python snippet of `docs/model-format.md` with python3 and the `safetensors` package:
//! Rust must load the file Python writes, and Python must read the file Rust writes.
//! When python3 or its `safetensors`/`numpy` packages are missing the test says so on stderr
//! and does nothing (they are present on the project's development machine).

use std::path::{Path, PathBuf};
use std::process::Command;

use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::model_io::{load_model, save_int_model};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};

fn snippet() -> String {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/model-format.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let start = text.find("```python\n").expect("python block") + "```python\n".len();
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_string()
}

fn python(dir: &Path, code: &str) -> Option<String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named") {
            return None;
        }
        panic!("python failed:\n{err}");
    }
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn python_snippet_and_rust_agree() {
    let dir = tempfile::tempdir().unwrap();
    let code = snippet()
        + "\nprint(json.dumps({'w': float(tensors['fc1.weight'][3, 5]), \
           's': float(tensors['fc2.weight'].astype(np.float64).sum())}))\n";
    let Some(out) = python(dir.path(), &code) else {
        // scripts/test (and so CI) installs the packages and sets SNN_REQUIRE_PYTHON=1: there a
        // missing package is a failure, not a skip.
        assert!(
            std::env::var_os("SNN_REQUIRE_PYTHON").is_none(),
            "python3 with safetensors and numpy is required (pip install safetensors numpy)"
        );
        eprintln!("SKIPPED: python3 with safetensors and numpy is not available");
        return;
    };
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let m = load_model(dir.path().join("mnist_mlp.safetensors")).unwrap();
    assert_eq!(m.name, "mnist_mlp");
    assert_eq!(m.timesteps, 25);
    assert_eq!(m.encoding, Encoding::Rate { seed: 1 });
    assert_eq!(m.layers.len(), 3);
    assert_eq!(m.layers[1].weights.len(), 128 * 784);
    assert_eq!(
        m.layers[1].weights[3 * 784 + 5] as f64,
        v["w"].as_f64().unwrap()
    );
    let s: f64 = m.layers[2].weights.iter().map(|&x| x as f64).sum();
    assert!(
        (s - v["s"].as_f64().unwrap()).abs() < 1e-9,
        "{s} vs {}",
        v["s"]
    );

    // Rust writes, Python reads.
    let im = IntModel {
        name: "q".into(),
        input: Shape::flat(3),
        timesteps: 4,
        encoding: Encoding::Direct,
        layers: vec![IntLayer {
            name: "fc".into(),
            op: LayerOp::Dense {
                inputs: 3,
                outputs: 2,
            },
            weight_bits: 8,
            weights: vec![-128, 127, 5, 6, -7, 8],
            bias: vec![10, -20],
            scale: 0.125,
            neuron: Some(IntLifParams {
                leak: Leak::Shift { k: 4 },
                threshold: 64,
                reset: ResetMode::Subtract,
                rule: FiringRule::Snntorch,
                membrane_bits: 16,
                syn_leak: None,
            }),
        }],
    };
    save_int_model(&im, dir.path().join("q.safetensors")).unwrap();
    let code = snippet()
        + "\nt, w = read_model('q.safetensors')\n\
           print(t['kind'], t['layers'][0]['neuron']['threshold'], \
           t['layers'][0]['neuron']['leak']['k'], w['fc.weight'].dtype, \
           list(w['fc.weight'].shape), int(w['fc.weight'][0, 1]), int(w['fc.bias'].sum()))\n";
    let out = python(dir.path(), &code).unwrap();
    assert_eq!(out.trim(), "int 64 4 int16 [2, 3] 127 -10");
}
