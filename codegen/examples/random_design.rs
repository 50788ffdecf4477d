//! Writes the design of a seeded random model: `cargo run -p codegen --example random_design --
//! OUT_DIR [SEED] [spikes|lfsr] [P]`. Handy for looking at generated Verilog of odd sizes.

use codegen::random::{RandomSpec, Rng, random_model};
use codegen::stimulus::random_samples;
use codegen::{EncoderKind, Options, Plan, generate, write_design};
use kernels::model::Encoding;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .expect("usage: random_design OUT_DIR [SEED] [spikes|lfsr] [P]");
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let lfsr = args.get(3).map(|s| s == "lfsr").unwrap_or(false);
    let mut rng = Rng::new(seed);
    let sizes = vec![
        rng.range(2, 40) as usize,
        rng.range(1, 20) as usize,
        rng.range(2, 6) as usize,
    ];
    let spec = RandomSpec {
        sizes,
        timesteps: rng.range(1, 12) as usize,
        encoding: Encoding::Lfsr {
            seed: rng.next_u64() as u32,
            lanes: rng.range(1, 9) as u32,
        },
    };
    let model = random_model(&mut rng, "rnd", &spec);
    let opts = Options {
        parallel: args.get(4).and_then(|s| s.parse().ok()),
        encoder: if lfsr {
            EncoderKind::Lfsr
        } else {
            EncoderKind::Spikes
        },
        ..Options::default()
    };
    let plan = Plan::new(&model, &opts).expect("plan");
    let samples = random_samples(&plan, 6, seed);
    let mut d = generate(&model, &opts, &samples, None).expect("generate");
    write_design(&mut d, std::path::Path::new(out), true).expect("write");
    println!("{}", serde_json::to_string_pretty(&d.summary).unwrap());
}
