//! N-MNIST event files: any bytes must parse or give an error, never panic. Parsed events are
//! then binned into a spike train, which must not panic either.
#![no_main]

use kernels::events::{Binning, NMNIST_SIZE, parse_nmnist, to_spike_train};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = parse_nmnist(data, NMNIST_SIZE, NMNIST_SIZE) else {
        return;
    };
    for e in &events {
        assert!((e.x as usize) < NMNIST_SIZE && (e.y as usize) < NMNIST_SIZE);
    }
    for binning in [
        Binning::TimeBins { bins: 10 },
        Binning::EventCount {
            count: 100,
            include_incomplete: true,
        },
        Binning::TimeWindow {
            us: 1000,
            include_incomplete: true,
        },
    ] {
        let _ = to_spike_train(&events, NMNIST_SIZE, NMNIST_SIZE, binning);
    }
});
