//! Encoder throughput in pixels per second (`T x pixels` spike decisions per second), on an
//! MNIST-sized image (784 pixels, T = 25) with a realistic intensity mix (about 19 % of MNIST
//! pixels are non-zero; here a synthetic digit-like pattern with the same share).
//!
//! `cargo bench -p benches --bench encode`

use benches::cpu_time::ThreadCpuTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kernels::encode::{
    LfsrTable, bernoulli_f32, bernoulli_u8, latency_u8, lfsr_encode, lfsr_encode_reference,
    poisson_u8,
};
use std::hint::black_box;

fn image() -> Vec<u8> {
    // Deterministic pattern: ~19 % non-zero pixels with a spread of intensities.
    (0..784u32)
        .map(|i| {
            let h = i.wrapping_mul(2_654_435_761) >> 24;
            if h < 49 { (h * 5 + 10) as u8 } else { 0 }
        })
        .collect()
}

fn encoders(c: &mut Criterion<ThreadCpuTime>) {
    let img = image();
    let imgf: Vec<f32> = img.iter().map(|&p| p as f32 / 255.0).collect();
    let steps = 25;
    let mut g = c.benchmark_group("encode_784x25");
    g.throughput(Throughput::Elements((img.len() * steps) as u64));
    g.bench_function("bernoulli_u8", |b| {
        b.iter(|| bernoulli_u8(black_box(&img), steps, 7).unwrap())
    });
    g.bench_function("bernoulli_f32", |b| {
        b.iter(|| bernoulli_f32(black_box(&imgf), steps, 7).unwrap())
    });
    g.bench_function("poisson_u8", |b| {
        b.iter(|| poisson_u8(black_box(&img), steps, 7).unwrap())
    });
    g.bench_function("latency_u8", |b| {
        b.iter(|| latency_u8(black_box(&img), steps).unwrap())
    });
    for lanes in [1u32, 16] {
        // The fast path as callers get it: the threshold table comes from the cache.
        g.bench_with_input(BenchmarkId::new("lfsr", lanes), &lanes, |b, &l| {
            b.iter(|| lfsr_encode(black_box(&img), steps, 1, l).unwrap())
        });
        // The definition (pixel-by-pixel lane stepping), the fast path's test reference.
        g.bench_with_input(
            BenchmarkId::new("lfsr_reference", lanes),
            &lanes,
            |b, &l| b.iter(|| lfsr_encode_reference(black_box(&img), steps, 1, l).unwrap()),
        );
        // Building the table: what the first image of a run (a cache miss) pays on top.
        g.bench_with_input(
            BenchmarkId::new("lfsr_table_build", lanes),
            &lanes,
            |b, &l| b.iter(|| LfsrTable::new(black_box(1), l, img.len(), steps).unwrap()),
        );
    }
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

criterion_group! { name = benches; config = config(); targets = encoders }
criterion_main!(benches);
