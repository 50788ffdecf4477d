//! `nir-inspect FILE.nir [--semantics S] [--dt SECONDS] [--reset subtract|zero]`: reads a NIR
//! file, maps it to a `kernels` model and prints the mapping and the layers, or the error
//! (exit status 2). A thin tool for checking files; the user command is `snn import`.

use std::process::ExitCode;

use clap::Parser;
use snn_nir::{ImportOptions, Semantics};

#[derive(Parser)]
#[command(about = "Map a NIR file to a kernels model and print what was done")]
struct Args {
    /// The NIR file.
    file: std::path::PathBuf,
    /// snntorch, norse or spikingjelly.
    #[arg(long, default_value = "snntorch")]
    semantics: String,
    /// Time step in seconds (default: the framework's).
    #[arg(long)]
    dt: Option<f64>,
    /// subtract or zero (default: the framework's).
    #[arg(long)]
    reset: Option<String>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let run = || -> snn_nir::Result<()> {
        let opts = ImportOptions {
            semantics: Semantics::parse(&a.semantics)?,
            dt: a.dt,
            reset: a.reset.as_deref().map(snn_nir::parse_reset).transpose()?,
            ..Default::default()
        };
        let (model, report) = snn_nir::import(&a.file, &opts)?;
        print!("{report}");
        for l in &model.layers {
            println!("  layer {}: {:?} neuron {:?}", l.name, l.op, l.neuron);
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
