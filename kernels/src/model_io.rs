//! Model files: one safetensors file per model, tensors plus the topology as JSON metadata.
//!
//! The schema is documented in `docs/model-format.md` (with a Python reader/writer). In short:
//! the safetensors header's `__metadata__` holds `format = "snn-model"`,
//! `format_version = "1"` and `topology`, a JSON document with the model's name, input shape,
//! timesteps, encoding and one entry per layer (operation and geometry, whether it has a bias,
//! its neuron parameters, and for integer models its weight width and scale). Every layer with
//! weights stores `<layer>.weight` in PyTorch layout and, when it has a bias, `<layer>.bias`.
//! Float models use `F32`; integer models `I16` weights (`I8` is also accepted when reading)
//! and `I32` biases.
//!
//! Loading trusts nothing: the file size is checked before it is read, the topology before any
//! tensor is converted, and every tensor's presence, dtype, shape and values are checked with a
//! message that names the file and the tensor or field. Saving validates the model first and
//! writes through a temporary file that is renamed into place, so a failed save never leaves a
//! partial file.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{
    IntLayer, IntModel, Layer, LayerOp, MAX_LAYER_ELEMENTS, MAX_LAYERS, Model, Shape,
    check_identifier,
};
use crate::neuron::{IntLifParams, Neuron};

/// Value of the `format` metadata key.
pub const FORMAT_NAME: &str = "snn-model";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest model file accepted, checked before the file is read (1 GiB).
pub const MAX_MODEL_FILE_BYTES: u64 = 1 << 30;

/// Whether a file holds a float or an integer model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A float [`Model`].
    Float,
    /// A quantized [`IntModel`].
    Int,
}

/// A model of either kind, as returned by [`load_any`].
#[derive(Clone, Debug, PartialEq)]
pub enum AnyModel {
    /// A float model.
    Float(Model),
    /// An integer model.
    Int(IntModel),
}

impl AnyModel {
    /// Whether the file held a float or an integer model.
    pub fn kind(&self) -> ModelKind {
        match self {
            AnyModel::Float(_) => ModelKind::Float,
            AnyModel::Int(_) => ModelKind::Int,
        }
    }

    /// The model's name (a safe identifier: it becomes the Verilog module prefix).
    pub fn name(&self) -> &str {
        match self {
            AnyModel::Float(m) => &m.name,
            AnyModel::Int(m) => &m.name,
        }
    }
}

/// The topology document stored in the `topology` metadata key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Topology {
    kind: ModelKind,
    name: String,
    input: Shape,
    timesteps: usize,
    encoding: crate::model::Encoding,
    /// Parsed one by one so that errors name the layer.
    layers: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FloatLayerTopo {
    name: String,
    op: LayerOp,
    bias: bool,
    neuron: Option<Neuron>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntLayerTopo {
    name: String,
    op: LayerOp,
    bias: bool,
    weight_bits: u8,
    scale: f32,
    neuron: Option<IntLifParams>,
}

fn ferr(path: &str, msg: impl std::fmt::Display) -> Error {
    Error::format(format!("{path}: {msg}"))
}

/// Re-labels an error from `validate()` or a parameter check with the file name.
fn with_path(path: &str, e: Error) -> Error {
    match e {
        Error::Shape(m) => Error::Shape(format!("{path}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("{path}: {m}")),
        Error::Format(m) => Error::Format(format!("{path}: {m}")),
        Error::Io(m) => Error::Io(format!("{path}: {m}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

fn le_bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn le_bytes_i16(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn le_bytes_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// PyTorch-layout shape of a layer's weight tensor.
fn weight_shape(op: &LayerOp) -> Vec<usize> {
    match *op {
        LayerOp::Dense { inputs, outputs } => vec![outputs, inputs],
        LayerOp::Conv2d {
            input,
            out_channels,
            kernel,
            ..
        } => vec![out_channels, input.channels, kernel[0], kernel[1]],
        _ => vec![],
    }
}

struct OwnedTensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn write_file(path: &Path, topology: &Topology, tensors: Vec<OwnedTensor>) -> Result<()> {
    let name = path.display().to_string();
    let topo = serde_json::to_string(topology)
        .map_err(|e| Error::invalid(format!("{name}: cannot encode topology: {e}")))?;
    let meta: HashMap<String, String> = [
        ("format".to_string(), FORMAT_NAME.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("topology".to_string(), topo),
    ]
    .into_iter()
    .collect();
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.data)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| Error::invalid(format!("{name}: tensor {}: {e}", t.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, &Some(meta))
        .map_err(|e| Error::invalid(format!("{name}: cannot serialize: {e}")))?;
    atomic_write(path, &bytes)
}

/// Writes `bytes` to a temporary file next to `path`, syncs it and renames it over `path`:
/// readers see the old file or the complete new one, never a partial file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.display().to_string();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |what: &str, e: std::io::Error| Error::Io(format!("{name}: {what}: {e}"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".snn-tmp-")
        .tempfile_in(dir)
        .map_err(|e| io("cannot create a temporary file in its directory", e))?;
    tmp.write_all(bytes).map_err(|e| io("write failed", e))?;
    tmp.as_file().sync_all().map_err(|e| io("sync failed", e))?;
    // On error the temporary file is removed when `tmp` is dropped.
    tmp.persist(path)
        .map_err(|e| io("cannot rename the temporary file into place", e.error))?;
    Ok(())
}

/// Saves a float model. The model is validated first; nothing is written when it is invalid.
pub fn save_model(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let pname = path.display().to_string();
    model.validate().map_err(|e| with_path(&pname, e))?;
    let mut layers = Vec::new();
    let mut tensors = Vec::new();
    for l in &model.layers {
        let topo = FloatLayerTopo {
            name: l.name.clone(),
            op: l.op,
            bias: !l.bias.is_empty(),
            neuron: l.neuron,
        };
        layers.push(
            serde_json::to_value(&topo)
                .map_err(|e| Error::invalid(format!("{pname}: layer {:?}: {e}", l.name)))?,
        );
        if l.op.has_weights() {
            tensors.push(OwnedTensor {
                name: format!("{}.weight", l.name),
                dtype: Dtype::F32,
                shape: weight_shape(&l.op),
                data: le_bytes_f32(&l.weights),
            });
            if !l.bias.is_empty() {
                tensors.push(OwnedTensor {
                    name: format!("{}.bias", l.name),
                    dtype: Dtype::F32,
                    shape: vec![l.bias.len()],
                    data: le_bytes_f32(&l.bias),
                });
            }
        }
    }
    let topology = Topology {
        kind: ModelKind::Float,
        name: model.name.clone(),
        input: model.input,
        timesteps: model.timesteps,
        encoding: model.encoding,
        layers,
    };
    write_file(path, &topology, tensors)
}

/// Saves an integer model. The model is validated first; nothing is written when it is invalid.
pub fn save_int_model(model: &IntModel, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let pname = path.display().to_string();
    model.validate().map_err(|e| with_path(&pname, e))?;
    let mut layers = Vec::new();
    let mut tensors = Vec::new();
    for l in &model.layers {
        let topo = IntLayerTopo {
            name: l.name.clone(),
            op: l.op,
            bias: !l.bias.is_empty(),
            weight_bits: l.weight_bits,
            scale: l.scale,
            neuron: l.neuron,
        };
        layers.push(
            serde_json::to_value(&topo)
                .map_err(|e| Error::invalid(format!("{pname}: layer {:?}: {e}", l.name)))?,
        );
        if l.op.has_weights() {
            tensors.push(OwnedTensor {
                name: format!("{}.weight", l.name),
                dtype: Dtype::I16,
                shape: weight_shape(&l.op),
                data: le_bytes_i16(&l.weights),
            });
            if !l.bias.is_empty() {
                tensors.push(OwnedTensor {
                    name: format!("{}.bias", l.name),
                    dtype: Dtype::I32,
                    shape: vec![l.bias.len()],
                    data: le_bytes_i32(&l.bias),
                });
            }
        }
    }
    let topology = Topology {
        kind: ModelKind::Int,
        name: model.name.clone(),
        input: model.input,
        timesteps: model.timesteps,
        encoding: model.encoding,
        layers,
    };
    write_file(path, &topology, tensors)
}

/// Saves a model of either kind.
pub fn save_any(model: &AnyModel, path: impl AsRef<Path>) -> Result<()> {
    match model {
        AnyModel::Float(m) => save_model(m, path),
        AnyModel::Int(m) => save_int_model(m, path),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A parsed file: its topology and its tensors, not yet converted.
struct Parsed<'a> {
    path: String,
    topology: Topology,
    tensors: SafeTensors<'a>,
    /// Tensor names not yet claimed by a layer (left-overs are "extra tensors").
    unclaimed: BTreeSet<String>,
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Io(format!("{name}: cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(Error::Io(format!("{name}: not a regular file")));
    }
    if meta.len() > MAX_MODEL_FILE_BYTES {
        return Err(ferr(
            &name,
            format!(
                "file is {} bytes, above the limit of {MAX_MODEL_FILE_BYTES} for a model",
                meta.len()
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::Io(format!("{name}: read failed: {e}")))
}

fn safetensors_message(e: &safetensors::SafeTensorError) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::HeaderTooSmall => {
            "not a safetensors file (shorter than its 8-byte header length)".into()
        }
        E::HeaderTooLarge => "not a safetensors file (declared header length is absurd)".into(),
        E::InvalidHeaderLength => {
            "not a safetensors file or truncated (header length exceeds the file)".into()
        }
        E::InvalidHeader | E::InvalidHeaderStart | E::InvalidHeaderDeserialization => {
            "not a safetensors file (header is not valid JSON)".into()
        }
        E::MetadataIncompleteBuffer => {
            "truncated or padded safetensors file (tensor data does not match the file size)".into()
        }
        E::InvalidOffset(t) => format!("tensor {t}: invalid data offsets"),
        E::ValidationOverflow => "tensor shape in the header overflows (absurd size)".into(),
        E::TensorInvalidInfo => "tensor shape, dtype and offsets disagree".into(),
        other => format!("malformed safetensors file: {other}"),
    }
}

fn parse<'a>(bytes: &'a [u8], path: &str) -> Result<Parsed<'a>> {
    let tensors =
        SafeTensors::deserialize(bytes).map_err(|e| ferr(path, safetensors_message(&e)))?;
    let (_, meta) =
        SafeTensors::read_metadata(bytes).map_err(|e| ferr(path, safetensors_message(&e)))?;
    let Some(meta) = meta.metadata() else {
        return Err(ferr(
            path,
            "no __metadata__ in the safetensors header: not an snn model file (see \
             docs/model-format.md)",
        ));
    };
    let field = |k: &str| {
        meta.get(k)
            .ok_or_else(|| ferr(path, format!("metadata field {k:?} is missing")))
    };
    let format = field("format")?;
    if format != FORMAT_NAME {
        return Err(ferr(
            path,
            format!("metadata field \"format\" is {format:?}, expected {FORMAT_NAME:?}"),
        ));
    }
    let version = field("format_version")?;
    if version.trim() != FORMAT_VERSION.to_string() {
        return Err(ferr(
            path,
            format!(
                "metadata field \"format_version\" is {version:?}; this build reads version \
                 {FORMAT_VERSION}"
            ),
        ));
    }
    let topology: Topology = serde_json::from_str(field("topology")?)
        .map_err(|e| ferr(path, format!("metadata field \"topology\": {e}")))?;
    check_identifier(&topology.name, "model name").map_err(|e| with_path(path, e))?;
    if topology.layers.is_empty() || topology.layers.len() > MAX_LAYERS {
        return Err(ferr(
            path,
            format!(
                "topology field \"layers\" has {} entries, expected 1..={MAX_LAYERS}",
                topology.layers.len()
            ),
        ));
    }
    let unclaimed = tensors.names().into_iter().cloned().collect();
    Ok(Parsed {
        path: path.to_string(),
        topology,
        tensors,
        unclaimed,
    })
}

impl<'a> Parsed<'a> {
    /// Parses layer `i` of the topology into `T`, naming the layer on error.
    fn layer<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T> {
        let v = &self.topology.layers[i];
        let label = match v.get("name").and_then(|n| n.as_str()) {
            Some(n) => format!("layers[{i}] ({n:?})"),
            None => format!("layers[{i}]"),
        };
        serde_json::from_value(v.clone())
            .map_err(|e| ferr(&self.path, format!("topology {label}: {e}")))
    }

    /// Checks a layer's name and geometry before any of its tensors is converted, so that an
    /// absurd size is refused without allocating.
    fn check_geometry(&self, i: usize, name: &str, op: &LayerOp, bias: bool) -> Result<()> {
        check_identifier(name, &format!("topology layers[{i}] name"))
            .map_err(|e| with_path(&self.path, e))?;
        if bias && !op.has_weights() {
            return Err(ferr(
                &self.path,
                format!("layer {name:?} has \"bias\": true but no weights"),
            ));
        }
        op.output_shape()
            .map_err(|e| with_path(&self.path, prefix_layer(name, e)))?;
        if op.weight_count() > MAX_LAYER_ELEMENTS {
            return Err(ferr(
                &self.path,
                format!(
                    "layer {name:?} declares {} weights, above the limit of \
                     {MAX_LAYER_ELEMENTS}",
                    op.weight_count()
                ),
            ));
        }
        Ok(())
    }

    /// Takes tensor `name`, checking that it exists, has one of `dtypes` and exactly `shape`.
    fn take(&mut self, name: &str, dtypes: &[Dtype], shape: &[usize]) -> Result<TensorView<'a>> {
        let t = self
            .tensors
            .tensor(name)
            .map_err(|_| ferr(&self.path, format!("tensor {name} is missing")))?;
        self.unclaimed.remove(name);
        if !dtypes.contains(&t.dtype()) {
            return Err(ferr(
                &self.path,
                format!(
                    "tensor {name} has dtype {:?}, expected {}",
                    t.dtype(),
                    dtypes
                        .iter()
                        .map(|d| format!("{d:?}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        if t.shape() != shape {
            return Err(Error::shape(format!(
                "{}: tensor {name} has shape {:?}, expected {shape:?}",
                self.path,
                t.shape()
            )));
        }
        Ok(t)
    }

    fn take_f32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let path = self.path.clone();
        let t = self.take(name, &[Dtype::F32], shape)?;
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid(format!(
                "{path}: tensor {name}: value {i} is {} (NaN and infinities are refused)",
                v[i]
            )));
        }
        Ok(v)
    }

    fn take_weights_int(&mut self, name: &str, shape: &[usize], bits: u8) -> Result<Vec<i16>> {
        let path = self.path.clone();
        let t = self.take(name, &[Dtype::I16, Dtype::I8], shape)?;
        let v: Vec<i16> = match t.dtype() {
            Dtype::I8 => t.data().iter().map(|&b| b as i8 as i16).collect(),
            _ => t
                .data()
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect(),
        };
        if !(2..=16).contains(&bits) {
            return Err(Error::invalid(format!(
                "{path}: tensor {name}: weight_bits {bits} is outside 2..=16"
            )));
        }
        let lo = -(1i32 << (bits - 1));
        let hi = (1i32 << (bits - 1)) - 1;
        if let Some(i) = v.iter().position(|&w| !(lo..=hi).contains(&(w as i32))) {
            return Err(Error::invalid(format!(
                "{path}: tensor {name}: value {i} = {} is outside the {bits}-bit range \
                 [{lo}, {hi}]",
                v[i]
            )));
        }
        Ok(v)
    }

    fn take_i32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<i32>> {
        let t = self.take(name, &[Dtype::I32], shape)?;
        Ok(t.data()
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Refuses tensors that no layer claimed, and tensors of layers without weights.
    fn finish(&self) -> Result<()> {
        if let Some(extra) = self.unclaimed.iter().next() {
            return Err(ferr(
                &self.path,
                format!(
                    "unexpected tensor {extra} (no layer of the topology uses it; {} unused in \
                     all)",
                    self.unclaimed.len()
                ),
            ));
        }
        Ok(())
    }
}

fn prefix_layer(layer: &str, e: Error) -> Error {
    match e {
        Error::Shape(m) => Error::Shape(format!("layer {layer:?}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("layer {layer:?}: {m}")),
        Error::Format(m) => Error::Format(format!("layer {layer:?}: {m}")),
        Error::Io(m) => Error::Io(m),
    }
}

fn float_from(mut p: Parsed<'_>) -> Result<Model> {
    let mut layers = Vec::new();
    for i in 0..p.topology.layers.len() {
        let t: FloatLayerTopo = p.layer(i)?;
        p.check_geometry(i, &t.name, &t.op, t.bias)?;
        if let Some(n) = &t.neuron {
            n.validate()
                .map_err(|e| with_path(&p.path, prefix_layer(&t.name, e)))?;
        }
        let (weights, bias) = if t.op.has_weights() {
            let w = p.take_f32(&format!("{}.weight", t.name), &weight_shape(&t.op))?;
            let b = if t.bias {
                p.take_f32(&format!("{}.bias", t.name), &[t.op.bias_count()])?
            } else {
                Vec::new()
            };
            (w, b)
        } else {
            (Vec::new(), Vec::new())
        };
        layers.push(Layer {
            name: t.name,
            op: t.op,
            weights,
            bias,
            neuron: t.neuron,
        });
    }
    p.finish()?;
    let m = Model {
        name: p.topology.name.clone(),
        input: p.topology.input,
        timesteps: p.topology.timesteps,
        encoding: p.topology.encoding,
        layers,
    };
    m.validate().map_err(|e| with_path(&p.path, e))?;
    Ok(m)
}

fn int_from(mut p: Parsed<'_>) -> Result<IntModel> {
    let mut layers = Vec::new();
    for i in 0..p.topology.layers.len() {
        let t: IntLayerTopo = p.layer(i)?;
        p.check_geometry(i, &t.name, &t.op, t.bias)?;
        if let Some(n) = &t.neuron {
            n.validate()
                .map_err(|e| with_path(&p.path, prefix_layer(&t.name, e)))?;
        }
        if !(t.scale.is_finite() && t.scale > 0.0) {
            return Err(Error::invalid(format!(
                "{}: layer {:?}: scale {} must be finite and > 0",
                p.path, t.name, t.scale
            )));
        }
        let (weights, bias) = if t.op.has_weights() {
            let w = p.take_weights_int(
                &format!("{}.weight", t.name),
                &weight_shape(&t.op),
                t.weight_bits,
            )?;
            let b = if t.bias {
                p.take_i32(&format!("{}.bias", t.name), &[t.op.bias_count()])?
            } else {
                Vec::new()
            };
            (w, b)
        } else {
            (Vec::new(), Vec::new())
        };
        layers.push(IntLayer {
            name: t.name,
            op: t.op,
            weight_bits: t.weight_bits,
            weights,
            bias,
            scale: t.scale,
            neuron: t.neuron,
        });
    }
    p.finish()?;
    let m = IntModel {
        name: p.topology.name.clone(),
        input: p.topology.input,
        timesteps: p.topology.timesteps,
        encoding: p.topology.encoding,
        layers,
    };
    m.validate().map_err(|e| with_path(&p.path, e))?;
    Ok(m)
}

/// Loads a model of either kind.
pub fn load_any(path: impl AsRef<Path>) -> Result<AnyModel> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    load_any_bytes(&bytes, &path.display().to_string())
}

/// Loads a model of either kind from the bytes of a file; `name` labels errors.
pub fn load_any_bytes(bytes: &[u8], name: &str) -> Result<AnyModel> {
    let p = parse(bytes, name)?;
    match p.topology.kind {
        ModelKind::Float => float_from(p).map(AnyModel::Float),
        ModelKind::Int => int_from(p).map(AnyModel::Int),
    }
}

/// Loads a float model; an integer model file is an error.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    let path = path.as_ref();
    match load_any(path)? {
        AnyModel::Float(m) => Ok(m),
        AnyModel::Int(_) => Err(ferr(
            &path.display().to_string(),
            "holds an integer model, a float model was expected",
        )),
    }
}

/// Loads an integer model; a float model file is an error.
pub fn load_int_model(path: impl AsRef<Path>) -> Result<IntModel> {
    let path = path.as_ref();
    match load_any(path)? {
        AnyModel::Int(m) => Ok(m),
        AnyModel::Float(_) => Err(ferr(
            &path.display().to_string(),
            "holds a float model, an integer model was expected",
        )),
    }
}
