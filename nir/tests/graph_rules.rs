//! Mapping rules on graphs built in memory (no file): flatten handling, Scale folding, and the
//! geometry the runtime cannot express. Expected values are worked out by hand in comments.

use std::collections::BTreeMap;

use kernels::model::{LayerOp, Shape};
use snn_nir::graph::{Graph, Node, Param};
use snn_nir::{Error, ImportOptions, import_graph};

fn p(shape: &[usize], values: &[f64]) -> Param {
    Param {
        shape: shape.to_vec(),
        values: values.to_vec(),
        integer: false,
    }
}

fn node(kind: &str, params: &[(&str, Param)]) -> Node {
    Node {
        kind: kind.into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        graph: None,
    }
}

fn chain(nodes: Vec<(&str, Node)>) -> Graph {
    let names: Vec<String> = nodes.iter().map(|(n, _)| n.to_string()).collect();
    Graph {
        version: "test".into(),
        nodes: nodes
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
        edges: names
            .windows(2)
            .map(|w| (w[0].clone(), w[1].clone()))
            .collect(),
    }
}

fn input(shape: &[f64]) -> Node {
    node("Input", &[("shape", p(&[shape.len()], shape))])
}

fn output(n: f64) -> Node {
    node("Output", &[("shape", p(&[1], &[n]))])
}

/// IF neurons (beta 1, gain r = 1, threshold 1).
fn if_node(n: usize) -> Node {
    node(
        "IF",
        &[
            ("r", p(&[n], &vec![1.0; n])),
            ("v_threshold", p(&[n], &vec![1.0; n])),
        ],
    )
}

fn opts() -> ImportOptions {
    ImportOptions::default()
}

#[test]
fn flatten_of_an_image_input_then_dense() {
    // Input 1x2x2 -> Flatten -> Linear(2x4) -> IF.
    let g = chain(vec![
        ("input", input(&[1.0, 2.0, 2.0])),
        (
            "flat",
            node(
                "Flatten",
                &[("start_dim", p(&[], &[0.0])), ("end_dim", p(&[], &[-1.0]))],
            ),
        ),
        (
            "fc",
            node(
                "Linear",
                &[("weight", p(&[2, 4], &[1., 2., 3., 4., 5., 6., 7., 8.]))],
            ),
        ),
        ("lif", if_node(2)),
        ("output", output(2.0)),
    ]);
    let (m, _) = import_graph(&g, "m", &opts()).unwrap();
    assert_eq!(
        m.layers[0].op,
        LayerOp::Flatten {
            input: Shape {
                channels: 1,
                height: 2,
                width: 2
            }
        }
    );
    assert_eq!(m.layers[1].weights, vec![1., 2., 3., 4., 5., 6., 7., 8.]);
    // A flatten of an already flat input is dropped and noted.
    let g = chain(vec![
        ("input", input(&[4.0])),
        ("flat", node("Flatten", &[])),
        ("fc", node("Linear", &[("weight", p(&[2, 4], &[0.5; 8]))])),
        ("lif", if_node(2)),
        ("output", output(2.0)),
    ]);
    let (m, r) = import_graph(&g, "m", &opts()).unwrap();
    assert_eq!(m.layers.len(), 1);
    assert!(r.notes.iter().any(|n| n.contains("\"flat\"")));
}

#[test]
fn scale_before_and_after_a_weight_layer_is_folded() {
    // W = [[1, 2], [3, 4]], b = [1, -1]; input scale [2, 10]; output scale [0.5, 3]:
    // W' = diag(0.5, 3) W diag(2, 10) = [[1, 10], [18, 120]], b' = [0.5, -3].
    let g = chain(vec![
        ("input", input(&[2.0])),
        ("s1", node("Scale", &[("scale", p(&[2], &[2.0, 10.0]))])),
        (
            "fc",
            node(
                "Affine",
                &[
                    ("weight", p(&[2, 2], &[1., 2., 3., 4.])),
                    ("bias", p(&[2], &[1.0, -1.0])),
                ],
            ),
        ),
        ("s2", node("Scale", &[("scale", p(&[2], &[0.5, 3.0]))])),
        ("lif", if_node(2)),
        ("output", output(2.0)),
    ]);
    let (m, r) = import_graph(&g, "m", &opts()).unwrap();
    assert_eq!(m.layers[0].weights, vec![1., 10., 18., 120.]);
    assert_eq!(m.layers[0].bias, vec![0.5, -3.0]);
    assert_eq!(r.layers[0].nodes, vec!["s1", "fc", "s2", "lif"]);
}

#[test]
fn per_neuron_r_and_v_leak_fold_into_rows() {
    // LIF tau = 1e-3 (dt 1e-4: beta 0.9), r = [10, 20] -> gains r*dt/tau = [1, 2];
    // v_leak = [0, 5] -> drive dt/tau*v_leak = [0, 0.5]. W = [[1], [1]], no bias.
    let g = chain(vec![
        ("input", input(&[1.0])),
        ("fc", node("Linear", &[("weight", p(&[2, 1], &[1.0, 1.0]))])),
        (
            "lif",
            node(
                "LIF",
                &[
                    ("tau", p(&[2], &[1e-3, 1e-3])),
                    ("r", p(&[2], &[10.0, 20.0])),
                    ("v_leak", p(&[2], &[0.0, 5.0])),
                    ("v_threshold", p(&[2], &[1.0, 1.0])),
                ],
            ),
        ),
        ("output", output(2.0)),
    ]);
    let (m, _) = import_graph(&g, "m", &opts()).unwrap();
    let l = &m.layers[0];
    assert!((l.weights[0] - 1.0).abs() < 1e-6 && (l.weights[1] - 2.0).abs() < 1e-6);
    assert!(l.bias[0].abs() < 1e-9 && (l.bias[1] - 0.5).abs() < 1e-6);
    assert!((l.neuron.as_ref().unwrap().lif().unwrap().beta - 0.9).abs() < 1e-6);
}

fn conv_graph(stride: &[f64], padding: &[f64], dilation: &[f64]) -> Graph {
    chain(vec![
        ("input", input(&[1.0, 4.0, 4.0])),
        (
            "conv",
            node(
                "Conv2d",
                &[
                    ("weight", p(&[1, 1, 2, 2], &[1.0; 4])),
                    ("bias", p(&[1], &[0.0])),
                    ("stride", p(&[stride.len()], stride)),
                    ("padding", p(&[padding.len()], padding)),
                    ("dilation", p(&[dilation.len()], dilation)),
                ],
            ),
        ),
        ("if", if_node(1)),
        (
            "pool",
            node(
                "SumPool2d",
                &[
                    ("kernel_size", p(&[2], &[2.0, 2.0])),
                    ("stride", p(&[2], &[2.0, 2.0])),
                ],
            ),
        ),
        ("flat", node("Flatten", &[])),
        ("fc", node("Linear", &[("weight", p(&[1, 1], &[1.0]))])),
        ("if2", if_node(1)),
        ("output", output(1.0)),
    ])
}

#[test]
fn conv_geometry_the_runtime_cannot_express_is_refused() {
    // 4x4, 2x2 kernel, stride 2, no padding -> 1x2x2; sum pool 2 -> 1x1x1 (flat, so the
    // Flatten node is dropped). The pooling is folded into the Linear(1x1, w = 1) after it:
    // a Flatten of the unpooled 1x2x2 map, then a dense 4 -> 1 layer with weight 1 per input.
    let (m, _) = import_graph(&conv_graph(&[2.0, 2.0], &[0.0], &[1.0, 1.0]), "m", &opts()).unwrap();
    let ops: Vec<LayerOp> = m.layers.iter().map(|l| l.op).collect();
    let s122 = Shape {
        channels: 1,
        height: 2,
        width: 2,
    };
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[1], LayerOp::Flatten { input: s122 });
    assert_eq!(
        ops[2],
        LayerOp::Dense {
            inputs: 4,
            outputs: 1
        }
    );
    assert_eq!(m.layers[2].weights, vec![1.0; 4]);
    for (g, needle) in [
        (conv_graph(&[1.0, 2.0], &[0.0], &[1.0]), "stride"),
        (conv_graph(&[2.0], &[0.0, 1.0], &[1.0]), "padding"),
        (conv_graph(&[2.0], &[0.0], &[2.0, 2.0]), "dilation"),
    ] {
        match import_graph(&g, "m", &opts()) {
            Err(Error::Node { node, message }) => {
                assert_eq!(node, "conv");
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn overlapping_pooling_and_missing_nodes_are_refused() {
    let mut g = conv_graph(&[2.0], &[0.0], &[1.0]);
    g.nodes
        .get_mut("pool")
        .unwrap()
        .params
        .insert("stride".into(), p(&[2], &[1.0, 1.0]));
    assert!(
        matches!(import_graph(&g, "m", &opts()), Err(Error::Node { node, .. }) if node == "pool")
    );
    let mut g = conv_graph(&[2.0], &[0.0], &[1.0]);
    g.edges.push(("ghost".into(), "output".into()));
    assert!(
        matches!(import_graph(&g, "m", &opts()), Err(Error::Graph(m)) if m.contains("\"ghost\""))
    );
    let mut g = conv_graph(&[2.0], &[0.0], &[1.0]);
    g.nodes.insert("island".into(), if_node(1));
    assert!(matches!(import_graph(&g, "m", &opts()), Err(Error::Graph(m)) if m.contains("island")));
}

#[test]
fn overlong_shape_parameters_are_refused_without_echoing_them() {
    // A corrupt file once gave an Output shape of millions of entries, which ended up printed
    // whole in the error message.
    let g = chain(vec![
        ("input", input(&[1.0])),
        ("fc", node("Linear", &[("weight", p(&[1, 1], &[1.0]))])),
        ("lif", if_node(1)),
        ("output", node("Output", &[("shape", p(&[20], &[1.0; 20]))])),
    ]);
    match import_graph(&g, "m", &opts()) {
        Err(e @ Error::Node { .. }) => {
            let m = e.to_string();
            assert!(m.contains("20 values") && m.len() < 200, "{m}");
        }
        other => panic!("{other:?}"),
    }
}
