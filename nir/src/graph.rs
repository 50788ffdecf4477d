//! The NIR graph as stored in HDF5, read with the pure-Rust `hdf5-pure` crate (no C library).
//!
//! Layout written by the Python `nir` package (all versions seen, 0.1 to 1.0.8):
//! `/version` (string), `/node/type = "NIRGraph"`, `/node/edges` (E x 2 strings) and
//! `/node/nodes/<name>/type` plus one dataset per parameter. Nested graphs repeat the `node`
//! layout inside a node. nir >= 1.0.8 gzip-compresses the numeric datasets; older files do not.
//! Groups come back in alphabetical order, so layer order is rebuilt from the edges elsewhere.

use std::collections::BTreeMap;
use std::path::Path;

use hdf5_pure::{DType, Dataset, Group};

use crate::Error;

/// Largest number of elements accepted in one parameter dataset (checked before reading).
pub const MAX_PARAM_ELEMENTS: u64 = kernels::model::MAX_LAYER_ELEMENTS as u64;
/// Largest number of nodes or edges accepted in one graph.
pub const MAX_NODES: usize = 4096;
/// Deepest nesting of graphs accepted.
const MAX_DEPTH: usize = 8;

/// A numeric parameter: its shape and its values (converted to `f64`, which holds every `f32`
/// exactly and every integer a NIR file uses for shapes and strides).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f64>,
    /// True when the file stored an integer type.
    pub integer: bool,
}

/// One node: its type name and its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The NIR type (`"Affine"`, `"LIF"`, ... or `"NIRGraph"`).
    pub kind: String,
    /// Numeric parameters by name.
    pub params: BTreeMap<String, Param>,
    /// The inner graph when `kind == "NIRGraph"`.
    pub graph: Option<Box<Graph>>,
}

/// A NIR graph: nodes by name and directed edges.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    /// Version string of the writer (`/version`), empty for nested graphs.
    pub version: String,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges `(source, target)` in file order.
    pub edges: Vec<(String, String)>,
}

/// Reads a NIR file. Every failure names the file and, where it applies, the node and dataset.
pub fn read_file(path: &Path) -> Result<Graph, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    read_bytes(&bytes).map_err(|e| e.in_file(path))
}

/// Reads a NIR graph from the bytes of an HDF5 file.
pub fn read_bytes(bytes: &[u8]) -> Result<Graph, Error> {
    if !hdf5_pure::is_hdf5_bytes(bytes) {
        return Err(Error::Format(
            "not an HDF5 file (no HDF5 signature); NIR files are HDF5".into(),
        ));
    }
    let data = bytes.to_vec();
    // The HDF5 parser is third-party code fed with untrusted bytes: a panic inside it (on a
    // truncated or corrupted file) becomes an error here instead of aborting the caller.
    let parsed = std::panic::catch_unwind(move || -> Result<Graph, Error> {
        let file = hdf5_pure::File::from_bytes(data)
            .map_err(|e| Error::Format(format!("corrupt or truncated HDF5 file: {e}")))?;
        let root = file.root();
        let version = match root.dataset("version") {
            Ok(ds) => read_string(&ds, "/version")?,
            Err(_) => String::new(),
        };
        let node = root.group("node").map_err(|_| {
            Error::Format("no /node group: this HDF5 file is not a NIR graph".into())
        })?;
        let mut g = read_graph(&node, "/node", 0)?;
        g.version = version;
        Ok(g)
    });
    match parsed {
        Ok(r) => r,
        Err(_) => Err(Error::Format(
            "corrupt or truncated HDF5 file (the HDF5 reader failed on it)".into(),
        )),
    }
}

fn h5err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Format(format!("{what}: {e}"))
}

fn read_graph(group: &Group, path: &str, depth: usize) -> Result<Graph, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::Format(format!(
            "{path}: graphs nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let kind = read_type(group, path)?;
    if kind != "NIRGraph" {
        return Err(Error::Format(format!(
            "{path}: type is {kind:?}, expected \"NIRGraph\""
        )));
    }
    let edges_ds = group
        .dataset("edges")
        .map_err(|_| Error::Format(format!("{path}: the graph has no edges dataset")))?;
    let shape = edges_ds
        .shape()
        .map_err(|e| h5err(&format!("{path}/edges"), e))?;
    // Checked: a corrupt dataspace can declare dimensions whose product overflows (found by
    // the `nir` fuzz target; it wrapped to 0 in release builds and read as "no edges").
    let Some(count) = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)) else {
        return Err(Error::Format(format!(
            "{path}/edges has shape {shape:?}, whose size overflows"
        )));
    };
    let flat = if count == 0 {
        Vec::new()
    } else {
        if shape.len() != 2 || shape[1] != 2 || shape[0] as usize > MAX_NODES * 4 {
            return Err(Error::Format(format!(
                "{path}/edges has shape {shape:?}, expected (E, 2) with E <= {}",
                MAX_NODES * 4
            )));
        }
        edges_ds
            .read_string()
            .map_err(|e| h5err(&format!("{path}/edges"), e))?
    };
    let edges = flat
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    let nodes_group = group
        .group("nodes")
        .map_err(|_| Error::Format(format!("{path}: the graph has no nodes group")))?;
    let names = nodes_group
        .groups()
        .map_err(|e| h5err(&format!("{path}/nodes"), e))?;
    if names.len() > MAX_NODES {
        return Err(Error::Format(format!(
            "{path}: {} nodes, above the limit of {MAX_NODES}",
            names.len()
        )));
    }
    let mut nodes = BTreeMap::new();
    for name in names {
        let npath = format!("{path}/nodes/{name}");
        let g = nodes_group.group(&name).map_err(|e| h5err(&npath, e))?;
        let kind = read_type(&g, &npath)?;
        let node = if kind == "NIRGraph" {
            Node {
                kind,
                params: BTreeMap::new(),
                graph: Some(Box::new(read_graph(&g, &npath, depth + 1)?)),
            }
        } else {
            let mut params = BTreeMap::new();
            for d in g.datasets().map_err(|e| h5err(&npath, e))? {
                if d == "type" {
                    continue;
                }
                let dpath = format!("{npath}/{d}");
                let ds = g.dataset(&d).map_err(|e| h5err(&dpath, e))?;
                if let Some(p) = read_param(&ds, &dpath)? {
                    params.insert(d, p);
                }
            }
            Node {
                kind,
                params,
                graph: None,
            }
        };
        nodes.insert(name, node);
    }
    Ok(Graph {
        version: String::new(),
        nodes,
        edges,
    })
}

fn read_type(group: &Group, path: &str) -> Result<String, Error> {
    let ds = group
        .dataset("type")
        .map_err(|_| Error::Format(format!("{path}: missing its \"type\" dataset")))?;
    read_string(&ds, &format!("{path}/type"))
}

fn read_string(ds: &Dataset, path: &str) -> Result<String, Error> {
    let v = ds.read_string().map_err(|e| h5err(path, e))?;
    match v.as_slice() {
        [s] => Ok(s.trim_end_matches('\0').to_string()),
        _ => Err(Error::Format(format!(
            "{path}: expected one string, found {}",
            v.len()
        ))),
    }
}

/// Reads a numeric dataset; string-valued parameters (none of the supported nodes use them,
/// but metadata does) are skipped.
fn read_param(ds: &Dataset, path: &str) -> Result<Option<Param>, Error> {
    let dtype = ds.dtype().map_err(|e| h5err(path, e))?;
    let integer = match dtype {
        DType::F32 | DType::F64 => false,
        DType::I8
        | DType::I16
        | DType::I32
        | DType::I64
        | DType::U8
        | DType::U16
        | DType::U32
        | DType::U64 => true,
        DType::String | DType::VariableLengthString => return Ok(None),
        other => {
            return Err(Error::Format(format!(
                "{path}: unsupported data type {other:?} (expected f32, f64 or integers)"
            )));
        }
    };
    let shape = ds.shape().map_err(|e| h5err(path, e))?;
    let n = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_PARAM_ELEMENTS)
        .ok_or_else(|| {
            Error::Format(format!(
                "{path}: shape {shape:?} exceeds the limit of {MAX_PARAM_ELEMENTS} elements"
            ))
        })?;
    let values = if integer {
        let v = ds.read_i64().map_err(|e| h5err(path, e))?;
        v.into_iter().map(|x| x as f64).collect::<Vec<_>>()
    } else {
        ds.read_f64().map_err(|e| h5err(path, e))?
    };
    if values.len() as u64 != n {
        return Err(Error::Format(format!(
            "{path}: shape {shape:?} but {} values",
            values.len()
        )));
    }
    Ok(Some(Param {
        shape: shape.iter().map(|&d| d as usize).collect(),
        values,
        integer,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `nir` fuzz target: an edges dataset whose declared dimensions multiply past
    /// `u64::MAX` (an overflow panic with debug assertions, a wrap to "no edges" without).
    #[test]
    fn edges_shape_overflow_is_a_format_error() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fuzz-regressions/nir_edges_shape_overflow.nir");
        let bytes = std::fs::read(&path).unwrap();
        match read_bytes(&bytes) {
            Err(Error::Format(m)) => assert!(m.contains("overflows"), "{m}"),
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    /// Found by the `nir` fuzz target: a neuron node whose parameter arrays are empty (a layer
    /// of zero neurons) reached `uniform`, which indexed `v[0]` and panicked.
    #[test]
    fn empty_neuron_parameters_are_an_error() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fuzz-regressions/nir_empty_parameter.nir");
        let bytes = std::fs::read(&path).unwrap();
        let e = crate::import_bytes(&bytes, &crate::ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("has no values"), "{e}");
    }
}
