//! Accumulate-only convolution throughput in synaptic operations per second (one addition of
//! one weight into one current = one op; counted exactly with `ConvGeometry::synaptic_ops`),
//! for the fast path and the scalar reference, on MNIST-like layers at ~10 % spike density.
//!
//! `cargo bench -p benches --bench conv`

use benches::cpu_time::ThreadCpuTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::conv::{Conv2d, ConvGeometry, conv2d_reference};
use kernels::model::Shape;
use kernels::pool::{PoolGeometry, sum_pool_i32};
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

fn conv(c: &mut Criterion<ThreadCpuTime>) {
    let layers = [
        // name, input C x H x W, out channels, kernel, stride, padding
        ("c1_1x28x28_k5_oc8", (1, 28, 28), 8, 5, 1, 2),
        ("c2_8x14x14_k3_oc16", (8, 14, 14), 16, 3, 1, 1),
        ("c3_16x14x14_k3_oc32_s2", (16, 14, 14), 32, 3, 2, 1),
    ];
    for (name, (ch, h, w), oc, k, s, p) in layers {
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
        g.bench_function("fast_i16_i32", |b| {
            b.iter(|| {
                out.fill(0);
                fast.accumulate_with_scratch(black_box(sp.words()), &mut out, &mut scratch)
                    .unwrap();
            })
        });
        g.bench_function("rows_i16_i32", |b| {
            b.iter(|| {
                out.fill(0);
                fast.accumulate_rows(black_box(sp.words()), &mut out)
                    .unwrap();
            })
        });
        g.bench_function("hwc_i16_i32", |b| {
            b.iter(|| {
                out.fill(0);
                fast.accumulate_hwc(black_box(sp.words()), &mut out)
                    .unwrap();
            })
        });
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
    let sp = spikes(8 * 28 * 28, 100);
    let mut out = vec![0i32; pool.output().len()];
    let mut g = c.benchmark_group("sum_pool_8x28x28_k2");
    g.throughput(Throughput::Elements(sp.count() as u64));
    g.bench_function("sum_pool_i32", |b| {
        b.iter(|| {
            out.fill(0);
            sum_pool_i32(&pool, black_box(sp.words()), &mut out).unwrap();
        })
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

criterion_group! { name = benches; config = config(); targets = conv }
criterion_main!(benches);
