//! Sum and average pooling of bit-packed spike maps, and flatten.
//!
//! Pooling windows are `kernel x kernel`, non-overlapping (stride = kernel), as
//! [`LayerOp::SumPool2d`] / [`LayerOp::AvgPool2d`]; rows and columns that do not fill a whole
//! window are dropped (PyTorch's floor rule). Maps are channel-major (`(c * H + y) * W + x`, see
//! [`crate::conv`]). Pooling is accumulate-only too: every active input spike adds 1 (sum) or
//! `1 / kernel^2` (average) to its window's output; results are *added* into the output buffer.
//!
//! Integer models: average pooling is sum pooling followed by a division by `kernel^2`; the
//! integer runtime should use [`sum_pool_i32`] and fold `1 / kernel^2` into the next layer's
//! weights or threshold, since the numeric contract has no integer division.

use crate::error::{Error, Result};
use crate::model::{LayerOp, Shape};
use crate::spikes::{for_each_set_bit, words_for};

/// Validated geometry of a non-overlapping pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Input shape.
    pub input: Shape,
    /// Window size (and stride).
    pub kernel: usize,
}

impl PoolGeometry {
    /// Validates: no zero-sized dimension, `1 <= kernel <= min(height, width)`.
    pub fn new(input: Shape, kernel: usize) -> Result<Self> {
        if input.channels == 0 || input.height == 0 || input.width == 0 {
            return Err(Error::shape(format!(
                "pool input {}x{}x{} has a zero-sized dimension",
                input.channels, input.height, input.width
            )));
        }
        if input
            .channels
            .checked_mul(input.height)
            .and_then(|n| n.checked_mul(input.width))
            .is_none_or(|n| n > crate::model::MAX_LAYER_ELEMENTS)
        {
            return Err(Error::shape("pool input is too large"));
        }
        if kernel == 0 || kernel > input.height || kernel > input.width {
            return Err(Error::shape(format!(
                "pool window {kernel} does not fit input {}x{}",
                input.height, input.width
            )));
        }
        Ok(PoolGeometry { input, kernel })
    }

    /// Geometry of a [`LayerOp::SumPool2d`] or [`LayerOp::AvgPool2d`].
    pub fn from_op(op: &LayerOp) -> Result<Self> {
        match *op {
            LayerOp::SumPool2d { input, kernel } | LayerOp::AvgPool2d { input, kernel } => {
                Self::new(input, kernel)
            }
            other => Err(Error::invalid(format!("{other:?} is not a pooling layer"))),
        }
    }

    /// Output shape `C x (H / k) x (W / k)`.
    pub fn output(&self) -> Shape {
        Shape {
            channels: self.input.channels,
            height: self.input.height / self.kernel,
            width: self.input.width / self.kernel,
        }
    }

    fn check_io<A>(&self, spikes: &[u64], out: &[A]) -> Result<()> {
        check_map(self.input, spikes, "pool")?;
        if out.len() != self.output().len() {
            return Err(Error::shape(format!(
                "pool output buffer has {} values, expected {}",
                out.len(),
                self.output().len()
            )));
        }
        Ok(())
    }

    /// Calls `f(output index)` once per active input spike inside a whole window.
    #[inline]
    fn for_each_hit(&self, spikes: &[u64], mut f: impl FnMut(usize)) {
        let (h, w, k) = (self.input.height, self.input.width, self.kernel);
        let out = self.output();
        let (oh, ow) = (out.height, out.width);
        let hw = h * w;
        for_each_set_bit(spikes, |i| {
            let (c, rem) = (i / hw, i % hw);
            let (oy, ox) = (rem / w / k, rem % w / k);
            if oy < oh && ox < ow {
                f((c * oh + oy) * ow + ox);
            }
        });
    }
}

fn check_map(shape: Shape, spikes: &[u64], what: &str) -> Result<()> {
    let n = shape.len();
    if spikes.len() != words_for(n) {
        return Err(Error::shape(format!(
            "{what} input has {} words, a {}x{}x{} spike map needs {}",
            spikes.len(),
            shape.channels,
            shape.height,
            shape.width,
            words_for(n)
        )));
    }
    if !n.is_multiple_of(64) && spikes[spikes.len() - 1] >> (n % 64) != 0 {
        return Err(Error::shape(format!(
            "{what} input has spikes in the padding bits beyond neuron {n}"
        )));
    }
    Ok(())
}

/// Sum pooling: adds the number of spikes in each window into `out` (channel-major output).
pub fn sum_pool_i32(geom: &PoolGeometry, spikes: &[u64], out: &mut [i32]) -> Result<()> {
    geom.check_io(spikes, out)?;
    geom.for_each_hit(spikes, |o| out[o] += 1);
    Ok(())
}

/// Sum pooling into `f32` currents.
pub fn sum_pool_f32(geom: &PoolGeometry, spikes: &[u64], out: &mut [f32]) -> Result<()> {
    geom.check_io(spikes, out)?;
    geom.for_each_hit(spikes, |o| out[o] += 1.0);
    Ok(())
}

/// Average pooling: adds `count / kernel^2` of each window into `out` (the count is formed
/// exactly first, then divided once, so the result is the correctly rounded mean).
pub fn avg_pool_f32(geom: &PoolGeometry, spikes: &[u64], out: &mut [f32]) -> Result<()> {
    geom.check_io(spikes, out)?;
    let mut counts = vec![0u32; out.len()];
    geom.for_each_hit(spikes, |o| counts[o] += 1);
    let area = (geom.kernel * geom.kernel) as f32;
    for (o, &c) in out.iter_mut().zip(&counts) {
        if c != 0 {
            *o += c as f32 / area;
        }
    }
    Ok(())
}

/// Flatten (channel-major, as PyTorch's `flatten`): spike maps are already stored in that
/// order, so this only validates the map against `shape` and returns the same words, now a
/// vector of `shape.len()` neurons.
pub fn flatten(shape: Shape, spikes: &[u64]) -> Result<&[u64]> {
    check_map(shape, spikes, "flatten")?;
    Ok(spikes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spikes::SpikeVec;

    #[test]
    fn hand_computed_pooling() {
        // 1 x 3 x 5 map, window 2 -> 1 x 1 x 2 (last row and column dropped).
        // Row 0: 1 1 0 1 1
        // Row 1: 0 1 0 0 1
        // Row 2: 1 1 1 1 1   (dropped)
        // Window 0 (rows 0-1, cols 0-1): 1+1+0+1 = 3; window 1 (cols 2-3): 0+1+0+0 = 1.
        let bits = [
            1, 1, 0, 1, 1, //
            0, 1, 0, 0, 1, //
            1, 1, 1, 1, 1,
        ];
        let s = SpikeVec::from_bools(&bits.map(|b| b == 1));
        let shape = Shape {
            channels: 1,
            height: 3,
            width: 5,
        };
        let g = PoolGeometry::new(shape, 2).unwrap();
        assert_eq!(g.output().len(), 2);
        let mut out = [10i32, 20];
        sum_pool_i32(&g, s.words(), &mut out).unwrap();
        assert_eq!(out, [10 + 3, 20 + 1]);
        let mut avg = [0f32; 2];
        avg_pool_f32(&g, s.words(), &mut avg).unwrap();
        assert_eq!(avg, [0.75, 0.25]);
        let mut sf = [0f32; 2];
        sum_pool_f32(&g, s.words(), &mut sf).unwrap();
        assert_eq!(sf, [3.0, 1.0]);
        assert!(PoolGeometry::new(shape, 4).is_err());
        assert!(PoolGeometry::new(shape, 0).is_err());
        assert!(sum_pool_i32(&g, s.words(), &mut [0; 3]).is_err());
        assert!(sum_pool_i32(&g, &[0, 0], &mut [0; 2]).is_err());
        assert!(sum_pool_i32(&g, &[1 << 15], &mut [0; 2]).is_err());
        assert_eq!(flatten(shape, s.words()).unwrap(), s.words());
        assert!(flatten(Shape::flat(70), s.words()).is_err());
    }
}
