//! # snn-nir: NIR models in and out of `kernels`
//!
//! [NIR](https://neuroir.org) (the Neuromorphic Intermediate Representation) is how snnTorch,
//! Norse, Sinabs, Rockpool and others exchange trained spiking networks: an HDF5 file holding a
//! graph of nodes (`Affine`, `LIF`, `Conv2d`, ...) with *continuous-time* parameters. This crate
//! reads such files in pure Rust (the `hdf5-pure` crate, no C HDF5 library; gzip-compressed
//! datasets of nir >= 1.0.8 and the uncompressed datasets of older files), rebuilds the layer
//! order from the edges, and maps the parameters onto the discrete-time [`kernels::model::Model`]
//! exactly as the chosen framework discretises them ([`Semantics`]). [`export`] writes a float
//! `Model` back as a NIR file that Python's `nir.read` opens.
//!
//! ```no_run
//! let opts = snn_nir::ImportOptions::default(); // snnTorch semantics, T = 25, rate coding
//! let (model, report) = snn_nir::import("model.nir".as_ref(), &opts)?;
//! println!("{report}");
//! # Ok::<(), snn_nir::Error>(())
//! ```
//!
//! See `docs/nir.md` for the supported nodes, the formulas of each mapping and the limitations.

#![deny(missing_docs)]

mod export;
pub mod graph;
mod import;

use std::fmt;
use std::path::Path;

pub use export::{ExportOptions, export, export_bytes};
pub use import::{
    ImportOptions, InputEncoding, LayerMapping, MappingReport, Semantics, import, import_bytes,
    import_graph, parse_reset,
};

/// What went wrong while reading, mapping or writing a NIR file. Messages name the file, the
/// node and the parameter involved.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The file could not be read or written.
    Io(String),
    /// Not HDF5, truncated or corrupt, or not laid out as a NIR graph.
    Format(String),
    /// A graph the runtime cannot run (cycles, branches, missing nodes, nested graphs).
    Graph(String),
    /// A node with missing, mis-shaped or out-of-range parameters, or of a type that cannot be
    /// mapped.
    Node {
        /// The node's name in the graph.
        node: String,
        /// What is wrong with it.
        message: String,
    },
    /// Invalid import or export options.
    Options(String),
    /// The mapped model failed `kernels`' validation.
    Model(kernels::Error),
}

impl Error {
    pub(crate) fn node(node: &str, message: impl Into<String>) -> Self {
        Error::Node {
            node: node.to_string(),
            message: message.into(),
        }
    }

    /// Prefixes the message with the file it is about.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        let p = path.display();
        match self {
            Error::Io(m) => Error::Io(m),
            Error::Format(m) => Error::Format(format!("{p}: {m}")),
            Error::Graph(m) => Error::Graph(format!("{p}: {m}")),
            Error::Node { node, message } => Error::Node {
                node,
                message: format!("{message} (in {p})"),
            },
            Error::Options(m) => Error::Options(m),
            Error::Model(e) => Error::Model(match e {
                kernels::Error::Shape(m) => kernels::Error::Shape(format!("{p}: {m}")),
                kernels::Error::Invalid(m) => kernels::Error::Invalid(format!("{p}: {m}")),
                kernels::Error::Format(m) => kernels::Error::Format(format!("{p}: {m}")),
                kernels::Error::Io(m) => kernels::Error::Io(m),
            }),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Format(m) => write!(f, "malformed NIR file: {m}"),
            Error::Graph(m) => write!(f, "unsupported NIR graph: {m}"),
            Error::Node { node, message } => write!(f, "NIR node {node:?}: {message}"),
            Error::Options(m) => write!(f, "invalid option: {m}"),
            Error::Model(e) => write!(f, "imported model is invalid: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<kernels::Error> for Error {
    fn from(e: kernels::Error) -> Self {
        Error::Model(e)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
