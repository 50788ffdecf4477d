//! Models the generated hardware cannot implement are refused before any calibration, with an
//! error naming the layer: a non-spiking readout (NIR LI/CubaLI/I) and per-neuron parameters.

use std::path::{Path, PathBuf};

use codegen::source::load;

fn nir_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nir/tests/fixtures")
        .join(name)
}

fn refused(file: &str) -> String {
    match load(&nir_fixture(file), Path::new("/nonexistent-data")) {
        Ok(_) => panic!("{file} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn readout_and_per_neuron_models_are_refused_naming_the_layer() {
    let e = refused("li_readout.nir");
    assert!(
        e.contains("\"fc2\"") && e.contains("non-spiking readout") && e.contains("li_readout"),
        "{e}"
    );
    let e = refused("integrator_per_neuron.nir");
    assert!(e.contains("\"fc1\"") && e.contains("per-neuron"), "{e}");
}
