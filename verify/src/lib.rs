//! # verify: bit-exact co-simulation of generated Verilog against the Rust golden model
//!
//! [`verify`] generates a design through `codegen`, builds its testbench with Verilator (or
//! Icarus) as a subprocess, streams samples through it and compares, per sample, the encoded
//! input spikes, every layer's output spikes at every timestep, every membrane potential at the
//! end of every timestep, the output spike counts, the class and the cycle count with
//! `kernels::network::IntNetwork` and `codegen::timing`. The pieces ([`build`], [`run`],
//! [`parse`], [`compare`]) are public so that tests can share one build across many samples.

use std::path::{Path, PathBuf};
use std::process::Command;

use codegen::stimulus::{Golden, Sample, expected_text, golden, stimulus_text};
use codegen::{Design, Options};
use kernels::model::IntModel;
use serde::Serialize;

/// What went wrong.
#[derive(Debug)]
pub enum Error {
    /// Bad input (model, options, data): exit status 2.
    Input(String),
    /// A simulator is missing or failed.
    Tool(String),
    /// File system.
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(m) | Error::Tool(m) => write!(f, "{m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<codegen::Error> for Error {
    fn from(e: codegen::Error) -> Self {
        match e {
            codegen::Error::Input(m) => Error::Input(m),
            codegen::Error::Io(m) => Error::Io(m),
            other => Error::Tool(other.to_string()),
        }
    }
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// The HDL simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Simulator {
    /// Verilator 5 (`--binary --timing`).
    Verilator,
    /// Icarus Verilog (`iverilog` + `vvp`).
    Icarus,
}

impl Simulator {
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Simulator::Verilator => "verilator",
            Simulator::Icarus => "icarus",
        }
    }

    /// Fails with a message naming the Debian package when the simulator is not installed.
    pub fn require(self) -> Result<()> {
        let (bin, pkg) = match self {
            Simulator::Verilator => ("verilator", "verilator"),
            Simulator::Icarus => ("iverilog", "iverilog"),
        };
        let ok = Command::new(bin)
            .arg(if bin == "iverilog" { "-V" } else { "--version" })
            .output()
            .map(|o| o.status.success() || !o.stdout.is_empty())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(Error::Tool(format!(
                "simulator `{bin}` not found: install the Debian package `{pkg}` (sudo apt-get \
                 install {pkg})"
            )))
        }
    }
}

fn io(p: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", p.display()))
}

/// A built testbench.
#[derive(Clone, Debug)]
pub struct Build {
    /// Simulator.
    pub sim: Simulator,
    /// Design directory (the simulation runs there: `$readmemh` paths are relative).
    pub design_dir: PathBuf,
    /// The executable (Verilator) or the compiled `.vvp` (Icarus).
    pub exe: PathBuf,
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    let out = cmd
        .output()
        .map_err(|e| Error::Tool(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: String = log
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(Error::Tool(format!("{what} failed:\n{tail}")));
    }
    Ok(out)
}

/// Builds the testbench of the design written in `design_dir` into `build_dir` (its own
/// directory per build; Verilator uses `OBJCACHE=ccache` when ccache is installed). With
/// `waves`, the Verilator build can dump VCD.
pub fn build(
    design: &Design,
    design_dir: &Path,
    sim: Simulator,
    build_dir: &Path,
    waves: bool,
) -> Result<Build> {
    let mut files = design.sources.clone();
    files.push(design.testbench.clone());
    let top = format!("{}_tb", design.plan.header.p);
    build_files(&files, &top, design_dir, sim, build_dir, waves)
}

/// Builds the given files (relative to `design_dir`) with top module `top`.
pub fn build_files(
    files: &[String],
    top: &str,
    design_dir: &Path,
    sim: Simulator,
    build_dir: &Path,
    waves: bool,
) -> Result<Build> {
    sim.require()?;
    std::fs::create_dir_all(build_dir).map_err(|e| io(build_dir, e))?;
    let design_dir = design_dir.canonicalize().map_err(|e| io(design_dir, e))?;
    let build_dir = build_dir.canonicalize().map_err(|e| io(build_dir, e))?;
    let files: Vec<PathBuf> = files.iter().map(|f| design_dir.join(f)).collect();
    match sim {
        Simulator::Verilator => {
            let mut cmd = Command::new("verilator");
            cmd.args(["--binary", "--timing", "--timescale", "1ns/1ps", "-O3"])
                .args(["--x-assign", "fast", "--x-initial", "fast"])
                .args(["--output-split", "20000", "-Wno-fatal"])
                .args(["-j", "2", "--top-module", top, "-Mdir"])
                .arg(&build_dir)
                .args(["-o", "sim"]);
            if waves {
                cmd.arg("--trace");
            }
            if std::env::var_os("VERIFY_FAST_COMPILE").is_some() || files.len() > 40 {
                // Many small designs: compile time dominates, run time does not matter.
                cmd.args(["-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0"]);
            }
            cmd.args(&files);
            let has_ccache = Command::new("ccache").arg("--version").output().is_ok();
            if has_ccache && std::env::var_os("OBJCACHE").is_none() {
                cmd.env("OBJCACHE", "ccache");
            }
            run_tool(&mut cmd, "verilator build")?;
            Ok(Build {
                sim,
                design_dir,
                exe: build_dir.join("sim"),
            })
        }
        Simulator::Icarus => {
            let vvp = build_dir.join("sim.vvp");
            let mut cmd = Command::new("iverilog");
            cmd.args(["-g2005", "-s", top, "-o"]).arg(&vvp).args(&files);
            run_tool(&mut cmd, "iverilog")?;
            Ok(Build {
                sim,
                design_dir,
                exe: vvp,
            })
        }
    }
}

/// Several designs simulated in one build (`multi_tb`): much faster than one Verilator build
/// per small design. Every design's sources and memories are copied into `shared`.
pub fn build_multi(
    designs: &[(&Design, &Path)],
    sim: Simulator,
    shared: &Path,
    build_dir: &Path,
) -> Result<Build> {
    std::fs::create_dir_all(shared).map_err(|e| io(shared, e))?;
    let mut files = Vec::new();
    let mut prefixes = Vec::new();
    for (d, dir) in designs {
        let mut names = d.sources.clone();
        names.push(d.testbench.clone());
        for n in names.iter().chain(
            d.plan
                .layers
                .iter()
                .flat_map(|l| [&l.weight_file, &l.bias_file]),
        ) {
            let from = dir.join(n);
            let to = shared.join(n);
            std::fs::copy(&from, &to).map_err(|e| io(&from, e))?;
        }
        files.extend(names);
        prefixes.push(d.plan.header.p.clone());
    }
    let m = codegen::render::multi_testbench(&prefixes)?;
    std::fs::write(shared.join(&m.name), &m.text).map_err(|e| io(shared, e))?;
    files.push(m.name);
    build_files(&files, "multi_tb", shared, sim, build_dir, false)
}

/// Runs a multi build: per design (prefix, stimulus, expected, out). Returns each output text.
pub fn run_multi(b: &Build, runs: &[(String, PathBuf, PathBuf, PathBuf)]) -> Result<Vec<String>> {
    let mut args = vec!["+multi".to_string(), "+trace".to_string()];
    for (p, s, e, o) in runs {
        args.push(format!("+{p}_stimulus={}", s.display()));
        args.push(format!("+{p}_expected={}", e.display()));
        args.push(format!("+{p}_out={}", o.display()));
    }
    let mut cmd = match b.sim {
        Simulator::Verilator => Command::new(&b.exe),
        Simulator::Icarus => {
            let mut c = Command::new("vvp");
            c.arg("-n").arg(&b.exe);
            c
        }
    };
    cmd.args(&args).current_dir(&b.design_dir);
    run_tool(&mut cmd, &format!("{} simulation", b.sim.name()))?;
    runs.iter()
        .map(|(_, _, _, o)| std::fs::read_to_string(o).map_err(|e| io(o, e)))
        .collect()
}

/// Runs a build on a stimulus file, writing the testbench output to `out`; returns its text.
pub fn run(
    b: &Build,
    stimulus: &Path,
    expected: &Path,
    out: &Path,
    trace: bool,
    vcd: Option<&Path>,
) -> Result<String> {
    let mut args = vec![
        format!("+stimulus={}", stimulus.display()),
        format!("+expected={}", expected.display()),
        format!("+out={}", out.display()),
    ];
    if trace {
        args.push("+trace".into());
    }
    if let Some(v) = vcd {
        args.push(format!("+vcd={}", v.display()));
    }
    let mut cmd = match b.sim {
        Simulator::Verilator => Command::new(&b.exe),
        Simulator::Icarus => {
            let mut c = Command::new("vvp");
            c.arg("-n").arg(&b.exe);
            c
        }
    };
    cmd.args(&args).current_dir(&b.design_dir);
    run_tool(&mut cmd, &format!("{} simulation", b.sim.name()))?;
    std::fs::read_to_string(out).map_err(|e| io(out, e))
}

/// One traced timestep of one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStep {
    /// Output spikes.
    pub spikes: Vec<bool>,
    /// Membrane potentials (sign-extended).
    pub v: Vec<i64>,
}

/// One sample's result line.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleResult {
    /// Measured cycles.
    pub cycles: u64,
    /// Class.
    pub class: usize,
    /// Output spike counts.
    pub counts: Vec<u32>,
}

/// Parsed testbench output.
#[derive(Clone, Debug, Default)]
pub struct TbOutput {
    /// Encoded input spikes, one entry per accepted timestep.
    pub inputs: Vec<Vec<bool>>,
    /// Per layer, one entry per timestep (all samples in order).
    pub layers: Vec<Vec<LayerStep>>,
    /// Per sample.
    pub results: Vec<SampleResult>,
    /// The testbench finished (`DONE`).
    pub done: bool,
    /// The watchdog fired.
    pub timeout: bool,
}

/// Bits of a hex string, least significant first, exactly `n` of them.
fn hex_bits(s: &str, n: usize) -> Result<Vec<bool>> {
    let mut bits = Vec::with_capacity(s.len() * 4);
    for c in s.chars().rev() {
        let d = c
            .to_digit(16)
            .ok_or_else(|| Error::Tool(format!("bad hex digit {c:?} in testbench output")))?;
        for b in 0..4 {
            bits.push(d >> b & 1 == 1);
        }
    }
    if bits.len() < n {
        return Err(Error::Tool(format!(
            "testbench value of {} bits, expected {n}",
            bits.len()
        )));
    }
    bits.truncate(n);
    Ok(bits)
}

fn signed_fields(bits: &[bool], count: usize, width: usize) -> Vec<i64> {
    (0..count)
        .map(|i| {
            let mut v = 0i64;
            for b in 0..width {
                if bits[i * width + b] {
                    v |= 1 << b;
                }
            }
            if width < 64 && bits[i * width + width - 1] {
                v -= 1 << width;
            }
            v
        })
        .collect()
}

/// Parses the testbench's output file.
pub fn parse(text: &str, design: &Design) -> Result<TbOutput> {
    let plan = &design.plan;
    let mut o = TbOutput {
        layers: vec![Vec::new(); plan.layers.len()],
        ..TbOutput::default()
    };
    let bad = |l: &str| Error::Tool(format!("unparsable testbench line {l:?}"));
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("I") if f.len() == 2 => o.inputs.push(hex_bits(f[1], plan.header.inputs)?),
            Some("L") if f.len() >= 4 => {
                let li: usize = f[1].parse().map_err(|_| bad(line))?;
                let l = plan.layers.get(li).ok_or_else(|| bad(line))?;
                let s = hex_bits(f[2], l.npad)?;
                let v = hex_bits(f[3], l.npad * l.mb)?;
                o.layers[li].push(LayerStep {
                    spikes: s[..l.n].to_vec(),
                    v: signed_fields(&v, l.n, l.mb),
                });
            }
            Some("R") if f.len() >= 4 => {
                let num = |s: &str| s.parse::<u64>().map_err(|_| bad(line));
                let counts = f[4..]
                    .iter()
                    .map(|s| num(s).map(|x| x as u32))
                    .collect::<Result<Vec<_>>>()?;
                o.results.push(SampleResult {
                    cycles: num(f[2])?,
                    class: num(f[3])? as usize,
                    counts,
                });
            }
            Some("DONE") => o.done = true,
            Some("TIMEOUT") => o.timeout = true,
            _ => return Err(bad(line)),
        }
    }
    Ok(o)
}

/// A difference between hardware and golden model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Sample index.
    pub sample: usize,
    /// Layer name, `input` for the encoded input, `output` for counts/class/cycles.
    pub layer: String,
    /// Timestep (`None` for per-sample values).
    pub timestep: Option<usize>,
    /// Neuron (or output index).
    pub neuron: Option<usize>,
    /// What differs: `spike`, `potential`, `count`, `class`, `cycles`, `missing`.
    pub what: String,
    /// Golden value.
    pub expected: i64,
    /// Hardware value.
    pub actual: i64,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sample {} layer {}", self.sample, self.layer)?;
        if let Some(t) = self.timestep {
            write!(f, " timestep {t}")?;
        }
        if let Some(n) = self.neuron {
            write!(f, " neuron {n}")?;
        }
        write!(
            f,
            ": {} expected {}, actual {}",
            self.what, self.expected, self.actual
        )
    }
}

/// The comparison of one simulation with the golden model.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Samples compared.
    pub samples: usize,
    /// True only when every compared value matched (cycles included).
    pub bit_exact: bool,
    /// Number of differing values.
    pub mismatches: usize,
    /// The first one (by sample, timestep, layer, neuron).
    pub first_mismatch: Option<Mismatch>,
    /// Hardware classification accuracy (with labels).
    pub accuracy_hardware: Option<f64>,
    /// Golden-model accuracy (with labels).
    pub accuracy_golden: Option<f64>,
    /// Measured mean cycles per inference.
    pub cycles_per_inference: f64,
    /// `codegen::timing::predict` mean.
    pub cycles_predicted: f64,
    /// Simulator.
    pub simulator: String,
    /// Values compared.
    pub values_compared: u64,
    /// Waveform of the first mismatching sample (with `--vcd`).
    pub vcd: Option<String>,
}

/// Compares parsed output with the golden runs (`goldens[i]` for sample `i`).
pub fn compare(
    design: &Design,
    goldens: &[Golden],
    o: &TbOutput,
    labels: Option<&[u8]>,
    sim: Simulator,
) -> Report {
    let plan = &design.plan;
    let t_max = plan.header.timesteps;
    let mut all: Vec<Mismatch> = Vec::new();
    let mut compared = 0u64;
    let mut push = |m: Mismatch| all.push(m);
    let mut measured = Vec::new();
    let mut predicted = Vec::new();
    for (s, g) in goldens.iter().enumerate() {
        let trace = g.run.trace.as_ref().expect("golden traces");
        let pred = codegen::timing::predict(plan, g);
        predicted.push(pred as f64);
        for t in 0..t_max {
            match o.inputs.get(s * t_max + t) {
                Some(row) => {
                    for (n, &b) in row.iter().enumerate() {
                        compared += 1;
                        let e = g.input.get(t, n);
                        if e != b {
                            push(Mismatch {
                                sample: s,
                                layer: "input".into(),
                                timestep: Some(t),
                                neuron: Some(n),
                                what: "spike".into(),
                                expected: e as i64,
                                actual: b as i64,
                            });
                        }
                    }
                }
                None => push(Mismatch {
                    sample: s,
                    layer: "input".into(),
                    timestep: Some(t),
                    neuron: None,
                    what: "missing".into(),
                    expected: 1,
                    actual: 0,
                }),
            }
            for (li, l) in plan.layers.iter().enumerate() {
                let Some(st) = o.layers[li].get(s * t_max + t) else {
                    push(Mismatch {
                        sample: s,
                        layer: l.name.clone(),
                        timestep: Some(t),
                        neuron: None,
                        what: "missing".into(),
                        expected: 1,
                        actual: 0,
                    });
                    continue;
                };
                let tr = &trace[li];
                for n in 0..l.n {
                    compared += 2;
                    let es = tr.spikes.get(t, n);
                    if es != st.spikes[n] {
                        push(Mismatch {
                            sample: s,
                            layer: l.name.clone(),
                            timestep: Some(t),
                            neuron: Some(n),
                            what: "spike".into(),
                            expected: es as i64,
                            actual: st.spikes[n] as i64,
                        });
                    }
                    let ev = tr.membranes[t * l.n + n] as i64;
                    if ev != st.v[n] {
                        push(Mismatch {
                            sample: s,
                            layer: l.name.clone(),
                            timestep: Some(t),
                            neuron: Some(n),
                            what: "potential".into(),
                            expected: ev,
                            actual: st.v[n],
                        });
                    }
                }
            }
        }
        let out = |what: &str, neuron: Option<usize>, e: i64, a: i64| Mismatch {
            sample: s,
            layer: "output".into(),
            timestep: None,
            neuron,
            what: what.into(),
            expected: e,
            actual: a,
        };
        match o.results.get(s) {
            Some(r) => {
                measured.push(r.cycles as f64);
                compared += 2 + g.run.counts.len() as u64;
                for (k, &c) in g.run.counts.iter().enumerate() {
                    let a = r.counts.get(k).copied().map(|x| x as i64).unwrap_or(-1);
                    if c as i64 != a {
                        push(out("count", Some(k), c as i64, a));
                    }
                }
                if r.class != g.run.class {
                    push(out("class", None, g.run.class as i64, r.class as i64));
                }
                if r.cycles != pred {
                    push(out("cycles", None, pred as i64, r.cycles as i64));
                }
            }
            None => push(out("missing", None, 1, 0)),
        }
    }
    let mismatches = all.len();
    // Within a timestep the earliest layer first (input, then model order): a fault shows up
    // in the layer that causes it before the layers its spikes feed.
    let rank = |name: &str| match plan.layers.iter().position(|l| l.name == name) {
        Some(i) => i + 1,
        None if name == "input" => 0,
        None => usize::MAX,
    };
    let first = all.into_iter().min_by_key(|m| {
        (
            m.sample,
            m.timestep.unwrap_or(usize::MAX),
            rank(&m.layer),
            m.neuron,
        )
    });
    let acc = |classes: Vec<usize>| {
        labels.map(|lab| {
            let ok = classes
                .iter()
                .zip(lab)
                .filter(|(c, l)| **c == **l as usize)
                .count();
            ok as f64 / classes.len().max(1) as f64
        })
    };
    let hw_classes: Vec<usize> = (0..goldens.len())
        .map(|s| o.results.get(s).map(|r| r.class).unwrap_or(usize::MAX))
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Report {
        samples: goldens.len(),
        bit_exact: mismatches == 0 && o.done && !o.timeout,
        mismatches,
        first_mismatch: first,
        accuracy_hardware: acc(hw_classes),
        accuracy_golden: acc(goldens.iter().map(|g| g.run.class).collect()),
        cycles_per_inference: mean(&measured),
        cycles_predicted: mean(&predicted),
        simulator: sim.name().into(),
        values_compared: compared,
        vcd: None,
    }
}

/// Writes a stimulus/expected pair for `samples` into `dir` under `tag`; returns their paths
/// and the golden runs.
pub fn write_samples(
    design: &Design,
    dir: &Path,
    tag: &str,
    samples: &[Sample],
) -> Result<(PathBuf, PathBuf, Vec<Golden>)> {
    let goldens = golden(&design.plan, samples)?;
    let stim = dir.join(format!("stimulus_{tag}.hex"));
    let exp = dir.join(format!("expected_{tag}.hex"));
    std::fs::write(&stim, stimulus_text(&design.plan, samples)?).map_err(|e| io(&stim, e))?;
    std::fs::write(&exp, expected_text(&goldens)).map_err(|e| io(&exp, e))?;
    Ok((stim, exp, goldens))
}

/// Simulates `samples` on a build and compares them with the golden model.
pub fn check_samples(
    design: &Design,
    b: &Build,
    work: &Path,
    tag: &str,
    samples: &[Sample],
    labels: Option<&[u8]>,
) -> Result<Report> {
    let (stim, exp, goldens) = write_samples(design, work, tag, samples)?;
    let out = work.join(format!("tb_{tag}_{}.txt", b.sim.name()));
    let text = run(b, &stim, &exp, &out, true, None)?;
    let parsed = parse(&text, design)?;
    Ok(compare(design, &goldens, &parsed, labels, b.sim))
}

/// The whole flow: generate the design for `model` into `work/design`, build it with `sim`,
/// simulate `samples` and compare. With `vcd`, the first mismatching sample is simulated again
/// with waveform dumping and the file is kept in `work`.
///
/// Everything is written into a temporary directory next to `work` that is renamed to `work`
/// only when the flow completes (a mismatch is a completed flow: its files are the evidence).
/// On any error the temporary directory is removed and an existing `work` is left untouched,
/// so a failed run never leaves a half-written directory behind.
pub fn verify(
    model: &IntModel,
    opts: &Options,
    samples: &[Sample],
    labels: Option<&[u8]>,
    sim: Simulator,
    work: &Path,
    vcd: bool,
) -> Result<(Design, Report)> {
    sim.require()?;
    let mut design = codegen::generate(model, opts, &samples[..samples.len().min(4)], None)?;
    let parent = match work.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".verify-")
        .tempdir_in(&parent)
        .map_err(|e| io(&parent, e))?;
    let mut report = verify_in(&mut design, samples, labels, sim, tmp.path(), vcd)?;
    if work.exists() {
        std::fs::remove_dir_all(work).map_err(|e| io(work, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, work).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        io(work, e)
    })?;
    if let Some(v) = &report.vcd {
        // The waveform was written inside the temporary directory; name its final place.
        let file = Path::new(v)
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        report.vcd = Some(work.join(file).display().to_string());
    }
    Ok((design, report))
}

/// [`verify`]'s steps, all inside the (temporary) directory `work`.
fn verify_in(
    design: &mut Design,
    samples: &[Sample],
    labels: Option<&[u8]>,
    sim: Simulator,
    work: &Path,
    vcd: bool,
) -> Result<Report> {
    let ddir = work.join("design");
    codegen::write_design(design, &ddir, true)?;
    let b = build(
        design,
        &ddir,
        sim,
        &work.join(format!("obj_{}", sim.name())),
        false,
    )?;
    let work = work.canonicalize().map_err(|e| io(work, e))?;
    let mut report = check_samples(design, &b, &work, "run", samples, labels)?;
    if vcd && let Some(m) = &report.first_mismatch {
        let one = [samples[m.sample].clone()];
        let bw = match sim {
            Simulator::Verilator => build(design, &ddir, sim, &work.join("obj_vcd"), true)?,
            Simulator::Icarus => b.clone(),
        };
        let (stim, exp, _) = write_samples(design, &work, "vcd", &one)?;
        let wave = work.join(format!("sample{}.vcd", m.sample));
        run(
            &bw,
            &stim,
            &exp,
            &work.join("tb_vcd.txt"),
            false,
            Some(&wave),
        )?;
        report.vcd = Some(wave.display().to_string());
    }
    Ok(report)
}
