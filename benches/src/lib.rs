//! Shared helpers for the criterion benchmarks in `benches/`: a small deterministic random
//! generator, random spike patterns and weights, and the dense `f32` baseline network.

pub mod cpu_time;
pub mod dense;

/// SplitMix64: a tiny, well-mixed deterministic generator, so every run benchmarks the same data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
}

/// Bit-packed spikes for `n` inputs, each active with probability `density`.
pub fn random_spikes(rng: &mut Rng, n: usize, density: f64) -> Vec<u64> {
    let mut w = vec![0u64; n.div_ceil(64)];
    for i in 0..n {
        if rng.next_f64() < density {
            w[i / 64] |= 1 << (i % 64);
        }
    }
    w
}

/// `n` random integer weights in `lo..=hi`.
pub fn random_weights(rng: &mut Rng, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    (0..n).map(|_| rng.range(lo, hi)).collect()
}

/// A 784-128-10 test network with reproducible random weights, in the three forms the
/// benchmarks compare: integer golden model, float model, dense `f32` baseline.
pub mod mnist_net {
    use kernels::model::{Encoding, IntLayer, IntModel, Layer, LayerOp, Model, Shape};
    use kernels::neuron::{FiringRule, IntLifParams, Leak, LifParams, Neuron, ResetMode};

    use super::Rng;
    use crate::dense::{DenseLayer, DenseNetwork};

    /// Layer sizes.
    pub const SIZES: [usize; 3] = [784, 128, 10];
    /// Timesteps.
    pub const T: usize = 25;
    /// Integer threshold; float models use `THRESHOLD / SCALE`.
    pub const THRESHOLD: i32 = 160;
    /// Integer units per float unit.
    pub const SCALE: f32 = 64.0;

    /// Bell-shaped 8-bit weights (sum of four uniforms, std ~ 20), like quantized trained
    /// weights: most are small, so the `i16` accumulator proof usually holds.
    fn weights(rng: &mut Rng, n: usize) -> Vec<i16> {
        (0..n)
            .map(|_| {
                let s: i64 = (0..4).map(|_| rng.range(-18, 18)).sum();
                s.clamp(-127, 127) as i16
            })
            .collect()
    }

    /// The integer model (8-bit weights, shift leak `beta = 1 - 2^-3`, subtract reset).
    pub fn int_model() -> IntModel {
        let mut rng = Rng::new(78_412_810);
        let neuron = IntLifParams {
            leak: Leak::Shift { k: 3 },
            threshold: THRESHOLD,
            reset: ResetMode::Subtract,
            rule: FiringRule::Snntorch,
            membrane_bits: 16,
            syn_leak: None,
        };
        let mut layers = Vec::new();
        for (i, w) in SIZES.windows(2).enumerate() {
            layers.push(IntLayer {
                name: format!("fc{}", i + 1),
                op: LayerOp::Dense {
                    inputs: w[0],
                    outputs: w[1],
                },
                weight_bits: 8,
                weights: weights(&mut rng, w[0] * w[1]),
                bias: vec![],
                scale: 1.0 / SCALE,
                neuron: Some(neuron),
            });
        }
        IntModel {
            name: "mnist".into(),
            input: Shape::flat(SIZES[0]),
            timesteps: T,
            encoding: Encoding::Rate { seed: 1 },
            layers,
        }
    }

    /// The float model with the same weights (`w / SCALE`, `beta = 0.875`).
    pub fn float_model() -> Model {
        let im = int_model();
        Model {
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
                    weights: l.weights.iter().map(|&w| w as f32 / SCALE).collect(),
                    bias: vec![],
                    neuron: Some(Neuron::Lif(LifParams::snntorch(
                        0.875,
                        THRESHOLD as f32 / SCALE,
                    ))),
                })
                .collect(),
        }
    }

    /// The dense `f32` baseline of the float model.
    pub fn dense_baseline() -> DenseNetwork {
        let fm = float_model();
        DenseNetwork {
            layers: fm
                .layers
                .iter()
                .map(|l| {
                    let LayerOp::Dense { inputs, outputs } = l.op else {
                        unreachable!()
                    };
                    DenseLayer::from_output_major(outputs, inputs, &l.weights, &vec![0.0; outputs])
                })
                .collect(),
            beta: 0.875,
            threshold: THRESHOLD as f32 / SCALE,
        }
    }
}
