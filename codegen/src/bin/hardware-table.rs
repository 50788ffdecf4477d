//! `hardware-table`: implements the bundled MNIST model for the iCE40 UP5K and xc7 over a sweep
//! of the parallelism P (and the architecture), and writes `docs/hardware.md` with the table
//! next to Spiker+. Every number comes from the tools: Yosys, nextpnr-ice40 (fmax, placed logic
//! cells), the exact timing model over the 2,000-digit test split (equal to simulation, checked
//! by `verify`), the integer golden model's accuracy (bit-exact to the hardware).
//!
//! Usage: `cargo run --release -p codegen --bin hardware-table [-- --jobs 2 --out docs/hardware.md]`
//! (tens of minutes on two cores). `--from out/hardware-table/results.json` re-renders the page
//! without running the tools; `--only xc7` runs only the matching configurations and keeps the
//! other rows (from the last results.json, else verbatim from the existing page).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Parser;
use codegen::plan::{Arch, WeightStore};
use codegen::stimulus::samples_from_images;
use codegen::synth::{self, Implementation};
use codegen::{EncoderKind, Error, Options, Plan, Target, generate, write_design};
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about = "Sweep the bundled model over targets and P; write docs/hardware.md")]
struct Args {
    /// Integer model.
    #[arg(long, default_value = "models/mnist_mlp_int8.safetensors")]
    model: PathBuf,
    /// MNIST IDX directory.
    #[arg(long, default_value = kernels::data::MNIST_DIR)]
    data: PathBuf,
    /// Work directory for the generated designs.
    #[arg(long, default_value = "out/hardware-table")]
    work: PathBuf,
    /// Markdown page to write.
    #[arg(long, default_value = "docs/hardware.md")]
    out: PathBuf,
    /// Implementation flows run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Re-render from a results.json of an earlier run instead of running the tools.
    #[arg(long)]
    from: Option<PathBuf>,
    /// Run only the configurations whose name contains this text (e.g. `xc7`); the other rows
    /// come from `<work>/results.json` when it has them, else they are kept verbatim from the
    /// existing page.
    #[arg(long)]
    only: Option<String>,
}

/// One configuration of the sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Config {
    name: String,
    target: String,
    arch: String,
    parallel: Option<usize>,
    neuron_units: Option<usize>,
}

/// Its result.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Row {
    config: Config,
    /// P per layer and neuron units per layer, as planned.
    parallel: Vec<usize>,
    neuron_units: Vec<usize>,
    accuracy: f64,
    samples: usize,
    cycles_mean: f64,
    cycles_min: u64,
    cycles_max: u64,
    implementation: Option<serde_json::Value>,
    error: Option<String>,
}

fn configs() -> Vec<Config> {
    let c = |name: &str, target: &str, arch: &str, p: Option<usize>, nu: Option<usize>| Config {
        name: name.into(),
        target: target.into(),
        arch: arch.into(),
        parallel: p,
        neuron_units: nu,
    };
    vec![
        c("ice40-mem-p1", "ice40up5k", "mem", Some(1), None),
        c("ice40-mem-p2", "ice40up5k", "mem", Some(2), None),
        // P = 8 packs to about 96 % of the logic cells: the analytic placer cannot legalise it
        // and simulated annealing runs for hours, so it is not part of the sweep.
        c("ice40-mem-p4", "ice40up5k", "mem", Some(4), None),
        c("xc7-mem-p16", "xc7", "mem", Some(16), None),
        c("xc7-mem-p32", "xc7", "mem", Some(32), None),
        c("xc7-mem-p64", "xc7", "mem", Some(64), None),
        c("xc7-regs-p128", "xc7", "regs", Some(128), None),
        c("xc7-regs-p64", "xc7", "regs", Some(64), None),
        c("xc7-regs-p64-nu8", "xc7", "regs", Some(64), Some(8)),
    ]
}

fn run_one(args: &Args, cfg: &Config) -> codegen::Result<Row> {
    let model = kernels::model_io::load_int_model(&args.model)
        .map_err(|e| Error::Input(format!("{}: {e}", args.model.display())))?;
    let target = match cfg.target.as_str() {
        "ice40up5k" => Target::Ice40up5k,
        _ => Target::Xc7,
    };
    let opts = Options {
        parallel: cfg.parallel,
        neuron_units: cfg.neuron_units,
        target,
        encoder: EncoderKind::Lfsr,
        arch: if cfg.arch == "mem" {
            Arch::Mem
        } else {
            Arch::Regs
        },
        weights: WeightStore::Auto,
        ..Options::default()
    };
    let plan = Plan::new(&model, &opts)?;
    let mnist = kernels::data::load_mnist(&args.data)
        .map_err(|e| Error::Input(format!("{}: {e}", args.data.display())))?;
    let n = mnist.test.len();
    let imgs: Vec<&[u8]> = (0..n).map(|i| mnist.test.image(i)).collect();
    let samples = samples_from_images(&plan, &imgs)?;
    let mut d = generate(&model, &opts, &samples, Some(&mnist.test.labels[..n]))?;
    let dir = args.work.join(&cfg.name);
    write_design(&mut d, &dir, true)?;
    let s = &d.summary;
    let imp: codegen::Result<Implementation> = match target {
        Target::Ice40up5k => {
            let (top, _, _) = d.board.clone().expect("LFSR design");
            synth::implement_ice40(
                &dir,
                &top,
                "icebreaker.pcf",
                s.cycles_per_inference,
                "mnist.bin",
            )
        }
        _ => synth::implement_xc7(&dir, &s.top, s.cycles_per_inference),
    };
    let (implementation, error) = match imp {
        Ok(i) => (
            Some(serde_json::to_value(&i).map_err(|e| Error::Internal(e.to_string()))?),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Row {
        config: cfg.clone(),
        parallel: d.plan.layers.iter().map(|l| l.pp).collect(),
        neuron_units: d.plan.layers.iter().map(|l| l.nu).collect(),
        accuracy: s.golden_accuracy.unwrap_or(0.0),
        samples: s.samples,
        cycles_mean: s.cycles_per_inference,
        cycles_min: s.cycles_min,
        cycles_max: s.cycles_max,
        implementation,
        error,
    })
}

fn f(v: &serde_json::Value, k: &str) -> Option<f64> {
    v.get(k).and_then(|x| x.as_f64())
}

fn u(v: &serde_json::Value, k: &str) -> Option<u64> {
    v.get(k).and_then(|x| x.as_u64())
}

const TABLE_HEAD: &str = "| design | target | arch | P (fc1, fc2) | logic | FFs | block RAM | DSP | clock | \
     cycles / image (mean) | latency / image | images/s | accuracy (2,000 test digits) | fits |\n\
     |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

/// One table line: a result rendered now, or a line kept from the existing page.
enum Line {
    Row(Box<Row>),
    Kept(String),
}

fn table(lines: &[Line]) -> String {
    let mut t = String::from(TABLE_HEAD);
    for line in lines {
        let r = match line {
            Line::Row(r) => r,
            Line::Kept(text) => {
                t.push_str(text);
                t.push('\n');
                continue;
            }
        };
        let c = &r.config;
        let p = format!(
            "{} / NU {}",
            r.parallel
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            r.neuron_units
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let acc = format!("{:.2} % (hardware = golden)", 100.0 * r.accuracy);
        let Some(i) = &r.implementation else {
            t.push_str(&format!(
                "| `{}` | {} | {} | {} | tool error: {} | | | | | {:.0} | | | {} | ? |\n",
                c.name,
                c.target,
                c.arch,
                p,
                r.error.clone().unwrap_or_default().replace('\n', " "),
                r.cycles_mean,
                acc
            ));
            continue;
        };
        let ice = c.target == "ice40up5k";
        let fits = i.get("fits").and_then(|x| x.as_bool()).unwrap_or(false);
        let logic = if ice {
            format!(
                "{} / 5,280 LC",
                u(i, "luts").map(|x| x.to_string()).unwrap_or_default()
            )
        } else {
            format!(
                "{} LUT6",
                u(i, "luts").map(|x| x.to_string()).unwrap_or_default()
            )
        };
        let ram = if ice {
            format!(
                "{} / 30 EBR + {} / 4 SPRAM",
                u(i, "ebr").unwrap_or(0),
                u(i, "spram").unwrap_or(0)
            )
        } else {
            format!(
                "{} RAMB18 + {} RAMB36",
                u(i, "bram18").unwrap_or(0),
                u(i, "bram36").unwrap_or(0)
            )
        };
        let overflow: Vec<String> = i
            .get("overflow")
            .and_then(|o| o.as_array())
            .map(|a| {
                a.iter()
                    .map(|o| {
                        format!(
                            "{} over by {} ({} / {})",
                            o["resource"].as_str().unwrap_or("?"),
                            o["over"],
                            o["used"],
                            o["available"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (clock, lat, ips) = if fits {
            let clk = f(i, "clock_mhz").unwrap_or(0.0);
            let clock = if ice {
                format!("{clk:.1} MHz (nextpnr fmax)")
            } else {
                format!("{clk:.0} MHz (assumed)")
            };
            let lat = if ice {
                format!(
                    "{:.0} µs ({:.0} µs at the board's 12 MHz)",
                    f(i, "latency_us").unwrap_or(0.0),
                    r.cycles_mean / 12.0
                )
            } else {
                format!("{:.0} µs", f(i, "latency_us").unwrap_or(0.0))
            };
            (
                clock,
                lat,
                format!("{:.0}", f(i, "images_per_s").unwrap_or(0.0)),
            )
        } else {
            ("—".into(), "—".into(), "—".into())
        };
        t.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |\n",
            c.name,
            if ice { "iCE40 UP5K" } else { "xc7 (Yosys)" },
            c.arch,
            p,
            logic,
            u(i, "ffs").unwrap_or(0),
            ram,
            u(i, "dsp").unwrap_or(0),
            clock,
            r.cycles_mean,
            lat,
            ips,
            acc,
            if fits {
                "yes".to_string()
            } else {
                format!("**no**: {}", overflow.join("; "))
            }
        ));
    }
    t.push_str(
        "| Spiker+ (published) | Xilinx | one physical neuron per network neuron | — | 7,612 logic \
         cells | — | 18 BRAM | — | 100 MHz | — | 780 µs | 1,282 | 93.85 % | — |\n",
    );
    t
}

const PAGE_HEAD: &str = include_str!("hardware_page_head.md");
const PAGE_TAIL: &str = include_str!("hardware_page_tail.md");

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hardware-table: {e}");
            ExitCode::from(match e {
                Error::Input(_) | Error::Io(_) => 2,
                _ => 1,
            })
        }
    }
}

fn run(args: &Args) -> codegen::Result<()> {
    let lines: Vec<Line> = if let Some(from) = &args.from {
        let text = std::fs::read_to_string(from)
            .map_err(|e| Error::Input(format!("{}: {e}", from.display())))?;
        let rows: Vec<Row> = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", from.display())))?;
        rows.into_iter().map(|r| Line::Row(Box::new(r))).collect()
    } else {
        if args.jobs == 0 {
            return Err(Error::Input("--jobs must be at least 1".into()));
        }
        let all = configs();
        let cfgs: Vec<Config> = all
            .iter()
            .filter(|c| {
                args.only
                    .as_ref()
                    .is_none_or(|o| c.name.contains(o.as_str()))
            })
            .cloned()
            .collect();
        if cfgs.is_empty() {
            return Err(Error::Input(format!(
                "--only {:?} matches no configuration",
                args.only.as_deref().unwrap_or("")
            )));
        }
        let fresh = run_configs(args, &cfgs)?;
        let results_path = args.work.join("results.json");
        // With --only: the other rows from the last run's results, else from the page.
        let (old_rows, old_page) = if args.only.is_some() {
            let rows: Vec<Row> = std::fs::read_to_string(&results_path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            (rows, std::fs::read_to_string(&args.out).unwrap_or_default())
        } else {
            (Vec::new(), String::new())
        };
        let mut lines = Vec::new();
        let mut rows = Vec::new();
        for c in &all {
            let found = fresh
                .iter()
                .chain(old_rows.iter())
                .find(|r| r.config.name == c.name);
            if let Some(r) = found {
                rows.push(r.clone());
                lines.push(Line::Row(Box::new(r.clone())));
            } else if let Some(l) = old_page
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", c.name)))
            {
                lines.push(Line::Kept(l.to_string()));
            } else {
                eprintln!(
                    "hardware-table: no result for {} (not run, not on the page)",
                    c.name
                );
            }
        }
        std::fs::create_dir_all(&args.work)
            .map_err(|e| Error::Io(format!("{}: {e}", args.work.display())))?;
        let json =
            serde_json::to_string_pretty(&rows).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(&results_path, json)
            .map_err(|e| Error::Io(format!("{}: {e}", results_path.display())))?;
        lines
    };
    let page = format!("{PAGE_HEAD}\n{}\n{PAGE_TAIL}", table(&lines));
    write_page(&args.out, &page)
}

/// Runs the configurations, `--jobs` at a time; the rows in the order of `cfgs`.
fn run_configs(args: &Args, cfgs: &[Config]) -> codegen::Result<Vec<Row>> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; cfgs.len()]);
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|sc| {
        for _ in 0..args.jobs {
            sc.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= cfgs.len() {
                        break;
                    }
                    eprintln!("hardware-table: {} ...", cfgs[i].name);
                    match run_one(args, &cfgs[i]) {
                        Ok(r) => {
                            eprintln!("hardware-table: {} done", cfgs[i].name);
                            results.lock().unwrap()[i] = Some(r)
                        }
                        Err(e) => {
                            first_err.lock().unwrap().get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_err.into_inner().unwrap() {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .flatten()
        .collect())
}

fn write_page(path: &Path, page: &str) -> codegen::Result<()> {
    std::fs::write(path, page).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}
