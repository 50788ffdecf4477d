//! Structure checks of the generated Verilog: `verilator --lint-only -Wall` reports nothing for
//! the bundled model and a spread of configurations; a golden-file test pins the generated
//! text of one small model (regenerate with `UPDATE_GOLDEN=1 cargo test -p codegen --test
//! lint_and_golden` and review the diff).

use std::path::{Path, PathBuf};
use std::process::Command;

use codegen::random::{RandomSpec, Rng, random_model};
use codegen::stimulus::random_samples;
use codegen::{Design, EncoderKind, Options, Plan, generate, write_design};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn make(model: &IntModel, opts: &Options, dir: &Path) -> Design {
    let plan = Plan::new(model, opts).unwrap_or_else(|e| panic!("{}: {e}", model.name));
    let samples = random_samples(&plan, 2, 5);
    let mut d = generate(model, opts, &samples, None).unwrap();
    write_design(&mut d, dir, true).unwrap();
    d
}

fn lint(d: &Design, dir: &Path) {
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", &d.plan.header.top])
        .args(&d.sources)
        .current_dir(dir)
        .output()
        .expect("verilator is required: install the Debian package `verilator`");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.trim().is_empty(),
        "verilator -Wall on {}:\n{text}",
        dir.display()
    );
}

#[test]
fn lint_clean_bundled_and_spread() {
    let tmp = tempfile::tempdir().unwrap();
    let m = kernels::model_io::load_int_model(root().join("models/mnist_mlp_int8.safetensors"))
        .unwrap();
    for (i, enc) in [EncoderKind::Lfsr, EncoderKind::Spikes]
        .into_iter()
        .enumerate()
    {
        let opts = Options {
            encoder: enc,
            parallel: Some([128, 24][i]),
            ..Options::default()
        };
        let dir = tmp.path().join(format!("mnist{i}"));
        let d = make(&m, &opts, &dir);
        lint(&d, &dir);
    }
    // Sizes that are not powers of two, P from 1 to the full layer, weights 2..16 bits, every
    // reset, leak and rule, both encoders.
    for seed in 0..16u64 {
        let mut rng = Rng::new(seed + 1000);
        let sizes = vec![
            rng.range(2, 70) as usize,
            rng.range(1, 33) as usize,
            rng.range(2, 11) as usize,
        ];
        let spec = RandomSpec {
            sizes: sizes.clone(),
            timesteps: rng.range(1, 30) as usize,
            encoding: Encoding::Lfsr {
                seed: 3,
                lanes: rng.range(1, 20) as u32,
            },
        };
        let mut m = random_model(&mut rng, &format!("s{seed}"), &spec);
        // Cover both extremes of the weight width in the first layer.
        let wb = [2u8, 16][seed as usize % 2];
        m.layers[0].weight_bits = wb;
        let lim = (1i32 << (wb - 1)) - 1;
        for w in &mut m.layers[0].weights {
            *w = ((*w as i32) * lim / 127).clamp(-lim - 1, lim) as i16;
        }
        let opts = Options {
            parallel: Some(if seed % 3 == 0 { 1 } else { sizes[1] }),
            neuron_units: Some(1 + seed as usize % 7),
            encoder: if seed % 2 == 0 {
                EncoderKind::Lfsr
            } else {
                EncoderKind::Spikes
            },
            ..Options::default()
        };
        let dir = tmp.path().join(format!("s{seed}"));
        let d = make(&m, &opts, &dir);
        lint(&d, &dir);
    }
}

/// A small fixed model whose generated text is pinned.
pub fn tiny() -> IntModel {
    let p = IntLifParams {
        leak: Leak::Shift { k: 2 },
        threshold: 9,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 8,
        syn_leak: None,
    };
    IntModel {
        name: "tiny".into(),
        input: Shape::flat(5),
        timesteps: 4,
        encoding: Encoding::Lfsr { seed: 7, lanes: 2 },
        layers: vec![
            IntLayer {
                name: "fc1".into(),
                op: LayerOp::Dense {
                    inputs: 5,
                    outputs: 3,
                },
                weight_bits: 4,
                weights: vec![1, -2, 3, -4, 5, 6, -7, 7, 0, 1, -8, 2, 4, 4, -1],
                bias: vec![1, 0, -1],
                scale: 1.0,
                neuron: Some(p),
            },
            IntLayer {
                name: "fc2".into(),
                op: LayerOp::Dense {
                    inputs: 3,
                    outputs: 2,
                },
                weight_bits: 4,
                weights: vec![7, -3, 2, -5, 6, 1],
                bias: vec![],
                scale: 1.0,
                neuron: Some(IntLifParams {
                    leak: Leak::Multiply {
                        beta_q: 3,
                        frac_bits: 2,
                    },
                    reset: ResetMode::Zero,
                    ..p
                }),
            },
        ],
    }
}

#[test]
fn golden_files_pin_generated_text() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options {
        parallel: Some(2),
        neuron_units: Some(2),
        ..Options::default()
    };
    let d = make(&tiny(), &opts, tmp.path());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tiny");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    if update {
        std::fs::create_dir_all(&golden).unwrap();
    }
    let mut names: Vec<String> = d.sources.clone();
    names.push(d.testbench.clone());
    names.extend(
        d.plan
            .layers
            .iter()
            .flat_map(|l| [l.weight_file.clone(), l.bias_file.clone()]),
    );
    names.push("synth_xc7.ys".into());
    for n in names {
        let got = std::fs::read_to_string(tmp.path().join(&n)).unwrap();
        let path = golden.join(&n);
        if update {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
        assert_eq!(got, want, "{n} differs from its golden file");
    }
    lint(&d, tmp.path());
}

#[test]
fn weight_and_bias_packing_by_hand() {
    let opts = Options {
        parallel: Some(2),
        neuron_units: Some(2),
        ..Options::default()
    };
    let plan = Plan::new(&tiny(), &opts).unwrap();
    let l = &plan.layers[0];
    // 3 neurons, P = 2: two words per input. Address (j << 1) | group; lane 0 = low nibble.
    // Input 0: neuron 0 w = 1, neuron 1 w = 6 -> word 0x61; group 1: neuron 2 w = -8 -> 0x08.
    assert_eq!((l.g, l.gw, l.pp, l.wb), (2, 1, 2, 4));
    assert_eq!(l.weight_words[0], "61");
    assert_eq!(l.weight_words[1], "08");
    // Input 1: neuron 0 w = -2 (0xe), neuron 1 w = -7 (0x9) -> 0x9e; group 1: w = 2 -> 0x02.
    assert_eq!(l.weight_words[2], "9e");
    assert_eq!(l.weight_words[3], "02");
    // Accumulator: neuron 1 can reach 0 + 6 + 7 + 1 = 14 and -7: 5 bits.
    assert_eq!(l.ab, 5);
    // Bias 1, 0, -1 and a zero pad neuron, one 5-bit word per neuron: 01, 00, 1f, 00.
    assert_eq!(l.npad, 4);
    assert_eq!(l.bias_words, ["01", "00", "1f", "00"]);
    assert_eq!(l.bias_file, "tiny_fc1_bias.hex");
    // The memory architecture: one word per group of P = 2 neurons, neuron 2g least
    // significant: (0, 1) -> 00 00001 = 0x001, (-1, pad 0) -> 00000 11111 = 0x01f.
    let opts = Options {
        parallel: Some(2),
        arch: codegen::plan::Arch::Mem,
        ..Options::default()
    };
    let plan = Plan::new(&tiny(), &opts).unwrap();
    let l = &plan.layers[0];
    assert_eq!((l.g, l.ab, l.bias_depth), (2, 5, 2));
    assert_eq!(l.bias_words, ["001", "01f"]);
}
