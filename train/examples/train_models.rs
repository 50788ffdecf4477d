//! Regenerates the bundled models from `data/mnist/` with fixed seeds and prints every
//! accuracy that `models/README.md` records. Run through `scripts/train-models`.
//!
//! Usage: `train_models [OUT_DIR]` (default `models`), from the repository root.

use std::time::Instant;

use kernels::data::load_mnist;
use kernels::model_io::{save_int_model, save_model};
use train::ann::{AnnConfig, train_ann};
use train::convert::{ConvertConfig, ann_to_snn};
use train::eval::{encode_all, float_accuracy, float_accuracy_vs_t, int_accuracy};
use train::quantize::{QuantConfig, quantize, rail_hits};
use train::{TrainConfig, train_snn};

fn main() {
    if let Err(e) = run() {
        eprintln!("train_models: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "models".into());
    std::fs::create_dir_all(&out)?;
    let mnist = load_mnist("data/mnist")?;
    let (train, test) = (&mnist.train, &mnist.test);
    let t_all = Instant::now();

    // 1. Surrogate-gradient BPTT, 784-128-10 LIF, T = 25.
    let cfg = TrainConfig::default();
    println!("snn config: {cfg:?}");
    let t0 = Instant::now();
    let trained = train_snn(&cfg, train, None, |_| {})?;
    let snn_secs = t0.elapsed().as_secs_f32();
    let last = trained.history.last().expect("epochs > 0");
    println!(
        "snn trained: {} epochs in {snn_secs:.1} s, final train loss {:.4}, train accuracy {:.4}",
        cfg.epochs, last.loss, last.train_accuracy
    );
    let float = trained.model;
    save_model(&float, format!("{out}/mnist_mlp.safetensors"))?;

    // 2. Quantization to 8-bit weights, shift leak, LFSR input encoding.
    let qcfg = QuantConfig {
        name: Some("mnist_mlp_int8".into()),
        ..QuantConfig::default()
    };
    let t1 = Instant::now();
    let calib = encode_all(train, &qcfg.encoding, float.timesteps, 1000)?;
    let q = quantize(&float, &qcfg, &calib)?;
    let int = q.model;
    save_int_model(&int, format!("{out}/mnist_mlp_int8.safetensors"))?;
    println!("quantized in {:.1} s", t1.elapsed().as_secs_f32());
    for r in &q.layers {
        println!(
            "  {}: scale {:.6}, threshold {}, beta {} -> {:?} (beta' {}), max |dW| {:.6}, \
             membrane {} bits (calibration range {:?})",
            r.name,
            r.scale,
            r.threshold,
            r.beta,
            r.leak,
            r.leak.beta(),
            r.max_weight_error,
            r.membrane_bits,
            r.calibration_range
        );
    }
    let acc_float = float_accuracy(&float, test, &int.encoding)?;
    let acc_float_rate = float_accuracy(&float, test, &float.encoding)?;
    let acc_int = int_accuracy(&int, test)?;
    let test_inputs = encode_all(test, &int.encoding, int.timesteps, test.len())?;
    let hits = rail_hits(&int, &test_inputs)?;
    println!(
        "accuracy on the {} test digits (LFSR inputs {:?}):",
        test.len(),
        int.encoding
    );
    println!(
        "  float  (kernels::network::Network):    {:.2} %",
        100.0 * acc_float
    );
    println!(
        "  int8   (kernels::network::IntNetwork): {:.2} %",
        100.0 * acc_int
    );
    println!(
        "  float with its own encoding {:?} (kernels Bernoulli): {:.2} %",
        float.encoding,
        100.0 * acc_float_rate
    );
    for (l, (n, h)) in int.layers.iter().filter(|l| l.neuron.is_some()).zip(&hits) {
        println!(
            "  {}: {h} of {n} membrane updates on a rail ({:.4} %)",
            l.name,
            100.0 * *h as f64 / *n as f64
        );
    }

    // 3. ANN-to-SNN conversion.
    let acfg = AnnConfig::default();
    println!("ann config: {acfg:?}");
    let t2 = Instant::now();
    let ann = train_ann(&acfg, train, None, |_| {})?;
    println!(
        "ann trained in {:.1} s; ANN test accuracy {:.2} %",
        t2.elapsed().as_secs_f32(),
        100.0 * ann.ann.accuracy(test)
    );
    for percentile in [100.0, 99.9] {
        let ccfg = ConvertConfig {
            percentile,
            ..ConvertConfig::default()
        };
        let conv = ann_to_snn(&ann.ann, train, &ccfg)?;
        let ts = [10, 25, 50, 100, 200];
        let accs = float_accuracy_vs_t(&conv, test, &int.encoding, &ts)?;
        let row: Vec<String> = accs
            .iter()
            .map(|(t, a)| format!("T={t}: {:.2} %", 100.0 * a))
            .collect();
        println!(
            "converted (IF, percentile {percentile}): {}",
            row.join(", ")
        );
    }
    println!("total time {:.1} s", t_all.elapsed().as_secs_f32());
    Ok(())
}
