//! Convolutional ANN-to-SNN conversion: a short conv-ANN training on a small MNIST subset
//! learns, the converted IF network (run by `kernels::network::Network`, not by the trainer)
//! keeps the ANN's predictions at large T, the normalisation is what the docs say, and the
//! quantized integer twin (sum pooling) runs in the golden model.

use kernels::data::{Dataset, load_mnist};
use kernels::model::{Encoding, LayerOp};
use kernels::network::{Input, Network};
use kernels::neuron::Neuron;
use train::cnn::{Cnn, CnnConfig, CnnLayerSpec, train_cnn};
use train::convert::{ConvertConfig, cnn_activation_scales, cnn_to_snn};
use train::eval::{encode, encode_all, float_accuracy, int_accuracy};
use train::optim::DenseParams;
use train::quantize::{QuantConfig, quantize};

fn mnist() -> (Dataset, Dataset) {
    let m = load_mnist(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist")).unwrap();
    (m.train.take(1500), m.test.slice(0..400))
}

fn small_config() -> CnnConfig {
    CnnConfig {
        layers: vec![
            CnnLayerSpec::Conv {
                channels: 4,
                kernel: 5,
                padding: 2,
            },
            CnnLayerSpec::AvgPool { kernel: 2 },
            CnnLayerSpec::Conv {
                channels: 8,
                kernel: 3,
                padding: 1,
            },
            CnnLayerSpec::AvgPool { kernel: 2 },
        ],
        epochs: 3,
        batch_size: 32,
        lr: 3e-3,
        max_shift: 1,
        ..CnnConfig::default()
    }
}

fn trained() -> (Cnn, Dataset, Dataset) {
    let (train, test) = mnist();
    let out = train_cnn(&small_config(), &train, None, |_| {}).unwrap();
    (out.cnn, train, test)
}

/// Class of the ANN (argmax of logits, ties to the lowest index), computed here from the
/// activations.
fn ann_class(cnn: &Cnn, image: &[u8]) -> usize {
    let x: Vec<f32> = image.iter().map(|&p| p as f32 / 255.0).collect();
    let z = cnn.activations(&x).pop().unwrap();
    (0..z.len()).fold(0, |b, i| if z[i] > z[b] { i } else { b })
}

#[test]
fn conv_ann_learns_and_conversion_keeps_its_predictions() {
    let (cnn, train, test) = trained();
    let ann_acc = cnn.accuracy(&test);
    // Chance is 10 %; 1,500 digits and 3 epochs give this small CNN about 86 %.
    assert!(ann_acc > 0.8, "ANN accuracy {ann_acc}");

    let cfg = ConvertConfig {
        name: "conv_test".into(),
        timesteps: 200,
        ..ConvertConfig::default()
    };
    let snn = cnn_to_snn(&cnn, &train.take(300), &cfg).unwrap();
    let names: Vec<&str> = snn.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1"]
    );
    // Through the kernels float runtime, Bernoulli rate inputs, T = 200.
    let net = Network::new(&snn).unwrap();
    let enc = Encoding::Rate { seed: 3 };
    let (mut agree, mut correct) = (0, 0);
    for i in 0..test.len() {
        let x = encode(&enc, test.image(i), snn.timesteps, i).unwrap();
        let c = net.run(&Input::Spikes(&x), false).unwrap().class;
        agree += usize::from(c == ann_class(&cnn, test.image(i)));
        correct += usize::from(c == test.labels[i] as usize);
    }
    let agree = agree as f32 / test.len() as f32;
    let snn_acc = correct as f32 / test.len() as f32;
    // About 96.5 % here; the disagreements are digits the ANN itself is unsure about.
    assert!(
        agree >= 0.93,
        "SNN agrees with the ANN on {agree} of the digits"
    );
    assert!(
        snn_acc >= ann_acc - 0.03,
        "SNN {snn_acc} vs ANN {ann_acc} at T = 200"
    );
    // Fewer steps lose accuracy (the rate code is coarser): T = 5 is clearly worse.
    let mut short = snn.clone();
    short.timesteps = 5;
    let acc5 = float_accuracy(&short, &test, &enc).unwrap() as f32;
    assert!(acc5 < snn_acc, "T = 5 gives {acc5}, T = 200 {snn_acc}");

    // The 8-bit integer twin: average pooling becomes sum pooling with threshold 4 (= 1 * 2^2
    // spikes), and its golden-model accuracy stays close to the float model's on the same
    // LFSR inputs.
    let qcfg = QuantConfig {
        name: Some("conv_test_int8".into()),
        ..QuantConfig::default()
    };
    let mut lfsr = snn.clone();
    lfsr.timesteps = 100;
    let calib = encode_all(&train, &qcfg.encoding, lfsr.timesteps, 100).unwrap();
    let q = quantize(&lfsr, &qcfg, &calib).unwrap().model;
    for l in &q.layers {
        match l.op {
            LayerOp::SumPool2d { kernel, .. } => {
                assert_eq!(kernel, 2);
                assert_eq!(l.neuron.unwrap().threshold, 4);
                assert_eq!(l.scale, 0.25);
            }
            LayerOp::AvgPool2d { .. } => panic!("integer model with average pooling"),
            _ => {}
        }
    }
    let acc_float = float_accuracy(&lfsr, &test, &qcfg.encoding).unwrap();
    let acc_int = int_accuracy(&q, &test).unwrap();
    eprintln!(
        "ANN {ann_acc}, SNN T=200 {snn_acc} (agreement {agree}), T=5 {acc5}, LFSR T=100 \
         float {acc_float} int8 {acc_int}"
    );
    assert!(
        (acc_float - acc_int).abs() <= 0.03,
        "float {acc_float} vs int {acc_int}"
    );
}

/// The activations of `cnn` (conv 5x5 pad 2, avgpool 2, conv 3x3 pad 1, avgpool 2, dense with
/// ReLU, dense logits) for the 1x28x28 image `x`, computed directly from the PyTorch-layout
/// weights in `f64` (independently of `Cnn::activations`): one vector per layer.
fn direct_activations(cnn: &Cnn, x: &[f32]) -> Vec<Vec<f64>> {
    fn conv(x: &[f64], c: usize, hw: usize, p: &DenseParams, k: usize) -> Vec<f64> {
        let w = p.to_output_major(); // [oc][c][k][k]
        let (oc, pad) = (p.outputs, (k / 2) as isize);
        let mut out = vec![0.0; oc * hw * hw];
        for o in 0..oc {
            for y in 0..hw {
                for xx in 0..hw {
                    let mut s = p.b.get(o).copied().unwrap_or(0.0) as f64;
                    for ci in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = y as isize + ky as isize - pad;
                                let ix = xx as isize + kx as isize - pad;
                                if iy < 0 || ix < 0 || iy >= hw as isize || ix >= hw as isize {
                                    continue;
                                }
                                let v = x[(ci * hw + iy as usize) * hw + ix as usize];
                                s += w[((o * c + ci) * k + ky) * k + kx] as f64 * v;
                            }
                        }
                    }
                    out[(o * hw + y) * hw + xx] = s.max(0.0);
                }
            }
        }
        out
    }
    fn pool(x: &[f64], c: usize, hw: usize) -> Vec<f64> {
        let h = hw / 2;
        let mut out = vec![0.0; c * h * h];
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..h {
                    let at = |dy: usize, dx: usize| x[(ch * hw + 2 * y + dy) * hw + 2 * xx + dx];
                    out[(ch * h + y) * h + xx] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0;
                }
            }
        }
        out
    }
    fn dense(x: &[f64], p: &DenseParams, relu: bool) -> Vec<f64> {
        let w = p.to_output_major(); // [outputs][inputs]
        (0..p.outputs)
            .map(|o| {
                let s: f64 = p.b.get(o).copied().unwrap_or(0.0) as f64
                    + (0..p.inputs)
                        .map(|j| w[o * p.inputs + j] as f64 * x[j])
                        .sum::<f64>();
                if relu { s.max(0.0) } else { s }
            })
            .collect()
    }
    let p = &cnn.params;
    let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let c1 = conv(&x, 1, 28, &p[0], 5);
    let p1 = pool(&c1, p[0].outputs, 28);
    let c2 = conv(&p1, p[0].outputs, 14, &p[2], 3);
    let p2 = pool(&c2, p[2].outputs, 14);
    let f1 = dense(&p2, &p[4], true);
    let f2 = dense(&f1, &p[5], false);
    vec![c1, p1, c2, p2, f1, f2]
}

#[test]
fn conv_normalisation_scales_by_activation_percentiles() {
    let (train, _) = mnist();
    let data = train.take(200);
    let mut cfg = CnnConfig {
        epochs: 1,
        ..small_config()
    };
    // A hidden dense layer, so that fc1 (ReLU) and fc2 (logits) are both covered.
    cfg.layers.push(CnnLayerSpec::Dense { outputs: 16 });
    let cnn = train_cnn(&cfg, &data, None, |_| {}).unwrap().cnn;
    let lam = cnn_activation_scales(&cnn, &data, 100.0);
    assert_eq!(lam.len(), 6);
    // Pooling layers carry the lambda of the conv they pool.
    assert_eq!(lam[1], lam[0]);
    assert_eq!(lam[3], lam[2]);
    // lambda at the 100th percentile is the largest positive activation of the layer (1 when
    // none is positive), found here by a direct forward pass in f64 (other summation order:
    // equal to f32 rounding).
    let direct: Vec<Vec<Vec<f64>>> = (0..data.len())
        .map(|i| {
            let x: Vec<f32> = data.image(i).iter().map(|&p| p as f32 / 255.0).collect();
            direct_activations(&cnn, &x)
        })
        .collect();
    for l in [0, 2, 4, 5] {
        let max = direct
            .iter()
            .flat_map(|a| a[l].iter().copied())
            .fold(0.0f64, f64::max);
        let want = if max > 0.0 { max } else { 1.0 };
        assert!(
            (lam[l] as f64 - want).abs() <= 1e-4 * want,
            "layer {l}: {} vs {want}",
            lam[l]
        );
    }
    let snn = cnn_to_snn(
        &cnn,
        &data,
        &ConvertConfig {
            name: "conv_norm".into(),
            percentile: 100.0,
            ..ConvertConfig::default()
        },
    )
    .unwrap();
    // W' = W lambda_prev / lambda in PyTorch layout; lambda_prev of conv2 is conv1's (through
    // the pooling layer), of fc1 conv2's.
    let check = |model_layer: usize, cnn_layer: usize, f: f32| {
        let w = cnn.params[cnn_layer].to_output_major();
        let got = &snn.layers[model_layer].weights;
        assert_eq!(got.len(), w.len());
        for (a, b) in got.iter().zip(&w) {
            assert!((a - b * f).abs() <= 1e-5 * (b * f).abs().max(1e-3));
        }
    };
    check(0, 0, 1.0 / lam[0]);
    check(2, 2, lam[0] / lam[2]);
    check(5, 4, lam[2] / lam[4]);
    check(6, 5, lam[4] / lam[5]);
    for l in &snn.layers {
        match l.op {
            LayerOp::Flatten { .. } => assert!(l.neuron.is_none()),
            _ => {
                let Some(Neuron::Lif(p)) = l.neuron else {
                    panic!("{} has no LIF neurons", l.name)
                };
                assert_eq!((p.beta, p.threshold), (1.0, 1.0), "{}", l.name);
                assert!(l.bias.is_empty());
            }
        }
    }
}

#[test]
fn conv_training_is_deterministic_across_thread_counts() {
    let (train, _) = mnist();
    let data = train.take(64);
    let cfg = CnnConfig {
        epochs: 1,
        ..small_config()
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train_cnn(&cfg, &data, None, |_| {}).unwrap().cnn)
    };
    assert_eq!(run(1), run(2));
}
