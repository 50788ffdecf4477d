//! Fully connected accumulate-only kernels, in synaptic operations per second
//! (`active inputs x outputs` additions per call; criterion's "elements/s").

use std::time::Duration;

use benches::cpu_time::ThreadCpuTime;
use benches::{Rng, random_spikes, random_weights};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kernels::fc::{I16Rows, RowMatrix, accumulate_rows_with, paths};

const INPUTS: usize = 784;
const OUTPUTS: usize = 128;

fn sops(spikes: &[u64], outputs: usize) -> u64 {
    kernels::spikes::count_ones(spikes) as u64 * outputs as u64
}

fn fc_784x128(c: &mut Criterion<ThreadCpuTime>) {
    let mut rng = Rng::new(1);
    let spikes = random_spikes(&mut rng, INPUTS, 0.10);
    let n = sops(&spikes, OUTPUTS);
    // Weights in [-40, 40]: 784 * 40 < 32767, so the i16 accumulator proof holds.
    let wi = random_weights(&mut rng, INPUTS * OUTPUTS, -40, 40);
    let w16: Vec<i16> = wi.iter().map(|&w| w as i16).collect();
    let w8: Vec<i8> = wi.iter().map(|&w| w as i8).collect();
    let wf: Vec<f32> = wi.iter().map(|&w| w as f32 / 64.0).collect();
    let m16 = RowMatrix::from_output_major(OUTPUTS, INPUTS, &w16).unwrap();
    let m8 = RowMatrix::from_output_major(OUTPUTS, INPUTS, &w8).unwrap();
    let mf = RowMatrix::from_output_major(OUTPUTS, INPUTS, &wf).unwrap();
    let r16 = I16Rows::new(m16.clone(), &[]).unwrap();
    let r8 = I16Rows::new(m8.clone(), &[]).unwrap();

    let mut g = c.benchmark_group("fc_784x128_d10");
    g.throughput(Throughput::Elements(n));
    for path in paths::available() {
        let p = path.name();
        g.bench_function(BenchmarkId::new("i16w_i16acc", p), |b| {
            let mut out = vec![0i16; OUTPUTS];
            b.iter(|| r16.currents_with(path, &spikes, &mut out).unwrap())
        });
        g.bench_function(BenchmarkId::new("i8w_i16acc", p), |b| {
            let mut out = vec![0i16; OUTPUTS];
            b.iter(|| r8.currents_with(path, &spikes, &mut out).unwrap())
        });
        g.bench_function(BenchmarkId::new("i16w_i32acc", p), |b| {
            let mut acc = vec![0i32; OUTPUTS];
            b.iter(|| accumulate_rows_with(path, &m16, &spikes, &mut acc).unwrap())
        });
        g.bench_function(BenchmarkId::new("i8w_i32acc", p), |b| {
            let mut acc = vec![0i32; OUTPUTS];
            b.iter(|| accumulate_rows_with(path, &m8, &spikes, &mut acc).unwrap())
        });
        g.bench_function(BenchmarkId::new("f32w_f32acc", p), |b| {
            let mut acc = vec![0f32; OUTPUTS];
            b.iter(|| accumulate_rows_with(path, &mf, &spikes, &mut acc).unwrap())
        });
    }
    g.finish();
}

/// Weights resident in L1 (96 x 128 i16 = 24 KiB of the 32 KiB L1d): the kernel's compute
/// limit, without the L2 bandwidth limit of the 200 KiB 784 x 128 matrix.
fn fc_l1(c: &mut Criterion<ThreadCpuTime>) {
    let (inputs, outputs) = (96, 128);
    let mut rng = Rng::new(5);
    let w: Vec<i16> = random_weights(&mut rng, inputs * outputs, -40, 40)
        .into_iter()
        .map(|w| w as i16)
        .collect();
    let r = I16Rows::new(
        RowMatrix::from_output_major(outputs, inputs, &w).unwrap(),
        &[],
    )
    .unwrap();
    let spikes = random_spikes(&mut rng, inputs, 0.5);
    let mut g = c.benchmark_group("fc_96x128_l1_d50");
    g.throughput(Throughput::Elements(sops(&spikes, outputs)));
    for path in paths::available() {
        g.bench_function(BenchmarkId::new("i16w_i16acc", path.name()), |b| {
            let mut out = vec![0i16; outputs];
            b.iter(|| r.currents_with(path, &spikes, &mut out).unwrap())
        });
    }
    g.finish();
}

/// Density and width sweep of the fastest i16 path.
fn fc_sweep(c: &mut Criterion<ThreadCpuTime>) {
    let path = paths::best();
    let mut g = c.benchmark_group("fc_sweep_i16");
    for outputs in [32usize, 128, 512] {
        let mut rng = Rng::new(2);
        let w: Vec<i16> = random_weights(&mut rng, INPUTS * outputs, -40, 40)
            .into_iter()
            .map(|w| w as i16)
            .collect();
        let r = I16Rows::new(
            RowMatrix::from_output_major(outputs, INPUTS, &w).unwrap(),
            &[],
        )
        .unwrap();
        for density in [0.01, 0.05, 0.10, 0.25, 0.50] {
            let spikes = random_spikes(&mut rng, INPUTS, density);
            g.throughput(Throughput::Elements(sops(&spikes, outputs)));
            let id = format!(
                "{}/{outputs}out/d{:02}",
                path.name(),
                (density * 100.0) as u32
            );
            g.bench_function(id, |b| {
                let mut out = vec![0i16; outputs];
                b.iter(|| r.currents_with(path, &spikes, &mut out).unwrap())
            });
        }
    }
    g.finish();
}

fn config() -> Criterion<ThreadCpuTime> {
    Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = fc_784x128, fc_l1, fc_sweep }
criterion_main!(benches);
