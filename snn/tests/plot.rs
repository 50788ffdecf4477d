//! Runs `snn plot` and `snn eval --plots`: the SVG files exist, parse as XML, carry their
//! titles and axis labels, and the rasters hold exactly the spikes of the golden model, computed
//! here independently through the `kernels` API (count per layer and per timestep column).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kernels::data::load_mnist;
use kernels::encode::encode_sample;
use kernels::model_io::load_int_model;
use kernels::network::IntNetwork;
use kernels::spikes::SpikeTrain;

/// Fill of a spike cell in the rasters (`snn::plot::SPIKE_RGB` = (20, 60, 160)).
const SPIKE_FILL: &str = "#143CA0";

fn snn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run snn")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads an SVG file, checks it is well-formed XML with an `<svg>` root, and returns its text
/// elements (trimmed) and the `(x, y)` of every spike cell.
fn read_svg(path: &Path) -> (Vec<String>, Vec<(i64, i64)>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    let cells = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(SPIKE_FILL))
        .map(|n| {
            let a = |k| n.attribute(k).unwrap().parse::<i64>().unwrap();
            (a("x"), a("y"))
        })
        .collect();
    (texts, cells)
}

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

/// Spikes per step, skipping silent steps (a raster column exists only where something fired).
fn per_step(s: &SpikeTrain) -> Vec<usize> {
    (0..s.steps())
        .map(|t| (0..s.neurons()).filter(|&n| s.get(t, n)).count())
        .filter(|&c| c > 0)
        .collect()
}

/// Cell counts per distinct x (one column per timestep), left to right.
fn per_column(cells: &[(i64, i64)]) -> Vec<usize> {
    let mut m = BTreeMap::new();
    for &(x, _) in cells {
        *m.entry(x).or_insert(0usize) += 1;
    }
    m.into_values().collect()
}

#[test]
fn plot_rasters_hold_the_golden_spikes() {
    let sample = 17usize;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("figs");
    let o = snn(&[
        "plot",
        "--sample",
        &sample.to_string(),
        "--neurons",
        "3,7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "snn plot failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The golden model, independently: load, encode test digit `sample` with its seed, run.
    let model = load_int_model(root().join("models/mnist_mlp_int8.safetensors")).unwrap();
    let mnist = load_mnist(root().join("data/mnist")).unwrap();
    let x = encode_sample(
        &model.encoding,
        mnist.test.image(sample),
        model.timesteps,
        sample as u64,
    )
    .unwrap();
    let input = x.spikes().unwrap().clone();
    let run = IntNetwork::new(&model).unwrap().run(&input, true).unwrap();
    let trace = run.trace.unwrap();
    let label = mnist.test.labels[sample] as usize;

    let layers: Vec<(&str, &SpikeTrain)> = std::iter::once(("input", &input))
        .chain([("fc1", &trace[0].spikes), ("fc2", &trace[1].spikes)])
        .collect();
    for (k, (name, spikes)) in layers.iter().enumerate() {
        let f = out.join(format!("raster-{k}-{name}.svg"));
        let (texts, cells) = read_svg(&f);
        assert!(spikes.count() > 0, "layer {name} is silent: a weak check");
        assert_eq!(cells.len(), spikes.count(), "{name}: spike marks");
        assert_eq!(
            per_column(&cells),
            per_step(spikes),
            "{name}: marks per step"
        );
        assert!(has(&texts, "Spike raster"), "{name}: title in {texts:?}");
        assert!(has(
            &texts,
            &format!("{} spikes in 25 steps", spikes.count())
        ));
        assert!(has(&texts, "timestep t"), "{name}: x axis label");
        assert!(has(&texts, "neuron index"), "{name}: y axis label");
    }
    assert!(has(&read_svg(&out.join("raster-1-fc1.svg")).0, "layer fc1"));

    // Membranes: the chosen neurons, their spike counts and fc2's threshold from the file.
    let (texts, _) = read_svg(&out.join("membrane.svg"));
    let theta = model.layers.last().unwrap().neuron.unwrap().threshold;
    assert!(has(&texts, "Membrane potential, layer fc2"), "{texts:?}");
    assert!(has(&texts, &format!("threshold {theta}")), "{texts:?}");
    assert!(has(&texts, "membrane potential v (integer units)"));
    assert!(has(&texts, "timestep t"));
    for n in [3usize, 7] {
        let c = (0..25).filter(|&t| trace[1].spikes.get(t, n)).count();
        assert!(
            has(&texts, &format!("neuron {n} ({c} spikes)")),
            "{texts:?}"
        );
    }
    assert!(
        !has(&texts, "neuron 0 ("),
        "only the chosen neurons are traced"
    );

    // Counts: prediction = argmax of the golden counts (ties low), true class from the labels.
    let (texts, _) = read_svg(&out.join("counts.svg"));
    let mut pred = 0;
    for (i, &c) in run.counts.iter().enumerate() {
        if c > run.counts[pred] {
            pred = i;
        }
    }
    assert!(
        has(&texts, &format!("predicted {pred}, true {label}")),
        "{texts:?}"
    );
    assert!(has(&texts, "output spikes (count)"));
    assert!(has(&texts, "class (output neuron)"));
    for c in &run.counts {
        assert!(texts.iter().any(|t| t == &c.to_string()), "bar value {c}");
    }
}

#[test]
fn plot_float_model() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("f");
    let o = snn(&[
        "plot",
        "--float",
        "--sample",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "raster-0-input.svg",
        "raster-1-fc1.svg",
        "raster-2-fc2.svg",
        "membrane.svg",
        "counts.svg",
    ] {
        let (texts, _) = read_svg(&out.join(f));
        assert!(has(&texts, "float model"), "{f}: {texts:?}");
    }
    let (texts, _) = read_svg(&out.join("membrane.svg"));
    // The bundled float model's threshold is 1 (models/README.md).
    assert!(has(&texts, "threshold 1"), "{texts:?}");
}

#[test]
fn plot_bad_inputs_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a_file");
    std::fs::write(&file, "x").unwrap();
    let out = tmp.path().join("o");
    let o_s = out.to_str().unwrap();
    let seventeen = "1,".repeat(17);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--sample", "2000", "--out", o_s], "--sample 2000"),
        (
            vec!["--sample", "1", "--neurons", "10", "--out", o_s],
            "neuron 10",
        ),
        (vec!["--sample", "1", "--layer", "fc9", "--out", o_s], "fc9"),
        (
            vec![
                "--sample",
                "1",
                "--layer",
                "fc1",
                "--neurons",
                "128",
                "--out",
                o_s,
            ],
            "neuron 128",
        ),
        (
            vec!["--sample", "1", "--neurons", &seventeen[..33], "--out", o_s],
            "at most 16",
        ),
        (
            vec!["--sample", "1", "--out", file.to_str().unwrap()],
            "not a directory",
        ),
        (
            vec![
                "--sample",
                "1",
                "--model",
                "no/such.safetensors",
                "--out",
                o_s,
            ],
            "no/such.safetensors",
        ),
    ];
    for (args, needle) in cases {
        let mut a = vec!["plot"];
        a.extend(&args);
        let o = snn(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(
        !out.exists(),
        "a failed plot left its output directory behind"
    );
}

#[test]
fn eval_plots_accuracy_against_t() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ev");
    let n = 40usize;
    let o = snn(&[
        "eval",
        "--samples",
        &n.to_string(),
        "--json",
        "--plots",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_step: Vec<f64> = v["accuracy_by_step"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();

    // Independently: run each digit at full T, read the class out after every step.
    let model = load_int_model(root().join("models/mnist_mlp_int8.safetensors")).unwrap();
    let net = IntNetwork::new(&model).unwrap();
    let mnist = load_mnist(root().join("data/mnist")).unwrap();
    let t_len = model.timesteps;
    let mut correct = vec![0usize; t_len];
    for i in 0..n {
        let x = encode_sample(&model.encoding, mnist.test.image(i), t_len, i as u64).unwrap();
        let run = net.run(x.spikes().unwrap(), true).unwrap();
        let out = &run.trace.unwrap()[1].spikes;
        let mut counts = [0u32; 10];
        for (t, c) in correct.iter_mut().enumerate() {
            for (k, ck) in counts.iter_mut().enumerate() {
                *ck += out.get(t, k) as u32;
            }
            let best = (0..10).fold(0, |b, k| if counts[k] > counts[b] { k } else { b });
            *c += (best == mnist.test.labels[i] as usize) as usize;
        }
    }
    let expected: Vec<f64> = correct.iter().map(|&c| c as f64 / n as f64).collect();
    assert_eq!(by_step, expected);
    assert_eq!(by_step[t_len - 1], v["accuracy"].as_f64().unwrap());

    let (texts, _) = read_svg(&dir.join("accuracy-vs-t.svg"));
    let last = 100.0 * expected[t_len - 1];
    assert!(
        has(
            &texts,
            &format!("Accuracy against T: {last:.2} % after 25 steps")
        ),
        "{texts:?}"
    );
    assert!(has(&texts, "test accuracy (%)"));
    assert!(has(&texts, "timesteps t read out (steps)"));
    let (texts, _) = read_svg(&dir.join("spike-rates.svg"));
    assert!(has(&texts, "Spike rate per layer"));
    assert!(has(&texts, "spikes per neuron per step"));
    for name in ["input", "fc1", "fc2"] {
        assert!(texts.iter().any(|t| t == name), "{name}: {texts:?}");
    }
    let rate = v["spike_rates"]["fc1"].as_f64().unwrap();
    assert!(has(&texts, &format!("{rate:.4}")));
}

#[test]
fn eval_plots_into_a_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let o = snn(&["eval", "--samples", "2", "--plots", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--plots") && err.contains("not a directory"),
        "{err}"
    );
}
