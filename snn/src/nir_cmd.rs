//! `snn import` (a NIR file from snnTorch, Norse, Sinabs, ... -> a model file) and
//! `snn export --nir` (a float model file -> a NIR file that Python's `nir.read` opens).
//! The mapping itself lives in the `snn-nir` crate; see `docs/nir.md`.

use std::path::PathBuf;

use clap::Args;
use snn_nir::{ExportOptions, ImportOptions, InputEncoding, Semantics};

use crate::common::{CliError, CliResult, model_path};

/// Arguments of `snn import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The NIR file to import (HDF5, as written by the Python `nir` package).
    #[arg(value_name = "MODEL.nir")]
    pub input: PathBuf,
    /// Model file to write (safetensors).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Time step in seconds used to discretise the file's time constants (default: the
    /// framework's, 1e-4 for snntorch, 1e-3 for norse and spikingjelly).
    #[arg(long, value_name = "SECONDS")]
    pub dt: Option<f64>,
    /// Whose discretisation to apply: snntorch, spikingjelly or norse.
    #[arg(long, default_value = "snntorch", value_name = "FRAMEWORK")]
    pub semantics: String,
    /// Reset mechanism, subtract or zero (default: the framework's; snntorch subtracts even
    /// though its files say v_reset = 0).
    #[arg(long, value_name = "subtract|zero")]
    pub reset: Option<String>,
    /// Timesteps per inference, saved in the model (NIR does not store it).
    #[arg(long, default_value_t = 25, value_name = "T")]
    pub timesteps: usize,
    /// Input encoding saved in the model: rate (Bernoulli) or direct.
    #[arg(long, default_value = "rate", value_name = "rate|direct")]
    pub encoding: String,
    /// Seed of the rate encoder.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Model name (default: from the file name).
    #[arg(long)]
    pub name: Option<String>,
    /// How a non-spiking readout output layer (NIR LI, CubaLI, I) is decoded: argmax of the
    /// max, final or mean over time of its membrane potentials (saved in the model).
    #[arg(long, default_value = "max", value_name = "max|final|mean")]
    pub readout: String,
}

/// Arguments of `snn export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write a NIR file (the export format; required).
    #[arg(long)]
    pub nir: bool,
    /// Float model file to export (default: the bundled float model).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// NIR file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Time step in seconds used to turn decays into time constants (snnTorch's 1e-4).
    #[arg(long, default_value_t = 1e-4, value_name = "SECONDS")]
    pub dt: f64,
    /// Write uncompressed datasets (for NIR readers older than nir 1.0.8).
    #[arg(long)]
    pub no_compress: bool,
}

fn nir_err(e: snn_nir::Error) -> CliError {
    match e {
        snn_nir::Error::Io(m) => CliError::input(m),
        other => CliError::input(other.to_string()),
    }
}

/// Runs `snn import`: prints the mapping used, then writes the model.
pub fn run_import(a: &ImportArgs) -> CliResult<()> {
    let opts = ImportOptions {
        dt: a.dt,
        semantics: Semantics::parse(&a.semantics).map_err(nir_err)?,
        reset: a
            .reset
            .as_deref()
            .map(snn_nir::parse_reset)
            .transpose()
            .map_err(nir_err)?,
        timesteps: a.timesteps,
        encoding: InputEncoding::parse(&a.encoding).map_err(nir_err)?,
        seed: a.seed,
        name: a.name.clone(),
        readout: kernels::decode::Readout::parse(&a.readout)?,
    };
    let (model, report) = snn_nir::import(&a.input, &opts).map_err(nir_err)?;
    print!("{report}");
    kernels::model_io::save_model(&model, &a.out)?;
    println!(
        "wrote {} ({} layers, input {}x{}x{}, T = {}, {:?} encoding)",
        a.out.display(),
        model.layers.len(),
        model.input.channels,
        model.input.height,
        model.input.width,
        model.timesteps,
        model.encoding
    );
    Ok(())
}

/// Runs `snn export --nir`.
pub fn run_export(a: &ExportArgs) -> CliResult<()> {
    if !a.nir {
        return Err(CliError::input(
            "export needs --nir (NIR is the only export format)",
        ));
    }
    let model = kernels::model_io::load_model(model_path(&a.model, true))?;
    let bytes = snn_nir::export_bytes(
        &model,
        &ExportOptions {
            dt: a.dt,
            compress: !a.no_compress,
        },
    )
    .map_err(nir_err)?;
    kernels::model_io::atomic_write(&a.out, &bytes)?;
    println!(
        "wrote {} (NIR, {} layers, dt = {} s)",
        a.out.display(),
        model.layers.len(),
        a.dt
    );
    Ok(())
}
