//! Bit-plane popcount kernel against row accumulation, over spike density and weight width:
//! the measurement behind `kernels::bitplane::prefer_bitplane`. 784 -> 128, synaptic
//! operations per second counted as `active inputs x outputs` for both kernels.

use std::time::Duration;

use benches::cpu_time::ThreadCpuTime;
use benches::{Rng, random_spikes, random_weights};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::bitplane::BitPlaneMatrix;
use kernels::fc::{I16Rows, RowMatrix, paths};

fn bitplane_vs_rows(c: &mut Criterion<ThreadCpuTime>) {
    let (inputs, outputs) = (784, 128);
    let path = paths::best();
    let mut g = c.benchmark_group("bitplane_vs_rows");
    for bits in [1u8, 2, 4] {
        let mut rng = Rng::new(bits as u64);
        let lo = -(1i64 << (bits - 1));
        let hi = (1i64 << (bits - 1)) - 1;
        let w: Vec<i16> = random_weights(&mut rng, inputs * outputs, lo, hi)
            .into_iter()
            .map(|x| x as i16)
            .collect();
        let planes = BitPlaneMatrix::from_output_major(outputs, inputs, &w, bits).unwrap();
        let rows = I16Rows::new(
            RowMatrix::from_output_major(outputs, inputs, &w).unwrap(),
            &[],
        )
        .unwrap();
        for density in [0.05, 0.10, 0.25, 0.50, 0.75, 1.0] {
            let spikes = random_spikes(&mut rng, inputs, density);
            let sops = kernels::spikes::count_ones(&spikes) as u64 * outputs as u64;
            g.throughput(Throughput::Elements(sops));
            let d = (density * 100.0) as u32;
            g.bench_function(format!("bitplane/{bits}bit/d{d:03}"), |b| {
                let mut acc = vec![0i32; outputs];
                b.iter(|| planes.accumulate_with(path, &spikes, &mut acc).unwrap())
            });
            g.bench_function(format!("rows_i16/{bits}bit/d{d:03}"), |b| {
                let mut out = vec![0i16; outputs];
                b.iter(|| rows.currents_with(path, &spikes, &mut out).unwrap())
            });
        }
    }
    g.finish();
}

fn config() -> Criterion<ThreadCpuTime> {
    Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = bitplane_vs_rows }
criterion_main!(benches);
