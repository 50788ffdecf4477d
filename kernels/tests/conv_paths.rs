//! Every convolution kernel path (scalar, portable `wide`, AVX2 and whatever else
//! `fc::paths::available()` lists on this CPU) and both scatter strategies against the scalar
//! reference `conv2d_reference`: bit for bit for `i16` and `i8` weights into `i32`, and for
//! `f32` weights with integer values; for arbitrary `f32` weights all paths of one strategy
//! agree bit for bit with each other (they add in the same order). Random shapes (channel
//! counts around the vector width of 8, positions not a multiple of 8), strides, padding,
//! densities (empty, full, random), weights including the `i16` / `i8` extremes, and a dirty
//! reused scratch buffer.

use kernels::conv::{Conv2d, ConvGeometry, Scatter, conv2d_reference};
use kernels::fc::{Path, paths};
use kernels::model::Shape;
use kernels::spikes::SpikeVec;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    geom: ConvGeometry,
    weights: Vec<i16>,
    spikes: Vec<bool>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1usize..5, 1usize..13, 1usize..13),
        prop_oneof![
            1usize..10,
            Just(15),
            Just(16),
            Just(17),
            Just(24),
            Just(32),
            Just(33),
            Just(64)
        ],
        (1usize..8, 1usize..8, 1usize..5, 0usize..4),
        (0u8..4, 0.0f64..1.0),
    )
        .prop_filter_map(
            "kernel larger than padded input",
            |((c, h, w), oc, (kh, kw, stride, pad), density)| {
                let input = Shape {
                    channels: c,
                    height: h,
                    width: w,
                };
                let geom = ConvGeometry::new(input, oc, [kh, kw], stride, pad).ok()?;
                Some((geom, density))
            },
        )
        .prop_flat_map(|(geom, (mode, d))| {
            let n = geom.input_len();
            // mode 0: all zero, 1: all one, else random bits with density d.
            let spikes = match mode {
                0 => Just(vec![false; n]).boxed(),
                1 => Just(vec![true; n]).boxed(),
                _ => prop::collection::vec(0.0f64..1.0, n)
                    .prop_map(move |u| u.into_iter().map(|x| x < d).collect())
                    .boxed(),
            };
            let weight = prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX), Just(0)];
            (
                Just(geom),
                prop::collection::vec(weight, geom.weight_len()),
                spikes,
            )
        })
        .prop_map(|(geom, weights, spikes)| Case {
            geom,
            weights,
            spikes,
        })
}

const STRATEGIES: [Scatter; 3] = [Scatter::ChannelLast, Scatter::Rows, Scatter::Auto];

/// Runs one path and strategy on `out` (pre-filled), with a dirty scratch of the wrong size.
fn run<W, A>(
    conv: &Conv2d<W>,
    path: Path,
    strategy: Scatter,
    spikes: &[u64],
    out: &mut [A],
    dirty: A,
) where
    W: kernels::conv::ConvWeight<A>,
    A: Copy + std::ops::AddAssign + Default,
{
    let mut scratch = vec![dirty; 5];
    conv.accumulate_with(path, strategy, spikes, out, &mut scratch)
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_path_equals_reference_i16_i8(case in case(), bias in any::<i16>()) {
        let s = SpikeVec::from_bools(&case.spikes);
        let n = case.geom.output_len();
        let w8: Vec<i8> = case.weights.iter().map(|&w| (w >> 8) as i8).collect();
        let mut want16 = vec![bias as i32; n];
        conv2d_reference(&case.geom, &case.weights, s.words(), &mut want16).unwrap();
        let mut want8 = vec![bias as i32; n];
        conv2d_reference(&case.geom, &w8, s.words(), &mut want8).unwrap();
        let c16 = Conv2d::new(case.geom, &case.weights).unwrap();
        let c8 = Conv2d::new(case.geom, &w8).unwrap();
        prop_assert_eq!(c16.synaptic_ops(s.words()), case.geom.synaptic_ops(s.words()));
        for path in paths::available() {
            for strategy in STRATEGIES {
                let mut got = vec![bias as i32; n];
                run(&c16, path, strategy, s.words(), &mut got, 12345);
                prop_assert_eq!(&got, &want16, "i16 {:?} {:?}", path, strategy);
                let mut got = vec![bias as i32; n];
                run(&c8, path, strategy, s.words(), &mut got, -7);
                prop_assert_eq!(&got, &want8, "i8 {:?} {:?}", path, strategy);
            }
        }
        // The default entry points.
        let mut got = vec![bias as i32; n];
        c16.accumulate(s.words(), &mut got).unwrap();
        prop_assert_eq!(&got, &want16);
        let mut hwc = vec![0i32; n];
        c16.accumulate_hwc(s.words(), &mut hwc).unwrap();
        let (oc, p) = (case.geom.out_channels, case.geom.out_height() * case.geom.out_width());
        let chw: Vec<i32> = (0..n).map(|i| bias as i32 + hwc[(i % p) * oc + i / p]).collect();
        prop_assert_eq!(&chw, &want16);
    }

    #[test]
    fn every_path_f32(case in case(), scale in 1e-3f32..1e3, init in -1.0f32..1.0) {
        let s = SpikeVec::from_bools(&case.spikes);
        let n = case.geom.output_len();
        // Integer-valued weights: every order gives the exact sum (< 2^24).
        let wi: Vec<f32> = case.weights.iter().map(|&w| (w >> 4) as f32).collect();
        let mut want = vec![0f32; n];
        conv2d_reference(&case.geom, &wi, s.words(), &mut want).unwrap();
        let ci = Conv2d::new(case.geom, &wi).unwrap();
        // Arbitrary weights: compare the paths with each other, per strategy.
        let wf: Vec<f32> = case.weights.iter().map(|&w| w as f32 * scale / 32768.0).collect();
        let cf = Conv2d::new(case.geom, &wf).unwrap();
        for strategy in [Scatter::ChannelLast, Scatter::Rows] {
            let mut first: Option<Vec<f32>> = None;
            for path in paths::available() {
                let mut got = vec![0f32; n];
                run(&ci, path, strategy, s.words(), &mut got, f32::NAN);
                prop_assert_eq!(&got, &want, "{:?} {:?}", path, strategy);
                let mut got = vec![init; n];
                run(&cf, path, strategy, s.words(), &mut got, 1e30);
                match &first {
                    None => first = Some(got),
                    Some(f) => {
                        let (a, b): (Vec<u32>, Vec<u32>) =
                            (f.iter().map(|x| x.to_bits()).collect(), got.iter().map(|x| x.to_bits()).collect());
                        prop_assert_eq!(a, b, "{:?} {:?}", path, strategy);
                    }
                }
            }
        }
    }
}

/// -0.0 initial values survive: a masked or padded lane must never turn them into +0.0, and
/// outputs no spike reaches keep their exact bits.
#[test]
fn negative_zero_and_untouched_outputs_keep_their_bits() {
    let input = Shape {
        channels: 2,
        height: 9,
        width: 11,
    };
    let geom = ConvGeometry::new(input, 3, [3, 3], 2, 1).unwrap();
    let w: Vec<f32> = (0..geom.weight_len()).map(|i| i as f32 - 20.0).collect();
    let conv = Conv2d::new(geom, &w).unwrap();
    // One spike in the corner of channel 0: reaches only output (0, 0) of each channel.
    let mut bools = vec![false; geom.input_len()];
    bools[0] = true;
    let s = SpikeVec::from_bools(&bools);
    for path in paths::available() {
        for strategy in STRATEGIES {
            let mut got = vec![-0.0f32; geom.output_len()];
            let mut want = got.clone();
            conv2d_reference(&geom, &w, s.words(), &mut want).unwrap();
            conv.accumulate_with(path, strategy, s.words(), &mut got, &mut Vec::new())
                .unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{path:?} {strategy:?}");
            assert!(got[1].is_sign_negative() && got[1] == 0.0);
        }
    }
}

#[test]
fn bad_buffers_are_errors_on_every_path() {
    let input = Shape {
        channels: 1,
        height: 3,
        width: 3,
    };
    let geom = ConvGeometry::new(input, 9, [2, 2], 1, 0).unwrap();
    let conv = Conv2d::new(geom, &[1i16; 36]).unwrap();
    for path in paths::available() {
        let mut scratch = Vec::new();
        let r = conv.accumulate_with(path, Scatter::Auto, &[0, 0], &mut [0i32; 36], &mut scratch);
        assert!(r.is_err());
        let r = conv.accumulate_with(path, Scatter::Auto, &[0], &mut [0i32; 35], &mut scratch);
        assert!(r.is_err());
        let r = conv.accumulate_with(
            path,
            Scatter::Rows,
            &[1 << 9],
            &mut [0i32; 36],
            &mut scratch,
        );
        assert!(r.is_err());
    }
}
