//! `snn import` and `snn export --nir` end to end, on the fixtures of the `snn-nir` crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kernels::model::Encoding;
use kernels::model_io::load_model;
use snn_nir::{ImportOptions, import};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nir/tests/fixtures")
        .join(name)
}

/// A fresh scratch directory for one test (no extra dev-dependency needed).
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("snn-nir-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn snn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_saves_the_mapped_model_with_the_chosen_options() {
    let d = scratch("import");
    let out = d.join("m.safetensors");
    let nir = fixture("snntorch_lif_mlp.nir");
    let o = snn(&[
        "import",
        nir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--timesteps",
        "30",
        "--encoding",
        "direct",
        "--reset",
        "zero",
        "--dt",
        "2e-4",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("snntorch semantics: dt = 0.0002 s, Zero reset"),
        "{stdout}"
    );
    let saved = load_model(&out).unwrap();
    assert_eq!(saved.timesteps, 30);
    assert_eq!(saved.encoding, Encoding::Direct);
    // The file holds exactly what the library maps with the same options.
    let (want, _) = import(
        &nir,
        &ImportOptions {
            dt: Some(2e-4),
            reset: Some(kernels::neuron::ResetMode::Zero),
            timesteps: 30,
            encoding: snn_nir::InputEncoding::Direct,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(saved, want);
}

#[test]
fn export_writes_a_nir_file_that_imports_back_to_the_same_model() {
    let d = scratch("export");
    let m = d.join("m.safetensors");
    let x = d.join("x.nir");
    let nir = fixture("snntorch_cubalif.nir");
    let o = snn(&[
        "import",
        nir.to_str().unwrap(),
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = snn(&[
        "export",
        "--nir",
        "--model",
        m.to_str().unwrap(),
        "--out",
        x.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let saved = load_model(&m).unwrap();
    let (back, _) = import(
        &x,
        &ImportOptions {
            name: Some(saved.name.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    // Layer names come back as the exported node names, weights and neurons bit for bit.
    assert_eq!(back, saved);
}

#[test]
fn bad_input_exits_with_status_2_and_names_the_problem() {
    let d = scratch("bad");
    let out = d.join("o.safetensors");
    let o = out.to_str().unwrap();
    let cycle = fixture("bad/cycle.nir");
    let good = fixture("snntorch_lif_mlp.nir");
    let not_hdf5 = d.join("x.nir");
    std::fs::write(&not_hdf5, b"hello").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["import", cycle.to_str().unwrap(), "--out", o],
            "cycle b -> c -> b",
        ),
        (
            vec!["import", "/nonexistent/m.nir", "--out", o],
            "/nonexistent/m.nir",
        ),
        (
            vec!["import", not_hdf5.to_str().unwrap(), "--out", o],
            "not an HDF5",
        ),
        (
            vec![
                "import",
                good.to_str().unwrap(),
                "--out",
                o,
                "--semantics",
                "brian",
            ],
            "brian",
        ),
        (
            vec![
                "import",
                good.to_str().unwrap(),
                "--out",
                o,
                "--timesteps",
                "0",
            ],
            "timesteps",
        ),
        (
            vec!["export", "--model", good.to_str().unwrap(), "--out", o],
            "--nir",
        ),
        (
            vec![
                "export",
                "--nir",
                "--model",
                good.to_str().unwrap(),
                "--out",
                o,
            ],
            "safetensors",
        ),
    ];
    for (args, needle) in cases {
        let r = snn(&args);
        let err = text(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out.exists(), "nothing is written on error");
}

#[test]
fn bundled_model_exports_and_imports_to_an_equivalent_network() {
    // The bundled MNIST model reads a 1x28x28 input with a dense layer; the export inserts the
    // Flatten that NIR needs, the import keeps it as a Flatten layer. Both networks must give
    // the same spikes and membranes on the same input.
    use kernels::network::{Input, Network};
    use kernels::spikes::SpikeTrain;
    let d = scratch("bundled");
    let x = d.join("m.nir");
    let o = snn(&["export", "--nir", "--out", x.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let original =
        load_model(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mnist_mlp.safetensors"))
            .unwrap();
    let (back, _) = import(&x, &ImportOptions::default()).unwrap();
    assert_eq!(back.layers.len(), original.layers.len() + 1);
    let n = original.input.len();
    let mut state = 12345u64;
    let bits: Vec<bool> = (0..25 * n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33).is_multiple_of(5)
        })
        .collect();
    let train = SpikeTrain::from_bools(25, n, &bits).unwrap();
    let a = Network::new(&original)
        .unwrap()
        .run(&Input::Spikes(&train), true)
        .unwrap();
    let b = Network::new(&back)
        .unwrap()
        .run(&Input::Spikes(&train), true)
        .unwrap();
    assert_eq!(a.trace, b.trace);
    assert!(a.counts.iter().sum::<u32>() > 0);
}
