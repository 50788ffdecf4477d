//! Seeded random integer models, used by the tests of `codegen` and `verify` to cover layer
//! sizes that are not powers of two, all weight widths, reset modes, leaks and firing rules.

use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};

/// splitmix64.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
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
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// Uniform index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Shape and neuron choices of a random model.
#[derive(Clone, Debug)]
pub struct RandomSpec {
    /// Layer sizes including the input, e.g. `[20, 7, 3]`.
    pub sizes: Vec<usize>,
    /// Timesteps.
    pub timesteps: usize,
    /// Encoding (LFSR or direct spikes).
    pub encoding: Encoding,
}

/// A random neuron parameter set that exercises saturation (narrow membranes, large weights).
pub fn random_params(rng: &mut Rng, wb: u8) -> IntLifParams {
    let mb = rng.range((wb as i64 + 1).max(4), 20) as u8;
    let vmax = (1i64 << (mb - 1)) - 1;
    let leak = match rng.below(3) {
        0 => Leak::None,
        1 => Leak::Shift {
            k: rng.range(1, 6) as u8,
        },
        _ => {
            let f = rng.range(1, 16) as u8;
            Leak::Multiply {
                beta_q: rng.range(0, 1 << f) as i32,
                frac_bits: f,
            }
        }
    };
    let syn_leak = if rng.below(4) == 0 {
        Some(Leak::Shift {
            k: rng.range(1, 4) as u8,
        })
    } else {
        None
    };
    IntLifParams {
        leak,
        threshold: rng.range(1, vmax.min(1 << (wb + 2))) as i32,
        reset: [ResetMode::Subtract, ResetMode::Zero, ResetMode::None][rng.below(3)],
        rule: [FiringRule::Snntorch, FiringRule::Spikingjelly][rng.below(2)],
        membrane_bits: mb,
        syn_leak,
    }
}

/// A random dense model following `spec`.
pub fn random_model(rng: &mut Rng, name: &str, spec: &RandomSpec) -> IntModel {
    let mut layers = Vec::new();
    for (i, w) in spec.sizes.windows(2).enumerate() {
        let (fi, n) = (w[0], w[1]);
        let wb = rng.range(2, 16) as u8;
        let params = random_params(rng, wb);
        let wmax = (1i64 << (wb - 1)) - 1;
        let weights = (0..fi * n)
            .map(|_| {
                if rng.below(5) == 0 {
                    0
                } else {
                    rng.range(-wmax - 1, wmax) as i16
                }
            })
            .collect();
        let bmax = params.v_max().min(1 << wb);
        let bias = if rng.below(3) == 0 {
            Vec::new()
        } else {
            (0..n).map(|_| rng.range(-bmax, bmax) as i32).collect()
        };
        layers.push(IntLayer {
            name: format!("fc{}", i + 1),
            op: LayerOp::Dense {
                inputs: fi,
                outputs: n,
            },
            weight_bits: wb,
            weights,
            bias,
            scale: 1.0,
            neuron: Some(params),
        });
    }
    IntModel {
        name: name.into(),
        input: Shape::flat(spec.sizes[0]),
        timesteps: spec.timesteps,
        encoding: spec.encoding,
        layers,
    }
}

/// A 784-128-10 model with random 8-bit weights, shift leak, subtract reset, 16-bit membranes:
/// the MNIST shape, for tests that must not wait for a trained model.
pub fn mnist_shaped(seed: u64) -> IntModel {
    let mut rng = Rng::new(seed);
    let spec = RandomSpec {
        sizes: vec![784, 128, 10],
        timesteps: 25,
        encoding: Encoding::Lfsr {
            seed: 12345,
            lanes: 16,
        },
    };
    let mut m = random_model(&mut rng, "mnist_random", &spec);
    for l in &mut m.layers {
        l.weight_bits = 8;
        for w in &mut l.weights {
            *w = (rng.range(-40, 40)) as i16;
        }
        l.bias = vec![0; l.bias.len()];
        l.neuron = Some(IntLifParams {
            leak: Leak::Shift { k: 3 },
            threshold: 200,
            reset: ResetMode::Subtract,
            rule: FiringRule::Snntorch,
            membrane_bits: 16,
            syn_leak: None,
        });
    }
    m
}
