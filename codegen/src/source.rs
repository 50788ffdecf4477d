//! Where the integer model comes from: an integer model file as is, or a float model (a
//! safetensors float model or a NIR file from snnTorch, Norse, Sinabs, ...) quantized on the way
//! in with the same rules as `snn quantize`, so `codegen --model net.nir` works directly.
//! [`QuantOptions`] (defined in `train::quantize` and shared with `snn quantize`, so both map
//! and refuse the flags alike) carries the settings (`--weight-bits`, `--leak`, `--frac-bits`,
//! `--membrane-bits`) into [`train::quantize::QuantConfig`], whose validation applies; they are
//! refused for a model that is already integer.

use std::path::{Path, PathBuf};

use kernels::model::{Encoding, IntModel, Model};
use kernels::model_io::{AnyModel, load_any};
use kernels::spikes::SpikeTrain;
use train::quantize::{LeakMode, quantize};

use crate::random::Rng;
use crate::{Error, Result};

/// The bundled integer model, relative to the repository root.
pub const DEFAULT_MODEL: &str = "models/mnist_mlp_int8.safetensors";

/// Resolves a default path (`DEFAULT_MODEL`, `kernels::data::MNIST_DIR`) given relative to the
/// repository root: as is when it exists from the working directory, else inside the checkout
/// this binary was built from, so `codegen` and `verify` also work outside the repository root.
/// Paths the user typed are never rewritten.
pub fn bundled(path: &Path, default: &str) -> PathBuf {
    if path != Path::new(default) || path.exists() {
        return path.to_path_buf();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let there = root.join(default);
    if there.exists() {
        there
    } else {
        path.to_path_buf()
    }
}

pub use train::quantize::{DEFAULT_FRAC_BITS, LeakKind, QuantOptions};

/// Calibration samples used to choose membrane widths when a float model is quantized.
pub const CALIBRATION_SAMPLES: usize = 256;

/// A model ready for [`crate::Plan::new`], and how it was obtained.
#[derive(Debug)]
pub struct Loaded {
    /// The integer model.
    pub model: IntModel,
    /// `None` for an integer model file; otherwise one line saying how it was quantized.
    pub quantized: Option<String>,
}

/// True when the file starts with the HDF5 signature (a NIR file), whatever its extension.
fn is_hdf5(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"\x89HDF\r\n\x1a\n")
}

/// Loads `path`: an integer model file, a float model file or a NIR file. Float models are
/// quantized with `snn quantize`'s defaults: 8-bit weights, a shift leak and an LFSR input
/// encoder (seed 1, 16 lanes); membrane widths come from [`CALIBRATION_SAMPLES`] inputs:
/// training digits from `data` when the model takes 28x28 images and the data set loads,
/// seeded random images otherwise.
pub fn load(path: &Path, data: &Path) -> Result<Loaded> {
    load_with(path, data, &QuantOptions::default())
}

/// [`load`] with quantization settings for a float model; an integer model with any of them
/// set is refused (it is quantized already).
pub fn load_with(path: &Path, data: &Path, quant: &QuantOptions) -> Result<Loaded> {
    let float = if is_hdf5(path) || path.extension().is_some_and(|e| e == "nir") {
        let (model, _report) = snn_nir::import(path, &snn_nir::ImportOptions::default())
            .map_err(|e| Error::Input(e.to_string()))?; // names the file itself
        model
    } else {
        // model_io's errors name the file.
        match load_any(path).map_err(|e| Error::Input(e.to_string()))? {
            AnyModel::Int(model) => {
                let flags = quant.flags();
                if !flags.is_empty() {
                    return Err(Error::Input(format!(
                        "{}: this is an integer model (quantized already); {} only apply \
                         to float models and NIR files",
                        path.display(),
                        flags.join(", ")
                    )));
                }
                return Ok(Loaded {
                    model,
                    quantized: None,
                });
            }
            AnyModel::Float(model) => model,
        }
    };
    // Quantization errors do not know the file: name it.
    quantize_float(&float, data, quant)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}

fn quantize_float(float: &Model, data: &Path, quant: &QuantOptions) -> Result<Loaded> {
    // Neuron kinds without an integer form, refused before any calibration work.
    for l in &float.layers {
        let why = match &l.neuron {
            Some(n) if !n.is_spiking() => {
                "is a non-spiking readout (leaky integrator, NIR LI/CubaLI/I); the generated \
                 hardware decodes spike counts and has no readout neurons"
            }
            Some(kernels::neuron::Neuron::PerNeuron(_)) => {
                "has per-neuron decays or thresholds; the generated hardware has one leak and \
                 one threshold per layer"
            }
            _ => continue,
        };
        return Err(Error::Input(format!(
            "layer {:?} {why} (the float runtime runs it: snn eval --float)",
            l.name
        )));
    }
    let cfg = quant.config();
    let pixels = float.input.len();
    let (images, source) = match kernels::data::load_mnist(data) {
        Ok(m) if m.train.pixels() == pixels => {
            let n = CALIBRATION_SAMPLES.min(m.train.len());
            let imgs: Vec<Vec<u8>> = (0..n).map(|i| m.train.image(i).to_vec()).collect();
            (imgs, format!("{n} training digits from {}", data.display()))
        }
        _ => {
            let mut rng = Rng::new(0x5EED);
            let imgs = (0..CALIBRATION_SAMPLES)
                .map(|_| (0..pixels).map(|_| rng.next_u64() as u8).collect())
                .collect();
            (
                imgs,
                format!("{CALIBRATION_SAMPLES} random images (no data set of this input size)"),
            )
        }
    };
    let calibration = images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let x = kernels::encode::encode_sample(&cfg.encoding, img, float.timesteps, i as u64)
                .map_err(|e| Error::Input(e.to_string()))?;
            x.spikes()
                .cloned()
                .ok_or_else(|| Error::Internal("the LFSR encoder produced no spikes".into()))
        })
        .collect::<Result<Vec<SpikeTrain>>>()?;
    let q = quantize(float, &cfg, &calibration).map_err(|e| Error::Input(e.to_string()))?;
    let Encoding::Lfsr { seed, lanes } = cfg.encoding else {
        return Err(Error::Internal(
            "quantization encoder is not the LFSR".into(),
        ));
    };
    let leak = match cfg.leak {
        LeakMode::Shift => "shift leak".to_string(),
        LeakMode::Multiply { frac_bits } => format!("multiply leak ({frac_bits} fraction bits)"),
    };
    let membrane = match cfg.membrane_bits {
        Some(b) => format!("{b}-bit membranes"),
        None => format!("membrane widths calibrated on {source}"),
    };
    Ok(Loaded {
        model: q.model,
        quantized: Some(format!(
            "float model quantized: {}-bit weights, {leak}, LFSR encoder (seed {seed}, \
             {lanes} lanes), {membrane}",
            cfg.weight_bits
        )),
    })
}
