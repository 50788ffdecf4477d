//! Every number of the generated hardware, decided here from the integer model and the options:
//! parallelism, register widths, memory shapes and their contents. Templates only print them.

use kernels::model::{Encoding, IntModel, LayerOp, check_identifier};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
use serde::Serialize;

use crate::{Error, Result};

/// Which on-chip input stage the design gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EncoderKind {
    /// Rate-encode 8-bit pixels on chip with the LFSR generator of `kernels::encode`.
    Lfsr,
    /// Accept pre-encoded spike words.
    Spikes,
}

/// Synthesis target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Technology-independent `synth`.
    Generic,
    /// Lattice iCE40 UP5K (`synth_ice40`).
    Ice40up5k,
    /// AMD/Xilinx 7 series (`synth_xilinx -family xc7`).
    Xc7,
}

impl Target {
    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Ice40up5k => "ice40up5k",
            Target::Xc7 => "xc7",
        }
    }
}

/// Where neuron state lives (see docs/hardware-architecture.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// `regs` for xc7 and generic, `mem` for the iCE40 UP5K.
    Auto,
    /// Every neuron's current, potential and spike in registers; all `P` weights of an active
    /// input are added in parallel and the neuron phase rotates `NU` neurons per cycle (fast,
    /// large).
    Regs,
    /// Output-stationary: `P` accumulators, potentials in block RAM, a list of the active inputs
    /// replayed once per group of `P` neurons, `P` neuron units (small, slower).
    Mem,
}

/// Where the weights live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum WeightStore {
    /// `load` when the weights do not fit the target's initialisable block RAM, else `rom`.
    Auto,
    /// Initialised from the bitstream (`$readmemh`).
    Rom,
    /// Written at run time through the byte-stream load port (iCE40: single-port SPRAM, which
    /// the bitstream cannot initialise); `--arch mem` only.
    Load,
}

/// The `--parallel` flag of `codegen` and `verify`: `P` (one value for every layer, the
/// [`Options::parallel`] field) or `P1,P2,...` (one per dense layer, [`Options::parallel_layers`]).
/// Only the syntax is checked here; the ranges are checked by [`Plan::new`].
pub fn parse_parallel(text: Option<&str>) -> Result<(Option<usize>, Option<Vec<usize>>)> {
    let Some(text) = text else {
        return Ok((None, None));
    };
    let values = text
        .split(',')
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                Error::Input(format!(
                    "--parallel {text:?}: {:?} is not a whole number (give P, or one P per \
                     layer separated by commas)",
                    v.trim()
                ))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(if text.contains(',') {
        (None, Some(values))
    } else {
        (Some(values[0]), None)
    })
}

/// Generation options (the command-line flags of `codegen`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Options {
    /// Weights added per cycle per layer (`P`); `None` = the whole layer (at most 128).
    pub parallel: Option<usize>,
    /// One `P` per dense layer, in order (`--parallel 64,10`); each in `1..=` the layer's
    /// neurons. Replaces `parallel` (give one or the other) and, with `--arch mem`, the derived
    /// lanes of later layers.
    pub parallel_layers: Option<Vec<usize>>,
    /// Neurons updated per cycle in the neuron phase; `None` = `min(neurons, 16)` for the first
    /// layer, and for later layers of `--arch regs` as few as keep their neuron phase at or below
    /// the first layer's.
    pub neuron_units: Option<usize>,
    /// Synthesis target.
    pub target: Target,
    /// Input stage.
    pub encoder: EncoderKind,
    /// Overrides the model's number of timesteps.
    pub timesteps: Option<usize>,
    /// Bits per input beat for `--encoder spikes`.
    pub spike_word: usize,
    /// Neuron-state architecture.
    pub arch: Arch,
    /// Weight storage.
    pub weights: WeightStore,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallel: None,
            parallel_layers: None,
            neuron_units: None,
            target: Target::Generic,
            encoder: EncoderKind::Lfsr,
            timesteps: None,
            spike_word: 32,
            arch: Arch::Auto,
            weights: WeightStore::Auto,
        }
    }
}

/// Leak as the templates see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LeakHw {
    /// No leak.
    None,
    /// `v - (v >>> k)`.
    Shift(u8),
    /// `(v * beta_q) >>> f`.
    Multiply(i32, u8),
}

impl From<Leak> for LeakHw {
    fn from(l: Leak) -> Self {
        match l {
            Leak::None => LeakHw::None,
            Leak::Shift { k } => LeakHw::Shift(k),
            Leak::Multiply { beta_q, frac_bits } => LeakHw::Multiply(beta_q, frac_bits),
        }
    }
}

fn leak_desc(l: Leak) -> String {
    match l {
        Leak::None => "none".into(),
        Leak::Shift { k } => format!("v - (v >>> {k})"),
        Leak::Multiply { beta_q, frac_bits } => format!("(v * {beta_q}) >>> {frac_bits}"),
    }
}

/// Reset as the templates see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ResetHw {
    /// `v -= theta`.
    Subtract,
    /// `v = 0`.
    Zero,
    /// No reset.
    None,
}

/// One layer core.
#[derive(Clone, Debug, Serialize)]
pub struct LayerPlan {
    /// Layer name (a checked identifier).
    pub name: String,
    /// Wire prefix of this layer's input in the top module (`src` or `l_<previous>`).
    pub src: String,
    /// Fan-in.
    pub fi: usize,
    /// Neurons.
    pub n: usize,
    /// Weights per weight word (`P`).
    pub pp: usize,
    /// Weight words per active input (`ceil(n / P)`).
    pub g: usize,
    /// Group counter width.
    pub gw: usize,
    /// Neurons per neuron-phase cycle.
    pub nu: usize,
    /// Neuron-phase cycles per timestep.
    pub gn: usize,
    /// Neuron-phase counter width.
    pub kw: usize,
    /// Neurons including padding (`gn * nu`, at least `g * P`).
    pub npad: usize,
    /// Weight bits.
    pub wb: usize,
    /// Current accumulator bits (from the actual weights and biases; cannot overflow).
    pub ab: usize,
    /// Membrane bits.
    pub mb: usize,
    /// Internal arithmetic width of the neuron unit.
    pub w: usize,
    /// Scanner chunk width (power of two).
    pub c: usize,
    /// Scanner chunks.
    pub nc: usize,
    /// Bits of the in-chunk index.
    pub cw: usize,
    /// Bits of the chunk index.
    pub ciw: usize,
    /// Input address bits.
    pub aiw: usize,
    /// Weight memory address bits.
    pub maw: usize,
    /// Weight memory depth (`2^maw`, zero padded).
    pub depth: usize,
    /// `$readmemh` file name.
    pub weight_file: String,
    /// `$readmemh` file of the biases (`bias_words`).
    pub bias_file: String,
    /// Bias memory depth: `npad` words of `ab` bits (one per neuron), or with `mem` `2^gw`
    /// words (1 when `G = 1`) of `P * ab` bits (one per group of `P` neurons, neuron
    /// `group * P` least significant; zero past the last group).
    pub bias_depth: usize,
    /// Largest membrane value.
    pub vmax: i64,
    /// Magnitude of the smallest membrane value.
    pub vmin_abs: i64,
    /// Threshold.
    pub theta: i32,
    /// Membrane leak.
    pub leak: LeakHw,
    /// Synaptic current leak (when `syn`).
    pub syn_leak: LeakHw,
    /// Current-based LIF.
    pub syn: bool,
    /// SpikingJelly firing rule.
    pub rule_sj: bool,
    /// Reset.
    pub reset: ResetHw,
    /// The neuron unit needs a zero constant.
    pub uses_zero: bool,
    /// Human-readable rule.
    pub rule_name: String,
    /// Human-readable reset.
    pub reset_name: String,
    /// Human-readable leak.
    pub leak_desc: String,
    /// Human-readable synaptic leak.
    pub syn_leak_desc: String,
    /// Memory-based neuron state (`--arch mem`): `P` accumulators, potentials in RAM.
    pub mem: bool,
    /// Weights written at run time through the load port (no `$readmemh`).
    pub load: bool,
    /// Weight memory marked for the iCE40 SPRAM (`ram_style = "huge"`).
    pub spram: bool,
    /// Weight words in use (`mem`: `G * fi`, address `group * fi + input`).
    pub wdepth: usize,
    /// Bytes per weight word on the load port (little-endian).
    pub wbytes: usize,
    /// Active-input list address bits (`mem`, `G > 1`).
    pub law: usize,
    /// Active-input list depth.
    pub ldepth: usize,
    /// Width of the active-input counters (holds `fi`).
    pub lw: usize,
    /// Zero bits to extend an input address to a memory address (`maw - aiw`).
    pub apad: usize,
    /// Potential-memory word bits (`P * mb`, doubled with synaptic current).
    pub vw: usize,
    /// Testbench expression of all potentials (neuron 0 least significant), relative to the
    /// layer instance (`mem`: the potential RAM's words).
    pub trace_v: String,
    /// Same for the synaptic currents.
    pub trace_syn: String,
    /// Neuron parameters (golden model's).
    #[serde(skip)]
    pub params: IntLifParams,
    /// Weight memory contents, one hex word per line (`depth` lines).
    #[serde(skip)]
    pub weight_words: Vec<String>,
    /// Bias memory contents, one hex word per line (`bias_depth` lines).
    #[serde(skip)]
    pub bias_words: Vec<String>,
}

/// LFSR encoder parameters.
#[derive(Clone, Debug, Serialize)]
pub struct EncoderPlan {
    /// Seed of `Encoding::Lfsr`.
    pub seed: u32,
    /// Lanes (pixels per cycle).
    pub lanes: usize,
    /// Pixel groups per image.
    pub groups: usize,
    /// Group counter width.
    pub gw: usize,
    /// Width of a counter that reaches `groups`.
    pub gw2: usize,
    /// Pixel memory depth.
    pub depth: usize,
    /// Lane start states, hex literal (lane 0 least significant).
    pub seeds_hex: String,
    /// One pixel per cycle with one xorshift unit (`--arch mem`), instead of one group of
    /// `lanes` pixels per cycle.
    pub serial: bool,
    /// Read cycles per timestep: `groups * phases` (parallel) or `groups * lanes` (serial).
    pub run_len: usize,
    /// Xorshift units of the parallel encoder (`lanes / phases`).
    pub units: usize,
    /// Cycles per pixel group of the parallel encoder: the units serve `units` lanes per cycle.
    pub phases: usize,
    /// Phase counter width.
    pub pw: usize,
    /// Lane counter width.
    pub lw: usize,
    /// Lane start states, one 32-bit hex word per lane.
    pub seed_words: Vec<String>,
}

/// Spike-word input parameters.
#[derive(Clone, Debug, Serialize)]
pub struct SpikeInPlan {
    /// Bits per beat.
    pub sw: usize,
    /// Beats per timestep.
    pub beats: usize,
    /// Beat counter width.
    pub bw: usize,
}

/// One layer's share of the run-time weight load.
#[derive(Clone, Debug, Serialize)]
pub struct LoadLayer {
    /// Layer name.
    pub name: String,
    /// Words.
    pub words: usize,
    /// Bytes per word.
    pub bytes: usize,
    /// The layer's weight word bits.
    pub width: usize,
    /// The layer's weight address bits.
    pub maw: usize,
    /// `$readmemh` file with the words (testbench).
    pub file: String,
}

/// The byte-stream weight loader (layers with `load`).
#[derive(Clone, Debug, Serialize)]
pub struct LoaderPlan {
    /// Loaded layers in load order.
    pub layers: Vec<LoadLayer>,
    /// Layer index bits.
    pub liw: usize,
    /// Word counter bits (widest layer address).
    pub aw: usize,
    /// Byte counter bits.
    pub bw: usize,
    /// Assembly register bits (widest word, whole bytes).
    pub ww: usize,
    /// Bytes in the whole load stream.
    pub total_bytes: usize,
}

/// Readout parameters.
#[derive(Clone, Debug, Serialize)]
pub struct ReadoutPlan {
    /// Spike counter bits.
    pub cb: usize,
    /// Class bits.
    pub kw: usize,
    /// Beat counter bits.
    pub ew: usize,
    /// Output data width (`m_axis_tdata`).
    pub ow: usize,
}

/// Design-wide numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Header {
    /// Module prefix (the model name).
    pub p: String,
    /// Top module name.
    pub top: String,
    /// Network inputs.
    pub inputs: usize,
    /// Network outputs.
    pub outputs: usize,
    /// Timesteps.
    pub timesteps: usize,
    /// Step counter width.
    pub tw: usize,
    /// LFSR input stage.
    pub lfsr: bool,
    /// `s_axis_tdata` width.
    pub sw: usize,
    /// Input beats per image.
    pub beats: usize,
    /// Name of the last layer.
    pub last: String,
    /// e.g. "784-128-10".
    pub shape_desc: String,
    /// Input protocol in words.
    pub in_desc: String,
    /// Testbench watchdog (cycles without progress).
    pub timeout: u64,
    /// Any layer with synaptic current.
    pub any_syn: bool,
}

/// The whole design.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Design-wide numbers.
    pub header: Header,
    /// Layer cores in order.
    pub layers: Vec<LayerPlan>,
    /// LFSR encoder (when `header.lfsr`).
    pub encoder: Option<EncoderPlan>,
    /// Spike input (otherwise).
    pub spike_in: Option<SpikeInPlan>,
    /// Readout.
    pub readout: ReadoutPlan,
    /// Run-time weight loader (when any layer has `load`).
    pub loader: Option<LoaderPlan>,
    /// Options used.
    pub options: Options,
    /// The model (with the timesteps override applied).
    #[serde(skip)]
    pub model: IntModel,
}

/// `ceil(log2(n))`, at least 1 (a register is never zero bits wide).
pub fn clog2(n: usize) -> usize {
    ((usize::BITS - n.saturating_sub(1).leading_zeros()) as usize).max(1)
}

/// Bits needed to hold the value `n` (at least 1).
pub fn bits_for(n: usize) -> usize {
    ((usize::BITS - n.leading_zeros()) as usize).max(1)
}

/// Signed bits that hold every value of `[lo, hi]`.
fn signed_bits(lo: i64, hi: i64) -> usize {
    let mut b = 1;
    while !(-(1i64 << (b - 1)) <= lo && hi < (1i64 << (b - 1))) {
        b += 1;
    }
    b
}

/// `width`-bit two's complement of `v` as hex digits (`ceil(width / 4)` of them).
fn push_bits(bits: &mut Vec<bool>, v: i64, width: usize) {
    for i in 0..width {
        bits.push((v >> i.min(63)) & 1 == 1);
    }
}

/// Hex string of a little-endian bit vector (first bit least significant).
pub fn hex_of_bits(bits: &[bool]) -> String {
    let digits = bits.len().div_ceil(4).max(1);
    let mut s = String::with_capacity(digits);
    for d in (0..digits).rev() {
        let mut v = 0u32;
        for b in 0..4 {
            if bits.get(d * 4 + b).copied().unwrap_or(false) {
                v |= 1 << b;
            }
        }
        s.push(char::from_digit(v, 16).unwrap());
    }
    s
}

/// Largest initialised (ROM) weight memory (bits) per target before we refuse: the iCE40 UP5K
/// has 30 EBR of 4 Kbit; its SPRAM cannot be initialised from the bitstream, so larger weights
/// must be loaded at run time (`--weights load`, the default there for layers above
/// [`AUTO_LOAD_BITS`]).
fn memory_limit_bits(target: Target) -> Option<usize> {
    match target {
        Target::Ice40up5k => Some(30 * 4096),
        _ => None,
    }
}

/// With `--weights auto` on the iCE40, layers with more weight bits than this (8 EBR) are loaded
/// into SPRAM at run time; smaller ones stay in initialised EBR.
pub const AUTO_LOAD_BITS: usize = 8 * 4096;

impl Options {
    /// The architecture after resolving `auto` for the target.
    pub fn resolved_arch(&self) -> Arch {
        match (self.arch, self.target) {
            (Arch::Auto, Target::Ice40up5k) => Arch::Mem,
            (Arch::Auto, _) => Arch::Regs,
            (a, _) => a,
        }
    }
}

impl Plan {
    /// Validates the model against what the hardware supports and decides every number.
    pub fn new(model: &IntModel, opts: &Options) -> Result<Plan> {
        let mut model = model.clone();
        if let Some(t) = opts.timesteps {
            if t == 0 || t > 65_535 {
                return Err(Error::Input(format!(
                    "--timesteps {t} is outside 1..=65535"
                )));
            }
            model.timesteps = t;
        }
        model
            .validate()
            .map_err(|e| Error::Input(format!("model: {e}")))?;
        check_identifier(&model.name, "model name").map_err(|e| Error::Input(e.to_string()))?;
        if let Some(p) = opts.parallel
            && p == 0
        {
            return Err(Error::Input("--parallel must be at least 1".into()));
        }
        if let Some(list) = &opts.parallel_layers {
            if opts.parallel.is_some() {
                return Err(Error::Input(
                    "give either one --parallel value or one per layer, not both".into(),
                ));
            }
            let dense: Vec<&str> = model
                .layers
                .iter()
                .filter(|l| matches!(l.op, LayerOp::Dense { .. }))
                .map(|l| l.name.as_str())
                .collect();
            if list.len() != dense.len() {
                return Err(Error::Input(format!(
                    "--parallel lists {} values for the {} dense layers of this model ({}): give \
                     one value per layer, or a single value for all",
                    list.len(),
                    dense.len(),
                    dense.join(", ")
                )));
            }
        }
        if let Some(u) = opts.neuron_units
            && u == 0
        {
            return Err(Error::Input("neuron units must be at least 1".into()));
        }
        if !(2..=4096).contains(&opts.spike_word) {
            return Err(Error::Input(format!(
                "spike word width {} is outside 2..=4096",
                opts.spike_word
            )));
        }
        let inputs = model.input.len();
        if inputs < 2 {
            return Err(Error::Input("the hardware needs at least 2 inputs".into()));
        }
        let mut layers = Vec::new();
        let mut prev = inputs;
        for l in &model.layers {
            match (l.op, l.neuron) {
                (LayerOp::Flatten { .. }, None) => continue,
                (LayerOp::Dense { inputs, outputs }, Some(params)) => {
                    if inputs != prev {
                        return Err(Error::Input(format!(
                            "layer {:?}: {inputs} inputs after a layer of {prev}",
                            l.name
                        )));
                    }
                    let src = layers
                        .last()
                        .map(|p: &LayerPlan| format!("l_{}", p.name))
                        .unwrap_or_else(|| "src".into());
                    let first = layers.first().map(|f: &LayerPlan| (f.g, f.gn));
                    let fixed_pp = opts.parallel_layers.as_ref().map(|v| v[layers.len()]);
                    layers.push(plan_layer(
                        l,
                        inputs,
                        outputs,
                        params,
                        opts,
                        src,
                        &model.name,
                        first,
                        fixed_pp,
                    )?);
                    prev = outputs;
                }
                (op, _) => {
                    return Err(Error::Input(format!(
                        "layer {:?}: codegen supports dense layers with LIF neurons (and \
                         flatten); {op:?} is not supported",
                        l.name
                    )));
                }
            }
        }
        if layers.is_empty() {
            return Err(Error::Input("the model has no dense spiking layer".into()));
        }
        let rom_bits: usize = layers
            .iter()
            .filter(|l| !l.load)
            .map(|l| l.fi * l.n * l.wb)
            .sum();
        if let Some(limit) = memory_limit_bits(opts.target)
            && rom_bits > limit
        {
            return Err(Error::Input(format!(
                "the model's {rom_bits} initialised weight bits do not fit the {} block RAM \
                 ({limit} bits); load them into SPRAM at run time with --arch mem --weights \
                 load",
                opts.target.name()
            )));
        }
        let t = model.timesteps;
        let outputs = layers.last().unwrap().n;
        let (encoder, spike_in, sw, beats, in_desc) = match opts.encoder {
            EncoderKind::Lfsr => {
                let Encoding::Lfsr { seed, lanes } = model.encoding else {
                    return Err(Error::Input(format!(
                        "--encoder lfsr needs a model with lfsr encoding (the golden model must \
                         encode like the chip); this model uses {:?}: use --encoder spikes",
                        model.encoding
                    )));
                };
                let lanes = lanes as usize;
                if !(1..=256).contains(&lanes) {
                    return Err(Error::Input(format!("lfsr lanes {lanes} outside 1..=256")));
                }
                let groups = inputs.div_ceil(lanes);
                let gw = clog2(groups);
                let mut bits = Vec::new();
                for l in 0..lanes {
                    push_bits(
                        &mut bits,
                        kernels::encode::lfsr_lane_seed(seed, l as u32) as i64,
                        32,
                    );
                }
                let serial = opts.resolved_arch() == Arch::Mem;
                // The first layer needs about G cycles per active input (G weight words), and
                // typically an eighth of the pixels spike per step: an encoder that takes up to
                // G cycles per group of lanes keeps up with it, with lanes / G xorshift units.
                let g0 = layers[0].g;
                let phases = (1..=lanes)
                    .filter(|f| lanes.is_multiple_of(*f) && *f <= g0)
                    .max()
                    .unwrap_or(1);
                let e = EncoderPlan {
                    seed,
                    lanes,
                    groups,
                    gw,
                    gw2: bits_for(groups),
                    depth: 1 << gw,
                    seeds_hex: hex_of_bits(&bits),
                    serial,
                    run_len: if serial {
                        groups * lanes
                    } else {
                        groups * phases
                    },
                    units: lanes / phases,
                    phases,
                    pw: clog2(phases),
                    lw: clog2(lanes),
                    seed_words: (0..lanes)
                        .map(|l| format!("{:08x}", kernels::encode::lfsr_lane_seed(seed, l as u32)))
                        .collect(),
                };
                let desc = format!(
                    "{groups} beats of {lanes} 8-bit pixels per image (byte l of beat g is pixel \
                     g*{lanes}+l), rate-encoded on chip by the LFSR"
                );
                (Some(e), None, lanes * 8, groups, desc)
            }
            EncoderKind::Spikes => {
                let sw = opts.spike_word;
                let b = inputs.div_ceil(sw);
                let s = SpikeInPlan {
                    sw,
                    beats: b,
                    bw: clog2(b),
                };
                let desc = format!(
                    "{t} timesteps x {b} beats of {sw} spike bits (bit i of beat b is input \
                     b*{sw}+i)"
                );
                (None, Some(s), sw, t * b, desc)
            }
        };
        let cb = bits_for(t);
        let kw = clog2(outputs);
        let readout = ReadoutPlan {
            cb,
            kw,
            ew: bits_for(outputs),
            ow: cb.max(kw).div_ceil(8) * 8,
        };
        let mut shape = vec![inputs.to_string()];
        shape.extend(layers.iter().map(|l| l.n.to_string()));
        let worst: u64 = layers
            .iter()
            .map(|l| (l.fi * l.g + l.nc + l.gn + 8) as u64)
            .sum::<u64>()
            * (t as u64 + 1)
            + 4 * beats as u64
            + 1000;
        let header = Header {
            p: model.name.clone(),
            top: format!("{}_top", model.name),
            inputs,
            outputs,
            timesteps: t,
            tw: clog2(t),
            lfsr: encoder.is_some(),
            sw,
            beats,
            last: layers.last().unwrap().name.clone(),
            shape_desc: shape.join("-"),
            in_desc,
            timeout: worst,
            any_syn: layers.iter().any(|l| l.syn),
        };
        let loaded: Vec<LoadLayer> = layers
            .iter()
            .filter(|l| l.load)
            .map(|l| LoadLayer {
                name: l.name.clone(),
                words: l.wdepth,
                bytes: l.wbytes,
                width: l.pp * l.wb,
                maw: l.maw,
                file: l.weight_file.clone(),
            })
            .collect();
        let loader = (!loaded.is_empty()).then(|| {
            let maxb = loaded.iter().map(|l| l.bytes).max().unwrap();
            LoaderPlan {
                liw: clog2(loaded.len()),
                aw: loaded.iter().map(|l| l.maw).max().unwrap(),
                bw: clog2(maxb),
                ww: maxb * 8,
                total_bytes: loaded.iter().map(|l| l.words * l.bytes).sum(),
                layers: loaded,
            }
        });
        Ok(Plan {
            header,
            layers,
            encoder,
            spike_in,
            readout,
            loader,
            options: opts.clone(),
            model,
        })
    }

    /// Total weight memory bits (payload, without padding).
    pub fn weight_bits(&self) -> usize {
        self.layers.iter().map(|l| l.fi * l.n * l.wb).sum()
    }

    /// Neurons.
    pub fn neurons(&self) -> usize {
        self.layers.iter().map(|l| l.n).sum()
    }

    /// Synapses.
    pub fn synapses(&self) -> usize {
        self.layers.iter().map(|l| l.fi * l.n).sum()
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_layer(
    l: &kernels::model::IntLayer,
    fi: usize,
    n: usize,
    params: IntLifParams,
    opts: &Options,
    src: String,
    model_name: &str,
    first: Option<(usize, usize)>,
    fixed_pp: Option<usize>,
) -> Result<LayerPlan> {
    // (weight words per input, neuron-phase cycles) of the first layer, for later layers.
    let first_groups = first.map(|f| f.0);
    check_identifier(&l.name, "layer name").map_err(|e| Error::Input(e.to_string()))?;
    let wb = l.weight_bits as usize;
    let mem = opts.resolved_arch() == Arch::Mem;
    let mut pp = opts.parallel.unwrap_or(if mem { 2 } else { 128 }).min(n);
    if let Some(p) = fixed_pp {
        if !(1..=n).contains(&p) {
            return Err(Error::Input(format!(
                "--parallel: layer {:?} has {n} neurons; its P = {p} is outside 1..={n}",
                l.name
            )));
        }
        pp = p;
    } else if mem && let Some(g0) = first_groups {
        // Later layers see far fewer spikes than the first: give them only as many lanes as
        // keep their group count at or below the first layer's, so that they never become
        // the bottleneck of the layer pipeline but cost few neuron units.
        pp = n.div_ceil(g0).clamp(1, pp);
    }
    if pp * wb > 4096 {
        return Err(Error::Input(format!(
            "layer {:?}: a weight word of {pp} x {wb} bits exceeds 4096 bits; lower --parallel",
            l.name
        )));
    }
    let g = n.div_ceil(pp);
    let nu = if mem {
        // One neuron unit per accumulator: the neuron phase of a group is one cycle.
        if let Some(u) = opts.neuron_units
            && u != pp
            && first_groups.is_none()
        {
            return Err(Error::Input(format!(
                "layer {:?}: --arch mem updates the P = {pp} neurons of a group in one cycle; \
                 --neuron-units {u} must equal P (or be left out)",
                l.name
            )));
        }
        pp
    } else if let Some(u) = opts.neuron_units {
        u.min(n)
    } else if let Some((_, gn0)) = first {
        // Later layers see far fewer spikes than the first and finish their steps early: give
        // them only as many neuron units as keep their neuron phase at or below the first
        // layer's (MNIST fc2: 2 units, 5 cycles instead of 10 units, 1 cycle).
        n.div_ceil(gn0).clamp(1, 16)
    } else {
        n.min(16)
    };
    let npad = (g * pp).max(n).div_ceil(nu) * nu;
    // mem: the neuron phase of a group is two cycles (compute, write back).
    let gn = if mem { 2 } else { npad / nu };
    // Accumulator range from the actual weights: bias + all negative (positive) weights.
    let (mut lo, mut hi) = (0i64, 0i64);
    for o in 0..n {
        let b = l.bias.get(o).copied().unwrap_or(0) as i64;
        let row = &l.weights[o * fi..(o + 1) * fi];
        let neg: i64 = row.iter().filter(|&&w| w < 0).map(|&w| w as i64).sum();
        let pos: i64 = row.iter().filter(|&&w| w > 0).map(|&w| w as i64).sum();
        lo = lo.min(b + neg);
        hi = hi.max(b + pos);
    }
    let ab = signed_bits(lo, hi).max(wb + 1);
    let mb = params.membrane_bits as usize;
    let w = mb.max(ab) + 3;
    let c = fi.next_power_of_two().clamp(2, 32);
    let nc = fi.div_ceil(c);
    let cw = c.trailing_zeros() as usize;
    let ciw = clog2(nc);
    let aiw = ciw + cw;
    let gw = clog2(g);
    let wdepth = g * fi;
    let maw = if mem {
        clog2(wdepth).max(aiw)
    } else {
        aiw + if g > 1 { gw } else { 0 }
    };
    if maw > 24 {
        return Err(Error::Input(format!(
            "layer {:?}: weight memory of 2^{maw} words is too large",
            l.name
        )));
    }
    let depth = 1usize << maw;
    // Weight words: address (j << gw) | group, lane i = neuron group*P + i.
    let zero = hex_of_bits(&vec![false; pp * wb]);
    let mut words = vec![zero; depth];
    let mut bits = Vec::with_capacity(pp * wb);
    for j in 0..fi {
        for grp in 0..g {
            bits.clear();
            for i in 0..pp {
                let o = grp * pp + i;
                let w = if o < n {
                    l.weights[o * fi + j] as i64
                } else {
                    0
                };
                push_bits(&mut bits, w, wb);
            }
            let addr = if mem {
                grp * fi + j
            } else if g > 1 {
                (j << gw) | grp
            } else {
                j
            };
            words[addr] = hex_of_bits(&bits);
        }
    }
    let mut bbits = Vec::with_capacity(npad * ab);
    for o in 0..npad {
        let b = if o < n {
            l.bias.get(o).copied().unwrap_or(0) as i64
        } else {
            0
        };
        push_bits(&mut bbits, b, ab);
    }
    // One word per neuron (regs: each neuron's accumulator loads its own) or per group of P
    // neurons (mem: the accumulators load a group at a time), padded to a power of two.
    let bias_words: Vec<String> = if mem {
        let depth = if g > 1 { 1usize << gw } else { 1 };
        (0..depth)
            .map(|grp| match bbits.get(grp * pp * ab..(grp + 1) * pp * ab) {
                Some(b) if grp < g => hex_of_bits(b),
                _ => hex_of_bits(&vec![false; pp * ab]),
            })
            .collect()
    } else {
        bbits.chunks(ab).map(hex_of_bits).collect()
    };
    let layer_bits = fi * n * wb;
    let load = match opts.weights {
        WeightStore::Rom => false,
        WeightStore::Load => true,
        WeightStore::Auto => mem && opts.target == Target::Ice40up5k && layer_bits > AUTO_LOAD_BITS,
    };
    if load && !mem {
        return Err(Error::Input(
            "--weights load needs --arch mem (the register architecture reads a ROM)".into(),
        ));
    }
    let syn = params.syn_leak.is_some();
    let syn_leak = params.syn_leak.unwrap_or(Leak::None);
    let inst = format!("dut.u_{}", l.name);
    let (trace_v, trace_syn) = if !mem {
        (format!("{inst}.v_flat"), format!("{inst}.syn_flat"))
    } else {
        let lo = format!("{}:0", pp * mb - 1);
        let hi = format!("{}:{}", 2 * pp * mb - 1, pp * mb);
        let word = |grp: usize, r: &str| {
            if g > 1 {
                format!("{inst}.vmem[{grp}][{r}]")
            } else {
                format!("{inst}.vrd_q[{r}]")
            }
        };
        let cat = |r: &str| {
            let parts: Vec<String> = (0..g).rev().map(|grp| word(grp, r)).collect();
            format!("{{{}}}", parts.join(", "))
        };
        (cat(&lo), cat(&hi))
    };
    Ok(LayerPlan {
        trace_v,
        trace_syn,
        mem,
        load,
        spram: load && opts.target == Target::Ice40up5k,
        wdepth,
        wbytes: (pp * wb).div_ceil(8),
        law: clog2(fi),
        ldepth: 1 << clog2(fi),
        lw: bits_for(fi),
        apad: maw - aiw,
        vw: pp * mb * if syn { 2 } else { 1 },
        bias_file: format!("{}_{}_bias.hex", model_name, l.name),
        bias_depth: bias_words.len(),
        name: l.name.clone(),
        src,
        fi,
        n,
        pp,
        g,
        gw,
        nu,
        gn,
        kw: clog2(gn),
        npad,
        wb,
        ab,
        mb,
        w,
        c,
        nc,
        cw,
        ciw,
        aiw,
        maw,
        depth,
        weight_file: format!("{}_{}_weights.hex", model_name, l.name),
        vmax: params.v_max(),
        vmin_abs: -params.v_min(),
        theta: params.threshold,
        leak: params.leak.into(),
        syn_leak: syn_leak.into(),
        syn,
        rule_sj: params.rule == FiringRule::Spikingjelly,
        reset: match params.reset {
            ResetMode::Subtract => ResetHw::Subtract,
            ResetMode::Zero => ResetHw::Zero,
            ResetMode::None => ResetHw::None,
        },
        uses_zero: match params.reset {
            ResetMode::None => false,
            ResetMode::Zero => true,
            ResetMode::Subtract => params.rule == FiringRule::Snntorch,
        },
        rule_name: format!("{:?}", params.rule).to_lowercase(),
        reset_name: format!("{:?}", params.reset).to_lowercase(),
        leak_desc: leak_desc(params.leak),
        syn_leak_desc: leak_desc(syn_leak),
        params,
        weight_words: words,
        bias_words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(clog2(1), 1);
        assert_eq!(clog2(2), 1);
        assert_eq!(clog2(3), 2);
        assert_eq!(clog2(128), 7);
        assert_eq!(bits_for(25), 5);
        assert_eq!(bits_for(10), 4);
        assert_eq!(signed_bits(-128, 127), 8);
        assert_eq!(signed_bits(-129, 0), 9);
        assert_eq!(signed_bits(0, 128), 9);
    }

    #[test]
    fn hex() {
        // -1 in 4 bits then 2 in 4 bits: 0x2f.
        let mut b = Vec::new();
        push_bits(&mut b, -1, 4);
        push_bits(&mut b, 2, 4);
        assert_eq!(hex_of_bits(&b), "2f");
        let mut b = Vec::new();
        push_bits(&mut b, -2, 6); // 111110, padded to 8 bits: 0x3e
        assert_eq!(hex_of_bits(&b), "3e");
    }
}
