//! Hyperparameter experiments (temporary loader until kernels::data lands).
use std::io::Read;
use train::{Dataset, Loss, Surrogate, TrainConfig, train_snn};

fn gunzip(p: &str) -> Vec<u8> {
    let mut v = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut v)
        .unwrap();
    v
}

fn main() {
    let img = gunzip("../data/mnist/images-idx3-ubyte.gz");
    let lab = gunzip("../data/mnist/labels-idx1-ubyte.gz");
    let d = Dataset::new(28, 28, img[16..].to_vec(), lab[8..].to_vec(), 10).unwrap();
    let (tr, te) = d.split(8000).unwrap();
    let args: Vec<String> = std::env::args().collect();
    let get = |i: usize, d: f32| args.get(i).map(|s| s.parse().unwrap()).unwrap_or(d);
    let mut cfg = TrainConfig {
        epochs: get(1, 3.0) as usize,
        lr: get(2, 2e-3),
        batch_size: get(3, 64.0) as usize,
        max_shift: get(4, 2.0) as usize,
        ..Default::default()
    };
    let scale = get(5, 8.0);
    cfg.loss = if scale > 0.0 {
        Loss::CrossEntropyCount { scale }
    } else {
        Loss::MseCount {
            correct_rate: 0.8,
            incorrect_rate: 0.2,
        }
    };
    let sg = get(6, 25.0);
    cfg.surrogate = if sg > 0.0 {
        Surrogate::FastSigmoid { slope: sg }
    } else {
        Surrogate::Atan { alpha: -sg }
    };
    cfg.beta = get(7, 0.9375);
    eprintln!("{cfg:?}");
    let t0 = std::time::Instant::now();
    let out = train_snn(&cfg, &tr, Some(&te), |_| {}).unwrap();
    for h in &out.history {
        eprintln!("{h:?}");
    }
    eprintln!("total {:.1}s", t0.elapsed().as_secs_f32());
}
