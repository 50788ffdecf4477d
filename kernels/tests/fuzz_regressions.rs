//! Regression cases found by fuzzing and by the limit review (inputs kept in
//! `tests/fuzz-regressions/`), byte-deterministic model files, and the model size limits at
//! their boundary. See `docs/fuzzing.md` and `docs/limits.md`.

use std::path::PathBuf;

use kernels::events::{Binning, NMNIST_SIZE, read_nmnist, to_frames, to_spike_train};
use kernels::limits::{MAX_FRAME_VALUES, MAX_RUN_VALUES};
use kernels::model::{Encoding, Layer, LayerOp, Model, Shape};
use kernels::model_io::{AnyModel, load_any, load_any_bytes, model_bytes, save_any, save_model};
use kernels::neuron::{LifParams, Neuron};

fn regressions() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz-regressions")
}

/// Found by the `nmnist_events` target (runs of 50 inputs/s and 400 MB RSS): 2,000 overflow
/// markers make 10 kB of events span 16.4 s, and 1 ms windows then gave 16,385 count frames
/// of 2 x 34 x 34 `u32` each, 152 MB (up to 925 MB for a 64 MiB file). `to_frames` now
/// refuses above `MAX_FRAME_VALUES` before allocating, and `to_spike_train` sets bits
/// directly (4.7 MB here).
#[test]
fn long_event_span_is_bounded() {
    let path = regressions().join("events_long_span.bin");
    let ev = read_nmnist(&path).unwrap();
    // Event 1: (1, 2) ON at t = 0; event 2: (3, 4) OFF at 2000 * 8192 + 500 us.
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].t, 2000 * 8192 + 500);
    let binning = Binning::TimeWindow {
        us: 1000,
        include_incomplete: true,
    };
    // ceil((16,384,500 - 1000) / 1000) + 1 = 16,385 windows.
    let frames = 16_385usize;
    assert!(frames * 2 * 34 * 34 > MAX_FRAME_VALUES);
    let e = to_frames(&ev, NMNIST_SIZE, NMNIST_SIZE, binning).unwrap_err();
    assert!(e.to_string().contains("exceed the limit"), "{e}");
    let train = to_spike_train(&ev, NMNIST_SIZE, NMNIST_SIZE, binning).unwrap();
    assert_eq!(train.steps(), frames);
    assert_eq!(train.count(), 2);
    // Neuron = polarity * 34 * 34 + y * 34 + x.
    assert!(train.get(0, 34 * 34 + 2 * 34 + 1));
    // 16,384,500 us falls in window 16,384 = [16,384,000, 16,385,000).
    assert!(train.get(16_384, 4 * 34 + 3));
}

/// Layers without weights need no tensor: a few hundred bytes declared five 2048 x 2048 spike
/// maps (21 M neurons of state per step). Refused from the topology by `MAX_MODEL_NEURONS`.
#[test]
fn tiny_file_with_huge_state_is_refused() {
    let path = regressions().join("model_tiny_file_huge_state.safetensors");
    assert!(std::fs::metadata(&path).unwrap().len() < 2000);
    let e = load_any(&path).unwrap_err().to_string();
    assert!(e.contains("neurons") && e.contains("limit"), "{e}");
    assert!(e.contains("model_tiny_file_huge_state"), "{e}");
}

fn image() -> Shape {
    Shape {
        channels: 1,
        height: 28,
        width: 28,
    }
}

/// 28x28 input, flatten (784), dense 784 -> 10: 784 + 784 + 10 = 1,578 neurons per step.
fn model(timesteps: usize) -> Model {
    Model {
        name: "m".into(),
        input: image(),
        timesteps,
        encoding: Encoding::Rate { seed: 3 },
        layers: vec![
            Layer {
                name: "flatten".into(),
                op: LayerOp::Flatten { input: image() },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "fc".into(),
                op: LayerOp::Dense {
                    inputs: 784,
                    outputs: 10,
                },
                weights: (0..7840).map(|i| ((i % 13) as f32 - 6.0) / 64.0).collect(),
                bias: (0..10).map(|i| i as f32 / 8.0).collect(),
                neuron: Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0))),
            },
        ],
    }
}

#[test]
fn saved_files_are_byte_deterministic() {
    // The metadata used to go through a HashMap, whose order differs between instances even
    // in one process: 20 saves of 3 keys would almost surely have shown two orders.
    let dir = tempfile::tempdir().unwrap();
    let m = AnyModel::Float(model(25));
    let first = model_bytes(&m).unwrap();
    for i in 0..20 {
        let p = dir.path().join(format!("m{i}.safetensors"));
        save_any(&m, &p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), first, "save {i} differs");
    }
    // The header starts with the metadata, keys sorted (checked on the raw text).
    let n = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&first[8..8 + n]).unwrap();
    let f = header.find("\"format\":").unwrap();
    let v = header.find("\"format_version\":").unwrap();
    let t = header.find("\"topology\":").unwrap();
    assert!(
        header.starts_with("{\"__metadata__\":{") && f < v && v < t,
        "{header}"
    );
    assert_eq!(n % 8, 0);
    // And it loads back to the same model; so does the bundled integer model.
    assert_eq!(load_any_bytes(&first, "m").unwrap(), m);
    let bundled =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/mnist_mlp_int8.safetensors");
    let im = load_any(&bundled).unwrap();
    let b = model_bytes(&im).unwrap();
    assert_eq!(model_bytes(&im).unwrap(), b);
    assert_eq!(load_any_bytes(&b, "again").unwrap(), im);
}

#[test]
fn run_size_limit_at_the_boundary() {
    // floor(2^26 / 1578) = 42,527 timesteps fit; 42,528 do not.
    assert_eq!(MAX_RUN_VALUES, 67_108_864);
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.safetensors");
    save_model(&model(42_527), &ok).unwrap();
    assert_eq!(load_any(&ok).unwrap(), AnyModel::Float(model(42_527)));
    let e = save_model(&model(42_528), dir.path().join("no.safetensors")).unwrap_err();
    assert!(e.to_string().contains("at most 42527 timesteps"), "{e}");
    assert!(!dir.path().join("no.safetensors").exists());
    // A file declaring one step more (same length, so the header stays valid; the topology is
    // a JSON string inside the header JSON, hence the escaped quote) is refused on
    // load, before any tensor is converted.
    let bytes = std::fs::read(&ok).unwrap();
    let text = patch_bytes(&bytes, br#"timesteps\":42527"#, br#"timesteps\":42528"#);
    let e = load_any_bytes(&text, "patched.safetensors")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("patched.safetensors") && e.contains("42528"),
        "{e}"
    );
}

/// Replaces the one occurrence of `from` by `to` (same length) in `bytes`.
fn patch_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut v = bytes.to_vec();
    v[at..at + to.len()].copy_from_slice(to);
    v
}
