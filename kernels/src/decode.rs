//! Output decoders: spike counts to a class, firing rates, and spike trains back to images
//! (binary frames, accumulated intensity).

use crate::error::{Error, Result};
use crate::spikes::{SpikeTrain, for_each_set_bit};

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
