//! The dense `f32` baseline: the same fully connected network computed as ordinary
//! matrix-vector products, as an ANN-style implementation would run it at batch 1.
//!
//! Written in the fast form for a matrix-vector product with a small number of outputs: the
//! input-major weight layout with the outputs in registers (`y += x[j] * W[j, :]`, an axpy per
//! input), which the compiler vectorises; with AVX2 + FMA detected at run time it uses a
//! `target_feature` copy of the same loop so the baseline gets the same hardware as the SNN
//! kernels. The baseline multiplies every input, spiking or not: that is what "dense" means.

/// One dense layer: `y = b + W x`, weights input-major (`w[j * outputs + o]`).
#[derive(Clone, Debug)]
pub struct DenseLayer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// Input-major weights.
    pub w: Vec<f32>,
    /// Bias.
    pub b: Vec<f32>,
}

impl DenseLayer {
    /// From PyTorch's output-major weights.
    pub fn from_output_major(outputs: usize, inputs: usize, w: &[f32], b: &[f32]) -> Self {
        let mut t = vec![0.0; w.len()];
        for o in 0..outputs {
            for j in 0..inputs {
                t[j * outputs + o] = w[o * inputs + j];
            }
        }
        DenseLayer {
            inputs,
            outputs,
            w: t,
            b: b.to_vec(),
        }
    }

    /// `y = b + W x`.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            unsafe { forward_avx2(self, x, y) };
            return;
        }
        forward_generic(self, x, y)
    }
}

#[inline(always)]
fn forward_generic(l: &DenseLayer, x: &[f32], y: &mut [f32]) {
    y.copy_from_slice(&l.b);
    for (j, &xj) in x.iter().enumerate() {
        let row = &l.w[j * l.outputs..(j + 1) * l.outputs];
        for (a, &w) in y.iter_mut().zip(row) {
            *a = w.mul_add(xj, *a);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(l: &DenseLayer, x: &[f32], y: &mut [f32]) {
    forward_generic(l, x, y)
}

/// A dense network of LIF layers (snnTorch `Leaky` semantics, subtract reset) run over `T`
/// steps with a dense matrix-vector product per layer and step.
#[derive(Clone, Debug)]
pub struct DenseNetwork {
    /// The layers.
    pub layers: Vec<DenseLayer>,
    /// Membrane decay.
    pub beta: f32,
    /// Threshold.
    pub threshold: f32,
}

impl DenseNetwork {
    /// Runs one sample: `input[t]` is the 0/1 input vector of step `t`. Returns output spike
    /// counts.
    pub fn run(&self, input: &[Vec<f32>]) -> Vec<u32> {
        let mut v: Vec<Vec<f32>> = self.layers.iter().map(|l| vec![0.0; l.outputs]).collect();
        let mut s: Vec<Vec<f32>> = v.clone();
        let mut cur: Vec<Vec<f32>> = v.clone();
        let last = self.layers.len() - 1;
        let mut counts = vec![0u32; self.layers[last].outputs];
        for x in input {
            for (li, l) in self.layers.iter().enumerate() {
                let (before, after) = s.split_at_mut(li);
                let inp: &[f32] = if li == 0 { x } else { &before[li - 1] };
                l.forward(inp, &mut cur[li]);
                for ((vi, si), &c) in v[li].iter_mut().zip(after[0].iter_mut()).zip(&cur[li]) {
                    let nv = self.beta * *vi + c - *si * self.threshold;
                    *vi = nv;
                    *si = if nv > self.threshold { 1.0 } else { 0.0 };
                }
            }
            for (c, &si) in counts.iter_mut().zip(&s[last]) {
                *c += si as u32;
            }
        }
        counts
    }
}
