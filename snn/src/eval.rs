//! `snn eval`: accuracy and the seed's cost metrics on the test split, from real spikes.

use std::path::PathBuf;

use std::fmt::Write as _;

use clap::Args;
use rayon::prelude::*;
use serde_json::json;

use kernels::metrics::{E_AC_PJ, E_MAC_PJ, EnergyModel, Metrics, MetricsAccumulator};

use crate::common::{
    CliError, CliResult, Runner, data_dir, emit, encoding_text, model_path, progress, test_images,
};

/// Arguments of `snn eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model file (default: the bundled 8-bit integer model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Use the bundled float model instead of the integer one (only without --model).
    #[arg(long, conflicts_with = "model")]
    pub float: bool,
    /// Evaluate the first N digits of the 2,000-digit test split (default: all).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
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
}

/// The outcome of an evaluation.
pub struct Evaluation {
    /// Images classified correctly.
    pub correct: usize,
    /// The metrics.
    pub metrics: Metrics,
}

/// Classifies the images with recording on, accumulating metrics, in parallel.
pub fn evaluate(
    runner: &Runner,
    data: &kernels::data::Dataset,
    energy: EnergyModel,
    show_progress: bool,
) -> CliResult<Evaluation> {
    let proto = MetricsAccumulator::new(runner.desc())?;
    let pb = progress(data.len() as u64, "eval");
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (correct, acc) = (0..data.len())
        .into_par_iter()
        .try_fold(
            || (0usize, proto.clone()),
            |(c, mut acc), i| {
                let class = runner.classify_recorded(data.image(i), i as u64, &mut acc)?;
                pb.inc(1);
                Ok::<_, kernels::Error>((c + (class == data.labels[i] as usize) as usize, acc))
            },
        )
        .try_reduce(
            || (0, proto.clone()),
            |(c1, mut a1), (c2, a2)| {
                a1.merge(&a2)?;
                Ok((c1 + c2, a1))
            },
        )?;
    pb.finish_and_clear();
    Ok(Evaluation {
        correct,
        metrics: acc.finish(energy)?,
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
    let data = test_images(&data_dir(&args.data), args.samples)?;
    runner.check_images(&path, data.pixels())?;
    let ev = evaluate(&runner, &data, energy, !args.json)?;
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
        });
        let _ = writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| CliError::internal(e.to_string()))?
        );
    } else {
        print_table(&mut o, &path, &runner, &ev, accuracy);
    }
    emit(&o)
}

fn print_table(
    o: &mut String,
    path: &std::path::Path,
    runner: &Runner,
    ev: &Evaluation,
    accuracy: f64,
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
        "accuracy  {:.2} % ({} of {} test digits)",
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
