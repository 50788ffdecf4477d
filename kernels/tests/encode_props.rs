//! Encoder checks: the LFSR encoder against an independent implementation written here from
//! `docs/numeric-contract.md`, the SIMD Bernoulli generator against a scalar xoshiro128++,
//! statistical convergence of rates (fixed seeds, bounds of 6 standard deviations), and
//! reproducibility.

use kernels::encode::{
    self, Encoded, RateRng, bernoulli_f32, bernoulli_u8, latency_u8, lfsr_encode, lfsr_lane_seed,
    lfsr_step, poisson_f32, poisson_u8, sample_seed,
};
use kernels::model::Encoding;
use proptest::prelude::*;

// ---------------------------------------------------------------- LFSR reference (from spec)

/// Lane seed, written independently from the contract text with u64 arithmetic masked to 32
/// bits (rather than wrapping u32 operations).
fn ref_lane_seed(seed: u32, l: u32) -> u32 {
    const M: u64 = 0xFFFF_FFFF;
    let mut s = (seed as u64 + 0x9E37_79B9u64 * (l as u64 + 1)) & M;
    s ^= s >> 16;
    s = (s * 0x85EB_CA6B) & M;
    s ^= s >> 13;
    s = (s * 0xC2B2_AE35) & M;
    s ^= s >> 16;
    if s == 0 { 1 } else { s as u32 }
}

fn ref_step(x: u32) -> u32 {
    const M: u64 = 0xFFFF_FFFF;
    let mut x = x as u64;
    x ^= (x << 13) & M;
    x ^= x >> 17;
    x ^= (x << 5) & M;
    x as u32
}

/// Structure different from the library: first generate each lane's whole state sequence
/// (`T * G` states), then look up pixel `p = g*L + l` at step `t` as state number `t*G + g` of
/// lane `l`. Returns dense `T x N` booleans.
fn ref_lfsr(pixels: &[u8], steps: usize, seed: u32, lanes: usize) -> Vec<bool> {
    let n = pixels.len();
    let groups = n.div_ceil(lanes);
    let seqs: Vec<Vec<u32>> = (0..lanes)
        .map(|l| {
            let mut x = ref_lane_seed(seed, l as u32);
            (0..steps * groups)
                .map(|_| {
                    x = ref_step(x);
                    x
                })
                .collect()
        })
        .collect();
    let mut out = vec![false; steps * n];
    for t in 0..steps {
        for p in 0..n {
            let (g, l) = (p / lanes, p % lanes);
            let x = seqs[l][t * groups + g];
            out[t * n + p] = (pixels[p] as u32) > (x >> 24);
        }
    }
    out
}

#[test]
fn lfsr_contract_vectors() {
    // Vectors from the python3 reference printed in docs/numeric-contract.md.
    assert_eq!(lfsr_step(1), 0x0004_2021);
    assert_eq!(lfsr_step(0x0004_2021), 0x0408_0601);
    assert_eq!(lfsr_lane_seed(0, 3), 0x4c08_1dbf);
    assert_eq!(lfsr_lane_seed(0xDEAD_BEEF, 2), 0xf2c8_0841);
    assert_eq!(lfsr_lane_seed(0x61C8_8647, 0), 1);
    let t = lfsr_encode(&[0, 255, 128, 200, 1], 4, 0, 2).unwrap();
    let rows = ["01110", "01010", "01110", "01110"];
    for (s, r) in rows.iter().enumerate() {
        let got: String = (0..5)
            .map(|p| if t.get(s, p) { '1' } else { '0' })
            .collect();
        assert_eq!(&got, r, "step {s}");
    }
    // The reference agrees with the same vectors (so it is not vacuously equal to the code).
    assert_eq!(ref_lane_seed(0xDEAD_BEEF, 0), 0xd3ce_9097);
    assert_eq!(ref_step(0x9dcc_a8c5), 0x1255_994f);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lfsr_equals_reference(
        pixels in prop::collection::vec(any::<u8>(), 0..300),
        steps in 0usize..6,
        seed in any::<u32>(),
        lanes in 1usize..80,
    ) {
        let got = lfsr_encode(&pixels, steps, seed, lanes as u32).unwrap();
        prop_assert_eq!(got.to_bools(), ref_lfsr(&pixels, steps, seed, lanes));
    }

    #[test]
    fn lane_seed_and_step_equal_reference(seed in any::<u32>(), l in 0u32..100_000, x in 1u32..) {
        prop_assert_eq!(lfsr_lane_seed(seed, l), ref_lane_seed(seed, l));
        prop_assert_eq!(lfsr_step(x), ref_step(x));
        prop_assert_ne!(lfsr_step(x), 0);
    }
}

// ------------------------------------------------------- Bernoulli: scalar xoshiro128++ model

fn ref_splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Scalar xoshiro128++ (reference C code by Blackman and Vigna, transcribed).
struct Xo([u32; 4]);
impl Xo {
    fn next(&mut self) -> u32 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }
}

fn ref_lanes(seed: u64) -> Vec<Xo> {
    let mut s = seed;
    (0..8)
        .map(|_| {
            let a = ref_splitmix(&mut s);
            let b = ref_splitmix(&mut s);
            Xo([a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32])
        })
        .collect()
}

#[test]
fn generator_known_values() {
    // SplitMix64 from state 0: the published first output.
    let mut s = 0;
    assert_eq!(ref_splitmix(&mut s), 0xe220_a839_7b1d_cdaf);
    // xoshiro128++ from [1, 2, 3, 4]: rotl(1 + 4, 7) + 1 = 641 = 0x281, then python3 values.
    let mut x = Xo([1, 2, 3, 4]);
    assert_eq!(
        [x.next(), x.next(), x.next(), x.next()],
        [0x281, 0x0018_0387, 0xc018_3387, 0xd1ae_3b02]
    );
    // RateRng(42): lanes 0 and 7, python3 (splitmix seeding + xoshiro128++).
    let mut r = RateRng::new(42);
    let outs: Vec<[u32; 8]> = (0..3).map(|_| r.next_u32s()).collect();
    assert_eq!(
        [outs[0][0], outs[1][0], outs[2][0]],
        [0x9d94_52c1, 0x6909_d440, 0x6148_a68f]
    );
    assert_eq!(
        [outs[0][7], outs[1][7], outs[2][7]],
        [0x80d8_5f77, 0xbe3a_3aa2, 0xa33f_7181]
    );
}

/// Scalar Bernoulli reference: rows padded to 64 pixels; per 16 pixels one 8-lane draw, lane
/// `j`'s low 16 bits for pixel `j`, high 16 bits for pixel `8 + j`.
fn ref_bernoulli(thr: &[u64], steps: usize, seed: u64) -> Vec<bool> {
    let n = thr.len();
    let padded = n.div_ceil(64) * 64;
    let mut lanes = ref_lanes(seed);
    let mut out = vec![false; steps * n];
    for t in 0..steps {
        for p in (0..padded).step_by(16) {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let r = lane.next();
                for (pixel, draw) in [(p + j, r & 0xFFFF), (p + 8 + j, r >> 16)] {
                    if pixel < n {
                        out[t * n + pixel] = (draw as u64) < thr[pixel];
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn bernoulli_u8_equals_scalar(
        pixels in prop::collection::vec(any::<u8>(), 0..200),
        steps in 0usize..5,
        seed in any::<u64>(),
    ) {
        // ceil(p * 2^16 / 255) with float-free integer arithmetic.
        let thr: Vec<u64> = pixels.iter().map(|&p| (p as u64 * (1 << 16)).div_ceil(255)).collect();
        let got = bernoulli_u8(&pixels, steps, seed).unwrap();
        prop_assert_eq!(got.to_bools(), ref_bernoulli(&thr, steps, seed));
    }

    #[test]
    fn bernoulli_f32_equals_scalar(
        x in prop::collection::vec(-0.5f32..1.5, 0..150),
        steps in 0usize..5,
        seed in any::<u64>(),
    ) {
        // Probability x -> threshold ceil(x * 2^16) in f64, clamped to [0, 2^16].
        let thr: Vec<u64> = x
            .iter()
            .map(|&v| ((v as f64 * 65_536.0).ceil()).clamp(0.0, 65_536.0) as u64)
            .collect();
        let got = bernoulli_f32(&x, steps, seed).unwrap();
        prop_assert_eq!(got.to_bools(), ref_bernoulli(&thr, steps, seed));
    }
}

// ---------------------------------------------------------------- statistics, reproducibility

/// |count / T - p| within 6 standard deviations plus 1/T.
fn assert_rate(count: u32, steps: usize, p: f64, what: &str) {
    let rate = count as f64 / steps as f64;
    let sd = (p * (1.0 - p) / steps as f64).sqrt();
    assert!(
        (rate - p).abs() <= 6.0 * sd + 1.0 / steps as f64,
        "{what}: rate {rate} vs expected {p}"
    );
}

#[test]
fn rates_converge_to_intensity() {
    let pixels: Vec<u8> = vec![0, 1, 13, 64, 100, 128, 200, 254, 255];
    let steps = 20_000;
    for seed in [1u64, 2, 0xDEAD] {
        let b = bernoulli_u8(&pixels, steps, seed)
            .unwrap()
            .counts_per_neuron();
        let p = poisson_u8(&pixels, steps, seed)
            .unwrap()
            .counts_per_neuron();
        for (i, &px) in pixels.iter().enumerate() {
            let prob = px as f64 / 255.0;
            assert_rate(b[i], steps, prob, &format!("bernoulli pixel {px}"));
            assert_rate(p[i], steps, prob, &format!("poisson pixel {px}"));
        }
        assert_eq!(b[0], 0);
        assert_eq!(b[8], steps as u32);
        assert_eq!(p[0], 0);
        assert_eq!(p[8], steps as u32);
        // LFSR: probability p / 256 per step.
        let l = lfsr_encode(&pixels, steps, seed as u32, 4)
            .unwrap()
            .counts_per_neuron();
        for (i, &px) in pixels.iter().enumerate() {
            assert_rate(l[i], steps, px as f64 / 256.0, &format!("lfsr pixel {px}"));
        }
    }
    // Poisson with raw rates: P(spike) = 1 - exp(-rate).
    let rates = [0.0f32, 0.05, 0.5, 1.0, 3.0, f32::INFINITY];
    let c = poisson_f32(&rates, steps, 9).unwrap().counts_per_neuron();
    for (i, &r) in rates.iter().enumerate() {
        assert_rate(
            c[i],
            steps,
            1.0 - (-(r as f64)).exp(),
            &format!("poisson rate {r}"),
        );
    }
    assert!(poisson_f32(&[-1.0], 3, 0).is_err());
    assert!(encode::bernoulli_thresholds(&[65_537], 3, 0).is_err());
    assert!(encode::bernoulli_thresholds(&[-1], 3, 0).is_err());
    assert!(poisson_f32(&[f32::NAN], 3, 0).is_err());
}

#[test]
fn bernoulli_pixels_independent_of_neighbours() {
    // Half the pixels at p = 0.5: the fraction of steps where pixels 0 and 1 both spike must be
    // about 1/4 (a broken lane layout that reused draws would give 1/2).
    let x = vec![0.5f32; 16];
    let steps = 20_000;
    let t = bernoulli_f32(&x, steps, 3).unwrap();
    for (a, b) in [(0, 1), (0, 8), (7, 8), (0, 15)] {
        let both = (0..steps).filter(|&s| t.get(s, a) && t.get(s, b)).count() as u32;
        assert_rate(both, steps, 0.25, &format!("pair {a},{b}"));
    }
    // Consecutive steps of one pixel are independent too.
    let both = (1..steps)
        .filter(|&s| t.get(s, 0) && t.get(s - 1, 0))
        .count() as u32;
    assert_rate(both, steps - 1, 0.25, "consecutive steps");
}

#[test]
fn reproducible_and_seed_sensitive() {
    let pixels: Vec<u8> = (0..784).map(|i| (i * 7 % 256) as u8).collect();
    let a = bernoulli_u8(&pixels, 25, 11).unwrap();
    assert_eq!(a, bernoulli_u8(&pixels, 25, 11).unwrap());
    assert_ne!(a, bernoulli_u8(&pixels, 25, 12).unwrap());
    let p = poisson_u8(&pixels, 25, 11).unwrap();
    assert_eq!(p, poisson_u8(&pixels, 25, 11).unwrap());
    assert_ne!(p, poisson_u8(&pixels, 25, 12).unwrap());
    assert_ne!(sample_seed(1, 0), sample_seed(1, 1));
    assert_ne!(sample_seed(1, 0), sample_seed(2, 0));
    // Padding bits stay zero: 784 = 12 words + 16 bits.
    for t in 0..25 {
        assert_eq!(a.row(t)[12] >> 16, 0);
        assert_eq!(p.row(t)[12] >> 16, 0);
    }
}

#[test]
fn latency_single_spike_brighter_first() {
    let pixels: Vec<u8> = (0..=255).collect();
    let t = latency_u8(&pixels, 25).unwrap();
    let counts = t.counts_per_neuron();
    assert_eq!(counts[0], 0);
    assert!(counts[1..].iter().all(|&c| c == 1));
    let first = |i: usize| (0..25).find(|&s| t.get(s, i)).unwrap();
    for i in 2..=255 {
        assert!(first(i) <= first(i - 1));
    }
    assert_eq!(first(255), 0);
    assert_eq!(first(1), 24);
}

#[test]
fn dispatch_matches_direct_calls() {
    let pixels: Vec<u8> = (0..50).map(|i| (i * 5) as u8).collect();
    let r = encode::encode_sample(&Encoding::Rate { seed: 4 }, &pixels, 8, 3).unwrap();
    assert_eq!(
        r,
        Encoded::Spikes(bernoulli_u8(&pixels, 8, sample_seed(4, 3)).unwrap())
    );
    let p = encode::encode_sample(&Encoding::Poisson { seed: 4 }, &pixels, 8, 3).unwrap();
    assert_eq!(
        p,
        Encoded::Spikes(poisson_u8(&pixels, 8, sample_seed(4, 3)).unwrap())
    );
    let l = encode::encode(&Encoding::Latency, &pixels, 8).unwrap();
    assert_eq!(l, Encoded::Spikes(latency_u8(&pixels, 8).unwrap()));
    assert!(encode::encode(&Encoding::Lfsr { seed: 1, lanes: 0 }, &pixels, 8).is_err());
}
