//! `codegen`: generate synthesizable Verilog for an integer spiking network.
//!
//! With no arguments it generates the bundled MNIST model into `out/<model-name>/`, runs Yosys
//! for the target when it is installed, and prints a summary. Exit status 2 on bad input.
//! A float model or NIR file is quantized first; `--weight-bits`, `--leak`, `--frac-bits` and
//! `--membrane-bits` are `snn quantize`'s settings for that (refused for an integer model).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use codegen::plan::{Arch, WeightStore};
use codegen::source::{LeakKind, QuantOptions};
use codegen::stimulus::{random_samples, samples_from_images};
use codegen::{EncoderKind, Error, Options, Plan, Target, generate, synth, write_design};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Synthesizable Verilog for an integer spiking network"
)]
struct Args {
    /// Model: integer or float safetensors (see docs/model-format.md) or a NIR file; float
    /// models are quantized on the way in as by `snn quantize` (the four options below).
    #[arg(long, default_value = codegen::source::DEFAULT_MODEL)]
    model: PathBuf,
    /// Float model: signed weight width, 4..=16 (default 8).
    #[arg(long)]
    weight_bits: Option<u8>,
    /// Float model: leak realisation (default shift).
    #[arg(long, value_enum)]
    leak: Option<LeakArg>,
    /// Float model with --leak multiply: fraction bits of the multiply leak, 1..=16 (default 12).
    #[arg(long)]
    frac_bits: Option<u8>,
    /// Float model: membrane width for every layer, 2..=32 (default: chosen from calibration
    /// potentials).
    #[arg(long)]
    membrane_bits: Option<u8>,
    /// Output directory (default out/<model-name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing output directory.
    #[arg(long)]
    force: bool,
    /// Weights added per cycle per layer (P): one value for every layer, or one per dense layer
    /// separated by commas (e.g. 64,10; each 1..=the layer's neurons). Default: whole layer up
    /// to 128 (--arch regs), 2 (--arch mem; later layers get fewer, see
    /// docs/hardware-architecture.md).
    #[arg(long, value_name = "P[,P...]")]
    parallel: Option<String>,
    /// Neurons updated per cycle in the neuron phase (default min(neurons, 16); later layers of
    /// --arch regs only as many as keep their neuron phase within the first layer's).
    #[arg(long)]
    neuron_units: Option<usize>,
    /// Synthesis target.
    #[arg(long, value_enum, default_value = "xc7")]
    target: Target,
    /// Input stage: on-chip LFSR rate encoder or pre-encoded spike words.
    #[arg(long, value_enum, default_value = "lfsr")]
    encoder: EncoderKind,
    /// Spike bits per input beat (--encoder spikes).
    #[arg(long, default_value_t = 32)]
    spike_word: usize,
    /// Override the model's number of timesteps.
    #[arg(long)]
    timesteps: Option<usize>,
    /// Neuron-state architecture (auto: mem for ice40up5k, regs otherwise).
    #[arg(long, value_enum, default_value = "auto")]
    arch: Arch,
    /// Weight storage (auto: SPRAM loaded at run time for large layers on ice40up5k).
    #[arg(long, value_enum, default_value = "auto")]
    weights: WeightStore,
    /// Testbench samples (test-split digits when the data set fits the model, else random).
    #[arg(long, default_value_t = 8)]
    samples: usize,
    /// MNIST IDX directory for testbench samples.
    #[arg(long, default_value = kernels::data::MNIST_DIR)]
    data: PathBuf,
    /// Do not run Yosys (no resource numbers).
    #[arg(long)]
    no_synth: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Implement: ice40up5k runs Yosys synth_ice40, nextpnr-ice40 (--up5k --package sg48, the
    /// iCEBreaker's) and icepack on the UART board wrapper and writes <model>.bin; xc7 runs Yosys
    /// synth_xilinx. Prints resources out of the device's, fmax, latency; exit status 2 when the
    /// design does not fit.
    #[arg(long)]
    implement: bool,
}

/// How the leak is realised in integer form (as `snn quantize --leak`).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LeakArg {
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

/// `--implement --json`: the implementation report with the design's identity.
#[derive(serde::Serialize)]
struct ImplReport<'a> {
    model: &'a str,
    shape: &'a str,
    arch: &'static str,
    parallel: Vec<usize>,
    neuron_units: Vec<usize>,
    weights_loaded: bool,
    timesteps: usize,
    samples: usize,
    golden_accuracy: Option<f64>,
    #[serde(flatten)]
    implementation: &'a synth::Implementation,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codegen: {e}");
            ExitCode::from(match e {
                Error::Input(_) | Error::Io(_) => 2,
                _ => 1,
            })
        }
    }
}

fn run(mut args: Args) -> codegen::Result<()> {
    let t0 = Instant::now();
    args.model = codegen::source::bundled(&args.model, codegen::source::DEFAULT_MODEL);
    args.data = codegen::source::bundled(&args.data, kernels::data::MNIST_DIR);
    let quant = QuantOptions::from_cli(
        args.weight_bits,
        args.leak.map(LeakArg::kind),
        args.frac_bits,
        args.membrane_bits,
    )
    .map_err(|e| Error::Input(e.to_string()))?;
    let loaded = codegen::source::load_with(&args.model, &args.data, &quant)?;
    if let Some(note) = &loaded.quantized {
        eprintln!("codegen: {note}");
    }
    let model = loaded.model;
    if args.samples == 0 || args.samples > 2000 {
        return Err(Error::Input("--samples must be in 1..=2000".into()));
    }
    let (parallel, parallel_layers) = codegen::plan::parse_parallel(args.parallel.as_deref())?;
    let opts = Options {
        parallel,
        parallel_layers,
        neuron_units: args.neuron_units,
        target: args.target,
        encoder: args.encoder,
        timesteps: args.timesteps,
        spike_word: args.spike_word,
        arch: args.arch,
        weights: args.weights,
    };
    let plan = Plan::new(&model, &opts)?;
    // Test-split digits when they fit the model's input; random samples otherwise.
    let (samples, labels) = match kernels::data::load_mnist(&args.data) {
        Ok(m) if m.test.pixels() == plan.header.inputs => {
            let n = args.samples.min(m.test.len());
            let imgs: Vec<&[u8]> = (0..n).map(|i| m.test.image(i)).collect();
            (
                samples_from_images(&plan, &imgs)?,
                Some(m.test.labels[..n].to_vec()),
            )
        }
        _ => (random_samples(&plan, args.samples, 1), None),
    };
    let mut design = generate(&model, &opts, &samples, labels.as_deref())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&model.name));
    write_design(&mut design, &out, args.force)?;
    let gen_time = t0.elapsed().as_secs_f64();
    if args.implement {
        return implement(&args, &design, &out);
    }
    let mut synth_note = String::from("not run (--no-synth)");
    if !args.no_synth {
        eprintln!(
            "codegen: design written in {gen_time:.2} s; running yosys for {} (minutes for \
             MNIST; --no-synth skips it)",
            args.target.name()
        );
        match synth::run_yosys(&out, args.target) {
            Ok(r) => {
                design.set_resources(&r)?;
                write_design(&mut design, &out, true)?;
                synth_note = format!("yosys {}", args.target.name());
            }
            Err(e) => synth_note = format!("not available: {e}"),
        }
    }
    let s = &design.summary;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(s).map_err(|e| Error::Internal(e.to_string()))?
        );
        return Ok(());
    }
    println!("{} -> {}", args.model.display(), out.display());
    println!(
        "model {} ({}), {} layers, {} neurons, {} synapses, {} weight bits, T = {}, encoder {}",
        s.model, s.shape, s.layers, s.neurons, s.synapses, s.weight_bits, s.timesteps, s.encoder
    );
    for l in &s.layer_params {
        println!(
            "  {}: {} -> {}, P = {}, G = {}, NU = {}, GN = {}, weights {} b, acc {} b, membrane {} b",
            l.name,
            l.inputs,
            l.neurons,
            l.parallel,
            l.words_per_input,
            l.neuron_units,
            l.neuron_cycles,
            l.weight_bits,
            l.acc_bits,
            l.membrane_bits
        );
    }
    println!(
        "cycles per inference (timing model over {} testbench samples): mean {:.0}, min {}, max {} \
         = {:.1} us at 100 MHz",
        s.samples, s.cycles_per_inference, s.cycles_min, s.cycles_max, s.latency_us_100mhz
    );
    if let Some(a) = s.golden_accuracy {
        println!("golden-model accuracy on those samples: {:.2} %", a * 100.0);
    }
    match (s.luts, s.ffs, s.brams, s.dsps) {
        (Some(l), Some(f), Some(b), Some(d)) => println!(
            "resources ({synth_note}): {l} LUTs, {f} FFs, {b} BRAMs, {d} DSPs; top {}",
            s.top
        ),
        _ => println!("resources: {synth_note}; top {}", s.top),
    }
    println!("generation took {gen_time:.2} s");
    Ok(())
}

fn implement(args: &Args, design: &codegen::Design, out: &std::path::Path) -> codegen::Result<()> {
    let s = &design.summary;
    let plan = &design.plan;
    eprintln!(
        "codegen: implementing {} for {} in {} (minutes for MNIST)",
        s.model,
        args.target.name(),
        out.display()
    );
    let imp = match args.target {
        Target::Ice40up5k => {
            let Some((top, _, _)) = &design.board else {
                return Err(Error::Input(
                    "--implement for ice40up5k builds the UART board wrapper, which sends pixel \
                     bytes: it needs --encoder lfsr"
                        .into(),
                ));
            };
            synth::implement_ice40(
                out,
                top,
                "icebreaker.pcf",
                s.cycles_per_inference,
                &format!("{}.bin", s.model),
            )?
        }
        Target::Xc7 => synth::implement_xc7(out, &s.top, s.cycles_per_inference)?,
        Target::Generic => {
            return Err(Error::Input(
                "--implement needs a device: --target ice40up5k or xc7".into(),
            ));
        }
    };
    let report = ImplReport {
        model: &s.model,
        shape: &s.shape,
        arch: if plan.layers.iter().any(|l| l.mem) {
            "mem"
        } else {
            "regs"
        },
        parallel: plan.layers.iter().map(|l| l.pp).collect(),
        neuron_units: plan.layers.iter().map(|l| l.nu).collect(),
        weights_loaded: plan.loader.is_some(),
        timesteps: s.timesteps,
        samples: s.samples,
        golden_accuracy: s.golden_accuracy,
        implementation: &imp,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
    let path = out.join(format!("implementation_{}.json", args.target.name()));
    std::fs::write(&path, &json).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    if args.json {
        println!("{json}");
    } else {
        println!(
            "{} ({}), arch {}, P = {:?}, T = {}",
            s.model, s.shape, report.arch, report.parallel, s.timesteps
        );
        print!("{}", imp.table());
    }
    if !imp.fits {
        let what: Vec<String> = imp
            .overflow
            .iter()
            .map(|o| {
                format!(
                    "{} by {} ({} > {})",
                    o.resource, o.over, o.used, o.available
                )
            })
            .collect();
        return Err(Error::Input(format!(
            "the design does not fit {}: {}",
            imp.device,
            what.join("; ")
        )));
    }
    Ok(())
}
