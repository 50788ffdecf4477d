//! Shared helpers for the criterion benchmarks in `benches/`: a small deterministic random
//! generator, random spike patterns and weights, and the dense `f32` baseline network.

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
