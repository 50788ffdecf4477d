//! NIR graph -> `kernels::model::Model`: graph checks, layer order from the edges, and the
//! continuous-to-discrete parameter mapping of each framework.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use kernels::decode::Readout;
use kernels::model::{Encoding, Layer, LayerOp, Model, Shape, check_identifier};
use kernels::neuron::{FiringRule, LiParams, LifParams, Neuron, PerNeuron, ResetMode};

use crate::graph::{Graph, Node, Param};
use crate::{Error, Result};

/// Whose discretisation of NIR's continuous-time neurons to apply.
///
/// NIR stores `tau`, `r`, `v_leak`, `v_threshold`; every framework turns them into a per-step
/// update with its own `dt`, its own reset and its own firing comparison. The mapping must be
/// the one of the framework that *trained* the model, or the imported network computes
/// something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Semantics {
    /// snnTorch `Leaky` / `Synaptic` (its exporter writes `tau = dt / (1 - beta)`,
    /// `r = tau / dt` with `dt = 1e-4`): `beta = 1 - dt / tau`, subtract reset (snnTorch's
    /// default, although the file says `v_reset = 0`), spike `v > theta`, reset applied at the
    /// next step.
    #[default]
    Snntorch,
    /// Norse `LIFBoxCell` (its exporter writes `tau = 1 / tau_mem_inv`, `r = 1`; default
    /// `dt = 1e-3`): `v = v + dt / tau * (v_leak - v + r * I)`, reset to `v_reset` in the same
    /// step.
    Norse,
    /// SpikingJelly `LIFNode` / `IFNode` discretisation (`decay_input = True`, `tau` in steps
    /// `= tau / dt`, default `dt = 1e-3`): spike `h >= theta`, reset in the same step.
    Spikingjelly,
}

impl Semantics {
    /// Parses `snntorch`, `norse` or `spikingjelly`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "snntorch" => Ok(Semantics::Snntorch),
            "norse" => Ok(Semantics::Norse),
            "spikingjelly" => Ok(Semantics::Spikingjelly),
            _ => Err(Error::Options(format!(
                "semantics {s:?} is not one of snntorch, norse, spikingjelly"
            ))),
        }
    }

    /// The framework's time step when the user gives none.
    pub fn default_dt(self) -> f64 {
        match self {
            Semantics::Snntorch => 1e-4,
            Semantics::Norse | Semantics::Spikingjelly => 1e-3,
        }
    }

    /// The framework's default reset.
    pub fn default_reset(self) -> ResetMode {
        match self {
            Semantics::Snntorch => ResetMode::Subtract,
            Semantics::Norse | Semantics::Spikingjelly => ResetMode::Zero,
        }
    }

    /// When spikes fire and resets act.
    pub fn rule(self) -> FiringRule {
        match self {
            Semantics::Snntorch => FiringRule::Snntorch,
            Semantics::Norse | Semantics::Spikingjelly => FiringRule::Spikingjelly,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Semantics::Snntorch => "snntorch",
            Semantics::Norse => "norse",
            Semantics::Spikingjelly => "spikingjelly",
        }
    }
}

/// Parses a reset option: `subtract` or `zero`.
pub fn parse_reset(s: &str) -> Result<ResetMode> {
    match s.to_ascii_lowercase().as_str() {
        "subtract" => Ok(ResetMode::Subtract),
        "zero" => Ok(ResetMode::Zero),
        _ => Err(Error::Options(format!(
            "reset {s:?} is not one of subtract, zero"
        ))),
    }
}

/// How input images become spikes (NIR stores no encoding; saved in the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InputEncoding {
    /// Bernoulli rate coding (the default).
    #[default]
    Rate,
    /// Analog values fed to the first layer every step.
    Direct,
}

impl InputEncoding {
    /// Parses `rate` or `direct`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "rate" => Ok(InputEncoding::Rate),
            "direct" => Ok(InputEncoding::Direct),
            _ => Err(Error::Options(format!(
                "encoding {s:?} is not one of rate, direct"
            ))),
        }
    }
}

/// Options of [`import`]. NIR stores neither the time step nor the timestep count nor the input
/// encoding; these choices are saved in the returned model.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportOptions {
    /// Time step in seconds; `None` uses the framework's default ([`Semantics::default_dt`]).
    pub dt: Option<f64>,
    /// Whose discretisation to apply.
    pub semantics: Semantics,
    /// Reset mechanism; `None` uses the framework's default ([`Semantics::default_reset`]).
    pub reset: Option<ResetMode>,
    /// Timesteps per inference (default 25).
    pub timesteps: usize,
    /// Input encoding (default rate).
    pub encoding: InputEncoding,
    /// Seed of the rate encoder.
    pub seed: u64,
    /// Model name; `None` derives it from the file name.
    pub name: Option<String>,
    /// How a non-spiking readout output layer (`LI`, `CubaLI`, `I`) is decoded into class
    /// scores (saved in the model; default: maximum over time, as Norse's examples do).
    pub readout: Readout,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dt: None,
            semantics: Semantics::Snntorch,
            reset: None,
            timesteps: 25,
            encoding: InputEncoding::Rate,
            seed: 0,
            name: None,
            readout: Readout::Max,
        }
    }
}

/// How one model layer was built.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerMapping {
    /// The model layer's name.
    pub layer: String,
    /// The NIR nodes folded into it, in graph order.
    pub nodes: Vec<String>,
    /// The formulas and values used, in words.
    pub detail: String,
}

/// Which mapping was applied, for printing (`Display`) and for checks.
#[derive(Clone, Debug, PartialEq)]
pub struct MappingReport {
    /// NIR version written in the file.
    pub nir_version: String,
    /// Semantics applied.
    pub semantics: Semantics,
    /// Time step used, seconds.
    pub dt: f64,
    /// Reset used.
    pub reset: ResetMode,
    /// Firing rule used.
    pub rule: FiringRule,
    /// Per layer.
    pub layers: Vec<LayerMapping>,
    /// Warnings: parameters ignored or approximations taken.
    pub notes: Vec<String>,
}

impl fmt::Display for MappingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = match self.rule {
            FiringRule::Snntorch => "spike v > theta, reset at the next step",
            FiringRule::Spikingjelly => "spike v >= theta, reset in the same step",
        };
        writeln!(
            f,
            "NIR {} mapped with {} semantics: dt = {} s, {:?} reset, {rule}",
            if self.nir_version.is_empty() {
                "(no version)"
            } else {
                &self.nir_version
            },
            self.semantics.name(),
            self.dt,
            self.reset
        )?;
        for l in &self.layers {
            writeln!(f, "  {} <- [{}]: {}", l.layer, l.nodes.join(", "), l.detail)?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

/// Reads the NIR file at `path` and maps it to a float [`Model`].
pub fn import(path: &Path, opts: &ImportOptions) -> Result<(Model, MappingReport)> {
    let g = crate::graph::read_file(path)?;
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => safe_name(
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .as_deref()
                .unwrap_or("nir_model"),
        ),
    };
    import_graph(&g, &name, opts).map_err(|e| e.in_file(path))
}

/// Maps the bytes of a NIR file (for callers that hold the file in memory).
pub fn import_bytes(bytes: &[u8], opts: &ImportOptions) -> Result<(Model, MappingReport)> {
    let g = crate::graph::read_bytes(bytes)?;
    let name = opts.name.clone().unwrap_or_else(|| "nir_model".into());
    import_graph(&g, &name, opts)
}

/// Turns an arbitrary node or file name into a safe identifier (`kernels::model` refuses
/// anything else because names reach Verilog).
fn safe_name(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "n_");
    }
    s.truncate(56);
    if check_identifier(&s, "name").is_err() {
        s.push_str("_n");
    }
    s
}

/// Maps an already-read NIR graph to a float [`Model`] named `name`.
pub fn import_graph(g: &Graph, name: &str, opts: &ImportOptions) -> Result<(Model, MappingReport)> {
    check_identifier(name, "model name")
        .map_err(|e| Error::Options(format!("{e} (choose another name)")))?;
    if opts.timesteps == 0 || opts.timesteps > kernels::model::MAX_TIMESTEPS {
        return Err(Error::Options(format!(
            "timesteps {} is outside 1..={}",
            opts.timesteps,
            kernels::model::MAX_TIMESTEPS
        )));
    }
    let dt = opts.dt.unwrap_or(opts.semantics.default_dt());
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::Options(format!(
            "dt {dt} must be a positive number of seconds"
        )));
    }
    let reset = opts.reset.unwrap_or(opts.semantics.default_reset());
    if reset == ResetMode::None {
        return Err(Error::Options("reset must be subtract or zero".to_string()));
    }
    check_edges(g, "")?;
    if let Some((n, _)) = g.nodes.iter().find(|(_, n)| n.graph.is_some()) {
        return Err(Error::Graph(format!(
            "node {n:?} is a nested NIRGraph (snnTorch writes its recurrent RLeaky/RSynaptic \
             layers that way); nested graphs are not supported, only feed-forward chains"
        )));
    }
    let chain = order_chain(g)?;
    let mut b = Builder {
        readout: opts.readout,
        dt,
        reset,
        sem: opts.semantics,
        layers: Vec::new(),
        mappings: Vec::new(),
        notes: Vec::new(),
        pending: None,
        pool: None,
        in_scale: None,
        shape: Vec::new(),
        names: BTreeSet::new(),
    };
    let input_shape = b.input(&chain[0], &g.nodes[&chain[0]])?;
    for n in &chain[1..chain.len() - 1] {
        b.node(n, &g.nodes[n])?;
    }
    let last = chain.last().unwrap();
    b.output(last, &g.nodes[last])?;
    let model = Model {
        name: name.to_string(),
        input: input_shape,
        timesteps: opts.timesteps,
        encoding: match opts.encoding {
            InputEncoding::Rate => Encoding::Rate { seed: opts.seed },
            InputEncoding::Direct => Encoding::Direct,
        },
        layers: b.layers,
    };
    model.validate()?;
    Ok((
        model,
        MappingReport {
            nir_version: g.version.clone(),
            semantics: opts.semantics,
            dt,
            reset,
            rule: opts.semantics.rule(),
            layers: b.mappings,
            notes: b.notes,
        },
    ))
}

/// Every edge must name existing nodes, in nested graphs too.
fn check_edges(g: &Graph, prefix: &str) -> Result<()> {
    for (a, z) in &g.edges {
        for n in [a, z] {
            if !g.nodes.contains_key(n) {
                return Err(Error::Graph(format!(
                    "edge {prefix}{a} -> {prefix}{z} names node {prefix}{n:?}, which does not \
                     exist (nodes: {})",
                    g.nodes
                        .keys()
                        .map(|k| format!("{prefix}{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    for (name, node) in &g.nodes {
        if let Some(inner) = &node.graph {
            check_edges(inner, &format!("{prefix}{name}/"))?;
        }
    }
    Ok(())
}

/// Rebuilds the execution order from the edges: the graph must be one chain
/// Input -> ... -> Output. Cycles, branches and stray nodes are reported by name.
fn order_chain(g: &Graph) -> Result<Vec<String>> {
    let edges: BTreeSet<(&str, &str)> = g
        .edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut pred: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(a, b) in &edges {
        succ.entry(a).or_default().push(b);
        pred.entry(b).or_default().push(a);
    }
    if let Some(cycle) = find_cycle(g, &succ) {
        return Err(Error::Graph(format!(
            "recurrent graph: cycle {}; the runtime runs feed-forward chains only (recurrent \
             weights are not supported)",
            cycle.join(" -> ")
        )));
    }
    let of_kind = |k: &str| -> Vec<&str> {
        g.nodes
            .iter()
            .filter(|(_, n)| n.kind == k)
            .map(|(name, _)| name.as_str())
            .collect()
    };
    let inputs = of_kind("Input");
    let outputs = of_kind("Output");
    if inputs.len() != 1 || outputs.len() != 1 {
        return Err(Error::Graph(format!(
            "expected one Input and one Output node, found inputs [{}] and outputs [{}]",
            inputs.join(", "),
            outputs.join(", ")
        )));
    }
    for name in g.nodes.keys() {
        let s = succ.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let p = pred.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        if s.len() > 1 {
            return Err(Error::Graph(format!(
                "node {name:?} branches to [{}]; only single chains are supported",
                s.join(", ")
            )));
        }
        if p.len() > 1 {
            return Err(Error::Graph(format!(
                "node {name:?} merges inputs from [{}]; only single chains are supported",
                p.join(", ")
            )));
        }
    }
    let mut chain = vec![inputs[0].to_string()];
    let mut cur = inputs[0];
    while let Some(next) = succ.get(cur).and_then(|s| s.first()) {
        chain.push(next.to_string());
        cur = next;
    }
    if cur != outputs[0] {
        return Err(Error::Graph(format!(
            "the chain from input {:?} ends at {cur:?} instead of the Output node {:?}",
            inputs[0], outputs[0]
        )));
    }
    let on_chain: BTreeSet<&str> = chain.iter().map(String::as_str).collect();
    let stray: Vec<&str> = g
        .nodes
        .keys()
        .map(String::as_str)
        .filter(|n| !on_chain.contains(n))
        .collect();
    if !stray.is_empty() {
        return Err(Error::Graph(format!(
            "nodes not on the Input -> Output chain: {}",
            stray.join(", ")
        )));
    }
    Ok(chain)
}

fn find_cycle(g: &Graph, succ: &BTreeMap<&str, Vec<&str>>) -> Option<Vec<String>> {
    // Iterative colouring DFS; the stack holds the current path so the cycle can be named.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 = on path, 2 = done
    for start in g.nodes.keys() {
        if state.contains_key(start.as_str()) {
            continue;
        }
        let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        state.insert(start.as_str(), 1);
        while let Some((node, i)) = path.last().copied() {
            let next = succ.get(node).and_then(|s| s.get(i)).copied();
            match next {
                Some(n) => {
                    path.last_mut().unwrap().1 += 1;
                    match state.get(n) {
                        Some(1) => {
                            let pos = path.iter().position(|(p, _)| *p == n).unwrap();
                            let mut c: Vec<String> =
                                path[pos..].iter().map(|(p, _)| p.to_string()).collect();
                            c.push(n.to_string());
                            return Some(c);
                        }
                        Some(_) => {}
                        None => {
                            state.insert(n, 1);
                            path.push((n, 0));
                        }
                    }
                }
                None => {
                    state.insert(node, 2);
                    path.pop();
                }
            }
        }
    }
    None
}

/// A weight layer waiting for the neurons that follow it.
struct Pending {
    nodes: Vec<String>,
    op: LayerOp,
    out: Shape,
    weights: Vec<f64>,
    bias: Option<Vec<f64>>,
    detail: Vec<String>,
}

/// A pooling layer waiting for what follows: neurons (a pooling layer with neurons), or a
/// weight layer it is folded into (the runtime feeds only spikes to weight layers, and a pooled
/// map holds counts), or nothing (then it stays a neuron-less layer).
struct PoolPending {
    nodes: Vec<String>,
    op: LayerOp,
    input: Shape,
    out: Shape,
    k: usize,
    /// 1 for sum pooling, 1 / k^2 for average pooling.
    factor: f64,
    /// A Flatten followed the pooling.
    flattened: bool,
    detail: String,
}

struct Builder {
    readout: Readout,
    dt: f64,
    reset: ResetMode,
    sem: Semantics,
    layers: Vec<Layer>,
    mappings: Vec<LayerMapping>,
    notes: Vec<String>,
    pending: Option<Pending>,
    pool: Option<PoolPending>,
    /// A Scale node seen before any weight layer, to fold into the next one's inputs.
    in_scale: Option<(String, Vec<f64>)>,
    /// Current NIR shape (row-major dims).
    shape: Vec<usize>,
    names: BTreeSet<String>,
}

fn param<'a>(name: &str, node: &'a Node, p: &str) -> Result<&'a Param> {
    node.params.get(p).ok_or_else(|| {
        Error::node(
            name,
            format!(
                "{} node is missing its {p:?} parameter (has: {})",
                node.kind,
                node.params.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// A shape-like integer vector parameter (`shape`, `stride`, ...): values must be whole and
/// non-negative.
fn ints(name: &str, p: &Param, what: &str) -> Result<Vec<usize>> {
    // Shapes, strides and kernel sizes have a handful of entries; a long array here is a
    // corrupt file (and must not end up printed whole in an error message).
    if p.values.len() > 8 {
        return Err(Error::node(
            name,
            format!("{what} has {} values, expected at most 8", p.values.len()),
        ));
    }
    p.values
        .iter()
        .map(|&v| {
            if v.fract() == 0.0 && (0.0..=1e9).contains(&v) {
                Ok(v as usize)
            } else {
                Err(Error::node(
                    name,
                    format!("{what} value {v} is not a non-negative integer"),
                ))
            }
        })
        .collect()
}

/// A pair parameter (stride, padding, kernel size): a scalar or two values.
fn pair(name: &str, node: &Node, p: &str, default: Option<usize>) -> Result<[usize; 2]> {
    let Some(par) = node.params.get(p) else {
        return default
            .map(|d| [d, d])
            .ok_or_else(|| param(name, node, p).err().unwrap());
    };
    let v = ints(name, par, p)?;
    match v.as_slice() {
        [a] => Ok([*a, *a]),
        [a, b] => Ok([*a, *b]),
        _ => Err(Error::node(
            name,
            format!("{p} has {} values, expected 1 or 2", v.len()),
        )),
    }
}

fn to_shape(name: &str, dims: &[usize]) -> Result<Shape> {
    // Leading 1s (a batch axis some exporters keep) carry no data.
    let mut d: Vec<usize> = dims.to_vec();
    while d.len() > 3 && d[0] == 1 {
        d.remove(0);
    }
    let s = match d.as_slice() {
        [n] => Shape::flat(*n),
        [h, w] => Shape {
            channels: 1,
            height: *h,
            width: *w,
        },
        [c, h, w] => Shape {
            channels: *c,
            height: *h,
            width: *w,
        },
        _ => {
            return Err(Error::node(
                name,
                format!("shape {dims:?} is not 1-, 2- or 3-dimensional"),
            ));
        }
    };
    if s.is_empty() || s.len() > kernels::model::MAX_LAYER_ELEMENTS {
        return Err(Error::node(
            name,
            format!("shape {dims:?} is empty or too large"),
        ));
    }
    Ok(s)
}

fn kshape(dims: &[usize]) -> Shape {
    to_shape("", dims).unwrap_or(Shape::flat(dims.iter().product()))
}

fn dims_of(s: Shape) -> Vec<usize> {
    if s.height == 1 && s.width == 1 {
        vec![s.channels]
    } else {
        vec![s.channels, s.height, s.width]
    }
}

/// Broadcasts a neuron parameter to `n` values: a scalar, one value, or one per neuron.
fn per_neuron(
    name: &str,
    node: &Node,
    p: &str,
    n: usize,
    default: Option<f64>,
) -> Result<Vec<f64>> {
    let Some(par) = node.params.get(p) else {
        return match default {
            Some(d) => Ok(vec![d; n]),
            None => Err(param(name, node, p).err().unwrap()),
        };
    };
    let v = match par.values.len() {
        1 => vec![par.values[0]; n],
        k if k == n => par.values.clone(),
        k => {
            return Err(Error::node(
                name,
                format!(
                    "{p} has {k} values (shape {:?}) but the layer before it has {n} neurons",
                    par.shape
                ),
            ));
        }
    };
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(Error::node(name, format!("{p} contains {x}")));
    }
    Ok(v)
}

fn fmt_list(v: &[f64]) -> String {
    let Some(&first) = v.first() else {
        return "(no values)".into();
    };
    if v.iter().all(|x| *x == first) {
        format!("{first}")
    } else {
        format!("per-neuron, {} .. {}", min(v), max(v))
    }
}

/// Values as the f32 the model stores (what the runtime uses), not the f64 intermediate.
fn fmt_f32(v: &[f64]) -> String {
    let w: Vec<f64> = v.iter().map(|x| *x as f32 as f64).collect();
    let Some(&first) = w.first() else {
        return "(no values)".into();
    };
    let first = first as f32;
    if w.iter().all(|x| *x as f32 == first) {
        format!("{first}")
    } else {
        format!("per-neuron, {} .. {}", min(&w) as f32, max(&w) as f32)
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

impl Builder {
    fn unique(&mut self, raw: &str) -> String {
        let base = safe_name(raw);
        let mut s = base.clone();
        let mut i = 1;
        while self.names.contains(&s) {
            s = format!("{base}_{i}");
            i += 1;
        }
        self.names.insert(s.clone());
        s
    }

    fn input(&mut self, name: &str, node: &Node) -> Result<Shape> {
        let p = param(name, node, "shape")?;
        let dims = ints(name, p, "shape")?;
        let s = to_shape(name, &dims)?;
        self.shape = dims_of(s);
        Ok(s)
    }

    fn cur(&self) -> Shape {
        kshape(&self.shape)
    }

    fn no_pending(&self, name: &str, kind: &str) -> Result<()> {
        if let Some(p) = &self.pending {
            return Err(Error::node(
                name,
                format!(
                    "{kind} follows weight node {:?} with no spiking neurons in between; kernels \
                     layers are weights followed by spiking neurons",
                    p.nodes[0]
                ),
            ));
        }
        Ok(())
    }

    fn take_in_scale(&mut self, name: &str, kind: &str) -> Result<()> {
        if let Some((s, _)) = &self.in_scale {
            return Err(Error::node(
                s,
                format!(
                    "Scale is followed by {kind} node {name:?}; a Scale can only be folded into \
                     an adjacent Affine, Linear or Conv2d"
                ),
            ));
        }
        Ok(())
    }

    fn node(&mut self, name: &str, node: &Node) -> Result<()> {
        if self
            .layers
            .last()
            .and_then(|l| l.neuron.as_ref())
            .is_some_and(|n| !n.is_spiking())
        {
            let ro = self
                .mappings
                .last()
                .and_then(|m| m.nodes.last())
                .map_or("?", |s| s.as_str());
            return Err(Error::node(
                ro,
                format!(
                    "this non-spiking readout is followed by {} node {name:?}; a readout must \
                     be the last node before Output (its output is a membrane potential, and \
                     kernels layers consume spikes)",
                    node.kind
                ),
            ));
        }
        let folds = match node.kind.as_str() {
            "Affine" | "Linear" | "LIF" | "IF" | "CubaLIF" | "Threshold" | "LI" | "CubaLI"
            | "I" => true,
            "Conv2d" | "Flatten" => self.pool.as_ref().is_some_and(|p| !p.flattened),
            _ => false,
        };
        if !folds {
            self.flush_pool();
        }
        match node.kind.as_str() {
            "Affine" | "Linear" => self.dense(name, node),
            "Conv2d" => self.conv(name, node),
            "Scale" => self.scale(name, node),
            "SumPool2d" | "AvgPool2d" => self.pool(name, node),
            "Flatten" => self.flatten(name, node),
            "LIF" | "IF" | "CubaLIF" | "Threshold" | "LI" | "CubaLI" | "I" => {
                self.neuron(name, node)
            }
            "Input" | "Output" => Err(Error::node(
                name,
                format!("{} node in the middle of the chain", node.kind),
            )),
            other => Err(Error::node(
                name,
                format!(
                    "node type {other:?} is not supported (supported: Input, Output, Affine, \
                     Linear, Scale, Flatten, Conv2d, SumPool2d, AvgPool2d, LIF, IF, CubaLIF, \
                     Threshold, LI, CubaLI, I)"
                ),
            )),
        }
    }

    fn dense(&mut self, name: &str, node: &Node) -> Result<()> {
        self.no_pending(name, &node.kind)?;
        let w = param(name, node, "weight")?;
        let [outputs, inputs] = w.shape[..] else {
            return Err(Error::node(
                name,
                format!("weight has shape {:?}, expected (outputs, inputs)", w.shape),
            ));
        };
        let cur = self.cur();
        if inputs != cur.len() || cur.height * cur.width != 1 {
            return Err(Error::node(
                name,
                format!(
                    "weight expects {inputs} inputs but the node before it gives shape {:?}{}",
                    self.shape,
                    if cur.height * cur.width != 1 {
                        " (a Flatten is needed first)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let mut weights = w.values.clone();
        let bias = if node.kind == "Affine" {
            let b = param(name, node, "bias")?;
            if b.values.len() != outputs {
                return Err(Error::node(
                    name,
                    format!(
                        "bias has {} values, weight has {outputs} rows",
                        b.values.len()
                    ),
                ));
            }
            Some(b.values.clone())
        } else {
            None
        };
        let mut detail = vec![format!("{} {inputs}->{outputs}", node.kind)];
        let mut nodes = Vec::new();
        if let Some((sname, s)) = self.in_scale.take() {
            if s.len() != 1 && s.len() != inputs {
                return Err(Error::node(
                    &sname,
                    format!(
                        "scale has {} values, the next layer has {inputs} inputs",
                        s.len()
                    ),
                ));
            }
            for o in 0..outputs {
                for j in 0..inputs {
                    weights[o * inputs + j] *= s[if s.len() == 1 { 0 } else { j }];
                }
            }
            detail.push(format!(
                "input Scale {sname} folded into the weight columns"
            ));
            nodes.push(sname);
        }
        nodes.push(name.to_string());
        let mut inputs = inputs;
        if let Some(p) = self.pool.take() {
            // Pooling (and Flatten) before a dense layer: every original input feeds the weight
            // column of its pooling window, scaled by 1 (sum) or 1 / k^2 (average); inputs in
            // rows or columns the pooling drops get weight 0. Exact in real arithmetic.
            let (src, dst) = (p.out, p.input);
            let n = dst.len();
            let mut wide = vec![0.0; outputs * n];
            for o in 0..outputs {
                for c in 0..dst.channels {
                    for y in 0..src.height * p.k {
                        for x in 0..src.width * p.k {
                            let j = (c * src.height + y / p.k) * src.width + x / p.k;
                            let i = (c * dst.height + y) * dst.width + x;
                            wide[o * n + i] = weights[o * inputs + j] * p.factor;
                        }
                    }
                }
            }
            weights = wide;
            inputs = n;
            detail.insert(
                0,
                format!("{} folded into the weights ({n} inputs)", p.detail),
            );
            if dst.height * dst.width != 1 {
                // The dense layer now reads the unpooled map: flatten that instead.
                let fname = p.nodes.last().unwrap().clone();
                self.push_plain(
                    &fname,
                    LayerOp::Flatten { input: dst },
                    Shape::flat(n),
                    "Flatten of the unpooled map (pooling folded into the next weights)".into(),
                );
            }
            nodes.splice(0..0, p.nodes);
        }
        self.pending = Some(Pending {
            nodes,
            op: LayerOp::Dense { inputs, outputs },
            out: Shape::flat(outputs),
            weights,
            bias,
            detail,
        });
        Ok(())
    }

    fn conv(&mut self, name: &str, node: &Node) -> Result<()> {
        self.no_pending(name, "Conv2d")?;
        let w = param(name, node, "weight")?;
        let [oc, ic, kh, kw] = w.shape[..] else {
            return Err(Error::node(
                name,
                format!(
                    "weight has shape {:?}, expected (out_channels, in_channels, kh, kw)",
                    w.shape
                ),
            ));
        };
        let cur = self.cur();
        if self.shape.len() != 3 || cur.channels != ic {
            return Err(Error::node(
                name,
                format!(
                    "weight expects {ic} input channels but the node before it gives shape {:?}",
                    self.shape
                ),
            ));
        }
        if let Some(p) = node.params.get("input_shape") {
            let hw = ints(name, p, "input_shape")?;
            if hw != [cur.height, cur.width] {
                return Err(Error::node(
                    name,
                    format!(
                        "input_shape {hw:?} does not match the incoming {}x{} map",
                        cur.height, cur.width
                    ),
                ));
            }
        }
        let stride = pair(name, node, "stride", Some(1))?;
        let padding = pair(name, node, "padding", Some(0))?;
        let dilation = pair(name, node, "dilation", Some(1))?;
        let groups = match node.params.get("groups") {
            Some(p) => ints(name, p, "groups")?.first().copied().unwrap_or(1),
            None => 1,
        };
        if stride[0] != stride[1] || padding[0] != padding[1] {
            return Err(Error::node(
                name,
                format!(
                    "stride {stride:?} and padding {padding:?} must be equal on both axes \
                     (kernels' Conv2d has one stride and one padding)"
                ),
            ));
        }
        if dilation != [1, 1] || groups != 1 {
            return Err(Error::node(
                name,
                format!("dilation {dilation:?} and groups {groups} are not supported (need 1)"),
            ));
        }
        let op = LayerOp::Conv2d {
            input: cur,
            out_channels: oc,
            kernel: [kh, kw],
            stride: stride[0],
            padding: padding[0],
        };
        let out = op
            .output_shape()
            .map_err(|e| Error::node(name, e.to_string()))?;
        let bias = match node.params.get("bias") {
            Some(b) if b.values.len() == oc => Some(b.values.clone()),
            Some(b) => {
                return Err(Error::node(
                    name,
                    format!("bias has {} values, expected {oc}", b.values.len()),
                ));
            }
            None => None,
        };
        let mut weights = w.values.clone();
        let mut nodes = Vec::new();
        let mut detail = vec![format!(
            "Conv2d {ic}->{oc} {kh}x{kw} stride {} padding {}",
            stride[0], padding[0]
        )];
        if let Some((sname, s)) = self.in_scale.take() {
            let per_ch = channel_values(&sname, "scale", &s, cur)?;
            let k = kh * kw;
            for o in 0..oc {
                for c in 0..ic {
                    for x in &mut weights[(o * ic + c) * k..(o * ic + c + 1) * k] {
                        *x *= per_ch[c];
                    }
                }
            }
            detail.push(format!("input Scale {sname} folded into the kernels"));
            nodes.push(sname);
        }
        nodes.push(name.to_string());
        let mut op = op;
        if let Some(p) = self.pool.take() {
            // Pooling (k x k windows, stride k) before a conv (kernel K, stride s, padding P)
            // equals one conv on the unpooled map with kernel kK, stride ks, padding kP and
            // each weight repeated over a k x k block (times 1/k^2 for average pooling),
            // provided the pooling drops no row or column.
            let k = p.k;
            if p.input.height % k != 0 || p.input.width % k != 0 {
                return Err(Error::node(
                    &p.nodes[0],
                    format!(
                        "pooling {}x{} by {k} drops rows or columns before conv {name:?};                          kernels can only fold pooling into a following conv when it does not",
                        p.input.height, p.input.width
                    ),
                ));
            }
            let (kh2, kw2) = (kh * k, kw * k);
            let mut wide = vec![0.0; oc * ic * kh2 * kw2];
            for o in 0..oc {
                for c in 0..ic {
                    for ty in 0..kh2 {
                        for tx in 0..kw2 {
                            wide[((o * ic + c) * kh2 + ty) * kw2 + tx] =
                                weights[((o * ic + c) * kh + ty / k) * kw + tx / k] * p.factor;
                        }
                    }
                }
            }
            let folded = LayerOp::Conv2d {
                input: p.input,
                out_channels: oc,
                kernel: [kh2, kw2],
                stride: stride[0] * k,
                padding: padding[0] * k,
            };
            let fout = folded
                .output_shape()
                .map_err(|e| Error::node(name, e.to_string()))?;
            if fout != out {
                return Err(Error::node(
                    name,
                    format!(
                        "folding the pooling before it changes the output shape ({fout:?} vs {out:?})"
                    ),
                ));
            }
            op = folded;
            weights = wide;
            detail.insert(
                0,
                format!(
                    "{} folded into the conv: kernel {kh2}x{kw2}, stride {}, padding {}",
                    p.detail,
                    stride[0] * k,
                    padding[0] * k
                ),
            );
            nodes.splice(0..0, p.nodes);
        }
        self.pending = Some(Pending {
            nodes,
            op,
            out,
            weights,
            bias,
            detail,
        });
        Ok(())
    }

    fn scale(&mut self, name: &str, node: &Node) -> Result<()> {
        let s = param(name, node, "scale")?;
        if let Some(x) = s.values.iter().find(|x| !x.is_finite()) {
            return Err(Error::node(name, format!("scale contains {x}")));
        }
        if let Some(p) = &mut self.pending {
            // Scale after a weight layer: multiply each output (row or channel).
            let n = p.out.len();
            let v = match s.values.len() {
                1 => vec![s.values[0]; n],
                k if k == n => s.values.clone(),
                k => {
                    return Err(Error::node(
                        name,
                        format!("scale has {k} values, the layer before it has {n} outputs"),
                    ));
                }
            };
            let g = match p.op {
                LayerOp::Conv2d { .. } => channel_values(name, "scale", &v, p.out)?,
                _ => v,
            };
            scale_outputs(p, &g, None);
            p.detail
                .push(format!("Scale {name} folded into the weights"));
            p.nodes.push(name.to_string());
            return Ok(());
        }
        if self.in_scale.is_some() {
            return Err(Error::node(
                name,
                "two Scale nodes in a row are not supported",
            ));
        }
        self.in_scale = Some((name.to_string(), s.values.clone()));
        Ok(())
    }

    fn pool(&mut self, name: &str, node: &Node) -> Result<()> {
        self.no_pending(name, &node.kind)?;
        self.take_in_scale(name, &node.kind)?;
        let k = pair(name, node, "kernel_size", None)?;
        let stride = pair(name, node, "stride", Some(k[0]))?;
        let padding = pair(name, node, "padding", Some(0))?;
        if k[0] != k[1] || stride != k || padding != [0, 0] {
            return Err(Error::node(
                name,
                format!(
                    "pooling with kernel {k:?}, stride {stride:?}, padding {padding:?}: kernels \
                     pools square non-overlapping windows (stride = kernel, no padding)"
                ),
            ));
        }
        let cur = self.cur();
        if self.shape.len() != 3 {
            return Err(Error::node(
                name,
                format!("pooling needs a CxHxW input, got shape {:?}", self.shape),
            ));
        }
        let op = if node.kind == "SumPool2d" {
            LayerOp::SumPool2d {
                input: cur,
                kernel: k[0],
            }
        } else {
            LayerOp::AvgPool2d {
                input: cur,
                kernel: k[0],
            }
        };
        let out = op
            .output_shape()
            .map_err(|e| Error::node(name, e.to_string()))?;
        self.pool = Some(PoolPending {
            nodes: vec![name.to_string()],
            op,
            input: cur,
            out,
            k: k[0],
            factor: if node.kind == "SumPool2d" {
                1.0
            } else {
                1.0 / (k[0] * k[0]) as f64
            },
            flattened: false,
            detail: format!("{} {}x{}", node.kind, k[0], k[0]),
        });
        self.shape = dims_of(out);
        Ok(())
    }

    /// Emits a pending pooling layer (and its Flatten) as neuron-less layers.
    fn flush_pool(&mut self) {
        if let Some(p) = self.pool.take() {
            self.push_plain(&p.nodes[0], p.op, p.out, p.detail);
            if p.flattened {
                let name = &p.nodes[p.nodes.len() - 1];
                self.push_plain(
                    name,
                    LayerOp::Flatten { input: p.out },
                    Shape::flat(p.out.len()),
                    "Flatten".into(),
                );
            }
        }
    }

    fn flatten(&mut self, name: &str, node: &Node) -> Result<()> {
        self.no_pending(name, "Flatten")?;
        self.take_in_scale(name, "Flatten")?;
        let r = self.shape.len() as i64;
        let get = |p: &str, d: i64| -> Result<i64> {
            match node.params.get(p) {
                Some(v) if v.values.len() == 1 => Ok(v.values[0] as i64),
                Some(_) => Err(Error::node(name, format!("{p} must be a single integer"))),
                None => Ok(d),
            }
        };
        let norm = |d: i64| if d < 0 { d + r } else { d };
        let (start, end) = (norm(get("start_dim", 0)?), norm(get("end_dim", -1)?));
        if !(0..r).contains(&start) || !(0..r).contains(&end) || start > end {
            return Err(Error::node(
                name,
                format!(
                    "start_dim/end_dim {start}..{end} do not fit the {r}-dimensional input {:?}",
                    self.shape
                ),
            ));
        }
        let outside_ones = self
            .shape
            .iter()
            .enumerate()
            .all(|(i, &d)| (start..=end).contains(&(i as i64)) || d == 1);
        if !outside_ones {
            return Err(Error::node(
                name,
                format!(
                    "flattening dims {start}..={end} of {:?} leaves a multi-dimensional \
                     tensor; only full flattens are supported",
                    self.shape
                ),
            ));
        }
        let cur = self.cur();
        if self.shape.len() == 1 {
            self.notes.push(format!(
                "Flatten {name:?} on an already flat input was dropped"
            ));
            return Ok(());
        }
        if let Some(p) = &mut self.pool {
            p.flattened = true;
            p.nodes.push(name.to_string());
            self.shape = vec![cur.len()];
            return Ok(());
        }
        let op = LayerOp::Flatten { input: cur };
        self.push_plain(name, op, Shape::flat(cur.len()), "Flatten".into());
        Ok(())
    }

    fn push_plain(&mut self, name: &str, op: LayerOp, out: Shape, detail: String) {
        let lname = self.unique(name);
        self.layers.push(Layer {
            name: lname.clone(),
            op,
            weights: Vec::new(),
            bias: Vec::new(),
            neuron: None,
        });
        self.mappings.push(LayerMapping {
            layer: lname,
            nodes: vec![name.to_string()],
            detail,
        });
        self.shape = dims_of(out);
    }

    fn neuron(&mut self, name: &str, node: &Node) -> Result<()> {
        self.take_in_scale(name, &node.kind)?;
        if self.pending.is_none()
            && let Some(pp) = self.pool.take_if(|p| !p.flattened)
        {
            // Pooling followed by neurons: a pooling layer with spiking neurons.
            self.pending = Some(Pending {
                nodes: pp.nodes,
                op: pp.op,
                out: pp.out,
                weights: Vec::new(),
                bias: None,
                detail: vec![pp.detail],
            });
        }
        self.flush_pool();
        let Some(mut p) = self.pending.take() else {
            return Err(Error::node(
                name,
                format!(
                    "{} neurons must follow an Affine, Linear or Conv2d node (kernels layers are \
                     weights followed by neurons)",
                    node.kind
                ),
            ));
        };
        let n = p.out.len();
        let dt = self.dt;
        let kind = node.kind.as_str();
        // Per neuron: membrane decay, input gain, constant drive (from v_leak) and threshold.
        let (beta, gain, drive, theta, alpha, text);
        let mut v_reset = vec![0.0; n];
        let mut reset = self.reset;
        let mut rule = self.sem.rule();
        match kind {
            "LIF" => {
                let tau = per_neuron(name, node, "tau", n, None)?;
                let r = per_neuron(name, node, "r", n, Some(1.0))?;
                let vl = per_neuron(name, node, "v_leak", n, Some(0.0))?;
                theta = per_neuron(name, node, "v_threshold", n, None)?;
                v_reset = per_neuron(name, node, "v_reset", n, Some(0.0))?;
                check_tau(name, "tau", &tau, dt)?;
                beta = tau.iter().map(|t| 1.0 - dt / t).collect::<Vec<_>>();
                gain = r
                    .iter()
                    .zip(&tau)
                    .map(|(r, t)| r * dt / t)
                    .collect::<Vec<_>>();
                drive = vl
                    .iter()
                    .zip(&tau)
                    .map(|(v, t)| v * dt / t)
                    .collect::<Vec<_>>();
                alpha = None;
                text = format!(
                    "LIF tau = {} s: beta = 1 - dt/tau = {}, input gain r*dt/tau = {}",
                    fmt_list(&tau),
                    fmt_f32(&beta),
                    fmt_f32(&gain)
                );
            }
            "IF" => {
                let r = per_neuron(name, node, "r", n, Some(1.0))?;
                theta = per_neuron(name, node, "v_threshold", n, None)?;
                v_reset = per_neuron(name, node, "v_reset", n, Some(0.0))?;
                beta = vec![1.0; n];
                gain = r.clone();
                drive = vec![0.0; n];
                alpha = None;
                text = format!("IF: beta = 1, input gain r = {}", fmt_list(&r));
            }
            "CubaLIF" => {
                if self.sem == Semantics::Norse {
                    return Err(Error::node(
                        name,
                        "CubaLIF under Norse semantics: Norse's membrane integrates the previous \
                         step's synaptic current, kernels' synaptic neuron the current step's; \
                         the results would differ, so this is refused (use --semantics snntorch \
                         if the model came from snnTorch)",
                    ));
                }
                let a;
                (a, beta, gain) = cuba_params(name, node, n, dt, "CubaLIF")?;
                theta = per_neuron(name, node, "v_threshold", n, None)?;
                v_reset = per_neuron(name, node, "v_reset", n, Some(0.0))?;
                drive = vec![0.0; n];
                text = format!(
                    "CubaLIF: alpha = 1 - dt/tau_syn = {}, beta = 1 - dt/tau_mem = {}, input \
                     gain (w_in*dt/tau_syn)*(r*dt/tau_mem) = {}",
                    fmt_f32(&a),
                    fmt_f32(&beta),
                    fmt_f32(&gain)
                );
                alpha = Some(a);
            }
            "LI" => {
                let tau = per_neuron(name, node, "tau", n, None)?;
                let r = per_neuron(name, node, "r", n, Some(1.0))?;
                let vl = per_neuron(name, node, "v_leak", n, Some(0.0))?;
                check_tau(name, "tau", &tau, dt)?;
                beta = tau.iter().map(|t| 1.0 - dt / t).collect::<Vec<_>>();
                gain = r
                    .iter()
                    .zip(&tau)
                    .map(|(r, t)| r * dt / t)
                    .collect::<Vec<_>>();
                drive = vl
                    .iter()
                    .zip(&tau)
                    .map(|(v, t)| v * dt / t)
                    .collect::<Vec<_>>();
                theta = Vec::new();
                alpha = None;
                text = format!(
                    "LI readout tau = {} s: beta = 1 - dt/tau = {}, input gain r*dt/tau = {}",
                    fmt_list(&tau),
                    fmt_f32(&beta),
                    fmt_f32(&gain)
                );
            }
            "I" => {
                let r = per_neuron(name, node, "r", n, Some(1.0))?;
                beta = vec![1.0; n];
                gain = r.clone();
                drive = vec![0.0; n];
                theta = Vec::new();
                alpha = None;
                text = format!(
                    "I (integrator) readout: beta = 1, input gain r = {}",
                    fmt_list(&r)
                );
            }
            "CubaLI" => {
                let a;
                (a, beta, gain) = cuba_params(name, node, n, dt, "CubaLI")?;
                drive = vec![0.0; n];
                theta = Vec::new();
                text = format!(
                    "CubaLI readout: alpha = 1 - dt/tau_syn = {}, beta = 1 - dt/tau_mem = {}, \
                     input gain (w_in*dt/tau_syn)*(r*dt/tau_mem) = {}",
                    fmt_f32(&a),
                    fmt_f32(&beta),
                    fmt_f32(&gain)
                );
                alpha = Some(a);
            }
            "Threshold" => {
                theta = per_neuron(name, node, "threshold", n, None)?;
                beta = vec![0.0; n];
                gain = vec![1.0; n];
                drive = vec![0.0; n];
                alpha = None;
                // Stateless: v = I every step, spike I > theta (zero reset, no decay keeps
                // nothing from earlier steps).
                reset = ResetMode::Zero;
                rule = FiringRule::Snntorch;
                text = "Threshold: stateless, spike when the input exceeds theta".into();
            }
            _ => unreachable!("neuron() is only called for neuron kinds"),
        }
        let readout = matches!(kind, "LI" | "CubaLI" | "I");
        if kind != "Threshold" && !readout {
            match (self.sem, reset) {
                (_, ResetMode::Zero) => {
                    if let Some(v) = v_reset.iter().find(|v| **v != 0.0) {
                        return Err(Error::node(
                            name,
                            format!("v_reset = {v}: kernels' zero reset only resets to 0"),
                        ));
                    }
                }
                (Semantics::Snntorch, _) => {
                    if let Some(v) = v_reset.iter().find(|v| **v != 0.0) {
                        self.notes.push(format!(
                            "{name}: v_reset = {v} ignored by the subtract reset"
                        ));
                    }
                }
                _ => {}
            }
            if self.sem == Semantics::Norse {
                self.notes.push(format!(
                    "{name}: Norse fires on v > theta and resets in the same step; kernels' \
                     same-step rule fires on v >= theta (differs only when v equals theta \
                     exactly)"
                ));
            }
        }
        // Rounded once to f32 (what the model stores and the runtime uses).
        let f32s = |v: &[f64]| -> Vec<f32> { v.iter().map(|x| *x as f32).collect() };
        let (beta_v, theta_v) = (f32s(&beta), f32s(&theta));
        let alpha_v = alpha.as_deref().map(f32s).unwrap_or_default();
        let same = |v: &[f32]| v.iter().all(|x| *x == v[0]);
        if beta_v.is_empty() {
            // An empty parameter array reached here from a fuzzed file.
            return Err(Error::node(name, "beta (from tau) has no values"));
        }
        let per = !(same(&beta_v) && (theta_v.is_empty() || same(&theta_v)) && {
            alpha_v.is_empty() || same(&alpha_v)
        });
        let base = if readout {
            Neuron::Li(LiParams {
                beta: beta_v[0],
                alpha: alpha_v.first().copied(),
                readout: self.readout,
            })
        } else {
            let lif = LifParams {
                beta: beta_v[0],
                threshold: theta_v[0],
                reset,
                rule,
            };
            match alpha_v.first() {
                None => Neuron::Lif(lif),
                Some(&a) => Neuron::Synaptic { alpha: a, lif },
            }
        };
        let neuron = if per {
            let theta_keep = if readout { Vec::new() } else { theta_v.clone() };
            Neuron::PerNeuron(Box::new(PerNeuron::new(base, beta_v, theta_keep, alpha_v)))
        } else {
            base
        };
        neuron
            .validate()
            .map_err(|e| Error::node(name, format!("{e} (check tau against dt = {dt} s)")))?;
        // Fold the input gain and the v_leak drive into the weights and biases. A gain that is
        // 1 in f32 is skipped so that weights stay bit-identical to the file's.
        let unit = gain.iter().all(|g| *g as f32 == 1.0);
        let no_drive = drive.iter().all(|d| *d == 0.0);
        if !(unit && no_drive) && p.weights.is_empty() {
            return Err(Error::node(
                name,
                "input gain or v_leak drive after a pooling layer cannot be folded (no weights)",
            ));
        }
        if !(unit && no_drive) {
            let (g, d) = match p.op {
                LayerOp::Conv2d { .. } => (
                    channel_values(name, "input gain", &gain, p.out)?,
                    channel_values(name, "v_leak drive", &drive, p.out)?,
                ),
                _ => (gain.clone(), drive.clone()),
            };
            let g: Vec<f64> = if unit { vec![1.0; g.len()] } else { g };
            scale_outputs(&mut p, &g, if no_drive { None } else { Some(&d) });
            if !unit {
                p.detail
                    .push("input gain folded into weights and bias".into());
            }
            if !no_drive {
                p.detail
                    .push("v_leak drive dt/tau*v_leak added to the bias".into());
            }
        }
        let reset_text = match (kind, reset, self.sem) {
            ("Threshold", _, _) | ("LI" | "CubaLI" | "I", _, _) => String::new(),
            (_, ResetMode::Subtract, Semantics::Snntorch) => {
                ", subtract reset (snnTorch default; the file's v_reset is not used)".into()
            }
            (_, r, _) => format!(", {r:?} reset"),
        };
        let lname = self.unique(&p.nodes[p.nodes.len() - 1]);
        p.nodes.push(name.to_string());
        let per_text = if per {
            "; per-neuron values kept as <layer>.beta/.threshold/.alpha tensors"
        } else {
            ""
        };
        let detail = if readout {
            format!(
                "{}; {text}; non-spiking, class = argmax of the {} of v{per_text}",
                p.detail.join(", "),
                match self.readout {
                    Readout::Max => "maximum over time",
                    Readout::Final => "final value",
                    Readout::Mean => "mean over time",
                }
            )
        } else {
            format!(
                "{}; {text}, threshold {}{reset_text}{per_text}",
                p.detail.join(", "),
                fmt_f32(&theta)
            )
        };
        let out = p.out;
        self.layers.push(Layer {
            name: lname.clone(),
            op: p.op,
            weights: p.weights.iter().map(|&w| w as f32).collect(),
            bias: p
                .bias
                .map(|b| b.iter().map(|&x| x as f32).collect())
                .unwrap_or_default(),
            neuron: Some(neuron),
        });
        self.mappings.push(LayerMapping {
            layer: lname,
            nodes: p.nodes,
            detail,
        });
        self.shape = dims_of(out);
        Ok(())
    }

    fn output(&mut self, name: &str, node: &Node) -> Result<()> {
        self.flush_pool();
        self.no_pending(name, "Output")?;
        self.take_in_scale(name, "Output")?;
        if self.layers.is_empty() {
            return Err(Error::Graph("the graph has no layers".into()));
        }
        if let Some(p) = node.params.get("shape") {
            let dims = ints(name, p, "shape")?;
            let n: usize = dims.iter().product();
            if n != self.cur().len() {
                return Err(Error::node(
                    name,
                    format!(
                        "Output shape {dims:?} does not match the last layer's shape {:?}",
                        self.shape
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Forward-Euler mapping of a current-based node (`CubaLIF`, `CubaLI`): per neuron
/// `alpha = 1 - dt/tau_syn`, `beta = 1 - dt/tau_mem` and the input gain
/// `(w_in dt/tau_syn)(r dt/tau_mem)`, which is linear in the input and so folds into the weights.
/// A non-zero `v_leak` is refused: its constant drive would enter the membrane, not the
/// synaptic current.
fn cuba_params(
    name: &str,
    node: &Node,
    n: usize,
    dt: f64,
    kind: &str,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let ts = per_neuron(name, node, "tau_syn", n, None)?;
    let tm = per_neuron(name, node, "tau_mem", n, None)?;
    let r = per_neuron(name, node, "r", n, Some(1.0))?;
    let w_in = per_neuron(name, node, "w_in", n, Some(1.0))?;
    let vl = per_neuron(name, node, "v_leak", n, Some(0.0))?;
    check_tau(name, "tau_syn", &ts, dt)?;
    check_tau(name, "tau_mem", &tm, dt)?;
    if vl.iter().any(|v| *v != 0.0) {
        return Err(Error::node(
            name,
            format!(
                "{kind} with v_leak != 0 is not supported (the constant drive would enter the \
                 membrane, not the synaptic current)"
            ),
        ));
    }
    let alpha = ts.iter().map(|t| 1.0 - dt / t).collect();
    let beta = tm.iter().map(|t| 1.0 - dt / t).collect();
    let gain = (0..n)
        .map(|i| w_in[i] * dt / ts[i] * r[i] * dt / tm[i])
        .collect();
    Ok((alpha, beta, gain))
}

fn check_tau(name: &str, what: &str, tau: &[f64], dt: f64) -> Result<()> {
    if let Some(t) = tau.iter().find(|t| t.is_nan() || **t < dt) {
        return Err(Error::node(
            name,
            format!(
                "{what} = {t} s is below dt = {dt} s, which gives a decay outside [0, 1]; pass \
                 the framework's --dt (snnTorch exports with 1e-4)"
            ),
        ));
    }
    Ok(())
}

/// Values that must be constant within each channel of a CxHxW map (conv layers hold one bias
/// per channel): returns one value per channel.
fn channel_values(name: &str, what: &str, v: &[f64], s: Shape) -> Result<Vec<f64>> {
    if v.len() == 1 {
        return Ok(vec![v[0]; s.channels]);
    }
    let per = s.height * s.width;
    if v.len() == s.channels && per != 1 {
        return Ok(v.to_vec());
    }
    if v.len() != s.len() {
        return Err(Error::node(
            name,
            format!(
                "{what} has {} values, expected 1, {} or {}",
                v.len(),
                s.channels,
                s.len()
            ),
        ));
    }
    (0..s.channels)
        .map(|c| {
            let ch = &v[c * per..(c + 1) * per];
            if ch.iter().all(|x| *x == ch[0]) {
                Ok(ch[0])
            } else {
                Err(Error::node(
                    name,
                    format!(
                        "{what} varies within channel {c}; a conv layer can only fold one value \
                         per channel"
                    ),
                ))
            }
        })
        .collect()
}

/// Multiplies each output row (dense) or channel (conv) by `g` and its bias likewise, then adds
/// `drive` to the bias.
fn scale_outputs(p: &mut Pending, g: &[f64], drive: Option<&[f64]>) {
    let outs = g.len();
    let per = p.weights.len() / outs;
    for (o, &go) in g.iter().enumerate() {
        if go != 1.0 {
            for w in &mut p.weights[o * per..(o + 1) * per] {
                *w *= go;
            }
        }
    }
    if let Some(b) = &mut p.bias {
        for (x, &go) in b.iter_mut().zip(g) {
            *x *= go;
        }
    }
    if let Some(d) = drive {
        let b = p.bias.get_or_insert_with(|| vec![0.0; outs]);
        for (x, &dd) in b.iter_mut().zip(d) {
            *x += dd;
        }
    }
}
