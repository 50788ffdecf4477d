//! Shared helpers for the integration tests.
#![allow(dead_code)]

use kernels::data::Dataset;

/// A small deterministic 3-class problem on 6x6 images: class `c` lights up horizontal band
/// `c` (rows 2c and 2c+1) with intensities 150-255, every other pixel gets noise 0-60.
/// The pixel noise comes from a fixed LCG so the set does not depend on the code under test.
pub fn bands(n: usize, seed: u32) -> Dataset {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut next = move || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 24) as u8
    };
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let c = (i % 3) as u8;
        for y in 0..6 {
            for _x in 0..6 {
                let r = next();
                let v = if y / 2 == c as usize {
                    150 + (r as u16 * 105 / 255) as u8
                } else {
                    r / 4 - r / 16
                };
                images.push(v);
            }
        }
        labels.push(c);
    }
    Dataset {
        rows: 6,
        cols: 6,
        images,
        labels,
    }
}
