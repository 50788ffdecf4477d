//! Trains the convolutional ReLU ANN (`train::cnn`, default recipe), converts it to an IF
//! spiking network with data-based normalisation, and prints the ANN's and the SNN's test
//! accuracy against T, measured with `kernels::network::Network`. Run through
//! `scripts/train-models`.
//!
//! Usage: `train_conv [OUT_DIR] [EPOCHS] [LAYERS]` (defaults `models`, the recipe's epochs
//! and layers), from the repository root. `LAYERS` is comma separated: `c8k5` a 5x5 conv with
//! 8 channels (padding 2), `p2` 2x2 average pooling, `d128` a hidden dense layer.

use std::time::Instant;

use kernels::data::load_mnist;
use kernels::model::Encoding;
use kernels::model_io::{save_int_model, save_model};
use train::cnn::{CnnConfig, CnnLayerSpec, train_cnn};
use train::convert::{ConvertConfig, cnn_to_snn};
use train::eval::{encode_all, float_accuracy, float_accuracy_vs_t, int_accuracy};
use train::quantize::{QuantConfig, quantize};

fn main() {
    if let Err(e) = run() {
        eprintln!("train_conv: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "models".into());
    let mut cfg = CnnConfig::default();
    if let Some(e) = args.next() {
        cfg.epochs = e.parse()?;
    }
    if let Some(spec) = args.next() {
        cfg.layers = parse_layers(&spec)?;
    }
    std::fs::create_dir_all(&out)?;
    let mnist = load_mnist("data/mnist")?;
    let (train, test) = (&mnist.train, &mnist.test);
    println!("cnn config: {cfg:?}");
    let t0 = Instant::now();
    let trained = train_cnn(&cfg, train, Some(test), |p| {
        if p.batch == p.batches {
            eprintln!(
                "epoch {}/{}: loss {:.4}, train accuracy {:.4}, {:.0} s so far",
                p.epoch + 1,
                p.epochs,
                p.loss,
                p.train_accuracy,
                t0.elapsed().as_secs_f32()
            );
        }
    })?;
    let secs = t0.elapsed().as_secs_f32();
    for h in &trained.history {
        println!(
            "  epoch {:2}: loss {:.4}, train {:.4}, test {:.4}, {:.1} s",
            h.epoch + 1,
            h.loss,
            h.train_accuracy,
            h.validation_accuracy.unwrap_or(f32::NAN),
            h.seconds
        );
    }
    let cnn = trained.cnn;
    println!(
        "cnn trained in {secs:.1} s wall; {} MACs per image; ANN test accuracy {:.2} %",
        cnn.macs(),
        100.0 * cnn.accuracy(test)
    );
    let calib = train.take(1000);
    let ts = [10, 25, 50, 100, 200];
    for percentile in [99.9f32] {
        let ccfg = ConvertConfig {
            name: "mnist_conv".into(),
            timesteps: 100,
            percentile,
            ..ConvertConfig::default()
        };
        let t1 = Instant::now();
        let snn = cnn_to_snn(&cnn, &calib, &ccfg)?;
        println!(
            "converted (percentile {percentile}) in {:.1} s",
            t1.elapsed().as_secs_f32()
        );
        for enc in [
            Encoding::Rate { seed: 1 },
            Encoding::Lfsr { seed: 1, lanes: 16 },
        ] {
            let t2 = Instant::now();
            let acc = float_accuracy_vs_t(&snn, test, &enc, &ts)?;
            let row: Vec<String> = acc
                .iter()
                .map(|(t, a)| format!("T = {t}: {:.2} %", 100.0 * a))
                .collect();
            println!(
                "  {enc:?}: {} ({:.1} s)",
                row.join(", "),
                t2.elapsed().as_secs_f32()
            );
        }
        if percentile == 99.9 {
            save_model(&snn, format!("{out}/mnist_conv.safetensors"))?;
            println!("wrote {out}/mnist_conv.safetensors");
            // 8-bit integer twin (average pooling -> sum pooling), LFSR inputs, calibrated on
            // the first 500 training digits (= `snn quantize --calibration 500`).
            let qcfg = QuantConfig {
                name: Some("mnist_conv_int8".into()),
                ..QuantConfig::default()
            };
            let t3 = Instant::now();
            let calib = encode_all(train, &qcfg.encoding, snn.timesteps, 500)?;
            let q = quantize(&snn, &qcfg, &calib)?;
            for r in &q.layers {
                println!(
                    "  {}: scale {:.6}, threshold {}, membrane {} bits (calibration range {:?})",
                    r.name, r.scale, r.threshold, r.membrane_bits, r.calibration_range
                );
            }
            let acc_float = float_accuracy(&snn, test, &qcfg.encoding)?;
            let acc_int = int_accuracy(&q.model, test)?;
            println!(
                "  T = {}, LFSR inputs: float {:.2} %, int8 {:.2} % ({:.1} s)",
                snn.timesteps,
                100.0 * acc_float,
                100.0 * acc_int,
                t3.elapsed().as_secs_f32()
            );
            save_int_model(&q.model, format!("{out}/mnist_conv_int8.safetensors"))?;
            println!("wrote {out}/mnist_conv_int8.safetensors");
        }
    }
    Ok(())
}

fn parse_layers(spec: &str) -> Result<Vec<CnnLayerSpec>, Box<dyn std::error::Error>> {
    spec.split(',')
        .map(|t| -> Result<CnnLayerSpec, Box<dyn std::error::Error>> {
            if let Some(r) = t.strip_prefix('c') {
                let (c, k) = r.split_once('k').ok_or("conv token is cNkK")?;
                let kernel: usize = k.parse()?;
                Ok(CnnLayerSpec::Conv {
                    channels: c.parse()?,
                    kernel,
                    padding: kernel / 2,
                })
            } else if let Some(r) = t.strip_prefix('p') {
                Ok(CnnLayerSpec::AvgPool { kernel: r.parse()? })
            } else if let Some(r) = t.strip_prefix('d') {
                Ok(CnnLayerSpec::Dense {
                    outputs: r.parse()?,
                })
            } else {
                Err(format!("bad layer token {t:?}").into())
            }
        })
        .collect()
}
