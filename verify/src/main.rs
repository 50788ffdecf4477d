//! `verify`: generate, build and co-simulate a model's Verilog against the golden model.
//! Exit status 0 when bit-exact, 1 on a mismatch or tool failure, 2 on bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use codegen::plan::Arch;
use codegen::stimulus::samples_from_images;
use codegen::{EncoderKind, Options, Plan, Target};
use verify::{Error, Simulator, verify};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Bit-exact co-simulation of generated Verilog against the golden model"
)]
struct Args {
    /// Model: integer or float safetensors, or a NIR file (float models are quantized as by
    /// codegen).
    #[arg(long, default_value = codegen::source::DEFAULT_MODEL)]
    model: PathBuf,
    /// Test-split digits to simulate (1..=2000).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Simulator.
    #[arg(long, value_enum, default_value = "verilator")]
    simulator: Simulator,
    /// Keep a waveform of the first mismatching sample.
    #[arg(long)]
    vcd: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Working directory (design, build, outputs); default out/verify/<model-name>.
    #[arg(long)]
    work: Option<PathBuf>,
    /// MNIST IDX directory.
    #[arg(long, default_value = kernels::data::MNIST_DIR)]
    data: PathBuf,
    /// Weights added per cycle (codegen --parallel): one value for every layer, or one per
    /// dense layer separated by commas.
    #[arg(long, value_name = "P[,P...]")]
    parallel: Option<String>,
    /// Target whose design is simulated (codegen --target; chooses the architecture and
    /// weight storage as codegen does).
    #[arg(long, value_enum, default_value = "xc7")]
    target: Target,
    /// Neuron-state architecture (codegen --arch; auto: mem for ice40up5k, regs otherwise).
    #[arg(long, value_enum, default_value = "auto")]
    arch: Arch,
    /// Neuron units (codegen --neuron-units).
    #[arg(long)]
    neuron_units: Option<usize>,
    /// Input stage.
    #[arg(long, value_enum, default_value = "lfsr")]
    encoder: EncoderKind,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("verify: {e}");
            ExitCode::from(match e {
                Error::Input(_) => 2,
                _ => 1,
            })
        }
    }
}

fn run(mut args: Args) -> verify::Result<bool> {
    let t0 = Instant::now();
    args.model = codegen::source::bundled(&args.model, codegen::source::DEFAULT_MODEL);
    args.data = codegen::source::bundled(&args.data, kernels::data::MNIST_DIR);
    let loaded = codegen::source::load(&args.model, &args.data)?;
    if let Some(note) = &loaded.quantized {
        eprintln!("verify: {note}");
    }
    let model = loaded.model;
    if !(1..=2000).contains(&args.samples) {
        return Err(Error::Input("--samples must be in 1..=2000".into()));
    }
    let (parallel, parallel_layers) = codegen::plan::parse_parallel(args.parallel.as_deref())?;
    let opts = Options {
        parallel,
        parallel_layers,
        target: args.target,
        arch: args.arch,
        neuron_units: args.neuron_units,
        encoder: args.encoder,
        ..Options::default()
    };
    let plan = Plan::new(&model, &opts)?;
    let mnist = kernels::data::load_mnist(&args.data)
        .map_err(|e| Error::Input(format!("{}: {e}", args.data.display())))?;
    let n = args.samples.min(mnist.test.len());
    let imgs: Vec<&[u8]> = (0..n).map(|i| mnist.test.image(i)).collect();
    let samples = samples_from_images(&plan, &imgs)?;
    let labels = &mnist.test.labels[..n];
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/verify").join(&model.name));
    let (_, report) = verify(
        &model,
        &opts,
        &samples,
        Some(labels),
        args.simulator,
        &work,
        args.vcd,
    )?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Io(e.to_string()))?
        );
    } else {
        println!(
            "{} samples in {}: {} ({} values compared, {} mismatches)",
            report.samples,
            report.simulator,
            if report.bit_exact {
                "BIT-EXACT"
            } else {
                "MISMATCH"
            },
            report.values_compared,
            report.mismatches
        );
        if let Some(m) = &report.first_mismatch {
            println!("first mismatch: {m}");
        }
        if let (Some(h), Some(g)) = (report.accuracy_hardware, report.accuracy_golden) {
            println!(
                "accuracy: hardware {:.2} %, golden {:.2} %",
                h * 100.0,
                g * 100.0
            );
        }
        println!(
            "cycles per inference: measured {:.1}, predicted {:.1} ({:.2} us at 100 MHz)",
            report.cycles_per_inference,
            report.cycles_predicted,
            report.cycles_per_inference / 100.0
        );
        if let Some(v) = &report.vcd {
            println!("waveform: {v}");
        }
        println!("total time {:.1} s", t0.elapsed().as_secs_f64());
    }
    Ok(report.bit_exact)
}
