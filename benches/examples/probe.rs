use benches::{Rng, random_spikes, random_weights};
use kernels::fc::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(|s| s.as_str()).unwrap_or("i16");
    let path = match args.get(2).map(|s| s.as_str()).unwrap_or("avx2") {
        "portable" => Path::Portable,
        "scalar" => Path::Scalar,
        _ => Path::Avx2,
    };
    let n: usize = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Rng::new(1);
    let spikes = random_spikes(&mut rng, 784, 0.10);
    let wi = random_weights(&mut rng, 784 * 128, -40, 40);
    let w16: Vec<i16> = wi.iter().map(|&w| w as i16).collect();
    let wf: Vec<f32> = wi.iter().map(|&w| w as f32).collect();
    let m16 = RowMatrix::from_output_major(128, 784, &w16).unwrap();
    let mf = RowMatrix::from_output_major(128, 784, &wf).unwrap();
    let r16 = I16Rows::new(m16.clone(), &[]).unwrap();
    let mut o16 = vec![0i16; 128];
    let mut o32 = vec![0i32; 128];
    let mut of = vec![0f32; 128];
    let sops = kernels::spikes::count_ones(&spikes) * 128;
    for _ in 0..n {
        match which {
            "i16" => r16
                .currents_with(path, std::hint::black_box(&spikes), &mut o16)
                .unwrap(),
            "i32" => {
                accumulate_rows_with(path, &m16, std::hint::black_box(&spikes), &mut o32).unwrap()
            }
            _ => accumulate_rows_with(path, &mf, std::hint::black_box(&spikes), &mut of).unwrap(),
        }
        std::hint::black_box(&o16);
    }
    eprintln!("calls {n} sops/call {sops}");
}
