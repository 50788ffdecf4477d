//! Cache-line aligned, padded buffers for SIMD kernels.
//!
//! [`AlignedBuf`] holds a fixed number of `Copy` values whose first element sits on a 64-byte
//! boundary (one cache line, one AVX-512 register). Together with rows padded to a whole number of
//! cache lines ([`padded_len`]) this guarantees that a vector load at any vector-aligned offset
//! inside a row never crosses into the next row and never splits a cache line.
//!
//! It is written without `unsafe`: the buffer over-allocates one cache line and starts at the
//! first aligned element (`<*const T>::align_offset`). The backing `Vec` is never grown, so its
//! address, and therefore the alignment, never changes after construction; `Clone` recomputes
//! the offset for the new allocation.

use std::ops::{Deref, DerefMut};

/// Alignment of every [`AlignedBuf`] in bytes: one cache line.
pub const ALIGN: usize = 64;

/// Smallest multiple of one cache line (in elements of `T`) that holds `len` elements.
///
/// For `f32` that is a multiple of 16, for `i16` of 32, for `i8` of 64: a multiple of the lane
/// count of every SIMD register width the kernels use, up to 512 bits.
pub const fn padded_len<T>(len: usize) -> usize {
    let per_line = ALIGN / size_of::<T>();
    len.div_ceil(per_line) * per_line
}

/// A fixed-length buffer whose first element is 64-byte aligned. Dereferences to a slice.
#[derive(Debug)]
pub struct AlignedBuf<T> {
    data: Vec<T>,
    offset: usize,
    len: usize,
}

impl<T: Copy + Default> AlignedBuf<T> {
    /// `len` copies of `T::default()` (zero for numbers).
    pub fn zeroed(len: usize) -> Self {
        Self::filled(len, T::default())
    }

    /// `len` copies of `value`.
    pub fn filled(len: usize, value: T) -> Self {
        // One extra cache line of elements is enough to find an aligned start: allocations are
        // aligned to at least `align_of::<T>()`, and `ALIGN` is a multiple of it for every
        // primitive number type.
        let slack = ALIGN / size_of::<T>().max(1);
        let data = vec![value; len + slack];
        let offset = data.as_ptr().align_offset(ALIGN);
        assert!(offset <= slack, "cannot align the buffer");
        AlignedBuf { data, offset, len }
    }

    /// A copy of `values` in an aligned buffer.
    pub fn from_slice(values: &[T]) -> Self {
        let mut b = Self::zeroed(values.len());
        b.copy_from_slice(values);
        b
    }
}

impl<T: Copy + Default> Clone for AlignedBuf<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<T> Deref for AlignedBuf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data[self.offset..self.offset + self.len]
    }
}

impl<T> DerefMut for AlignedBuf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.data[self.offset..self.offset + self.len]
    }
}

impl<T: PartialEq> PartialEq for AlignedBuf<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_zeroed() {
        for len in [0, 1, 7, 64, 1000] {
            let b = AlignedBuf::<i16>::zeroed(len);
            assert_eq!(b.len(), len);
            assert_eq!(b.as_ptr() as usize % ALIGN, 0);
            assert!(b.iter().all(|&x| x == 0));
            let c = b.clone();
            assert_eq!(c.as_ptr() as usize % ALIGN, 0);
            assert_eq!(b, c);
        }
        let b = AlignedBuf::from_slice(&[1.5f32, 2.5]);
        assert_eq!(&*b, &[1.5, 2.5]);
        assert_eq!(b.as_ptr() as usize % ALIGN, 0);
    }

    #[test]
    fn padding() {
        assert_eq!(padded_len::<f32>(10), 16);
        assert_eq!(padded_len::<i16>(128), 128);
        assert_eq!(padded_len::<i16>(129), 160);
        assert_eq!(padded_len::<i8>(1), 64);
        assert_eq!(padded_len::<i32>(0), 0);
    }
}
