//! The network runtime: a sequence of layers run over `T` timesteps, in `f32` ([`Network`]) and
//! in bit-exact integer form ([`IntNetwork`], the golden model of the generated hardware).
//!
//! Each timestep, every layer turns its input (the previous layer's spikes, bit-packed) into
//! currents by accumulating weight rows, then its neurons update and emit spikes. Weights are
//! re-packed once at construction into input-major rows ([`crate::fc::RowMatrix`]) so that one
//! input spike selects one contiguous row. A batch runs in parallel across samples with rayon;
//! one sample's timestep is never split across threads (a parallel call costs ~10 us, a step
//! ~0.2 us).

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::{IntModel, LayerOp, Model};
use crate::neuron::{IntLayerState, IntLifParams, LayerState, Neuron, step_f32, step_int};
use crate::spikes::{SpikeTrain, count_ones, for_each_set_bit, words_for};

/// Input of a float network for one sample.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// Encoded input spikes, `T x inputs`.
    Spikes(&'a SpikeTrain),
    /// Analog intensities fed as the same input every step (direct encoding).
    Analog(&'a [f32]),
}

/// What one layer did during a run, recorded on request.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerTrace<V> {
    /// Output spikes, `T x neurons`.
    pub spikes: SpikeTrain,
    /// Membrane potentials at the end of every step, `T x neurons` row-major.
    pub membranes: Vec<V>,
}

/// Result of running one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Run<V> {
    /// Output spike counts over all steps.
    pub counts: Vec<u32>,
    /// Argmax of `counts`, ties to the lowest index.
    pub class: usize,
    /// Spikes that entered the first layer over all steps.
    pub input_spikes: u64,
    /// Spikes emitted by each layer over all steps (0 for layers without neurons).
    pub layer_spike_counts: Vec<u64>,
    /// Per-layer spikes and membranes per step, when recording was requested.
    pub trace: Option<Vec<LayerTrace<V>>>,
}

/// Result of a float run.
pub type FloatRun = Run<f32>;
/// Result of an integer run.
pub type IntRun = Run<i32>;

/// Index of the largest count, ties to the lowest index (0 for an empty slice).
pub fn argmax(counts: &[u32]) -> usize {
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    best
}

/// Input-major weight rows: `rows[j * outputs .. (j + 1) * outputs]` are the weights from input
/// `j`, so a spike on `j` adds one contiguous row.
#[derive(Clone, Debug)]
struct Rows<T> {
    inputs: usize,
    outputs: usize,
    data: Vec<T>,
}

impl<T: Copy> Rows<T> {
    fn from_output_major(outputs: usize, inputs: usize, w: &[T]) -> Self {
        let mut data = Vec::with_capacity(w.len());
        for j in 0..inputs {
            for o in 0..outputs {
                data.push(w[o * inputs + j]);
            }
        }
        Rows {
            inputs,
            outputs,
            data,
        }
    }

    #[inline]
    fn row(&self, j: usize) -> &[T] {
        &self.data[j * self.outputs..(j + 1) * self.outputs]
    }
}

#[derive(Clone, Debug)]
struct FloatLayer {
    rows: Rows<f32>,
    bias: Vec<f32>,
    neuron: Neuron,
}

/// A float spiking network built from a [`Model`].
#[derive(Clone, Debug)]
pub struct Network {
    inputs: usize,
    timesteps: usize,
    layers: Vec<FloatLayer>,
}

fn unsupported(op: &LayerOp, name: &str) -> Error {
    Error::invalid(format!(
        "layer {name:?}: the runtime supports dense and flatten layers with spiking neurons; \
         {op:?} is not supported yet"
    ))
}

impl Network {
    /// Validates the model and packs its weights.
    pub fn new(model: &Model) -> Result<Self> {
        model.validate()?;
        let mut layers = Vec::new();
        for l in &model.layers {
            match (l.op, l.neuron) {
                (LayerOp::Flatten { .. }, None) => {}
                (LayerOp::Dense { inputs, outputs }, Some(neuron)) => layers.push(FloatLayer {
                    rows: Rows::from_output_major(outputs, inputs, &l.weights),
                    bias: if l.bias.is_empty() {
                        vec![0.0; outputs]
                    } else {
                        l.bias.clone()
                    },
                    neuron,
                }),
                (op, _) => return Err(unsupported(&op, &l.name)),
            }
        }
        Ok(Network {
            inputs: model.input.len(),
            timesteps: model.timesteps,
            layers,
        })
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Timesteps per inference.
    pub fn timesteps(&self) -> usize {
        self.timesteps
    }

    /// Runs one sample over the model's timesteps (or the train's step count for spike input).
    pub fn run(&self, input: &Input, record: bool) -> Result<FloatRun> {
        let steps = match input {
            Input::Spikes(t) => {
                check_input(t, self.inputs)?;
                t.steps()
            }
            Input::Analog(x) => {
                if x.len() != self.inputs {
                    return Err(Error::shape(format!(
                        "analog input has {} values, the network expects {}",
                        x.len(),
                        self.inputs
                    )));
                }
                self.timesteps
            }
        };
        let mut states: Vec<LayerState> = self
            .layers
            .iter()
            .map(|l| LayerState::new(l.rows.outputs))
            .collect();
        let mut traces: Vec<LayerTrace<f32>> = self
            .layers
            .iter()
            .map(|l| LayerTrace {
                spikes: SpikeTrain::zeros(if record { steps } else { 0 }, l.rows.outputs),
                membranes: Vec::new(),
            })
            .collect();
        let mut layer_counts = vec![0u64; self.layers.len()];
        let mut input_spikes = 0u64;
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].rows.outputs];
        let mut current = Vec::new();
        for t in 0..steps {
            for (li, layer) in self.layers.iter().enumerate() {
                current.clear();
                current.extend_from_slice(&layer.bias);
                if li == 0 {
                    match input {
                        Input::Spikes(train) => {
                            input_spikes += count_ones(train.row(t)) as u64;
                            add_rows_f32(&layer.rows, train.row(t), &mut current);
                        }
                        Input::Analog(x) => {
                            // Direct encoding: the analog first layer is the one place where
                            // inputs are multiplied.
                            for (j, &xj) in x.iter().enumerate() {
                                for (c, &w) in current.iter_mut().zip(layer.rows.row(j)) {
                                    *c += xj * w;
                                }
                            }
                        }
                    }
                } else {
                    let prev = states[li - 1].spikes.clone();
                    add_rows_f32(&layer.rows, &prev, &mut current);
                }
                step_f32(&layer.neuron, &current, &mut states[li]);
                layer_counts[li] += count_ones(&states[li].spikes) as u64;
                if record {
                    traces[li]
                        .spikes
                        .row_mut(t)
                        .copy_from_slice(&states[li].spikes);
                    traces[li].membranes.extend_from_slice(&states[li].v);
                }
            }
            for_each_set_bit(&states[last].spikes, |n| counts[n] += 1);
        }
        Ok(Run {
            class: argmax(&counts),
            counts,
            input_spikes,
            layer_spike_counts: layer_counts,
            trace: record.then_some(traces),
        })
    }

    /// Runs a batch of spike inputs in parallel across samples.
    pub fn run_batch(&self, inputs: &[SpikeTrain]) -> Result<Vec<FloatRun>> {
        inputs
            .par_iter()
            .map(|t| self.run(&Input::Spikes(t), false))
            .collect()
    }
}

fn check_input(train: &SpikeTrain, inputs: usize) -> Result<()> {
    if train.neurons() != inputs {
        return Err(Error::shape(format!(
            "input spike train has {} neurons, the network expects {inputs}",
            train.neurons()
        )));
    }
    Ok(())
}

fn add_rows_f32(rows: &Rows<f32>, spikes: &[u64], acc: &mut [f32]) {
    debug_assert_eq!(spikes.len(), words_for(rows.inputs));
    for_each_set_bit(spikes, |j| {
        for (a, &w) in acc.iter_mut().zip(rows.row(j)) {
            *a += w;
        }
    });
}

fn add_rows_i16(rows: &Rows<i16>, spikes: &[u64], acc: &mut [i32]) {
    debug_assert_eq!(spikes.len(), words_for(rows.inputs));
    for_each_set_bit(spikes, |j| {
        for (a, &w) in acc.iter_mut().zip(rows.row(j)) {
            *a += w as i32;
        }
    });
}

#[derive(Clone, Debug)]
struct IntDense {
    rows: Rows<i16>,
    bias: Vec<i32>,
    neuron: IntLifParams,
}

/// The integer golden model built from an [`IntModel`]: bit-exact with the numeric contract
/// and with the generated hardware.
#[derive(Clone, Debug)]
pub struct IntNetwork {
    inputs: usize,
    timesteps: usize,
    layers: Vec<IntDense>,
}

impl IntNetwork {
    /// Validates the model and packs its weights.
    pub fn new(model: &IntModel) -> Result<Self> {
        model.validate()?;
        let mut layers = Vec::new();
        for l in &model.layers {
            match (l.op, l.neuron) {
                (LayerOp::Flatten { .. }, None) => {}
                (LayerOp::Dense { inputs, outputs }, Some(neuron)) => layers.push(IntDense {
                    rows: Rows::from_output_major(outputs, inputs, &l.weights),
                    bias: if l.bias.is_empty() {
                        vec![0; outputs]
                    } else {
                        l.bias.clone()
                    },
                    neuron,
                }),
                (op, _) => return Err(unsupported(&op, &l.name)),
            }
        }
        Ok(IntNetwork {
            inputs: model.input.len(),
            timesteps: model.timesteps,
            layers,
        })
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Timesteps per inference.
    pub fn timesteps(&self) -> usize {
        self.timesteps
    }

    /// Runs one sample of input spikes (`T x inputs`); with `record`, keeps every layer's
    /// spikes and membrane potentials at every step.
    pub fn run(&self, input: &SpikeTrain, record: bool) -> Result<IntRun> {
        check_input(input, self.inputs)?;
        let steps = input.steps();
        let mut states: Vec<IntLayerState> = self
            .layers
            .iter()
            .map(|l| IntLayerState::new(l.rows.outputs))
            .collect();
        let mut traces: Vec<LayerTrace<i32>> = self
            .layers
            .iter()
            .map(|l| LayerTrace {
                spikes: SpikeTrain::zeros(if record { steps } else { 0 }, l.rows.outputs),
                membranes: Vec::new(),
            })
            .collect();
        let mut layer_counts = vec![0u64; self.layers.len()];
        let mut input_spikes = 0u64;
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].rows.outputs];
        let mut current = Vec::new();
        let mut prev = Vec::new();
        for t in 0..steps {
            for (li, layer) in self.layers.iter().enumerate() {
                current.clear();
                current.extend_from_slice(&layer.bias);
                if li == 0 {
                    input_spikes += count_ones(input.row(t)) as u64;
                    add_rows_i16(&layer.rows, input.row(t), &mut current);
                } else {
                    prev.clear();
                    prev.extend_from_slice(&states[li - 1].spikes);
                    add_rows_i16(&layer.rows, &prev, &mut current);
                }
                step_int(&layer.neuron, &current, &mut states[li]);
                layer_counts[li] += count_ones(&states[li].spikes) as u64;
                if record {
                    traces[li]
                        .spikes
                        .row_mut(t)
                        .copy_from_slice(&states[li].spikes);
                    traces[li].membranes.extend_from_slice(&states[li].v);
                }
            }
            for_each_set_bit(&states[last].spikes, |n| counts[n] += 1);
        }
        Ok(Run {
            class: argmax(&counts),
            counts,
            input_spikes,
            layer_spike_counts: layer_counts,
            trace: record.then_some(traces),
        })
    }

    /// Runs a batch of spike inputs in parallel across samples.
    pub fn run_batch(&self, inputs: &[SpikeTrain]) -> Result<Vec<IntRun>> {
        inputs.par_iter().map(|t| self.run(t, false)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IntLayer, Layer, Shape};
    use crate::neuron::{FiringRule, Leak, LifParams, ResetMode};

    fn int_model() -> IntModel {
        let neuron = IntLifParams {
            leak: Leak::None,
            threshold: 4,
            reset: ResetMode::Subtract,
            rule: FiringRule::Snntorch,
            membrane_bits: 8,
            syn_leak: None,
        };
        IntModel {
            name: "tiny".into(),
            input: Shape::flat(3),
            timesteps: 3,
            encoding: crate::model::Encoding::Direct,
            layers: vec![
                IntLayer {
                    name: "fc1".into(),
                    op: LayerOp::Dense {
                        inputs: 3,
                        outputs: 2,
                    },
                    weight_bits: 8,
                    // PyTorch layout [outputs][inputs].
                    weights: vec![1, 2, 3, -1, 5, 0],
                    bias: vec![0, 1],
                    scale: 1.0,
                    neuron: Some(neuron),
                },
                IntLayer {
                    name: "fc2".into(),
                    op: LayerOp::Dense {
                        inputs: 2,
                        outputs: 2,
                    },
                    weight_bits: 8,
                    weights: vec![5, 0, 0, 5],
                    bias: vec![],
                    scale: 1.0,
                    neuron: Some(neuron),
                },
            ],
        }
    }

    #[test]
    fn integer_network_hand_computed() {
        // Input spikes: step 0 inputs {0, 2}; step 1 input {1}; step 2 none.
        let input = SpikeTrain::from_bools(
            3,
            3,
            &[true, false, true, false, true, false, false, false, false],
        )
        .unwrap();
        let net = IntNetwork::new(&int_model()).unwrap();
        let run = net.run(&input, true).unwrap();
        let trace = run.trace.as_ref().unwrap();
        // fc1, neuron 0 (weights 1, 2, 3): I = 1 + 3 = 4, 2, 0 -> v = 4 (not > 4), 6 (fires), 6 - 4 = 2.
        // fc1, neuron 1 (weights -1, 5, 0, bias 1): I = 0, 6, 1 -> v = 0, 6 (fires), 6 + 1 - 4 = 3.
        assert_eq!(trace[0].membranes, vec![4, 0, 6, 6, 2, 3]);
        assert_eq!(
            trace[0].spikes.to_bools(),
            vec![false, false, true, true, false, false]
        );
        // fc2 sees fc1's spikes of the same step: step 1 both fire -> I = 5, 5 -> v = 5 > 4.
        assert_eq!(trace[1].membranes, vec![0, 0, 5, 5, 1, 1]);
        assert_eq!(run.counts, vec![1, 1]);
        assert_eq!(run.class, 0);
        assert_eq!(run.input_spikes, 3);
        assert_eq!(run.layer_spike_counts, vec![2, 2]);
    }

    #[test]
    fn float_network_matches_integer_on_integer_weights() {
        let im = int_model();
        let fm = Model {
            name: im.name.clone(),
            input: im.input,
            timesteps: im.timesteps,
            encoding: im.encoding,
            layers: im
                .layers
                .iter()
                .map(|l| Layer {
                    name: l.name.clone(),
                    op: l.op,
                    weights: l.weights.iter().map(|&w| w as f32).collect(),
                    bias: l.bias.iter().map(|&b| b as f32).collect(),
                    neuron: Some(Neuron::Lif(LifParams::snntorch(1.0, 4.0))),
                })
                .collect(),
        };
        let input = SpikeTrain::from_bools(
            3,
            3,
            &[true, false, true, false, true, false, true, true, true],
        )
        .unwrap();
        let a = Network::new(&fm)
            .unwrap()
            .run(&Input::Spikes(&input), true)
            .unwrap();
        let b = IntNetwork::new(&im).unwrap().run(&input, true).unwrap();
        assert_eq!(a.counts, b.counts);
        let ta = a.trace.unwrap();
        let tb = b.trace.unwrap();
        for (x, y) in ta.iter().zip(&tb) {
            assert_eq!(x.spikes, y.spikes);
            let ym: Vec<f32> = y.membranes.iter().map(|&v| v as f32).collect();
            assert_eq!(x.membranes, ym);
        }
    }

    #[test]
    fn wrong_input_width_is_an_error() {
        let net = IntNetwork::new(&int_model()).unwrap();
        assert!(net.run(&SpikeTrain::zeros(3, 4), false).is_err());
    }
}
