//! Output decoders: spike counts to a class, firing rates, spike trains back to images
//! (binary frames, accumulated intensity), and the membrane-potential readout of non-spiking
//! (leaky-integrator) output layers ([`Readout`]).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spikes::{SpikeTrain, for_each_set_bit};

/// How a non-spiking readout layer (leaky integrator, [`crate::neuron::Neuron::Li`]) is decoded
/// into one score per output neuron; the class is the argmax of the scores, ties to the lowest
/// index ([`argmax_f32`]).
///
/// The frameworks differ: Norse's examples take the maximum over time of the readout voltage
/// (`torch.max(voltages, 0)` before `log_softmax`), snnTorch users who set `output=True` on a
/// non-resetting `Leaky` usually read the final membrane potential, and the sum (or mean) over
/// time is the third common choice. The default is [`Readout::Max`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// Maximum over all steps of the membrane potential (Norse's examples).
    #[default]
    Max,
    /// Membrane potential after the last step.
    Final,
    /// Mean over all steps of the membrane potential.
    Mean,
}

impl Readout {
    /// Parses `max`, `final` or `mean`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "max" => Ok(Readout::Max),
            "final" => Ok(Readout::Final),
            "mean" => Ok(Readout::Mean),
            _ => Err(Error::invalid(format!(
                "readout {s:?} is not one of max, final, mean"
            ))),
        }
    }

    /// The rule's name as written in model files.
    pub fn name(self) -> &'static str {
        match self {
            Readout::Max => "max",
            Readout::Final => "final",
            Readout::Mean => "mean",
        }
    }
}

/// Accumulates the readout scores of one run, step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadoutAccumulator {
    rule: Readout,
    acc: Vec<f32>,
    steps: usize,
}

impl ReadoutAccumulator {
    /// An accumulator for `n` readout neurons.
    pub fn new(rule: Readout, n: usize) -> Self {
        let init = match rule {
            Readout::Max => f32::NEG_INFINITY,
            Readout::Final | Readout::Mean => 0.0,
        };
        ReadoutAccumulator {
            rule,
            acc: vec![init; n],
            steps: 0,
        }
    }

    /// Adds the potentials `v` at the end of one step.
    pub fn add(&mut self, v: &[f32]) {
        assert_eq!(v.len(), self.acc.len(), "readout width");
        match self.rule {
            Readout::Max => {
                for (a, &x) in self.acc.iter_mut().zip(v) {
                    // NaN never wins (`max` keeps the other operand).
                    *a = a.max(x);
                }
            }
            Readout::Final => self.acc.copy_from_slice(v),
            Readout::Mean => {
                for (a, &x) in self.acc.iter_mut().zip(v) {
                    *a += x;
                }
            }
        }
        self.steps += 1;
    }

    /// The scores: max, final value, or sum / steps (all zeros when no step was added).
    pub fn scores(&self) -> Vec<f32> {
        if self.steps == 0 {
            return vec![0.0; self.acc.len()];
        }
        match self.rule {
            Readout::Mean => {
                let n = self.steps as f32;
                self.acc.iter().map(|a| a / n).collect()
            }
            _ => self.acc.clone(),
        }
    }
}

/// Index of the largest score, ties to the lowest index; NaN scores never win. `None` for an
/// empty slice.
pub fn argmax_f32(scores: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in scores.iter().enumerate() {
        match best {
            None => best = Some((i, x)),
            Some((_, b)) if x > b || (b.is_nan() && !x.is_nan()) => best = Some((i, x)),
            _ => {}
        }
    }
    best.map(|(i, _)| i)
}

/// Index of the largest count, ties to the lowest index (the contract's classification rule);
/// `None` for an empty slice.
pub fn argmax_counts(counts: &[u32]) -> Option<usize> {
    let mut best: Option<(usize, u32)> = None;
    for (i, &c) in counts.iter().enumerate() {
        // Strictly greater: an equal later count never replaces an earlier one.
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((i, c));
        }
    }
    best.map(|(i, _)| i)
}

/// Class of an output spike train: argmax of the spike counts over all steps, ties to the
/// lowest index; `None` when the train has no neurons.
pub fn classify(train: &SpikeTrain) -> Option<usize> {
    argmax_counts(&train.counts_per_neuron())
}

/// Firing rate of every neuron: spikes per step (`count / steps`); all zeros when the train
/// has no steps.
pub fn firing_rates(train: &SpikeTrain) -> Vec<f32> {
    let steps = train.steps();
    train
        .counts_per_neuron()
        .into_iter()
        .map(|c| {
            if steps == 0 {
                0.0
            } else {
                c as f32 / steps as f32
            }
        })
        .collect()
}

/// Binary frames: frame `f` is 1 where a neuron spiked at least once in steps
/// `f * window .. (f + 1) * window` (the last frame may be shorter). Returns
/// `ceil(steps / window)` frames of `neurons` bytes (0 or 1), row-major.
pub fn binary_frames(train: &SpikeTrain, window: usize) -> Result<Vec<Vec<u8>>> {
    if window == 0 {
        return Err(Error::invalid("frame window must be at least 1 step"));
    }
    let n = train.neurons();
    let mut frames = vec![vec![0u8; n]; train.steps().div_ceil(window)];
    for t in 0..train.steps() {
        let frame = &mut frames[t / window];
        for_each_set_bit(train.row(t), |i| frame[i] = 1);
    }
    Ok(frames)
}

/// Accumulated intensity image: spike counts over steps `start .. end`, scaled to `[0, 1]` by
/// the window length (`count / (end - start)`). Errors when the window is empty or past the
/// train's end.
pub fn intensity_image(train: &SpikeTrain, start: usize, end: usize) -> Result<Vec<f32>> {
    if start >= end || end > train.steps() {
        return Err(Error::shape(format!(
            "window {start}..{end} is empty or outside the {} steps of the train",
            train.steps()
        )));
    }
    let mut counts = vec![0u32; train.neurons()];
    for t in start..end {
        for_each_set_bit(train.row(t), |i| counts[i] += 1);
    }
    let len = (end - start) as f32;
    Ok(counts.into_iter().map(|c| c as f32 / len).collect())
}

/// Accumulated intensity over the whole train as bytes: `round(255 * count / steps)`, computed
/// in integers (`(510 * count + steps) / (2 * steps)`); all zeros for a train with no steps.
pub fn intensity_image_u8(train: &SpikeTrain) -> Vec<u8> {
    let steps = train.steps() as u64;
    train
        .counts_per_neuron()
        .into_iter()
        .map(|c| {
            if steps == 0 {
                0
            } else {
                ((510 * c as u64 + steps) / (2 * steps)) as u8
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train() -> SpikeTrain {
        // 4 steps x 3 neurons:
        // t0: 1 0 0
        // t1: 1 1 0
        // t2: 0 1 0
        // t3: 1 0 0
        SpikeTrain::from_bytes(4, 3, &[1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]).unwrap()
    }

    #[test]
    fn argmax_ties_and_empty() {
        assert_eq!(argmax_counts(&[]), None);
        assert_eq!(argmax_counts(&[0, 0, 0]), Some(0));
        assert_eq!(argmax_counts(&[1, 3, 3, 2]), Some(1));
        assert_eq!(argmax_counts(&[1, 2, 3, 4]), Some(3));
        assert_eq!(classify(&train()), Some(0));
        assert_eq!(classify(&SpikeTrain::zeros(3, 0)), None);
    }

    #[test]
    fn readout_rules_hand_computed() {
        // Two neurons over three steps: v = [1, -2], [3, 0.5], [2, 4].
        let steps = [[1.0f32, -2.0], [3.0, 0.5], [2.0, 4.0]];
        let run = |rule| {
            let mut a = ReadoutAccumulator::new(rule, 2);
            for v in &steps {
                a.add(v);
            }
            a.scores()
        };
        assert_eq!(run(Readout::Max), vec![3.0, 4.0]);
        assert_eq!(run(Readout::Final), vec![2.0, 4.0]);
        assert_eq!(run(Readout::Mean), vec![2.0, 2.5 / 3.0]);
        assert_eq!(
            ReadoutAccumulator::new(Readout::Max, 2).scores(),
            vec![0.0, 0.0]
        );
        assert_eq!(Readout::parse("FINAL").unwrap(), Readout::Final);
        assert!(Readout::parse("last").is_err());
    }

    #[test]
    fn argmax_f32_ties_nan_and_empty() {
        assert_eq!(argmax_f32(&[]), None);
        assert_eq!(argmax_f32(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax_f32(&[f32::NAN, -1.0, -2.0]), Some(1));
        assert_eq!(argmax_f32(&[-1.0, f32::NAN, 0.5]), Some(2));
        assert_eq!(argmax_f32(&[-5.0, -4.0]), Some(1));
    }

    #[test]
    fn rates_frames_intensity_hand_computed() {
        let t = train();
        assert_eq!(firing_rates(&t), vec![0.75, 0.5, 0.0]);
        assert_eq!(firing_rates(&SpikeTrain::zeros(0, 2)), vec![0.0, 0.0]);
        // Window 3: frame 0 = OR of t0..t2 = [1, 1, 0]; frame 1 = t3 = [1, 0, 0].
        assert_eq!(
            binary_frames(&t, 3).unwrap(),
            vec![vec![1, 1, 0], vec![1, 0, 0]]
        );
        assert_eq!(binary_frames(&t, 1).unwrap().len(), 4);
        assert!(binary_frames(&t, 0).is_err());
        // Steps 1..3: counts [1, 2, 0] over 2 steps.
        assert_eq!(intensity_image(&t, 1, 3).unwrap(), vec![0.5, 1.0, 0.0]);
        assert!(intensity_image(&t, 2, 2).is_err());
        assert!(intensity_image(&t, 0, 5).is_err());
        // 255 * 3/4 = 191.25 -> 191; 255 * 2/4 = 127.5 -> 128 (half up).
        assert_eq!(intensity_image_u8(&t), vec![191, 128, 0]);
    }
}
