//! Inference with `kernels` alone: load the bundled 8-bit model, encode one MNIST test digit
//! into spikes, run the integer golden runtime, read out the class.
//!
//! ```sh
//! cargo run --release -p kernels --example infer -- [SAMPLE] [MODEL] [MNIST_DIR]
//! ```

use std::path::{Path, PathBuf};

use kernels::data::load_mnist;
use kernels::encode::encode_sample;
use kernels::model_io::load_int_model;
use kernels::network::IntNetwork;

/// What one inference gives.
pub struct Inference {
    /// True class of the digit.
    pub label: usize,
    /// Output spike counts over the model's `T` steps.
    pub counts: Vec<u32>,
    /// Predicted class: the output neuron with the most spikes.
    pub class: usize,
}

/// Classifies test digit `sample` with the integer model at `model`.
pub fn infer(model: &Path, mnist: &Path, sample: usize) -> kernels::Result<Inference> {
    // 1. The model file: safetensors weights + JSON topology, validated on load.
    let model = load_int_model(model)?;
    // 2. The runtime: checks the accumulators cannot overflow, packs weights for the kernels.
    let net = IntNetwork::new(&model)?;
    // 3. The data: the test split is the last 2,000 of the 10,000 bundled digits.
    let test = load_mnist(mnist)?.test;
    if sample >= test.len() {
        return Err(kernels::Error::invalid(format!(
            "sample {sample} is out of range (the test split has {} digits)",
            test.len()
        )));
    }
    // 4. Encode: pixels -> T x 784 bit-packed spikes, with the model's own encoding.
    let spikes = encode_sample(
        &model.encoding,
        test.image(sample),
        model.timesteps,
        sample as u64,
    )?;
    let spikes = spikes
        .spikes()
        .ok_or_else(|| kernels::Error::invalid("the integer runtime takes spike input"))?;
    // 5. Run: T timesteps, accumulate-only; `false` = do not record traces.
    let run = net.run(spikes, false)?;
    Ok(Inference {
        label: test.labels[sample] as usize,
        counts: run.counts,
        class: run.class,
    })
}

/// The repository root (the example's defaults live there).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sample = args.next().map_or(Ok(0), |s| s.parse::<usize>());
    let model = args.next().map_or_else(
        || repo().join("models/mnist_mlp_int8.safetensors"),
        PathBuf::from,
    );
    let mnist = args
        .next()
        .map_or_else(|| repo().join("data/mnist"), PathBuf::from);
    let result = match sample {
        Ok(s) => infer(&model, &mnist, s)
            .map(|r| (s, r))
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("SAMPLE must be a number: {e}")),
    };
    match result {
        Ok((s, r)) => println!(
            "test digit {s}: label {}, predicted {} (output spike counts {:?})",
            r.label, r.class, r.counts
        ),
        Err(e) => {
            eprintln!("infer: {e}");
            std::process::exit(2);
        }
    }
}
