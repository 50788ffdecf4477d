//! Model files (safetensors + JSON topology): any bytes must load or give an error, never
//! panic, hang or allocate without bound. A file that loads must be a valid model that the
//! runtime accepts, and must save back to bytes that load to the same model.
#![no_main]

use kernels::model_io::{AnyModel, load_any_bytes, model_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = load_any_bytes(data, "fuzz.safetensors") else {
        return;
    };
    match &m {
        AnyModel::Float(f) => {
            f.validate().expect("a loaded float model validates");
            let _ = kernels::network::Network::new(f);
        }
        AnyModel::Int(i) => {
            i.validate().expect("a loaded integer model validates");
            let _ = kernels::network::IntNetwork::new(i);
        }
    }
    let bytes = model_bytes(&m).expect("a loaded model saves");
    let again = load_any_bytes(&bytes, "again.safetensors").expect("a saved model loads");
    assert_eq!(m, again, "save/load round trip changed the model");
});
