//! The labelled image set the trainers consume, and the augmentation and input encodings used
//! during training.
//!
//! Reading IDX files is `kernels::data`'s job; this type only holds what was read, so the CLI
//! and the tests can build it from any source.

use kernels::{Error, Result};

use crate::rng::Rng;

/// Labelled 8-bit images, row-major, `pixels = height * width` bytes each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// `len * height * width` pixel bytes.
    pub images: Vec<u8>,
    /// One class label per image.
    pub labels: Vec<u8>,
    /// Number of classes (labels are `< classes`).
    pub classes: usize,
}

impl Dataset {
    /// Builds and validates a dataset: sizes must agree and every label must be `< classes`.
    pub fn new(
        height: usize,
        width: usize,
        images: Vec<u8>,
        labels: Vec<u8>,
        classes: usize,
    ) -> Result<Self> {
        let pixels = height
            .checked_mul(width)
            .filter(|&p| p > 0)
            .ok_or_else(|| Error::shape(format!("image size {height}x{width} is invalid")))?;
        if images.len() != labels.len() * pixels {
            return Err(Error::shape(format!(
                "{} image bytes for {} labels of {height}x{width} pixels",
                images.len(),
                labels.len()
            )));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= classes) {
            return Err(Error::invalid(format!(
                "label {i} is {}, not below {classes} classes",
                labels[i]
            )));
        }
        Ok(Dataset {
            height,
            width,
            images,
            labels,
            classes,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// The images `range` as a new dataset (e.g. the 8,000 / 2,000 split).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Dataset {
        let p = self.pixels();
        Dataset {
            height: self.height,
            width: self.width,
            images: self.images[range.start * p..range.end * p].to_vec(),
            labels: self.labels[range].to_vec(),
            classes: self.classes,
        }
    }

    /// The project's split: first `train` images for training, the rest for testing.
    pub fn split(&self, train: usize) -> Result<(Dataset, Dataset)> {
        if train > self.len() {
            return Err(Error::invalid(format!(
                "training split of {train} images exceeds the {} available",
                self.len()
            )));
        }
        Ok((self.slice(0..train), self.slice(train..self.len())))
    }
}

/// Copies `src` shifted by `(dy, dx)` pixels into `dst`, filling with zeros: the augmentation
/// that lifts MNIST accuracy by about a point on 8,000 training digits.
pub fn shift_image(src: &[u8], height: usize, width: usize, dy: isize, dx: isize, dst: &mut [u8]) {
    dst.fill(0);
    for y in 0..height as isize {
        let sy = y - dy;
        if sy < 0 || sy >= height as isize {
            continue;
        }
        for x in 0..width as isize {
            let sx = x - dx;
            if sx < 0 || sx >= width as isize {
                continue;
            }
            dst[(y * width as isize + x) as usize] = src[(sy * width as isize + sx) as usize];
        }
    }
}

/// Bernoulli rate coding for training: pixel `p` spikes with probability `p / 256` per step
/// (the same law as the hardware LFSR encoder). Writes the active pixel indices of every step
/// into `out[t]`.
pub fn rate_encode_indices(image: &[u8], steps: usize, rng: &mut Rng, out: &mut Vec<Vec<u32>>) {
    out.resize_with(steps, Vec::new);
    for row in out.iter_mut().take(steps) {
        row.clear();
        let mut bits = 0u64;
        let mut left = 0;
        for (j, &p) in image.iter().enumerate() {
            if p == 0 {
                continue;
            }
            if left == 0 {
                bits = rng.next_u64();
                left = 8;
            }
            let r = (bits & 0xFF) as u8;
            bits >>= 8;
            left -= 1;
            if p > r {
                row.push(j as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_moves_pixels_and_fills_zero() {
        // 3x3 image with pixels 1..9; shift down 1, right 1.
        let src: Vec<u8> = (1..=9).collect();
        let mut dst = vec![0; 9];
        shift_image(&src, 3, 3, 1, 1, &mut dst);
        assert_eq!(dst, vec![0, 0, 0, 0, 1, 2, 0, 4, 5]);
        shift_image(&src, 3, 3, -1, 0, &mut dst);
        assert_eq!(dst, vec![4, 5, 6, 7, 8, 9, 0, 0, 0]);
    }

    #[test]
    fn rate_encoding_follows_intensity() {
        let image = [0u8, 64, 192, 255];
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        let mut counts = [0usize; 4];
        let steps = 20_000;
        rate_encode_indices(&image, steps, &mut rng, &mut out);
        for row in &out {
            for &j in row {
                counts[j as usize] += 1;
            }
        }
        assert_eq!(counts[0], 0);
        // Expected p/256: 0.25, 0.75, 255/256; binomial sd at 20k steps < 0.0035.
        let f = |c: usize| c as f64 / steps as f64;
        assert!((f(counts[1]) - 0.25).abs() < 0.015, "{counts:?}");
        assert!((f(counts[2]) - 0.75).abs() < 0.015, "{counts:?}");
        assert!((f(counts[3]) - 255.0 / 256.0).abs() < 0.01, "{counts:?}");
    }

    #[test]
    fn dataset_validation() {
        assert!(Dataset::new(2, 2, vec![0; 8], vec![0, 1], 10).is_ok());
        assert!(Dataset::new(2, 2, vec![0; 7], vec![0, 1], 10).is_err());
        assert!(Dataset::new(2, 2, vec![0; 8], vec![0, 10], 10).is_err());
    }
}
