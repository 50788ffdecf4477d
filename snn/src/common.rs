//! What every subcommand shares: errors with exit codes, default paths, loading models and
//! data, and running one image through a model.

use std::fmt;
use std::path::{Path, PathBuf};

use kernels::data::{Dataset, MNIST_DIR, TEST_SAMPLES, load_mnist};
use kernels::encode::{Encoded, encode_sample};
use kernels::metrics::NetDesc;
use kernels::model::{Encoding, IntModel, Model};
use kernels::model_io::{AnyModel, load_any};
use kernels::network::{Input, IntNetwork, Network};

/// Bundled 8-bit integer model, relative to the repository root.
pub const DEFAULT_INT_MODEL: &str = "models/mnist_mlp_int8.safetensors";
/// Bundled float model, relative to the repository root.
pub const DEFAULT_FLOAT_MODEL: &str = "models/mnist_mlp.safetensors";

/// A failure with the process exit status it maps to.
#[derive(Debug)]
pub struct CliError {
    /// One line: what went wrong and which file or argument.
    pub message: String,
    /// 2 for bad input (files, arguments), 1 for anything else.
    pub code: u8,
}

impl CliError {
    /// A bad-input error (exit status 2).
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }

    /// An internal failure (exit status 1).
    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Errors of the `kernels` crate come from files and parameters the user gave: bad input.
impl From<kernels::Error> for CliError {
    fn from(e: kernels::Error) -> Self {
        CliError::input(e.to_string())
    }
}

/// Result of a subcommand.
pub type CliResult<T> = Result<T, CliError>;

/// The repository root this binary was built from (for the bundled model and data).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `rel` relative to the current directory when it exists there, otherwise relative to the
/// repository root, so the defaults work from the checkout and from anywhere else.
pub fn bundled(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        here
    } else {
        repo_root().join(rel)
    }
}

/// The model path: `--model`, or the bundled integer (or, with `float`, float) model.
pub fn model_path(model: &Option<PathBuf>, float: bool) -> PathBuf {
    match model {
        Some(p) => p.clone(),
        None => bundled(if float {
            DEFAULT_FLOAT_MODEL
        } else {
            DEFAULT_INT_MODEL
        }),
    }
}

/// The MNIST directory: `--data`, or the bundled `data/mnist`.
pub fn data_dir(data: &Option<PathBuf>) -> PathBuf {
    match data {
        Some(p) => p.clone(),
        None => bundled(MNIST_DIR),
    }
}

/// The first `samples` digits of the test split (all 2,000 when `None`).
pub fn test_images(dir: &Path, samples: Option<usize>) -> CliResult<Dataset> {
    let n = match samples {
        Some(0) => return Err(CliError::input("--samples must be at least 1")),
        Some(n) if n > TEST_SAMPLES => {
            return Err(CliError::input(format!(
                "--samples {n} exceeds the {TEST_SAMPLES} digits of the test split"
            )));
        }
        Some(n) => n,
        None => TEST_SAMPLES,
    };
    Ok(load_mnist(dir)?.test.take(n))
}

/// A loaded model with its runtime.
pub enum Runner {
    /// Float model, f32 runtime.
    Float {
        /// The model.
        model: Model,
        /// Its runtime.
        net: Network,
    },
    /// Integer model, integer golden runtime.
    Int {
        /// The model.
        model: IntModel,
        /// Its runtime.
        net: IntNetwork,
    },
}

impl Runner {
    /// Loads and validates a model file and builds its runtime.
    pub fn load(path: &Path) -> CliResult<Self> {
        let name = path.display();
        let any = load_any(path)?;
        Ok(match any {
            AnyModel::Float(model) => {
                let net =
                    Network::new(&model).map_err(|e| CliError::input(format!("{name}: {e}")))?;
                Runner::Float { model, net }
            }
            AnyModel::Int(model) => {
                if matches!(model.encoding, Encoding::Direct) {
                    return Err(CliError::input(format!(
                        "{name}: the integer runtime takes spikes; a direct (analog) encoding is \
                         not supported for integer models"
                    )));
                }
                let net =
                    IntNetwork::new(&model).map_err(|e| CliError::input(format!("{name}: {e}")))?;
                Runner::Int { model, net }
            }
        })
    }

    /// The same model run for `t` timesteps instead of its own (accuracy against `T`).
    pub fn with_timesteps(self, t: usize) -> CliResult<Self> {
        let bad = |e: kernels::Error| CliError::input(format!("--timesteps {t}: {e}"));
        // Before the runtime allocates anything for `t` steps.
        kernels::limits::check_run_size(t, self.neurons()).map_err(bad)?;
        Ok(match self {
            Runner::Float { mut model, .. } => {
                model.timesteps = t;
                let net = Network::new(&model).map_err(bad)?;
                Runner::Float { model, net }
            }
            Runner::Int { mut model, .. } => {
                model.timesteps = t;
                let net = IntNetwork::new(&model).map_err(bad)?;
                Runner::Int { model, net }
            }
        })
    }

    /// Neurons of one step: the input plus every layer's output (see `kernels::limits`).
    pub fn neurons(&self) -> usize {
        let (input, ops): (_, Vec<_>) = match self {
            Runner::Float { model, .. } => {
                (model.input, model.layers.iter().map(|l| l.op).collect())
            }
            Runner::Int { model, .. } => (model.input, model.layers.iter().map(|l| l.op).collect()),
        };
        ops.iter()
            .filter_map(|op: &kernels::model::LayerOp| op.output_shape().ok())
            .fold(input.len(), |n, s| n.saturating_add(s.len()))
    }

    /// `"float"` or `"int"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Runner::Float { .. } => "float",
            Runner::Int { .. } => "int",
        }
    }

    /// Model name.
    pub fn name(&self) -> &str {
        match self {
            Runner::Float { model, .. } => &model.name,
            Runner::Int { model, .. } => &model.name,
        }
    }

    /// Input encoding.
    pub fn encoding(&self) -> Encoding {
        match self {
            Runner::Float { model, .. } => model.encoding,
            Runner::Int { model, .. } => model.encoding,
        }
    }

    /// Timesteps per inference.
    pub fn timesteps(&self) -> usize {
        match self {
            Runner::Float { model, .. } => model.timesteps,
            Runner::Int { model, .. } => model.timesteps,
        }
    }

    /// The model's input shape.
    pub fn input_shape(&self) -> kernels::model::Shape {
        match self {
            Runner::Float { model, .. } => model.input,
            Runner::Int { model, .. } => model.input,
        }
    }

    /// Number of input pixels.
    pub fn inputs(&self) -> usize {
        match self {
            Runner::Float { model, .. } => model.input.len(),
            Runner::Int { model, .. } => model.input.len(),
        }
    }

    /// The description the metrics need.
    pub fn desc(&self) -> NetDesc {
        match self {
            Runner::Float { model, .. } => NetDesc::from_model(model),
            Runner::Int { model, .. } => NetDesc::from_int_model(model),
        }
    }

    /// Checks that the model takes images of `pixels` pixels.
    pub fn check_images(&self, path: &Path, pixels: usize) -> CliResult<()> {
        if self.inputs() != pixels {
            return Err(CliError::input(format!(
                "{}: the model takes {} inputs, the images have {pixels} pixels",
                path.display(),
                self.inputs()
            )));
        }
        Ok(())
    }

    /// Encodes image `pixels` as sample `sample` with the model's encoding.
    pub fn encode(&self, pixels: &[u8], sample: u64) -> kernels::Result<Encoded> {
        encode_sample(&self.encoding(), pixels, self.timesteps(), sample)
    }

    /// The fast path: pixels in, class out (encoding included, nothing recorded).
    pub fn classify(&self, pixels: &[u8], sample: u64) -> kernels::Result<usize> {
        let x = self.encode(pixels, sample)?;
        self.classify_encoded(&x)
    }

    /// Classifies an encoded input.
    pub fn classify_encoded(&self, x: &Encoded) -> kernels::Result<usize> {
        Ok(match (self, x) {
            (Runner::Float { net, .. }, Encoded::Spikes(t)) => {
                net.run(&Input::Spikes(t), false)?.class
            }
            (Runner::Float { net, .. }, Encoded::Analog(a)) => {
                net.run(&Input::Analog(a), false)?.class
            }
            (Runner::Int { net, .. }, Encoded::Spikes(t)) => net.run(t, false)?.class,
            (Runner::Int { .. }, Encoded::Analog(_)) => {
                return Err(kernels::Error::invalid(
                    "the integer runtime has no analog input",
                ));
            }
        })
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Describes an encoding for humans.
pub fn encoding_text(e: &Encoding) -> String {
    match e {
        Encoding::Rate { seed } => format!("rate (Bernoulli), seed {seed}"),
        Encoding::Poisson { seed } => format!("Poisson, seed {seed}"),
        Encoding::Latency => "latency".into(),
        Encoding::Direct => "direct (analog)".into(),
        Encoding::Lfsr { seed, lanes } => format!("LFSR, seed {seed}, {lanes} lanes"),
    }
}

/// Writes the command's output to stdout; a closed pipe (`snn ... | head`) is not an error.
pub fn emit(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut so = std::io::stdout().lock();
    match so.write_all(text.as_bytes()).and_then(|_| so.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::internal(format!("cannot write to stdout: {e}"))),
    }
}
