//! Property tests: every kernel path the CPU supports equals the scalar reference bit for bit
//! (integers and `f32`, which adds in the same order on every path), and the scalar reference
//! equals a straightforward per-output sum over PyTorch-layout weights written here.
//! Shapes include sizes that are not multiples of any vector width, empty inputs/outputs, and
//! all-zero and all-one spike patterns.

use kernels::bitplane::BitPlaneMatrix;
use kernels::fc::{I16Rows, Path, RowMatrix, accumulate_rows, accumulate_rows_with, paths};
use proptest::prelude::*;

/// Spike pattern: mode 0 = none, 1 = all, otherwise random with the given density.
fn spikes_strategy(inputs: usize) -> impl Strategy<Value = Vec<bool>> {
    (0u8..4, 0.0f64..1.0, any::<u64>()).prop_map(move |(mode, p, seed)| {
        let mut s = seed | 1;
        (0..inputs)
            .map(|_| match mode {
                0 => false,
                1 => true,
                _ => {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 11) as f64 / (1u64 << 53) as f64 <= p
                }
            })
            .collect()
    })
}

fn pack(bits: &[bool]) -> Vec<u64> {
    let mut w = vec![0u64; bits.len().div_ceil(64)];
    for (i, &b) in bits.iter().enumerate() {
        if b {
            w[i / 64] |= 1 << (i % 64);
        }
    }
    w
}

/// Independent reference: `acc[o] + sum over active j of w[o * inputs + j]`, in input order.
fn naive<A: Copy, W: Copy>(
    w: &[W],
    inputs: usize,
    spikes: &[bool],
    acc: &[A],
    add: impl Fn(A, W) -> A,
) -> Vec<A> {
    acc.iter()
        .enumerate()
        .map(|(o, &a0)| {
            let mut a = a0;
            for (j, &s) in spikes.iter().enumerate() {
                if s {
                    a = add(a, w[o * inputs + j]);
                }
            }
            a
        })
        .collect()
}

type Case<W, A> = (usize, usize, Vec<W>, Vec<bool>, Vec<A>);

/// Shape and data: (inputs, outputs, weights, spikes, initial accumulators).
fn case<W: std::fmt::Debug + Clone + 'static, A: std::fmt::Debug + Clone + 'static>(
    w: impl Strategy<Value = W> + Clone + 'static,
    a: impl Strategy<Value = A> + Clone + 'static,
) -> impl Strategy<Value = Case<W, A>> {
    (0usize..200, 0usize..300).prop_flat_map(move |(inputs, outputs)| {
        (
            Just(inputs),
            Just(outputs),
            proptest::collection::vec(w.clone(), inputs * outputs),
            spikes_strategy(inputs),
            proptest::collection::vec(a.clone(), outputs),
        )
    })
}

fn paths_under_test() -> Vec<Path> {
    let p = paths::available();
    assert!(p.contains(&Path::Scalar) && p.contains(&Path::Portable));
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn f32_all_paths_bit_exact((inputs, outputs, w, s, acc0) in case(-1.0e3f32..1.0e3, -1.0e3f32..1.0e3)) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let spikes = pack(&s);
        let want = naive(&w, inputs, &s, &acc0, |a, w| a + w);
        for p in paths_under_test() {
            let mut acc = acc0.clone();
            accumulate_rows_with(p, &m, &spikes, &mut acc).unwrap();
            let got: Vec<u32> = acc.iter().map(|x| x.to_bits()).collect();
            let exp: Vec<u32> = want.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(got, exp, "path {:?}", p);
        }
        let mut acc = acc0.clone();
        accumulate_rows(&m, &spikes, &mut acc).unwrap();
        prop_assert_eq!(acc, want);
    }

    #[test]
    fn i16_weights_i32_acc((inputs, outputs, w, s, acc0) in case(any::<i16>(), -1_000_000i32..1_000_000)) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let spikes = pack(&s);
        let want = naive(&w, inputs, &s, &acc0, |a: i32, w: i16| a + w as i32);
        for p in paths_under_test() {
            let mut acc = acc0.clone();
            accumulate_rows_with(p, &m, &spikes, &mut acc).unwrap();
            prop_assert_eq!(&acc, &want, "path {:?}", p);
        }
    }

    #[test]
    fn i8_weights_i32_acc((inputs, outputs, w, s, acc0) in case(any::<i8>(), -1_000_000i32..1_000_000)) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let spikes = pack(&s);
        let want = naive(&w, inputs, &s, &acc0, |a: i32, w: i8| a + w as i32);
        for p in paths_under_test() {
            let mut acc = acc0.clone();
            accumulate_rows_with(p, &m, &spikes, &mut acc).unwrap();
            prop_assert_eq!(&acc, &want, "path {:?}", p);
        }
    }

    /// i16 accumulators: weights small enough for the proof (|w| * inputs + |b| < 32768), so
    /// construction must succeed and every path must match.
    #[test]
    fn i16_weights_i16_acc((inputs, outputs, w, s, bias) in case(-150i16..150, -2000i32..2000)) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let r = I16Rows::new(m, &bias).unwrap();
        let spikes = pack(&s);
        let want: Vec<i16> = naive(&w, inputs, &s, &bias, |a: i32, w: i16| a + w as i32)
            .into_iter().map(|x| i16::try_from(x).unwrap()).collect();
        for p in paths_under_test() {
            let mut out = vec![0i16; outputs];
            r.currents_with(p, &spikes, &mut out).unwrap();
            prop_assert_eq!(&out, &want, "path {:?}", p);
        }
    }

    #[test]
    fn i8_weights_i16_acc((inputs, outputs, w, s, bias) in case(any::<i8>(), -2000i32..2000)) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        // |w| <= 128, inputs < 200: up to 25,600 + 2,000 fits i16, so the proof must succeed.
        let r = I16Rows::new(m, &bias).unwrap();
        let spikes = pack(&s);
        let want: Vec<i16> = naive(&w, inputs, &s, &bias, |a: i32, w: i8| a + w as i32)
            .into_iter().map(|x| i16::try_from(x).unwrap()).collect();
        for p in paths_under_test() {
            let mut out = vec![0i16; outputs];
            r.currents_with(p, &spikes, &mut out).unwrap();
            prop_assert_eq!(&out, &want, "path {:?}", p);
        }
    }

    /// With arbitrary i16 weights the proof either refuses, or accepts and then no partial sum
    /// leaves i16 (the scalar reference checks every partial sum and panics otherwise).
    #[test]
    fn i16_proof_is_sound((inputs, outputs, w, s, bias) in case(any::<i16>(), any::<i16>().prop_map(i32::from))) {
        let m = RowMatrix::from_output_major(outputs, inputs, &w).unwrap();
        let col = |o: usize, f: fn(i64) -> i64| -> i64 {
            (0..inputs).map(|j| f(w[o * inputs + j] as i64)).sum::<i64>() + bias[o] as i64
        };
        let fits = (0..outputs).all(|o| {
            (-32768..=32767).contains(&col(o, |x| x.max(0)))
                && (-32768..=32767).contains(&col(o, |x| x.min(0)))
        });
        match I16Rows::new(m, &bias) {
            Ok(r) => {
                prop_assert!(fits);
                let spikes = pack(&s);
                let mut reference = vec![0i16; outputs];
                r.currents_with(Path::Scalar, &spikes, &mut reference).unwrap();
                for p in paths_under_test() {
                    let mut out = vec![0i16; outputs];
                    r.currents_with(p, &spikes, &mut out).unwrap();
                    prop_assert_eq!(&out, &reference, "path {:?}", p);
                }
            }
            Err(_) => prop_assert!(!fits),
        }
    }

    #[test]
    fn bitplane_equals_row_sum(bits in 1u8..=8, (inputs, outputs, raw, s, acc0) in case(any::<i16>(), -100_000i32..100_000)) {
        let lo = -(1i32 << (bits - 1));
        let span = 1i32 << bits;
        let w: Vec<i16> = raw.iter().map(|&x| (lo + (x as i32).rem_euclid(span)) as i16).collect();
        let m = BitPlaneMatrix::from_output_major(outputs, inputs, &w, bits).unwrap();
        let spikes = pack(&s);
        let want = naive(&w, inputs, &s, &acc0, |a: i32, w: i16| a + w as i32);
        for p in paths_under_test() {
            let mut acc = acc0.clone();
            m.accumulate_with(p, &spikes, &mut acc).unwrap();
            prop_assert_eq!(&acc, &want, "path {:?}", p);
        }
    }
}

#[test]
fn avx512_is_reported_honestly() {
    // The AVX-512 path is listed only when the CPU has it; forcing it otherwise is an error,
    // never a silent fallback.
    let m = RowMatrix::from_output_major(1, 1, &[1i16]).unwrap();
    let r = accumulate_rows_with(Path::Avx512, &m, &[1], &mut [0i32]);
    assert_eq!(r.is_ok(), paths::available().contains(&Path::Avx512));
    eprintln!("kernel paths on this CPU: {:?}", paths::available());
}
