//! Model file format: round trips, a hand-written file matching the documented schema, and one
//! test per class of malformed file.
//!
//! Malformed files are built by `raw_file`, an independent safetensors writer written from the
//! format's specification (8-byte little-endian header length, JSON header, raw data), so the
//! tests do not depend on the writer under test.

use kernels::model::{Encoding, IntLayer, IntModel, Layer, LayerOp, Model, Shape};
use kernels::model_io::{
    AnyModel, load_any, load_int_model, load_model, save_int_model, save_model,
};
use kernels::neuron::{FiringRule, IntLifParams, Leak, LifParams, Neuron, ResetMode};
use serde_json::{Value, json};

struct RawTensor {
    name: String,
    dtype: &'static str,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn raw(name: &str, dtype: &'static str, shape: &[usize], data: Vec<u8>) -> RawTensor {
    RawTensor {
        name: name.into(),
        dtype,
        shape: shape.to_vec(),
        data,
    }
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn i16s(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn i32s(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes a safetensors file by hand: `meta` is the `__metadata__` map (or `None`).
fn raw_file(meta: Option<Value>, tensors: &[RawTensor]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(m) = meta {
        header.insert("__metadata__".into(), m);
    }
    let mut off = 0;
    for t in tensors {
        header.insert(
            t.name.clone(),
            json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [off, off + t.data.len()]}),
        );
        off += t.data.len();
    }
    let h = serde_json::to_vec(&Value::Object(header)).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    for t in tensors {
        out.extend(&t.data);
    }
    out
}

fn meta(topology: &Value) -> Value {
    json!({"format": "snn-model", "format_version": "1", "topology": topology.to_string()})
}

const W1: [f32; 12] = [
    0.5, -0.25, 1.0, 0.0, 0.125, 2.0, -1.5, 0.75, 0.0, 0.0, 1.0, -1.0,
];
const B1: [f32; 3] = [0.1, -0.2, 0.3];
const W2: [f32; 6] = [1.0, 2.0, 3.0, -1.0, -2.0, -3.0];

fn float_topology() -> Value {
    json!({
        "kind": "float", "name": "tiny",
        "input": {"channels": 1, "height": 2, "width": 2},
        "timesteps": 3,
        "encoding": {"kind": "rate", "seed": 7},
        "layers": [
            {"name": "flat", "op": {"type": "flatten", "input": {"channels": 1, "height": 2, "width": 2}},
             "bias": false, "neuron": null},
            {"name": "fc1", "op": {"type": "dense", "inputs": 4, "outputs": 3}, "bias": true,
             "neuron": {"kind": "lif", "beta": 0.9, "threshold": 1.0, "reset": "subtract", "rule": "snntorch"}},
            {"name": "fc2", "op": {"type": "dense", "inputs": 3, "outputs": 2}, "bias": false,
             "neuron": {"kind": "lif", "beta": 1.0, "threshold": 0.5, "reset": "zero", "rule": "spikingjelly"}}
        ]
    })
}

fn float_tensors() -> Vec<RawTensor> {
    vec![
        raw("fc1.weight", "F32", &[3, 4], f32s(&W1)),
        raw("fc1.bias", "F32", &[3], f32s(&B1)),
        raw("fc2.weight", "F32", &[2, 3], f32s(&W2)),
    ]
}

/// The model `float_topology` + `float_tensors` describe, built by hand.
fn float_model() -> Model {
    let flat_in = Shape {
        channels: 1,
        height: 2,
        width: 2,
    };
    Model {
        name: "tiny".into(),
        input: flat_in,
        timesteps: 3,
        encoding: Encoding::Rate { seed: 7 },
        layers: vec![
            Layer {
                name: "flat".into(),
                op: LayerOp::Flatten { input: flat_in },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "fc1".into(),
                op: LayerOp::Dense {
                    inputs: 4,
                    outputs: 3,
                },
                weights: W1.to_vec(),
                bias: B1.to_vec(),
                neuron: Some(Neuron::Lif(LifParams::snntorch(0.9, 1.0))),
            },
            Layer {
                name: "fc2".into(),
                op: LayerOp::Dense {
                    inputs: 3,
                    outputs: 2,
                },
                weights: W2.to_vec(),
                bias: vec![],
                neuron: Some(Neuron::Lif(LifParams {
                    beta: 1.0,
                    threshold: 0.5,
                    reset: ResetMode::Zero,
                    rule: FiringRule::Spikingjelly,
                })),
            },
        ],
    }
}

const IW1: [i16; 12] = [7, -8, 0, 1, 2, 3, -1, -2, 5, 6, -7, 4];
const IB1: [i32; 3] = [1, -2, 3];
const IW2: [i16; 6] = [1, 2, 3, -3, -2, -1];

fn int_topology() -> Value {
    json!({
        "kind": "int", "name": "tiny_q",
        "input": {"channels": 4, "height": 1, "width": 1},
        "timesteps": 5,
        "encoding": {"kind": "lfsr", "seed": 3, "lanes": 4},
        "layers": [
            {"name": "fc1", "op": {"type": "dense", "inputs": 4, "outputs": 3}, "bias": true,
             "weight_bits": 4, "scale": 0.25,
             "neuron": {"leak": {"kind": "shift", "k": 3}, "threshold": 5, "reset": "subtract",
                        "rule": "snntorch", "membrane_bits": 12, "syn_leak": null}},
            {"name": "fc2", "op": {"type": "dense", "inputs": 3, "outputs": 2}, "bias": false,
             "weight_bits": 4, "scale": 0.5,
             "neuron": {"leak": {"kind": "multiply", "beta_q": 230, "frac_bits": 8}, "threshold": 3,
                        "reset": "zero", "rule": "snntorch", "membrane_bits": 10,
                        "syn_leak": {"kind": "none"}}}
        ]
    })
}

fn int_tensors() -> Vec<RawTensor> {
    vec![
        raw("fc1.weight", "I16", &[3, 4], i16s(&IW1)),
        raw("fc1.bias", "I32", &[3], i32s(&IB1)),
        // I8 is accepted for weights.
        raw(
            "fc2.weight",
            "I8",
            &[2, 3],
            IW2.iter().map(|&w| w as i8 as u8).collect(),
        ),
    ]
}

fn int_model() -> IntModel {
    IntModel {
        name: "tiny_q".into(),
        input: Shape::flat(4),
        timesteps: 5,
        encoding: Encoding::Lfsr { seed: 3, lanes: 4 },
        layers: vec![
            IntLayer {
                name: "fc1".into(),
                op: LayerOp::Dense {
                    inputs: 4,
                    outputs: 3,
                },
                weight_bits: 4,
                weights: IW1.to_vec(),
                bias: IB1.to_vec(),
                scale: 0.25,
                neuron: Some(IntLifParams {
                    leak: Leak::Shift { k: 3 },
                    threshold: 5,
                    reset: ResetMode::Subtract,
                    rule: FiringRule::Snntorch,
                    membrane_bits: 12,
                    syn_leak: None,
                }),
            },
            IntLayer {
                name: "fc2".into(),
                op: LayerOp::Dense {
                    inputs: 3,
                    outputs: 2,
                },
                weight_bits: 4,
                weights: IW2.to_vec(),
                bias: vec![],
                scale: 0.5,
                neuron: Some(IntLifParams {
                    leak: Leak::Multiply {
                        beta_q: 230,
                        frac_bits: 8,
                    },
                    threshold: 3,
                    reset: ResetMode::Zero,
                    rule: FiringRule::Snntorch,
                    membrane_bits: 10,
                    syn_leak: Some(Leak::None),
                }),
            },
        ],
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Loads a hand-made file and returns the error message (the file must be refused).
fn refused(topology: &Value, tensors: &[RawTensor]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "bad.safetensors",
        &raw_file(Some(meta(topology)), tensors),
    );
    let e = load_any(&p)
        .expect_err("malformed file was accepted")
        .to_string();
    assert!(
        e.contains("bad.safetensors"),
        "error does not name the file: {e}"
    );
    e
}

#[test]
fn hand_written_files_match_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "f.safetensors",
        &raw_file(Some(meta(&float_topology())), &float_tensors()),
    );
    assert_eq!(load_model(&p).unwrap(), float_model());
    let p = write(
        &dir,
        "i.safetensors",
        &raw_file(Some(meta(&int_topology())), &int_tensors()),
    );
    assert_eq!(load_int_model(&p).unwrap(), int_model());
}

#[test]
fn float_and_int_models_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.safetensors");
    save_model(&float_model(), &f).unwrap();
    assert_eq!(load_any(&f).unwrap(), AnyModel::Float(float_model()));
    let i = dir.path().join("i.safetensors");
    save_int_model(&int_model(), &i).unwrap();
    assert_eq!(load_any(&i).unwrap(), AnyModel::Int(int_model()));
    // The wrong loader for the kind is refused.
    assert!(
        load_int_model(&f)
            .unwrap_err()
            .to_string()
            .contains("float model")
    );
    assert!(
        load_model(&i)
            .unwrap_err()
            .to_string()
            .contains("integer model")
    );
    // Overwriting goes through a temporary file: only the two model files remain.
    save_model(&float_model(), &f).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["f.safetensors", "i.safetensors"]);
}

#[test]
fn conv_and_synaptic_models_round_trip() {
    let input = Shape {
        channels: 1,
        height: 6,
        width: 6,
    };
    let conv = LayerOp::Conv2d {
        input,
        out_channels: 2,
        kernel: [3, 3],
        stride: 1,
        padding: 1,
    };
    let pooled = Shape {
        channels: 2,
        height: 6,
        width: 6,
    };
    let after_pool = Shape {
        channels: 2,
        height: 3,
        width: 3,
    };
    let m = Model {
        name: "convnet".into(),
        input,
        timesteps: 4,
        encoding: Encoding::Direct,
        layers: vec![
            Layer {
                name: "conv1".into(),
                op: conv,
                weights: (0..18).map(|i| i as f32 * 0.1 - 0.9).collect(),
                bias: vec![0.5, -0.5],
                neuron: Some(Neuron::Synaptic {
                    alpha: 0.8,
                    lif: LifParams::snntorch(0.95, 1.0),
                }),
            },
            Layer {
                name: "pool1".into(),
                op: LayerOp::AvgPool2d {
                    input: pooled,
                    kernel: 2,
                },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "flat".into(),
                op: LayerOp::Flatten { input: after_pool },
                weights: vec![],
                bias: vec![],
                neuron: None,
            },
            Layer {
                name: "out".into(),
                op: LayerOp::Dense {
                    inputs: 18,
                    outputs: 2,
                },
                weights: (0..36).map(|i| (i % 7) as f32 - 3.0).collect(),
                bias: vec![],
                neuron: Some(Neuron::Lif(LifParams::snntorch(0.5, 2.0))),
            },
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.safetensors");
    save_model(&m, &p).unwrap();
    assert_eq!(load_model(&p).unwrap(), m);
}

#[test]
fn invalid_models_are_not_written_and_do_not_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.safetensors");
    let mut bad = float_model();
    bad.layers[1].weights[0] = f32::NAN;
    assert!(save_model(&bad, &p).is_err());
    assert!(!p.exists());
    save_model(&float_model(), &p).unwrap();
    let before = std::fs::read(&p).unwrap();
    let mut bad = int_model();
    bad.layers[0].weights[0] = 8; // outside 4 bits
    assert!(save_int_model(&bad, &p).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn not_a_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_any(dir.path().join("missing.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing.safetensors") && e.contains("cannot open"),
        "{e}"
    );
    let p = write(
        &dir,
        "garbage.bin",
        b"hello, this is not a model file at all",
    );
    let e = load_any(&p).unwrap_err().to_string();
    assert!(
        e.contains("garbage.bin") && e.contains("not a safetensors file"),
        "{e}"
    );
    let p = write(&dir, "tiny.bin", b"abc");
    assert!(
        load_any(&p)
            .unwrap_err()
            .to_string()
            .contains("not a safetensors file")
    );
    // A header length of 2^64 - 1.
    let p = write(&dir, "huge.bin", &[0xff; 16]);
    assert!(load_any(&p).unwrap_err().to_string().contains("absurd"));
    // Truncated: the last 5 bytes of a valid file cut off.
    let good = raw_file(Some(meta(&float_topology())), &float_tensors());
    let p = write(&dir, "cut.safetensors", &good[..good.len() - 5]);
    let e = load_any(&p).unwrap_err().to_string();
    assert!(
        e.contains("cut.safetensors") && e.contains("truncated"),
        "{e}"
    );
    // Cut inside the header.
    let p = write(&dir, "cut2.safetensors", &good[..40]);
    assert!(load_any(&p).unwrap_err().to_string().contains("truncated"));
    // A plain safetensors file without our metadata.
    let p = write(&dir, "plain.safetensors", &raw_file(None, &float_tensors()));
    assert!(
        load_any(&p)
            .unwrap_err()
            .to_string()
            .contains("__metadata__")
    );
}

#[test]
fn metadata_errors() {
    let dir = tempfile::tempdir().unwrap();
    let t = float_tensors();
    let cases = [
        (
            json!({"format": "snn-model", "format_version": "2", "topology": float_topology().to_string()}),
            "format_version",
        ),
        (
            json!({"format": "other", "format_version": "1", "topology": float_topology().to_string()}),
            "\"format\"",
        ),
        (
            json!({"format": "snn-model", "format_version": "1"}),
            "\"topology\" is missing",
        ),
        (
            json!({"format": "snn-model", "format_version": "1", "topology": "{not json"}),
            "\"topology\"",
        ),
    ];
    for (m, want) in cases {
        let p = write(&dir, "m.safetensors", &raw_file(Some(m), &t));
        let e = load_any(&p).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("m.safetensors"), "{e}");
    }
}

#[test]
fn missing_and_extra_tensors() {
    let mut t = float_tensors();
    t.remove(1);
    let e = refused(&float_topology(), &t);
    assert!(e.contains("tensor fc1.bias is missing"), "{e}");
    let mut t = float_tensors();
    t.push(raw("fc3.weight", "F32", &[1], f32s(&[1.0])));
    let e = refused(&float_topology(), &t);
    assert!(e.contains("unexpected tensor fc3.weight"), "{e}");
}

#[test]
fn wrong_dtype_and_shape() {
    let mut t = float_tensors();
    t[0] = raw("fc1.weight", "F64", &[3, 4], vec![0; 96]);
    let e = refused(&float_topology(), &t);
    assert!(
        e.contains("tensor fc1.weight has dtype F64, expected F32"),
        "{e}"
    );
    let mut t = float_tensors();
    t[0] = raw("fc1.weight", "F32", &[4, 3], f32s(&W1));
    let e = refused(&float_topology(), &t);
    assert!(
        e.contains("tensor fc1.weight has shape [4, 3], expected [3, 4]"),
        "{e}"
    );
    let mut t = int_tensors();
    t[1] = raw("fc1.bias", "I16", &[3], i16s(&[1, 2, 3]));
    let e = refused(&int_topology(), &t);
    assert!(
        e.contains("tensor fc1.bias has dtype I16, expected I32"),
        "{e}"
    );
}

#[test]
fn nan_and_infinity_are_refused() {
    for (bad, word) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let mut w = W1;
        w[5] = bad;
        let mut t = float_tensors();
        t[0] = raw("fc1.weight", "F32", &[3, 4], f32s(&w));
        let e = refused(&float_topology(), &t);
        assert!(
            e.contains("tensor fc1.weight: value 5 is") && e.contains(word),
            "{e}"
        );
    }
}

#[test]
fn unknown_neuron_kind_and_fields() {
    let mut topo = float_topology();
    topo["layers"][1]["neuron"]["kind"] = json!("izhikevich");
    let e = refused(&topo, &float_tensors());
    assert!(
        e.contains("layers[1] (\"fc1\")") && e.contains("izhikevich"),
        "{e}"
    );
    let mut topo = float_topology();
    topo["layers"][2]["op"]["type"] = json!("lstm");
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("layers[2]") && e.contains("lstm"), "{e}");
    let mut topo = int_topology();
    topo["layers"][0]["neuron"]["leak"]["kind"] = json!("exp");
    let e = refused(&topo, &int_tensors());
    assert!(e.contains("layers[0]") && e.contains("exp"), "{e}");
    let mut topo = float_topology();
    topo["layers"][0]["bias"] = json!(true);
    let e = refused(&topo, &float_tensors());
    assert!(
        e.contains("\"flat\" has \"bias\": true but no weights"),
        "{e}"
    );
    let mut topo = float_topology();
    topo["layers"][1]["colour"] = json!("red");
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    // 2^40 x 2^20 weights: would need petabytes if anything were allocated from it.
    let mut topo = float_topology();
    topo["layers"][1]["op"] = json!({"type": "dense", "inputs": 1u64 << 40, "outputs": 1u64 << 20});
    let e = refused(&topo, &float_tensors());
    assert!(
        e.contains("exceeds the limit") || e.contains("above the limit"),
        "{e}"
    );
    let mut topo = float_topology();
    topo["timesteps"] = json!(1u64 << 50);
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("timesteps"), "{e}");
    let mut topo = float_topology();
    topo["input"] = json!({"channels": usize::MAX, "height": 3, "width": 3});
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("limit"), "{e}");
    // A tensor header declaring an overflowing shape.
    let mut t = float_tensors();
    t[0].shape = vec![usize::MAX, 3];
    let e = refused(&float_topology(), &t);
    assert!(e.contains("bad.safetensors"), "{e}");
}

#[test]
fn unsafe_identifiers_are_refused() {
    let mut topo = float_topology();
    topo["layers"][1]["name"] = json!("fc1;\nmodule evil");
    let t = float_tensors();
    let e = refused(&topo, &t);
    assert!(e.contains("not a safe identifier"), "{e}");
    let mut topo = float_topology();
    topo["name"] = json!("module");
    let e = refused(&topo, &t);
    assert!(e.contains("model name") && e.contains("keyword"), "{e}");
}

#[test]
fn weights_outside_their_width_are_refused() {
    let mut w = IW1;
    w[2] = 8; // 4-bit range is [-8, 7]
    let mut t = int_tensors();
    t[0] = raw("fc1.weight", "I16", &[3, 4], i16s(&w));
    let e = refused(&int_topology(), &t);
    assert!(
        e.contains("tensor fc1.weight: value 2 = 8 is outside the 4-bit range"),
        "{e}"
    );
    let mut topo = int_topology();
    topo["layers"][0]["weight_bits"] = json!(17);
    let e = refused(&topo, &int_tensors());
    assert!(e.contains("weight_bits 17"), "{e}");
}

#[test]
fn non_positive_thresholds_and_bad_parameters_are_refused() {
    let mut topo = float_topology();
    topo["layers"][1]["neuron"]["threshold"] = json!(0.0);
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("fc1") && e.contains("threshold 0"), "{e}");
    let mut topo = int_topology();
    topo["layers"][1]["neuron"]["threshold"] = json!(-3);
    let e = refused(&topo, &int_tensors());
    assert!(e.contains("fc2") && e.contains("threshold -3"), "{e}");
    let mut topo = int_topology();
    topo["layers"][0]["scale"] = json!(-1.0);
    let e = refused(&topo, &int_tensors());
    assert!(e.contains("scale -1"), "{e}");
    let mut topo = float_topology();
    topo["layers"][1]["neuron"]["beta"] = json!(1.5);
    let e = refused(&topo, &float_tensors());
    assert!(e.contains("beta 1.5"), "{e}");
    // Shapes that do not chain: fc2 expects 5 inputs, fc1 gives 3.
    let mut topo = float_topology();
    topo["layers"][2]["op"]["inputs"] = json!(5);
    let mut t = float_tensors();
    t[2] = raw("fc2.weight", "F32", &[2, 5], f32s(&[0.0; 10]));
    let e = refused(&topo, &t);
    assert!(e.contains("fc2"), "{e}");
}
