//! Range properties of the integer runtime: the integer neurons never leave their declared
//! membrane width, and the `i16` accumulators the runtime chooses cannot overflow.
//!
//! * Random integer models (dense and conv layers, weights of 2 to 16 bits drawn with a bias
//!   towards the extreme values, biases up to the membrane limit, thresholds, leak by shift or
//!   Q-format multiply, every reset mode and firing rule, membrane widths from 2 to 32 bits,
//!   current-based neurons) run on [`IntNetwork`] with recording on; every membrane potential
//!   the runtime reports, at every step, must lie in `[-(2^(m-1)), 2^(m-1) - 1]`.
//! * The synaptic current of the current-based neuron is not part of the network's trace, so it
//!   is checked on the real state of the contract step [`step_int`] (which the runtime calls for
//!   those neurons), together with its membrane.
//! * `i16` accumulators ([`I16Rows`], chosen by the runtime for dense layers whenever the proof
//!   holds): weights built exactly at the limit (`bias + sum of positive weights = 32767`,
//!   `bias + sum of negative weights = -32768`) are accepted and give exact currents on every
//!   kernel path, one unit more is refused, and the network's potentials at the limit equal the
//!   sums computed here in `i64`.
//!
//! Expected values are computed here from the weights (plain `i64` sums), never by the runtime.

use kernels::fc::{I16Rows, RowMatrix, paths};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::network::IntNetwork;
use kernels::neuron::{FiringRule, IntLayerState, IntLifParams, Leak, ResetMode, step_int};
use kernels::spikes::{SpikeTrain, SpikeVec};
use proptest::prelude::*;

fn range(bits: u8) -> (i64, i64) {
    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

/// Neuron parameters over the whole valid space, with small membranes (saturation reached
/// quickly) over-represented.
fn neuron_strategy(synaptic: bool) -> impl Strategy<Value = IntLifParams> {
    let leak = prop_oneof![
        Just(Leak::None),
        (1u8..=30).prop_map(|k| Leak::Shift { k }),
        (1u8..=16)
            .prop_flat_map(|f| (0i32..=(1 << f), Just(f)))
            .prop_map(|(beta_q, frac_bits)| Leak::Multiply { beta_q, frac_bits }),
    ];
    let syn_leak = if synaptic {
        leak.clone().prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    (
        leak,
        syn_leak,
        prop_oneof![
            Just(ResetMode::Subtract),
            Just(ResetMode::Zero),
            Just(ResetMode::None)
        ],
        prop_oneof![Just(FiringRule::Snntorch), Just(FiringRule::Spikingjelly)],
        prop_oneof![2u8..=8, 2u8..=32, Just(29u8), Just(30), Just(32)],
        0.0f64..=1.0,
    )
        .prop_map(|(leak, syn_leak, reset, rule, bits, th)| {
            let (_, hi) = range(bits);
            // Thresholds from 1 to the largest the width allows.
            let threshold = ((hi as f64 * th) as i64).clamp(1, hi) as i32;
            IntLifParams {
                leak,
                threshold,
                reset,
                rule,
                membrane_bits: bits,
                syn_leak,
            }
        })
}

/// `n` weights of `bits` bits, about a third of them at the two extremes.
fn weights(n: usize, bits: u8) -> impl Strategy<Value = Vec<i16>> {
    let hi = (1i32 << (bits - 1)) - 1;
    proptest::collection::vec(prop_oneof![(-hi - 1)..=hi, Just(-hi - 1), Just(hi)], n)
        .prop_map(|v| v.into_iter().map(|x| x as i16).collect())
}

/// Biases that fit the membrane (the model's rule), extremes included.
fn biases(n: usize, p: IntLifParams) -> impl Strategy<Value = Vec<i32>> {
    // Capped at 2^20 so that the model stays valid (bias plus weights must fit the 32-bit
    // accumulator); a 2^20 bias already saturates every membrane of up to 21 bits.
    let hi = range(p.membrane_bits).1.min(1 << 20) as i32;
    proptest::collection::vec(prop_oneof![-hi..=hi, Just(-hi), Just(hi)], n)
}

fn train_strategy(steps: usize, n: usize) -> impl Strategy<Value = SpikeTrain> {
    (
        prop_oneof![Just(0.0f64), Just(1.0), 0.0f64..1.0],
        proptest::collection::vec(0.0f64..1.0, steps * n),
    )
        .prop_map(move |(d, u)| {
            let bools: Vec<bool> = u.iter().map(|&x| x < d).collect();
            SpikeTrain::from_bools(steps, n, &bools).unwrap()
        })
}

fn layer(name: &str, op: LayerOp, bits: u8, w: Vec<i16>, b: Vec<i32>, n: IntLifParams) -> IntLayer {
    IntLayer {
        name: name.into(),
        op,
        weight_bits: bits,
        weights: w,
        bias: b,
        scale: 1.0,
        neuron: Some(n),
    }
}

fn bits_strategy() -> impl Strategy<Value = u8> {
    prop_oneof![2u8..=16, Just(2u8), Just(8), Just(16)]
}

/// Two dense layers with independent weight widths and neurons.
fn dense_model(synaptic: bool) -> impl Strategy<Value = (IntModel, SpikeTrain)> {
    (
        1usize..80,
        1usize..40,
        1usize..10,
        bits_strategy(),
        bits_strategy(),
        1usize..8,
        neuron_strategy(synaptic),
        neuron_strategy(synaptic),
    )
        .prop_flat_map(|(i, h, o, b1, b2, steps, n1, n2)| {
            (
                weights(i * h, b1),
                weights(h * o, b2),
                biases(h, n1),
                biases(o, n2),
                train_strategy(steps, i),
                Just((i, h, o, b1, b2, steps, n1, n2)),
            )
        })
        .prop_map(
            |(w1, w2, c1, c2, train, (i, h, o, b1, b2, steps, n1, n2))| {
                let m = IntModel {
                    name: "dense".into(),
                    input: Shape::flat(i),
                    timesteps: steps,
                    encoding: Encoding::Direct,
                    layers: vec![
                        layer(
                            "fc1",
                            LayerOp::Dense {
                                inputs: i,
                                outputs: h,
                            },
                            b1,
                            w1,
                            c1,
                            n1,
                        ),
                        layer(
                            "fc2",
                            LayerOp::Dense {
                                inputs: h,
                                outputs: o,
                            },
                            b2,
                            w2,
                            c2,
                            n2,
                        ),
                    ],
                };
                (m, train)
            },
        )
}

/// A conv layer (random geometry) followed by a sum pooling layer, both with neurons.
fn conv_model() -> impl Strategy<Value = (IntModel, SpikeTrain)> {
    (
        (1usize..4, 3usize..9, 3usize..9, 1usize..6),
        (1usize..4, 1usize..4, 1usize..3, 0usize..2),
        bits_strategy(),
        1usize..6,
        neuron_strategy(false),
        neuron_strategy(false),
    )
        .prop_flat_map(
            |((c, h, w, oc), (kh, kw, stride, pad), bits, steps, n1, n2)| {
                let input = Shape {
                    channels: c,
                    height: h,
                    width: w,
                };
                let conv = LayerOp::Conv2d {
                    input,
                    out_channels: oc,
                    kernel: [kh, kw],
                    stride,
                    padding: pad,
                };
                (
                    weights(conv.weight_count(), bits),
                    biases(oc, n1),
                    train_strategy(steps, input.len()),
                    Just((input, conv, bits, steps, n1, n2)),
                )
            },
        )
        .prop_map(|(wc, bc, train, (input, conv, bits, steps, n1, n2))| {
            let cs = conv.output_shape().unwrap();
            let pool = LayerOp::SumPool2d {
                input: cs,
                kernel: 1 + (cs.height.min(cs.width) > 1) as usize,
            };
            let mut p = layer("pool", pool, 2, vec![], vec![], n2);
            p.weight_bits = 2;
            let m = IntModel {
                name: "convnet".into(),
                input,
                timesteps: steps,
                encoding: Encoding::Direct,
                layers: vec![layer("conv", conv, bits, wc, bc, n1), p],
            };
            (m, train)
        })
}

/// Runs `m` with recording and checks every reported potential against its layer's width.
/// Returns how many potentials sat exactly on a bound (for the saturation sanity test).
fn check_ranges(m: &IntModel, train: &SpikeTrain) -> Result<usize, TestCaseError> {
    let net = IntNetwork::new(m).unwrap();
    let run = net.run(train, true).unwrap();
    let traces = run.trace.as_ref().unwrap();
    let params: Vec<IntLifParams> = m.layers.iter().filter_map(|l| l.neuron).collect();
    prop_assert_eq!(traces.len(), params.len());
    let mut on_bound = 0;
    for (li, (tr, p)) in traces.iter().zip(&params).enumerate() {
        let (lo, hi) = range(p.membrane_bits);
        let n = tr.spikes.neurons();
        prop_assert_eq!(tr.membranes.len(), n * train.steps());
        for (k, &v) in tr.membranes.iter().enumerate() {
            let v = v as i64;
            prop_assert!(
                (lo..=hi).contains(&v),
                "layer {} step {} neuron {}: potential {} outside [{}, {}] ({:?})",
                li,
                k / n,
                k % n,
                v,
                lo,
                hi,
                p
            );
            on_bound += (v == lo || v == hi) as usize;
        }
    }
    Ok(on_bound)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dense_potentials_stay_in_range((m, train) in dense_model(false)) {
        check_ranges(&m, &train)?;
    }

    #[test]
    fn synaptic_network_potentials_stay_in_range((m, train) in dense_model(true)) {
        check_ranges(&m, &train)?;
    }

    #[test]
    fn conv_pool_potentials_stay_in_range((m, train) in conv_model()) {
        check_ranges(&m, &train)?;
    }

    /// The contract step on its real state: membrane *and* synaptic current stay in range,
    /// for arbitrary `i32` input currents (including the extremes).
    #[test]
    fn step_int_state_stays_in_range(
        p in neuron_strategy(true),
        n in 1usize..70,
        currents in proptest::collection::vec(
            prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), -100i32..100],
            1..400,
        ),
    ) {
        let (lo, hi) = range(p.membrane_bits);
        let mut st = IntLayerState::new(n);
        for (t, step) in currents.chunks(n).enumerate() {
            let mut cur = step.to_vec();
            cur.resize(n, 0);
            step_int(&p, &cur, &mut st);
            for i in 0..n {
                prop_assert!((lo..=hi).contains(&(st.v[i] as i64)),
                    "step {} neuron {}: v = {} outside [{}, {}] ({:?})", t, i, st.v[i], lo, hi, p);
                prop_assert!((lo..=hi).contains(&(st.syn[i] as i64)),
                    "step {} neuron {}: syn = {} outside [{}, {}] ({:?})", t, i, st.syn[i], lo, hi, p);
            }
        }
    }

    /// Whenever `I16Rows` accepts weights and bias, the extreme spike patterns of every output
    /// (all inputs with positive weights; all with negative weights) give the exact `i64` sums,
    /// which lie in `i16`, on every kernel path; so do random patterns.
    #[test]
    fn i16_accumulators_accepted_only_when_safe(
        (inputs, outputs, bits) in (1usize..90, 1usize..40, prop_oneof![2u8..=16, Just(16u8)]),
        seed in any::<u64>(),
    ) {
        let hi = (1i64 << (bits - 1)) - 1;
        let mut s = seed | 1;
        let mut next = move || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
        let w: Vec<i16> = (0..inputs * outputs)
            .map(|_| match next() % 4 { 0 => hi as i16, 1 => (-hi - 1) as i16,
                _ => ((next() % (2 * hi as u64 + 2)) as i64 - hi - 1) as i16 })
            .collect();
        let bias: Vec<i32> = (0..outputs).map(|_| (next() % 2001) as i32 - 1000).collect();
        let wr = &w;
        let col = |o: usize| (0..inputs).map(move |j| wr[o * inputs + j] as i64);
        let pos: Vec<i64> = (0..outputs).map(|o| col(o).filter(|&x| x > 0).sum()).collect();
        let neg: Vec<i64> = (0..outputs).map(|o| col(o).filter(|&x| x < 0).sum()).collect();
        let safe = (0..outputs).all(|o| {
            bias[o] as i64 + pos[o] <= i16::MAX as i64 && bias[o] as i64 + neg[o] >= i16::MIN as i64
        });
        let rows = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let r = I16Rows::new(rows, &bias);
        prop_assert_eq!(r.is_ok(), safe);
        let Ok(r) = r else { return Ok(()) };
        let mut patterns: Vec<Vec<bool>> = Vec::new();
        for o in 0..outputs.min(6) {
            patterns.push((0..inputs).map(|j| w[o * inputs + j] > 0).collect());
            patterns.push((0..inputs).map(|j| w[o * inputs + j] < 0).collect());
        }
        patterns.push(vec![true; inputs]);
        patterns.push((0..inputs).map(|_| next() % 2 == 0).collect());
        for pat in &patterns {
            let sv = SpikeVec::from_bools(pat);
            let want: Vec<i64> = (0..outputs)
                .map(|o| bias[o] as i64 + col(o).zip(pat).filter(|p| *p.1).map(|p| p.0).sum::<i64>())
                .collect();
            for &path in &paths::available() {
                let mut out = vec![0i16; outputs];
                r.currents_with(path, sv.words(), &mut out).unwrap();
                let got: Vec<i64> = out.iter().map(|&x| x as i64).collect();
                prop_assert_eq!(&got, &want, "path {:?}", path);
            }
        }
    }
}

/// One output whose column is built at the `i16` limit: `n_pos` weights summing to
/// `32767 - bias` and `n_neg` weights summing to `-32768 - bias` (16-bit weights).
fn limit_column(bias: i32, n_pos: usize, n_neg: usize) -> Vec<i16> {
    let split = |total: i64, n: usize| -> Vec<i16> {
        let q = total / n as i64;
        let mut v = vec![q as i16; n];
        v[0] = (total - q * (n as i64 - 1)) as i16;
        v
    };
    let mut w = split(32767 - bias as i64, n_pos);
    w.extend(split(-32768 - bias as i64, n_neg));
    w
}

#[test]
fn i16_limit_is_accepted_and_exact_one_more_is_refused() {
    for (bias, n_pos, n_neg) in [(0, 1, 2), (0, 3, 3), (100, 2, 5), (-200, 7, 2), (0, 40, 40)] {
        let w = limit_column(bias, n_pos, n_neg);
        let inputs = w.len();
        assert_eq!(
            w.iter().map(|&x| x as i64).filter(|&x| x > 0).sum::<i64>(),
            32767 - bias as i64
        );
        let rows = RowMatrix::from_output_major(1, inputs, &w).unwrap();
        let r = I16Rows::new(rows.clone(), &[bias]).expect("exactly at the limit is provably safe");
        let pos: Vec<bool> = w.iter().map(|&x| x > 0).collect();
        let neg: Vec<bool> = w.iter().map(|&x| x < 0).collect();
        for path in paths::available() {
            let mut out = [0i16];
            r.currents_with(path, SpikeVec::from_bools(&pos).words(), &mut out)
                .unwrap();
            assert_eq!(out[0], i16::MAX, "{path:?}");
            r.currents_with(path, SpikeVec::from_bools(&neg).words(), &mut out)
                .unwrap();
            assert_eq!(out[0], i16::MIN, "{path:?}");
        }
        // One unit more on either side is refused.
        assert!(I16Rows::new(rows.clone(), &[bias + 1]).is_err());
        assert!(I16Rows::new(rows, &[bias - 1]).is_err());
        let mut w2 = w.clone();
        w2.push(1);
        let m2 = RowMatrix::from_output_major(1, inputs + 1, &w2).unwrap();
        assert!(I16Rows::new(m2, &[bias]).is_err());
    }
}

/// The network at and just beyond the `i16` limit: a dense layer whose outputs reach exactly
/// `+-32767/-32768` (the runtime may take the `i16` path) and outputs that reach one more (it
/// must not), with 32-bit IF membranes that never fire, so the first step's potentials are the
/// currents themselves; they must equal the sums computed here.
#[test]
fn network_currents_at_the_i16_limit_are_exact() {
    let big = 32767i64;
    for extra in [0i16, 1] {
        let mut cols = [limit_column(0, 3, 3), limit_column(10, 2, 4)];
        cols[0][0] += extra; // extra = 1: beyond the limit on the positive side
        let inputs = cols[0].len();
        assert_eq!(cols[1].len(), inputs);
        let w: Vec<i16> = cols.concat();
        let p = IntLifParams {
            leak: Leak::None,
            threshold: i32::MAX,
            reset: ResetMode::None,
            rule: FiringRule::Snntorch,
            membrane_bits: 32,
            syn_leak: None,
        };
        let m = IntModel {
            name: "limit".into(),
            input: Shape::flat(inputs),
            timesteps: 3,
            encoding: Encoding::Direct,
            layers: vec![layer(
                "fc",
                LayerOp::Dense { inputs, outputs: 2 },
                16,
                w.clone(),
                vec![0, 10],
                p,
            )],
        };
        let net = IntNetwork::new(&m).unwrap();
        // Step 0: the inputs with positive weights in column 0; step 1: negative ones; step 2:
        // all inputs. Membranes accumulate (no leak, no reset).
        let pats: [Vec<bool>; 3] = [
            cols[0].iter().map(|&x| x > 0).collect(),
            cols[0].iter().map(|&x| x < 0).collect(),
            vec![true; inputs],
        ];
        let bools: Vec<bool> = pats.concat();
        let train = SpikeTrain::from_bools(3, inputs, &bools).unwrap();
        let run = net.run(&train, true).unwrap();
        let mem = &run.trace.as_ref().unwrap()[0].membranes;
        let mut v = [0i64, 0];
        for (t, pat) in pats.iter().enumerate() {
            for (o, col) in cols.iter().enumerate() {
                let b = [0i64, 10][o];
                v[o] += b + col
                    .iter()
                    .zip(pat)
                    .filter(|x| *x.1)
                    .map(|x| *x.0 as i64)
                    .sum::<i64>();
                assert_eq!(
                    mem[t * 2 + o] as i64,
                    v[o],
                    "extra {extra} step {t} output {o}"
                );
            }
        }
        // Step 0 reached the positive limit (or one beyond) exactly on output 0.
        assert_eq!(mem[0] as i64, big + extra as i64);
    }
}

/// Saturation is actually exercised: a 4-bit membrane driven by large currents sits on its
/// bounds, never beyond.
#[test]
fn saturating_configuration_reaches_the_bounds() {
    for (rule, reset) in [
        (FiringRule::Snntorch, ResetMode::None),
        (FiringRule::Spikingjelly, ResetMode::Subtract),
        (FiringRule::Snntorch, ResetMode::Subtract),
    ] {
        let p = IntLifParams {
            leak: Leak::Shift { k: 3 },
            threshold: 7,
            reset,
            rule,
            membrane_bits: 4,
            syn_leak: None,
        };
        let m = IntModel {
            name: "sat".into(),
            input: Shape::flat(4),
            timesteps: 4,
            encoding: Encoding::Direct,
            layers: vec![layer(
                "fc",
                LayerOp::Dense {
                    inputs: 4,
                    outputs: 2,
                },
                16,
                vec![32767, 32767, 32767, 32767, -32768, -32768, -32768, -32768],
                vec![],
                p,
            )],
        };
        let train = SpikeTrain::from_bools(4, 4, &[true; 16]).unwrap();
        let on_bound = check_ranges(&m, &train).unwrap();
        let run = IntNetwork::new(&m).unwrap().run(&train, true).unwrap();
        let mem = &run.trace.as_ref().unwrap()[0].membranes;
        // Output 1 is driven to the lower bound every step.
        for t in 0..4 {
            assert_eq!(mem[t * 2 + 1], -8, "{rule:?} {reset:?} step {t}");
        }
        assert!(on_bound >= 4);
    }
}
