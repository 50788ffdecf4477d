//! Model descriptions: what a trained network *is*, independent of how it runs.
//!
//! A [`Model`] holds float weights, an [`IntModel`] the quantized integer weights that the
//! golden model and the generated hardware use. Tensors are kept in PyTorch's layout (dense
//! `[outputs][inputs]`, conv `[out_ch][in_ch][kh][kw]`) so that files written by Python tools
//! map one to one; runtimes ([`crate::network`]) and code generators re-pack them for their own
//! access patterns. Names must be safe identifiers ([`check_identifier`]): they reach Verilog.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::neuron::{IntLifParams, Neuron};

/// Largest number of neurons, inputs or weights per layer any loader accepts (checked before
/// allocating).
pub const MAX_LAYER_ELEMENTS: usize = 1 << 26;
/// Largest number of timesteps accepted.
pub const MAX_TIMESTEPS: usize = 100_000;
/// Largest number of layers accepted.
pub const MAX_LAYERS: usize = 256;

/// Shape of a spike map or input image: channels x height x width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl Shape {
    /// A flat vector of `n` values.
    pub fn flat(n: usize) -> Self {
        Shape {
            channels: n,
            height: 1,
            width: 1,
        }
    }

    /// Number of elements; saturates at `usize::MAX` instead of overflowing, so absurd shapes
    /// from files fail the size limits instead of wrapping or panicking.
    pub fn len(&self) -> usize {
        self.channels
            .checked_mul(self.height)
            .and_then(|x| x.checked_mul(self.width))
            .unwrap_or(usize::MAX)
    }

    /// True when the shape holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn checked_len(&self, what: &str) -> Result<usize> {
        let n = self
            .channels
            .checked_mul(self.height)
            .and_then(|x| x.checked_mul(self.width));
        match n {
            Some(0) => Err(Error::shape(format!("{what} has zero size"))),
            Some(n) if n <= MAX_LAYER_ELEMENTS => Ok(n),
            _ => Err(Error::shape(format!(
                "{what} {}x{}x{} exceeds the limit of {MAX_LAYER_ELEMENTS} elements",
                self.channels, self.height, self.width
            ))),
        }
    }
}

/// How input images become spikes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// Bernoulli rate coding: each pixel spikes with probability `intensity` per step.
    Rate {
        /// Seed of the generator.
        seed: u64,
    },
    /// Poisson-process rate coding: each pixel is a Poisson process binned into steps, with
    /// the rate chosen so the per-step spike probability equals the intensity
    /// ([`crate::encode::rate::poisson_u8`]).
    Poisson {
        /// Seed of the generator.
        seed: u64,
    },
    /// Latency (time-to-first-spike) coding: brighter pixels spike earlier, once.
    Latency,
    /// Analog intensities fed directly as the first layer's input current.
    Direct,
    /// Rate coding with the hardware LFSR generator, bit-exact with the on-chip encoder
    /// (see `docs/numeric-contract.md`).
    Lfsr {
        /// Seed from which every lane's state is derived.
        seed: u32,
        /// Pixels encoded per clock cycle (parallel generator lanes).
        lanes: u32,
    },
}

/// The operation of a layer, with its geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerOp {
    /// Fully connected: `inputs -> outputs`.
    Dense {
        /// Fan-in.
        inputs: usize,
        /// Number of neurons.
        outputs: usize,
    },
    /// 2-D convolution over a spike map, zero padding.
    Conv2d {
        /// Input shape.
        input: Shape,
        /// Output channels.
        out_channels: usize,
        /// Kernel height and width.
        kernel: [usize; 2],
        /// Stride (both axes).
        stride: usize,
        /// Zero padding (both axes).
        padding: usize,
    },
    /// Sum pooling over non-overlapping `kernel x kernel` windows (stride = kernel).
    SumPool2d {
        /// Input shape.
        input: Shape,
        /// Window size.
        kernel: usize,
    },
    /// Average pooling over non-overlapping windows.
    AvgPool2d {
        /// Input shape.
        input: Shape,
        /// Window size.
        kernel: usize,
    },
    /// Reshape a spike map into a vector (channel-major, as PyTorch's `flatten`).
    Flatten {
        /// Input shape.
        input: Shape,
    },
}

impl LayerOp {
    /// Output shape, validating the geometry.
    pub fn output_shape(&self) -> Result<Shape> {
        match *self {
            LayerOp::Dense { inputs, outputs } => {
                Shape::flat(inputs).checked_len("dense input")?;
                let s = Shape::flat(outputs);
                s.checked_len("dense output")?;
                Ok(s)
            }
            LayerOp::Conv2d {
                input,
                out_channels,
                kernel,
                stride,
                padding,
            } => {
                input.checked_len("conv input")?;
                if stride == 0 || kernel[0] == 0 || kernel[1] == 0 {
                    return Err(Error::shape("conv kernel and stride must be > 0"));
                }
                // Checked: padding comes from files and may be absurd.
                let padded = |x: usize| padding.checked_mul(2).and_then(|p| p.checked_add(x));
                let (Some(ph), Some(pw)) = (padded(input.height), padded(input.width)) else {
                    return Err(Error::shape(format!("conv padding {padding} is absurd")));
                };
                let h = ph.checked_sub(kernel[0]);
                let w = pw.checked_sub(kernel[1]);
                let (Some(h), Some(w)) = (h, w) else {
                    return Err(Error::shape(format!(
                        "conv kernel {}x{} larger than padded input {}x{}",
                        kernel[0], kernel[1], input.height, input.width
                    )));
                };
                let s = Shape {
                    channels: out_channels,
                    height: h / stride + 1,
                    width: w / stride + 1,
                };
                s.checked_len("conv output")?;
                Ok(s)
            }
            LayerOp::SumPool2d { input, kernel } | LayerOp::AvgPool2d { input, kernel } => {
                input.checked_len("pool input")?;
                if kernel == 0 || input.height < kernel || input.width < kernel {
                    return Err(Error::shape(format!(
                        "pool window {kernel} does not fit input {}x{}",
                        input.height, input.width
                    )));
                }
                Ok(Shape {
                    channels: input.channels,
                    height: input.height / kernel,
                    width: input.width / kernel,
                })
            }
            LayerOp::Flatten { input } => Ok(Shape::flat(input.checked_len("flatten input")?)),
        }
    }

    /// Input shape.
    pub fn input_shape(&self) -> Shape {
        match *self {
            LayerOp::Dense { inputs, .. } => Shape::flat(inputs),
            LayerOp::Conv2d { input, .. }
            | LayerOp::SumPool2d { input, .. }
            | LayerOp::AvgPool2d { input, .. }
            | LayerOp::Flatten { input } => input,
        }
    }

    /// Number of weights (0 for pooling and flatten); saturates at `usize::MAX` instead of
    /// overflowing, so absurd geometries fail the size limits.
    pub fn weight_count(&self) -> usize {
        match *self {
            LayerOp::Dense { inputs, outputs } => inputs.checked_mul(outputs),
            LayerOp::Conv2d {
                input,
                out_channels,
                kernel,
                ..
            } => out_channels
                .checked_mul(input.channels)
                .and_then(|x| x.checked_mul(kernel[0]))
                .and_then(|x| x.checked_mul(kernel[1])),
            _ => Some(0),
        }
        .unwrap_or(usize::MAX)
    }

    /// Number of biases (one per output channel or neuron; 0 for pooling and flatten).
    pub fn bias_count(&self) -> usize {
        match *self {
            LayerOp::Dense { outputs, .. } => outputs,
            LayerOp::Conv2d { out_channels, .. } => out_channels,
            _ => 0,
        }
    }

    /// Number of synapses a single input spike reaches (the fan-out used for op counts).
    pub fn has_weights(&self) -> bool {
        self.weight_count() > 0
    }
}

/// One float layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Safe identifier.
    pub name: String,
    /// Operation and geometry.
    pub op: LayerOp,
    /// Weights in PyTorch layout (empty for pooling and flatten).
    pub weights: Vec<f32>,
    /// Biases (empty when the layer has none, or for pooling and flatten).
    pub bias: Vec<f32>,
    /// The neurons after the operation (spiking, or a non-spiking readout as the last layer);
    /// `None` passes the result on unchanged.
    pub neuron: Option<Neuron>,
}

/// A float spiking network.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Safe identifier (names the generated top module).
    pub name: String,
    /// Input image shape.
    pub input: Shape,
    /// Timesteps per inference.
    pub timesteps: usize,
    /// Input encoding.
    pub encoding: Encoding,
    /// Layers in execution order.
    pub layers: Vec<Layer>,
}

/// One integer layer of the golden model.
#[derive(Clone, Debug, PartialEq)]
pub struct IntLayer {
    /// Safe identifier.
    pub name: String,
    /// Operation and geometry.
    pub op: LayerOp,
    /// Signed weight width in bits (`2..=16`).
    pub weight_bits: u8,
    /// Weights in PyTorch layout, each inside the `weight_bits` range.
    pub weights: Vec<i16>,
    /// Biases in the same scale as the weights (added every step).
    pub bias: Vec<i32>,
    /// Real value of one integer unit (`w_float ~= w_int * scale`), kept for reports.
    pub scale: f32,
    /// The integer neurons; `None` passes the accumulated currents on unchanged.
    pub neuron: Option<IntLifParams>,
}

/// A quantized integer spiking network: the golden model that the hardware must match.
#[derive(Clone, Debug, PartialEq)]
pub struct IntModel {
    /// Safe identifier.
    pub name: String,
    /// Input image shape.
    pub input: Shape,
    /// Timesteps per inference.
    pub timesteps: usize,
    /// Input encoding.
    pub encoding: Encoding,
    /// Layers in execution order.
    pub layers: Vec<IntLayer>,
}

/// Checks that `name` is a safe identifier: `[A-Za-z][A-Za-z0-9_]{0,63}`, not a Verilog or
/// SystemVerilog keyword. Names reach generated HDL, so anything else is refused.
pub fn check_identifier(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(Error::invalid(format!(
            "{what} {name:?} is not a safe identifier (letters, digits and '_', starting with a \
             letter, at most 64 characters)"
        )));
    }
    if HDL_KEYWORDS.contains(&name) {
        return Err(Error::invalid(format!(
            "{what} {name:?} is a Verilog keyword"
        )));
    }
    Ok(())
}

const HDL_KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "automatic",
    "begin",
    "buf",
    "case",
    "casex",
    "casez",
    "cell",
    "cmos",
    "config",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "if",
    "initial",
    "inout",
    "input",
    "integer",
    "join",
    "localparam",
    "logic",
    "macromodule",
    "module",
    "nand",
    "negedge",
    "nor",
    "not",
    "or",
    "output",
    "parameter",
    "posedge",
    "reg",
    "repeat",
    "signed",
    "specify",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tri",
    "unsigned",
    "wait",
    "while",
    "wire",
    "wor",
    "xor",
    "bit",
    "byte",
    "int",
    "interface",
    "package",
    "class",
    "string",
    "type",
    "void",
];

fn check_common(
    name: &str,
    input: Shape,
    timesteps: usize,
    layers: &[(&str, LayerOp, bool)],
) -> Result<Vec<Shape>> {
    check_identifier(name, "model name")?;
    if timesteps == 0 || timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is outside 1..={MAX_TIMESTEPS}"
        )));
    }
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        return Err(Error::invalid(format!(
            "a model needs 1..={MAX_LAYERS} layers, got {}",
            layers.len()
        )));
    }
    input.checked_len("model input")?;
    let mut shapes = vec![input];
    let mut seen = std::collections::HashSet::new();
    for (lname, op, _) in layers {
        check_identifier(lname, "layer name")?;
        if !seen.insert(*lname) {
            return Err(Error::invalid(format!("duplicate layer name {lname:?}")));
        }
        let prev = *shapes.last().unwrap();
        let expect = op.input_shape();
        if expect.len() != prev.len() || (!matches!(op, LayerOp::Dense { .. }) && expect != prev) {
            return Err(Error::shape(format!(
                "layer {lname:?} expects input {}x{}x{}, previous layer gives {}x{}x{}",
                expect.channels,
                expect.height,
                expect.width,
                prev.channels,
                prev.height,
                prev.width
            )));
        }
        if op.weight_count() > MAX_LAYER_ELEMENTS {
            return Err(Error::shape(format!(
                "layer {lname:?} has {} weights, above the limit of {MAX_LAYER_ELEMENTS}",
                op.weight_count()
            )));
        }
        shapes.push(op.output_shape().map_err(|e| prefix(lname, e))?);
    }
    if !layers.last().unwrap().2 {
        return Err(Error::invalid("the last layer must have spiking neurons"));
    }
    Ok(shapes)
}

fn prefix(layer: &str, e: Error) -> Error {
    match e {
        Error::Shape(m) => Error::Shape(format!("layer {layer:?}: {m}")),
        Error::Invalid(m) => Error::Invalid(format!("layer {layer:?}: {m}")),
        Error::Format(m) => Error::Format(format!("layer {layer:?}: {m}")),
        Error::Io(m) => Error::Io(m),
    }
}

impl Model {
    /// Validates names, shapes, tensor sizes, finiteness and neuron parameters. Returns the
    /// shape after every layer (the first entry is the input shape).
    pub fn validate(&self) -> Result<Vec<Shape>> {
        let ops: Vec<_> = self
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.op, l.neuron.is_some()))
            .collect();
        let shapes = check_common(&self.name, self.input, self.timesteps, &ops)?;
        for (i, l) in self.layers.iter().enumerate() {
            let p = |e| prefix(&l.name, e);
            if l.weights.len() != l.op.weight_count() {
                return Err(p(Error::shape(format!(
                    "weight has {} values, expected {}",
                    l.weights.len(),
                    l.op.weight_count()
                ))));
            }
            if !l.bias.is_empty() && l.bias.len() != l.op.bias_count() {
                return Err(p(Error::shape(format!(
                    "bias has {} values, expected {}",
                    l.bias.len(),
                    l.op.bias_count()
                ))));
            }
            if let Some(i) = l.weights.iter().chain(&l.bias).position(|x| !x.is_finite()) {
                return Err(p(Error::invalid(format!(
                    "weight or bias value {i} is NaN or infinite"
                ))));
            }
            if let Some(n) = &l.neuron {
                n.validate().map_err(p)?;
                if let Neuron::PerNeuron(pn) = n {
                    pn.validate(shapes[i + 1].len()).map_err(p)?;
                }
                if !n.is_spiking() && i + 1 != self.layers.len() {
                    return Err(p(Error::invalid(
                        "a non-spiking readout (leaky integrator) must be the last layer: its \
                         output is a membrane potential, and the layers after it consume spikes",
                    )));
                }
            }
        }
        Ok(shapes)
    }
}

impl IntModel {
    /// Validates names, shapes, tensor sizes, value ranges and neuron parameters, and that no
    /// accumulator can overflow. Returns the shape after every layer.
    pub fn validate(&self) -> Result<Vec<Shape>> {
        let ops: Vec<_> = self
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.op, l.neuron.is_some()))
            .collect();
        let shapes = check_common(&self.name, self.input, self.timesteps, &ops)?;
        for l in &self.layers {
            let p = |e| prefix(&l.name, e);
            if l.op.has_weights() && !(2..=16).contains(&l.weight_bits) {
                return Err(p(Error::invalid(format!(
                    "weight width {} bits is outside 2..=16",
                    l.weight_bits
                ))));
            }
            if l.weights.len() != l.op.weight_count() {
                return Err(p(Error::shape(format!(
                    "weight has {} values, expected {}",
                    l.weights.len(),
                    l.op.weight_count()
                ))));
            }
            if !l.bias.is_empty() && l.bias.len() != l.op.bias_count() {
                return Err(p(Error::shape(format!(
                    "bias has {} values, expected {}",
                    l.bias.len(),
                    l.op.bias_count()
                ))));
            }
            if l.op.has_weights() {
                let lo = -(1i32 << (l.weight_bits - 1));
                let hi = (1i32 << (l.weight_bits - 1)) - 1;
                if let Some(i) = l
                    .weights
                    .iter()
                    .position(|&w| !(lo..=hi).contains(&(w as i32)))
                {
                    return Err(p(Error::invalid(format!(
                        "weight {i} = {} is outside the {}-bit range",
                        l.weights[i], l.weight_bits
                    ))));
                }
            }
            if let Some(n) = &l.neuron {
                n.validate().map_err(p)?;
                if let Some(&b) = l.bias.iter().find(|b| (**b as i64).abs() > n.v_max()) {
                    return Err(p(Error::invalid(format!(
                        "bias {b} does not fit the {}-bit membrane",
                        n.membrane_bits
                    ))));
                }
            }
            if !(l.scale.is_finite() && l.scale > 0.0) {
                return Err(p(Error::invalid(format!(
                    "scale {} must be finite and > 0",
                    l.scale
                ))));
            }
        }
        Ok(shapes)
    }
}

/// Width of an accumulator that can hold `b + sum of up to fan_in weights` of `weight_bits`
/// bits without overflow: `weight_bits + ceil(log2(fan_in + 1)) + 1`.
pub fn accumulator_bits(weight_bits: u8, fan_in: usize) -> u32 {
    let log = usize::BITS - fan_in.leading_zeros(); // ceil(log2(fan_in + 1))
    weight_bits as u32 + log + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(check_identifier("fc1", "x").is_ok());
        assert!(check_identifier("1fc", "x").is_err());
        assert!(check_identifier("a;b", "x").is_err());
        assert!(check_identifier("module", "x").is_err());
        assert!(check_identifier("", "x").is_err());
        assert!(check_identifier("a\nmodule evil", "x").is_err());
    }

    #[test]
    fn accumulator_width() {
        // 8-bit weights, fan-in 784: ceil(log2(785)) = 10, so 8 + 10 + 1 = 19.
        assert_eq!(accumulator_bits(8, 784), 19);
        assert_eq!(accumulator_bits(8, 1), 10);
        assert_eq!(accumulator_bits(8, 3), 11);
    }

    #[test]
    fn absurd_sizes_saturate_instead_of_overflowing() {
        let s = Shape {
            channels: usize::MAX,
            height: 2,
            width: 2,
        };
        assert_eq!(s.len(), usize::MAX);
        let d = LayerOp::Dense {
            inputs: usize::MAX / 2,
            outputs: 3,
        };
        assert_eq!(d.weight_count(), usize::MAX);
        let c = LayerOp::Conv2d {
            input: Shape {
                channels: 1,
                height: 4,
                width: 4,
            },
            out_channels: 1,
            kernel: [3, 3],
            stride: 1,
            padding: usize::MAX / 2 + 1,
        };
        assert!(c.output_shape().is_err());
    }

    #[test]
    fn conv_shapes() {
        let op = LayerOp::Conv2d {
            input: Shape {
                channels: 1,
                height: 28,
                width: 28,
            },
            out_channels: 8,
            kernel: [5, 5],
            stride: 1,
            padding: 2,
        };
        assert_eq!(
            op.output_shape().unwrap(),
            Shape {
                channels: 8,
                height: 28,
                width: 28
            }
        );
    }
}
