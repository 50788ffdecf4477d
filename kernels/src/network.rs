//! The network runtime: a sequence of layers run over `T` timesteps, in `f32` ([`Network`]) and
//! in bit-exact integer form ([`IntNetwork`], the golden model of the generated hardware).
//!
//! Each timestep, every layer turns its input (the previous layer's spikes, bit-packed) into
//! currents accumulate-only, then its neurons update and emit spikes:
//! * dense layers use the [`crate::fc`] kernels on input-major rows ([`crate::fc::RowMatrix`]),
//!   re-packed once at construction. Integer layers use `i16` accumulators when
//!   [`crate::fc::I16Rows`] proves they cannot overflow, with byte-pair rows
//!   ([`crate::fc::I8PairRows`]) for weights of at most 8 bits and `i16` rows otherwise (else
//!   `i32` accumulators, with `i8` rows when the weights have at most 8 bits), and, for 2-bit
//!   weights, the bit-plane popcount kernel on the steps where
//!   [`crate::bitplane::prefer_bitplane`] says it is faster. All choices give the same integers.
//! * conv layers use [`crate::conv::Conv2d`]; sum/average pooling [`crate::pool`]; flatten is
//!   the identity on the (channel-major) spike map.
//!
//! Every layer except flatten must have spiking neurons (a spike is the only thing the
//! accumulate-only kernels consume); only the last float layer may instead be a non-spiking
//! readout ([`crate::neuron::Neuron::Li`]), whose potentials are decoded into [`Run::readout`]
//! and the class ([`crate::decode::Readout`]). Integer models have no average pooling: the numeric
//! contract has no division, so a quantizer folds `1 / k^2` into the next weights and uses
//! sum pooling.
//!
//! A batch runs in parallel across samples with rayon; one sample's timestep is never split
//! across threads (a parallel call costs ~10 us, a step ~0.2 us).

use rayon::prelude::*;

use crate::bitplane::{BitPlaneMatrix, prefer_bitplane};
use crate::conv::{Conv2d, ConvGeometry, check_accumulator};
use crate::decode::{ReadoutAccumulator, argmax_f32};
use crate::error::{Error, Result};
use crate::fc::{I8PairRows, I16Rows, RowMatrix, accumulate_rows};
use crate::model::{IntLayer, IntModel, LayerOp, Model};
use crate::neuron::{IntLayerState, IntLifParams, LayerState, Neuron, step_f32, step_int};
use crate::pool::{PoolGeometry, avg_pool_f32, sum_pool_f32, sum_pool_i32};
use crate::spikes::{SpikeBatch, SpikeTrain, count_ones, for_each_set_bit};

/// Input of a float network for one sample.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// Encoded input spikes, `T x inputs`.
    Spikes(&'a SpikeTrain),
    /// Analog intensities fed as the same input every step (direct encoding; needs a dense
    /// first layer, the one place where inputs are multiplied).
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

/// Spike statistics of one layer with neurons over a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerStats {
    /// Number of neurons.
    pub neurons: usize,
    /// Number of inputs (size of the spike map the layer reads).
    pub inputs: usize,
    /// Active input spikes summed over all steps.
    pub input_spikes: u64,
    /// Output spikes summed over all steps.
    pub output_spikes: u64,
    /// Synaptic operations (additions of one weight into one current) over all steps; for
    /// pooling, one per spike that lands in a window.
    pub synaptic_ops: u64,
    /// Steps run.
    pub steps: usize,
}

impl LayerStats {
    /// Mean output spikes per neuron per step.
    pub fn firing_rate(&self) -> f64 {
        let d = (self.neurons * self.steps) as f64;
        if d == 0.0 {
            0.0
        } else {
            self.output_spikes as f64 / d
        }
    }

    /// Mean fraction of active inputs per step.
    pub fn input_density(&self) -> f64 {
        let d = (self.inputs * self.steps) as f64;
        if d == 0.0 {
            0.0
        } else {
            self.input_spikes as f64 / d
        }
    }
}

/// Result of running one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Run<V> {
    /// Output spike counts over all steps.
    pub counts: Vec<u32>,
    /// Argmax of `counts`, ties to the lowest index; for a model whose last layer is a
    /// non-spiking readout, argmax of `readout` instead.
    pub class: usize,
    /// Scores of a non-spiking readout last layer (its membrane potentials decoded by the
    /// layer's [`crate::decode::Readout`] rule); `None` for spiking outputs.
    pub readout: Option<Vec<f32>>,
    /// Spikes that entered the first layer over all steps (0 for analog input).
    pub input_spikes: u64,
    /// Spikes emitted by each layer with neurons over all steps, in model order.
    pub layer_spike_counts: Vec<u64>,
    /// Spike statistics of each layer with neurons, in model order.
    pub stats: Vec<LayerStats>,
    /// Per-layer spikes and membranes per step (one entry per layer with neurons), when
    /// recording was requested.
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

fn layer_err(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::invalid(format!("layer {name:?}: {msg}"))
}

/// Checks the neuron rule shared by both runtimes: every layer but flatten has neurons.
fn check_neurons(name: &str, op: &LayerOp, has_neurons: bool) -> Result<bool> {
    match (op, has_neurons) {
        (LayerOp::Flatten { .. }, false) => Ok(false),
        (LayerOp::Flatten { .. }, true) => Err(layer_err(name, "flatten cannot have neurons")),
        (_, false) => Err(layer_err(
            name,
            "the runtime needs spiking neurons after every dense, conv and pooling layer \
             (only flatten may have none)",
        )),
        (_, true) => Ok(true),
    }
}

/// Expands a per-channel (conv) or per-neuron (dense) bias to one value per neuron.
fn expand_bias<T: Copy + Default>(op: &LayerOp, bias: &[T], neurons: usize) -> Vec<T> {
    if bias.is_empty() {
        return vec![T::default(); neurons];
    }
    match op {
        LayerOp::Conv2d { out_channels, .. } => {
            let plane = neurons / out_channels;
            bias.iter()
                .flat_map(|&b| std::iter::repeat_n(b, plane))
                .collect()
        }
        _ => bias.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Float runtime

#[derive(Clone, Debug)]
enum FloatOp {
    Dense(RowMatrix<f32>),
    Conv(Conv2d<f32>),
    SumPool(PoolGeometry),
    AvgPool(PoolGeometry),
}

#[derive(Clone, Debug)]
struct FloatLayer {
    op: FloatOp,
    inputs: usize,
    neurons: usize,
    bias: Vec<f32>,
    neuron: Neuron,
}

impl FloatLayer {
    /// `current += the layer's input currents for `spikes``; returns the synaptic ops.
    fn accumulate(&self, spikes: &[u64], active: u64, current: &mut [f32]) -> Result<u64> {
        Ok(match &self.op {
            FloatOp::Dense(rows) => {
                accumulate_rows(rows, spikes, current)?;
                active * self.neurons as u64
            }
            FloatOp::Conv(c) => {
                c.accumulate(spikes, current)?;
                c.synaptic_ops(spikes)
            }
            FloatOp::SumPool(g) => {
                sum_pool_f32(g, spikes, current)?;
                active
            }
            FloatOp::AvgPool(g) => {
                avg_pool_f32(g, spikes, current)?;
                active
            }
        })
    }
}

/// A float spiking network built from a [`Model`].
#[derive(Clone, Debug)]
pub struct Network {
    inputs: usize,
    timesteps: usize,
    layers: Vec<FloatLayer>,
    names: Vec<String>,
    /// Decoding rule when the last layer is a non-spiking readout.
    readout: Option<crate::decode::Readout>,
}

impl Network {
    /// Validates the model and packs its weights.
    pub fn new(model: &Model) -> Result<Self> {
        let shapes = model.validate()?;
        let mut layers = Vec::new();
        let mut names = Vec::new();
        for (i, l) in model.layers.iter().enumerate() {
            if !check_neurons(&l.name, &l.op, l.neuron.is_some())? {
                continue;
            }
            let neurons = shapes[i + 1].len();
            let op = match l.op {
                LayerOp::Dense { inputs, outputs } => {
                    FloatOp::Dense(RowMatrix::from_output_major(outputs, inputs, &l.weights)?)
                }
                LayerOp::Conv2d { .. } => {
                    FloatOp::Conv(Conv2d::new(ConvGeometry::from_op(&l.op)?, &l.weights)?)
                }
                LayerOp::SumPool2d { .. } => FloatOp::SumPool(PoolGeometry::from_op(&l.op)?),
                LayerOp::AvgPool2d { .. } => FloatOp::AvgPool(PoolGeometry::from_op(&l.op)?),
                LayerOp::Flatten { .. } => unreachable!("skipped above"),
            };
            layers.push(FloatLayer {
                op,
                inputs: shapes[i].len(),
                neurons,
                bias: expand_bias(&l.op, &l.bias, neurons),
                neuron: l.neuron.clone().expect("checked above"),
            });
            names.push(l.name.clone());
        }
        let readout = layers
            .last()
            .and_then(|l| l.neuron.readout())
            .map(|p| p.readout);
        Ok(Network {
            inputs: model.input.len(),
            timesteps: model.timesteps,
            layers,
            names,
            readout,
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

    /// Names of the layers with neurons, in order (the entries of traces and statistics).
    pub fn layer_names(&self) -> &[String] {
        &self.names
    }

    /// The decoding rule when the last layer is a non-spiking readout, `None` when the class
    /// comes from output spike counts.
    pub fn readout_rule(&self) -> Option<crate::decode::Readout> {
        self.readout
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
                if !matches!(self.layers[0].op, FloatOp::Dense(_)) {
                    return Err(Error::invalid(
                        "direct analog input needs a dense first layer",
                    ));
                }
                if let Some(i) = x.iter().position(|v| !v.is_finite()) {
                    return Err(Error::invalid(format!(
                        "analog input {i} is NaN or infinite"
                    )));
                }
                self.timesteps
            }
        };
        let mut states: Vec<LayerState> = self
            .layers
            .iter()
            .map(|l| LayerState::new(l.neurons))
            .collect();
        let mut traces = new_traces(self.layers.iter().map(|l| l.neurons), steps, record);
        let mut stats = new_stats(self.layers.iter().map(|l| (l.inputs, l.neurons)), steps);
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].neurons];
        let mut readout = self
            .readout
            .map(|r| ReadoutAccumulator::new(r, self.layers[last].neurons));
        let mut current = Vec::new();
        // The first layer's analog currents are the same every step: computed once.
        let analog: Option<Vec<f32>> = match (input, &self.layers[0].op) {
            (Input::Analog(x), FloatOp::Dense(rows)) => {
                let mut c = vec![0.0f32; rows.outputs()];
                for (j, &xj) in x.iter().enumerate() {
                    for (c, &w) in c.iter_mut().zip(rows.row(j)) {
                        *c += xj * w;
                    }
                }
                Some(c)
            }
            _ => None,
        };
        for t in 0..steps {
            for (li, layer) in self.layers.iter().enumerate() {
                let (before, after) = states.split_at_mut(li);
                current.clear();
                current.extend_from_slice(&layer.bias);
                if li == 0 {
                    match (input, &analog) {
                        (_, Some(a)) => {
                            for (c, &x) in current.iter_mut().zip(a) {
                                *c += x;
                            }
                        }
                        (Input::Spikes(train), None) => {
                            let active = count_ones(train.row(t)) as u64;
                            stats[0].input_spikes += active;
                            stats[0].synaptic_ops +=
                                layer.accumulate(train.row(t), active, &mut current)?;
                        }
                        (Input::Analog(_), None) => unreachable!("analog needs dense"),
                    }
                } else {
                    let prev = &before[li - 1].spikes;
                    let active = count_ones(prev) as u64;
                    stats[li].input_spikes += active;
                    stats[li].synaptic_ops += layer.accumulate(prev, active, &mut current)?;
                }
                let st = &mut after[0];
                step_f32_fast(&layer.neuron, &current, st);
                stats[li].output_spikes += count_ones(&st.spikes) as u64;
                if record {
                    traces[li].spikes.row_mut(t).copy_from_slice(&st.spikes);
                    traces[li].membranes.extend_from_slice(&st.v);
                }
            }
            for_each_set_bit(&states[last].spikes, |n| counts[n] += 1);
            if let Some(r) = &mut readout {
                r.add(&states[last].v);
            }
        }
        let mut run = finish(counts, stats, traces, record);
        if let Some(r) = readout {
            let scores = r.scores();
            run.class = argmax_f32(&scores).unwrap_or(0);
            run.readout = Some(scores);
        }
        Ok(run)
    }

    /// Runs a batch of spike inputs in parallel across samples (rayon; each sample's steps run
    /// on one thread).
    pub fn run_batch(&self, inputs: &[SpikeTrain]) -> Result<Vec<FloatRun>> {
        inputs
            .par_iter()
            .map(|t| self.run(&Input::Spikes(t), false))
            .collect()
    }

    /// Runs a batch of inputs of any kind in parallel across samples.
    pub fn run_inputs(&self, inputs: &[Input], record: bool) -> Result<Vec<FloatRun>> {
        inputs.par_iter().map(|x| self.run(x, record)).collect()
    }

    /// Runs every sample of a [`SpikeBatch`] in parallel across samples.
    pub fn run_spike_batch(&self, batch: &SpikeBatch) -> Result<Vec<FloatRun>> {
        self.run_batch(batch.trains())
    }
}

fn new_traces<V>(
    neurons: impl Iterator<Item = usize>,
    steps: usize,
    record: bool,
) -> Vec<LayerTrace<V>> {
    neurons
        .map(|n| LayerTrace {
            spikes: SpikeTrain::zeros(if record { steps } else { 0 }, n),
            membranes: Vec::with_capacity(if record { steps * n } else { 0 }),
        })
        .collect()
}

fn new_stats(shapes: impl Iterator<Item = (usize, usize)>, steps: usize) -> Vec<LayerStats> {
    shapes
        .map(|(inputs, neurons)| LayerStats {
            neurons,
            inputs,
            input_spikes: 0,
            output_spikes: 0,
            synaptic_ops: 0,
            steps,
        })
        .collect()
}

fn finish<V>(
    counts: Vec<u32>,
    stats: Vec<LayerStats>,
    traces: Vec<LayerTrace<V>>,
    record: bool,
) -> Run<V> {
    Run {
        class: argmax(&counts),
        readout: None,
        counts,
        input_spikes: stats[0].input_spikes,
        layer_spike_counts: stats.iter().map(|s| s.output_spikes).collect(),
        stats,
        trace: record.then_some(traces),
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

// ---------------------------------------------------------------------------------------------
// Integer runtime

/// The fastest provably exact row kernel for an integer dense layer.
#[derive(Clone, Debug)]
enum IntRows {
    /// `i16` weights, `i16` accumulators (proven).
    W16A16(I16Rows<i16>),
    /// `i8` weights packed in byte pairs, `i16` accumulators (proven): half the row bytes.
    W8Pairs(I8PairRows),
    /// `i8` weights, `i32` accumulators.
    W8A32(RowMatrix<i8>),
    /// `i16` weights, `i32` accumulators.
    W16A32(RowMatrix<i16>),
}

#[derive(Clone, Debug)]
enum IntOp {
    Dense {
        rows: IntRows,
        /// For 2-bit weights: the bit-plane form, used on dense steps.
        planes: Option<BitPlaneMatrix>,
        weight_bits: u8,
    },
    Conv(Conv2d<i16>),
    SumPool(PoolGeometry),
}

#[derive(Clone, Debug)]
struct IntLayerRt {
    op: IntOp,
    inputs: usize,
    neurons: usize,
    bias: Vec<i32>,
    neuron: IntLifParams,
}

/// Bit-plane form only pays off for very low-bit weights (see [`prefer_bitplane`]).
const BITPLANE_MAX_BITS: u8 = 2;

fn build_int_dense(l: &IntLayer, inputs: usize, outputs: usize) -> Result<IntOp> {
    // Prove the i32 accumulator cannot overflow: bias + any subset sum of a column.
    let rows16 = RowMatrix::from_output_major(outputs, inputs, &l.weights)?;
    for (o, &(lo, hi)) in rows16.reachable_sums().iter().enumerate() {
        let b = l.bias.get(o).copied().unwrap_or(0) as i64;
        if b + lo < i32::MIN as i64 || b + hi > i32::MAX as i64 {
            return Err(layer_err(
                &l.name,
                format!("output {o}: bias plus weights can overflow the 32-bit accumulator"),
            ));
        }
    }
    // i16 accumulators when proven: byte-pair rows for weights of at most 8 bits (half the
    // bytes, no sign extension), else i16 rows; i8 rows keep the memory small when i32
    // accumulators are needed anyway (see BENCHMARKS.md).
    let w8 = || -> Vec<i8> { l.weights.iter().map(|&w| w as i8).collect() };
    let rows = match I16Rows::new(rows16.clone(), &l.bias) {
        // Byte pairs: half the row bytes of i16 rows, and the rows of a 784-input layer come
        // from L2 in the network (other steps' rows evict them from L1): 10 % faster per image
        // than i16 rows (BENCHMARKS.md, `--bench quick`).
        Ok(_) if l.weight_bits <= 8 => IntRows::W8Pairs(I8PairRows::new(
            RowMatrix::from_output_major(outputs, inputs, &w8())?,
            &l.bias,
        )?),
        Ok(r) => IntRows::W16A16(r),
        Err(_) if l.weight_bits <= 8 => {
            IntRows::W8A32(RowMatrix::from_output_major(outputs, inputs, &w8())?)
        }
        Err(_) => IntRows::W16A32(rows16),
    };
    let planes = if l.weight_bits <= BITPLANE_MAX_BITS {
        Some(BitPlaneMatrix::from_output_major(
            outputs,
            inputs,
            &l.weights,
            l.weight_bits,
        )?)
    } else {
        None
    };
    Ok(IntOp::Dense {
        rows,
        planes,
        weight_bits: l.weight_bits,
    })
}

/// Scratch buffers of one run.
#[derive(Default)]
struct IntScratch {
    narrow: Vec<i16>,
}

impl IntLayerRt {
    /// `current = bias + the layer's input currents for `spikes``; returns the synaptic ops
    /// and whether the currents were left in `scratch.narrow` (`i16`) instead of `current`.
    fn currents(
        &self,
        spikes: &[u64],
        active: u64,
        current: &mut Vec<i32>,
        scratch: &mut IntScratch,
    ) -> Result<(u64, bool)> {
        current.clear();
        let mut narrow = false;
        let ops = match &self.op {
            IntOp::Dense {
                rows,
                planes,
                weight_bits,
            } => {
                if let Some(p) = planes
                    && prefer_bitplane(*weight_bits, self.inputs, active as usize)
                {
                    current.extend_from_slice(&self.bias);
                    p.accumulate(spikes, current)?;
                } else {
                    match rows {
                        IntRows::W16A16(r) => {
                            scratch.narrow.resize(self.neurons, 0);
                            r.currents(spikes, &mut scratch.narrow)?;
                            narrow = true;
                        }
                        IntRows::W8Pairs(r) => {
                            scratch.narrow.resize(self.neurons, 0);
                            r.currents(spikes, &mut scratch.narrow)?;
                            narrow = true;
                        }
                        IntRows::W8A32(m) => {
                            current.extend_from_slice(&self.bias);
                            accumulate_rows(m, spikes, current)?;
                        }
                        IntRows::W16A32(m) => {
                            current.extend_from_slice(&self.bias);
                            accumulate_rows(m, spikes, current)?;
                        }
                    }
                }
                active * self.neurons as u64
            }
            IntOp::Conv(c) => {
                current.extend_from_slice(&self.bias);
                c.accumulate(spikes, current)?;
                c.synaptic_ops(spikes)
            }
            IntOp::SumPool(g) => {
                current.extend_from_slice(&self.bias);
                sum_pool_i32(g, spikes, current)?;
                active
            }
        };
        Ok((ops, narrow))
    }
}

/// The integer golden model built from an [`IntModel`]: bit-exact with the numeric contract
/// and with the generated hardware.
#[derive(Clone, Debug)]
pub struct IntNetwork {
    inputs: usize,
    timesteps: usize,
    layers: Vec<IntLayerRt>,
    names: Vec<String>,
}

impl IntNetwork {
    /// Validates the model, proves the accumulators cannot overflow, and packs the weights.
    pub fn new(model: &IntModel) -> Result<Self> {
        let shapes = model.validate()?;
        let mut layers = Vec::new();
        let mut names = Vec::new();
        for (i, l) in model.layers.iter().enumerate() {
            if !check_neurons(&l.name, &l.op, l.neuron.is_some())? {
                continue;
            }
            let neurons = shapes[i + 1].len();
            let op = match l.op {
                LayerOp::Dense { inputs, outputs } => build_int_dense(l, inputs, outputs)?,
                LayerOp::Conv2d { .. } => {
                    let g = ConvGeometry::from_op(&l.op)?;
                    check_accumulator(&g, &l.weights, &l.bias, 32)
                        .map_err(|e| layer_err(&l.name, e))?;
                    IntOp::Conv(Conv2d::new(g, &l.weights)?)
                }
                LayerOp::SumPool2d { .. } => IntOp::SumPool(PoolGeometry::from_op(&l.op)?),
                LayerOp::AvgPool2d { .. } => {
                    return Err(layer_err(
                        &l.name,
                        "integer models have no average pooling (the numeric contract has no \
                         division): use sum pooling and fold 1/k^2 into the next layer",
                    ));
                }
                LayerOp::Flatten { .. } => unreachable!("skipped above"),
            };
            layers.push(IntLayerRt {
                op,
                inputs: shapes[i].len(),
                neurons,
                bias: expand_bias(&l.op, &l.bias, neurons),
                neuron: l.neuron.expect("checked above"),
            });
            names.push(l.name.clone());
        }
        Ok(IntNetwork {
            inputs: model.input.len(),
            timesteps: model.timesteps,
            layers,
            names,
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

    /// Names of the layers with neurons, in order (the entries of traces and statistics).
    pub fn layer_names(&self) -> &[String] {
        &self.names
    }

    /// Runs one sample of input spikes (`T x inputs`); with `record`, keeps every layer's
    /// spikes and membrane potentials at every step.
    pub fn run(&self, input: &SpikeTrain, record: bool) -> Result<IntRun> {
        check_input(input, self.inputs)?;
        let steps = input.steps();
        let mut states: Vec<IntLayerState> = self
            .layers
            .iter()
            .map(|l| IntLayerState::new(l.neurons))
            .collect();
        let mut traces = new_traces(self.layers.iter().map(|l| l.neurons), steps, record);
        let mut stats = new_stats(self.layers.iter().map(|l| (l.inputs, l.neurons)), steps);
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].neurons];
        let mut current = Vec::new();
        let mut scratch = IntScratch::default();
        for t in 0..steps {
            for (li, layer) in self.layers.iter().enumerate() {
                let (before, after) = states.split_at_mut(li);
                let spikes = if li == 0 {
                    input.row(t)
                } else {
                    &before[li - 1].spikes[..]
                };
                let active = count_ones(spikes) as u64;
                stats[li].input_spikes += active;
                let (ops, narrow) = layer.currents(spikes, active, &mut current, &mut scratch)?;
                stats[li].synaptic_ops += ops;
                let st = &mut after[0];
                if narrow {
                    step_int_fast(&layer.neuron, &scratch.narrow, st);
                } else {
                    step_int_fast(&layer.neuron, &current, st);
                }
                stats[li].output_spikes += count_ones(&st.spikes) as u64;
                if record {
                    traces[li].spikes.row_mut(t).copy_from_slice(&st.spikes);
                    traces[li].membranes.extend_from_slice(&st.v);
                }
            }
            for_each_set_bit(&states[last].spikes, |n| counts[n] += 1);
        }
        Ok(finish(counts, stats, traces, record))
    }

    /// Runs a batch of spike inputs in parallel across samples (rayon; each sample's steps run
    /// on one thread).
    pub fn run_batch(&self, inputs: &[SpikeTrain]) -> Result<Vec<IntRun>> {
        inputs.par_iter().map(|t| self.run(t, false)).collect()
    }

    /// Runs every sample of a [`SpikeBatch`] in parallel across samples.
    pub fn run_spike_batch(&self, batch: &SpikeBatch) -> Result<Vec<IntRun>> {
        self.run_batch(batch.trains())
    }
}

// ---------------------------------------------------------------------------------------------
// Fast neuron steps
//
// `neuron::step_int` / `step_f32` define the neuron contract one neuron at a time (in `i64`).
// The runtime uses branch-free layer loops with the same results, compiled with AVX2 when the
// CPU has it (so they vectorise), for the common cases; everything else goes through the
// contract functions. Equality with them is tested below and in `tests/network_props.rs`.

/// Integer LIF parameters for the fast step: no synaptic current, leak none or shift,
/// membrane at most 29 bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastLif {
    pub(crate) shift: u32,
    pub(crate) theta: i32,
    pub(crate) lo: i32,
    pub(crate) hi: i32,
}

/// Largest membrane width for the fast integer step: with `|v|, theta <= 2^28` and the current
/// clamped to `+-2^30`, every intermediate fits `i32`, and clamping the current does not change
/// the saturated result (a current beyond `+-2^30` saturates the membrane either way).
const FAST_MAX_BITS: u8 = 29;
pub(crate) const CUR_CLAMP: i32 = 1 << 30;

/// Reset codes for the const generic parameter.
pub(crate) const R_SUB: u8 = 0;
pub(crate) const R_ZERO: u8 = 1;
pub(crate) const R_NONE: u8 = 2;

fn reset_code(r: crate::neuron::ResetMode) -> u8 {
    match r {
        crate::neuron::ResetMode::Subtract => R_SUB,
        crate::neuron::ResetMode::Zero => R_ZERO,
        crate::neuron::ResetMode::None => R_NONE,
    }
}

/// One integer layer step for `v`, spikes `s[t-1]` -> `s[t]` (in place), the contract of
/// [`crate::neuron::update_int`] specialised at compile time on reset, rule and leak.
#[inline(always)]
pub(crate) fn lif_int_body<C: Current, const RESET: u8, const JELLY: bool, const LEAK: bool>(
    p: &FastLif,
    cur: &[C],
    v: &mut [i32],
    spikes: &mut [u64],
) {
    let n = v.len();
    for (w, word) in spikes.iter_mut().enumerate() {
        let prev = *word;
        let base = w * 64;
        let m = (n - base).min(64);
        let vv = &mut v[base..base + m];
        let cc = &cur[base..base + m];
        let mut out = 0u64;
        for b in 0..m {
            let r = ((prev >> b) & 1) as i32;
            let (nv, f) = lif_int_one::<C, RESET, JELLY, LEAK>(p, vv[b], cc[b], r);
            vv[b] = nv;
            out |= (f as u64) << b;
        }
        *word = out;
    }
}

/// One neuron of [`lif_int_body`]: membrane `x`, current `c`, previous spike `r` (0 or 1) ->
/// new membrane and spike. Also the tail of the AVX2 kernel (`fc::avx2_lif_int`).
#[inline(always)]
pub(crate) fn lif_int_one<C: Current, const RESET: u8, const JELLY: bool, const LEAK: bool>(
    p: &FastLif,
    x: i32,
    c: C,
    r: i32,
) -> (i32, bool) {
    let lk = |x: i32| if LEAK { x - (x >> p.shift) } else { x };
    let c = c.to_i32().clamp(-CUR_CLAMP, CUR_CLAMP);
    if !JELLY {
        let nv = match RESET {
            R_SUB => lk(x) + c - r * p.theta,
            R_ZERO => lk(x * (1 - r)) + c,
            _ => lk(x) + c,
        }
        .clamp(p.lo, p.hi);
        (nv, nv > p.theta)
    } else {
        let h = (lk(x) + c).clamp(p.lo, p.hi);
        let f = h >= p.theta;
        let nv = match RESET {
            R_SUB => h - (f as i32) * p.theta,
            R_ZERO => h * (1 - f as i32),
            _ => h,
        };
        (nv, f)
    }
}

/// An input current as the fast step reads it: `i32`, or `i16` straight from the narrow
/// accumulators (no widening pass).
pub(crate) trait Current: Copy + Send + Sync {
    /// True for `i16` (the AVX2 LIF kernel loads 8 values with a sign extension), false for
    /// `i32`; the trait is implemented for these two types only.
    const NARROW: bool;
    /// The value as `i32`.
    fn to_i32(self) -> i32;
}
impl Current for i32 {
    const NARROW: bool = false;
    #[inline(always)]
    fn to_i32(self) -> i32 {
        self
    }
}
impl Current for i16 {
    const NARROW: bool = true;
    #[inline(always)]
    fn to_i32(self) -> i32 {
        self as i32
    }
}

/// One integer layer step: the fast specialised loop when it applies, else the contract.
fn step_int_fast<C: Current>(p: &IntLifParams, current: &[C], st: &mut IntLayerState) {
    step_int_fast_on(
        p,
        current,
        st,
        crate::fc::paths::allows(crate::fc::Path::Avx2),
    )
}

/// [`step_int_fast`] with the AVX2 kernel (`simd`, when the CPU has AVX2) or the portable loop.
fn step_int_fast_on<C: Current>(
    p: &IntLifParams,
    current: &[C],
    st: &mut IntLayerState,
    simd: bool,
) {
    let leak = match p.leak {
        crate::neuron::Leak::None => Some(0),
        crate::neuron::Leak::Shift { k } => Some(k as u32),
        crate::neuron::Leak::Multiply { .. } => None,
    };
    let (Some(shift), None, true) = (leak, p.syn_leak, p.membrane_bits <= FAST_MAX_BITS) else {
        let wide: Vec<i32> = current.iter().map(|c| c.to_i32()).collect();
        step_int(p, &wide, st);
        return;
    };
    let f = FastLif {
        shift,
        theta: p.threshold,
        lo: p.v_min() as i32,
        hi: p.v_max() as i32,
    };
    let jelly = p.rule == crate::neuron::FiringRule::Spikingjelly;
    let (v, s) = (&mut st.v[..], &mut st.spikes[..]);
    macro_rules! go {
        ($r:expr, $j:expr, $l:expr) => {{
            #[cfg(target_arch = "x86_64")]
            if simd && crate::fc::Path::Avx2.is_available() {
                crate::fc::avx2_lif_int::<C, $r, $j, $l>(&f, current, v, s);
                return;
            }
            let _ = simd;
            lif_int_body::<C, $r, $j, $l>(&f, current, v, s)
        }};
    }
    match (reset_code(p.reset), jelly, shift > 0) {
        (R_SUB, false, false) => go!(R_SUB, false, false),
        (R_SUB, false, true) => go!(R_SUB, false, true),
        (R_SUB, true, false) => go!(R_SUB, true, false),
        (R_SUB, true, true) => go!(R_SUB, true, true),
        (R_ZERO, false, false) => go!(R_ZERO, false, false),
        (R_ZERO, false, true) => go!(R_ZERO, false, true),
        (R_ZERO, true, false) => go!(R_ZERO, true, false),
        (R_ZERO, true, true) => go!(R_ZERO, true, true),
        (_, false, false) => go!(R_NONE, false, false),
        (_, false, true) => go!(R_NONE, false, true),
        (_, true, false) => go!(R_NONE, true, false),
        (_, true, true) => go!(R_NONE, true, true),
    }
}

/// One float layer step, the operations of [`crate::neuron::step_f32`] in the same order.
#[inline(always)]
pub(crate) fn lif_f32_body<const RESET: u8, const JELLY: bool>(
    p: &crate::neuron::LifParams,
    cur: &[f32],
    v: &mut [f32],
    spikes: &mut [u64],
) {
    let n = v.len();
    let (beta, th) = (p.beta, p.threshold);
    for (w, word) in spikes.iter_mut().enumerate() {
        let prev = *word;
        let base = w * 64;
        let m = (n - base).min(64);
        let vv = &mut v[base..base + m];
        let cc = &cur[base..base + m];
        let mut out = 0u64;
        for b in 0..m {
            let r = if (prev >> b) & 1 == 1 { 1.0f32 } else { 0.0 };
            let x = vv[b];
            let (nv, f) = if !JELLY {
                let nv = match RESET {
                    R_SUB => beta * x + cc[b] - r * th,
                    R_ZERO => beta * ((1.0 - r) * x) + cc[b],
                    _ => beta * x + cc[b],
                };
                (nv, nv > th)
            } else {
                let h = beta * x + cc[b];
                let f = h >= th;
                let nv = match (RESET, f) {
                    (R_SUB, true) => h - th,
                    (R_ZERO, true) => 0.0,
                    _ => h,
                };
                (nv, f)
            };
            vv[b] = nv;
            out |= (f as u64) << b;
        }
        *word = out;
    }
}

fn step_f32_fast(neuron: &Neuron, current: &[f32], st: &mut LayerState) {
    let Neuron::Lif(p) = neuron else {
        step_f32(neuron, current, st);
        return;
    };
    let jelly = p.rule == crate::neuron::FiringRule::Spikingjelly;
    let (v, s) = (&mut st.v[..], &mut st.spikes[..]);
    macro_rules! go {
        ($r:expr, $j:expr) => {{
            #[cfg(target_arch = "x86_64")]
            if crate::fc::paths::allows(crate::fc::Path::Avx2) {
                crate::fc::avx2_lif_f32::<$r, $j>(p, current, v, s);
                return;
            }
            lif_f32_body::<$r, $j>(p, current, v, s)
        }};
    }
    match (reset_code(p.reset), jelly) {
        (R_SUB, false) => go!(R_SUB, false),
        (R_SUB, true) => go!(R_SUB, true),
        (R_ZERO, false) => go!(R_ZERO, false),
        (R_ZERO, true) => go!(R_ZERO, true),
        (_, false) => go!(R_NONE, false),
        (_, true) => go!(R_NONE, true),
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

    mod fast_steps {
        use super::super::*;
        use crate::neuron::{FiringRule, Leak, LifParams, ResetMode};
        use proptest::prelude::*;

        fn reset() -> impl Strategy<Value = ResetMode> {
            prop_oneof![
                Just(ResetMode::Subtract),
                Just(ResetMode::Zero),
                Just(ResetMode::None)
            ]
        }

        fn rule() -> impl Strategy<Value = FiringRule> {
            prop_oneof![Just(FiringRule::Snntorch), Just(FiringRule::Spikingjelly)]
        }

        proptest! {
            /// The fast integer step equals the contract (`step_int`) for every parameter set,
            /// including currents far beyond the membrane range and the widest fast membrane.
            #[test]
            fn int_fast_step_equals_contract(
                n in 0usize..200,
                k in 0u8..8,
                reset in reset(),
                rule in rule(),
                bits in 2u8..=32,
                th_frac in 0.0f64..1.0,
                seed in any::<u64>(),
                steps in 1usize..5,
            ) {
                let mut p = IntLifParams {
                    leak: if k == 0 { Leak::None } else { Leak::Shift { k } },
                    threshold: 1,
                    reset,
                    rule,
                    membrane_bits: bits,
                    syn_leak: None,
                };
                p.threshold = ((p.v_max() as f64 * th_frac) as i32).max(1);
                let mut a = IntLayerState::new(n);
                let mut b = a.clone();
                let mut a16 = a.clone();
                let mut b16 = a.clone();
                let mut x = seed | 1;
                for _ in 0..steps {
                    let cur: Vec<i32> = (0..n).map(|_| {
                        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                        match x % 4 {
                            0 => x as i32,
                            1 => (x as i32) >> (32 - bits as u32).min(31),
                            _ => (x as i32) >> 20,
                        }
                    }).collect();
                    step_int(&p, &cur, &mut a);
                    // The portable loop (`simd: false`) and the AVX2 kernel where the CPU
                    // has it, from the same state.
                    let mut bs = b.clone();
                    step_int_fast_on(&p, &cur, &mut bs, false);
                    step_int_fast_on(&p, &cur, &mut b, true);
                    prop_assert_eq!(&a, &b);
                    prop_assert_eq!(&a, &bs);
                    // The same with i16 currents (the narrow accumulator path).
                    let c16: Vec<i16> = cur.iter().map(|&c| (c >> 16) as i16).collect();
                    let c32: Vec<i32> = c16.iter().map(|&c| c as i32).collect();
                    step_int(&p, &c32, &mut a16);
                    let mut bs16 = b16.clone();
                    step_int_fast_on(&p, &c16, &mut bs16, false);
                    step_int_fast_on(&p, &c16, &mut b16, true);
                    prop_assert_eq!(&a16, &b16);
                    prop_assert_eq!(&a16, &bs16);
                }
            }

            #[test]
            fn f32_fast_step_equals_contract(
                n in 0usize..200,
                beta in 0.0f32..=1.0,
                th in 0.01f32..4.0,
                reset in reset(),
                rule in rule(),
                cur in proptest::collection::vec(-3.0f32..3.0, 200 * 4),
            ) {
                let neuron = Neuron::Lif(LifParams { beta, threshold: th, reset, rule });
                let mut a = LayerState::new(n);
                let mut b = a.clone();
                for c in cur.chunks(200).map(|c| &c[..n]) {
                    step_f32(&neuron, c, &mut a);
                    step_f32_fast(&neuron, c, &mut b);
                    let va: Vec<u32> = a.v.iter().map(|x| x.to_bits()).collect();
                    let vb: Vec<u32> = b.v.iter().map(|x| x.to_bits()).collect();
                    prop_assert_eq!(va, vb);
                    prop_assert_eq!(&a.spikes, &b.spikes);
                }
            }
        }
    }
}
