//! The LIF update and the whole 784-128-10 network at T = 25 with ~10 % input spike density:
//! integer golden model, float runtime, and the dense `f32` matrix-vector baseline of the same
//! network, in the same run. Throughput in images (samples) per second; the time per
//! iteration is the time per image on one core.

use std::time::Duration;

use benches::cpu_time::ThreadCpuTime;
use benches::mnist_net::{self, SIZES, T};
use benches::{Rng, random_spikes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::network::{Input, IntNetwork, Network};
use kernels::neuron::{IntLayerState, step_int, update_int};
use kernels::spikes::SpikeTrain;

fn inputs(n: usize, density: f64) -> Vec<SpikeTrain> {
    let mut rng = Rng::new(7);
    (0..n)
        .map(|_| {
            let mut t = SpikeTrain::zeros(T, SIZES[0]);
            for s in 0..T {
                t.row_mut(s)
                    .copy_from_slice(&random_spikes(&mut rng, SIZES[0], density));
            }
            t
        })
        .collect()
}

fn lif(c: &mut Criterion<ThreadCpuTime>) {
    let p = mnist_net::int_model().layers[0].neuron.unwrap();
    let mut rng = Rng::new(3);
    let current: Vec<i32> = (0..128).map(|_| rng.range(-200, 400) as i32).collect();
    let mut g = c.benchmark_group("lif");
    g.throughput(Throughput::Elements(128));
    g.bench_function("step_int/128", |b| {
        let mut st = IntLayerState::new(128);
        b.iter(|| step_int(&p, &current, &mut st))
    });
    g.bench_function("update_int/128", |b| {
        let mut v = vec![0i32; 128];
        let mut s = [false; 128];
        b.iter(|| {
            for i in 0..128 {
                let (nv, ns) = update_int(&p, v[i], s[i], current[i] as i64);
                v[i] = nv;
                s[i] = ns;
            }
        })
    });
    g.finish();
}

fn network(c: &mut Criterion<ThreadCpuTime>) {
    let samples = inputs(16, 0.10);
    let int_net = IntNetwork::new(&mnist_net::int_model()).unwrap();
    let float_net = Network::new(&mnist_net::float_model()).unwrap();
    let dense = mnist_net::dense_baseline();
    // The dense baseline reads 0/1 floats.
    let dense_inputs: Vec<Vec<Vec<f32>>> = samples
        .iter()
        .map(|t| {
            let b = t.to_bools();
            b.chunks(SIZES[0])
                .map(|r| r.iter().map(|&x| x as u8 as f32).collect())
                .collect()
        })
        .collect();
    // Report the activity the benchmark runs at.
    let r = int_net.run(&samples[0], false).unwrap();
    for (name, s) in int_net.layer_names().iter().zip(&r.stats) {
        eprintln!(
            "int {name}: input density {:.3}, firing rate {:.3}, synaptic ops {}",
            s.input_density(),
            s.firing_rate(),
            s.synaptic_ops
        );
    }

    let mut g = c.benchmark_group("network_784_128_10_T25_d10");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("snn_int", |b| {
        b.iter(|| {
            i = (i + 1) % samples.len();
            int_net.run(&samples[i], false).unwrap()
        })
    });
    g.bench_function("snn_f32", |b| {
        b.iter(|| {
            i = (i + 1) % samples.len();
            float_net.run(&Input::Spikes(&samples[i]), false).unwrap()
        })
    });
    g.bench_function("dense_f32_baseline", |b| {
        b.iter(|| {
            i = (i + 1) % samples.len();
            dense.run(&dense_inputs[i])
        })
    });
    g.finish();
}

fn config() -> Criterion<ThreadCpuTime> {
    Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// Batch throughput across both cores (rayon across samples): wall time, since CPU time of
/// the calling thread would miss the workers.
fn network_batch(c: &mut Criterion) {
    let samples = inputs(16, 0.10);
    let int_net = IntNetwork::new(&mnist_net::int_model()).unwrap();
    let mut g = c.benchmark_group("network_batch_2threads");
    g.throughput(Throughput::Elements(samples.len() as u64));
    g.bench_function("snn_int_batch16", |b| {
        b.iter(|| int_net.run_batch(&samples).unwrap())
    });
    g.finish();
}

fn wall_config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = lif, network }
criterion_group! { name = batch; config = wall_config(); targets = network_batch }
criterion_main!(benches, batch);
