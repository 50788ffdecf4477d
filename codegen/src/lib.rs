//! # codegen: synthesizable Verilog for spiking networks
//!
//! [`plan::Plan`] decides every number of the hardware from an integer model
//! ([`kernels::model::IntModel`]) and [`plan::Options`]; [`render`] prints them through the
//! askama templates in `hdl_templates/`; [`stimulus`] runs the Rust golden model to produce the
//! testbench's stimulus and expected outputs; [`timing`] predicts cycles per inference exactly;
//! [`synth`] holds everything target-specific (Yosys and Vivado scripts, running Yosys, parsing
//! its `stat -json`). [`generate`] and [`write_design`] tie them together.
//!
//! [`source::load_with`] turns a float model or NIR file into the integer model with
//! [`source::QuantOptions`] (`snn quantize`'s settings, validated by `train::quantize`).
//! [`plan::Options::parallel`] gives every layer the same `P`, [`plan::Options::parallel_layers`]
//! one `P` per dense layer. Weights and biases are `$readmemh` memory files
//! (`<model>_<layer>_weights.hex`, `<model>_<layer>_bias.hex`); the neuron parameters, one
//! value per layer, are constants in the Verilog.

pub mod design;
pub mod plan;
pub mod random;
pub mod render;
pub mod source;
pub mod stimulus;
pub mod synth;
pub mod timing;

pub use design::{Design, Summary, generate, write_design};
pub use plan::{EncoderKind, Options, Plan, Target};

/// What went wrong.
#[derive(Debug)]
pub enum Error {
    /// Bad user input (model, options, paths): the CLI exits with status 2.
    Input(String),
    /// A file could not be read or written.
    Io(String),
    /// An external tool failed or is missing.
    Tool(String),
    /// A bug.
    Internal(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(m) => write!(f, "{m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Tool(m) => write!(f, "{m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
