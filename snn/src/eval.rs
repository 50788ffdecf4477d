//! `snn eval`: accuracy and the seed's cost metrics on the test split, from real spikes.

use std::path::{Path, PathBuf};

use std::fmt::Write as _;

use clap::Args;
use rayon::prelude::*;
use serde_json::json;

use kernels::metrics::{E_AC_PJ, E_MAC_PJ, EnergyModel, Metrics, MetricsAccumulator};

use crate::common::{
    CliError, CliResult, Runner, data_dir, emit, encoding_text, model_path, progress, test_images,
};
use crate::plot::{Bars, Line, Lines, bars_svg, lines_svg, prepare_out_dir, write_file};

/// Arguments of `snn eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model file (default: the bundled 8-bit integer model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Use the bundled float model instead of the integer one (only without --model).
    #[arg(long, conflicts_with = "model")]
    pub float: bool,
    /// Evaluate the first N digits of the 2,000-digit test split (default: all); with
    /// --events, the first N files in label-then-name order.
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Evaluate on an event dataset in the N-MNIST layout instead (`DIR/<label>/<id>.bin`,
    /// e.g. the `Test` folder of the N-MNIST download). Each file's events are binned into T
    /// frames of equal duration (tonic `ToFrame(n_time_bins = T)`), one spike per pixel and
    /// polarity that saw an event in a frame; the model must take 2 x 34 x 34 inputs.
    #[arg(long, value_name = "DIR", conflicts_with = "data")]
    pub events: Option<PathBuf>,
    /// Run the model for T timesteps instead of its own (accuracy against T).
    #[arg(long, value_name = "T")]
    pub timesteps: Option<usize>,
    /// Energy of one addition in pJ.
    #[arg(long, value_name = "PJ", default_value_t = E_AC_PJ)]
    pub e_ac: f64,
    /// Energy of one multiply-accumulate in pJ.
    #[arg(long, value_name = "PJ", default_value_t = E_MAC_PJ)]
    pub e_mac: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write SVG figures to DIR: accuracy against T (read out after t of the T steps)
    /// and spike rates per layer.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// The outcome of an evaluation.
pub struct Evaluation {
    /// Images classified correctly.
    pub correct: usize,
    /// The metrics.
    pub metrics: Metrics,
    /// `correct_by_step[t]`: images whose argmax of output spike counts cumulated over steps
    /// `0..=t` (for a non-spiking readout: of its decoded potentials of steps `0..=t`) is the
    /// label (the last entry equals `correct`).
    pub correct_by_step: Vec<u64>,
}

/// Runs image `pixels` as sample `sample` recording every layer, adds the spikes to `acc` and
/// returns the class read out after each step (argmax of the cumulative output counts, ties to
/// the lowest index, as [`kernels::network::argmax`]).
fn classify_by_step(
    runner: &Runner,
    input: SampleInput,
    sample: u64,
    acc: &mut MetricsAccumulator,
) -> kernels::Result<Vec<usize>> {
    use kernels::encode::Encoded;
    use kernels::network::{Input, LayerTrace, argmax};
    fn by_step<V>(trace: &Option<Vec<LayerTrace<V>>>) -> Vec<usize> {
        let Some(last) = trace.as_ref().and_then(|t| t.last()) else {
            return Vec::new();
        };
        let mut counts = vec![0u32; last.spikes.neurons()];
        (0..last.spikes.steps())
            .map(|t| {
                for (n, c) in counts.iter_mut().enumerate() {
                    *c += last.spikes.get(t, n) as u32;
                }
                argmax(&counts)
            })
            .collect()
    }
    /// A non-spiking readout: the class after step `t` decodes the potentials of steps `0..=t`
    /// with the model's rule (the last entry is the run's class).
    fn by_step_readout(
        trace: &Option<Vec<LayerTrace<f32>>>,
        rule: kernels::decode::Readout,
    ) -> Vec<usize> {
        let Some(last) = trace.as_ref().and_then(|t| t.last()) else {
            return Vec::new();
        };
        let n = last.spikes.neurons();
        let mut r = kernels::decode::ReadoutAccumulator::new(rule, n);
        last.membranes
            .chunks_exact(n)
            .map(|v| {
                r.add(v);
                kernels::decode::argmax_f32(&r.scores()).unwrap_or(0)
            })
            .collect()
    }
    let float_by_step = |net: &kernels::network::Network, run: &kernels::network::FloatRun| {
        match net.readout_rule() {
            Some(rule) => by_step_readout(&run.trace, rule),
            None => by_step(&run.trace),
        }
    };
    let x = match input {
        SampleInput::Pixels(pixels) => runner.encode(pixels, sample)?,
        SampleInput::Spikes(train) => Encoded::Spikes(train),
    };
    match (runner, &x) {
        (Runner::Float { net, .. }, Encoded::Spikes(t)) => {
            let run = net.run(&Input::Spikes(t), true)?;
            acc.add_run(Some(t), &run)?;
            Ok(float_by_step(net, &run))
        }
        (Runner::Float { net, .. }, Encoded::Analog(a)) => {
            let run = net.run(&Input::Analog(a), true)?;
            acc.add_run(None, &run)?;
            Ok(float_by_step(net, &run))
        }
        (Runner::Int { net, .. }, Encoded::Spikes(t)) => {
            let run = net.run(t, true)?;
            acc.add_run(Some(t), &run)?;
            Ok(by_step(&run.trace))
        }
        (Runner::Int { .. }, Encoded::Analog(_)) => Err(kernels::Error::invalid(
            "the integer runtime has no analog input",
        )),
    }
}

/// One input to classify: an image, encoded with the model's encoding, or spikes already
/// binned from events.
enum SampleInput<'a> {
    Pixels(&'a [u8]),
    Spikes(kernels::spikes::SpikeTrain),
}

/// What `eval` runs on: images (the MNIST test split) or an event dataset.
pub enum TestSet<'a> {
    /// Images with labels.
    Images(&'a kernels::data::Dataset),
    /// Event files with labels, binned into `bins` frames of a `width x height` sensor.
    Events {
        /// `(file, label)` pairs, from [`kernels::events::list_dataset`].
        files: Vec<(PathBuf, u8)>,
        /// Sensor width.
        width: usize,
        /// Sensor height.
        height: usize,
        /// Frames per sample (the model's T).
        bins: usize,
    },
}

impl TestSet<'_> {
    fn len(&self) -> usize {
        match self {
            TestSet::Images(d) => d.len(),
            TestSet::Events { files, .. } => files.len(),
        }
    }
    fn label(&self, i: usize) -> usize {
        match self {
            TestSet::Images(d) => d.labels[i] as usize,
            TestSet::Events { files, .. } => files[i].1 as usize,
        }
    }
    fn input(&self, i: usize) -> kernels::Result<SampleInput<'_>> {
        Ok(match self {
            TestSet::Images(d) => SampleInput::Pixels(d.image(i)),
            TestSet::Events {
                files,
                width,
                height,
                bins,
            } => {
                let path = &files[i].0;
                let events = kernels::events::read_nmnist(path)?;
                let binning = kernels::events::Binning::TimeBins { bins: *bins };
                let train = kernels::events::to_spike_train(&events, *width, *height, binning)
                    .map_err(|e| kernels::Error::invalid(format!("{}: {e}", path.display())))?;
                SampleInput::Spikes(train)
            }
        })
    }
    fn what(&self) -> &'static str {
        match self {
            TestSet::Images(_) => "test digits",
            TestSet::Events { .. } => "event samples",
        }
    }
}

/// Classifies the images with recording on, accumulating metrics, in parallel.
pub fn evaluate(
    runner: &Runner,
    data: &kernels::data::Dataset,
    energy: EnergyModel,
    show_progress: bool,
) -> CliResult<Evaluation> {
    evaluate_set(runner, &TestSet::Images(data), energy, show_progress)
}

/// Classifies every sample of `set` with recording on, accumulating metrics, in parallel.
pub fn evaluate_set(
    runner: &Runner,
    data: &TestSet,
    energy: EnergyModel,
    show_progress: bool,
) -> CliResult<Evaluation> {
    let proto = MetricsAccumulator::new(runner.desc())?;
    let pb = progress(data.len() as u64, "eval");
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let steps = runner.timesteps();
    let (correct, acc, by_step) = (0..data.len())
        .into_par_iter()
        .try_fold(
            || (0usize, proto.clone(), vec![0u64; steps]),
            |(c, mut acc, mut by_step), i| {
                let classes = classify_by_step(runner, data.input(i)?, i as u64, &mut acc)?;
                let label = data.label(i);
                for (k, &class) in classes.iter().enumerate() {
                    by_step[k] += (class == label) as u64;
                }
                let class = *classes
                    .last()
                    .ok_or_else(|| kernels::Error::invalid("the model runs for zero timesteps"))?;
                pb.inc(1);
                Ok::<_, kernels::Error>((c + (class == label) as usize, acc, by_step))
            },
        )
        .try_reduce(
            || (0, proto.clone(), vec![0u64; steps]),
            |(c1, mut a1, mut s1), (c2, a2, s2)| {
                a1.merge(&a2)?;
                for (a, b) in s1.iter_mut().zip(s2) {
                    *a += b;
                }
                Ok((c1 + c2, a1, s1))
            },
        )?;
    pb.finish_and_clear();
    Ok(Evaluation {
        correct,
        metrics: acc.finish(energy)?,
        correct_by_step: by_step,
    })
}

pub fn run(args: &EvalArgs) -> CliResult<()> {
    let energy = EnergyModel {
        e_ac_pj: args.e_ac,
        e_mac_pj: args.e_mac,
    };
    energy
        .validate()
        .map_err(|e| CliError::input(format!("--e-ac/--e-mac: {e}")))?;
    let path = model_path(&args.model, args.float);
    let mut runner = Runner::load(&path)?;
    if let Some(t) = args.timesteps {
        runner = runner.with_timesteps(t)?;
    }
    let images;
    let set = match &args.events {
        None => {
            images = test_images(&data_dir(&args.data), args.samples)?;
            runner.check_images(&path, images.pixels())?;
            TestSet::Images(&images)
        }
        Some(dir) => event_set(dir, &path, &runner, args.samples)?,
    };
    if let Some(dir) = &args.plots {
        // Checked before the (long) evaluation, so a bad directory fails at once.
        prepare_out_dir(dir, "--plots")?;
    }
    let ev = evaluate_set(&runner, &set, energy, !args.json)?;
    let plots = match &args.plots {
        Some(dir) => write_plots(dir, &runner, &ev, set.what())?,
        None => Vec::new(),
    };
    let m = &ev.metrics;
    let accuracy = ev.correct as f64 / m.samples as f64;
    let mut o = String::new();
    if args.json {
        let per_layer_ops: serde_json::Map<_, _> = m
            .layers
            .iter()
            .map(|l| (l.name.clone(), json!(l.synaptic_ops)))
            .collect();
        let per_layer_macs: serde_json::Map<_, _> = m
            .layers
            .iter()
            .map(|l| (l.name.clone(), json!(l.ann_macs)))
            .collect();
        let mut rates = serde_json::Map::new();
        if let Some(r) = m.input_spike_rate {
            rates.insert("input".into(), json!(r));
        }
        for l in &m.layers {
            if let Some(r) = l.spike_rate {
                rates.insert(l.name.clone(), json!(r));
            }
        }
        let out = json!({
            "model": path.display().to_string(),
            "name": runner.name(),
            "kind": runner.kind(),
            "timesteps": runner.timesteps(),
            "encoding": runner.encoding(),
            "samples": m.samples,
            "correct": ev.correct,
            "accuracy": accuracy,
            "synaptic_ops": {"total": m.synaptic_ops, "per_layer": per_layer_ops,
                             "sum_over_samples": m.synaptic_ops_sum,
                             "unit": "additions per inference"},
            "analog_macs": m.analog_macs,
            "ann_macs": {"total": m.ann_macs, "per_layer": per_layer_macs},
            "memory_bits": m.memory_bits,
            "spike_rates": rates,
            "energy": {
                "e_ac_pj": m.energy.model.e_ac_pj,
                "e_mac_pj": m.energy.model.e_mac_pj,
                "snn_pj": m.energy.snn_pj,
                "ann_pj": m.energy.ann_pj,
                "ann_over_snn": if m.energy.ann_over_snn.is_finite() {
                    json!(m.energy.ann_over_snn)
                } else {
                    json!(null)
                },
                "formula": "snn = synaptic_ops * e_ac + analog_macs * e_mac; ann = ann_macs * e_mac",
            },
            "layers": m.layers,
            "accuracy_by_step": ev.correct_by_step.iter()
                .map(|&c| c as f64 / m.samples as f64).collect::<Vec<_>>(),
            "plots": plots.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        let _ = writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| CliError::internal(e.to_string()))?
        );
    } else {
        print_table(&mut o, &path, &runner, &ev, accuracy, set.what());
        for p in &plots {
            let _ = writeln!(o, "wrote     {}", p.display());
        }
    }
    emit(&o)
}

/// The event dataset in `dir`, checked against the model before anything runs: the model must
/// take spikes of two polarities on the N-MNIST sensor (2 x 34 x 34).
fn event_set<'a>(
    dir: &Path,
    model_path: &Path,
    runner: &Runner,
    samples: Option<usize>,
) -> CliResult<TestSet<'a>> {
    use kernels::events::{NMNIST_SIZE, list_dataset};
    let mut files = list_dataset(dir)?;
    let input = runner.input_shape();
    if (input.channels, input.height, input.width) != (2, NMNIST_SIZE, NMNIST_SIZE) {
        return Err(CliError::input(format!(
            "{}: the model takes {}x{}x{} inputs; events from {} are 2x{NMNIST_SIZE}x{NMNIST_SIZE} \
             (polarity x height x width)",
            model_path.display(),
            input.channels,
            input.height,
            input.width,
            dir.display()
        )));
    }
    if matches!(runner.encoding(), kernels::model::Encoding::Direct) {
        return Err(CliError::input(format!(
            "{}: events give spikes, but the model expects direct (analog) input",
            model_path.display()
        )));
    }
    match samples {
        Some(0) => return Err(CliError::input("--samples must be at least 1")),
        Some(n) if n > files.len() => {
            return Err(CliError::input(format!(
                "--samples {n} exceeds the {} samples in {}",
                files.len(),
                dir.display()
            )));
        }
        Some(n) => files.truncate(n),
        None => {}
    }
    Ok(TestSet::Events {
        files,
        width: NMNIST_SIZE,
        height: NMNIST_SIZE,
        bins: runner.timesteps(),
    })
}

/// Writes `accuracy-vs-t.svg` and `spike-rates.svg` into `dir`; returns their paths.
fn write_plots(
    dir: &Path,
    runner: &Runner,
    ev: &Evaluation,
    samples_what: &str,
) -> CliResult<Vec<PathBuf>> {
    let m = &ev.metrics;
    let what = format!(
        "{} model {:?}, {} {samples_what}, {}",
        runner.kind(),
        runner.name(),
        m.samples,
        encoding_text(&runner.encoding())
    );
    let t_len = ev.correct_by_step.len();
    let pct = |c: u64| 100.0 * c as f64 / m.samples as f64;
    let points: Vec<(f64, f64)> = ev
        .correct_by_step
        .iter()
        .enumerate()
        .map(|(k, &c)| ((k + 1) as f64, pct(c)))
        .collect();
    let title = format!(
        "Accuracy against T: {:.2} % after {t_len} steps",
        pct(ev.correct as u64)
    );
    let sub = format!("{what}; read out after t of the model's {t_len} steps");
    let acc_svg = lines_svg(&Lines {
        title: &title,
        subtitle: &sub,
        integer_ticks: (true, true),
        x_desc: "timesteps t read out (steps)",
        y_desc: "test accuracy (%)",
        x: 1.0..t_len.max(2) as f64,
        y: Some(0.0..100.0),
        lines: vec![Line {
            label: "accuracy at t".into(),
            points: points.clone(),
            marks: points,
        }],
        reference: Some((10.0, "chance (10 %)".into())),
        marks_label: None,
    })?;
    let mut names = Vec::new();
    let mut values = Vec::new();
    if let Some(r) = m.input_spike_rate {
        names.push("input".to_string());
        values.push(r);
    }
    for l in &m.layers {
        if let Some(r) = l.spike_rate {
            names.push(l.name.clone());
            values.push(r);
        }
    }
    let sub = format!("{what}; T = {t_len}");
    let rates_svg = bars_svg(&Bars {
        title: "Spike rate per layer",
        subtitle: &sub,
        integer_y: false,
        x_desc: "layer",
        y_desc: "spikes per neuron per step",
        names,
        value_labels: values.iter().map(|r| format!("{r:.4}")).collect(),
        values,
        highlight: None,
        marked: None,
    })?;
    Ok(vec![
        write_file(dir, "accuracy-vs-t.svg", &acc_svg)?,
        write_file(dir, "spike-rates.svg", &rates_svg)?,
    ])
}

fn print_table(
    o: &mut String,
    path: &std::path::Path,
    runner: &Runner,
    ev: &Evaluation,
    accuracy: f64,
    samples_what: &str,
) {
    let m = &ev.metrics;
    let _ = writeln!(
        o,
        "model     {} ({} model {:?}, T = {}, {})",
        path.display(),
        runner.kind(),
        runner.name(),
        runner.timesteps(),
        encoding_text(&runner.encoding())
    );
    let _ = writeln!(
        o,
        "accuracy  {:.2} % ({} of {} {samples_what})",
        accuracy * 100.0,
        ev.correct,
        m.samples
    );
    if let Some(r) = m.input_spike_rate {
        let _ = writeln!(o, "input     {:.4} spikes per pixel per step", r);
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<12} {:<10} {:>8} {:>14} {:>16} {:>12} {:>11}",
        "layer", "op", "neurons", "in spikes/inf", "synaptic ops/inf", "ANN MACs", "spike rate"
    );
    for l in &m.layers {
        let _ = writeln!(
            o,
            "{:<12} {:<10} {:>8} {:>14.1} {:>16.1} {:>12} {:>11}",
            l.name,
            l.op,
            l.neurons,
            l.input_spikes,
            l.synaptic_ops + l.analog_macs,
            l.ann_macs,
            l.spike_rate.map_or("-".to_string(), |r| format!("{r:.4}"))
        );
    }
    let _ = writeln!(
        o,
        "{:<12} {:<10} {:>8} {:>14} {:>16.1} {:>12}",
        "total", "", "", "", m.synaptic_ops, m.ann_macs
    );
    if m.analog_macs > 0.0 {
        let _ = writeln!(
            o,
            "(of which analog multiply-accumulates per inference: {:.1}, counted as MACs)",
            m.analog_macs
        );
    }
    let _ = writeln!(o);
    let mb = &m.memory_bits;
    let _ = writeln!(
        o,
        "memory    {} bits = weights {} + membranes {} + peak spikes {}",
        mb.total, mb.weights, mb.membranes, mb.peak_spikes
    );
    let _ = writeln!(
        o,
        "energy    SNN {:.1} pJ vs ANN {:.1} pJ per inference (ANN/SNN = {:.2}; E_AC = {} pJ, \
         E_MAC = {} pJ)",
        m.energy.snn_pj,
        m.energy.ann_pj,
        m.energy.ann_over_snn,
        m.energy.model.e_ac_pj,
        m.energy.model.e_mac_pj
    );
}
