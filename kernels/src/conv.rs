//! Accumulate-only 2-D convolution on bit-packed spike maps.
//!
//! A spike map of `channels x height x width` is stored as one bit-packed row (the layout of
//! [`crate::spikes`]), in PyTorch's order: neuron `(c, y, x)` is bit `(c * H + y) * W + x`. The
//! output currents use the same channel-major order, so they feed the neurons, a pooling layer
//! or `flatten` (which is then the identity) without any permutation.
//!
//! Nothing is multiplied: every active input spike `(c, y, x)` *adds* its kernel slice into the
//! output window it reaches. [`Conv2d`] pre-arranges the weights once for two scatter
//! strategies ([`Scatter`]) and picks one per call ([`Conv2d::prefers_hwc`]):
//!
//! - **channel-last**: weights stored `[c][ky][kx'][occp]`, where `kx'` is the *phase-reversed*
//!   tap order (for each stride phase `r`, the taps `kx = r, r + s, ...` reversed, so that
//!   increasing index reaches increasing output columns) and `occp` is `out_channels` rounded up
//!   to a multiple of 8 (zero padded). The taps of one kernel row that a spike reaches then hit
//!   consecutive output columns, so per (spike, reachable kernel row) the scatter is **one
//!   contiguous run** of `taps x occp` weights added into a `[out_h][out_w][occp]` scratch,
//!   whole 256-bit vectors. The scratch is then added, transposed (8 x 8 register transposes
//!   on AVX2), into the channel-major output. Best everywhere except at very low density on
//!   large maps with few channels.
//! - **rows** ([`Conv2d::accumulate_rows`]): for kernel row `ky`, the outputs of one channel
//!   reached by a spike form one contiguous run of output row `oy = (y + pad - ky) / stride`,
//!   receiving the same phase-reversed taps; a spike costs `out_channels x kernel_h` short
//!   slice additions and no transpose.
//!
//! Kernel paths ([`crate::fc::Path`], [`Conv2d::accumulate_with`]), in the style of
//! [`crate::fc`]: `Scalar` (element-by-element loops), `Portable` (whole-vector adds on
//! `wide`), `Avx2` (`std::arch` kernels in `conv/avx2.rs`) and `Avx512` (the scatter's runs 16
//! lanes at a time, `conv/avx512.rs`; the transposed addition stays AVX2), selected at run time
//! with `is_x86_feature_detected!`, so a default build reaches them; `unsafe` only in those
//! modules, with its invariants beside it. The row strategy has no hand-written vector kernel
//! (runs of `kernel_w / stride` elements are too short); on the arch paths it is compiled with
//! AVX2 enabled. All paths and strategies give identical results for integers, and for `f32`
//! all paths of one strategy add in the same order (bit-identical; `tests/conv_paths.rs`).
//!
//! The taps along each axis are tabulated per input row and column when the convolution is
//! built, and spike coordinates are tracked incrementally, so the scatter does no division.
//!
//! Not done: `i16` accumulators for convolutions (twice the lanes; the integer runtime would
//! need the proof of [`check_accumulator`] at 16 bits and `i16` currents into the neurons, as
//! its dense layers have), and keeping the currents channel-last through the neurons (which
//! would save the scratch clearing and the transposed addition: a fixed cost of roughly 1 us
//! per step on the first layer of `BENCHMARKS.md`, its whole time at 1 % density).
//!
//! [`conv2d_reference`] is the plain output-centric definition (a gather with 0/1 inputs), used
//! to check the fast path. Integer accumulation is exact, so the two agree bit for bit; in `f32`
//! they add in different orders: identical when every partial sum is an integer below `2^24`,
//! otherwise within `2 * (fan_in + 1) * 2^-24 * (|initial value| + sum of |added weights|)` per
//! output (the first-order rounding bound of both orders; checked in `tests/conv_props.rs`).
//!
//! Use for one sample and one timestep (e.g. in [`crate::network`]): build `Conv2d` once per
//! layer from the PyTorch-layout weights (`Conv2d::<i16>::new` for the integer golden model,
//! `Conv2d::<f32>::new` for float), keep one scratch `Vec` per layer and sample, then per step
//! fill the current buffer with the bias broadcast over each output channel's plane
//! (`out[oc * out_h * out_w ..][.. out_h * out_w] = bias[oc]`) and call
//! [`Conv2d::accumulate_with_scratch`] with the previous layer's bit-packed spike row. Before
//! building the integer form, [`check_accumulator`] proves the `i32` accumulator cannot
//! overflow.

use std::ops::AddAssign;

use wide::{f32x8, i16x8, i32x8};

use crate::error::{Error, Result};
use crate::fc::{Path, paths};
use crate::model::{LayerOp, MAX_LAYER_ELEMENTS, Shape};
use crate::spikes::words_for;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Validated geometry of a 2-D convolution (square stride and padding, as [`LayerOp::Conv2d`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input shape `C x H x W`.
    pub input: Shape,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Stride on both axes.
    pub stride: usize,
    /// Zero padding on both sides of both axes.
    pub padding: usize,
    out_h: usize,
    out_w: usize,
}

fn checked_product(factors: &[usize], what: &str) -> Result<usize> {
    let n = factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .filter(|&n| n <= MAX_LAYER_ELEMENTS);
    n.ok_or_else(|| {
        Error::shape(format!(
            "{what} {factors:?} exceeds the limit of {MAX_LAYER_ELEMENTS} elements"
        ))
    })
}

impl ConvGeometry {
    /// Validates a convolution: no zero-sized dimension, stride >= 1, a kernel that fits the
    /// padded input, and element counts (input, output, weights) that neither overflow nor
    /// exceed [`MAX_LAYER_ELEMENTS`]. The output size is
    /// `(in + 2 * padding - kernel) / stride + 1` on each axis (PyTorch's formula).
    pub fn new(
        input: Shape,
        out_channels: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: usize,
    ) -> Result<Self> {
        let [kh, kw] = kernel;
        if input.channels == 0 || input.height == 0 || input.width == 0 {
            return Err(Error::shape(format!(
                "conv input {}x{}x{} has a zero-sized dimension",
                input.channels, input.height, input.width
            )));
        }
        if out_channels == 0 || kh == 0 || kw == 0 {
            return Err(Error::shape(format!(
                "conv needs out_channels and kernel > 0, got {out_channels} channels, kernel \
                 {kh}x{kw}"
            )));
        }
        if stride == 0 {
            return Err(Error::invalid("conv stride must be at least 1"));
        }
        checked_product(&[input.channels, input.height, input.width], "conv input")?;
        let padded = |n: usize| padding.checked_mul(2).and_then(|p| p.checked_add(n));
        let (Some(ph), Some(pw)) = (padded(input.height), padded(input.width)) else {
            return Err(Error::shape(format!("conv padding {padding} overflows")));
        };
        if kh > ph || kw > pw {
            return Err(Error::shape(format!(
                "conv kernel {kh}x{kw} is larger than the padded input {ph}x{pw}"
            )));
        }
        let out_h = (ph - kh) / stride + 1;
        let out_w = (pw - kw) / stride + 1;
        checked_product(&[out_channels, out_h, out_w], "conv output")?;
        checked_product(&[out_channels, input.channels, kh, kw], "conv weights")?;
        Ok(ConvGeometry {
            input,
            out_channels,
            kernel_h: kh,
            kernel_w: kw,
            stride,
            padding,
            out_h,
            out_w,
        })
    }

    /// Geometry of a [`LayerOp::Conv2d`]; an error for any other operation.
    pub fn from_op(op: &LayerOp) -> Result<Self> {
        match *op {
            LayerOp::Conv2d {
                input,
                out_channels,
                kernel,
                stride,
                padding,
            } => Self::new(input, out_channels, kernel, stride, padding),
            other => Err(Error::invalid(format!("{other:?} is not a convolution"))),
        }
    }

    /// Output height.
    pub fn out_height(&self) -> usize {
        self.out_h
    }

    /// Output width.
    pub fn out_width(&self) -> usize {
        self.out_w
    }

    /// Output shape `out_channels x out_height x out_width`.
    pub fn output(&self) -> Shape {
        Shape {
            channels: self.out_channels,
            height: self.out_h,
            width: self.out_w,
        }
    }

    /// Number of input neurons (`C * H * W`).
    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// Number of output neurons.
    pub fn output_len(&self) -> usize {
        self.out_channels * self.out_h * self.out_w
    }

    /// Number of weights (`out_channels * C * kernel_h * kernel_w`).
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.input.channels * self.kernel_h * self.kernel_w
    }

    /// Inputs feeding one output neuron (`C * kernel_h * kernel_w`).
    pub fn fan_in(&self) -> usize {
        self.input.channels * self.kernel_h * self.kernel_w
    }

    /// Synaptic operations (additions) caused by the active spikes of `spikes`: the number of
    /// (spike, output neuron) pairs connected by a kernel tap. Used for throughput figures.
    pub fn synaptic_ops(&self, spikes: &[u64]) -> u64 {
        let mut ops = 0u64;
        crate::spikes::for_each_set_bit(spikes, |i| {
            let (_, y, x) = self.decode(i);
            ops += (self.reach(y, self.kernel_h, self.out_h)
                * self.reach(x, self.kernel_w, self.out_w)) as u64;
        });
        ops * self.out_channels as u64
    }

    /// Number of output positions along one axis that input coordinate `y` reaches.
    fn reach(&self, y: usize, k: usize, out: usize) -> usize {
        let yp = y + self.padding;
        (0..k)
            .filter(|&ky| {
                yp >= ky && (yp - ky).is_multiple_of(self.stride) && (yp - ky) / self.stride < out
            })
            .count()
    }

    #[inline]
    fn decode(&self, i: usize) -> (usize, usize, usize) {
        let hw = self.input.height * self.input.width;
        let (c, rem) = (i / hw, i % hw);
        (c, rem / self.input.width, rem % self.input.width)
    }

    fn check_io<A>(&self, spikes: &[u64], out: &[A]) -> Result<()> {
        let n = self.input_len();
        if spikes.len() != words_for(n) {
            return Err(Error::shape(format!(
                "conv input has {} words, a {}x{}x{} spike map needs {}",
                spikes.len(),
                self.input.channels,
                self.input.height,
                self.input.width,
                words_for(n)
            )));
        }
        if !n.is_multiple_of(64) && spikes[spikes.len() - 1] >> (n % 64) != 0 {
            return Err(Error::shape(format!(
                "conv input has spikes in the padding bits beyond neuron {n}"
            )));
        }
        if out.len() != self.output_len() {
            return Err(Error::shape(format!(
                "conv output buffer has {} values, expected {}",
                out.len(),
                self.output_len()
            )));
        }
        Ok(())
    }
}

/// The reference convolution: for every output `(oc, oy, ox)`, adds
/// `w[oc][c][ky][kx]` for every input `(c, oy*stride + ky - pad, ox*stride + kx - pad)` inside
/// the map whose spike is set (a direct convolution with 0/1 inputs). `weights` are in PyTorch
/// layout `[out][in][kh][kw]`; results are *added* into `out` (fill it with the bias or zero).
pub fn conv2d_reference<W, A>(
    geom: &ConvGeometry,
    weights: &[W],
    spikes: &[u64],
    out: &mut [A],
) -> Result<()>
where
    W: Copy + Into<A>,
    A: Copy + AddAssign,
{
    geom.check_io(spikes, out)?;
    check_weights(geom, weights.len())?;
    let g = geom;
    let (h, w) = (g.input.height as isize, g.input.width as isize);
    let bit = |c: usize, y: isize, x: isize| {
        let i = (c * g.input.height + y as usize) * g.input.width + x as usize;
        spikes[i / 64] >> (i % 64) & 1 == 1
    };
    for oc in 0..g.out_channels {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let o = &mut out[(oc * g.out_h + oy) * g.out_w + ox];
                for c in 0..g.input.channels {
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                            let ix = (ox * g.stride + kx) as isize - g.padding as isize;
                            if (0..h).contains(&iy) && (0..w).contains(&ix) && bit(c, iy, ix) {
                                *o += weights[((oc * g.input.channels + c) * g.kernel_h + ky)
                                    * g.kernel_w
                                    + kx]
                                    .into();
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_weights(geom: &ConvGeometry, len: usize) -> Result<()> {
    if len != geom.weight_len() {
        return Err(Error::shape(format!(
            "conv weight has {len} values, expected {} ({}x{}x{}x{})",
            geom.weight_len(),
            geom.out_channels,
            geom.input.channels,
            geom.kernel_h,
            geom.kernel_w
        )));
    }
    Ok(())
}

mod sealed {
    pub trait Sealed<A> {}
    impl Sealed<i32> for i8 {}
    impl Sealed<i32> for i16 {}
    impl Sealed<f32> for f32 {}
}

/// A weight type with convolution kernels into accumulators of type `A`: `i8 -> i32`,
/// `i16 -> i32`, `f32 -> f32` (the pairs [`Conv2d::accumulate`] runs on every [`Path`]).
pub trait ConvWeight<A>: Copy + Into<A> + Send + Sync + sealed::Sealed<A> + 'static {
    /// The exact additive identity of `A` (`x + IDENTITY == x` bit for bit): `0` for
    /// integers, `-0.0` for `f32` (`-0.0 + 0.0` would turn a `-0.0` current into `+0.0`).
    /// The channel-last scratch starts from it, so outputs no spike reaches keep their bits.
    #[doc(hidden)]
    const IDENTITY: A;
    /// `dst[i] += src[i]` on the portable path (`wide`); runs are whole vectors (multiples of
    /// 8 elements) in the channel-last layout, a plain loop finishes any other length.
    #[doc(hidden)]
    fn add_run_portable(dst: &mut [A], src: &[Self]);
    /// The channel-last scatter on the AVX2 path (only called after AVX2 was detected).
    #[doc(hidden)]
    fn scatter_avx2(conv: &Conv2d<Self>, spikes: &[u64], hwc: &mut [A]);
    /// The channel-last scatter on the AVX-512 path (only called after AVX-512F/BW was
    /// detected).
    #[doc(hidden)]
    fn scatter_avx512(conv: &Conv2d<Self>, spikes: &[u64], hwc: &mut [A]);
    /// The transposed addition of the channel-last scratch on the AVX2 path.
    #[doc(hidden)]
    fn transpose_add_avx2(hwc: &[A], out: &mut [A], p: usize, occ: usize, occp: usize);
}

macro_rules! conv_weight {
    ($w:ty, $a:ty, $id:expr, $scatter:ident, $transpose:ident, |$d:ident, $s:ident| $portable:block) => {
        impl ConvWeight<$a> for $w {
            const IDENTITY: $a = $id;
            #[inline(always)]
            fn add_run_portable($d: &mut [$a], $s: &[$w]) $portable
            fn scatter_avx2(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
                #[cfg(target_arch = "x86_64")]
                avx2::$scatter(conv, spikes, hwc);
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("AVX2 is never available off x86-64 ({conv:?} {spikes:?} {hwc:?})");
            }
            fn scatter_avx512(conv: &Conv2d<$w>, spikes: &[u64], hwc: &mut [$a]) {
                #[cfg(target_arch = "x86_64")]
                avx512::$scatter(conv, spikes, hwc);
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("AVX-512 is never available off x86-64 ({conv:?} {spikes:?} {hwc:?})");
            }
            fn transpose_add_avx2(hwc: &[$a], out: &mut [$a], p: usize, occ: usize, occp: usize) {
                #[cfg(target_arch = "x86_64")]
                avx2::$transpose(hwc, out, p, occ, occp);
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("AVX2 is never available off x86-64 ({hwc:?} {out:?} {p} {occ} {occp})");
            }
        }
    };
}

conv_weight!(
    i16,
    i32,
    0,
    scatter_i16_i32,
    transpose_add_i32,
    |dst, src| {
        let mut d = dst.chunks_exact_mut(8);
        let mut s = src.chunks_exact(8);
        for (d8, s8) in (&mut d).zip(&mut s) {
            let v = i32x8::from(<[i32; 8]>::try_from(&*d8).expect("chunk of 8"))
                + i32x8::from_i16x8(i16x8::from_slice_unaligned(s8));
            d8.copy_from_slice(&v.to_array());
        }
        for (o, &w) in d.into_remainder().iter_mut().zip(s.remainder()) {
            *o += w as i32;
        }
    }
);

conv_weight!(i8, i32, 0, scatter_i8_i32, transpose_add_i32, |dst, src| {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d8, s8) in (&mut d).zip(&mut s) {
        let w: [i32; 8] = std::array::from_fn(|k| s8[k] as i32);
        let v = i32x8::from(<[i32; 8]>::try_from(&*d8).expect("chunk of 8")) + i32x8::from(w);
        d8.copy_from_slice(&v.to_array());
    }
    for (o, &w) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *o += w as i32;
    }
});

conv_weight!(
    f32,
    f32,
    -0.0,
    scatter_f32_f32,
    transpose_add_f32,
    |dst, src| {
        let mut d = dst.chunks_exact_mut(8);
        let mut s = src.chunks_exact(8);
        for (d8, s8) in (&mut d).zip(&mut s) {
            let v = f32x8::from(<[f32; 8]>::try_from(&*d8).expect("chunk of 8"))
                + f32x8::from(<[f32; 8]>::try_from(s8).expect("chunk of 8"));
            d8.copy_from_slice(&v.to_array());
        }
        for (o, &w) in d.into_remainder().iter_mut().zip(s.remainder()) {
            *o += w;
        }
    }
);

/// Which scatter strategy [`Conv2d::accumulate_with`] uses (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scatter {
    /// Chosen per call by [`Conv2d::prefers_hwc`] (what [`Conv2d::accumulate`] does).
    Auto,
    /// The channel-last scatter plus a transposed addition into the channel-major output.
    ChannelLast,
    /// The row scatter straight into the channel-major output.
    Rows,
}

/// Kernel taps along the vertical axis for one input row: taps `k0 + a * stride` reach output
/// rows `o0 - a`, `a < n` (`n == 0`: the row reaches no output).
#[derive(Clone, Copy, Debug, Default)]
struct RowTaps {
    k0: u32,
    o0: u32,
    n: u32,
}

/// Kernel taps along the horizontal axis for one input column, in the phase-reversed tap order
/// of both weight layouts: taps `tap .. tap + len` of a kernel row block reach output columns
/// `col .. col + len` (`len == 0`: the column reaches no output).
#[derive(Clone, Copy, Debug, Default)]
struct ColRun {
    tap: u32,
    col: u32,
    len: u32,
}

/// A convolution with weights pre-arranged for accumulate-only scatter (see the module docs).
///
/// `W` is the weight type (`i8`, `i16`, `f32`); [`Conv2d::accumulate`] adds into `i32`
/// accumulators for integer weights and `f32` for float weights ([`ConvWeight`]).
#[derive(Clone, Debug)]
pub struct Conv2d<W> {
    geom: ConvGeometry,
    /// Row layout `[c][ky][oc][kw']`, where `kw'` is the phase-reversed tap order: for each
    /// stride phase `r < min(stride, kernel_w)` the taps `kx = r, r + s, ...` reversed, so that
    /// increasing index reaches increasing output columns.
    taps: Vec<W>,
    /// Channel-last layout `[c][ky][kw'][occp]`: one run of `occp` weights per tap (output
    /// channels padded with zeros to a multiple of 8), taps in the same phase-reversed order,
    /// so a spike's taps on one kernel row form one contiguous run of `len * occp` weights.
    taps_hwc: Vec<W>,
    /// `out_channels` rounded up to a multiple of 8 (one AVX2 vector of `i32` / `f32`).
    occp: usize,
    /// Per input row.
    rows: Vec<RowTaps>,
    /// Per input column.
    cols: Vec<ColRun>,
}

impl<W: Copy + Default> Conv2d<W> {
    /// Pre-arranges `weights` given in PyTorch layout `[out_channels][in_channels][kh][kw]`.
    pub fn new(geom: ConvGeometry, weights: &[W]) -> Result<Self> {
        check_weights(&geom, weights.len())?;
        let (s, kw, kh) = (geom.stride, geom.kernel_w, geom.kernel_h);
        let (ic, occ) = (geom.input.channels, geom.out_channels);
        let phases = s.min(kw);
        let mut phase_offset = Vec::with_capacity(phases + 1);
        let mut off = 0;
        for r in 0..phases {
            phase_offset.push(off);
            off += (kw - 1 - r) / s + 1;
        }
        phase_offset.push(off);
        debug_assert_eq!(off, kw);
        // order[j] = kx of phase-reversed tap j: taps[j] = row[r + (n - 1 - j') * s].
        let mut order = Vec::with_capacity(kw);
        for r in 0..phases {
            let n = phase_offset[r + 1] - phase_offset[r];
            order.extend((0..n).map(|j| r + (n - 1 - j) * s));
        }
        let w_at = |oc: usize, c: usize, ky: usize, kx: usize| {
            weights[((oc * ic + c) * kh + ky) * kw + kx]
        };
        let mut taps = Vec::with_capacity(weights.len());
        let occp = occ.next_multiple_of(8);
        let mut taps_hwc = Vec::with_capacity(ic * kh * kw * occp);
        for c in 0..ic {
            for ky in 0..kh {
                for oc in 0..occ {
                    taps.extend(order.iter().map(|&kx| w_at(oc, c, ky, kx)));
                }
                for &kx in &order {
                    taps_hwc.extend((0..occ).map(|oc| w_at(oc, c, ky, kx)));
                    taps_hwc.extend((occ..occp).map(|_| W::default()));
                }
            }
        }
        let (oh, ow) = (geom.out_h, geom.out_w);
        let rows = (0..geom.input.height)
            .map(|y| match taps_on_axis(y + geom.padding, s, kh, oh) {
                Some((k0, o0, n)) => RowTaps {
                    k0: k0 as u32,
                    o0: o0 as u32,
                    n: n as u32,
                },
                None => RowTaps::default(),
            })
            .collect();
        let cols = (0..geom.input.width)
            .map(|x| {
                let xp = x + geom.padding;
                let (r, q) = (xp % s, xp / s);
                if r >= kw {
                    return ColRun::default(); // no kernel column lands on this phase
                }
                let (p0, p1) = (phase_offset[r], phase_offset[r + 1]);
                let n = p1 - p0;
                // Output column of phase tap j is base + j (base may be negative).
                let base = q as isize - n as isize + 1;
                let j0 = (-base).max(0) as usize;
                let j1 = (ow as isize - base).min(n as isize);
                if j1 <= j0 as isize {
                    return ColRun::default();
                }
                ColRun {
                    tap: (p0 + j0) as u32,
                    col: (base + j0 as isize) as u32,
                    len: (j1 as usize - j0) as u32,
                }
            })
            .collect();
        Ok(Conv2d {
            geom,
            taps,
            taps_hwc,
            occp,
            rows,
            cols,
        })
    }
}

impl<W: Copy> Conv2d<W> {
    /// The geometry this convolution was built for (shapes, stride, padding).
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geom
    }

    /// Calls `f(c, y, x)` for every active input spike in increasing index order. The
    /// coordinates are tracked incrementally (no division per spike).
    #[inline(always)]
    fn for_each_spike(&self, spikes: &[u64], mut f: impl FnMut(usize, usize, usize)) {
        let (h, w) = (self.geom.input.height, self.geom.input.width);
        let (mut row_start, mut c, mut y) = (0usize, 0usize, 0usize);
        crate::spikes::for_each_set_bit(spikes, |i| {
            while i >= row_start + w {
                row_start += w;
                y += 1;
                if y == h {
                    y = 0;
                    c += 1;
                }
            }
            f(c, y, i - row_start)
        });
    }

    /// [`ConvGeometry::synaptic_ops`] from the per-row and per-column tap tables: one lookup
    /// per spike instead of a scan over the kernel (the network runtime counts every step).
    pub fn synaptic_ops(&self, spikes: &[u64]) -> u64 {
        let mut ops = 0u64;
        self.for_each_spike(spikes, |_, y, x| {
            ops += self.rows[y].n as u64 * self.cols[x].len as u64;
        });
        ops * self.geom.out_channels as u64
    }

    /// The channel-last scatter into `hwc` (`[out_h][out_w][occp]`), each contiguous run
    /// added by `add` (the path's vector loop).
    #[inline(always)]
    fn scatter_hwc_body<A>(
        &self,
        spikes: &[u64],
        hwc: &mut [A],
        mut add: impl FnMut(&mut [A], &[W]),
    ) {
        let g = &self.geom;
        let (s, kh, kw, ow, occp) = (g.stride, g.kernel_h, g.kernel_w, g.out_w, self.occp);
        self.for_each_spike(spikes, |c, y, x| {
            let (rt, cr) = (self.rows[y], self.cols[x]);
            if rt.n == 0 || cr.len == 0 {
                return;
            }
            let run = cr.len as usize * occp;
            for a in 0..rt.n as usize {
                let (ky, oy) = (rt.k0 as usize + a * s, rt.o0 as usize - a);
                let src = ((c * kh + ky) * kw + cr.tap as usize) * occp;
                let dst = (oy * ow + cr.col as usize) * occp;
                add(&mut hwc[dst..dst + run], &self.taps_hwc[src..src + run]);
            }
        });
    }

    /// The row scatter into the channel-major `out`: one contiguous kernel-row slice per
    /// (spike, kernel row, output channel).
    #[inline(always)]
    fn scatter_rows_body<A>(&self, spikes: &[u64], out: &mut [A])
    where
        W: Into<A>,
        A: Copy + AddAssign,
    {
        let g = &self.geom;
        let (s, kh, kw, ow, occ) = (g.stride, g.kernel_h, g.kernel_w, g.out_w, g.out_channels);
        let plane = g.out_h * ow;
        self.for_each_spike(spikes, |c, y, x| {
            let (rt, cr) = (self.rows[y], self.cols[x]);
            if rt.n == 0 || cr.len == 0 {
                return;
            }
            let len = cr.len as usize;
            for a in 0..rt.n as usize {
                let (ky, oy) = (rt.k0 as usize + a * s, rt.o0 as usize - a);
                let row_start = oy * ow + cr.col as usize;
                let tap_block = (c * kh + ky) * occ * kw + cr.tap as usize;
                for oc in 0..occ {
                    let dst = &mut out[oc * plane + row_start..][..len];
                    let src = &self.taps[tap_block + oc * kw..][..len];
                    for (o, &w) in dst.iter_mut().zip(src) {
                        *o += w.into();
                    }
                }
            }
        });
    }

    /// Adds the currents caused by one timestep of input spikes (`spikes`: the bit-packed
    /// `C x H x W` map, `words_for(C*H*W)` words, padding bits zero) into `out`
    /// (`out_channels x out_h x out_w`, channel-major). `out` is not cleared: fill it with the
    /// bias (or zeros) first.
    ///
    /// Runs on the fastest kernel path of this CPU ([`crate::fc::paths::best`], capped by
    /// `KERNELS_MAX_PATH`; AVX-512 on the Zen 4 development host)
    /// with the strategy chosen by [`Conv2d::prefers_hwc`]; allocates a scratch buffer when it
    /// takes the channel-last one (use [`Conv2d::accumulate_with_scratch`] in hot loops).
    pub fn accumulate<A>(&self, spikes: &[u64], out: &mut [A]) -> Result<()>
    where
        W: ConvWeight<A>,
        A: Copy + AddAssign + Default,
    {
        let mut scratch = Vec::new();
        self.accumulate_with_scratch(spikes, out, &mut scratch)
    }

    /// [`Conv2d::accumulate`] with a caller-owned scratch buffer (resized as needed), so a
    /// timestep loop allocates nothing.
    pub fn accumulate_with_scratch<A>(
        &self,
        spikes: &[u64],
        out: &mut [A],
        scratch: &mut Vec<A>,
    ) -> Result<()>
    where
        W: ConvWeight<A>,
        A: Copy + AddAssign + Default,
    {
        self.accumulate_with(paths::best(), Scatter::Auto, spikes, out, scratch)
    }

    /// [`Conv2d::accumulate_with_scratch`] on an explicit kernel path and strategy (for tests
    /// and benchmarks; every combination gives the same results, bit for bit also in `f32`).
    ///
    /// Paths: [`Path::Scalar`] adds element by element (the auto-vectorised generic code),
    /// [`Path::Portable`] adds whole `wide` vectors, [`Path::Avx2`] runs the kernels of
    /// `conv/avx2.rs`, [`Path::Avx512`] the scatter of `conv/avx512.rs` with the AVX2
    /// transposed addition. The row strategy has no vector kernel (its runs are a few
    /// elements long); on the AVX2 paths it is compiled with AVX2 enabled. An unavailable path
    /// is an error.
    pub fn accumulate_with<A>(
        &self,
        path: Path,
        strategy: Scatter,
        spikes: &[u64],
        out: &mut [A],
        scratch: &mut Vec<A>,
    ) -> Result<()>
    where
        W: ConvWeight<A>,
        A: Copy + AddAssign + Default,
    {
        if !path.is_available() {
            return Err(Error::invalid(format!(
                "kernel path {} is not available on this CPU",
                path.name()
            )));
        }
        self.geom.check_io(spikes, out)?;
        let hwc = match strategy {
            Scatter::Auto => self.prefers_hwc(crate::spikes::count_ones(spikes)),
            Scatter::ChannelLast => true,
            Scatter::Rows => false,
        };
        let arch = matches!(path, Path::Avx2 | Path::Avx512);
        if !hwc {
            #[cfg(target_arch = "x86_64")]
            if arch {
                avx2::scatter_rows(self, spikes, out);
                return Ok(());
            }
            self.scatter_rows_body(spikes, out);
            return Ok(());
        }
        let g = &self.geom;
        let p = g.out_h * g.out_w;
        scratch.clear();
        scratch.resize(p * self.occp, W::IDENTITY);
        match path {
            Path::Scalar => self.scatter_hwc_body(spikes, scratch, |d, s| {
                for (o, &w) in d.iter_mut().zip(s) {
                    *o += w.into();
                }
            }),
            Path::Portable => self.scatter_hwc_body(spikes, scratch, W::add_run_portable),
            Path::Avx2 => W::scatter_avx2(self, spikes, scratch),
            Path::Avx512 => W::scatter_avx512(self, spikes, scratch),
        }
        if arch {
            W::transpose_add_avx2(scratch, out, p, g.out_channels, self.occp);
        } else {
            transpose_add(scratch, out, p, g.out_channels, self.occp);
        }
        Ok(())
    }

    /// The strategy rule, a cost model in nanoseconds fitted to the thread-CPU-time benchmark
    /// `cargo bench -p benches --bench conv` (AVX2 path; see `BENCHMARKS.md`): the
    /// channel-last scatter costs about `HWC_ROW_NS` per (spike, reachable kernel row) plus
    /// `HWC_VEC_NS` per 8 output channels per reachable tap, plus `HWC_OUT_NS` per padded output
    /// for clearing the scratch and the transposed addition; the row scatter costs about
    /// `ROWS_NS + ROWS_TAP_NS * kernel_w / stride` per (spike, reachable kernel row, output
    /// channel). Returns true when the channel-last path is estimated cheaper for
    /// `active_spikes` input spikes (it loses only at very low density on large output maps
    /// with few channels).
    pub fn prefers_hwc(&self, active_spikes: usize) -> bool {
        const HWC_ROW_NS: f64 = 2.0;
        const HWC_VEC_NS: f64 = 1.0;
        const HWC_OUT_NS: f64 = 0.15;
        const ROWS_NS: f64 = 3.0;
        const ROWS_TAP_NS: f64 = 0.3;
        let g = &self.geom;
        let sp = active_spikes as f64;
        let s = g.stride as f64;
        let rows_per_spike = (g.kernel_h as f64 / s).max(1.0);
        let cols_per_spike = (g.kernel_w as f64 / s).max(1.0);
        let hwc = sp
            * rows_per_spike
            * (HWC_ROW_NS + cols_per_spike * (self.occp / 8) as f64 * HWC_VEC_NS)
            + (g.out_h * g.out_w * self.occp) as f64 * HWC_OUT_NS;
        let rows =
            sp * rows_per_spike * g.out_channels as f64 * (ROWS_NS + ROWS_TAP_NS * cols_per_spike);
        hwc < rows
    }

    /// Channel-last scatter: adds the currents of `spikes` (channel-major `C x H x W` bits)
    /// into `out_hwc` laid out `[out_h][out_w][out_channels]` (`out_hwc[(oy * out_w + ox) *
    /// out_channels + oc]`): every (spike, kernel tap) adds one contiguous run of
    /// `out_channels` weights. For runtimes that keep conv currents channel-last; goes through
    /// a padded scratch (`out_channels` rounded up to 8) on the fastest path.
    pub fn accumulate_hwc<A>(&self, spikes: &[u64], out_hwc: &mut [A]) -> Result<()>
    where
        W: ConvWeight<A>,
        A: Copy + AddAssign + Default,
    {
        self.geom.check_io(spikes, out_hwc)?;
        let g = &self.geom;
        let mut scratch = vec![W::IDENTITY; g.out_h * g.out_w * self.occp];
        match paths::best() {
            Path::Avx2 => W::scatter_avx2(self, spikes, &mut scratch),
            Path::Avx512 => W::scatter_avx512(self, spikes, &mut scratch),
            _ => self.scatter_hwc_body(spikes, &mut scratch, W::add_run_portable),
        }
        let occ = g.out_channels;
        for (o, cell) in out_hwc
            .chunks_exact_mut(occ)
            .zip(scratch.chunks_exact(self.occp))
        {
            for (a, &b) in o.iter_mut().zip(cell) {
                *a += b;
            }
        }
        Ok(())
    }

    /// The row scatter alone on the portable path (no strategy choice): channel-major output,
    /// one contiguous kernel-row slice per (spike, kernel row, output channel).
    pub fn accumulate_rows<A>(&self, spikes: &[u64], out: &mut [A]) -> Result<()>
    where
        W: Into<A>,
        A: Copy + AddAssign,
    {
        self.geom.check_io(spikes, out)?;
        self.scatter_rows_body(spikes, out);
        Ok(())
    }
}

/// `out[oc * p + pos] += hwc[pos * occp + oc]` for `oc < occ`: the channel-last scratch
/// (channels padded to `occp`) transposed into the channel-major output. Common channel counts
/// use a fixed-size version (no bounds checks, unrolled), others a plain loop with contiguous
/// writes.
fn transpose_add<A: Copy + AddAssign>(hwc: &[A], out: &mut [A], p: usize, occ: usize, occp: usize) {
    match (occ, occp) {
        (8, 8) => transpose_fixed::<8, A>(hwc, out, p),
        (16, 16) => transpose_fixed::<16, A>(hwc, out, p),
        (32, 32) => transpose_fixed::<32, A>(hwc, out, p),
        (64, 64) => transpose_fixed::<64, A>(hwc, out, p),
        _ => {
            for (oc, plane) in out.chunks_exact_mut(p).enumerate() {
                for (o, cell) in plane.iter_mut().zip(hwc.chunks_exact(occp)) {
                    *o += cell[oc];
                }
            }
        }
    }
}

fn transpose_fixed<const N: usize, A: Copy + AddAssign>(hwc: &[A], out: &mut [A], p: usize) {
    let (cells, _) = hwc.as_chunks::<N>();
    let mut planes: [&mut [A]; N] = {
        let mut it = out.chunks_exact_mut(p);
        std::array::from_fn(|_| it.next().expect("one plane per channel"))
    };
    for (pos, cell) in cells.iter().enumerate() {
        for (plane, &v) in planes.iter_mut().zip(cell) {
            plane[pos] += v;
        }
    }
}

/// The kernel taps along one axis that connect padded input coordinate `p` to an output:
/// `k = k0 + a * s` reaches output `o0 - a` for `a in 0..n`. Taps satisfy `k = p mod s`,
/// `k < kernel`, and `0 <= (p - k) / s < out`. `None` when there are none. Computed once per
/// input row and column when a [`Conv2d`] is built.
#[inline]
fn taps_on_axis(p: usize, s: usize, kernel: usize, out: usize) -> Option<(usize, usize, usize)> {
    let (q, r) = (p / s, p % s);
    if r >= kernel {
        return None;
    }
    // a ranges over [q - (out - 1), q] (output in range) and [0, (kernel - 1 - r) / s].
    let a_lo = q.saturating_sub(out - 1);
    let a_hi = q.min((kernel - 1 - r) / s);
    if a_lo > a_hi {
        return None;
    }
    Some((r + a_lo * s, q - a_lo, a_hi - a_lo + 1))
}

/// Checks that `bias + sum of |weights|` of every output channel fits a signed accumulator of
/// `acc_bits` bits, so that no sequence of input spikes can overflow it. Weights in PyTorch
/// layout; `bias` empty or one value per output channel.
pub fn check_accumulator<W: Copy + Into<i64>>(
    geom: &ConvGeometry,
    weights: &[W],
    bias: &[i32],
    acc_bits: u32,
) -> Result<()> {
    check_weights(geom, weights.len())?;
    if !bias.is_empty() && bias.len() != geom.out_channels {
        return Err(Error::shape(format!(
            "conv bias has {} values, expected {}",
            bias.len(),
            geom.out_channels
        )));
    }
    if !(2..=63).contains(&acc_bits) {
        return Err(Error::invalid(format!(
            "accumulator width {acc_bits} is outside 2..=63"
        )));
    }
    let limit = (1i64 << (acc_bits - 1)) - 1;
    for (oc, w) in weights.chunks(geom.fan_in()).enumerate() {
        let b = bias.get(oc).map_or(0, |&b| (b as i64).abs());
        let sum: i64 = w.iter().map(|&x| x.into().abs()).sum::<i64>() + b;
        if sum > limit {
            return Err(Error::invalid(format!(
                "conv output channel {oc}: |bias| + sum |w| = {sum} can overflow a {acc_bits}-bit \
                 accumulator"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spikes::SpikeVec;

    fn shape(c: usize, h: usize, w: usize) -> Shape {
        Shape {
            channels: c,
            height: h,
            width: w,
        }
    }

    #[test]
    fn geometry_formula_and_errors() {
        let g = ConvGeometry::new(shape(1, 28, 28), 8, [5, 5], 1, 2).unwrap();
        assert_eq!(g.output(), shape(8, 28, 28));
        // (7 + 2 - 3) / 2 + 1 = 4
        let g = ConvGeometry::new(shape(2, 7, 5), 3, [3, 2], 2, 1).unwrap();
        assert_eq!((g.out_height(), g.out_width()), (4, 3)); // (5 + 2 - 2) / 2 + 1 = 3
        assert!(ConvGeometry::new(shape(0, 5, 5), 1, [3, 3], 1, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 5, 5), 0, [3, 3], 1, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 5, 5), 1, [0, 3], 1, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 5, 5), 1, [3, 3], 0, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 2, 2), 1, [3, 3], 1, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 2, 2), 1, [3, 3], 1, usize::MAX).is_err());
        assert!(ConvGeometry::new(shape(1 << 20, 1 << 20, 1 << 20), 1, [1, 1], 1, 0).is_err());
        assert!(ConvGeometry::new(shape(1, 4, 4), 1 << 30, [3, 3], 1, 0).is_err());
    }

    #[test]
    fn hand_computed_3x3() {
        // 1 input channel 3x3, one output channel, kernel 2x2 = [[1, 2], [3, 4]], stride 1,
        // padding 0 -> 2x2 output. A single spike at (1, 1) (the centre) is under tap (1, 1)
        // of output (0, 0) -> +4, tap (1, 0) of (0, 1) -> +3, tap (0, 1) of (1, 0) -> +2,
        // tap (0, 0) of (1, 1) -> +1.
        let g = ConvGeometry::new(shape(1, 3, 3), 1, [2, 2], 1, 0).unwrap();
        let w = [1i16, 2, 3, 4];
        let mut spikes = SpikeVec::zeros(9);
        spikes.set(4, true);
        let conv = Conv2d::new(g, &w).unwrap();
        let mut out = [0i32; 4];
        conv.accumulate(spikes.words(), &mut out).unwrap();
        assert_eq!(out, [4, 3, 2, 1]);
        let mut r = [0i32; 4];
        conv2d_reference(&g, &w, spikes.words(), &mut r).unwrap();
        assert_eq!(r, [4, 3, 2, 1]);
        // The corner spike (0, 0) only reaches output (0, 0) through tap (0, 0): +1, on top.
        spikes.set(0, true);
        conv.accumulate(spikes.words(), &mut out).unwrap();
        assert_eq!(out, [4 + 4 + 1, 6, 4, 2]);
        assert_eq!(g.synaptic_ops(spikes.words()), 5);
    }

    #[test]
    fn stride_and_padding_hand_computed() {
        // 1x1x4 input row, 3x3 kernel whose middle row is [1, 10, 100], stride 2, padding 1
        // -> height (1 + 2 - 3) / 2 + 1 = 1 (kernel row 1 on input row 0), width
        // (4 + 2 - 3) / 2 + 1 = 2. Output 0 sees columns -1, 0, 1; output 1 sees 1, 2, 3.
        // Spikes at columns 1 and 3: out0 = 100 (col 1 under tap 2); out1 = 1 + 100.
        let g = ConvGeometry::new(shape(1, 1, 4), 1, [3, 3], 2, 1).unwrap();
        let w = [0i8, 0, 0, 1, 10, 100, 0, 0, 0];
        let spikes = SpikeVec::from_bools(&[false, true, false, true]);
        let mut out = [0i32; 2];
        Conv2d::new(g, &w)
            .unwrap()
            .accumulate(spikes.words(), &mut out)
            .unwrap();
        assert_eq!(out, [100, 101]);
    }

    #[test]
    fn bad_buffers_are_errors() {
        let g = ConvGeometry::new(shape(1, 3, 3), 1, [2, 2], 1, 0).unwrap();
        let conv = Conv2d::new(g, &[1i16; 4]).unwrap();
        assert!(Conv2d::new(g, &[1i16; 3]).is_err());
        assert!(conv.accumulate(&[0, 0], &mut [0i32; 4]).is_err());
        assert!(conv.accumulate(&[0], &mut [0i32; 3]).is_err());
        assert!(conv.accumulate(&[1 << 9], &mut [0i32; 4]).is_err());
    }

    #[test]
    fn accumulator_check() {
        let g = ConvGeometry::new(shape(1, 3, 3), 1, [2, 2], 1, 0).unwrap();
        // sum |w| = 4 * 16384 = 65536 > 2^16 - 1 ... fits 18 bits (limit 131071), not 17.
        let w = [16384i16, -16384, 16384, -16384];
        assert!(check_accumulator(&g, &w, &[], 18).is_ok());
        assert!(check_accumulator(&g, &w, &[], 17).is_err());
        assert!(check_accumulator(&g, &w, &[65535], 18).is_ok());
        assert!(check_accumulator(&g, &w, &[65536], 18).is_err());
        assert!(check_accumulator(&g, &w, &[1, 2], 18).is_err());
    }
}
