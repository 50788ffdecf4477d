//! A network built in code, without a model file: 3 inputs -> 2 integer LIF neurons -> 2
//! output neurons, run for 3 timesteps on hand-made spikes, with every membrane recorded.
//!
//! ```sh
//! cargo run -p kernels --example build_network
//! ```

use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::network::{IntNetwork, IntRun};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
use kernels::spikes::SpikeTrain;

/// The model: integer weights in PyTorch's `[outputs][inputs]` layout, no leak, threshold 4,
/// subtract reset, snnTorch's strict `v > threshold` firing, 8-bit saturating membranes.
pub fn model() -> IntModel {
    let lif = IntLifParams {
        leak: Leak::None,
        threshold: 4,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 8,
        syn_leak: None,
    };
    let dense = |name: &str, inputs, outputs, weights: Vec<i16>, bias: Vec<i32>| IntLayer {
        name: name.into(),
        op: LayerOp::Dense { inputs, outputs },
        weight_bits: 8,
        weights,
        bias,
        scale: 1.0,
        neuron: Some(lif),
    };
    IntModel {
        name: "hand_built".into(),
        input: Shape::flat(3),
        timesteps: 3,
        // The encoding only matters when images are encoded; here spikes are given directly.
        encoding: Encoding::Latency,
        layers: vec![
            dense("hidden", 3, 2, vec![1, 2, 3, -1, 5, 0], vec![0, 1]),
            dense("out", 2, 2, vec![5, 0, 0, 5], vec![]),
        ],
    }
}

/// The input: step 0 inputs {0, 2} spike, step 1 input {1}, step 2 nothing.
pub fn input() -> SpikeTrain {
    #[rustfmt::skip]
    let dense = [
        true, false, true,
        false, true, false,
        false, false, false,
    ];
    SpikeTrain::from_bools(3, 3, &dense).expect("3 x 3 booleans")
}

/// Builds the runtime and runs the input with traces recorded.
pub fn run() -> kernels::Result<IntRun> {
    let net = IntNetwork::new(&model())?;
    net.run(&input(), true)
}

fn main() {
    let run = match run() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("build_network: {e}");
            std::process::exit(1);
        }
    };
    let names = ["hidden", "out"];
    for (name, layer) in names.iter().zip(run.trace.as_ref().expect("recorded")) {
        let n = layer.spikes.neurons();
        for t in 0..layer.spikes.steps() {
            let v = &layer.membranes[t * n..(t + 1) * n];
            let s: Vec<u8> = (0..n).map(|i| layer.spikes.get(t, i) as u8).collect();
            println!("{name:>6} t={t}: v = {v:?}, spikes = {s:?}");
        }
    }
    println!("output counts {:?} -> class {}", run.counts, run.class);
}
