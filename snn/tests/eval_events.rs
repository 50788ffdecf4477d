//! `snn eval --events DIR`: an N-MNIST-layout event dataset is binned into T frames and
//! classified. The model and events are built so that the expected class, input spikes and
//! synaptic operations follow by hand from the binning rule (tonic `ToFrame(n_time_bins)`).

use std::path::Path;
use std::process::Command;

use kernels::events::{Event, encode_nmnist};
use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};

const T: usize = 10;
const SIDE: usize = 34;
const PLANE: usize = SIDE * SIDE;

/// Output k adds 10 for every ON (polarity 1) event pixel in row k and nothing else.
fn row_detector() -> IntModel {
    let inputs = 2 * PLANE;
    let mut weights = vec![0i16; 10 * inputs];
    for k in 0..10 {
        for x in 0..SIDE {
            weights[k * inputs + PLANE + k * SIDE + x] = 10;
        }
    }
    IntModel {
        name: "rows".into(),
        input: Shape {
            channels: 2,
            height: SIDE,
            width: SIDE,
        },
        timesteps: T,
        encoding: Encoding::Rate { seed: 0 },
        layers: vec![IntLayer {
            name: "out".into(),
            op: LayerOp::Dense {
                inputs,
                outputs: 10,
            },
            weight_bits: 8,
            weights,
            bias: Vec::new(),
            scale: 1.0,
            neuron: Some(IntLifParams {
                leak: Leak::None,
                threshold: 20,
                reset: ResetMode::Subtract,
                rule: FiringRule::Snntorch,
                membrane_bits: 16,
                syn_leak: None,
            }),
        }],
    }
}

/// Sample of class `k`: in each of the T frames (1 ms each, fixed by two sentinel events at
/// 0 and 10 ms), ON events along row k and OFF events along row k+1, so swapping polarities
/// would give class k+1.
fn sample(k: u16) -> Vec<Event> {
    let mut ev = vec![Event {
        x: 0,
        y: 33,
        polarity: false,
        t: 0,
    }];
    for b in 0..T as u64 {
        for x in 0..SIDE as u16 {
            let t = b * 1000 + 500;
            ev.push(Event {
                x,
                y: k,
                polarity: true,
                t,
            });
            ev.push(Event {
                x,
                y: (k + 1) % 10,
                polarity: false,
                t,
            });
        }
    }
    // The last window ends at 10 ms exclusive: this event is dropped, as in tonic.
    ev.push(Event {
        x: 1,
        y: 33,
        polarity: true,
        t: 10_000,
    });
    ev
}

fn snn(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snn"));
    c.current_dir(root);
    c
}

#[test]
fn event_dataset_is_binned_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("Test");
    for k in 0..10u16 {
        std::fs::create_dir_all(data.join(k.to_string())).unwrap();
        for j in 0..2 {
            let bytes = encode_nmnist(&sample(k)).unwrap();
            std::fs::write(data.join(k.to_string()).join(format!("{j:05}.bin")), bytes).unwrap();
        }
    }
    let model = dir.path().join("rows.safetensors");
    kernels::model_io::save_int_model(&row_detector(), &model).unwrap();
    let out = snn(dir.path())
        .args(["eval", "--json", "--model"])
        .arg(&model)
        .arg("--events")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["samples"], 20);
    assert_eq!(j["correct"], 20);
    // Per frame 34 ON + 34 OFF spikes, plus the first sentinel in frame 0; each input spike adds
    // a row of 10 weights.
    let spikes = (T * 2 * SIDE + 1) as f64;
    assert_eq!(j["synaptic_ops"]["total"].as_f64().unwrap(), spikes * 10.0);
    let rate = j["spike_rates"]["input"].as_f64().unwrap();
    assert!(
        (rate - spikes / (T * 2 * PLANE) as f64).abs() < 1e-12,
        "{rate}"
    );

    // --samples takes files in label order; too many is an error naming the directory.
    let out = snn(dir.path())
        .args(["eval", "--json", "--samples", "3", "--model"])
        .arg(&model)
        .arg("--events")
        .arg(&data)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["samples"], 3);
    let out = snn(dir.path())
        .args(["eval", "--samples", "21", "--model"])
        .arg(&model)
        .arg("--events")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exceeds the 20 samples"));
}

#[test]
fn event_input_errors_exit_2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let empty = tempfile::tempdir().unwrap();
    // No <label>/<file>.bin in the directory.
    let out = snn(&root)
        .args(["eval", "--events"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no <label>/<sample>.bin"));
    // The bundled MNIST model takes 1x28x28 images, not 2x34x34 events.
    std::fs::create_dir_all(empty.path().join("3")).unwrap();
    std::fs::write(
        empty.path().join("3/a.bin"),
        encode_nmnist(&sample(3)).unwrap(),
    )
    .unwrap();
    let out = snn(&root)
        .args(["eval", "--events"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1x28x28") && err.contains("2x34x34"), "{err}");
    // A corrupt event file names the file.
    std::fs::write(empty.path().join("3/b.bin"), [1u8, 2, 3]).unwrap();
    let model = empty.path().join("rows.safetensors");
    kernels::model_io::save_int_model(&row_detector(), &model).unwrap();
    let out = snn(&root)
        .args(["eval", "--model"])
        .arg(&model)
        .arg("--events")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.bin"));
}
