//! Spiking neurons in `f32` and in bit-exact integer form.
//!
//! Both follow the numeric contract in `docs/numeric-contract.md`; the integer form is the golden
//! model that the generated Verilog must match bit for bit. Default semantics are snnTorch's
//! `Leaky`: the spike is `v[t] > theta` (strict) and the reset at step `t` uses the spike of step
//! `t - 1`. SpikingJelly's semantics (`v >= theta`, reset in the same step) are an explicit
//! [`FiringRule`].
//!
//! One layer step takes the input currents `I[t]`, the membrane potentials `v[t-1]` and the
//! layer's previous spikes `s[t-1]` (bit-packed), and overwrites them with `v[t]` and `s[t]`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the membrane is reset after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResetMode {
    /// `v -= theta` (snnTorch's default `reset_mechanism="subtract"`).
    #[default]
    Subtract,
    /// `v = 0` (snnTorch's `reset_mechanism="zero"`).
    Zero,
    /// No reset.
    None,
}

/// When a neuron fires and when its reset takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FiringRule {
    /// snnTorch `Leaky`: `s[t] = v[t] > theta`; the reset at step `t` uses `s[t-1]`.
    #[default]
    Snntorch,
    /// SpikingJelly / lava-dl: `s[t] = h[t] >= theta` on the charged potential `h[t]`, and the
    /// reset is applied to `h[t]` in the same step.
    Spikingjelly,
}

/// Parameters of a float LIF neuron layer (IF when `beta == 1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LifParams {
    /// Membrane decay per step, in `[0, 1]`.
    pub beta: f32,
    /// Firing threshold `theta > 0`.
    pub threshold: f32,
    /// Reset mechanism.
    pub reset: ResetMode,
    /// Firing and reset timing.
    pub rule: FiringRule,
}

impl LifParams {
    /// snnTorch `Leaky(beta, threshold)` defaults: subtract reset, strict `>`.
    pub fn snntorch(beta: f32, threshold: f32) -> Self {
        LifParams {
            beta,
            threshold,
            reset: ResetMode::Subtract,
            rule: FiringRule::Snntorch,
        }
    }

    /// Checks `0 <= beta <= 1` and `threshold > 0`, both finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.beta.is_finite() && (0.0..=1.0).contains(&self.beta)) {
            return Err(Error::invalid(format!(
                "beta {} is outside [0, 1]",
                self.beta
            )));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::invalid(format!(
                "threshold {} must be finite and > 0",
                self.threshold
            )));
        }
        Ok(())
    }
}

/// Parameters of a non-spiking leaky-integrator readout layer (NIR `LI`, `CubaLI`, `I`):
/// `v[t] = beta * v[t-1] + I[t]` (or, with `alpha`, `syn[t] = alpha * syn[t-1] + I[t]` and
/// `v[t] = beta * v[t-1] + syn[t]`), no threshold, no reset, never a spike. The layer's output
/// is its membrane potential, decoded by `readout`; it can only be the last layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiParams {
    /// Membrane decay per step, in `[0, 1]` (`1` = integrator, NIR `I`).
    pub beta: f32,
    /// Synaptic current decay in `[0, 1]` for a current-based readout (NIR `CubaLI`); `None`
    /// feeds the input current straight into the membrane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    /// How the potentials become class scores (default: maximum over time).
    #[serde(default)]
    pub readout: crate::decode::Readout,
}

impl LiParams {
    /// Checks `0 <= beta, alpha <= 1`, finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.beta.is_finite() && (0.0..=1.0).contains(&self.beta)) {
            return Err(Error::invalid(format!(
                "beta {} is outside [0, 1]",
                self.beta
            )));
        }
        if let Some(a) = self.alpha
            && !(a.is_finite() && (0.0..=1.0).contains(&a))
        {
            return Err(Error::invalid(format!("alpha {a} is outside [0, 1]")));
        }
        Ok(())
    }
}

/// A neuron layer whose decays and thresholds differ between neurons: `base` gives the kind,
/// reset, firing rule and readout; the vectors (one value per neuron, in the layer's flat
/// channel-major order) replace its scalar `beta`, `threshold` and `alpha`.
#[derive(Clone, Debug, PartialEq)]
pub struct PerNeuron {
    /// The scalar neuron ([`Neuron::Lif`], [`Neuron::Synaptic`] or [`Neuron::Li`]); its scalar
    /// `beta`, `threshold` and `alpha` are not used.
    pub base: Neuron,
    /// Membrane decay of every neuron.
    pub beta: Vec<f32>,
    /// Threshold of every neuron (empty for a readout).
    pub threshold: Vec<f32>,
    /// Synaptic decay of every neuron (empty unless `base` is current-based).
    pub alpha: Vec<f32>,
}

impl PerNeuron {
    /// Builds the per-neuron form of `base` with the given vectors (see [`PerNeuron::validate`]).
    pub fn new(base: Neuron, beta: Vec<f32>, threshold: Vec<f32>, alpha: Vec<f32>) -> Self {
        PerNeuron {
            base,
            beta,
            threshold,
            alpha,
        }
    }

    /// Names and values of the vectors that `base` needs: `beta` always, `threshold` for
    /// spiking neurons, `alpha` for current-based ones.
    pub fn vectors(&self) -> Vec<(&'static str, &[f32])> {
        let mut v = vec![("beta", &self.beta[..])];
        if self.base.is_spiking() {
            v.push(("threshold", &self.threshold[..]));
        }
        if self.base.has_synaptic_current() {
            v.push(("alpha", &self.alpha[..]));
        }
        v
    }

    /// Checks the base kind, that every needed vector has `n` values (and the others none) and
    /// that every value is in range (`beta`, `alpha` in `[0, 1]`, `threshold > 0`, finite).
    pub fn validate(&self, n: usize) -> Result<()> {
        if matches!(self.base, Neuron::PerNeuron(_)) {
            return Err(Error::invalid("per-neuron parameters cannot be nested"));
        }
        self.base.validate()?;
        let want = |name: &str, needed: bool, v: &[f32]| -> Result<()> {
            let len = if needed { n } else { 0 };
            if v.len() != len {
                return Err(Error::shape(format!(
                    "per-neuron {name} has {} values, expected {len}",
                    v.len()
                )));
            }
            Ok(())
        };
        want("beta", true, &self.beta)?;
        want("threshold", self.base.is_spiking(), &self.threshold)?;
        want("alpha", self.base.has_synaptic_current(), &self.alpha)?;
        for (name, v) in [("beta", &self.beta), ("alpha", &self.alpha)] {
            if let Some(i) = v
                .iter()
                .position(|x| !(x.is_finite() && (0.0..=1.0).contains(x)))
            {
                return Err(Error::invalid(format!(
                    "per-neuron {name} of neuron {i} is {}, outside [0, 1]",
                    v[i]
                )));
            }
        }
        if let Some(i) = self
            .threshold
            .iter()
            .position(|x| !(x.is_finite() && *x > 0.0))
        {
            return Err(Error::invalid(format!(
                "per-neuron threshold of neuron {i} is {}; it must be finite and > 0",
                self.threshold[i]
            )));
        }
        Ok(())
    }
}

/// A float neuron model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Neuron {
    /// Leaky integrate-and-fire (IF when `beta == 1`).
    Lif(LifParams),
    /// Current-based (synaptic) LIF, snnTorch `Synaptic`: `syn = alpha * syn + I`, then the LIF
    /// update with `syn` as its input.
    Synaptic {
        /// Synaptic current decay in `[0, 1]`.
        alpha: f32,
        /// The membrane part.
        lif: LifParams,
    },
    /// Non-spiking leaky-integrator readout (NIR `LI`, `CubaLI`, `I`); only as the last layer.
    Li(LiParams),
    /// Any of the above with per-neuron `beta`, `threshold` and `alpha`. Not a topology JSON
    /// kind of its own: model files store the base neuron and `<layer>.beta` (etc.) tensors.
    #[serde(skip)]
    PerNeuron(Box<PerNeuron>),
}

impl Neuron {
    /// The scalar LIF membrane parameters (for a current-based neuron, those of its membrane
    /// stage); `None` for a readout ([`Neuron::Li`]) and for per-neuron parameters
    /// ([`Neuron::PerNeuron`]), which have no single set.
    pub fn lif(&self) -> Option<&LifParams> {
        match self {
            Neuron::Lif(p) => Some(p),
            Neuron::Synaptic { lif, .. } => Some(lif),
            Neuron::Li(_) | Neuron::PerNeuron(_) => None,
        }
    }

    /// The neuron kind without per-neuron vectors (itself unless [`Neuron::PerNeuron`]).
    pub fn base(&self) -> &Neuron {
        match self {
            Neuron::PerNeuron(p) => &p.base,
            n => n,
        }
    }

    /// The readout parameters when this is a non-spiking readout layer (scalar or per-neuron).
    pub fn readout(&self) -> Option<&LiParams> {
        match self.base() {
            Neuron::Li(p) => Some(p),
            _ => None,
        }
    }

    /// False for a non-spiking readout.
    pub fn is_spiking(&self) -> bool {
        self.readout().is_none()
    }

    /// True for current-based neurons (a synaptic current state besides the membrane).
    pub fn has_synaptic_current(&self) -> bool {
        match self.base() {
            Neuron::Synaptic { .. } => true,
            Neuron::Li(p) => p.alpha.is_some(),
            _ => false,
        }
    }

    /// State variables per neuron: 2 for current-based neurons, else 1.
    pub fn state_vars(&self) -> u32 {
        if self.has_synaptic_current() { 2 } else { 1 }
    }

    /// Validates all parameters (the lengths of per-neuron vectors are checked by
    /// [`crate::model::Model::validate`], which knows the layer size).
    pub fn validate(&self) -> Result<()> {
        if let Neuron::Synaptic { alpha, .. } = self
            && !(alpha.is_finite() && (0.0..=1.0).contains(alpha))
        {
            return Err(Error::invalid(format!("alpha {alpha} is outside [0, 1]")));
        }
        match self {
            Neuron::Lif(p) | Neuron::Synaptic { lif: p, .. } => p.validate(),
            Neuron::Li(p) => p.validate(),
            Neuron::PerNeuron(p) => p.validate(p.beta.len()),
        }
    }
}

/// Mutable state of a float neuron layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerState {
    /// Membrane potentials `v`.
    pub v: Vec<f32>,
    /// Synaptic currents (only used by [`Neuron::Synaptic`]).
    pub syn: Vec<f32>,
    /// Spikes of the last step, bit-packed.
    pub spikes: Vec<u64>,
}

impl LayerState {
    /// Resting state for `n` neurons.
    pub fn new(n: usize) -> Self {
        LayerState {
            v: vec![0.0; n],
            syn: vec![0.0; n],
            spikes: vec![0; crate::spikes::words_for(n)],
        }
    }
}

#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

/// One float step of a neuron layer: consumes `current`, updates `state` in place.
pub fn step_f32(neuron: &Neuron, current: &[f32], state: &mut LayerState) {
    let n = current.len();
    assert_eq!(state.v.len(), n, "state width");
    match neuron {
        Neuron::Li(p) => return step_li_f32(p, current, state),
        Neuron::PerNeuron(p) => return step_per_neuron_f32(p, current, state),
        _ => {}
    }
    let input: &[f32] = match neuron {
        Neuron::Synaptic { alpha, .. } => {
            for (s, &i) in state.syn.iter_mut().zip(current) {
                *s = alpha * *s + i;
            }
            &state.syn
        }
        _ => current,
    };
    let Some(p) = neuron.lif() else {
        unreachable!("readout and per-neuron layers returned above")
    };
    let mut out = vec![0u64; state.spikes.len()];
    for i in 0..n {
        let (v, fired) = update_f32(
            p,
            p.beta,
            p.threshold,
            state.v[i],
            bit(&state.spikes, i),
            input[i],
        );
        state.v[i] = v;
        if fired {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    state.spikes = out;
}

/// One float step of a readout layer: `syn = alpha * syn + I` (current-based only), then
/// `v = beta * v + input`; never spikes (the spike words stay zero).
pub fn step_li_f32(p: &LiParams, current: &[f32], state: &mut LayerState) {
    let input: &[f32] = match p.alpha {
        Some(alpha) => {
            for (s, &i) in state.syn.iter_mut().zip(current) {
                *s = alpha * *s + i;
            }
            &state.syn
        }
        None => current,
    };
    readout_update(
        &mut state.v,
        input,
        std::iter::repeat(p.beta),
        &mut state.spikes,
    );
}

/// The readout membrane update `v = beta * v + input` (per neuron `beta` from `beta`), shared by
/// [`step_li_f32`] and the readout case of [`step_per_neuron_f32`]; the spike words stay zero.
fn readout_update(
    v: &mut [f32],
    input: &[f32],
    beta: impl Iterator<Item = f32>,
    spikes: &mut [u64],
) {
    for ((v, &i), b) in v.iter_mut().zip(input).zip(beta) {
        *v = b * *v + i;
    }
    spikes.fill(0);
}

/// The float update of one neuron with its own `beta` and `threshold` (for a scalar layer
/// [`step_f32`] passes the layer's): the one definition of the LIF step. Returns `(v[t], s[t])`.
#[inline]
fn update_f32(p: &LifParams, beta: f32, th: f32, v: f32, prev: bool, input: f32) -> (f32, bool) {
    match p.rule {
        FiringRule::Snntorch => {
            let r = if prev { 1.0 } else { 0.0 };
            let nv = match p.reset {
                ResetMode::Subtract => beta * v + input - r * th,
                ResetMode::Zero => beta * ((1.0 - r) * v) + input,
                ResetMode::None => beta * v + input,
            };
            (nv, nv > th)
        }
        FiringRule::Spikingjelly => {
            let h = beta * v + input;
            let fired = h >= th;
            let nv = match (p.reset, fired) {
                (ResetMode::Subtract, true) => h - th,
                (ResetMode::Zero, true) => 0.0,
                _ => h,
            };
            (nv, fired)
        }
    }
}

/// One float step of a layer with per-neuron parameters: neuron `i` is updated exactly as a
/// scalar layer with `beta[i]`, `threshold[i]` and `alpha[i]` would update it.
pub fn step_per_neuron_f32(p: &PerNeuron, current: &[f32], state: &mut LayerState) {
    let n = current.len();
    if p.base.has_synaptic_current() {
        for ((s, &i), &a) in state.syn.iter_mut().zip(current).zip(&p.alpha) {
            *s = a * *s + i;
        }
    }
    let input: &[f32] = if p.base.has_synaptic_current() {
        &state.syn
    } else {
        current
    };
    let lif = match &p.base {
        Neuron::Lif(l) | Neuron::Synaptic { lif: l, .. } => *l,
        _ => {
            // Readout: v = beta * v + input, no spikes.
            let beta = p.beta.iter().copied();
            readout_update(&mut state.v, input, beta, &mut state.spikes);
            return;
        }
    };
    let mut out = vec![0u64; state.spikes.len()];
    for i in 0..n {
        let (v, fired) = update_f32(
            &lif,
            p.beta[i],
            p.threshold[i],
            state.v[i],
            bit(&state.spikes, i),
            input[i],
        );
        state.v[i] = v;
        if fired {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    state.spikes = out;
}

/// Integer leak `v -> leak(v)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Leak {
    /// No leak (IF neurons): `leak(v) = v`.
    None,
    /// Multiplier-free: `leak(v) = v - (v >>> k)`, i.e. `beta = 1 - 2^-k`. `1 <= k <= 30`.
    Shift {
        /// The shift `k`.
        k: u8,
    },
    /// Q-format multiply: `leak(v) = (v * beta_q) >>> frac_bits`, `0 <= beta_q <= 2^frac_bits`.
    Multiply {
        /// `beta` scaled by `2^frac_bits`, rounded.
        beta_q: i32,
        /// Fraction bits, `1..=16`.
        frac_bits: u8,
    },
}

impl Leak {
    /// Applies the leak. `>>>` is an arithmetic shift (rounds toward minus infinity).
    #[inline]
    pub fn apply(self, v: i64) -> i64 {
        match self {
            Leak::None => v,
            Leak::Shift { k } => v - (v >> k),
            Leak::Multiply { beta_q, frac_bits } => (v * beta_q as i64) >> frac_bits,
        }
    }

    /// The decay factor this leak approximates.
    pub fn beta(self) -> f64 {
        match self {
            Leak::None => 1.0,
            Leak::Shift { k } => 1.0 - (-(k as f64)).exp2(),
            Leak::Multiply { beta_q, frac_bits } => beta_q as f64 / (frac_bits as f64).exp2(),
        }
    }

    /// Checks the parameter ranges.
    pub fn validate(self) -> Result<()> {
        match self {
            Leak::None => Ok(()),
            Leak::Shift { k } if (1..=30).contains(&k) => Ok(()),
            Leak::Shift { k } => Err(Error::invalid(format!("leak shift {k} is outside 1..=30"))),
            Leak::Multiply { beta_q, frac_bits }
                if (1..=16).contains(&frac_bits) && (0..=1i32 << frac_bits).contains(&beta_q) =>
            {
                Ok(())
            }
            Leak::Multiply { beta_q, frac_bits } => Err(Error::invalid(format!(
                "leak multiply beta_q {beta_q} with {frac_bits} fraction bits is outside [0, 1] \
                 or frac_bits outside 1..=16"
            ))),
        }
    }
}

/// Parameters of an integer LIF layer: the golden model's neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntLifParams {
    /// Membrane leak.
    pub leak: Leak,
    /// Threshold `theta > 0`, in the layer's integer scale.
    pub threshold: i32,
    /// Reset mechanism.
    pub reset: ResetMode,
    /// Firing and reset timing.
    pub rule: FiringRule,
    /// Signed membrane width in bits (`2..=32`); `v` saturates to
    /// `[-2^(bits-1), 2^(bits-1) - 1]`.
    pub membrane_bits: u8,
    /// Leak of the synaptic current for current-based LIF; `None` for plain LIF.
    pub syn_leak: Option<Leak>,
}

impl IntLifParams {
    /// Smallest membrane value, `-2^(membrane_bits - 1)`: the lower saturation bound of the
    /// contract's `sat`.
    pub fn v_min(&self) -> i64 {
        -(1i64 << (self.membrane_bits - 1))
    }

    /// Largest membrane value, `2^(membrane_bits - 1) - 1`: the upper saturation bound of the
    /// contract's `sat`.
    pub fn v_max(&self) -> i64 {
        (1i64 << (self.membrane_bits - 1)) - 1
    }

    /// Saturates to the membrane width.
    #[inline]
    pub fn sat(&self, x: i64) -> i32 {
        x.clamp(self.v_min(), self.v_max()) as i32
    }

    /// Checks ranges: width `2..=32`, `0 < theta <= v_max`, valid leaks.
    pub fn validate(&self) -> Result<()> {
        if !(2..=32).contains(&self.membrane_bits) {
            return Err(Error::invalid(format!(
                "membrane width {} bits is outside 2..=32",
                self.membrane_bits
            )));
        }
        if self.threshold <= 0 || self.threshold as i64 > self.v_max() {
            return Err(Error::invalid(format!(
                "threshold {} must be > 0 and fit the {}-bit membrane (max {})",
                self.threshold,
                self.membrane_bits,
                self.v_max()
            )));
        }
        self.leak.validate()?;
        if let Some(l) = self.syn_leak {
            l.validate()?;
        }
        Ok(())
    }
}

/// Mutable state of an integer neuron layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntLayerState {
    /// Membrane potentials, always inside the declared width.
    pub v: Vec<i32>,
    /// Synaptic currents (current-based LIF only), saturated to the membrane width.
    pub syn: Vec<i32>,
    /// Spikes of the last step, bit-packed.
    pub spikes: Vec<u64>,
}

impl IntLayerState {
    /// Resting state for `n` neurons.
    pub fn new(n: usize) -> Self {
        IntLayerState {
            v: vec![0; n],
            syn: vec![0; n],
            spikes: vec![0; crate::spikes::words_for(n)],
        }
    }
}

/// The integer update of one neuron: returns `(v[t], s[t])` from `v[t-1]`, `s[t-1]` and the
/// input current. This is the contract, written once; [`step_int`] applies it to a layer.
#[inline]
pub fn update_int(p: &IntLifParams, v_prev: i32, s_prev: bool, input: i64) -> (i32, bool) {
    let v = v_prev as i64;
    let theta = p.threshold as i64;
    match p.rule {
        FiringRule::Snntorch => {
            let nv = match (p.reset, s_prev) {
                (ResetMode::Subtract, true) => p.sat(p.leak.apply(v) + input - theta),
                (ResetMode::Zero, true) => p.sat(p.leak.apply(0) + input),
                _ => p.sat(p.leak.apply(v) + input),
            };
            (nv, nv as i64 > theta)
        }
        FiringRule::Spikingjelly => {
            let h = p.sat(p.leak.apply(v) + input) as i64;
            let fired = h >= theta;
            let nv = match (p.reset, fired) {
                (ResetMode::Subtract, true) => h - theta,
                (ResetMode::Zero, true) => 0,
                _ => h,
            };
            (nv as i32, fired)
        }
    }
}

/// One integer step of a neuron layer: consumes the accumulated currents `current`
/// (`b + sum of active weight rows`), updates `state` in place.
pub fn step_int(p: &IntLifParams, current: &[i32], state: &mut IntLayerState) {
    let n = current.len();
    assert_eq!(state.v.len(), n, "state width");
    let mut out = vec![0u64; state.spikes.len()];
    for i in 0..n {
        let input = match p.syn_leak {
            None => current[i] as i64,
            Some(l) => {
                let s = p.sat(l.apply(state.syn[i] as i64) + current[i] as i64);
                state.syn[i] = s;
                s as i64
            }
        };
        let (v, fired) = update_int(p, state.v[i], bit(&state.spikes, i), input);
        state.v[i] = v;
        if fired {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    state.spikes = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(reset: ResetMode, rule: FiringRule, leak: Leak) -> IntLifParams {
        IntLifParams {
            leak,
            threshold: 10,
            reset,
            rule,
            membrane_bits: 8,
            syn_leak: None,
        }
    }

    fn run(p: &IntLifParams, inputs: &[i32]) -> Vec<(i32, bool)> {
        let mut st = IntLayerState::new(1);
        inputs
            .iter()
            .map(|&i| {
                step_int(p, &[i], &mut st);
                (st.v[0], st.spikes[0] & 1 == 1)
            })
            .collect()
    }

    #[test]
    fn snntorch_subtract_reset_uses_previous_spike() {
        // IF neuron, theta = 10, constant input 6, subtract reset, strict >.
        // v: 6, 12 (fires), 12+6-10 = 8, 14 (fires), 14+6-10 = 10 (not > 10), 16 (fires).
        let p = params(ResetMode::Subtract, FiringRule::Snntorch, Leak::None);
        let got = run(&p, &[6; 6]);
        assert_eq!(
            got,
            vec![
                (6, false),
                (12, true),
                (8, false),
                (14, true),
                (10, false),
                (16, true)
            ]
        );
    }

    #[test]
    fn snntorch_zero_reset() {
        // v: 6, 12 (fires), then reset to 0 and add 6 = 6, 12 (fires) ...
        let p = params(ResetMode::Zero, FiringRule::Snntorch, Leak::None);
        assert_eq!(
            run(&p, &[6; 4]),
            vec![(6, false), (12, true), (6, false), (12, true)]
        );
    }

    #[test]
    fn spikingjelly_fires_on_equal_and_resets_same_step() {
        // h: 5, 10 (>= 10 fires, v = 0), 5, 10 (fires, v = 0).
        let p = params(ResetMode::Subtract, FiringRule::Spikingjelly, Leak::None);
        assert_eq!(
            run(&p, &[5; 4]),
            vec![(5, false), (0, true), (5, false), (0, true)]
        );
    }

    #[test]
    fn shift_leak_rounds_toward_minus_infinity() {
        // leak(v) = v - (v >> 2); v = -5: -5 >> 2 = -2, so -5 + 2 = -3.
        assert_eq!(Leak::Shift { k: 2 }.apply(-5), -3);
        assert_eq!(Leak::Shift { k: 2 }.apply(5), 4);
        // (v * 3) >> 2 with v = -5: -15 >> 2 = -4.
        assert_eq!(
            Leak::Multiply {
                beta_q: 3,
                frac_bits: 2
            }
            .apply(-5),
            -4
        );
    }

    #[test]
    fn saturates_at_membrane_width() {
        // 8-bit membrane: max 127, min -128.
        let p = params(ResetMode::None, FiringRule::Snntorch, Leak::None);
        let got = run(&p, &[100, 100, -300, -300]);
        assert_eq!(
            got,
            vec![(100, true), (127, true), (-128, false), (-128, false)]
        );
    }

    #[test]
    fn validate_rejects_bad_parameters() {
        let mut p = params(ResetMode::Subtract, FiringRule::Snntorch, Leak::None);
        p.threshold = 0;
        assert!(p.validate().is_err());
        p.threshold = 128;
        assert!(p.validate().is_err());
        p.threshold = 10;
        p.leak = Leak::Shift { k: 0 };
        assert!(p.validate().is_err());
        assert!(LifParams::snntorch(0.9, 0.0).validate().is_err());
        assert!(LifParams::snntorch(1.1, 1.0).validate().is_err());
        assert!(LifParams::snntorch(0.9, 1.0).validate().is_ok());
    }

    #[test]
    fn readout_integrates_without_spiking() {
        // LI beta 0.5, input 1, 2, 0: v = 1, 2.5, 1.25; never a spike.
        let n = Neuron::Li(LiParams {
            beta: 0.5,
            alpha: None,
            readout: crate::decode::Readout::Max,
        });
        let mut st = LayerState::new(1);
        let mut got = vec![];
        for i in [1.0, 2.0, 0.0] {
            step_f32(&n, &[i], &mut st);
            got.push((st.v[0], st.spikes[0]));
        }
        assert_eq!(got, vec![(1.0, 0), (2.5, 0), (1.25, 0)]);
        // CubaLI alpha 0.5, beta 1 (integrator of the synaptic current), input 4, 0, 0:
        // syn = 4, 2, 1; v = 4, 6, 7.
        let n = Neuron::Li(LiParams {
            beta: 1.0,
            alpha: Some(0.5),
            readout: crate::decode::Readout::Final,
        });
        let mut st = LayerState::new(1);
        let mut got = vec![];
        for i in [4.0, 0.0, 0.0] {
            step_f32(&n, &[i], &mut st);
            got.push(st.v[0]);
        }
        assert_eq!(got, vec![4.0, 6.0, 7.0]);
        assert!(!n.is_spiking() && n.has_synaptic_current() && n.state_vars() == 2);
        assert!(n.lif().is_none());
    }

    #[test]
    fn per_neuron_hand_computed() {
        // Two IF/LIF neurons, snnTorch rule, subtract reset: neuron 0 beta 1 theta 1, neuron 1
        // beta 0.5 theta 2; input 1.5 each step.
        // n0: v = 1.5 (fire), 1.5 + 1.5 - 1 = 2 (fire), 2 + 1.5 - 1 = 2.5 (fire)
        // n1: v = 1.5, 0.75 + 1.5 = 2.25 (fire), 1.125 + 1.5 - 2 = 0.625
        let p = PerNeuron::new(
            Neuron::Lif(LifParams::snntorch(0.9, 1.0)),
            vec![1.0, 0.5],
            vec![1.0, 2.0],
            vec![],
        );
        p.validate(2).unwrap();
        let n = Neuron::PerNeuron(Box::new(p));
        let mut st = LayerState::new(2);
        let mut got = vec![];
        for _ in 0..3 {
            step_f32(&n, &[1.5, 1.5], &mut st);
            got.push((st.v.clone(), st.spikes[0]));
        }
        assert_eq!(
            got,
            vec![
                (vec![1.5, 1.5], 0b01),
                (vec![2.0, 2.25], 0b11),
                (vec![2.5, 0.625], 0b01)
            ]
        );
    }

    #[test]
    fn per_neuron_validation() {
        let lif = Neuron::Lif(LifParams::snntorch(0.9, 1.0));
        let ok = PerNeuron::new(lif.clone(), vec![0.5; 3], vec![1.0; 3], vec![]);
        assert!(ok.validate(3).is_ok());
        assert!(ok.validate(4).is_err());
        let bad_beta = PerNeuron::new(lif.clone(), vec![0.5, 1.5, 0.5], vec![1.0; 3], vec![]);
        assert!(bad_beta.validate(3).is_err());
        let bad_th = PerNeuron::new(lif.clone(), vec![0.5; 3], vec![1.0, 0.0, 1.0], vec![]);
        assert!(bad_th.validate(3).is_err());
        let nan = PerNeuron::new(lif.clone(), vec![f32::NAN; 3], vec![1.0; 3], vec![]);
        assert!(nan.validate(3).is_err());
        // A LIF layer has no alpha; a synaptic one needs it.
        let extra = PerNeuron::new(lif, vec![0.5; 3], vec![1.0; 3], vec![0.5; 3]);
        assert!(extra.validate(3).is_err());
        let syn = Neuron::Synaptic {
            alpha: 0.5,
            lif: LifParams::snntorch(0.9, 1.0),
        };
        let no_alpha = PerNeuron::new(syn, vec![0.5; 3], vec![1.0; 3], vec![]);
        assert!(no_alpha.validate(3).is_err());
    }

    #[test]
    fn float_matches_snntorch_leaky() {
        // beta 0.5, theta 1, input 0.8: v = 0.8, 1.2 (fire), 0.6+0.8-1 = 0.4, 1.0 (not > 1).
        let n = Neuron::Lif(LifParams::snntorch(0.5, 1.0));
        let mut st = LayerState::new(1);
        let mut got = vec![];
        for _ in 0..4 {
            step_f32(&n, &[0.8], &mut st);
            got.push((st.v[0], st.spikes[0] == 1));
        }
        let expect = [(0.8, false), (1.2, true), (0.4, false), (1.0, false)];
        for (g, e) in got.iter().zip(expect) {
            assert!((g.0 - e.0).abs() < 1e-6 && g.1 == e.1, "{got:?}");
        }
    }
}
