//! `snn train`, `snn convert`, `snn quantize`: the `train` crate behind a command line, with
//! progress bars, test-split accuracy through the `kernels` runtimes, and atomic output files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde_json::json;

use kernels::data::{Dataset, TRAIN_SAMPLES, load_mnist};
use kernels::model::{Encoding, IntModel, Model};
use kernels::model_io::{load_model, save_int_model, save_model};
use kernels::network::{IntNetwork, Network};
use kernels::spikes::SpikeTrain;
use train::ann::{AnnConfig, train_ann};
use train::cnn::{CnnConfig, CnnLayerSpec, train_cnn};
use train::convert::{ConvertConfig, ann_to_snn, cnn_to_snn};
use train::quantize::{LeakKind, QuantConfig, QuantOptions, quantize, rail_hits};
use train::{Loss, Progress, Surrogate, TrainConfig, train_snn};

use crate::common::{CliError, CliResult, Runner, bundled, data_dir, emit, progress};

/// Options shared by the training commands.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Train on the first N digits of the 8,000-digit training split (default: all).
    #[arg(long, value_name = "N")]
    pub train_samples: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `snn train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Output model file (written atomically).
    #[arg(long, value_name = "FILE", default_value = "mnist_mlp.safetensors")]
    pub out: PathBuf,
    /// Model name (a safe identifier).
    #[arg(long, default_value = "mnist_mlp")]
    pub name: String,
    /// Hidden layer widths, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    pub hidden: Vec<usize>,
    /// Timesteps.
    #[arg(long, default_value_t = 25)]
    pub timesteps: usize,
    /// Membrane decay beta.
    #[arg(long, default_value_t = 0.9375)]
    pub beta: f32,
    /// Firing threshold.
    #[arg(long, default_value_t = 1.0)]
    pub threshold: f32,
    /// Passes over the training set.
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Samples per optimizer step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Peak learning rate (cosine schedule).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f32,
    /// Random shift augmentation in pixels.
    #[arg(long, default_value_t = 2)]
    pub max_shift: usize,
    /// Seed of initialisation, shuffling, augmentation and encoding.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Surrogate derivative of the spike function used in the backward pass. Not stored in
    /// the model file (the format holds the network, not its training recipe); the output of
    /// this command (table or --json) records it.
    #[arg(long, value_enum, default_value = "fast-sigmoid")]
    pub surrogate: SurrogateArg,
    /// Steepness of the fast-sigmoid surrogate `1 / (1 + slope |u|)^2` (only with
    /// --surrogate fast-sigmoid; default 25).
    #[arg(long, value_name = "SLOPE")]
    pub surrogate_slope: Option<f32>,
    /// Steepness of the arctan surrogate `(alpha / 2) / (1 + (pi / 2 alpha u)^2)` (only with
    /// --surrogate atan; default 2).
    #[arg(long, value_name = "ALPHA")]
    pub surrogate_alpha: Option<f32>,
    /// Width `a` of the rectangular surrogate, `1 / a` on `|u| < a / 2` (only with
    /// --surrogate rect; default 1).
    #[arg(long, value_name = "A")]
    pub surrogate_width: Option<f32>,
    /// Loss on the output spike counts: cross-entropy of `softmax(scale * count / T)`
    /// (`ce-count`) or mean squared error of the rates `count / T` against target rates
    /// (`mse-count`, snnTorch `mse_count_loss`; alias `mse-rate`). Not stored in the model
    /// file; the output of this command records it.
    #[arg(long, value_enum, default_value = "ce-count")]
    pub loss: LossArg,
    /// Logit scale of the ce-count loss (default 8).
    #[arg(long, value_name = "SCALE")]
    pub ce_scale: Option<f32>,
    /// Target rate of the correct class for mse-count, in [0, 1] (default 0.8).
    #[arg(long, value_name = "RATE")]
    pub mse_correct_rate: Option<f32>,
    /// Target rate of the other classes for mse-count, in [0, 1] (default 0.2).
    #[arg(long, value_name = "RATE")]
    pub mse_incorrect_rate: Option<f32>,
    #[command(flatten)]
    pub common: DataArgs,
}

/// Surrogate derivative choice of `snn train` (`train::Surrogate`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurrogateArg {
    /// snnTorch `fast_sigmoid(slope)`.
    FastSigmoid,
    /// snnTorch `atan(alpha)`.
    Atan,
    /// Rectangular window of width a (STBP).
    Rect,
}

/// Loss choice of `snn train` (`train::Loss`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossArg {
    /// Cross-entropy on spike counts (`Loss::CrossEntropyCount`).
    CeCount,
    /// MSE on firing rates (`Loss::MseCount`).
    #[value(alias = "mse-rate")]
    MseCount,
}

/// The surrogate and loss of `args`, refusing parameters that belong to another choice.
fn surrogate_and_loss(args: &TrainArgs) -> CliResult<(Surrogate, Loss)> {
    let misplaced =
        |flag: &str, owner: &str| CliError::input(format!("{flag} applies only to {owner}"));
    let surrogate = match args.surrogate {
        SurrogateArg::FastSigmoid => Surrogate::FastSigmoid {
            slope: args.surrogate_slope.unwrap_or(25.0),
        },
        SurrogateArg::Atan => Surrogate::Atan {
            alpha: args.surrogate_alpha.unwrap_or(2.0),
        },
        SurrogateArg::Rect => Surrogate::Rectangular {
            width: args.surrogate_width.unwrap_or(1.0),
        },
    };
    if args.surrogate != SurrogateArg::FastSigmoid && args.surrogate_slope.is_some() {
        return Err(misplaced("--surrogate-slope", "--surrogate fast-sigmoid"));
    }
    if args.surrogate != SurrogateArg::Atan && args.surrogate_alpha.is_some() {
        return Err(misplaced("--surrogate-alpha", "--surrogate atan"));
    }
    if args.surrogate != SurrogateArg::Rect && args.surrogate_width.is_some() {
        return Err(misplaced("--surrogate-width", "--surrogate rect"));
    }
    let loss = match args.loss {
        LossArg::CeCount => {
            if args.mse_correct_rate.is_some() || args.mse_incorrect_rate.is_some() {
                return Err(misplaced(
                    "--mse-correct-rate / --mse-incorrect-rate",
                    "--loss mse-count",
                ));
            }
            Loss::CrossEntropyCount {
                scale: args.ce_scale.unwrap_or(8.0),
            }
        }
        LossArg::MseCount => {
            if args.ce_scale.is_some() {
                return Err(misplaced("--ce-scale", "--loss ce-count"));
            }
            Loss::MseCount {
                correct_rate: args.mse_correct_rate.unwrap_or(0.8),
                incorrect_rate: args.mse_incorrect_rate.unwrap_or(0.2),
            }
        }
    };
    Ok((surrogate, loss))
}

/// `x` as the shortest decimal that reads back as `x` (so 0.8f32 prints as 0.8, not
/// 0.800000011920929).
fn short(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

/// The surrogate as JSON for reports.
fn surrogate_json(s: &Surrogate) -> serde_json::Value {
    match *s {
        Surrogate::FastSigmoid { slope } => json!({"kind": "fast-sigmoid", "slope": short(slope)}),
        Surrogate::Atan { alpha } => json!({"kind": "atan", "alpha": short(alpha)}),
        Surrogate::Rectangular { width } => json!({"kind": "rect", "width": short(width)}),
    }
}

/// The loss as JSON for reports.
fn loss_json(l: &Loss) -> serde_json::Value {
    match *l {
        Loss::CrossEntropyCount { scale } => json!({"kind": "ce-count", "scale": short(scale)}),
        Loss::MseCount {
            correct_rate,
            incorrect_rate,
        } => json!({"kind": "mse-count", "correct_rate": short(correct_rate),
                    "incorrect_rate": short(incorrect_rate)}),
    }
}

/// Arguments of `snn convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Output model file (written atomically).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "mnist_mlp_converted.safetensors"
    )]
    pub out: PathBuf,
    /// Model name (a safe identifier; default mnist_mlp_converted or mnist_conv).
    #[arg(long)]
    pub name: Option<String>,
    /// Architecture of the ReLU ANN: `mlp` (dense layers of --hidden widths) or `conv`
    /// (per entry of --channels: a KxK convolution, zero padding K/2, then 2x2 average
    /// pooling; then dense layers of the --hidden widths, default one of 128, and the dense
    /// 10-class output layer; no biases).
    #[arg(long, value_enum, default_value = "mlp")]
    pub arch: ArchArg,
    /// Hidden dense layer widths, comma separated: of the MLP (--arch mlp), or after the conv
    /// stack (--arch conv); `--hidden` without a value for none.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "128")]
    pub hidden: Vec<usize>,
    /// Output channels of the conv layers, comma separated (only with --arch conv; default
    /// 8,16).
    #[arg(long, value_delimiter = ',')]
    pub channels: Option<Vec<usize>>,
    /// Kernel size K of the conv layers (odd), one for all or one per --channels entry (only
    /// with --arch conv; default 5).
    #[arg(long, value_delimiter = ',')]
    pub kernel: Option<Vec<usize>>,
    /// Training digits whose activations set the normalisation (only with --arch conv; default
    /// 1000; the MLP uses the whole training split).
    #[arg(long)]
    pub calibration: Option<usize>,
    /// ANN training epochs (default 30 for mlp, 15 for conv).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Percentile of positive activations used for weight/threshold normalisation.
    #[arg(long, default_value_t = 99.9)]
    pub percentile: f32,
    /// Membrane decay of the converted neurons (1 = IF).
    #[arg(long, default_value_t = 1.0)]
    pub beta: f32,
    /// Timesteps stored in the converted model.
    #[arg(long, default_value_t = 100)]
    pub timesteps: usize,
    /// Timesteps at which the converted SNN's test accuracy is reported, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "10,25,50,100")]
    pub t_sweep: Vec<usize>,
    /// Seed of the ANN training.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub common: DataArgs,
}

/// Architecture of the ANN of `snn convert`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchArg {
    /// Fully connected ReLU layers.
    Mlp,
    /// Convolutions with average pooling, then the --hidden dense layers (default one of 128)
    /// and a dense output layer.
    Conv,
}

/// How the leak is realised in integer form.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LeakArg {
    /// `v - (v >>> k)` with the nearest beta = 1 - 2^-k.
    Shift,
    /// `(v * beta_q) >>> frac_bits`.
    Multiply,
}

impl LeakArg {
    fn kind(self) -> LeakKind {
        match self {
            LeakArg::Shift => LeakKind::Shift,
            LeakArg::Multiply => LeakKind::Multiply,
        }
    }
}

/// Arguments of `snn quantize`.
#[derive(Args, Debug)]
pub struct QuantizeArgs {
    /// Float model to quantize (default: the bundled float model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output integer model file (written atomically).
    #[arg(long, value_name = "FILE", default_value = "model_int.safetensors")]
    pub out: PathBuf,
    /// Name of the integer model (default: the float model's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Signed weight width, 4..=16.
    #[arg(long, default_value_t = 8)]
    pub weight_bits: u8,
    /// Leak realisation.
    #[arg(long, value_enum, default_value = "shift")]
    pub leak: LeakArg,
    /// Fraction bits of the multiply leak, 1..=16 (default 12); only with --leak multiply.
    #[arg(long)]
    pub frac_bits: Option<u8>,
    /// Membrane width for every layer (default: chosen from calibration potentials).
    #[arg(long)]
    pub membrane_bits: Option<u8>,
    /// Training digits used to calibrate membrane widths.
    #[arg(long, default_value_t = 1000)]
    pub calibration: usize,
    /// Seed of the LFSR input encoder stored in the integer model.
    #[arg(long, default_value_t = 1)]
    pub lfsr_seed: u32,
    /// Lanes of the LFSR input encoder.
    #[arg(long, default_value_t = 16)]
    pub lfsr_lanes: u32,
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn load_split(args: &DataArgs) -> CliResult<(Dataset, Dataset)> {
    let m = load_mnist(data_dir(&args.data))?;
    let train = match args.train_samples {
        Some(0) => return Err(CliError::input("--train-samples must be at least 1")),
        Some(n) if n > TRAIN_SAMPLES => {
            return Err(CliError::input(format!(
                "--train-samples {n} exceeds the {TRAIN_SAMPLES} digits of the training split"
            )));
        }
        Some(n) => m.train.take(n),
        None => m.train,
    };
    Ok((train, m.test))
}

/// Refuses hidden widths whose weight matrices would exceed the model format's per-layer limit,
/// before training allocates them.
fn check_hidden(hidden: &[usize]) -> CliResult<()> {
    let mut sizes = vec![784usize];
    sizes.extend(hidden);
    sizes.push(10);
    for w in sizes.windows(2) {
        let n = w[0].saturating_mul(w[1]);
        if w[1] == 0 || n > kernels::model::MAX_LAYER_ELEMENTS {
            return Err(CliError::input(format!(
                "--hidden {hidden:?}: a {} x {} layer is outside 1..={} weights",
                w[0],
                w[1],
                kernels::model::MAX_LAYER_ELEMENTS
            )));
        }
    }
    Ok(())
}

/// Refuses conv geometries the 28x28 inputs cannot carry (each conv keeps the size, each
/// pooling halves it) or whose weights exceed the model format's per-layer limit.
fn check_channels(channels: &[usize], kernels: &[usize]) -> CliResult<()> {
    if channels.is_empty() || channels.len() > 4 {
        return Err(CliError::input(format!(
            "--channels {channels:?}: give 1 to 4 conv layers"
        )));
    }
    if let Some(&k) = kernels
        .iter()
        .find(|&&k| k == 0 || k.is_multiple_of(2) || k > 11)
    {
        return Err(CliError::input(format!(
            "--kernel {k}: must be odd and in 1..=11"
        )));
    }
    let mut prev = 1usize;
    let mut side = 28usize;
    for (&c, &kernel) in channels.iter().zip(kernels) {
        let w = c.saturating_mul(prev).saturating_mul(kernel * kernel);
        let n = c.saturating_mul(side * side);
        if c == 0
            || w > kernels::model::MAX_LAYER_ELEMENTS
            || n > kernels::model::MAX_LAYER_ELEMENTS
        {
            return Err(CliError::input(format!(
                "--channels {channels:?}: {c} channels is outside the supported sizes"
            )));
        }
        if side < 2 {
            return Err(CliError::input(format!(
                "--channels {channels:?}: too many pooling stages for 28x28 inputs"
            )));
        }
        side /= 2;
        prev = c;
    }
    Ok(())
}

/// Refuses hidden dense widths after a conv stack that the format cannot hold.
fn check_hidden_after(channels: &[usize], hidden: &[usize]) -> CliResult<()> {
    let side = 28usize >> channels.len();
    let mut prev = channels
        .last()
        .copied()
        .unwrap_or(1)
        .saturating_mul(side * side);
    for &h in hidden.iter().chain([&10]) {
        if h == 0 || prev.saturating_mul(h) > kernels::model::MAX_LAYER_ELEMENTS {
            return Err(CliError::input(format!(
                "--hidden {hidden:?}: a {prev} x {h} layer is outside 1..={} weights",
                kernels::model::MAX_LAYER_ELEMENTS
            )));
        }
        prev = h;
    }
    Ok(())
}

/// Refuses an output path whose directory does not exist, before any long work starts.
fn check_out(out: &Path) -> CliResult<()> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(CliError::input(format!(
            "{}: the output directory {} does not exist",
            out.display(),
            dir.display()
        )));
    }
    if out.is_dir() {
        return Err(CliError::input(format!(
            "{}: is a directory, expected a model file path",
            out.display()
        )));
    }
    Ok(())
}

/// Test accuracy of a float model through `kernels::network::Network` with the model's own
/// encoding (sample `i` encoded as sample `i`, as `snn eval` does).
fn float_test_accuracy(model: &Model, test: &Dataset) -> CliResult<f64> {
    let runner = Runner::Float {
        net: Network::new(model)?,
        model: model.clone(),
    };
    accuracy(&runner, test)
}

fn int_test_accuracy(model: &IntModel, test: &Dataset) -> CliResult<f64> {
    let runner = Runner::Int {
        net: IntNetwork::new(model)?,
        model: model.clone(),
    };
    accuracy(&runner, test)
}

fn accuracy(runner: &Runner, test: &Dataset) -> CliResult<f64> {
    let correct = (0..test.len())
        .into_par_iter()
        .map(|i| {
            let c = runner.classify(test.image(i), i as u64)?;
            Ok(usize::from(c == test.labels[i] as usize))
        })
        .sum::<kernels::Result<usize>>()?;
    Ok(correct as f64 / test.len() as f64)
}

fn epoch_bar(epochs: usize, what: &str, hidden: bool) -> indicatif::ProgressBar {
    let pb = progress(epochs as u64, what);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] epoch {pos}/{len} {prefix} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    if hidden {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    pb
}

fn report_progress(pb: &indicatif::ProgressBar, p: &Progress) {
    pb.set_position(p.epoch as u64);
    pb.set_prefix(format!(
        "batch {}/{} loss {:.4} train acc {:.2} %",
        p.batch,
        p.batches,
        p.loss,
        100.0 * p.train_accuracy
    ));
}

fn to_json(v: &serde_json::Value) -> CliResult<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| CliError::internal(e.to_string()))
}

pub fn run_train(args: &TrainArgs) -> CliResult<()> {
    check_out(&args.out)?;
    let (surrogate, loss) = surrogate_and_loss(args)?;
    let cfg = TrainConfig {
        surrogate,
        loss,
        name: args.name.clone(),
        hidden: args.hidden.clone(),
        timesteps: args.timesteps,
        beta: args.beta,
        threshold: args.threshold,
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        max_shift: args.max_shift,
        seed: args.seed,
        encoding_seed: args.seed,
        ..TrainConfig::default()
    };
    cfg.validate()?;
    check_hidden(&cfg.hidden)?;
    let (train, test) = load_split(&args.common)?;
    let pb = epoch_bar(cfg.epochs, "train", args.common.json);
    let t0 = Instant::now();
    let trained = train_snn(&cfg, &train, None, |p| report_progress(&pb, p))?;
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let acc = float_test_accuracy(&trained.model, &test)?;
    save_model(&trained.model, &args.out)?;
    let last = trained.history.last();
    let mut o = String::new();
    if args.common.json {
        let hist: Vec<_> = trained
            .history
            .iter()
            .map(|h| {
                json!({"epoch": h.epoch, "loss": h.loss, "train_accuracy": h.train_accuracy,
                            "seconds": h.seconds})
            })
            .collect();
        o = to_json(&json!({
            "out": args.out.display().to_string(),
            "train_samples": train.len(),
            "epochs": cfg.epochs,
            "surrogate": surrogate_json(&cfg.surrogate),
            "loss": loss_json(&cfg.loss),
            "seconds": secs,
            "test_samples": test.len(),
            "test_accuracy": acc,
            "history": hist,
        }))?;
    } else {
        let _ = writeln!(o, "epoch      loss  train acc   seconds");
        for h in &trained.history {
            let _ = writeln!(
                o,
                "{:>5} {:>9.4} {:>9.2} % {:>9.1}",
                h.epoch + 1,
                h.loss,
                100.0 * h.train_accuracy,
                h.seconds
            );
        }
        let _ = writeln!(
            o,
            "surrogate {}, loss {}",
            surrogate_json(&cfg.surrogate),
            loss_json(&cfg.loss)
        );
        let _ = writeln!(
            o,
            "trained on {} digits in {secs:.1} s; final train accuracy {:.2} %",
            train.len(),
            100.0 * last.map_or(0.0, |h| h.train_accuracy)
        );
        let _ = writeln!(
            o,
            "test accuracy {:.2} % on {} digits (kernels f32 runtime, the model's own encoding)",
            100.0 * acc,
            test.len()
        );
        let _ = writeln!(o, "wrote {}", args.out.display());
    }
    emit(&o)
}

pub fn run_convert(args: &ConvertArgs) -> CliResult<()> {
    check_out(&args.out)?;
    if args.t_sweep.iter().any(|&t| t == 0 || t > 10_000) {
        return Err(CliError::input(format!(
            "--t-sweep {:?}: every T must be in 1..=10000",
            args.t_sweep
        )));
    }
    let conv = args.arch == ArchArg::Conv;
    let epochs = args.epochs.unwrap_or(if conv { 15 } else { 30 });
    if epochs == 0 {
        return Err(CliError::input("--epochs must be at least 1"));
    }
    let ccfg = ConvertConfig {
        name: args.name.clone().unwrap_or_else(|| {
            if conv {
                "mnist_conv"
            } else {
                "mnist_mlp_converted"
            }
            .into()
        }),
        timesteps: args.timesteps,
        percentile: args.percentile,
        beta: args.beta,
        ..ConvertConfig::default()
    };
    kernels::model::check_identifier(&ccfg.name, "--name")?;
    if !(args.percentile > 0.0 && args.percentile <= 100.0) {
        return Err(CliError::input(format!(
            "--percentile {} is outside (0, 100]",
            args.percentile
        )));
    }
    if !(args.beta.is_finite() && (0.0..=1.0).contains(&args.beta)) {
        return Err(CliError::input(format!(
            "--beta {} is outside [0, 1]",
            args.beta
        )));
    }
    if !conv {
        for (given, flag) in [
            (args.channels.is_some(), "--channels"),
            (args.kernel.is_some(), "--kernel"),
            (args.calibration.is_some(), "--calibration"),
        ] {
            if given {
                return Err(CliError::input(format!(
                    "{flag} applies only to --arch conv"
                )));
            }
        }
    }
    let channels = args.channels.clone().unwrap_or_else(|| vec![8, 16]);
    let kernel = args.kernel.clone().unwrap_or_else(|| vec![5]);
    let calibration = args.calibration.unwrap_or(1000);
    let kernels: Vec<usize> = if kernel.len() == 1 {
        vec![kernel[0]; channels.len()]
    } else {
        kernel.clone()
    };
    if conv {
        if kernels.len() != channels.len() {
            return Err(CliError::input(format!(
                "--kernel {:?}: give one size or one per --channels entry",
                kernel
            )));
        }
        check_channels(&channels, &kernels)?;
        check_hidden_after(&channels, &args.hidden)?;
        if calibration == 0 || calibration > TRAIN_SAMPLES {
            return Err(CliError::input(format!(
                "--calibration {} must be in 1..={TRAIN_SAMPLES}",
                calibration
            )));
        }
    } else {
        check_hidden(&args.hidden)?;
    }
    let (train, test) = load_split(&args.common)?;
    let pb = epoch_bar(epochs, "ann", args.common.json);
    let t0 = Instant::now();
    let (ann_acc, model, macs) = if conv {
        let cfg = CnnConfig {
            layers: channels
                .iter()
                .zip(kernels.iter())
                .flat_map(|(&c, &k)| {
                    [
                        CnnLayerSpec::Conv {
                            channels: c,
                            kernel: k,
                            padding: k / 2,
                        },
                        CnnLayerSpec::AvgPool { kernel: 2 },
                    ]
                })
                .chain(
                    args.hidden
                        .iter()
                        .map(|&h| CnnLayerSpec::Dense { outputs: h }),
                )
                .collect(),
            epochs,
            seed: args.seed,
            ..CnnConfig::default()
        };
        let cnn = train_cnn(&cfg, &train, None, |p| report_progress(&pb, p))?.cnn;
        pb.finish_and_clear();
        let calib = train.take(calibration);
        let model = cnn_to_snn(&cnn, &calib, &ccfg)?;
        (cnn.accuracy(&test) as f64, model, cnn.macs())
    } else {
        let acfg = AnnConfig {
            hidden: args.hidden.clone(),
            epochs,
            seed: args.seed,
            ..AnnConfig::default()
        };
        let ann = train_ann(&acfg, &train, None, |p| report_progress(&pb, p))?;
        pb.finish_and_clear();
        let macs = ann.ann.layers.iter().map(|l| l.inputs * l.outputs).sum();
        let model = ann_to_snn(&ann.ann, &train, &ccfg)?;
        (ann.ann.accuracy(&test) as f64, model, macs)
    };
    let secs = t0.elapsed().as_secs_f64();
    let mut sweep = Vec::new();
    for &t in &args.t_sweep {
        let mut m = model.clone();
        m.timesteps = t;
        sweep.push((t, float_test_accuracy(&m, &test)?));
    }
    save_model(&model, &args.out)?;
    let mut o = String::new();
    if args.common.json {
        o = to_json(&json!({
            "out": args.out.display().to_string(),
            "arch": if conv { "conv" } else { "mlp" },
            "ann_test_accuracy": ann_acc,
            "ann_macs": macs,
            "percentile": args.percentile,
            "seconds": secs,
            "test_samples": test.len(),
            "accuracy_vs_t": sweep.iter().map(|(t, a)| json!({"timesteps": t, "accuracy": a})).collect::<Vec<_>>(),
        }))?;
    } else {
        let _ = writeln!(
            o,
            "ReLU {} ANN ({macs} MACs per image) trained and converted in {secs:.1} s: test \
             accuracy {:.2} %",
            if conv { "conv" } else { "MLP" },
            100.0 * ann_acc
        );
        let _ = writeln!(
            o,
            "converted to IF/LIF (beta {}, percentile {}):",
            args.beta, args.percentile
        );
        let _ = writeln!(o, "{:>8} {:>10}", "T", "accuracy");
        for (t, a) in &sweep {
            let _ = writeln!(o, "{t:>8} {:>8.2} %", 100.0 * a);
        }
        let _ = writeln!(o, "wrote {} (T = {})", args.out.display(), model.timesteps);
    }
    emit(&o)
}

pub fn run_quantize(args: &QuantizeArgs) -> CliResult<()> {
    check_out(&args.out)?;
    let path = match &args.model {
        Some(p) => p.clone(),
        None => bundled(crate::common::DEFAULT_FLOAT_MODEL),
    };
    let float = load_model(&path)?;
    let encoding = Encoding::Lfsr {
        seed: args.lfsr_seed,
        lanes: args.lfsr_lanes,
    };
    // The same mapping and refusals as codegen's (train::quantize::QuantOptions).
    let qcfg = QuantConfig {
        name: args.name.clone(),
        encoding,
        ..QuantOptions::from_cli(
            Some(args.weight_bits),
            Some(args.leak.kind()),
            args.frac_bits,
            args.membrane_bits,
        )
        .map_err(|e| CliError::input(e.to_string()))?
        .config()
    };
    if args.calibration == 0 || args.calibration > TRAIN_SAMPLES {
        return Err(CliError::input(format!(
            "--calibration {} must be in 1..={TRAIN_SAMPLES}",
            args.calibration
        )));
    }
    let m = load_mnist(data_dir(&args.data))?;
    Runner::Float {
        net: Network::new(&float)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?,
        model: float.clone(),
    }
    .check_images(&path, m.test.pixels())?;
    let enc = |d: &Dataset, n: usize| -> CliResult<Vec<SpikeTrain>> {
        (0..n.min(d.len()))
            .into_par_iter()
            .map(|i| {
                let x = kernels::encode::encode_sample(
                    &encoding,
                    d.image(i),
                    float.timesteps,
                    i as u64,
                )?;
                x.spikes().cloned().ok_or_else(|| {
                    kernels::Error::invalid("quantization needs a spiking input encoding")
                })
            })
            .collect::<kernels::Result<Vec<_>>>()
            .map_err(CliError::from)
    };
    let calib = enc(&m.train, args.calibration)?;
    let q = quantize(&float, &qcfg, &calib)?;
    // Both models see the same LFSR inputs, so they differ only in arithmetic.
    let mut float_lfsr = float.clone();
    float_lfsr.encoding = encoding;
    let acc_float = float_test_accuracy(&float_lfsr, &m.test)?;
    let acc_int = int_test_accuracy(&q.model, &m.test)?;
    let test_inputs = enc(&m.test, m.test.len())?;
    let hits = rail_hits(&q.model, &test_inputs)?;
    save_int_model(&q.model, &args.out)?;
    let layers: Vec<_> = q
        .layers
        .iter()
        .zip(&hits)
        .map(|(r, (n, h))| {
            json!({
                "name": r.name, "scale": r.scale, "threshold": r.threshold, "beta": r.beta,
                "leak": r.leak, "beta_realised": r.leak.beta(),
                "max_weight_error": r.max_weight_error, "membrane_bits": r.membrane_bits,
                "calibration_range": [r.calibration_range.0, r.calibration_range.1],
                "membrane_updates": n, "updates_on_a_rail": h,
                "saturated_share_upper_bound": *h as f64 / (*n).max(1) as f64,
            })
        })
        .collect();
    let mut o = String::new();
    if args.json {
        o = to_json(&json!({
            "model": path.display().to_string(),
            "out": args.out.display().to_string(),
            "weight_bits": args.weight_bits,
            "test_samples": m.test.len(),
            "encoding": encoding,
            "float_accuracy": acc_float,
            "int_accuracy": acc_int,
            "layers": layers,
        }))?;
    } else {
        let _ = writeln!(
            o,
            "{} -> {} ({}-bit weights, inputs: LFSR seed {} x {} lanes for both models)",
            path.display(),
            args.out.display(),
            args.weight_bits,
            args.lfsr_seed,
            args.lfsr_lanes
        );
        let _ = writeln!(
            o,
            "test accuracy: float {:.2} %, integer {:.2} % ({} digits)",
            100.0 * acc_float,
            100.0 * acc_int,
            m.test.len()
        );
        let _ = writeln!(
            o,
            "{:<8} {:>10} {:>9} {:>20} {:>9} {:>14}",
            "layer", "scale", "threshold", "leak (beta')", "membrane", "on a rail"
        );
        for (r, (n, h)) in q.layers.iter().zip(&hits) {
            let _ = writeln!(
                o,
                "{:<8} {:>10.6} {:>9} {:>20} {:>6} b {:>12.4} %",
                r.name,
                r.scale,
                r.threshold,
                format!("{:?} ({:.4})", r.leak, r.leak.beta()),
                r.membrane_bits,
                100.0 * *h as f64 / (*n).max(1) as f64
            );
        }
        let _ = writeln!(
            o,
            "(\"on a rail\" bounds the share of saturated membrane updates from above)"
        );
    }
    emit(&o)
}
