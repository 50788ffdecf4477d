//! Latency (time-to-first-spike) coding and direct (analog) input.
//!
//! Latency coding: every pixel spikes at most once; brighter pixels spike earlier, linearly
//! (snnTorch's `spikegen.latency(..., linear=True, normalize=True)`): intensity 1 spikes at step
//! 0, the smallest non-zero intensity near step `T - 1`, and intensity 0 never.

use crate::error::{Error, Result};
use crate::model::MAX_TIMESTEPS;
use crate::spikes::SpikeTrain;

fn check_steps(timesteps: usize) -> Result<()> {
    if timesteps > MAX_TIMESTEPS {
        return Err(Error::invalid(format!(
            "timesteps {timesteps} is above the limit of {MAX_TIMESTEPS}"
        )));
    }
    Ok(())
}

/// Spike step of a byte pixel: `None` for 0, else `round((255 - p) * (T - 1) / 255)` with
/// halves rounded up, in integer arithmetic (`((255 - p) * (T - 1) + 127) / 255`).
#[inline]
pub fn latency_step_u8(p: u8, timesteps: usize) -> Option<usize> {
    if p == 0 || timesteps == 0 {
        return None;
    }
    Some(((255 - p as usize) * (timesteps - 1) + 127) / 255)
}

/// Spike step of a float intensity: `None` when `x <= threshold` (or NaN), else
/// `round((1 - min(x, 1)) * (T - 1))`.
#[inline]
pub fn latency_step_f32(x: f32, threshold: f32, timesteps: usize) -> Option<usize> {
    if x.is_nan() || x <= threshold || timesteps == 0 {
        return None;
    }
    let t = ((1.0 - x.min(1.0)) * (timesteps - 1) as f32).round() as usize;
    Some(t.min(timesteps - 1))
}

/// Latency coding of byte pixels (see [`latency_step_u8`]).
pub fn latency_u8(pixels: &[u8], timesteps: usize) -> Result<SpikeTrain> {
    check_steps(timesteps)?;
    let mut train = SpikeTrain::zeros(timesteps, pixels.len());
    for (i, &p) in pixels.iter().enumerate() {
        if let Some(t) = latency_step_u8(p, timesteps) {
            train.set(t, i, true);
        }
    }
    Ok(train)
}

/// Latency coding of float intensities; pixels at or below `threshold` never spike.
pub fn latency_f32(intensities: &[f32], threshold: f32, timesteps: usize) -> Result<SpikeTrain> {
    check_steps(timesteps)?;
    let mut train = SpikeTrain::zeros(timesteps, intensities.len());
    for (i, &x) in intensities.iter().enumerate() {
        if let Some(t) = latency_step_f32(x, threshold, timesteps) {
            train.set(t, i, true);
        }
    }
    Ok(train)
}

/// Direct encoding: byte pixels as analog intensities `p / 255`, fed as the first layer's
/// input current at every step (the one place where an input is multiplied by a weight).
pub fn direct_u8(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 / 255.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_hand_computed() {
        // T = 25: p = 255 -> step 0; p = 0 -> never; p = 128 -> (127 * 24 + 127) / 255 =
        // 3175 / 255 = 12 (12.45 rounds to 12); p = 1 -> (254 * 24 + 127) / 255 = 6223 / 255 = 24.
        assert_eq!(latency_step_u8(255, 25), Some(0));
        assert_eq!(latency_step_u8(0, 25), None);
        assert_eq!(latency_step_u8(128, 25), Some(12));
        assert_eq!(latency_step_u8(1, 25), Some(24));
        assert_eq!(latency_step_u8(7, 1), Some(0));
        let t = latency_u8(&[0, 255, 128], 25).unwrap();
        assert_eq!(t.counts_per_neuron(), vec![0, 1, 1]);
        assert!(t.get(0, 1) && t.get(12, 2));
        // Floats: x = 0.5, T = 11 -> (1 - 0.5) * 10 = 5.
        assert_eq!(latency_step_f32(0.5, 0.0, 11), Some(5));
        assert_eq!(latency_step_f32(2.0, 0.0, 11), Some(0));
        assert_eq!(latency_step_f32(0.01, 0.01, 11), None);
        assert_eq!(latency_step_f32(f32::NAN, 0.0, 11), None);
        assert!(latency_u8(&[1], MAX_TIMESTEPS + 1).is_err());
    }

    #[test]
    fn direct_values() {
        assert_eq!(direct_u8(&[0, 255, 51]), vec![0.0, 1.0, 0.2]);
    }
}
