//! Accumulate-only convolution throughput in synaptic operations per second (one addition of
//! one weight into one current = one op; counted exactly with `ConvGeometry::synaptic_ops`),
//! for every kernel path and scatter strategy and the scalar reference, on MNIST-like layers at
//! ~10 % spike density, plus a density sweep (1-30 %) that the strategy rule is fitted to.
//!
//! `cargo bench -p benches --bench conv`

use benches::cpu_time::ThreadCpuTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::conv::{Conv2d, ConvGeometry, Scatter, conv2d_reference};
use kernels::fc::Path;
use kernels::model::{Encoding, IntLayer, IntModel, Layer, LayerOp, Model, Shape};
use kernels::network::{Input, IntNetwork, Network};
use kernels::neuron::{FiringRule, IntLifParams, Leak, LifParams, Neuron, ResetMode};
use kernels::pool::{PoolGeometry, sum_pool_i32};
use kernels::spikes::SpikeTrain;
use kernels::spikes::SpikeVec;
use std::hint::black_box;

fn spikes(n: usize, per_mille: u32) -> SpikeVec {
    let bools: Vec<bool> = (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 8) % 1000 < per_mille)
        .collect();
    SpikeVec::from_bools(&bools)
}

fn weights(n: usize) -> Vec<i16> {
    (0..n as i32)
        .map(|i| ((i * 37) % 255 - 127) as i16)
        .collect()
}

type LayerSpec = (
    &'static str,
    (usize, usize, usize),
    usize,
    usize,
    usize,
    usize,
);

/// name, input C x H x W, out channels, kernel, stride, padding.
const LAYERS: [LayerSpec; 3] = [
    ("c1_1x28x28_k5_oc8", (1, 28, 28), 8, 5, 1, 2),
    ("c2_8x14x14_k3_oc16", (8, 14, 14), 16, 3, 1, 1),
    ("c3_16x14x14_k3_oc32_s2", (16, 14, 14), 32, 3, 2, 1),
];

fn conv(c: &mut Criterion<ThreadCpuTime>) {
    for (name, (ch, h, w), oc, k, s, p) in LAYERS {
        let input = Shape {
            channels: ch,
            height: h,
            width: w,
        };
        let geom = ConvGeometry::new(input, oc, [k, k], s, p).unwrap();
        let wts = weights(geom.weight_len());
        let wf: Vec<f32> = wts.iter().map(|&x| x as f32).collect();
        let sp = spikes(geom.input_len(), 100);
        let ops = geom.synaptic_ops(sp.words());
        let fast = Conv2d::new(geom, &wts).unwrap();
        let fast_f = Conv2d::new(geom, &wf).unwrap();
        let mut g = c.benchmark_group(format!("conv_{name}"));
        g.throughput(Throughput::Elements(ops));
        let mut out = vec![0i32; geom.output_len()];
        let mut scratch = Vec::new();
        // The default entry point (fastest path, strategy by the cost model), then each path
        // and strategy on its own.
        g.bench_function("fast_i16_i32", |b| {
            b.iter(|| {
                out.fill(0);
                fast.accumulate_with_scratch(black_box(sp.words()), &mut out, &mut scratch)
                    .unwrap();
            })
        });
        let runs = [
            (Path::Avx512, Scatter::ChannelLast, "avx512_hwc"),
            (Path::Avx2, Scatter::ChannelLast, "avx2_hwc"),
            (Path::Avx2, Scatter::Rows, "avx2_rows"),
            (Path::Portable, Scatter::ChannelLast, "portable_hwc"),
            (Path::Portable, Scatter::Rows, "portable_rows"),
            (Path::Scalar, Scatter::ChannelLast, "scalar_hwc"),
        ];
        for (path, strategy, label) in runs {
            if !path.is_available() {
                continue;
            }
            g.bench_function(format!("{label}_i16_i32"), |b| {
                b.iter(|| {
                    out.fill(0);
                    fast.accumulate_with(
                        path,
                        strategy,
                        black_box(sp.words()),
                        &mut out,
                        &mut scratch,
                    )
                    .unwrap();
                })
            });
        }
        let mut outf = vec![0f32; geom.output_len()];
        let mut scratch_f = Vec::new();
        g.bench_function("fast_f32", |b| {
            b.iter(|| {
                outf.fill(0.0);
                fast_f
                    .accumulate_with_scratch(black_box(sp.words()), &mut outf, &mut scratch_f)
                    .unwrap();
            })
        });
        g.bench_function("reference_i16_i32", |b| {
            b.iter(|| {
                out.fill(0);
                conv2d_reference(&geom, &wts, black_box(sp.words()), &mut out).unwrap();
            })
        });
        // Counting the synaptic operations (the network runtime does it every step): from the
        // tap tables, and the old per-tap scan of the geometry.
        g.bench_function("synaptic_ops_tables", |b| {
            b.iter(|| fast.synaptic_ops(black_box(sp.words())))
        });
        g.bench_function("synaptic_ops_geometry_scan", |b| {
            b.iter(|| geom.synaptic_ops(black_box(sp.words())))
        });
        g.finish();
    }
    let pool = PoolGeometry::new(
        Shape {
            channels: 8,
            height: 28,
            width: 28,
        },
        2,
    )
    .unwrap();
    for per_mille in [15, 100, 300] {
        let sp = spikes(8 * 28 * 28, per_mille);
        let mut out = vec![0i32; pool.output().len()];
        let mut g = c.benchmark_group(format!("sum_pool_8x28x28_k2_{per_mille}permille"));
        g.throughput(Throughput::Elements(sp.count() as u64));
        g.bench_function("sum_pool_i32", |b| {
            b.iter(|| {
                out.fill(0);
                sum_pool_i32(&pool, black_box(sp.words()), &mut out).unwrap();
            })
        });
        g.finish();
    }
}

/// Every layer at 1 %, 3 %, 10 % and 30 % input density on the AVX2 path, both strategies:
/// the data the strategy rule (`Conv2d::prefers_hwc`) is fitted to.
fn density_sweep(c: &mut Criterion<ThreadCpuTime>) {
    if !Path::Avx2.is_available() {
        return;
    }
    for (name, (ch, h, w), oc, k, s, p) in LAYERS {
        let input = Shape {
            channels: ch,
            height: h,
            width: w,
        };
        let geom = ConvGeometry::new(input, oc, [k, k], s, p).unwrap();
        let conv = Conv2d::new(geom, &weights(geom.weight_len())).unwrap();
        for per_mille in [10, 30, 100, 300] {
            let sp = spikes(geom.input_len(), per_mille);
            let mut g = c.benchmark_group(format!(
                "sweep_{name}_{per_mille}permille_hwc_{}",
                conv.prefers_hwc(sp.count())
            ));
            g.throughput(Throughput::Elements(geom.synaptic_ops(sp.words())));
            let mut out = vec![0i32; geom.output_len()];
            let mut scratch = Vec::new();
            for (strategy, label) in [(Scatter::ChannelLast, "hwc"), (Scatter::Rows, "rows")] {
                g.bench_function(label, |b| {
                    b.iter(|| {
                        out.fill(0);
                        conv.accumulate_with(
                            Path::Avx2,
                            strategy,
                            black_box(sp.words()),
                            &mut out,
                            &mut scratch,
                        )
                        .unwrap();
                    })
                });
            }
            g.finish();
        }
    }
}

/// A whole convolutional network on the integer and float runtimes (`IntNetwork::run`,
/// `Network::run`): 1x28x28 -> conv 8 (5x5, pad 2) -> sum pool 2 -> conv 16 (3x3, pad 1) -> sum
/// pool 2 -> dense 10, neurons after every layer, T = 25, ~10 % input density. One element =
/// one image.
fn conv_network(c: &mut Criterion<ThreadCpuTime>) {
    let input = Shape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let c1 = LayerOp::Conv2d {
        input,
        out_channels: 8,
        kernel: [5, 5],
        stride: 1,
        padding: 2,
    };
    let s1 = c1.output_shape().unwrap();
    let p1 = LayerOp::SumPool2d {
        input: s1,
        kernel: 2,
    };
    let s2 = p1.output_shape().unwrap();
    let c2 = LayerOp::Conv2d {
        input: s2,
        out_channels: 16,
        kernel: [3, 3],
        stride: 1,
        padding: 1,
    };
    let s3 = c2.output_shape().unwrap();
    let p2 = LayerOp::SumPool2d {
        input: s3,
        kernel: 2,
    };
    let s4 = p2.output_shape().unwrap();
    let flat = LayerOp::Flatten { input: s4 };
    let fc = LayerOp::Dense {
        inputs: s4.len(),
        outputs: 10,
    };
    let neuron = |threshold| IntLifParams {
        leak: Leak::Shift { k: 3 },
        threshold,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 16,
        syn_leak: None,
    };
    let layer = |name: &str, op: LayerOp, threshold| IntLayer {
        name: name.into(),
        op,
        weight_bits: 8,
        weights: weights(op.weight_count()).iter().map(|&w| w / 2).collect(),
        bias: vec![],
        scale: 1.0,
        neuron: (!matches!(op, LayerOp::Flatten { .. })).then(|| neuron(threshold)),
    };
    let model = IntModel {
        name: "convnet".into(),
        input,
        timesteps: 25,
        encoding: Encoding::Direct,
        layers: vec![
            layer("c1", c1, 200),
            layer("p1", p1, 2),
            layer("c2", c2, 300),
            layer("p2", p2, 2),
            layer("flat", flat, 1),
            layer("fc", fc, 300),
        ],
    };
    let net = IntNetwork::new(&model).unwrap();
    // The float twin: same weights as f32, LIF with beta = 7/8 and the same thresholds.
    let fmodel = Model {
        name: model.name.clone(),
        input,
        timesteps: 25,
        encoding: Encoding::Direct,
        layers: model
            .layers
            .iter()
            .map(|l| Layer {
                name: l.name.clone(),
                op: l.op,
                weights: l.weights.iter().map(|&w| w as f32).collect(),
                bias: vec![],
                neuron: l
                    .neuron
                    .map(|n| Neuron::Lif(LifParams::snntorch(0.875, n.threshold as f32))),
            })
            .collect(),
    };
    let fnet = Network::new(&fmodel).unwrap();
    let train =
        SpikeTrain::from_bools(25, input.len(), &spikes(25 * input.len(), 100).to_bools()).unwrap();
    let run = net.run(&train, false).unwrap();
    let mut g = c.benchmark_group(format!(
        "convnet_1x28x28_T25_layer_spikes_{:?}",
        run.layer_spike_counts
    ));
    g.throughput(Throughput::Elements(1));
    g.bench_function("int_run", |b| {
        b.iter(|| net.run(black_box(&train), false).unwrap())
    });
    g.bench_function("float_run", |b| {
        b.iter(|| fnet.run(&Input::Spikes(black_box(&train)), false).unwrap())
    });
    g.finish();
}

/// Thread CPU time (not wall time): the 2-core machine is shared, see `benches::cpu_time`.
fn config() -> Criterion<ThreadCpuTime> {
    Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = conv, density_sweep, conv_network }
criterion_main!(benches);
