//! `snn bench`: end-to-end throughput of the spiking fast path (u8 pixels in, class out,
//! encoding included, all cores) against a dense `f32` implementation of the same network
//! measured in the same run.

use std::path::PathBuf;
use std::time::Instant;

use std::fmt::Write as _;

use clap::Args;
use rayon::prelude::*;
use serde_json::json;

use kernels::metrics::EnergyModel;

use crate::baseline::DenseBaseline;
use crate::common::{
    CliError, CliResult, Runner, data_dir, emit, model_path, progress, test_images,
};

/// Arguments of `snn bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model file (default: the bundled 8-bit integer model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Use the bundled float model instead of the integer one (only without --model).
    #[arg(long, conflicts_with = "model")]
    pub float: bool,
    /// Images per pass: the first N digits of the test split (default: all 2,000).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Minimum measuring time per implementation, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub min_time: f64,
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `pass` repeatedly until `min_time` has elapsed (after one warm-up pass); returns
/// (passes, seconds).
fn measure(
    min_time: f64,
    what: &str,
    show: bool,
    mut pass: impl FnMut() -> CliResult<()>,
) -> CliResult<(usize, f64)> {
    pass()?; // warm-up: page in weights, spin up the thread pool
    let pb = progress(0, what);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>10} {spinner} {pos} passes {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    if !show {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = Instant::now();
    let mut passes = 0;
    loop {
        pass()?;
        passes += 1;
        pb.inc(1);
        let t = start.elapsed().as_secs_f64();
        if t >= min_time {
            pb.finish_and_clear();
            return Ok((passes, t));
        }
    }
}

pub fn run(args: &BenchArgs) -> CliResult<()> {
    if !(args.min_time.is_finite() && args.min_time > 0.0 && args.min_time <= 3600.0) {
        return Err(CliError::input(format!(
            "--min-time {} must be in (0, 3600] seconds",
            args.min_time
        )));
    }
    let path = model_path(&args.model, args.float);
    let runner = Runner::load(&path)?;
    let baseline = match &runner {
        Runner::Float { model, .. } => DenseBaseline::from_model(model),
        Runner::Int { model, .. } => DenseBaseline::from_int_model(model),
    }
    .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let data = test_images(&data_dir(&args.data), args.samples)?;
    runner.check_images(&path, data.pixels())?;
    let n = data.len();
    let px = data.pixels();
    let show = !args.json;

    // Untimed: the synaptic operations one pass performs (encoding is deterministic per
    // sample, so every timed pass performs exactly these), and the reference classes.
    let ev = crate::eval::evaluate(&runner, &data, EnergyModel::default(), show)?;
    let ops_per_pass = ev.metrics.synaptic_ops_sum;

    let mut fast_classes = vec![0usize; n];
    let (fast_passes, fast_s) = measure(args.min_time, "fast path", show, || {
        fast_classes = data
            .images
            .par_chunks(px)
            .enumerate()
            .map(|(i, img)| runner.classify(img, i as u64))
            .collect::<kernels::Result<Vec<_>>>()?;
        Ok(())
    })?;
    let mut base_classes = vec![0usize; n];
    let (base_passes, base_s) = measure(args.min_time, "dense f32", show, || {
        base_classes = data
            .images
            .par_chunks(px)
            .enumerate()
            .map(|(i, img)| baseline.classify(&runner.encode(img, i as u64)?))
            .collect::<kernels::Result<Vec<_>>>()?;
        Ok(())
    })?;
    // Encoding alone, to show how much of the end-to-end time it takes.
    let (enc_passes, enc_s) = measure(args.min_time / 2.0, "encode", show, || {
        data.images
            .par_chunks(px)
            .enumerate()
            .try_for_each(|(i, img)| runner.encode(img, i as u64).map(drop))?;
        Ok(())
    })?;
    let encode_per_s = (enc_passes * n) as f64 / enc_s;
    let images_per_s = (fast_passes * n) as f64 / fast_s;
    let base_per_s = (base_passes * n) as f64 / base_s;
    let gsop_per_s = (ops_per_pass as f64 * fast_passes as f64) / fast_s / 1e9;
    let correct = |c: &[usize]| {
        c.iter()
            .zip(&data.labels)
            .filter(|(a, b)| **a == **b as usize)
            .count()
    };
    let agree = fast_classes
        .iter()
        .zip(&base_classes)
        .filter(|(a, b)| a == b)
        .count();
    let threads = rayon::current_num_threads();
    let mut o = String::new();
    if args.json {
        let out = json!({
            "model": path.display().to_string(),
            "name": runner.name(),
            "kind": runner.kind(),
            "timesteps": runner.timesteps(),
            "samples": n,
            "threads": threads,
            "images_per_s": images_per_s,
            "dense_baseline_images_per_s": base_per_s,
            "speedup": images_per_s / base_per_s,
            "gsop_per_s": gsop_per_s,
            "encode_only_images_per_s": encode_per_s,
            "synaptic_ops_per_image": ops_per_pass as f64 / n as f64,
            "fast_path": {"passes": fast_passes, "seconds": fast_s,
                          "accuracy": correct(&fast_classes) as f64 / n as f64},
            "dense_baseline": {"passes": base_passes, "seconds": base_s,
                               "accuracy": correct(&base_classes) as f64 / n as f64,
                               "class_agreement": agree as f64 / n as f64,
                               "method": "f32 dense matrix-vector per layer and step, batch 1, \
                                          AVX2+FMA when available, same encoder"},
        });
        let _ = writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| CliError::internal(e.to_string()))?
        );
    } else {
        let _ = writeln!(
            o,
            "model       {} ({} model {:?}, T = {})",
            path.display(),
            runner.kind(),
            runner.name(),
            runner.timesteps()
        );
        let _ = writeln!(
            o,
            "images      {n} per pass, {threads} threads, encoding included"
        );
        let _ = writeln!(
            o,
            "fast path   {:>10.0} images/s  ({fast_passes} passes in {fast_s:.2} s, {:.3} GSOP/s)",
            images_per_s, gsop_per_s
        );
        let _ = writeln!(
            o,
            "dense f32   {:>10.0} images/s  ({base_passes} passes in {base_s:.2} s)",
            base_per_s
        );
        let _ = writeln!(
            o,
            "encoding    {encode_per_s:>10.0} images/s  (encoding alone, part of both rows above)"
        );
        let _ = writeln!(
            o,
            "speedup     {:.2}x; classes agree on {:.2} % of images",
            images_per_s / base_per_s,
            100.0 * agree as f64 / n as f64
        );
    }
    emit(&o)
}
