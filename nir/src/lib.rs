//! NIR import and export (being written).
