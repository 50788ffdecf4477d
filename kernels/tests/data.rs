//! IDX reader and MNIST split against the bundled files and hand-made malformed files.

use std::io::Write;
use std::path::PathBuf;

use kernels::data::{TEST_SAMPLES, TRAIN_SAMPLES, load_mnist, read_idx};

fn mnist_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/mnist")
}

#[test]
fn bundled_mnist_split_matches_its_readme() {
    let m = load_mnist(mnist_dir()).unwrap();
    assert_eq!(m.train.len(), TRAIN_SAMPLES);
    assert_eq!(m.test.len(), TEST_SAMPLES);
    assert_eq!((m.test.rows, m.test.cols), (28, 28));
    assert_eq!(m.train.images.len(), TRAIN_SAMPLES * 784);
    // Label counts of the test split as stated in data/mnist/README.md (computed there in Python).
    let mut counts = [0usize; 10];
    for &l in &m.test.labels {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [202, 214, 190, 219, 199, 174, 205, 205, 197, 195]);
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_plain_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let raw = [0u8, 0, 8, 1, 0, 0, 0, 4, 9, 8, 7, 6];
    std::fs::write(dir.path().join("a"), raw).unwrap();
    std::fs::write(dir.path().join("a.gz"), gz(&raw)).unwrap();
    let a = read_idx(dir.path().join("a")).unwrap();
    let b = read_idx(dir.path().join("a.gz")).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.data, vec![9, 8, 7, 6]);
}

#[test]
fn truncated_gzip_and_missing_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = [0u8, 0, 8, 1, 0, 0, 0, 4, 9, 8];
    let p = dir.path().join("short.gz");
    std::fs::write(&p, gz(&raw)).unwrap();
    let e = read_idx(&p).unwrap_err().to_string();
    assert!(e.contains("short.gz") && e.contains("truncated"), "{e}");
    // A gzip stream cut in the middle.
    let full = gz(&[0u8; 5000]);
    let p = dir.path().join("cut.gz");
    std::fs::write(&p, &full[..full.len() / 2]).unwrap();
    let e = read_idx(&p).unwrap_err().to_string();
    assert!(e.contains("cut.gz"), "{e}");
    let e = read_idx(dir.path().join("nope")).unwrap_err().to_string();
    assert!(e.contains("nope") && e.contains("cannot open"), "{e}");
    // A directory without the MNIST files.
    let e = load_mnist(dir.path()).unwrap_err().to_string();
    assert!(e.contains("images-idx3-ubyte"), "{e}");
}

#[test]
fn mismatched_label_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // 2 images of 28x28, 3 labels.
    let mut img = vec![0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    img.extend(vec![0u8; 2 * 784]);
    std::fs::write(dir.path().join("images-idx3-ubyte"), &img).unwrap();
    std::fs::write(
        dir.path().join("labels-idx1-ubyte"),
        [0u8, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3],
    )
    .unwrap();
    let e = load_mnist(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("labels-idx1-ubyte") && e.contains("3 labels"),
        "{e}"
    );
    // Label out of range.
    std::fs::write(
        dir.path().join("labels-idx1-ubyte"),
        [0u8, 0, 8, 1, 0, 0, 0, 2, 1, 12],
    )
    .unwrap();
    let e = load_mnist(dir.path()).unwrap_err().to_string();
    assert!(e.contains("label 1 is 12"), "{e}");
    // Consistent but too few digits for the split.
    std::fs::write(
        dir.path().join("labels-idx1-ubyte"),
        [0u8, 0, 8, 1, 0, 0, 0, 2, 1, 2],
    )
    .unwrap();
    let e = load_mnist(dir.path()).unwrap_err().to_string();
    assert!(e.contains("holds 2 digits"), "{e}");
}
