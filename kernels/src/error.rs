//! The crate's error type: every failure names what was wrong.

use std::fmt;

/// What went wrong, with a message that names the offending field, tensor or argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Shapes or sizes that do not fit together.
    Shape(String),
    /// A parameter outside its allowed range (threshold <= 0, widths that could overflow, ...).
    Invalid(String),
    /// A malformed file or stream (model file, IDX file, event file).
    Format(String),
    /// An I/O failure, with the path involved.
    Io(String),
}

impl Error {
    /// A shape error.
    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
    /// An invalid-parameter error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    /// A malformed-input error.
    pub fn format(msg: impl Into<String>) -> Self {
        Error::Format(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::Invalid(m) => write!(f, "invalid parameter: {m}"),
            Error::Format(m) => write!(f, "malformed input: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
