//! Post-training quantization of a float [`Model`] into the integer golden model [`IntModel`].
//!
//! Per layer with weights (inputs of every layer are spikes, so each layer's scale is
//! independent of the others):
//!
//! - scale `s = max |W| / (2^(bits-1) - 1)`; `W_int = round(W / s)`, `b_int = round(b / s)`,
//!   `theta_int = round(theta / s)` (at least 1). The integer membrane then tracks `v / s`.
//! - leak: `Shift` picks the nearest `beta' = 1 - 2^-k` (`k = round(-log2(1 - beta))`, exact
//!   for the bundled models' `beta = 1 - 2^-4`), `Multiply` uses `beta_q = round(beta * 2^f)`;
//!   `beta = 1` gives no leak (IF).
//! - membrane width: the smallest signed width that holds every potential seen on the
//!   calibration inputs (run through `IntNetwork` with 32-bit membranes), unless fixed.
//!   Saturation on other data is measured by [`rail_hits`] and reported.
//! - average pooling (`k x k`) becomes sum pooling (the numeric contract has no division):
//!   the integer current is the window's spike count, so the layer's scale is `1 / k^2` and
//!   its threshold `round(theta k^2)` (exact for the converted networks' `theta = 1`).

use rayon::prelude::*;

use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Model};
use kernels::network::IntNetwork;
use kernels::neuron::{IntLifParams, Leak, Neuron};
use kernels::spikes::SpikeTrain;
use kernels::{Error, Result};

/// How the float decay `beta` becomes an integer leak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakMode {
    /// Multiplier-free `v - (v >>> k)` with the nearest `beta' = 1 - 2^-k`.
    Shift,
    /// `(v * beta_q) >>> frac_bits`.
    Multiply {
        /// Fraction bits of `beta_q` (`1..=16`).
        frac_bits: u8,
    },
}

/// Quantization settings.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantConfig {
    /// Name of the integer model (`None`: the float model's name).
    pub name: Option<String>,
    /// Signed weight width, `4..=16`.
    pub weight_bits: u8,
    /// Leak realisation.
    pub leak: LeakMode,
    /// Membrane width for every layer (`None`: chosen from the calibration potentials).
    pub membrane_bits: Option<u8>,
    /// Input encoding stored in the integer model (the LFSR encoder reproduces it in hardware).
    pub encoding: Encoding,
}

impl Default for QuantConfig {
    fn default() -> Self {
        QuantConfig {
            name: None,
            weight_bits: 8,
            leak: LeakMode::Shift,
            membrane_bits: None,
            encoding: Encoding::Lfsr { seed: 1, lanes: 16 },
        }
    }
}

/// The leak realisation as named on a command line (`--leak shift|multiply`), before the
/// fraction bits are attached ([`QuantOptions::from_cli`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakKind {
    /// [`LeakMode::Shift`].
    Shift,
    /// [`LeakMode::Multiply`].
    Multiply,
}

/// Fraction bits of `--leak multiply` when `--frac-bits` is not given.
pub const DEFAULT_FRAC_BITS: u8 = 12;

/// The quantization options shared by the command lines (`snn quantize`, `codegen`), without
/// clap: a field left `None` keeps [`QuantConfig::default`]'s value. [`QuantOptions::from_cli`]
/// is the one mapping of the flags, so both tools accept and refuse the same combinations;
/// ranges are checked by [`quantize`] itself.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuantOptions {
    /// Signed weight width (`--weight-bits`, 4..=16).
    pub weight_bits: Option<u8>,
    /// Leak realisation (`--leak shift|multiply`, with `--frac-bits`).
    pub leak: Option<LeakMode>,
    /// Membrane width for every layer (`--membrane-bits`, 2..=32; default: calibrated).
    pub membrane_bits: Option<u8>,
}

impl QuantOptions {
    /// The options from the flags `--weight-bits`, `--leak`, `--frac-bits`, `--membrane-bits`
    /// (each `None` when not given). Errors: `--frac-bits` without `--leak multiply` (it would
    /// be ignored).
    pub fn from_cli(
        weight_bits: Option<u8>,
        leak: Option<LeakKind>,
        frac_bits: Option<u8>,
        membrane_bits: Option<u8>,
    ) -> Result<Self> {
        let leak = match (leak, frac_bits) {
            (Some(LeakKind::Multiply), f) => Some(LeakMode::Multiply {
                frac_bits: f.unwrap_or(DEFAULT_FRAC_BITS),
            }),
            (_, Some(f)) => {
                return Err(Error::invalid(format!(
                    "--frac-bits {f} sets the multiply leak: it needs --leak multiply"
                )));
            }
            (Some(LeakKind::Shift), None) => Some(LeakMode::Shift),
            (None, None) => None,
        };
        Ok(QuantOptions {
            weight_bits,
            leak,
            membrane_bits,
        })
    }

    /// The command-line flags that were given, in a fixed order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.weight_bits.is_some() {
            f.push("--weight-bits");
        }
        if self.leak.is_some() {
            f.push("--leak");
        }
        if self.membrane_bits.is_some() {
            f.push("--membrane-bits");
        }
        f
    }

    /// The quantization settings: these options over [`QuantConfig::default`].
    pub fn config(&self) -> QuantConfig {
        let d = QuantConfig::default();
        QuantConfig {
            weight_bits: self.weight_bits.unwrap_or(d.weight_bits),
            leak: self.leak.unwrap_or(d.leak),
            membrane_bits: self.membrane_bits.or(d.membrane_bits),
            ..d
        }
    }
}

/// What quantization did to one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// Layer name.
    pub name: String,
    /// Real value of one integer weight unit.
    pub scale: f32,
    /// Integer threshold.
    pub threshold: i32,
    /// Float decay.
    pub beta: f32,
    /// The integer leak and the decay it realises.
    pub leak: Leak,
    /// Largest `|W - W_int * scale|` (float units).
    pub max_weight_error: f32,
    /// Chosen membrane width.
    pub membrane_bits: u8,
    /// Smallest and largest potential seen on the calibration inputs (32-bit run).
    pub calibration_range: (i32, i32),
}

/// An integer model with its per-layer report.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// The integer model.
    pub model: IntModel,
    /// One entry per layer with neurons.
    pub layers: Vec<LayerReport>,
}

/// Integer leak for `beta`.
pub fn leak_for(beta: f32, mode: LeakMode) -> Result<Leak> {
    if beta >= 1.0 {
        return Ok(Leak::None);
    }
    match mode {
        LeakMode::Shift => {
            if beta <= 0.0 {
                return Err(Error::invalid(
                    "beta 0 cannot be a shift leak (use the multiply leak)",
                ));
            }
            let k = (-(1.0 - beta as f64).log2()).round().clamp(1.0, 30.0) as u8;
            Ok(Leak::Shift { k })
        }
        LeakMode::Multiply { frac_bits } => {
            let l = Leak::Multiply {
                beta_q: (beta as f64 * (frac_bits as f64).exp2()).round() as i32,
                frac_bits,
            };
            l.validate()?;
            Ok(l)
        }
    }
}

fn quantize_layer(
    l: &kernels::model::Layer,
    bits: u8,
    leak_mode: LeakMode,
    membrane_bits: u8,
) -> Result<(IntLayer, Option<LayerReport>)> {
    let qmax = ((1i32 << (bits - 1)) - 1) as f32;
    let wmax = l.weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    // Average pooling becomes sum pooling: the integer current counts the spikes of a window,
    // `k^2` times the float current, so one integer unit is worth `1 / k^2`.
    let (op, scale) = match l.op {
        LayerOp::AvgPool2d { input, kernel } => (
            LayerOp::SumPool2d { input, kernel },
            1.0 / (kernel * kernel) as f32,
        ),
        op => (op, if wmax > 0.0 { wmax / qmax } else { 1.0 }),
    };
    let weights: Vec<i16> = l
        .weights
        .iter()
        .map(|w| (w / scale).round().clamp(-qmax, qmax) as i16)
        .collect();
    let max_weight_error = l
        .weights
        .iter()
        .zip(&weights)
        .fold(0.0f32, |m, (w, q)| m.max((w - *q as f32 * scale).abs()));
    let bias: Vec<i32> = l.bias.iter().map(|b| (b / scale).round() as i32).collect();
    let (neuron, report) = match &l.neuron {
        None => (None, None),
        Some(Neuron::Synaptic { .. }) => {
            return Err(Error::invalid(format!(
                "layer {:?}: quantizing current-based (synaptic) neurons is not supported",
                l.name
            )));
        }
        Some(Neuron::Li(_)) => {
            return Err(Error::invalid(format!(
                "layer {:?}: a non-spiking readout (leaky integrator, NIR LI/CubaLI/I) has no \
                 integer form: the numeric contract and the hardware decode spike counts; it \
                 runs in the float runtime only (snn eval --float)",
                l.name
            )));
        }
        Some(Neuron::PerNeuron(_)) => {
            return Err(Error::invalid(format!(
                "layer {:?}: per-neuron decays and thresholds have no integer form (the \
                 numeric contract has one leak and one threshold per layer); it runs in the \
                 float runtime only (snn eval --float)",
                l.name
            )));
        }
        Some(Neuron::Lif(p)) => {
            let leak = leak_for(p.beta, leak_mode)?;
            let threshold = ((p.threshold / scale).round() as i64).clamp(1, i32::MAX as i64) as i32;
            let params = IntLifParams {
                leak,
                threshold,
                reset: p.reset,
                rule: p.rule,
                membrane_bits,
                syn_leak: None,
            };
            (
                Some(params),
                Some(LayerReport {
                    name: l.name.clone(),
                    scale,
                    threshold,
                    beta: p.beta,
                    leak,
                    max_weight_error,
                    membrane_bits,
                    calibration_range: (0, 0),
                }),
            )
        }
    };
    Ok((
        IntLayer {
            name: l.name.clone(),
            op,
            weight_bits: bits,
            weights,
            bias,
            scale,
            neuron,
        },
        report,
    ))
}

/// Smallest signed width holding `lo..=hi`.
pub fn bits_for_range(lo: i64, hi: i64) -> u8 {
    (2..=32u8)
        .find(|&b| -(1i64 << (b - 1)) <= lo && hi < (1i64 << (b - 1)))
        .unwrap_or(32)
}

/// Smallest and largest membrane potential of every neuron layer of `model` over `inputs`.
pub fn membrane_ranges(model: &IntModel, inputs: &[SpikeTrain]) -> Result<Vec<(i32, i32)>> {
    let net = IntNetwork::new(model)?;
    let layers = model.layers.iter().filter(|l| l.neuron.is_some()).count();
    let per: Result<Vec<Vec<(i32, i32)>>> = inputs
        .par_iter()
        .map(|x| {
            let run = net.run(x, true)?;
            let trace = run.trace.expect("recorded");
            Ok(trace
                .iter()
                .map(|t| {
                    let lo = t.membranes.iter().copied().min().unwrap_or(0);
                    let hi = t.membranes.iter().copied().max().unwrap_or(0);
                    (lo, hi)
                })
                .collect())
        })
        .collect();
    let mut out = vec![(0, 0); layers];
    for r in per? {
        for (o, (lo, hi)) in out.iter_mut().zip(r) {
            o.0 = o.0.min(lo);
            o.1 = o.1.max(hi);
        }
    }
    Ok(out)
}

/// Per neuron layer: `(membrane updates, updates that ended on the minimum or maximum of the
/// width)`. Every saturated update ends on a rail, so the second number bounds the saturated
/// updates from above (an update may also land exactly on a rail without clamping).
pub fn rail_hits(model: &IntModel, inputs: &[SpikeTrain]) -> Result<Vec<(u64, u64)>> {
    let net = IntNetwork::new(model)?;
    let rails: Vec<(i32, i32)> = model
        .layers
        .iter()
        .filter_map(|l| l.neuron)
        .map(|n| (n.v_min() as i32, n.v_max() as i32))
        .collect();
    let per: Result<Vec<Vec<(u64, u64)>>> = inputs
        .par_iter()
        .map(|x| {
            let run = net.run(x, true)?;
            let trace = run.trace.expect("recorded");
            Ok(trace
                .iter()
                .zip(&rails)
                .map(|(t, &(lo, hi))| {
                    let hits = t.membranes.iter().filter(|&&v| v == lo || v == hi).count();
                    (t.membranes.len() as u64, hits as u64)
                })
                .collect())
        })
        .collect();
    let mut out = vec![(0u64, 0u64); rails.len()];
    for r in per? {
        for (o, (n, h)) in out.iter_mut().zip(r) {
            o.0 += n;
            o.1 += h;
        }
    }
    Ok(out)
}

/// Quantizes `model` (dense, conv, pooling and flatten layers with LIF neurons; average
/// pooling becomes sum pooling with the threshold in spike counts, `round(theta k^2)`). `calibration` holds encoded
/// input samples used to choose membrane widths (may be empty when `membrane_bits` is fixed).
pub fn quantize(model: &Model, cfg: &QuantConfig, calibration: &[SpikeTrain]) -> Result<Quantized> {
    model.validate()?;
    if !(4..=16).contains(&cfg.weight_bits) {
        return Err(Error::invalid(format!(
            "weight width {} bits is outside 4..=16",
            cfg.weight_bits
        )));
    }
    if let Some(b) = cfg.membrane_bits
        && !(2..=32).contains(&b)
    {
        return Err(Error::invalid(format!(
            "membrane width {b} bits is outside 2..=32"
        )));
    }
    if cfg.membrane_bits.is_none() && calibration.is_empty() {
        return Err(Error::invalid(
            "choosing membrane widths needs calibration inputs (or a fixed membrane width)",
        ));
    }
    let first_bits = cfg.membrane_bits.unwrap_or(32);
    let mut layers = Vec::new();
    let mut reports = Vec::new();
    for l in &model.layers {
        let (il, r) = quantize_layer(l, cfg.weight_bits, cfg.leak, first_bits)?;
        layers.push(il);
        reports.extend(r);
    }
    let mut im = IntModel {
        name: cfg.name.clone().unwrap_or_else(|| model.name.clone()),
        input: model.input,
        timesteps: model.timesteps,
        encoding: cfg.encoding,
        layers,
    };
    if !calibration.is_empty() {
        let ranges = membrane_ranges(&im, calibration)?;
        for (r, range) in reports.iter_mut().zip(&ranges) {
            r.calibration_range = *range;
        }
        if cfg.membrane_bits.is_none() {
            let mut k = 0;
            for l in im.layers.iter_mut() {
                if let Some(n) = &mut l.neuron {
                    let (lo, hi) = ranges[k];
                    let bias_max = l.bias.iter().map(|b| b.abs() as i64).max().unwrap_or(0);
                    let hi = (hi as i64).max(n.threshold as i64).max(bias_max);
                    n.membrane_bits = bits_for_range((lo as i64).min(-bias_max), hi);
                    reports[k].membrane_bits = n.membrane_bits;
                    k += 1;
                }
            }
        }
    }
    im.validate()?;
    Ok(Quantized {
        model: im,
        layers: reports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_options_map_and_refuse_frac_bits_without_multiply() {
        let o = QuantOptions::from_cli(None, None, None, None).unwrap();
        assert_eq!(o, QuantOptions::default());
        assert_eq!(o.config(), QuantConfig::default());
        let o = QuantOptions::from_cli(Some(6), Some(LeakKind::Multiply), None, Some(12)).unwrap();
        assert_eq!(o.leak, Some(LeakMode::Multiply { frac_bits: 12 }));
        let c = o.config();
        assert_eq!((c.weight_bits, c.membrane_bits), (6, Some(12)));
        let o = QuantOptions::from_cli(None, Some(LeakKind::Multiply), Some(9), None).unwrap();
        assert_eq!(o.config().leak, LeakMode::Multiply { frac_bits: 9 });
        assert_eq!(o.flags(), ["--leak"]);
        let o = QuantOptions::from_cli(None, Some(LeakKind::Shift), None, None).unwrap();
        assert_eq!(o.leak, Some(LeakMode::Shift));
        for leak in [None, Some(LeakKind::Shift)] {
            let e = QuantOptions::from_cli(None, leak, Some(4), None).unwrap_err();
            assert!(e.to_string().contains("needs --leak multiply"), "{e}");
        }
    }

    #[test]
    fn shift_leak_nearest_k() {
        assert_eq!(
            leak_for(0.9375, LeakMode::Shift).unwrap(),
            Leak::Shift { k: 4 }
        );
        assert_eq!(
            leak_for(0.95, LeakMode::Shift).unwrap(),
            Leak::Shift { k: 4 }
        );
        assert_eq!(
            leak_for(0.5, LeakMode::Shift).unwrap(),
            Leak::Shift { k: 1 }
        );
        assert_eq!(leak_for(1.0, LeakMode::Shift).unwrap(), Leak::None);
        assert_eq!(
            leak_for(0.9, LeakMode::Multiply { frac_bits: 8 }).unwrap(),
            Leak::Multiply {
                beta_q: 230,
                frac_bits: 8
            }
        );
    }

    #[test]
    fn widths() {
        assert_eq!(bits_for_range(-128, 127), 8);
        assert_eq!(bits_for_range(-129, 127), 9);
        assert_eq!(bits_for_range(0, 128), 9);
        assert_eq!(bits_for_range(-1, 1), 2);
    }
}
