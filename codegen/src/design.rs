//! The whole generated design: files, summary, and writing them atomically.

use std::path::{Path, PathBuf};

use askama::Template;
use kernels::model::IntModel;
use serde::Serialize;

use crate::plan::{Options, Plan};
use crate::render::{GeneratedFile, testbench, verilog};
use crate::stimulus::{Golden, Sample, expected_text, golden, stimulus_text};
use crate::synth::{self, Resources, TARGETS};
use crate::{Error, Result};

/// What `codegen` prints (and `--json` serialises).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Model name.
    pub model: String,
    /// Top module.
    pub top: String,
    /// Target.
    pub target: String,
    /// Output directory (when written).
    pub out_dir: Option<String>,
    /// Layer sizes, e.g. "784-128-10".
    pub shape: String,
    /// Spiking layers.
    pub layers: usize,
    /// Neurons.
    pub neurons: usize,
    /// Synapses (weights).
    pub synapses: usize,
    /// Weight memory payload bits.
    pub weight_bits: usize,
    /// Timesteps.
    pub timesteps: usize,
    /// Encoder.
    pub encoder: String,
    /// Per layer: (name, P, words per input, neuron units, neuron cycles, acc bits, membrane bits).
    pub layer_params: Vec<LayerSummary>,
    /// Mean predicted cycles per inference over the testbench samples.
    pub cycles_per_inference: f64,
    /// Smallest and largest predicted cycles over the samples.
    pub cycles_min: u64,
    /// Largest.
    pub cycles_max: u64,
    /// Latency at 100 MHz in microseconds (mean).
    pub latency_us_100mhz: f64,
    /// Yosys resources (when synthesis ran).
    pub luts: Option<u64>,
    /// Flip-flops.
    pub ffs: Option<u64>,
    /// Block RAMs.
    pub brams: Option<u64>,
    /// DSPs.
    pub dsps: Option<u64>,
    /// Testbench samples.
    pub samples: usize,
    /// Golden-model accuracy on the testbench samples when labels were given.
    pub golden_accuracy: Option<f64>,
}

/// Per-layer parameters in the summary.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary {
    /// Name.
    pub name: String,
    /// Fan-in.
    pub inputs: usize,
    /// Neurons.
    pub neurons: usize,
    /// Weights per cycle.
    pub parallel: usize,
    /// Weight words per active input.
    pub words_per_input: usize,
    /// Neurons per neuron-phase cycle.
    pub neuron_units: usize,
    /// Neuron-phase cycles per step.
    pub neuron_cycles: usize,
    /// Weight bits.
    pub weight_bits: usize,
    /// Accumulator bits.
    pub acc_bits: usize,
    /// Membrane bits.
    pub membrane_bits: usize,
    /// Scanner chunk bits.
    pub chunk: usize,
}

/// A generated design in memory.
#[derive(Clone, Debug)]
pub struct Design {
    /// All numbers.
    pub plan: Plan,
    /// Every file to write.
    pub files: Vec<GeneratedFile>,
    /// The Verilog sources of the synthesizable design, in compile order.
    pub sources: Vec<String>,
    /// The testbench file name.
    pub testbench: String,
    /// The UART board wrapper (LFSR designs): top module, its file, its testbench file.
    pub board: Option<(String, String, String)>,
    /// Binary files to write (name, bytes): `weights.bin`, the load stream.
    pub binaries: Vec<(String, Vec<u8>)>,
    /// Golden-model runs of the testbench samples.
    pub goldens: Vec<Golden>,
    /// Predicted cycles per sample.
    pub cycles: Vec<u64>,
    /// Summary.
    pub summary: Summary,
}

#[derive(Template)]
#[template(path = "core_readme.md", escape = "none")]
struct Readme<'a> {
    plan: &'a Plan,
    s: &'a Summary,
    sources: &'a [String],
    tb: &'a str,
}

/// Generates the design for `model` with testbench samples (and optional labels).
pub fn generate(
    model: &IntModel,
    opts: &Options,
    samples: &[Sample],
    labels: Option<&[u8]>,
) -> Result<Design> {
    let plan = Plan::new(model, opts)?;
    if samples.is_empty() {
        return Err(Error::Input(
            "at least one testbench sample is needed".into(),
        ));
    }
    let goldens = golden(&plan, samples)?;
    let cycles: Vec<u64> = goldens
        .iter()
        .map(|g| crate::timing::predict(&plan, g))
        .collect();
    let mut files = verilog(&plan)?;
    let sources: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let tb = testbench(&plan)?;
    let tb_name = tb.name.clone();
    files.push(tb);
    for l in &plan.layers {
        // A loaded memory's file holds exactly the words the load stream carries.
        let used = if l.load {
            &l.weight_words[..l.wdepth]
        } else {
            &l.weight_words[..]
        };
        let mut text = used.join("\n");
        text.push('\n');
        files.push(GeneratedFile {
            name: l.weight_file.clone(),
            text,
        });
        let mut text = l.bias_words.join("\n");
        text.push('\n');
        files.push(GeneratedFile {
            name: l.bias_file.clone(),
            text,
        });
    }
    files.push(GeneratedFile {
        name: "stimulus.hex".into(),
        text: stimulus_text(&plan, samples)?,
    });
    files.push(GeneratedFile {
        name: "expected.hex".into(),
        text: expected_text(&goldens),
    });
    let mut list = sources.join("\n");
    list.push('\n');
    files.push(GeneratedFile {
        name: "files.f".into(),
        text: list,
    });
    let mut board = None;
    if let Some([uart, uart_tb, pcf]) = crate::render::board(&plan)? {
        let top = format!("{}_uart", plan.header.p);
        let mut impl_files = sources.clone();
        impl_files.push(uart.name.clone());
        files.push(GeneratedFile {
            name: synth::IMPL_SCRIPT.into(),
            text: synth::impl_script(&impl_files, &top),
        });
        board = Some((top, uart.name.clone(), uart_tb.name.clone()));
        files.extend([uart, uart_tb, pcf]);
    }
    let mut binaries = Vec::new();
    if plan.loader.is_some() {
        binaries.push(("weights.bin".to_string(), load_stream(&plan)));
    }
    for t in TARGETS {
        files.push(GeneratedFile {
            name: synth::script_name(t),
            text: synth::yosys_script(&plan, t, &sources)?,
        });
    }
    files.push(GeneratedFile {
        name: "vivado.tcl".into(),
        text: synth::vivado_tcl(&plan, &sources)?,
    });
    let mean = cycles.iter().sum::<u64>() as f64 / cycles.len() as f64;
    let golden_accuracy = labels.map(|lab| {
        let ok = goldens
            .iter()
            .zip(lab)
            .filter(|(g, l)| g.run.class == **l as usize)
            .count();
        ok as f64 / goldens.len().max(1) as f64
    });
    let summary = Summary {
        model: plan.model.name.clone(),
        top: plan.header.top.clone(),
        target: plan.options.target.name().into(),
        out_dir: None,
        shape: plan.header.shape_desc.clone(),
        layers: plan.layers.len(),
        neurons: plan.neurons(),
        synapses: plan.synapses(),
        weight_bits: plan.weight_bits(),
        timesteps: plan.header.timesteps,
        encoder: if plan.header.lfsr { "lfsr" } else { "spikes" }.into(),
        layer_params: plan
            .layers
            .iter()
            .map(|l| LayerSummary {
                name: l.name.clone(),
                inputs: l.fi,
                neurons: l.n,
                parallel: l.pp,
                words_per_input: l.g,
                neuron_units: l.nu,
                neuron_cycles: l.gn,
                weight_bits: l.wb,
                acc_bits: l.ab,
                membrane_bits: l.mb,
                chunk: l.c,
            })
            .collect(),
        cycles_per_inference: mean,
        cycles_min: *cycles.iter().min().unwrap(),
        cycles_max: *cycles.iter().max().unwrap(),
        latency_us_100mhz: mean / 100.0,
        luts: None,
        ffs: None,
        brams: None,
        dsps: None,
        samples: samples.len(),
        golden_accuracy,
    };
    let mut d = Design {
        plan,
        files,
        sources,
        testbench: tb_name,
        board,
        binaries,
        goldens,
        cycles,
        summary,
    };
    d.refresh_readme()?;
    Ok(d)
}

impl Design {
    /// Re-renders the generated README.md from the current summary.
    pub fn refresh_readme(&mut self) -> Result<()> {
        let text = Readme {
            plan: &self.plan,
            s: &self.summary,
            sources: &self.sources,
            tb: &self.testbench,
        }
        .render()
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
        self.files.retain(|f| f.name != "README.md");
        self.files.push(GeneratedFile {
            name: "README.md".into(),
            text,
        });
        Ok(())
    }

    /// Records synthesis results in the summary (and README).
    pub fn set_resources(&mut self, r: &Resources) -> Result<()> {
        self.summary.luts = Some(r.luts);
        self.summary.ffs = Some(r.ffs);
        self.summary.brams = Some(r.brams);
        self.summary.dsps = Some(r.dsps);
        self.refresh_readme()
    }
}

/// Writes every file of `design` into `out`: first into a temporary directory beside it, then
/// renamed into place, so that a failure never leaves a half-written directory. An existing
/// `out` is replaced only with `force`.
pub fn write_design(design: &mut Design, out: &Path, force: bool) -> Result<PathBuf> {
    if out.exists() && !force {
        return Err(Error::Input(format!(
            "output directory {} exists; pass --force to overwrite it",
            out.display()
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::Io(format!("{}: {e}", parent.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".codegen-")
        .tempdir_in(&parent)
        .map_err(|e| Error::Io(format!("{}: {e}", parent.display())))?;
    design.summary.out_dir = Some(out.display().to_string());
    design.refresh_readme()?;
    for f in &design.files {
        let p = tmp.path().join(&f.name);
        std::fs::write(&p, &f.text).map_err(|e| Error::Io(format!("{}: {e}", p.display())))?;
    }
    for (name, bytes) in &design.binaries {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::Io(format!("{}: {e}", p.display())))?;
    }
    let summary = serde_json::to_string_pretty(&design.summary)
        .map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(tmp.path().join("summary.json"), summary)
        .map_err(|e| Error::Io(e.to_string()))?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| Error::Io(format!("{}: {e}", out.display())))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        Error::Io(format!("{}: {e}", out.display()))
    })?;
    Ok(out.to_path_buf())
}

/// The run-time weight stream of the loader: every loaded layer's words in address order, each
/// least significant byte first (what `<model>_loader.v` expects and `weights.bin` holds).
pub fn load_stream(plan: &Plan) -> Vec<u8> {
    let mut out = Vec::new();
    for l in plan.layers.iter().filter(|l| l.load) {
        for w in &l.weight_words[..l.wdepth] {
            let digits: Vec<u8> = w
                .chars()
                .rev()
                .map(|c| c.to_digit(16).unwrap_or(0) as u8)
                .collect();
            for b in 0..l.wbytes {
                let lo = digits.get(2 * b).copied().unwrap_or(0);
                let hi = digits.get(2 * b + 1).copied().unwrap_or(0);
                out.push(lo | (hi << 4));
            }
        }
    }
    out
}
