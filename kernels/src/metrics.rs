//! Evaluation metrics from real spikes: synaptic operations, ANN MACs, memory cost, energy.
//!
//! The metrics follow the seed article's comparison of SNNs and ANNs (Deng et al., "Rethinking
//! the performance comparison between SNNs and ANNs"), made precise here:
//!
//! - **Synaptic operations** (`synaptic_ops`): the additions the accumulate-only runtime
//!   performs. Every input spike of a weighted layer adds one weight per synapse it reaches, so a
//!   layer performs `sum over steps, sum over active inputs j of fan_out(j)` additions. A dense
//!   layer's fan-out is its number of outputs; a convolution's fan-out is the number of output
//!   positions and channels whose window actually contains `j` (fewer at the borders); a pooling
//!   layer adds each input spike once into its window (0 for inputs outside every window). The
//!   per-step bias additions are not synaptic operations and are not counted.
//! - Layers whose input is analog (direct encoding, or after a layer without neurons) multiply
//!   every input by its weights every step: they are counted as `analog_macs`, not as additions.
//! - **ANN MACs** (`ann_macs`): the multiply-accumulates of the same network run once as an ANN:
//!   one per connection (dense `inputs x outputs`; convolution: the in-bounds window taps, i.e.
//!   the synaptic ops of a fully active input). Pooling and flatten count 0.
//! - **Memory** (`memory_bits`): weights (and biases, and per-neuron decays and thresholds when a
//!   float layer has them), membrane potentials (one per neuron; two state variables for
//!   current-based LIF and current-based readouts) and the peak spike memory: the largest number of
//!   spikes present in one timestep over the whole network (input spikes included), one bit
//!   each, over all evaluated samples. Float models count 32 bits per value; integer models
//!   their declared weight and membrane widths (biases at the membrane width).
//! - **Energy**: `E_snn = synaptic_ops * E_AC + analog_macs * E_MAC`,
//!   `E_ann = ann_macs * E_MAC`, with `E_AC = 0.9 pJ` and `E_MAC = 4.6 pJ` by default
//!   (Horowitz, ISSCC 2014, 45 nm, fp32), overridable ([`EnergyModel`]).
//!
//! Metrics are accumulated sample by sample ([`MetricsAccumulator::add_trace`]) from the spike
//! trains that a run recorded ([`crate::network::Run::trace`], one per layer with neurons), and
//! reported as means per inference ([`Metrics`]).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Encoding, IntModel, LayerOp, Model, Shape};
use crate::neuron::Neuron;
use crate::spikes::{SpikeTrain, for_each_set_bit};

/// Default energy of one addition, in picojoules (Horowitz 2014, 45 nm, fp32 add).
pub const E_AC_PJ: f64 = 0.9;
/// Default energy of one multiply-accumulate, in picojoules (Horowitz 2014, 45 nm, fp32).
pub const E_MAC_PJ: f64 = 4.6;

/// Energy per operation used for the estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EnergyModel {
    /// Energy of one accumulate (addition), pJ.
    pub e_ac_pj: f64,
    /// Energy of one multiply-accumulate, pJ.
    pub e_mac_pj: f64,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel {
            e_ac_pj: E_AC_PJ,
            e_mac_pj: E_MAC_PJ,
        }
    }
}

impl EnergyModel {
    /// Checks that both energies are finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("E_AC", self.e_ac_pj), ("E_MAC", self.e_mac_pj)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(format!(
                    "{name} = {v} pJ must be finite and >= 0"
                )));
            }
        }
        Ok(())
    }
}

/// What the metrics need to know about one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerDesc {
    /// Layer name.
    pub name: String,
    /// Operation and geometry.
    pub op: LayerOp,
    /// Bits per stored weight.
    pub weight_bits: u32,
    /// Number of stored biases (plus per-neuron neuron parameters, for float layers that have
    /// them).
    pub biases: usize,
    /// Bits per stored bias.
    pub bias_bits: u32,
    /// Bits per membrane state variable, `None` when the layer has no neurons.
    pub membrane_bits: Option<u32>,
    /// State variables per neuron (1 for LIF, 2 for current-based LIF).
    pub state_vars: u32,
}

/// The network as the metrics see it: geometry and storage widths, no weights.
#[derive(Clone, Debug, PartialEq)]
pub struct NetDesc {
    /// Input shape.
    pub input: Shape,
    /// Timesteps per inference.
    pub timesteps: usize,
    /// True when the input is analog (direct encoding), false for spikes.
    pub analog_input: bool,
    /// Layers in execution order.
    pub layers: Vec<LayerDesc>,
}

impl NetDesc {
    /// Describes a float model (32-bit weights, biases and membranes).
    pub fn from_model(m: &Model) -> Self {
        NetDesc {
            input: m.input,
            timesteps: m.timesteps,
            analog_input: matches!(m.encoding, Encoding::Direct),
            layers: m
                .layers
                .iter()
                .map(|l| LayerDesc {
                    name: l.name.clone(),
                    op: l.op,
                    weight_bits: 32,
                    // Per-neuron decays and thresholds are stored parameters too (32 bits
                    // each), counted with the biases.
                    biases: l.bias.len()
                        + match &l.neuron {
                            Some(Neuron::PerNeuron(p)) => {
                                p.vectors().iter().map(|(_, v)| v.len()).sum()
                            }
                            _ => 0,
                        },
                    bias_bits: 32,
                    membrane_bits: l.neuron.as_ref().map(|_| 32),
                    state_vars: l.neuron.as_ref().map_or(1, Neuron::state_vars),
                })
                .collect(),
        }
    }

    /// Describes an integer model with its declared widths.
    pub fn from_int_model(m: &IntModel) -> Self {
        NetDesc {
            input: m.input,
            timesteps: m.timesteps,
            analog_input: matches!(m.encoding, Encoding::Direct),
            layers: m
                .layers
                .iter()
                .map(|l| LayerDesc {
                    name: l.name.clone(),
                    op: l.op,
                    weight_bits: l.weight_bits as u32,
                    biases: l.bias.len(),
                    bias_bits: l.neuron.map_or(32, |n| n.membrane_bits as u32),
                    membrane_bits: l.neuron.map(|n| n.membrane_bits as u32),
                    state_vars: match l.neuron {
                        Some(n) if n.syn_leak.is_some() => 2,
                        _ => 1,
                    },
                })
                .collect(),
        }
    }

    /// Number of layers with neurons (the traces a run records).
    pub fn spiking_layers(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| l.membrane_bits.is_some())
            .count()
    }
}

/// For a 1-D axis of `n` inputs, the number of (output position, kernel tap) pairs that read
/// each input: `oy * stride + ky - padding == y`, `oy < out`, `ky < k`.
fn axis_fan(n: usize, k: usize, stride: usize, padding: usize, out: usize) -> Vec<u64> {
    let mut fan = vec![0u64; n];
    for o in 0..out {
        for kk in 0..k {
            // Position in padded coordinates; inputs live at padding..padding + n.
            let p = o * stride + kk;
            if p >= padding && p - padding < n {
                fan[p - padding] += 1;
            }
        }
    }
    fan
}

/// Fan-out of every input neuron of a layer (flat index, channel-major), i.e. the number of
/// additions one spike on that input causes. Empty for flatten (no work).
pub fn fan_out(op: &LayerOp) -> Result<Vec<u64>> {
    let out = op.output_shape()?;
    Ok(match *op {
        LayerOp::Dense { inputs, outputs } => vec![outputs as u64; inputs],
        LayerOp::Conv2d {
            input,
            out_channels,
            kernel,
            stride,
            padding,
        } => {
            let fy = axis_fan(input.height, kernel[0], stride, padding, out.height);
            let fx = axis_fan(input.width, kernel[1], stride, padding, out.width);
            let mut f = Vec::with_capacity(input.len());
            for _ in 0..input.channels {
                for &a in &fy {
                    for &b in &fx {
                        f.push(a * b * out_channels as u64);
                    }
                }
            }
            f
        }
        LayerOp::SumPool2d { input, kernel } | LayerOp::AvgPool2d { input, kernel } => {
            let mut f = Vec::with_capacity(input.len());
            for _ in 0..input.channels {
                for y in 0..input.height {
                    for x in 0..input.width {
                        let inside = y < out.height * kernel && x < out.width * kernel;
                        f.push(inside as u64);
                    }
                }
            }
            f
        }
        LayerOp::Flatten { .. } => Vec::new(),
    })
}

/// Per-layer metrics, means per inference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerMetrics {
    /// Layer name.
    pub name: String,
    /// Operation type (`dense`, `conv2d`, ...).
    pub op: String,
    /// Neurons (0 for layers without neurons).
    pub neurons: usize,
    /// Input spikes per inference (0 when the input is analog).
    pub input_spikes: f64,
    /// Additions per inference from input spikes.
    pub synaptic_ops: f64,
    /// Multiply-accumulates per inference on analog input.
    pub analog_macs: f64,
    /// Multiply-accumulates of this layer run once as an ANN.
    pub ann_macs: u64,
    /// Output spikes per neuron per step (`None` for layers without neurons).
    pub spike_rate: Option<f64>,
}

/// The memory cost, in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MemoryBits {
    /// Weights and biases.
    pub weights: u64,
    /// Membrane potentials (and synaptic currents).
    pub membranes: u64,
    /// Largest number of spikes in one timestep over the network, one bit each.
    pub peak_spikes: u64,
    /// Sum of the three.
    pub total: u64,
}

/// The energy estimate per inference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Energy {
    /// The per-operation energies the estimate was computed with.
    pub model: EnergyModel,
    /// `synaptic_ops * E_AC + analog_macs * E_MAC`, pJ per inference.
    pub snn_pj: f64,
    /// `ann_macs * E_MAC`, pJ per inference.
    pub ann_pj: f64,
    /// `ann_pj / snn_pj` (infinite when the SNN used no energy).
    pub ann_over_snn: f64,
}

/// Metrics of an evaluation, means per inference over `samples`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// Samples accumulated.
    pub samples: usize,
    /// Timesteps per inference.
    pub timesteps: usize,
    /// Input spikes per input neuron per step (`None` for analog input).
    pub input_spike_rate: Option<f64>,
    /// Per-layer metrics, in model order.
    pub layers: Vec<LayerMetrics>,
    /// Additions per inference, all layers.
    pub synaptic_ops: f64,
    /// Additions over all samples (exact integer).
    pub synaptic_ops_sum: u64,
    /// Analog multiply-accumulates per inference, all layers.
    pub analog_macs: f64,
    /// Multiply-accumulates of the same network as an ANN, per inference.
    pub ann_macs: u64,
    /// Memory cost.
    pub memory_bits: MemoryBits,
    /// Energy estimate.
    pub energy: Energy,
}

/// Accumulates metrics over samples.
#[derive(Clone, Debug)]
pub struct MetricsAccumulator {
    desc: NetDesc,
    fans: Vec<Vec<u64>>,
    samples: usize,
    input_spikes_total: u64,
    layer_in_spikes: Vec<u64>,
    layer_ops: Vec<u64>,
    layer_macs: Vec<u64>,
    layer_out_spikes: Vec<u64>,
    peak_step_spikes: u64,
}

fn op_name(op: &LayerOp) -> &'static str {
    match op {
        LayerOp::Dense { .. } => "dense",
        LayerOp::Conv2d { .. } => "conv2d",
        LayerOp::SumPool2d { .. } => "sum_pool2d",
        LayerOp::AvgPool2d { .. } => "avg_pool2d",
        LayerOp::Flatten { .. } => "flatten",
    }
}

impl MetricsAccumulator {
    /// Prepares the fan-out tables of `desc` (the layer geometry must be valid).
    pub fn new(desc: NetDesc) -> Result<Self> {
        let fans = desc
            .layers
            .iter()
            .map(|l| fan_out(&l.op))
            .collect::<Result<Vec<_>>>()?;
        let n = desc.layers.len();
        Ok(MetricsAccumulator {
            desc,
            fans,
            samples: 0,
            input_spikes_total: 0,
            layer_in_spikes: vec![0; n],
            layer_ops: vec![0; n],
            layer_macs: vec![0; n],
            layer_out_spikes: vec![0; n],
            peak_step_spikes: 0,
        })
    }

    /// The network description the fan-out tables were built from.
    pub fn desc(&self) -> &NetDesc {
        &self.desc
    }

    /// Adds one sample: its input spikes (`None` for analog input) and the output spike train
    /// of every layer with neurons, in model order (what [`crate::network::Run::trace`] holds).
    pub fn add_trace(&mut self, input: Option<&SpikeTrain>, layers: &[&SpikeTrain]) -> Result<()> {
        let d = &self.desc;
        let steps = d.timesteps;
        if layers.len() != d.spiking_layers() {
            return Err(Error::shape(format!(
                "metrics need {} layer traces, got {}",
                d.spiking_layers(),
                layers.len()
            )));
        }
        match (input, d.analog_input) {
            (Some(t), false) => {
                if t.neurons() != d.input.len() || t.steps() != steps {
                    return Err(Error::shape(format!(
                        "input spike train is {} steps x {} neurons, expected {steps} x {}",
                        t.steps(),
                        t.neurons(),
                        d.input.len()
                    )));
                }
            }
            (None, true) => {}
            (Some(_), true) => return Err(Error::invalid("analog-input model given input spikes")),
            (None, false) => {
                return Err(Error::invalid("spiking-input model given no input spikes"));
            }
        }
        // Check every trace before changing any total.
        let mut k = 0;
        for l in &d.layers {
            if l.membrane_bits.is_some() {
                let n = l.op.output_shape()?.len();
                let t = layers[k];
                if t.neurons() != n || t.steps() != steps {
                    return Err(Error::shape(format!(
                        "trace of layer {:?} is {} steps x {} neurons, expected {steps} x {n}",
                        l.name,
                        t.steps(),
                        t.neurons()
                    )));
                }
                k += 1;
            }
        }
        let mut step_spikes = vec![0u64; steps];
        // The current source of spikes: None = analog values.
        let mut source: Option<&SpikeTrain> = input;
        if let Some(t) = input {
            for (s, c) in step_spikes.iter_mut().enumerate() {
                *c += crate::spikes::count_ones(t.row(s)) as u64;
            }
            self.input_spikes_total += t.count() as u64;
        }
        let mut k = 0;
        for (li, l) in d.layers.iter().enumerate() {
            let fan = &self.fans[li];
            if !matches!(l.op, LayerOp::Flatten { .. }) {
                match source {
                    Some(t) => {
                        let mut ops = 0u64;
                        let mut spikes = 0u64;
                        for s in 0..steps {
                            for_each_set_bit(t.row(s), |j| {
                                ops += fan[j];
                                spikes += 1;
                            });
                        }
                        self.layer_ops[li] += ops;
                        self.layer_in_spikes[li] += spikes;
                    }
                    None => {
                        let per_step: u64 = fan.iter().sum();
                        match l.op {
                            // Pooling analog values is additions, not multiplications.
                            LayerOp::SumPool2d { .. } | LayerOp::AvgPool2d { .. } => {
                                self.layer_ops[li] += per_step * steps as u64
                            }
                            _ => self.layer_macs[li] += per_step * steps as u64,
                        }
                    }
                }
            }
            if l.membrane_bits.is_some() {
                let t = layers[k];
                k += 1;
                for (s, c) in step_spikes.iter_mut().enumerate() {
                    *c += crate::spikes::count_ones(t.row(s)) as u64;
                }
                self.layer_out_spikes[li] += t.count() as u64;
                source = Some(t);
            } else if !matches!(l.op, LayerOp::Flatten { .. }) {
                // A weighted or pooling layer without neurons passes on analog values.
                source = None;
            }
        }
        self.peak_step_spikes = self
            .peak_step_spikes
            .max(step_spikes.into_iter().max().unwrap_or(0));
        self.samples += 1;
        Ok(())
    }

    /// Adds one sample from a run that recorded its trace (`record = true`).
    pub fn add_run<V>(
        &mut self,
        input: Option<&SpikeTrain>,
        run: &crate::network::Run<V>,
    ) -> Result<()> {
        let Some(trace) = &run.trace else {
            return Err(Error::invalid(
                "metrics need a recorded trace: run with record = true",
            ));
        };
        let layers: Vec<&SpikeTrain> = trace.iter().map(|t| &t.spikes).collect();
        self.add_trace(input, &layers)
    }

    /// Merges another accumulator of the same network (for parallel evaluation).
    pub fn merge(&mut self, other: &MetricsAccumulator) -> Result<()> {
        if self.desc != other.desc {
            return Err(Error::invalid("cannot merge metrics of different networks"));
        }
        self.samples += other.samples;
        self.input_spikes_total += other.input_spikes_total;
        for (a, b) in [
            (&mut self.layer_in_spikes, &other.layer_in_spikes),
            (&mut self.layer_ops, &other.layer_ops),
            (&mut self.layer_macs, &other.layer_macs),
            (&mut self.layer_out_spikes, &other.layer_out_spikes),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.peak_step_spikes = self.peak_step_spikes.max(other.peak_step_spikes);
        Ok(())
    }

    /// Samples accumulated so far.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The metrics, means per inference, with the given energy constants.
    pub fn finish(&self, energy: EnergyModel) -> Result<Metrics> {
        energy.validate()?;
        if self.samples == 0 {
            return Err(Error::invalid("metrics need at least one sample"));
        }
        let d = &self.desc;
        let n = self.samples as f64;
        let steps = d.timesteps as f64;
        let mut layers = Vec::new();
        let (mut weights, mut membranes) = (0u64, 0u64);
        let mut ann_total = 0u64;
        for (li, l) in d.layers.iter().enumerate() {
            let neurons = match l.membrane_bits {
                Some(_) => l.op.output_shape()?.len(),
                None => 0,
            };
            let ann = match l.op {
                LayerOp::Dense { .. } | LayerOp::Conv2d { .. } => self.fans[li].iter().sum(),
                _ => 0,
            };
            ann_total += ann;
            weights += l.op.weight_count() as u64 * l.weight_bits as u64
                + l.biases as u64 * l.bias_bits as u64;
            if let Some(b) = l.membrane_bits {
                membranes += neurons as u64 * b as u64 * l.state_vars as u64;
            }
            layers.push(LayerMetrics {
                name: l.name.clone(),
                op: op_name(&l.op).to_string(),
                neurons,
                input_spikes: self.layer_in_spikes[li] as f64 / n,
                synaptic_ops: self.layer_ops[li] as f64 / n,
                analog_macs: self.layer_macs[li] as f64 / n,
                ann_macs: ann,
                spike_rate: l
                    .membrane_bits
                    .map(|_| self.layer_out_spikes[li] as f64 / (n * steps * neurons as f64)),
            });
        }
        let ops_sum: u64 = self.layer_ops.iter().sum();
        let macs_sum: u64 = self.layer_macs.iter().sum();
        let synaptic_ops = ops_sum as f64 / n;
        let analog_macs = macs_sum as f64 / n;
        let snn_pj = synaptic_ops * energy.e_ac_pj + analog_macs * energy.e_mac_pj;
        let ann_pj = ann_total as f64 * energy.e_mac_pj;
        let memory_bits = MemoryBits {
            weights,
            membranes,
            peak_spikes: self.peak_step_spikes,
            total: weights + membranes + self.peak_step_spikes,
        };
        Ok(Metrics {
            samples: self.samples,
            timesteps: d.timesteps,
            input_spike_rate: (!d.analog_input)
                .then(|| self.input_spikes_total as f64 / (n * steps * d.input.len() as f64)),
            layers,
            synaptic_ops,
            synaptic_ops_sum: ops_sum,
            analog_macs,
            ann_macs: ann_total,
            memory_bits,
            energy: Energy {
                model: energy,
                snn_pj,
                ann_pj,
                ann_over_snn: if snn_pj > 0.0 {
                    ann_pj / snn_pj
                } else {
                    f64::INFINITY
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_fan_out_by_hand() {
        // 1 channel 3x3 input, 3x3 kernel, stride 1, padding 1, 2 output channels: output 3x3.
        // Along one axis, input 0 is read by outputs 0 and 1 (taps 1, 0): 2; input 1 by all three
        // outputs: 3; input 2: 2. Fan-out = fy * fx * 2.
        let op = LayerOp::Conv2d {
            input: Shape {
                channels: 1,
                height: 3,
                width: 3,
            },
            out_channels: 2,
            kernel: [3, 3],
            stride: 1,
            padding: 1,
        };
        assert_eq!(fan_out(&op).unwrap(), vec![8, 12, 8, 12, 18, 12, 8, 12, 8]);
        // Stride 2, no padding, 5-wide axis, kernel 3: outputs 0 (taps 0..3), 1 (taps 2..5).
        assert_eq!(axis_fan(5, 3, 2, 0, 2), vec![1, 1, 2, 1, 1]);
    }

    #[test]
    fn pool_fan_out_drops_inputs_outside_windows() {
        // 5x5 input, window 2: output 2x2 covers rows/cols 0..4; row 4 and col 4 are dropped.
        let op = LayerOp::SumPool2d {
            input: Shape {
                channels: 1,
                height: 5,
                width: 5,
            },
            kernel: 2,
        };
        let f = fan_out(&op).unwrap();
        assert_eq!(f.iter().sum::<u64>(), 16);
        assert_eq!(f[4], 0);
        assert_eq!(f[20], 0);
        assert_eq!(f[0], 1);
    }
}
