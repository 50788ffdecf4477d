//! NIR (HDF5) files: any bytes must import or give an error, never panic, hang or allocate
//! without bound. An imported model must be valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snn_nir::{ImportOptions, import_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok((model, _report)) = import_bytes(data, &ImportOptions::default()) {
        model.validate().expect("an imported model validates");
    }
});
