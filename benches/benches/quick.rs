//! Repeated-minimum timing of the integer 784-128-10 network, for a machine shared with other
//! jobs: `cargo bench -p benches --bench quick`.
//!
//! Criterion's mean and confidence interval move by 30 % between runs when other processes
//! time-share the cores (they evict the per-core L2 that holds the weight rows, and thread CPU
//! time still pays for the refills). This bench runs `ROUNDS` rounds of `BATCH` images,
//! measures each round's thread CPU time, and prints the minimum, the lower quartile and the
//! median per image: the minimum is the best estimate of the uncontended cost, the spread
//! shows how loaded the machine was. Same network and inputs as `benches/network.rs`.

use std::hint::black_box;

use benches::cpu_time::thread_cpu_time;
use benches::mnist_net::{self, SIZES, T};
use benches::{Rng, random_spikes};
use kernels::network::IntNetwork;
use kernels::spikes::SpikeTrain;

const ROUNDS: usize = 200;

/// Rounds to run: `QUICK_ROUNDS` if set (e.g. a longer run under `perf record`), else `ROUNDS`.
fn rounds() -> usize {
    std::env::var("QUICK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(ROUNDS)
}
const BATCH: usize = 32;

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

/// Min, lower quartile and median over rounds of the time per call of `f`, in nanoseconds.
fn measure(mut f: impl FnMut(usize)) -> (f64, f64, f64) {
    let rounds = rounds();
    let mut per: Vec<f64> = Vec::with_capacity(rounds);
    let mut k = 0;
    for _ in 0..rounds {
        let t0 = thread_cpu_time();
        for _ in 0..BATCH {
            f(k);
            k += 1;
        }
        per.push((thread_cpu_time() - t0).as_nanos() as f64 / BATCH as f64);
    }
    per.sort_by(f64::total_cmp);
    (per[0], per[rounds / 4], per[rounds / 2])
}

fn report(name: &str, (min, q1, med): (f64, f64, f64)) {
    println!(
        "{name:<44} min {:>8.3} us  q1 {:>8.3} us  median {:>8.3} us",
        min / 1e3,
        q1 / 1e3,
        med / 1e3
    );
}

/// As [`report`], plus synaptic operations per second at the minimum and the median.
fn report_sops(name: &str, sops_per_call: f64, t: (f64, f64, f64)) {
    report(name, t);
    println!(
        "{:<44} {:.1} GSOP/s at the minimum, {:.1} at the median",
        "",
        sops_per_call / t.0,
        sops_per_call / t.2
    );
}

/// The 784 -> 128 kernels at 10 % density with a *different* spike vector on every call (16
/// patterns cycled, as in a network run): the rows come from L2, unlike criterion's `fc`
/// bench, whose single spike vector keeps its 85 rows (21 KiB) in L1.
fn fc_varying(want: &dyn Fn(&str) -> bool) {
    use kernels::fc::{I8PairRows, I16Rows, Path, RowMatrix, paths};
    let mut rng = Rng::new(1);
    let patterns: Vec<Vec<u64>> = (0..16)
        .map(|_| random_spikes(&mut rng, SIZES[0], 0.10))
        .collect();
    let active: usize = patterns
        .iter()
        .map(|p| kernels::spikes::count_ones(p))
        .sum();
    let sops = active as f64 / patterns.len() as f64 * SIZES[1] as f64;
    // Weights in [-40, 40] as in benches/fc.rs: the i16 accumulator proof holds.
    let w: Vec<i64> = benches::random_weights(&mut rng, SIZES[0] * SIZES[1], -40, 40);
    let w16: Vec<i16> = w.iter().map(|&x| x as i16).collect();
    let w8: Vec<i8> = w.iter().map(|&x| x as i8).collect();
    let r16 = I16Rows::new(
        RowMatrix::from_output_major(SIZES[1], SIZES[0], &w16).unwrap(),
        &[],
    )
    .unwrap();
    let p8 = I8PairRows::new(
        RowMatrix::from_output_major(SIZES[1], SIZES[0], &w8).unwrap(),
        &[],
    )
    .unwrap();
    let mut out = vec![0i16; SIZES[1]];
    for path in [Path::Avx2, Path::Avx512] {
        if !path.is_available() {
            continue;
        }
        let name = format!("fc 784x128 varying i16 rows {}", path.name());
        if want(&name) {
            let t = measure(|k| {
                r16.currents_with(path, &patterns[k % 16], &mut out)
                    .unwrap();
                black_box(&out);
            });
            report_sops(&name, sops, t);
        }
        let name = format!("fc 784x128 varying i8 pairs {}", path.name());
        if want(&name) {
            let t = measure(|k| {
                p8.currents_with(path, &patterns[k % 16], &mut out).unwrap();
                black_box(&out);
            });
            report_sops(&name, sops, t);
        }
    }
    let _ = paths::best();
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let samples = inputs(16, 0.10);
    let net = IntNetwork::new(&mnist_net::int_model()).unwrap();
    println!(
        "kernel path: {} ({} = {:?}); load average: {}",
        kernels::fc::paths::best().name(),
        kernels::fc::paths::MAX_PATH_ENV,
        std::env::var(kernels::fc::paths::MAX_PATH_ENV).ok(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    fc_varying(&want);
    if want("snn_int") {
        report(
            "snn_int (784-128-10, T=25, per image)",
            measure(|k| {
                black_box(net.run(&samples[k % samples.len()], false).unwrap());
            }),
        );
    }
}
