//! Dense parameters, Adam and the learning-rate schedule shared by both trainers.

use crate::rng::Rng;

/// One fully connected layer's parameters, stored input-major (`wt[j * outputs + o]` is the
/// weight from input `j` to neuron `o`) so that an input spike selects one contiguous row, in
/// the forward pass and in the weight gradient alike.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseParams {
    /// Fan-in.
    pub inputs: usize,
    /// Neurons.
    pub outputs: usize,
    /// Weights, input-major.
    pub wt: Vec<f32>,
    /// Biases (all zero and frozen when the layer has no bias).
    pub b: Vec<f32>,
}

impl DenseParams {
    /// PyTorch's default `nn.Linear` initialisation: uniform in `+-1/sqrt(inputs)`.
    pub fn init(inputs: usize, outputs: usize, bias: bool, rng: &mut Rng) -> Self {
        let bound = 1.0 / (inputs as f32).sqrt();
        let wt = (0..inputs * outputs)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
            .collect();
        let b = (0..outputs)
            .map(|_| {
                if bias {
                    (rng.uniform() * 2.0 - 1.0) * bound
                } else {
                    0.0
                }
            })
            .collect();
        DenseParams {
            inputs,
            outputs,
            wt,
            b,
        }
    }

    /// Zeroed parameters of the same shape (a gradient buffer).
    pub fn zeros_like(&self) -> Self {
        DenseParams {
            inputs: self.inputs,
            outputs: self.outputs,
            wt: vec![0.0; self.wt.len()],
            b: vec![0.0; self.b.len()],
        }
    }

    /// Row of weights leaving input `j`.
    #[inline]
    pub fn row(&self, j: usize) -> &[f32] {
        &self.wt[j * self.outputs..(j + 1) * self.outputs]
    }

    /// Weights in PyTorch layout `[outputs][inputs]`.
    pub fn to_output_major(&self) -> Vec<f32> {
        let mut w = vec![0.0; self.wt.len()];
        for j in 0..self.inputs {
            for o in 0..self.outputs {
                w[o * self.inputs + j] = self.wt[j * self.outputs + o];
            }
        }
        w
    }

    /// From PyTorch layout `[outputs][inputs]`.
    pub fn from_output_major(inputs: usize, outputs: usize, w: &[f32], b: &[f32]) -> Self {
        let mut wt = vec![0.0; w.len()];
        for o in 0..outputs {
            for j in 0..inputs {
                wt[j * outputs + o] = w[o * inputs + j];
            }
        }
        DenseParams {
            inputs,
            outputs,
            wt,
            b: if b.is_empty() {
                vec![0.0; outputs]
            } else {
                b.to_vec()
            },
        }
    }

    /// `self += other`.
    pub fn add(&mut self, other: &DenseParams) {
        for (a, b) in self.wt.iter_mut().zip(&other.wt) {
            *a += b;
        }
        for (a, b) in self.b.iter_mut().zip(&other.b) {
            *a += b;
        }
    }
}

/// Adam (Kingma & Ba 2015) with PyTorch's defaults `beta1 = 0.9`, `beta2 = 0.999`,
/// `eps = 1e-8`.
#[derive(Clone, Debug)]
pub struct Adam {
    m: Vec<DenseParams>,
    v: Vec<DenseParams>,
    t: i32,
}

impl Adam {
    /// Zero moments for `params`.
    pub fn new(params: &[DenseParams]) -> Self {
        Adam {
            m: params.iter().map(DenseParams::zeros_like).collect(),
            v: params.iter().map(DenseParams::zeros_like).collect(),
            t: 0,
        }
    }

    /// One update with learning rate `lr`; `train_bias = false` keeps biases fixed.
    pub fn step(
        &mut self,
        params: &mut [DenseParams],
        grads: &[DenseParams],
        lr: f32,
        train_bias: bool,
    ) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let upd = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for i in 0..p.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let mh = m[i] / c1;
                let vh = v[i] / c2;
                p[i] -= lr * mh / (vh.sqrt() + eps);
            }
        };
        for (l, p) in params.iter_mut().enumerate() {
            let (m, v) = (&mut self.m[l], &mut self.v[l]);
            upd(&mut p.wt, &grads[l].wt, &mut m.wt, &mut v.wt);
            if train_bias {
                upd(&mut p.b, &grads[l].b, &mut m.b, &mut v.b);
            }
        }
    }
}

/// Cosine learning-rate schedule from `lr` down to `lr * floor` over `total` steps.
pub fn cosine_lr(lr: f32, step: usize, total: usize, floor: f32) -> f32 {
    let x = step as f32 / total.max(1) as f32;
    let c = 0.5 * (1.0 + (std::f32::consts::PI * x).cos());
    lr * (floor + (1.0 - floor) * c)
}

/// Splits `0..n` into fixed chunks of `chunk` items. The gradient of every chunk is summed
/// sequentially and chunks are summed in order, so results do not depend on the thread count.
pub fn chunks(n: usize, chunk: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(chunk))
        .map(|c| c * chunk..((c + 1) * chunk).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr_against_gradient_sign() {
        // With bias correction, the first Adam step is lr * g / (|g| + eps) ~ lr * sign(g).
        let mut p = vec![DenseParams {
            inputs: 2,
            outputs: 1,
            wt: vec![1.0, 1.0],
            b: vec![0.0],
        }];
        let g = vec![DenseParams {
            inputs: 2,
            outputs: 1,
            wt: vec![0.5, -2.0],
            b: vec![3.0],
        }];
        let mut adam = Adam::new(&p);
        adam.step(&mut p, &g, 0.1, false);
        assert!((p[0].wt[0] - 0.9).abs() < 1e-6);
        assert!((p[0].wt[1] - 1.1).abs() < 1e-6);
        assert_eq!(p[0].b[0], 0.0);
    }

    #[test]
    fn layout_round_trip() {
        // PyTorch layout [[1, 2, 3], [4, 5, 6]] (2 outputs, 3 inputs).
        let d = DenseParams::from_output_major(3, 2, &[1., 2., 3., 4., 5., 6.], &[]);
        assert_eq!(d.wt, vec![1., 4., 2., 5., 3., 6.]);
        assert_eq!(d.to_output_major(), vec![1., 2., 3., 4., 5., 6.]);
    }

    #[test]
    fn cosine_schedule_ends() {
        assert_eq!(cosine_lr(1.0, 0, 10, 0.0), 1.0);
        assert!(cosine_lr(1.0, 10, 10, 0.0).abs() < 1e-6);
        assert!((cosine_lr(1.0, 5, 10, 0.0) - 0.5).abs() < 1e-6);
    }
}
