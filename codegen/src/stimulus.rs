//! Stimulus and expected outputs for the generated testbench, from the Rust golden model
//! (`kernels::network::IntNetwork`): what goes in on `s_axis`, and what must come out.

use kernels::network::{IntNetwork, IntRun};
use kernels::spikes::SpikeTrain;

use crate::plan::{Plan, hex_of_bits};
use crate::{Error, Result};

/// One input sample.
#[derive(Clone, Debug, PartialEq)]
pub enum Sample {
    /// 8-bit pixels, encoded on chip (`--encoder lfsr`).
    Pixels(Vec<u8>),
    /// Pre-encoded spikes, `T x inputs` (`--encoder spikes`).
    Spikes(SpikeTrain),
}

/// The golden model's view of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Golden {
    /// Spikes entering the first layer.
    pub input: SpikeTrain,
    /// The run, with per-layer traces.
    pub run: IntRun,
}

/// Encodes a sample exactly as the chip's input stage does.
pub fn encode(plan: &Plan, sample: &Sample) -> Result<SpikeTrain> {
    let h = &plan.header;
    match (sample, &plan.encoder) {
        (Sample::Pixels(px), Some(e)) => {
            if px.len() != h.inputs {
                return Err(Error::Input(format!(
                    "sample has {} pixels, the model expects {}",
                    px.len(),
                    h.inputs
                )));
            }
            kernels::encode::lfsr_encode(px, h.timesteps, e.seed, e.lanes as u32)
                .map_err(|e| Error::Input(format!("lfsr encoder: {e}")))
        }
        (Sample::Spikes(t), None) => {
            if t.neurons() != h.inputs || t.steps() != h.timesteps {
                return Err(Error::Input(format!(
                    "spike sample is {}x{}, the design expects {}x{}",
                    t.steps(),
                    t.neurons(),
                    h.timesteps,
                    h.inputs
                )));
            }
            Ok(t.clone())
        }
        (Sample::Pixels(_), None) => Err(Error::Input(
            "pixel samples need --encoder lfsr; this design takes spikes".into(),
        )),
        (Sample::Spikes(_), Some(_)) => Err(Error::Input(
            "spike samples need --encoder spikes; this design encodes pixels".into(),
        )),
    }
}

/// Runs the golden model on every sample, recording traces.
pub fn golden(plan: &Plan, samples: &[Sample]) -> Result<Vec<Golden>> {
    let net = IntNetwork::new(&plan.model).map_err(|e| Error::Input(format!("model: {e}")))?;
    samples
        .iter()
        .map(|s| {
            let input = encode(plan, s)?;
            let run = net
                .run(&input, true)
                .map_err(|e| Error::Internal(format!("golden model: {e}")))?;
            Ok(Golden { input, run })
        })
        .collect()
}

/// The testbench's stimulus file: sample count, then the input beats.
pub fn stimulus_text(plan: &Plan, samples: &[Sample]) -> Result<String> {
    let h = &plan.header;
    let mut s = format!("{:x}\n", samples.len());
    let mut bits = Vec::new();
    for sample in samples {
        match (sample, &plan.encoder, &plan.spike_in) {
            (Sample::Pixels(px), Some(e), _) => {
                for g in 0..e.groups {
                    bits.clear();
                    for l in 0..e.lanes {
                        let v = px.get(g * e.lanes + l).copied().unwrap_or(0);
                        bits.extend((0..8).map(|b| v >> b & 1 == 1));
                    }
                    s.push_str(&hex_of_bits(&bits));
                    s.push('\n');
                }
            }
            (Sample::Spikes(t), None, Some(si)) => {
                for step in 0..h.timesteps {
                    for b in 0..si.beats {
                        bits.clear();
                        bits.extend(
                            (0..si.sw)
                                .map(|i| b * si.sw + i < h.inputs && t.get(step, b * si.sw + i)),
                        );
                        s.push_str(&hex_of_bits(&bits));
                        s.push('\n');
                    }
                }
            }
            _ => {
                return Err(Error::Input(
                    "sample kind does not match the encoder".into(),
                ));
            }
        }
    }
    Ok(s)
}

/// The testbench's expected file: per sample the output spike counts, then the class.
pub fn expected_text(goldens: &[Golden]) -> String {
    let mut s = String::new();
    for g in goldens {
        for c in &g.run.counts {
            s.push_str(&format!("{c:x}\n"));
        }
        s.push_str(&format!("{:x}\n", g.run.class));
    }
    s
}

/// `n` seeded pseudo-random samples for `plan` (used when no data set is given): pixels or
/// spikes with a spread of densities. splitmix64, so the files are reproducible.
pub fn random_samples(plan: &Plan, n: usize, seed: u64) -> Vec<Sample> {
    let mut st = seed;
    let mut next = move || {
        st = st.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = st;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let h = &plan.header;
    (0..n)
        .map(|i| {
            let density = [8u64, 40, 100, 200][i % 4];
            if plan.encoder.is_some() {
                Sample::Pixels(
                    (0..h.inputs)
                        .map(|_| {
                            if next() % 256 < density {
                                (next() % 256) as u8
                            } else {
                                0
                            }
                        })
                        .collect(),
                )
            } else {
                let mut t = SpikeTrain::zeros(h.timesteps, h.inputs);
                for s in 0..h.timesteps {
                    for p in 0..h.inputs {
                        if next() % 256 < density {
                            t.set(s, p, true);
                        }
                    }
                }
                Sample::Spikes(t)
            }
        })
        .collect()
}

/// Testbench samples from a data set's images (with their labels): pixels for an LFSR design;
/// for a spike-input design the images are LFSR-encoded (with the model's LFSR parameters, or
/// seed 1 and 16 lanes) so that the stimulus has realistic spike densities.
pub fn samples_from_images(plan: &Plan, images: &[&[u8]]) -> Result<Vec<Sample>> {
    let h = &plan.header;
    images
        .iter()
        .map(|px| {
            if px.len() != h.inputs {
                return Err(Error::Input(format!(
                    "data images have {} pixels, the model has {} inputs",
                    px.len(),
                    h.inputs
                )));
            }
            if plan.encoder.is_some() {
                Ok(Sample::Pixels(px.to_vec()))
            } else {
                let (seed, lanes) = match plan.model.encoding {
                    kernels::model::Encoding::Lfsr { seed, lanes } => (seed, lanes),
                    _ => (1, 16),
                };
                kernels::encode::lfsr_encode(px, h.timesteps, seed, lanes)
                    .map(Sample::Spikes)
                    .map_err(|e| Error::Input(e.to_string()))
            }
        })
        .collect()
}
