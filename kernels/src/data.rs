//! IDX (MNIST-format) dataset reader, gzip or plain, and the project's fixed MNIST split.
//!
//! An IDX file is a 4-byte magic (`0x00 0x00 <type> <ndims>`), `ndims` big-endian `u32`
//! dimensions, then the values in row-major order. Only unsigned bytes (type `0x08`) are
//! supported: that is what MNIST-format images and labels use. Files starting with the gzip
//! magic (`1f 8b`) are decompressed on the fly. The header is read and checked *before* any
//! allocation for the data, so a corrupt or hostile header cannot make the reader allocate
//! gigabytes; truncated files and trailing bytes are errors. Every error names the file.
//!
//! The split is fixed everywhere in the project: the first [`TRAIN_SAMPLES`] digits are the
//! training set, the last [`TEST_SAMPLES`] the test set ([`load_mnist`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Number of digits in the training split (the first digits of the file).
pub const TRAIN_SAMPLES: usize = 8_000;
/// Number of digits in the test split (the last digits of the file).
pub const TEST_SAMPLES: usize = 2_000;
/// Largest IDX payload accepted, in values (bytes); larger headers are refused before
/// allocating. 256 Mi values is far above any MNIST-format data set.
pub const MAX_IDX_VALUES: usize = 1 << 28;
/// Largest number of dimensions accepted in an IDX header.
pub const MAX_IDX_DIMS: usize = 8;
/// IDX type code of unsigned bytes.
pub const IDX_U8: u8 = 0x08;
/// Default directory of the bundled MNIST files, relative to the repository root.
pub const MNIST_DIR: &str = "data/mnist";

/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[10000, 28, 28]` for images).
    pub dims: Vec<usize>,
    /// Values in row-major order, `dims.iter().product()` of them.
    pub data: Vec<u8>,
}

fn fmt_err(path: &str, msg: impl std::fmt::Display) -> Error {
    Error::format(format!("{path}: {msg}"))
}

/// Reads an IDX file of unsigned bytes (gzip or plain).
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::Io(format!("{name}: cannot open: {e}")))?;
    read_idx_from(BufReader::new(file), &name)
}

/// Reads IDX data, gzip or plain, from any reader (a file, a socket, bytes in memory); `name`
/// labels errors. The same checks as [`read_idx`] apply: header before allocation, no
/// truncation, no trailing bytes.
pub fn read_idx_from(mut reader: impl Read, name: &str) -> Result<IdxArray> {
    let mut head = [0u8; 2];
    // Peek at the first two bytes to tell gzip from plain, then chain them back in front.
    let n = read_up_to(&mut reader, &mut head).map_err(|e| io_err(name, e))?;
    let prefix = std::io::Cursor::new(head[..n].to_vec());
    let chained = prefix.chain(reader);
    if n == 2 && head == [0x1f, 0x8b] {
        parse_idx_reader(flate2::read::GzDecoder::new(chained), name)
    } else {
        parse_idx_reader(chained, name)
    }
}

/// Parses IDX bytes already in memory (plain, not gzip); `name` labels errors.
pub fn parse_idx(bytes: &[u8], name: &str) -> Result<IdxArray> {
    parse_idx_reader(bytes, name)
}

fn io_err(name: &str, e: std::io::Error) -> Error {
    Error::Io(format!("{name}: read failed: {e}"))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads exactly `buf.len()` bytes, reporting a short read as truncation of `what`.
fn read_exact_named(r: &mut impl Read, buf: &mut [u8], name: &str, what: &str) -> Result<()> {
    let got = read_up_to(r, buf).map_err(|e| io_err(name, e))?;
    if got < buf.len() {
        return Err(fmt_err(
            name,
            format!(
                "truncated IDX file: {what} needs {} bytes, only {got} present",
                buf.len()
            ),
        ));
    }
    Ok(())
}

fn parse_idx_reader(mut r: impl Read, name: &str) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    read_exact_named(&mut r, &mut magic, name, "the 4-byte magic")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(fmt_err(
            name,
            format!(
                "not an IDX file (magic {:02x} {:02x} {:02x} {:02x}, expected 00 00 <type> <dims>)",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != IDX_U8 {
        return Err(fmt_err(
            name,
            format!(
                "IDX type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
                magic[2]
            ),
        ));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 || ndims > MAX_IDX_DIMS {
        return Err(fmt_err(
            name,
            format!("IDX header declares {ndims} dimensions, expected 1..={MAX_IDX_DIMS}"),
        ));
    }
    let mut dim_bytes = vec![0u8; 4 * ndims];
    read_exact_named(&mut r, &mut dim_bytes, name, "the dimension header")?;
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_IDX_VALUES);
    let Some(total) = total else {
        return Err(fmt_err(
            name,
            format!("IDX dimensions {dims:?} exceed the limit of {MAX_IDX_VALUES} values"),
        ));
    };
    if total == 0 {
        return Err(fmt_err(
            name,
            format!("IDX dimensions {dims:?} hold no values"),
        ));
    }
    let mut data = vec![0u8; total];
    read_exact_named(&mut r, &mut data, name, &format!("data of shape {dims:?}"))?;
    let mut extra = [0u8; 1];
    if read_up_to(&mut r, &mut extra).map_err(|e| io_err(name, e))? != 0 {
        return Err(fmt_err(
            name,
            format!("trailing bytes after the {total} values of shape {dims:?}"),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Labelled grey-scale images, one byte per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Image height in pixels.
    pub rows: usize,
    /// Image width in pixels.
    pub cols: usize,
    /// `len() * rows * cols` pixels, image after image, row-major.
    pub images: Vec<u8>,
    /// One class label per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the set holds no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i`. Panics when `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// The images `range` as a new data set. Panics when the range is out of bounds.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Dataset {
        let p = self.pixels();
        Dataset {
            rows: self.rows,
            cols: self.cols,
            images: self.images[range.start * p..range.end * p].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }

    /// The first `n` images (all of them when `n >= len()`).
    pub fn take(&self, n: usize) -> Dataset {
        self.slice(0..n.min(self.len()))
    }
}

/// Reads an image file (`N x rows x cols`) and a label file (`N`) into a [`Dataset`],
/// checking that counts agree and that every label is below `classes`.
pub fn load_idx_pair(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    classes: u8,
) -> Result<Dataset> {
    let (ipath, lpath) = (images.as_ref(), labels.as_ref());
    let (iname, lname) = (ipath.display().to_string(), lpath.display().to_string());
    let img = read_idx(ipath)?;
    let lab = read_idx(lpath)?;
    if img.dims.len() != 3 {
        return Err(fmt_err(
            &iname,
            format!(
                "images must have 3 dimensions (N x rows x cols), found {:?}",
                img.dims
            ),
        ));
    }
    if lab.dims.len() != 1 {
        return Err(fmt_err(
            &lname,
            format!("labels must have 1 dimension (N), found {:?}", lab.dims),
        ));
    }
    if img.dims[0] != lab.dims[0] {
        return Err(fmt_err(
            &lname,
            format!(
                "{} labels but {iname} holds {} images",
                lab.dims[0], img.dims[0]
            ),
        ));
    }
    if let Some(i) = lab.data.iter().position(|&l| l >= classes) {
        return Err(fmt_err(
            &lname,
            format!(
                "label {i} is {}, expected 0..{}",
                lab.data[i],
                classes as u32 - 1
            ),
        ));
    }
    Ok(Dataset {
        rows: img.dims[1],
        cols: img.dims[2],
        images: img.data,
        labels: lab.data,
    })
}

/// The project's MNIST split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    /// The first [`TRAIN_SAMPLES`] digits.
    pub train: Dataset,
    /// The last [`TEST_SAMPLES`] digits.
    pub test: Dataset,
}

fn find_file(dir: &Path, stem: &str) -> PathBuf {
    let gz = dir.join(format!("{stem}.gz"));
    if gz.exists() { gz } else { dir.join(stem) }
}

/// Loads `images-idx3-ubyte[.gz]` and `labels-idx1-ubyte[.gz]` from `dir` (the bundled files
/// are in [`MNIST_DIR`]) and splits them: the first [`TRAIN_SAMPLES`] digits train, the last
/// [`TEST_SAMPLES`] test. Images must be 28 x 28 and there must be at least
/// `TRAIN_SAMPLES + TEST_SAMPLES` digits, so the two splits never overlap.
pub fn load_mnist(dir: impl AsRef<Path>) -> Result<Mnist> {
    let dir = dir.as_ref();
    let ipath = find_file(dir, "images-idx3-ubyte");
    let lpath = find_file(dir, "labels-idx1-ubyte");
    let all = load_idx_pair(&ipath, &lpath, 10)?;
    if all.rows != 28 || all.cols != 28 {
        return Err(fmt_err(
            &ipath.display().to_string(),
            format!(
                "MNIST images must be 28 x 28, found {} x {}",
                all.rows, all.cols
            ),
        ));
    }
    let n = all.len();
    if n < TRAIN_SAMPLES + TEST_SAMPLES {
        return Err(fmt_err(
            &ipath.display().to_string(),
            format!(
                "holds {n} digits, the split needs at least {}",
                TRAIN_SAMPLES + TEST_SAMPLES
            ),
        ));
    }
    Ok(Mnist {
        train: all.slice(0..TRAIN_SAMPLES),
        test: all.slice(n - TEST_SAMPLES..n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hand_written_idx() {
        // magic 00 00 08 02, dims 2 x 3, six values.
        let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
        let a = parse_idx(&bytes, "t").unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn refuses_malformed_headers() {
        let e = |b: &[u8]| parse_idx(b, "f.idx").unwrap_err().to_string();
        assert!(e(&[1, 0, 8, 1]).contains("not an IDX file"));
        assert!(e(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]).contains("type 0x0d"));
        assert!(e(&[0, 0, 8, 0]).contains("0 dimensions"));
        assert!(e(&[0, 0, 8]).contains("truncated"));
        assert!(e(&[0, 0, 8, 1, 0, 0]).contains("truncated"));
        // 3 declared values, 2 present.
        assert!(e(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2]).contains("truncated"));
        // 1 declared value, 2 present.
        assert!(e(&[0, 0, 8, 1, 0, 0, 0, 1, 1, 2]).contains("trailing"));
        // 2^32-1 x 2^32-1 x 2^32-1 values: refused from the header alone.
        let huge = [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ];
        let m = e(&huge);
        assert!(m.contains("exceed the limit") && m.contains("f.idx"), "{m}");
    }
}
