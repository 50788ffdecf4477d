//! `snn`: train, convert, quantize, evaluate and benchmark spiking neural networks.
//!
//! Every bad input (missing or malformed file, bad argument) ends with one line on stderr that
//! names the problem and the file, and exit status 2. Output files are written atomically.

mod baseline;
mod bench;
mod common;
mod eval;
mod nir_cmd;
mod plot;
mod train_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Spiking neural networks from training to fast CPU inference.
#[derive(Parser, Debug)]
#[command(name = "snn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a fully connected LIF network with surrogate-gradient BPTT on the training split.
    Train(train_cmd::TrainArgs),
    /// Train a ReLU ANN and convert it to an IF/LIF SNN; reports accuracy against T.
    Convert(train_cmd::ConvertArgs),
    /// Quantize a float model to an integer model; reports both accuracies and saturation.
    Quantize(train_cmd::QuantizeArgs),
    /// Accuracy and cost metrics (synaptic ops, ANN MACs, memory, energy) on the test split.
    Eval(eval::EvalArgs),
    /// Throughput of the spiking fast path against a dense f32 baseline.
    Bench(bench::BenchArgs),
    /// Import a NIR file (snnTorch, Norse, Sinabs, ...) into a model file.
    Import(nir_cmd::ImportArgs),
    /// Export a float model as a NIR file (--nir).
    Export(nir_cmd::ExportArgs),
    /// SVG figures of one test digit: spike rasters, membrane traces, output counts.
    Plot(plot::PlotArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(a) => train_cmd::run_train(a),
        Command::Convert(a) => train_cmd::run_convert(a),
        Command::Quantize(a) => train_cmd::run_quantize(a),
        Command::Eval(a) => eval::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Import(a) => nir_cmd::run_import(a),
        Command::Export(a) => nir_cmd::run_export(a),
        Command::Plot(a) => plot::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snn: error: {}", e.message.replace('\n', " "));
            ExitCode::from(e.code)
        }
    }
}
