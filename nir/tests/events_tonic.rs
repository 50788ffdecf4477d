//! `kernels::events` against tonic 1.7.0 itself: the N-MNIST sample (with a timestamp-overflow
//! marker) and the frames in `fixtures/events/` were produced by tonic's `read_mnist_file` and
//! `to_frame_numpy` (`scripts/make-nir-fixtures`).

use std::path::Path;

use kernels::events::{Binning, NMNIST_SIZE, read_nmnist, to_frames, to_spike_train};

#[test]
fn reader_and_binning_match_tonic_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events");
    let events = read_nmnist(&dir.join("nmnist_sample.bin")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("nmnist_sample.tonic.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<[u64; 4]> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let v: Vec<u64> = e
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    let got: Vec<[u64; 4]> = events
        .iter()
        .map(|e| [e.x as u64, e.y as u64, e.polarity as u64, e.t])
        .collect();
    assert_eq!(got, want);
    assert!(
        got.last().unwrap()[3] >= 8192,
        "the overflow marker must shift later events"
    );
    let plane = NMNIST_SIZE * NMNIST_SIZE;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let value = case["value"].as_u64().unwrap();
        let inc = case["include_incomplete"].as_bool().unwrap();
        let binning = match name {
            n if n.starts_with("time_window") => Binning::TimeWindow {
                us: value,
                include_incomplete: inc,
            },
            n if n.starts_with("event_count") => Binning::EventCount {
                count: value as usize,
                include_incomplete: inc,
            },
            _ => Binning::TimeBins {
                bins: value as usize,
            },
        };
        let frames = to_frames(&events, NMNIST_SIZE, NMNIST_SIZE, binning).unwrap();
        let n = case["frames"].as_u64().unwrap() as usize;
        let mut expect = vec![vec![0u32; 2 * plane]; n];
        for nz in case["nonzero"].as_array().unwrap() {
            let v: Vec<usize> = nz
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            // tonic frames are (T, P, H, W).
            expect[v[0]][v[1] * plane + v[2] * NMNIST_SIZE + v[3]] = v[4] as u32;
        }
        assert_eq!(frames, expect, "{name}");
        let train = to_spike_train(&events, NMNIST_SIZE, NMNIST_SIZE, binning).unwrap();
        let nonzero = case["nonzero"].as_array().unwrap().len();
        assert_eq!((train.steps(), train.count()), (n, nonzero), "{name}");
    }
}
