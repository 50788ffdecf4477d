//! Model files: one safetensors file per model, tensors plus the topology as JSON metadata.
//!
//! The schema is documented in `docs/model-format.md` (with a Python reader/writer). In short:
//! the safetensors header's `__metadata__` holds `format = "snn-model"`,
//! `format_version = "1"` and `topology`, a JSON document with the model's name, input shape,
//! timesteps, encoding and one entry per layer (operation and geometry, whether it has a bias,
//! its neuron parameters, and for integer models its weight width and scale). Every layer with
//! weights stores `<layer>.weight` in PyTorch layout and, when it has a bias, `<layer>.bias`.
//! Float models use `F32`; integer models `I16` weights (`I8` is also accepted when reading)
//! and `I32` biases. A float layer with `"per_neuron": true` also stores its neurons' decays and
//! thresholds as `<layer>.beta`, `<layer>.threshold` (spiking neurons) and `<layer>.alpha`
//! (current-based neurons), one `F32` value per neuron.
//!
//! Loading trusts nothing: the file size is checked before it is read, the topology before any
//! tensor is converted, and every tensor's presence, dtype, shape and values are checked with a
//! message that names the file and the tensor or field. Saving validates the model first and
//! writes through a temporary file that is renamed into place, so a failed save never leaves a
//! partial file.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{
    IntLayer, IntModel, Layer, LayerOp, MAX_LAYER_ELEMENTS, MAX_LAYERS, Model, Shape,
    check_identifier,
};
use crate::neuron::{IntLifParams, Neuron, PerNeuron};

/// Value of the `format` metadata key.
pub const FORMAT_NAME: &str = "snn-model";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest model file accepted, checked before the file is read (1 GiB). The other model limits
/// are in [`crate::limits`].
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
    /// The neuron's `beta`, `threshold` and `alpha` are per-neuron tensors
    /// (`<layer>.beta`, ...), replacing the scalars of `neuron`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    per_neuron: bool,
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

/// Byte width of one element of `dtype` (only the dtypes this module writes).
fn dtype_size(dtype: Dtype) -> usize {
    match dtype {
        Dtype::I8 | Dtype::U8 => 1,
        Dtype::I16 => 2,
        Dtype::I64 | Dtype::F64 => 8,
        _ => 4,
    }
}

/// Encodes a safetensors file byte-deterministically: the same model gives the same bytes.
///
/// `safetensors::serialize` takes its metadata as a `HashMap`, whose iteration order changes
/// from run to run, so files of one model differed byte for byte. This writer emits the
/// header with a fixed key order (`__metadata__` first, its keys sorted, then tensors in data
/// order) and lays tensors out like `safetensors::serialize` does (widest dtype first, then by
/// name, so every tensor is aligned to its element size), padding the header with spaces to a
/// multiple of 8 bytes. The result is read back by `SafeTensors::deserialize` in the tests.
fn encode_file(name: &str, topology: &Topology, mut tensors: Vec<OwnedTensor>) -> Result<Vec<u8>> {
    use std::collections::BTreeMap;
    let topo = serde_json::to_string(topology)
        .map_err(|e| Error::invalid(format!("{name}: cannot encode topology: {e}")))?;
    let meta: BTreeMap<&str, String> = [
        ("format", FORMAT_NAME.to_string()),
        ("format_version", FORMAT_VERSION.to_string()),
        ("topology", topo),
    ]
    .into_iter()
    .collect();
    tensors.sort_by(|a, b| {
        dtype_size(b.dtype)
            .cmp(&dtype_size(a.dtype))
            .then_with(|| a.name.cmp(&b.name))
    });
    // Build the header text by hand so that the key order cannot depend on serde_json's map
    // type (BTreeMap or, with its `preserve_order` feature, insertion order).
    let mut header = String::from("{\"__metadata__\":");
    header.push_str(&to_json(&meta, name)?);
    let mut offset = 0usize;
    for t in &tensors {
        let count: usize = t.shape.iter().product();
        if t.data.len() != count * dtype_size(t.dtype) {
            return Err(Error::invalid(format!(
                "{name}: tensor {}: {} bytes do not match shape {:?}",
                t.name,
                t.data.len(),
                t.shape
            )));
        }
        let end = offset + t.data.len();
        header.push(',');
        header.push_str(&to_json(&t.name, name)?);
        header.push_str(":{\"dtype\":");
        header.push_str(&to_json(&t.dtype, name)?);
        header.push_str(",\"shape\":");
        header.push_str(&to_json(&t.shape, name)?);
        header.push_str(&format!(",\"data_offsets\":[{offset},{end}]}}"));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for t in &tensors {
        out.extend_from_slice(&t.data);
    }
    Ok(out)
}

/// One piece of the header as compact JSON.
fn to_json<T: Serialize + ?Sized>(v: &T, file: &str) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| Error::invalid(format!("{file}: cannot encode the header: {e}")))
}

fn write_file(path: &Path, topology: &Topology, tensors: Vec<OwnedTensor>) -> Result<()> {
    let bytes = encode_file(&path.display().to_string(), topology, tensors)?;
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
    let (topology, tensors) = float_parts(model, &path.display().to_string())?;
    write_file(path, &topology, tensors)
}

/// The topology and tensors of a float model, validated first.
fn float_parts(model: &Model, pname: &str) -> Result<(Topology, Vec<OwnedTensor>)> {
    model.validate().map_err(|e| with_path(pname, e))?;
    let ops: Vec<_> = model
        .layers
        .iter()
        .map(|l| (l.op, !l.bias.is_empty()))
        .collect();
    crate::limits::check_model_size(model.input, &ops, model.timesteps)
        .map_err(|e| with_path(pname, e))?;
    let mut layers = Vec::new();
    let mut tensors = Vec::new();
    for l in &model.layers {
        let topo = FloatLayerTopo {
            name: l.name.clone(),
            op: l.op,
            bias: !l.bias.is_empty(),
            neuron: l.neuron.as_ref().map(|n| n.base().clone()),
            per_neuron: matches!(l.neuron, Some(Neuron::PerNeuron(_))),
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
        if let Some(Neuron::PerNeuron(p)) = &l.neuron {
            for (what, v) in p.vectors() {
                tensors.push(OwnedTensor {
                    name: format!("{}.{what}", l.name),
                    dtype: Dtype::F32,
                    shape: vec![v.len()],
                    data: le_bytes_f32(v),
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
    Ok((topology, tensors))
}

/// Saves an integer model. The model is validated first; nothing is written when it is invalid.
pub fn save_int_model(model: &IntModel, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let (topology, tensors) = int_parts(model, &path.display().to_string())?;
    write_file(path, &topology, tensors)
}

/// The topology and tensors of an integer model, validated first.
fn int_parts(model: &IntModel, pname: &str) -> Result<(Topology, Vec<OwnedTensor>)> {
    model.validate().map_err(|e| with_path(pname, e))?;
    let ops: Vec<_> = model
        .layers
        .iter()
        .map(|l| (l.op, !l.bias.is_empty()))
        .collect();
    crate::limits::check_model_size(model.input, &ops, model.timesteps)
        .map_err(|e| with_path(pname, e))?;
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
    Ok((topology, tensors))
}

/// The bytes of a model file for `model`, exactly what [`save_any`] writes: the model is
/// validated first, and the same model always gives the same bytes.
pub fn model_bytes(model: &AnyModel) -> Result<Vec<u8>> {
    let name = format!("model {:?}", model.name());
    let (topology, tensors) = match model {
        AnyModel::Float(m) => float_parts(m, &name)?,
        AnyModel::Int(m) => int_parts(m, &name)?,
    };
    encode_file(&name, &topology, tensors)
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
    let text = field("topology")?;
    let topology: Topology = serde_json::from_str(text).map_err(|e| {
        ferr(
            path,
            format!("metadata field \"topology\": {e}{}", json_context(text, &e)),
        )
    })?;
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

/// The JSON text around a parse error, so that the message shows the offending field (serde
/// only gives a line and column, e.g. for a `NaN` that Python's `json.dumps` writes).
fn json_context(text: &str, e: &serde_json::Error) -> String {
    let Some(line) = text.lines().nth(e.line().saturating_sub(1)) else {
        return String::new();
    };
    let chars: Vec<char> = line.chars().collect();
    let col = e.column().min(chars.len());
    let from = col.saturating_sub(40);
    let to = (col + 10).min(chars.len());
    let snippet: String = chars[from..to]
        .iter()
        .map(|&c| if c.is_control() { ' ' } else { c })
        .collect();
    if snippet.trim().is_empty() {
        String::new()
    } else {
        format!(" (near `{snippet}`)")
    }
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
        let neuron = match t.neuron {
            Some(base) if t.per_neuron => {
                // Geometry was checked above, so the size is bounded.
                let n = t.op.output_shape()?.len();
                let mut take = |what: &str, needed: bool| -> Result<Vec<f32>> {
                    if needed {
                        p.take_f32(&format!("{}.{what}", t.name), &[n])
                    } else {
                        Ok(Vec::new())
                    }
                };
                let beta = take("beta", true)?;
                let threshold = take("threshold", base.is_spiking())?;
                let alpha = take("alpha", base.has_synaptic_current())?;
                let pn = PerNeuron::new(base, beta, threshold, alpha);
                pn.validate(n)
                    .map_err(|e| with_path(&p.path, prefix_layer(&t.name, e)))?;
                Some(Neuron::PerNeuron(Box::new(pn)))
            }
            None if t.per_neuron => {
                return Err(ferr(
                    &p.path,
                    format!("layer {:?} has \"per_neuron\": true but no neuron", t.name),
                ));
            }
            n => n,
        };
        layers.push(Layer {
            name: t.name,
            op: t.op,
            weights,
            bias,
            neuron,
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
    // Totals first, from the topology alone: the size limits hold before any tensor is
    // converted (a malformed layer entry is skipped here and reported by its own check).
    let ops: Vec<(LayerOp, bool)> = p
        .topology
        .layers
        .iter()
        .filter_map(|v| {
            let op = serde_json::from_value(v.get("op")?.clone()).ok()?;
            Some((op, v.get("bias").and_then(|b| b.as_bool()).unwrap_or(false)))
        })
        .collect();
    crate::limits::check_model_size(p.topology.input, &ops, p.topology.timesteps)
        .map_err(|e| with_path(name, e))?;
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
