//! A criterion [`Measurement`] of the benchmark thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) instead of wall time.
//!
//! The development machine has 2 cores shared by several jobs; wall time then includes the
//! time the benchmark thread waited for a core, CPU time does not. It still includes cache
//! and branch-predictor pollution by the other jobs, so numbers measured under load remain
//! somewhat pessimistic. Single-threaded benchmarks only: other threads' time is not counted.

use std::time::Duration;

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// CPU time of the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The measurement: thread CPU time, reported like wall time.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Formats nanoseconds and per-second throughputs (decimal units).
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1e3 {
            (1.0, "ns")
        } else if ns < 1e6 {
            (1e-3, "µs")
        } else if ns < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let (n, kind) = match *t {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (b as f64, "B/s"),
            Throughput::Elements(e) => (e as f64, "elem/s"),
        };
        let per_s = n * 1e9 / typical;
        let (div, unit) = match (per_s, kind) {
            (x, "B/s") if x >= 1e9 => (1e9, "GB/s"),
            (x, "B/s") if x >= 1e6 => (1e6, "MB/s"),
            (_, "B/s") => (1.0, "B/s"),
            (x, _) if x >= 1e9 => (1e9, "Gelem/s"),
            (x, _) if x >= 1e6 => (1e6, "Melem/s"),
            (x, _) if x >= 1e3 => (1e3, "Kelem/s"),
            _ => (1.0, "elem/s"),
        };
        for v in values {
            *v = n * 1e9 / *v / div;
        }
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
