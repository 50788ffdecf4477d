//! Trains the small convolutional SNN and prints its learning curve (experiment).
use train::conv::{ConvTrainConfig, train_conv_snn};

fn main() {
    let m = kernels::data::load_mnist("data/mnist").expect("data/mnist");
    let epochs = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let channels = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let gain = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    let n = std::env::args()
        .nth(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8000);
    let pth = std::env::args()
        .nth(5)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    let dg = std::env::args()
        .nth(6)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let cfg = ConvTrainConfig {
        epochs,
        channels,
        init_gain: gain,
        pool_threshold: pth,
        dense_gain: dg,
        ..ConvTrainConfig::default()
    };
    let train = m.train.take(n);
    let t = std::time::Instant::now();
    let out = train_conv_snn(&cfg, &train, Some(&m.test), |_| {}).expect("training");
    for h in &out.trained.history {
        println!("{h:?}");
    }
    let lfsr = kernels::model::Encoding::Lfsr { seed: 1, lanes: 16 };
    println!(
        "test (LFSR inputs, own forward): {:.4}",
        out.net.accuracy(&m.test, cfg.timesteps, &lfsr).unwrap()
    );
    println!("total {:.1} s", t.elapsed().as_secs_f32());
}
