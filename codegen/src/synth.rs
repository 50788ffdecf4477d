//! Target handling: Yosys scripts per target, a Vivado Tcl script, running Yosys and reading
//! its `stat -json` into a resource report. Kept in one module so that an implementation flow
//! (nextpnr, bitstreams) can build on it.

use std::path::Path;
use std::process::Command;

use askama::Template;
use serde::Serialize;

use crate::plan::{Plan, Target};
use crate::{Error, Result};

/// All targets, in the order scripts are written.
pub const TARGETS: [Target; 3] = [Target::Generic, Target::Ice40up5k, Target::Xc7];

/// Resources counted by Yosys for one target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// Look-up tables (LUT6 on xc7, including the LUTs of distributed RAM; generic `-lut 6`;
    /// SB_LUT4 on iCE40).
    pub luts: u64,
    /// Flip-flops.
    pub ffs: u64,
    /// Block RAMs (RAMB36E1 + RAMB18E1 on xc7, SB_RAM40_4K on iCE40).
    pub brams: u64,
    /// Of which RAMB18E1 (xc7 only).
    pub bram18: u64,
    /// DSP blocks.
    pub dsps: u64,
    /// Carry cells (CARRY4 / SB_CARRY).
    pub carries: u64,
    /// All cells.
    pub cells: u64,
}

#[derive(Template)]
#[template(path = "synth.ys", escape = "none")]
struct YosysScript<'a> {
    top: &'a str,
    files: &'a [String],
    synth_cmd: String,
    target: &'a str,
}

#[derive(Template)]
#[template(path = "vivado.tcl", escape = "none")]
struct VivadoTcl<'a> {
    top: &'a str,
    files: &'a [String],
    mems: &'a [String],
}

/// File name of the Yosys script for `target`.
pub fn script_name(target: Target) -> String {
    format!("synth_{}.ys", target.name())
}

/// File name of the `stat -json` report written by that script.
pub fn stat_name(target: Target) -> String {
    format!("stat_{}.json", target.name())
}

fn synth_cmd(target: Target, top: &str) -> String {
    match target {
        Target::Generic => format!("synth -top {top} -flatten -lut 6"),
        Target::Ice40up5k => format!("synth_ice40 -top {top} -dsp -json {top}_ice40.json"),
        Target::Xc7 => format!("synth_xilinx -family xc7 -top {top} -flatten"),
    }
}

/// The Yosys script for `target` over the given Verilog files (run from the output directory).
pub fn yosys_script(plan: &Plan, target: Target, files: &[String]) -> Result<String> {
    YosysScript {
        top: &plan.header.top,
        files,
        synth_cmd: synth_cmd(target, &plan.header.top),
        target: target.name(),
    }
    .render()
    .map_err(|e| Error::Internal(format!("template: {e}")))
}

/// A Vivado non-project Tcl script adding the sources and memory files.
pub fn vivado_tcl(plan: &Plan, files: &[String]) -> Result<String> {
    let mems: Vec<String> = plan
        .layers
        .iter()
        .flat_map(|l| [l.weight_file.clone(), l.bias_file.clone()])
        .collect();
    VivadoTcl {
        top: &plan.header.top,
        files,
        mems: &mems,
    }
    .render()
    .map_err(|e| Error::Internal(format!("template: {e}")))
}

/// Runs `yosys -q -s <script>` in `dir` and parses the `stat -json` it writes.
pub fn run_yosys(dir: &Path, target: Target) -> Result<Resources> {
    let out = Command::new("yosys")
        .arg("-q")
        .arg("-s")
        .arg(script_name(target))
        .current_dir(dir)
        .output()
        .map_err(|e| {
            Error::Tool(format!(
                "cannot run yosys ({e}); install the Debian package `yosys`"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Tool(format!(
            "yosys failed for target {} in {}:\n{}{}",
            target.name(),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let path = dir.join(stat_name(target));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    parse_stat(&text, target)
}

/// Parses Yosys `stat -json` output (the `design` totals) into [`Resources`].
pub fn parse_stat(text: &str, target: Target) -> Result<Resources> {
    // `tee -o` may prefix the JSON with the command echo; start at the first brace.
    let start = text
        .find('{')
        .ok_or_else(|| Error::Tool("yosys stat output holds no JSON".into()))?;
    let v: serde_json::Value = serde_json::from_str(&text[start..])
        .map_err(|e| Error::Tool(format!("yosys stat JSON: {e}")))?;
    let design = &v["design"];
    let cells = design["num_cells"].as_u64().unwrap_or(0);
    let by = design["num_cells_by_type"]
        .as_object()
        .ok_or_else(|| Error::Tool("yosys stat JSON lacks num_cells_by_type".into()))?;
    let mut r = Resources {
        cells,
        ..Resources::default()
    };
    for (ty, n) in by {
        let n = n.as_u64().unwrap_or(0);
        let t = ty.as_str();
        match target {
            Target::Xc7 => {
                if t.starts_with("LUT") {
                    r.luts += n;
                } else if t.starts_with("FD") {
                    r.ffs += n;
                } else if t == "RAMB36E1" {
                    r.brams += n;
                } else if t == "RAMB18E1" {
                    r.brams += n;
                    r.bram18 += n;
                } else if t.starts_with("DSP48") {
                    r.dsps += n;
                } else if t == "CARRY4" {
                    r.carries += n;
                } else if let Some(k) = xc7_lutram_luts(t) {
                    // distributed RAM occupies LUTs of a SLICEM: count the LUTs, not the cells
                    r.luts += n * k;
                }
            }
            Target::Ice40up5k => {
                if t == "SB_LUT4" {
                    r.luts += n;
                } else if t.starts_with("SB_DFF") {
                    r.ffs += n;
                } else if t == "SB_RAM40_4K" {
                    r.brams += n;
                } else if t == "SB_MAC16" {
                    r.dsps += n;
                } else if t == "SB_CARRY" {
                    r.carries += n;
                }
            }
            Target::Generic => {
                if t == "$lut" {
                    r.luts += n;
                } else if t.contains("DFF") || t.contains("dff") {
                    r.ffs += n;
                } else if t.contains("mem") {
                    r.brams += n;
                }
            }
        }
    }
    Ok(r)
}

/// LUT6 sites taken by one xc7 distributed-RAM primitive (7 Series Libraries Guide: RAM32M and
/// RAM64M take 4, the `X1D` dual-port ones twice their single-port depth / 64), `None` for
/// other cells.
fn xc7_lutram_luts(t: &str) -> Option<u64> {
    Some(match t {
        "RAM32M" | "RAM64M" => 4,
        "RAM32M16" | "RAM64M8" => 8,
        "RAM32X1S" | "RAM64X1S" => 1,
        "RAM32X1D" | "RAM64X1D" | "RAM128X1S" => 2,
        "RAM128X1D" | "RAM256X1S" => 4,
        "RAM256X1D" => 8,
        _ => return None,
    })
}

/// A resource that does not fit the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overflow {
    /// Resource name (e.g. "logic cells (SB_LUT4)").
    pub resource: String,
    /// Needed.
    pub used: u64,
    /// The device's.
    pub available: u64,
    /// `used - available`.
    pub over: u64,
}

/// The result of `--implement`: resources out of the device's, clock, latency, bitstream.
#[derive(Clone, Debug, Serialize)]
pub struct Implementation {
    /// Target name.
    pub target: String,
    /// Device (and package) the numbers are checked against.
    pub device: String,
    /// Top module implemented.
    pub top: String,
    /// Everything fits the device (and, on the iCE40, placed and routed).
    pub fits: bool,
    /// What overflowed (empty when it fits).
    pub overflow: Vec<Overflow>,
    /// iCE40: logic cells (LUT4 + FF pairs) placed by nextpnr (or Yosys' SB_LUT4 count when
    /// nextpnr did not run); xc7: LUT6 (Yosys).
    pub luts: u64,
    /// Of the device.
    pub luts_available: u64,
    /// Flip-flops (Yosys).
    pub ffs: u64,
    /// iCE40 EBR (SB_RAM40_4K, 4 Kbit) used.
    pub ebr: Option<u64>,
    /// iCE40 SPRAM (SB_SPRAM256KA) used.
    pub spram: Option<u64>,
    /// xc7 RAMB18E1 used.
    pub bram18: Option<u64>,
    /// xc7 RAMB36E1 used.
    pub bram36: Option<u64>,
    /// DSP blocks (SB_MAC16 / DSP48E1).
    pub dsp: u64,
    /// Maximum clock from nextpnr's timing analysis (iCE40 only).
    pub fmax_mhz: Option<f64>,
    /// Clock the latency is given at: fmax on the iCE40, 100 MHz (an assumption, no timing
    /// analysis) on xc7.
    pub clock_mhz: f64,
    /// Mean cycles per inference (the timing model, equal to simulation, over the samples).
    pub cycles_per_inference: f64,
    /// Latency per image at `clock_mhz`.
    pub latency_us: f64,
    /// Images per second at `clock_mhz` (one image at a time).
    pub images_per_s: f64,
    /// iCE40: latency on the iCEBreaker as generated (12 MHz oscillator, no PLL).
    pub board_latency_us: Option<f64>,
    /// Bitstream file (iCE40).
    pub bitstream: Option<String>,
    /// Pin constraints used (iCE40).
    pub pcf: Option<String>,
}

/// iCE40 UP5K capacity (Lattice iCE40 UltraPlus data sheet): logic cells, EBR, SPRAM, DSP.
pub const UP5K: [(&str, u64); 4] = [
    ("logic cells", 5280),
    ("EBR (SB_RAM40_4K)", 30),
    ("SPRAM (SB_SPRAM256KA)", 4),
    ("DSP (SB_MAC16)", 8),
];

/// The package nextpnr places into: sg48, as on the iCEBreaker and UPduino boards.
pub const UP5K_PACKAGE: &str = "sg48";

/// xc7a35t (the Vivado script's default part): LUTs, FFs, RAMB18 (two per RAMB36), DSP48E1.
pub const XC7A35T: [(&str, u64); 4] = [
    ("LUTs", 20_800),
    ("flip-flops", 41_600),
    ("RAMB18 equivalents", 100),
    ("DSP48E1", 90),
];

/// Name of the Yosys script of the iCE40 implementation flow.
pub const IMPL_SCRIPT: &str = "impl_ice40up5k.ys";

/// The Yosys script of the iCE40 implementation flow: synthesises the board wrapper `top`
/// (SPRAM inference on) into `impl_ice40up5k.json` for nextpnr.
pub fn impl_script(files: &[String], top: &str) -> String {
    let mut s = format!(
        "# iCE40 UP5K implementation, step 1 (then nextpnr-ice40 --up5k --package {UP5K_PACKAGE} \
         and icepack).\n# Run from this directory: yosys -s {IMPL_SCRIPT}\n"
    );
    for f in files {
        s.push_str(&format!("read_verilog {f}\n"));
    }
    s.push_str(&format!(
        "hierarchy -check -top {top}\nproc\nselect -assert-none t:$dlatch t:$adlatch \
         t:$dlatchsr\ncheck -assert\nsynth_ice40 -top {top} -spram -dsp -json \
         impl_ice40up5k.json\ncheck -assert\ntee -q -o impl_stat_ice40up5k.json stat -json\n"
    ));
    s
}

fn run_logged(cmd: &mut Command, what: &str, pkg: &str) -> Result<std::process::Output> {
    cmd.output().map_err(|e| {
        Error::Tool(format!(
            "cannot run {what} ({e}); install the Debian package `{pkg}`"
        ))
    })
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn overflows(need: &[(&str, u64)], have: &[(&str, u64)]) -> Vec<Overflow> {
    need.iter()
        .zip(have)
        .filter(|((_, u), (_, a))| u > a)
        .map(|((_, u), (name, a))| Overflow {
            resource: name.to_string(),
            used: *u,
            available: *a,
            over: u - a,
        })
        .collect()
}

/// Counts of iCE40 cells in a Yosys `stat -json` text: (LUT4, FF, EBR, SPRAM, MAC16).
pub fn ice40_cells(text: &str) -> Result<(u64, u64, u64, u64, u64)> {
    let start = text
        .find('{')
        .ok_or_else(|| Error::Tool("yosys stat output holds no JSON".into()))?;
    let v: serde_json::Value = serde_json::from_str(&text[start..])
        .map_err(|e| Error::Tool(format!("yosys stat JSON: {e}")))?;
    let by = v["design"]["num_cells_by_type"]
        .as_object()
        .ok_or_else(|| Error::Tool("yosys stat JSON lacks num_cells_by_type".into()))?;
    let mut c = (0, 0, 0, 0, 0);
    for (t, n) in by {
        let n = n.as_u64().unwrap_or(0);
        match t.as_str() {
            "SB_LUT4" => c.0 += n,
            t if t.starts_with("SB_DFF") => c.1 += n,
            "SB_RAM40_4K" => c.2 += n,
            "SB_SPRAM256KA" => c.3 += n,
            "SB_MAC16" => c.4 += n,
            _ => {}
        }
    }
    Ok(c)
}

/// What nextpnr's `--report` JSON says: used cells per bel type and the worst fmax (MHz).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PnrReport {
    /// (bel type, used, available).
    pub utilization: Vec<(String, u64, u64)>,
    /// Lowest achieved fmax over the clock domains.
    pub fmax_mhz: Option<f64>,
}

impl PnrReport {
    /// Used count of a bel type.
    pub fn used(&self, ty: &str) -> Option<u64> {
        self.utilization
            .iter()
            .find(|(t, _, _)| t == ty)
            .map(|(_, u, _)| *u)
    }
}

/// Parses nextpnr's `--report` JSON (`utilization.<bel>.{used,available}`,
/// `fmax.<clock>.achieved`).
pub fn parse_pnr_report(text: &str) -> Result<PnrReport> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Tool(format!("nextpnr report JSON: {e}")))?;
    let mut r = PnrReport::default();
    if let Some(u) = v["utilization"].as_object() {
        for (k, x) in u {
            r.utilization.push((
                k.clone(),
                x["used"].as_u64().unwrap_or(0),
                x["available"].as_u64().unwrap_or(0),
            ));
        }
    } else {
        return Err(Error::Tool("nextpnr report JSON has no utilization".into()));
    }
    if let Some(f) = v["fmax"].as_object() {
        r.fmax_mhz = f
            .values()
            .filter_map(|x| x["achieved"].as_f64())
            .min_by(|a, b| a.total_cmp(b));
    }
    Ok(r)
}

/// Device-utilisation lines of a nextpnr log (`ICESTORM_LC:  6000/ 5280   113%`): the bel types
/// whose use exceeds the device.
pub fn parse_pnr_log_overflow(log: &str) -> Vec<Overflow> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.split("Info:").nth(1) else {
            continue;
        };
        let rest = rest.trim();
        let Some((name, nums)) = rest.split_once(':') else {
            continue;
        };
        if !name.starts_with("ICESTORM_") && !name.starts_with("SB_") {
            continue;
        }
        let Some((u, a)) = nums.split_once('/') else {
            continue;
        };
        let used = u.trim().parse::<u64>();
        let avail = a.split_whitespace().next().map(|x| x.parse::<u64>());
        if let (Ok(used), Some(Ok(available))) = (used, avail)
            && used > available
            && !out.iter().any(|o: &Overflow| o.resource == name)
        {
            out.push(Overflow {
                resource: name.to_string(),
                used,
                available,
                over: used - available,
            });
        }
    }
    out
}

/// Runs the iCE40 UP5K flow in `dir` (where [`IMPL_SCRIPT`] and `pcf` were written): Yosys,
/// a resource check against the UP5K, nextpnr-ice40 (`--up5k --package sg48`, timing report)
/// and icepack. A design that does not fit returns `Ok` with `fits == false` and the overflow.
pub fn implement_ice40(
    dir: &Path,
    top: &str,
    pcf: &str,
    cycles: f64,
    bitstream_name: &str,
) -> Result<Implementation> {
    let out = run_logged(
        Command::new("yosys")
            .args(["-q", "-l", "impl_yosys.log", "-s", IMPL_SCRIPT])
            .current_dir(dir),
        "yosys",
        "yosys",
    )?;
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.join("impl_yosys.log")).unwrap_or_default();
        return Err(Error::Tool(format!(
            "yosys failed in {} (see impl_yosys.log):\n{}{}",
            dir.display(),
            tail(&log, 20),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let stat_path = dir.join("impl_stat_ice40up5k.json");
    let stat = std::fs::read_to_string(&stat_path)
        .map_err(|e| Error::Io(format!("{}: {e}", stat_path.display())))?;
    let (luts, ffs, ebr, spram, dsp) = ice40_cells(&stat)?;
    let mut imp = Implementation {
        target: Target::Ice40up5k.name().into(),
        device: format!("iCE40 UP5K ({UP5K_PACKAGE})"),
        top: top.into(),
        fits: true,
        overflow: Vec::new(),
        luts,
        luts_available: UP5K[0].1,
        ffs,
        ebr: Some(ebr),
        spram: Some(spram),
        bram18: None,
        bram36: None,
        dsp,
        fmax_mhz: None,
        clock_mhz: 0.0,
        cycles_per_inference: cycles,
        latency_us: 0.0,
        images_per_s: 0.0,
        board_latency_us: Some(cycles / crate::render::BOARD_CLOCK_MHZ as f64),
        bitstream: None,
        pcf: Some(pcf.into()),
    };
    // LUT4s and flip-flops each need a logic cell at least.
    let need = [
        ("logic cells", luts.max(ffs)),
        ("", ebr),
        ("", spram),
        ("", dsp),
    ];
    let mut ov = overflows(&need, &UP5K);
    if let Some(o) = ov.first_mut()
        && o.resource == "logic cells"
    {
        o.resource = if luts >= ffs {
            "logic cells (Yosys SB_LUT4 count)".into()
        } else {
            "logic cells (Yosys flip-flop count)".into()
        };
    }
    if !ov.is_empty() {
        imp.fits = false;
        imp.overflow = ov;
        return Ok(imp);
    }
    // The analytic placer (heap, the default) can fail to legalise a design near 90 %
    // utilisation; simulated annealing is slower but packs such designs, so it is the fallback.
    let mut log = String::new();
    let mut placed = false;
    for placer in ["heap", "sa"] {
        let out = run_logged(
            Command::new("nextpnr-ice40")
                .args(["--up5k", "--package", UP5K_PACKAGE, "--json"])
                .arg("impl_ice40up5k.json")
                .args(["--pcf", pcf, "--asc", "impl_ice40up5k.asc"])
                .args(["--report", "nextpnr_report.json", "--freq", "24"])
                .args(["--placer", placer, "--timing-allow-fail", "--seed", "1"])
                .args(["-q", "-l", "nextpnr.log"])
                .current_dir(dir),
            "nextpnr-ice40",
            "nextpnr-ice40",
        )?;
        log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
        if out.status.success() {
            placed = true;
            break;
        }
        let ov = parse_pnr_log_overflow(&log);
        if !ov.is_empty() {
            imp.fits = false;
            imp.overflow = ov;
            return Ok(imp);
        }
        if !log.contains("Unable to find legal placement") {
            return Err(Error::Tool(format!(
                "nextpnr-ice40 failed in {} (see nextpnr.log):\n{}",
                dir.display(),
                tail(&log, 20)
            )));
        }
    }
    if !placed {
        // Both placers gave up: report the packed logic cells against the device.
        let lc = log
            .lines()
            .find_map(|l| {
                let r = l.split("ICESTORM_LC:").nth(1)?;
                r.split('/').next()?.trim().parse::<u64>().ok()
            })
            .unwrap_or(luts);
        imp.fits = false;
        imp.luts = lc;
        imp.overflow = vec![Overflow {
            resource: format!(
                "logic cells (placement failed at {lc} of {} packed cells, the placers' \
                 utilisation limit)",
                UP5K[0].1
            ),
            used: lc,
            available: UP5K[0].1,
            over: lc.saturating_sub(UP5K[0].1),
        }];
        return Ok(imp);
    }
    let rp = dir.join("nextpnr_report.json");
    let report = parse_pnr_report(
        &std::fs::read_to_string(&rp).map_err(|e| Error::Io(format!("{}: {e}", rp.display())))?,
    )?;
    if let Some(lc) = report.used("ICESTORM_LC") {
        imp.luts = lc;
    }
    if let Some(r) = report.used("ICESTORM_RAM") {
        imp.ebr = Some(r);
    }
    if let Some(r) = report.used("ICESTORM_SPRAM") {
        imp.spram = Some(r);
    }
    if let Some(r) = report.used("ICESTORM_DSP") {
        imp.dsp = r;
    }
    let fmax = report
        .fmax_mhz
        .ok_or_else(|| Error::Tool("nextpnr report has no fmax".into()))?;
    imp.fmax_mhz = Some(fmax);
    imp.set_clock(fmax);
    let out = run_logged(
        Command::new("icepack")
            .arg("impl_ice40up5k.asc")
            .arg(bitstream_name)
            .current_dir(dir),
        "icepack",
        "fpga-icestorm",
    )?;
    if !out.status.success() {
        return Err(Error::Tool(format!(
            "icepack failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    imp.bitstream = Some(dir.join(bitstream_name).display().to_string());
    Ok(imp)
}

/// The xc7 flow: Yosys `synth_xilinx -family xc7` (the design's `synth_xc7.ys`), resources
/// checked against the xc7a35t, latency at an assumed 100 MHz (no timing analysis without
/// Vivado).
pub fn implement_xc7(dir: &Path, top: &str, cycles: f64) -> Result<Implementation> {
    let r = run_yosys(dir, Target::Xc7)?;
    let bram36 = r.brams - r.bram18;
    let need = [
        ("", r.luts),
        ("", r.ffs),
        ("", r.bram18 + 2 * bram36),
        ("", r.dsps),
    ];
    let overflow = overflows(&need, &XC7A35T);
    let mut imp = Implementation {
        target: Target::Xc7.name().into(),
        device: "xc7a35t (resources from Yosys synth_xilinx)".into(),
        top: top.into(),
        fits: overflow.is_empty(),
        overflow,
        luts: r.luts,
        luts_available: XC7A35T[0].1,
        ffs: r.ffs,
        ebr: None,
        spram: None,
        bram18: Some(r.bram18),
        bram36: Some(bram36),
        dsp: r.dsps,
        fmax_mhz: None,
        clock_mhz: 0.0,
        cycles_per_inference: cycles,
        latency_us: 0.0,
        images_per_s: 0.0,
        board_latency_us: None,
        bitstream: None,
        pcf: None,
    };
    imp.set_clock(100.0);
    Ok(imp)
}

impl Implementation {
    /// Sets the clock and derives latency and throughput from the cycle count.
    pub fn set_clock(&mut self, mhz: f64) {
        self.clock_mhz = mhz;
        self.latency_us = self.cycles_per_inference / mhz;
        self.images_per_s = if self.latency_us > 0.0 {
            1e6 / self.latency_us
        } else {
            0.0
        };
    }

    /// A human-readable report.
    pub fn table(&self) -> String {
        let mut s = format!("{} on {}, top {}\n", self.target, self.device, self.top);
        let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
        let lut_name = if self.ebr.is_some() {
            "logic cells"
        } else {
            "LUTs"
        };
        row(
            &mut s,
            lut_name,
            format!("{} / {}", self.luts, self.luts_available),
        );
        row(&mut s, "flip-flops", self.ffs.to_string());
        if let Some(e) = self.ebr {
            row(&mut s, "EBR (4 Kbit)", format!("{e} / {}", UP5K[1].1));
        }
        if let Some(e) = self.spram {
            row(&mut s, "SPRAM (256 Kbit)", format!("{e} / {}", UP5K[2].1));
        }
        if let (Some(a), Some(b)) = (self.bram18, self.bram36) {
            row(&mut s, "RAMB18E1 / RAMB36E1", format!("{a} / {b}"));
        }
        row(&mut s, "DSP", self.dsp.to_string());
        match self.fmax_mhz {
            Some(f) => row(&mut s, "fmax (nextpnr)", format!("{f:.1} MHz")),
            None => row(
                &mut s,
                "clock",
                format!("{:.0} MHz (assumed)", self.clock_mhz),
            ),
        }
        row(
            &mut s,
            "cycles per inference",
            format!("{:.0}", self.cycles_per_inference),
        );
        row(
            &mut s,
            "latency",
            format!(
                "{:.1} us at {:.1} MHz ({:.0} images/s)",
                self.latency_us, self.clock_mhz, self.images_per_s
            ),
        );
        if let Some(b) = self.board_latency_us {
            row(
                &mut s,
                "latency on the board",
                format!(
                    "{b:.1} us at the iCEBreaker's {} MHz oscillator (no PLL)",
                    crate::render::BOARD_CLOCK_MHZ
                ),
            );
        }
        if let Some(b) = &self.bitstream {
            row(&mut s, "bitstream", b.clone());
        }
        if self.fits {
            row(&mut s, "fits", "yes".into());
        } else {
            row(&mut s, "fits", "NO".into());
            for o in &self.overflow {
                s.push_str(&format!(
                    "  overflow: {} needs {}, the device has {} ({} too many, {:.0} %)\n",
                    o.resource,
                    o.used,
                    o.available,
                    o.over,
                    100.0 * o.used as f64 / o.available.max(1) as f64
                ));
            }
        }
        s
    }
}
