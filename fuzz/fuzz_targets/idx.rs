//! IDX files, plain or gzip: any bytes must parse or give an error, never panic, hang or
//! allocate without bound. A parsed array holds exactly the values its header declares.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = kernels::data::read_idx_from(data, "fuzz.idx") {
        assert_eq!(a.dims.iter().product::<usize>(), a.data.len());
    }
});
