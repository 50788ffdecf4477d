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
    /// Look-up tables (LUT6 on xc7 and generic `-lut 6`, SB_LUT4 on iCE40).
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
    let mems: Vec<String> = plan.layers.iter().map(|l| l.weight_file.clone()).collect();
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
                } else if t.starts_with("RAM") && t.contains('M') {
                    // distributed RAM (RAM32M, RAM64M, RAM128X1D, ...) occupies LUTs
                    r.luts += n;
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
