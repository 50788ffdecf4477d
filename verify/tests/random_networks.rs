//! At least 50 seeded random small networks (random sizes, widths, P, neuron units, reset and
//! leak modes, firing rules, synaptic or plain LIF, both encoders), each bit-exact in Verilator
//! against the golden model (spikes, potentials, counts, class, cycles); the first 12 also in
//! Icarus, whose output must equal Verilator's line for line.

mod common;

use common::{assert_exact, random_case, run_cases};
use verify::Simulator;

#[test]
fn fifty_random_networks_verilator_and_icarus() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<_> = (0..52).map(|s| random_case(tmp.path(), s)).collect();
    let (_, reports, vl_texts) = run_cases(&cases, Simulator::Verilator, &tmp.path().join("vl"));
    assert_exact(&cases, &reports);
    let few = &cases[..12];
    let (_, ireports, iv_texts) = run_cases(few, Simulator::Icarus, &tmp.path().join("iv"));
    assert_exact(few, &ireports);
    for (i, (a, b)) in vl_texts.iter().zip(&iv_texts).enumerate() {
        assert_eq!(a, b, "Verilator and Icarus disagree on design {i}");
    }
}
