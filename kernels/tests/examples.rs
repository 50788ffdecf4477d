//! The examples' logic, run as tests (the examples themselves are only built by
//! `cargo test --all-targets`): the hand-built network against a hand computation, and the
//! inference example against the test labels.

#[allow(dead_code)]
#[path = "../examples/build_network.rs"]
mod build_network;

#[allow(dead_code)]
#[path = "../examples/infer.rs"]
mod infer;

#[test]
fn build_network_matches_hand_computation() {
    let run = build_network::run().unwrap();
    let trace = run.trace.unwrap();
    // hidden 0 (weights 1 2 3, bias 0): I = 4, 2, 0 -> v = 4 (not > 4), 6 (fires), 6 - 4 = 2.
    // hidden 1 (weights -1 5 0, bias 1): I = 0, 6, 1 -> v = 0, 6 (fires), 6 + 1 - 4 = 3.
    assert_eq!(trace[0].membranes, vec![4, 0, 6, 6, 2, 3]);
    assert_eq!(
        trace[0].spikes.to_bools(),
        vec![false, false, true, true, false, false]
    );
    // out (diagonal 5): both hidden fire at t = 1 -> v = 5 > 4 fires; then 5 - 4 = 1.
    assert_eq!(trace[1].membranes, vec![0, 0, 5, 5, 1, 1]);
    assert_eq!(run.counts, vec![1, 1]);
    assert_eq!(run.class, 0, "a tie goes to the lowest index");
}

#[test]
fn infer_classifies_test_digits() {
    let model = infer::repo().join("models/mnist_mlp_int8.safetensors");
    let mnist = infer::repo().join("data/mnist");
    let n = 50;
    let mut correct = 0;
    for s in 0..n {
        let r = infer::infer(&model, &mnist, s).unwrap();
        // The class is the first index of the largest count.
        let max = *r.counts.iter().max().unwrap();
        assert_eq!(r.class, r.counts.iter().position(|&c| c == max).unwrap());
        // At most one spike per output neuron per step, T = 25.
        assert!(r.counts.iter().all(|&c| c <= 25));
        correct += (r.class == r.label) as usize;
    }
    // models/README.md: the bundled integer model is about 96 % accurate on the test split.
    assert!(correct >= 45, "{correct} of {n} correct");
    let err = infer::infer(&model, &mnist, 2000)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("sample 2000"), "{err}");
}
