//! Bit-plane popcount kernel for low-bit weights and dense spikes.
//!
//! A signed `b`-bit weight is `w = -2^(b-1) p_(b-1) + sum_(k < b-1) 2^k p_k` with bits `p_k` of
//! its two's complement. Storing, per output neuron and per bit `k`, the plane of bits `p_k`
//! over all inputs (bit-packed like the spikes) turns the input current into
//!
//! `I[o] = sum_k c_k * popcount(plane_k[o] AND spikes)`, `c_k = 2^k` (negative for the sign bit).
//!
//! Its cost is `outputs x bits x words` AND+popcounts, *independent of the spike count*, while
//! row accumulation ([`crate::fc`]) costs `active inputs x outputs / lanes`. So it wins only
//! for dense spikes and few weight bits; [`prefer_bitplane`] is the measured rule the runtime
//! uses to choose per step (see `BENCHMARKS.md`). Both compute exactly the same integers.
//!
//! `popcount` needs the `popcnt` instruction to be fast, which a default x86-64 build does not
//! enable; the kernel is therefore compiled a second time with it and chosen at run time
//! (`crate::fc` arch module), like the fully connected kernels.

use crate::error::{Error, Result};
use crate::fc::Path;
use crate::spikes::words_for;

/// Weights of a fully connected layer as bit planes, output-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitPlaneMatrix {
    inputs: usize,
    outputs: usize,
    bits: u8,
    words: usize,
    /// `planes[(o * bits + k) * words ..][..words]` is plane `k` of output `o`.
    planes: Vec<u64>,
}

/// Largest weight width the bit-plane kernel accepts (wider weights never win, see the rule).
pub const MAX_BITPLANE_BITS: u8 = 8;

impl BitPlaneMatrix {
    /// Builds from PyTorch's `[outputs][inputs]` weights, each inside the signed `bits` range
    /// (`1..=8` bits; 1-bit weights are `{-1, 0}`).
    pub fn from_output_major(
        outputs: usize,
        inputs: usize,
        weights: &[i16],
        bits: u8,
    ) -> Result<Self> {
        if !(1..=MAX_BITPLANE_BITS).contains(&bits) {
            return Err(Error::invalid(format!(
                "bit-plane weights must have 1..={MAX_BITPLANE_BITS} bits, got {bits}"
            )));
        }
        if outputs.checked_mul(inputs) != Some(weights.len()) {
            return Err(Error::shape(format!(
                "weight matrix has {} values, expected {outputs} outputs x {inputs} inputs",
                weights.len()
            )));
        }
        let (lo, hi) = (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1);
        if let Some(i) = weights
            .iter()
            .position(|&w| !(lo..=hi).contains(&(w as i32)))
        {
            return Err(Error::invalid(format!(
                "weight {i} = {} is outside the signed {bits}-bit range [{lo}, {hi}]",
                weights[i]
            )));
        }
        let words = words_for(inputs);
        let mut planes = vec![0u64; outputs * bits as usize * words];
        for o in 0..outputs {
            for j in 0..inputs {
                let w = weights[o * inputs + j] as i32;
                for k in 0..bits as usize {
                    if (w >> k) & 1 == 1 {
                        planes[(o * bits as usize + k) * words + j / 64] |= 1 << (j % 64);
                    }
                }
            }
        }
        Ok(BitPlaneMatrix {
            inputs,
            outputs,
            bits,
            words,
            planes,
        })
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Weight width in bits.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The weight from input `j` to output `o`, decoded from the planes.
    pub fn weight(&self, j: usize, o: usize) -> i32 {
        assert!(j < self.inputs && o < self.outputs, "index out of range");
        let b = self.bits as usize;
        let mut w = 0i32;
        for k in 0..b {
            let bit = (self.planes[(o * b + k) * self.words + j / 64] >> (j % 64)) & 1;
            w += coefficient(k, b) * bit as i32;
        }
        w
    }

    fn check(&self, spikes: &[u64], acc: &[i32]) -> Result<()> {
        if spikes.len() != self.words {
            return Err(Error::shape(format!(
                "spike vector has {} words, the matrix has {} inputs ({} words)",
                spikes.len(),
                self.inputs,
                self.words
            )));
        }
        if acc.len() != self.outputs {
            return Err(Error::shape(format!(
                "accumulator has {} values, the matrix has {} outputs",
                acc.len(),
                self.outputs
            )));
        }
        if !self.inputs.is_multiple_of(64)
            && let Some(&last) = spikes.last()
            && last >> (self.inputs % 64) != 0
        {
            return Err(Error::shape(format!(
                "spike padding bits beyond input {} are set",
                self.inputs
            )));
        }
        Ok(())
    }

    /// `acc[o] += sum over active inputs j of w[o][j]`, by popcounts, on the fastest path.
    pub fn accumulate(&self, spikes: &[u64], acc: &mut [i32]) -> Result<()> {
        self.accumulate_with(crate::fc::paths::best(), spikes, acc)
    }

    /// [`BitPlaneMatrix::accumulate`] on an explicit path: `Scalar` is the plain reference
    /// (weights decoded bit by bit, added per active input); `Portable` is the popcount kernel
    /// compiled for the baseline target; the x86 paths use the `popcnt` instruction.
    pub fn accumulate_with(&self, path: Path, spikes: &[u64], acc: &mut [i32]) -> Result<()> {
        if !path.is_available() {
            return Err(Error::invalid(format!(
                "kernel path {} is not available on this CPU",
                path.name()
            )));
        }
        self.check(spikes, acc)?;
        match path {
            Path::Scalar => self.reference(spikes, acc),
            Path::Portable => {
                popcount_kernel(self.bits as usize, self.words, &self.planes, spikes, acc)
            }
            Path::Avx2 | Path::Avx512 => {
                #[cfg(target_arch = "x86_64")]
                crate::fc::popcnt_bitplane(
                    self.bits as usize,
                    self.words,
                    &self.planes,
                    spikes,
                    acc,
                );
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("path availability is checked");
            }
        }
        Ok(())
    }

    /// The scalar reference: for every active input, decode each weight and add it.
    fn reference(&self, spikes: &[u64], acc: &mut [i32]) {
        crate::spikes::for_each_set_bit(spikes, |j| {
            for (o, a) in acc.iter_mut().enumerate() {
                *a = a.wrapping_add(self.weight(j, o));
            }
        });
    }
}

/// Weight of plane `k` of a `bits`-bit two's complement number.
#[inline(always)]
fn coefficient(k: usize, bits: usize) -> i32 {
    if k + 1 == bits { -(1 << k) } else { 1 << k }
}

/// The popcount kernel body, compiled once plainly and once with `popcnt` enabled.
#[inline(always)]
pub(crate) fn popcount_kernel(
    bits: usize,
    words: usize,
    planes: &[u64],
    spikes: &[u64],
    acc: &mut [i32],
) {
    for (o, a) in acc.iter_mut().enumerate() {
        let mut sum = 0i32;
        for k in 0..bits {
            let plane = &planes[(o * bits + k) * words..][..words];
            let c: u32 = plane
                .iter()
                .zip(spikes)
                .map(|(p, s)| (p & s).count_ones())
                .sum();
            sum = sum.wrapping_add(coefficient(k, bits).wrapping_mul(c as i32));
        }
        *a = a.wrapping_add(sum);
    }
}

/// Spike density per weight bit above which the bit-plane kernel beats row accumulation
/// (`i16` accumulators, AVX2 rows against scalar `popcnt` planes, 784 -> 128, measured on the
/// development machine with `cargo bench -p benches --bench bitplane`; see `BENCHMARKS.md`):
/// 1-bit planes win above ~45 % density, 2-bit planes above ~90 %, 4-bit planes never.
/// (Machines with AVX-512 VPOPCNTDQ move this down to ~14 % per bit.)
pub const CROSSOVER_DENSITY_PER_BIT: f64 = 0.45;

/// The measured rule: use the bit-plane kernel for a step with `active` of `inputs` spikes and
/// `weight_bits`-bit weights when the density exceeds `weight_bits x`
/// [`CROSSOVER_DENSITY_PER_BIT`]. At 3 bits and more that is never (density cannot exceed 1).
pub fn prefer_bitplane(weight_bits: u8, inputs: usize, active: usize) -> bool {
    weight_bits <= MAX_BITPLANE_BITS
        && inputs > 0
        && (active as f64) > (inputs as f64) * weight_bits as f64 * CROSSOVER_DENSITY_PER_BIT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // 2 outputs x 3 inputs, 3-bit weights in [-4, 3].
        let w = [3i16, -4, 1, -1, 0, 2];
        let m = BitPlaneMatrix::from_output_major(2, 3, &w, 3).unwrap();
        assert_eq!(m.weight(1, 0), -4);
        assert_eq!(m.weight(0, 1), -1);
        for p in crate::fc::paths::available() {
            let mut acc = [100, 200];
            // Inputs 0 and 1: [3 + -4, -1 + 0] = [-1, -1].
            m.accumulate_with(p, &[0b011], &mut acc).unwrap();
            assert_eq!(acc, [99, 199], "{p:?}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(BitPlaneMatrix::from_output_major(1, 2, &[4, 0], 3).is_err());
        assert!(BitPlaneMatrix::from_output_major(1, 2, &[0, 0], 9).is_err());
        assert!(BitPlaneMatrix::from_output_major(1, 3, &[0, 0], 2).is_err());
        let m = BitPlaneMatrix::from_output_major(1, 2, &[1, 1], 2).unwrap();
        assert!(m.accumulate(&[0b100], &mut [0]).is_err());
        assert!(m.accumulate(&[0b1], &mut [0, 0]).is_err());
    }

    #[test]
    fn rule() {
        assert!(!prefer_bitplane(8, 784, 784));
        assert!(!prefer_bitplane(1, 784, 10));
        assert!(prefer_bitplane(1, 784, 700));
    }
}
