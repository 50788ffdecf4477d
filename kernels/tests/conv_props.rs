//! The fast accumulate-only convolution equals the scalar reference bit for bit (integers) over
//! random geometries, including stride/padding edge cases, empty and all-one spike maps; and
//! pooling equals a dense gather written here.

use kernels::conv::{Conv2d, ConvGeometry, conv2d_reference};
use kernels::model::Shape;
use kernels::pool::{PoolGeometry, avg_pool_f32, sum_pool_i32};
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
        1usize..4,
        1usize..10,
        1usize..10,
        // Output channels: small counts, and the unrolled run lengths (8, 16, 32, 64) and
        // their neighbours.
        prop_oneof![
            1usize..5,
            Just(7),
            Just(8),
            Just(9),
            Just(16),
            Just(32),
            Just(64)
        ],
        1usize..5,
        1usize..5,
        1usize..4,
        0usize..4,
        0u8..4,
    )
        .prop_filter_map(
            "kernel larger than padded input",
            |(c, h, w, oc, kh, kw, stride, pad, density)| {
                let geom = ConvGeometry::new(
                    Shape {
                        channels: c,
                        height: h,
                        width: w,
                    },
                    oc,
                    [kh, kw],
                    stride,
                    pad,
                )
                .ok()?;
                Some((geom, density))
            },
        )
        .prop_flat_map(|(geom, density)| {
            let n = geom.input_len();
            // density 0: all zero, 3: all one, else random bits.
            let spikes = match density {
                0 => Just(vec![false; n]).boxed(),
                3 => Just(vec![true; n]).boxed(),
                _ => prop::collection::vec(any::<bool>(), n).boxed(),
            };
            (
                Just(geom),
                prop::collection::vec(any::<i16>(), geom.weight_len()),
                spikes,
            )
        })
        .prop_map(|(geom, weights, spikes)| Case {
            geom,
            weights,
            spikes,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn conv_fast_equals_reference_i16_i32(case in case(), bias in any::<i16>()) {
        let s = SpikeVec::from_bools(&case.spikes);
        let n = case.geom.output_len();
        let mut fast = vec![bias as i32; n];
        let mut refr = vec![bias as i32; n];
        let conv = Conv2d::new(case.geom, &case.weights).unwrap();
        conv.accumulate(s.words(), &mut fast).unwrap();
        conv2d_reference(&case.geom, &case.weights, s.words(), &mut refr).unwrap();
        prop_assert_eq!(&fast, &refr);
        // Both strategies on their own.
        let mut rows = vec![bias as i32; n];
        conv.accumulate_rows(s.words(), &mut rows).unwrap();
        prop_assert_eq!(&rows, &refr);
        let mut hwc = vec![0i32; n];
        conv.accumulate_hwc(s.words(), &mut hwc).unwrap();
        let (oc, p) = (case.geom.out_channels, case.geom.out_height() * case.geom.out_width());
        let chw: Vec<i32> = (0..n).map(|i| bias as i32 + hwc[(i % p) * oc + i / p]).collect();
        prop_assert_eq!(&chw, &refr);
        // A reused scratch buffer gives the same result.
        let mut scratch = vec![7i32; 3];
        let mut again = vec![bias as i32; n];
        conv.accumulate_with_scratch(s.words(), &mut again, &mut scratch).unwrap();
        prop_assert_eq!(&again, &refr);
        if case.spikes.iter().all(|&b| !b) {
            prop_assert!(fast.iter().all(|&v| v == bias as i32));
        }
    }

    #[test]
    fn conv_fast_equals_reference_i8_and_f32(case in case()) {
        let s = SpikeVec::from_bools(&case.spikes);
        let n = case.geom.output_len();
        let w8: Vec<i8> = case.weights.iter().map(|&w| (w >> 8) as i8).collect();
        let mut fast = vec![0i32; n];
        let mut refr = vec![0i32; n];
        Conv2d::new(case.geom, &w8).unwrap().accumulate(s.words(), &mut fast).unwrap();
        conv2d_reference(&case.geom, &w8, s.words(), &mut refr).unwrap();
        prop_assert_eq!(&fast, &refr);
        // f32 with integer-valued weights: every partial sum is an integer below 2^24, so the
        // different summation orders give identical results.
        let wf: Vec<f32> = w8.iter().map(|&w| w as f32).collect();
        let mut ff = vec![0f32; n];
        let mut fr = vec![0f32; n];
        Conv2d::new(case.geom, &wf).unwrap().accumulate(s.words(), &mut ff).unwrap();
        conv2d_reference(&case.geom, &wf, s.words(), &mut fr).unwrap();
        prop_assert_eq!(&ff, &fr);
        let as_f: Vec<f32> = fast.iter().map(|&v| v as f32).collect();
        prop_assert_eq!(&ff, &as_f);
    }

    #[test]
    fn conv_synaptic_ops_count_nonzero_contributions(case in case()) {
        // With all weights 1, the sum of outputs equals the number of synaptic operations.
        let s = SpikeVec::from_bools(&case.spikes);
        let ones = vec![1i16; case.geom.weight_len()];
        let mut out = vec![0i32; case.geom.output_len()];
        conv2d_reference(&case.geom, &ones, s.words(), &mut out).unwrap();
        let total: i64 = out.iter().map(|&v| v as i64).sum();
        prop_assert_eq!(total as u64, case.geom.synaptic_ops(s.words()));
    }

    #[test]
    fn pooling_equals_dense_gather(
        c in 1usize..4, h in 1usize..12, w in 1usize..12, k in 1usize..5,
        bits in prop::collection::vec(any::<bool>(), 432),
    ) {
        prop_assume!(k <= h && k <= w);
        let shape = Shape { channels: c, height: h, width: w };
        let geom = PoolGeometry::new(shape, k).unwrap();
        let dense = &bits[..c * h * w];
        let s = SpikeVec::from_bools(dense);
        let (oh, ow) = (h / k, w / k);
        let mut expect = vec![0i32; c * oh * ow];
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    for dy in 0..k {
                        for dx in 0..k {
                            let i = (ch * h + oy * k + dy) * w + ox * k + dx;
                            expect[(ch * oh + oy) * ow + ox] += dense[i] as i32;
                        }
                    }
                }
            }
        }
        let mut got = vec![0i32; c * oh * ow];
        sum_pool_i32(&geom, s.words(), &mut got).unwrap();
        prop_assert_eq!(&got, &expect);
        let mut avg = vec![0f32; c * oh * ow];
        avg_pool_f32(&geom, s.words(), &mut avg).unwrap();
        let expect_avg: Vec<f32> = expect.iter().map(|&v| v as f32 / (k * k) as f32).collect();
        prop_assert_eq!(&avg, &expect_avg);
    }
}
