//! Every size limit that `kernels` and the command-line tools enforce, in one place.
//!
//! Inputs come from files other tools wrote and from command lines; a few bytes can declare
//! gigabytes. Each limit below is checked *before* the allocation it protects, and the error
//! names the limit. `docs/limits.md` explains each one, which tool applies it and why the value
//! was chosen. Limits defined next to the code that uses them are re-exported here so that this
//! module is the single list.

use crate::error::{Error, Result};
use crate::model::{LayerOp, Shape};

pub use crate::data::{MAX_IDX_DIMS, MAX_IDX_VALUES};
pub use crate::encode::lfsr::LFSR_TABLE_MAX_BYTES;
pub use crate::events::MAX_EVENT_FILE_BYTES;
pub use crate::model::{MAX_LAYER_ELEMENTS, MAX_LAYERS, MAX_TIMESTEPS};
pub use crate::model_io::MAX_MODEL_FILE_BYTES;

/// Largest total number of parameters (weights plus biases, all layers) of a model: 2^28, i.e.
/// 1 GiB of `f32`, the same as [`MAX_MODEL_FILE_BYTES`]. Checked on the topology before any
/// tensor is converted.
pub const MAX_MODEL_PARAMETERS: usize = 1 << 28;

/// Largest total number of neurons of a model, counting the input and the output of every layer
/// (pooling and flatten layers too): 2^24. Layers without weights need no tensor, so without
/// this limit a file of a few hundred bytes could declare gigabytes of per-step state.
pub const MAX_MODEL_NEURONS: usize = 1 << 24;

/// Largest `timesteps x neurons` of one run: 2^26 values. A recorded run (`snn eval`, plots)
/// keeps every membrane potential of every step (4 bytes each, so at most 256 MiB per sample
/// and thread). The bundled 784-128-10 model (922 neurons) can run up to 72,786 steps.
pub const MAX_RUN_VALUES: usize = 1 << 26;

/// Largest number of event counts held by `events::to_frames` (all frames together): 2^25
/// (128 MiB of `u32`).
pub const MAX_FRAME_VALUES: usize = 1 << 25;

/// Largest number of samples (the batch) that `snn eval`, `snn bench`, `codegen --samples` and
/// `verify --samples` accept: the 2,000 digits of the test split.
pub const MAX_SAMPLES: usize = crate::data::TEST_SAMPLES;

/// Totals of a model's topology, computed with overflow checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSize {
    /// Weights plus biases of all layers.
    pub parameters: usize,
    /// Input neurons plus the outputs of every layer.
    pub neurons: usize,
}

/// Checks a model's totals against [`MAX_MODEL_PARAMETERS`], [`MAX_MODEL_NEURONS`] and
/// [`MAX_RUN_VALUES`] (with `timesteps`), from its input shape and layer operations alone, so
/// that it can run before any tensor is read. `biases[i]` tells whether layer `i` has a bias.
/// Layer geometry errors are left to the model's own validation (they are skipped here).
pub fn check_model_size(
    input: Shape,
    ops: &[(LayerOp, bool)],
    timesteps: usize,
) -> Result<ModelSize> {
    let too_big = |what: &str, limit: usize| {
        Error::invalid(format!(
            "the model's {what} are above the limit of {limit} (see docs/limits.md)"
        ))
    };
    let mut parameters = 0usize;
    // `Shape::len` saturates at usize::MAX, which fails the comparisons below.
    let mut neurons = input.len();
    for (op, bias) in ops {
        let b = if *bias { op.bias_count() } else { 0 };
        parameters = parameters
            .checked_add(op.weight_count())
            .and_then(|p| p.checked_add(b))
            .filter(|&p| p <= MAX_MODEL_PARAMETERS)
            .ok_or_else(|| too_big("parameters", MAX_MODEL_PARAMETERS))?;
        if let Ok(out) = op.output_shape() {
            neurons = out
                .len()
                .checked_add(neurons)
                .filter(|&n| n <= MAX_MODEL_NEURONS)
                .ok_or_else(|| {
                    too_big(
                        "neurons (input plus every layer's output)",
                        MAX_MODEL_NEURONS,
                    )
                })?;
        }
    }
    if neurons > MAX_MODEL_NEURONS {
        return Err(too_big(
            "neurons (input plus every layer's output)",
            MAX_MODEL_NEURONS,
        ));
    }
    check_run_size(timesteps, neurons)?;
    Ok(ModelSize {
        parameters,
        neurons,
    })
}

/// Checks `timesteps` against [`MAX_TIMESTEPS`] and `timesteps x neurons` against
/// [`MAX_RUN_VALUES`].
pub fn check_run_size(timesteps: usize, neurons: usize) -> Result<()> {
    if timesteps == 0 || timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is outside 1..={MAX_TIMESTEPS}"
        )));
    }
    match timesteps.checked_mul(neurons) {
        Some(v) if v <= MAX_RUN_VALUES => Ok(()),
        _ => Err(Error::invalid(format!(
            "timesteps {timesteps} x {neurons} neurons exceeds the limit of {MAX_RUN_VALUES} \
             values per run (at most {} timesteps for this model; see docs/limits.md)",
            MAX_RUN_VALUES / neurons.max(1)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(inputs: usize, outputs: usize) -> LayerOp {
        LayerOp::Dense { inputs, outputs }
    }

    #[test]
    fn mnist_mlp_totals_by_hand() {
        // 784*128 + 128 + 128*10 + 10 = 101,770 parameters; 784 + 128 + 10 = 922 neurons.
        let s = check_model_size(
            Shape::flat(784),
            &[(dense(784, 128), true), (dense(128, 10), true)],
            25,
        )
        .unwrap();
        assert_eq!(
            s,
            ModelSize {
                parameters: 101_770,
                neurons: 922
            }
        );
    }

    #[test]
    fn run_size_boundary() {
        // 922 neurons: floor(2^26 / 922) = 72,786 steps fit, one more does not.
        assert_eq!(MAX_RUN_VALUES / 922, 72_786);
        assert!(check_run_size(72_786, 922).is_ok());
        let e = check_run_size(72_787, 922).unwrap_err().to_string();
        assert!(e.contains("at most 72786 timesteps"), "{e}");
        assert!(check_run_size(0, 1).is_err());
        assert!(check_run_size(MAX_TIMESTEPS, 1).is_ok());
        assert!(check_run_size(MAX_TIMESTEPS + 1, 1).is_err());
        assert!(check_run_size(usize::MAX, usize::MAX).is_err());
    }

    #[test]
    fn parameter_and_neuron_boundaries() {
        // A 2^14 x 2^14 dense layer without bias has exactly 2^28 weights: accepted;
        // adding its 2^14 biases crosses the limit.
        let big = dense(1 << 14, 1 << 14);
        assert!(check_model_size(Shape::flat(1 << 14), &[(big, false)], 1).is_ok());
        let e = check_model_size(Shape::flat(1 << 14), &[(big, true)], 1).unwrap_err();
        assert!(e.to_string().contains("parameters"), "{e}");
        // Input 2^23 plus a flatten output of 2^23 is exactly 2^24 neurons; one more layer
        // of one neuron crosses it.
        let input = Shape {
            channels: 1,
            height: 1 << 13,
            width: 1 << 10,
        };
        let flat = LayerOp::Flatten { input };
        assert!(check_model_size(input, &[(flat, false)], 1).is_ok());
        let e =
            check_model_size(input, &[(flat, false), (dense(1 << 23, 1), false)], 1).unwrap_err();
        assert!(e.to_string().contains("neurons"), "{e}");
    }
}
