//! Bit-packed spike tensors.
//!
//! A spike is one bit. A row of `neurons` spikes is stored in `words_per_row` `u64` words, least
//! significant bit first (neuron `i` is bit `i % 64` of word `i / 64`). Rows are padded to a
//! whole number of words and the padding bits are always zero, so popcounts and set-bit
//! iteration never see phantom spikes. Iteration over set bits uses `trailing_zeros` on raw words:
//! it costs 1-2 ns per spike, against 10-24 ns for `bitvec`'s `iter_ones` (measured, see
//! `DESIGN.md`), and it is what every hot loop in this crate uses.

use bitvec::prelude::{BitSlice, Lsb0};

use crate::error::{Error, Result};

/// Number of `u64` words needed to hold `bits` bits.
#[inline]
pub const fn words_for(bits: usize) -> usize {
    bits.div_ceil(64)
}

/// Calls `f(index)` for every set bit of `words`, in increasing order.
///
/// This is the hot-loop iterator: a `trailing_zeros` scan over raw words.
#[inline]
pub fn for_each_set_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            f(w * 64 + b);
            bits &= bits - 1;
        }
    }
}

/// Iterator over the indices of set bits of a word slice (see [`for_each_set_bit`]).
#[derive(Clone, Debug)]
pub struct SetBits<'a> {
    words: &'a [u64],
    index: usize,
    current: u64,
}

impl<'a> SetBits<'a> {
    /// Iterates over the set bits of `words`.
    pub fn new(words: &'a [u64]) -> Self {
        SetBits {
            words,
            index: 0,
            current: words.first().copied().unwrap_or(0),
        }
    }
}

impl Iterator for SetBits<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.current == 0 {
            self.index += 1;
            if self.index >= self.words.len() {
                return None;
            }
            self.current = self.words[self.index];
        }
        let b = self.current.trailing_zeros() as usize;
        self.current &= self.current - 1;
        Some(self.index * 64 + b)
    }
}

/// Number of set bits in `words`.
///
/// Uses the `popcnt` instruction when the CPU has it (detected at run time: a default x86-64
/// build has none, and the bit-twiddling fallback cost ~12 instructions per word, a visible
/// share of a network step) and the kernel path cap allows arch paths
/// ([`hardware_popcnt`]: `KERNELS_MAX_PATH=portable` or `scalar` measures the default build).
#[inline]
pub fn count_ones(words: &[u64]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if hardware_popcnt() {
        #[target_feature(enable = "popcnt")]
        fn hw(words: &[u64]) -> usize {
            words.iter().map(|w| w.count_ones() as usize).sum()
        }
        // SAFETY: `popcnt` was detected just above; the body is safe code.
        return unsafe { hw(words) };
    }
    words.iter().map(|w| w.count_ones() as usize).sum()
}

/// True when [`count_ones`] uses the `popcnt` instruction: the CPU has it and
/// [`paths::allows`](crate::fc::paths::allows) the AVX2 path (every AVX2 CPU has `popcnt`;
/// a cap of `portable` or `scalar` keeps the default build's code).
pub fn hardware_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::fc::{Path, paths};
        paths::allows(Path::Avx2) && std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// One timestep of spikes for a layer of `neurons` neurons: a bit-packed vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpikeVec {
    neurons: usize,
    words: Vec<u64>,
}

impl SpikeVec {
    /// All-zero spike vector.
    pub fn zeros(neurons: usize) -> Self {
        SpikeVec {
            neurons,
            words: vec![0; words_for(neurons)],
        }
    }

    /// Builds from one `bool` per neuron.
    pub fn from_bools(bits: &[bool]) -> Self {
        let mut v = SpikeVec::zeros(bits.len());
        for (i, &b) in bits.iter().enumerate() {
            if b {
                v.set(i, true);
            }
        }
        v
    }

    /// Builds from raw words; fails when a padding bit beyond `neurons` is set or the word count
    /// is wrong.
    pub fn from_words(neurons: usize, words: Vec<u64>) -> Result<Self> {
        if words.len() != words_for(neurons) {
            return Err(Error::shape(format!(
                "{} neurons need {} words, got {}",
                neurons,
                words_for(neurons),
                words.len()
            )));
        }
        check_padding(neurons, &words)?;
        Ok(SpikeVec { neurons, words })
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.neurons
    }

    /// True when the vector holds no neurons.
    pub fn is_empty(&self) -> bool {
        self.neurons == 0
    }

    /// The packed words (padding bits are zero).
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Spike of neuron `i`.
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.neurons, "neuron {i} out of range {}", self.neurons);
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Sets the spike of neuron `i`.
    pub fn set(&mut self, i: usize, value: bool) {
        assert!(i < self.neurons, "neuron {i} out of range {}", self.neurons);
        let mask = 1u64 << (i % 64);
        if value {
            self.words[i / 64] |= mask;
        } else {
            self.words[i / 64] &= !mask;
        }
    }

    /// Number of spikes.
    pub fn count(&self) -> usize {
        count_ones(&self.words)
    }

    /// Indices of the neurons that spiked.
    pub fn iter_ones(&self) -> SetBits<'_> {
        SetBits::new(&self.words)
    }

    /// A `bitvec` view, for users who already work with `bitvec`.
    pub fn as_bitslice(&self) -> &BitSlice<u64, Lsb0> {
        &BitSlice::from_slice(&self.words)[..self.neurons]
    }

    /// The spikes as one `bool` per neuron (for tests and display; the hot paths never unpack).
    pub fn to_bools(&self) -> Vec<bool> {
        (0..self.neurons).map(|i| self.get(i)).collect()
    }
}

fn check_padding(neurons: usize, words: &[u64]) -> Result<()> {
    if !neurons.is_multiple_of(64)
        && let Some(&last) = words.last()
        && last >> (neurons % 64) != 0
    {
        return Err(Error::shape(format!(
            "padding bits beyond neuron {neurons} are set"
        )));
    }
    Ok(())
}

/// A spike train: `steps` timesteps by `neurons` neurons, one padded row of words per step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpikeTrain {
    steps: usize,
    neurons: usize,
    words_per_row: usize,
    words: Vec<u64>,
}

impl SpikeTrain {
    /// All-zero train.
    pub fn zeros(steps: usize, neurons: usize) -> Self {
        let words_per_row = words_for(neurons);
        SpikeTrain {
            steps,
            neurons,
            words_per_row,
            words: vec![0; steps * words_per_row],
        }
    }

    /// Builds from a dense `steps x neurons` slice of booleans (row-major).
    pub fn from_bools(steps: usize, neurons: usize, dense: &[bool]) -> Result<Self> {
        Self::from_fn(steps, neurons, dense.len(), |i| dense[i])
    }

    /// Builds from dense bytes (row-major); any non-zero byte is a spike.
    pub fn from_bytes(steps: usize, neurons: usize, dense: &[u8]) -> Result<Self> {
        Self::from_fn(steps, neurons, dense.len(), |i| dense[i] != 0)
    }

    /// Builds from dense `f32` values (row-major); a value strictly above `threshold` is a spike.
    /// NaN is never a spike.
    pub fn from_f32(steps: usize, neurons: usize, dense: &[f32], threshold: f32) -> Result<Self> {
        Self::from_fn(steps, neurons, dense.len(), |i| dense[i] > threshold)
    }

    fn from_fn(
        steps: usize,
        neurons: usize,
        len: usize,
        spike: impl Fn(usize) -> bool,
    ) -> Result<Self> {
        if steps.checked_mul(neurons) != Some(len) {
            return Err(Error::shape(format!(
                "dense data has {len} values, expected {steps} steps x {neurons} neurons"
            )));
        }
        let mut train = SpikeTrain::zeros(steps, neurons);
        for t in 0..steps {
            let row = train.row_mut(t);
            for n in 0..neurons {
                if spike(t * neurons + n) {
                    row[n / 64] |= 1 << (n % 64);
                }
            }
        }
        Ok(train)
    }

    /// Number of timesteps.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of neurons per step.
    pub fn neurons(&self) -> usize {
        self.neurons
    }

    /// Words per (padded) row.
    pub fn words_per_row(&self) -> usize {
        self.words_per_row
    }

    /// All words, row after row.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The packed spikes of step `t`.
    #[inline]
    pub fn row(&self, t: usize) -> &[u64] {
        &self.words[t * self.words_per_row..(t + 1) * self.words_per_row]
    }

    /// Mutable packed spikes of step `t`. Callers must keep padding bits zero.
    #[inline]
    pub fn row_mut(&mut self, t: usize) -> &mut [u64] {
        &mut self.words[t * self.words_per_row..(t + 1) * self.words_per_row]
    }

    /// Copies a spike vector into step `t`.
    pub fn set_row(&mut self, t: usize, spikes: &SpikeVec) {
        assert_eq!(spikes.len(), self.neurons, "spike vector width");
        self.row_mut(t).copy_from_slice(spikes.words());
    }

    /// Spike of neuron `n` at step `t`.
    pub fn get(&self, t: usize, n: usize) -> bool {
        assert!(t < self.steps && n < self.neurons, "index out of range");
        self.row(t)[n / 64] >> (n % 64) & 1 == 1
    }

    /// Sets the spike of neuron `n` at step `t`.
    pub fn set(&mut self, t: usize, n: usize, value: bool) {
        assert!(t < self.steps && n < self.neurons, "index out of range");
        let mask = 1u64 << (n % 64);
        let row = self.row_mut(t);
        if value {
            row[n / 64] |= mask;
        } else {
            row[n / 64] &= !mask;
        }
    }

    /// Total number of spikes.
    pub fn count(&self) -> usize {
        count_ones(&self.words)
    }

    /// Spikes per neuron over all steps.
    pub fn counts_per_neuron(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.neurons];
        for t in 0..self.steps {
            for_each_set_bit(self.row(t), |n| counts[n] += 1);
        }
        counts
    }

    /// Dense booleans, row-major.
    pub fn to_bools(&self) -> Vec<bool> {
        let mut out = Vec::with_capacity(self.steps * self.neurons);
        for t in 0..self.steps {
            for n in 0..self.neurons {
                out.push(self.get(t, n));
            }
        }
        out
    }

    /// A `bitvec` view of step `t`.
    pub fn row_bits(&self, t: usize) -> &BitSlice<u64, Lsb0> {
        &BitSlice::from_slice(self.row(t))[..self.neurons]
    }

    /// Builds step rows from `bitvec` slices (one per step, each `neurons` long).
    pub fn from_bitslices(neurons: usize, rows: &[&BitSlice<u64, Lsb0>]) -> Result<Self> {
        let mut train = SpikeTrain::zeros(rows.len(), neurons);
        for (t, bits) in rows.iter().enumerate() {
            if bits.len() != neurons {
                return Err(Error::shape(format!(
                    "row {t} has {} bits, expected {neurons}",
                    bits.len()
                )));
            }
            for n in bits.iter_ones() {
                train.set(t, n, true);
            }
        }
        Ok(train)
    }
}

/// A batch of spike trains of equal shape: `batch x steps x neurons`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpikeBatch {
    trains: Vec<SpikeTrain>,
    steps: usize,
    neurons: usize,
}

impl SpikeBatch {
    /// All-zero batch.
    pub fn zeros(batch: usize, steps: usize, neurons: usize) -> Self {
        SpikeBatch {
            trains: vec![SpikeTrain::zeros(steps, neurons); batch],
            steps,
            neurons,
        }
    }

    /// Builds from trains that must all share one shape.
    pub fn from_trains(trains: Vec<SpikeTrain>) -> Result<Self> {
        let (steps, neurons) = trains
            .first()
            .map(|t| (t.steps(), t.neurons()))
            .unwrap_or((0, 0));
        for (i, t) in trains.iter().enumerate() {
            if t.steps() != steps || t.neurons() != neurons {
                return Err(Error::shape(format!(
                    "train {i} is {}x{}, expected {steps}x{neurons}",
                    t.steps(),
                    t.neurons()
                )));
            }
        }
        Ok(SpikeBatch {
            trains,
            steps,
            neurons,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.trains.len()
    }

    /// True when the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.trains.is_empty()
    }

    /// Timesteps per sample.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Neurons per step.
    pub fn neurons(&self) -> usize {
        self.neurons
    }

    /// The train of sample `i`.
    pub fn sample(&self, i: usize) -> &SpikeTrain {
        &self.trains[i]
    }

    /// Mutable train of sample `i`.
    pub fn sample_mut(&mut self, i: usize) -> &mut SpikeTrain {
        &mut self.trains[i]
    }

    /// All trains.
    pub fn trains(&self) -> &[SpikeTrain] {
        &self.trains
    }

    /// Total number of spikes.
    pub fn count(&self) -> usize {
        self.trains.iter().map(SpikeTrain::count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_popcnt_honours_the_cap() {
        use crate::fc::{Path, paths};
        if hardware_popcnt() {
            assert!(paths::allows(Path::Avx2));
        }
        if !paths::allows(Path::Avx2) {
            assert!(!hardware_popcnt());
        }
    }

    #[test]
    fn count_ones_hand_counted() {
        assert_eq!(count_ones(&[]), 0);
        assert_eq!(count_ones(&[0, u64::MAX, 0b1011, 1 << 63]), 68);
        let mut bits = 0;
        for_each_set_bit(&[0x8000_0000_0000_0001, 0xF0], |_| bits += 1);
        assert_eq!(count_ones(&[0x8000_0000_0000_0001, 0xF0]), bits);
    }

    #[test]
    fn set_bits_in_order_and_padding_clear() {
        let bools: Vec<bool> = (0..130).map(|i| i % 7 == 0 || i == 129).collect();
        let v = SpikeVec::from_bools(&bools);
        let ones: Vec<usize> = v.iter_ones().collect();
        let expected: Vec<usize> = (0..130).filter(|&i| bools[i]).collect();
        assert_eq!(ones, expected);
        assert_eq!(v.count(), expected.len());
        assert_eq!(v.words().len(), 3);
        assert_eq!(v.words()[2] >> 2, 0);
        assert_eq!(v.to_bools(), bools);
        assert_eq!(v.as_bitslice().count_ones(), expected.len());
    }

    #[test]
    fn from_words_rejects_padding() {
        assert!(SpikeVec::from_words(3, vec![0b1000]).is_err());
        assert!(SpikeVec::from_words(3, vec![0b100]).is_ok());
        assert!(SpikeVec::from_words(65, vec![0]).is_err());
    }

    #[test]
    fn train_round_trip_and_threshold() {
        let dense = [0.1f32, 0.9, 0.5, f32::NAN, 0.51, 0.0];
        let t = SpikeTrain::from_f32(2, 3, &dense, 0.5).unwrap();
        assert_eq!(t.to_bools(), vec![false, true, false, false, true, false]);
        assert_eq!(t.counts_per_neuron(), vec![0, 2, 0]);
        assert!(SpikeTrain::from_f32(2, 2, &dense, 0.5).is_err());
    }
}
