//! askama templates from `hdl_templates/`: every generated text file comes from one of them.

use askama::Template;
use serde::Serialize;

use crate::plan::{
    EncoderPlan, Header, LayerPlan, LeakHw, LoaderPlan, Plan, ReadoutPlan, ResetHw, SpikeInPlan,
};
use crate::{Error, Result};

#[derive(Template)]
#[template(path = "lif.v", escape = "none")]
struct LifV<'a> {
    h: &'a Header,
    l: &'a LayerPlan,
}

#[derive(Template)]
#[template(path = "layer.v", escape = "none")]
struct LayerV<'a> {
    h: &'a Header,
    l: &'a LayerPlan,
}

#[derive(Template)]
#[template(path = "layer_mem.v", escape = "none")]
struct LayerMemV<'a> {
    h: &'a Header,
    l: &'a LayerPlan,
}

#[derive(Template)]
#[template(path = "loader.v", escape = "none")]
struct LoaderV<'a> {
    h: &'a Header,
    ld: &'a LoaderPlan,
}

#[derive(Template)]
#[template(path = "scanner.v", escape = "none")]
struct ScannerV<'a> {
    h: &'a Header,
    l: &'a LayerPlan,
}

#[derive(Template)]
#[template(path = "lfsr_encoder.v", escape = "none")]
struct EncoderV<'a> {
    h: &'a Header,
    e: &'a EncoderPlan,
}

#[derive(Template)]
#[template(path = "lfsr_serial.v", escape = "none")]
struct EncoderSerialV<'a> {
    h: &'a Header,
    e: &'a EncoderPlan,
}

#[derive(Template)]
#[template(path = "spike_input.v", escape = "none")]
struct SpikeInV<'a> {
    h: &'a Header,
    s: &'a SpikeInPlan,
}

#[derive(Template)]
#[template(path = "readout.v", escape = "none")]
struct ReadoutV<'a> {
    h: &'a Header,
    r: &'a ReadoutPlan,
}

#[derive(Template)]
#[template(path = "top.v", escape = "none")]
struct TopV<'a> {
    h: &'a Header,
    r: &'a ReadoutPlan,
    layers: &'a [LayerPlan],
    ld: Option<&'a LoaderPlan>,
}

#[derive(Template)]
#[template(path = "testbench.v", escape = "none")]
struct TestbenchV<'a> {
    h: &'a Header,
    r: &'a ReadoutPlan,
    layers: &'a [LayerPlan],
    ld: Option<&'a LoaderPlan>,
}

// The match arms in lif.v name these types.
#[allow(dead_code)]
fn _types(_: LeakHw, _: ResetHw) {}

fn r(t: impl Template) -> Result<String> {
    let mut s = t
        .render()
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// A generated file: name relative to the output directory, and contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name.
    pub name: String,
    /// Contents.
    pub text: String,
}

/// The Verilog sources of the design in compile order (leaf modules first, top last).
pub fn verilog(plan: &Plan) -> Result<Vec<GeneratedFile>> {
    let h = &plan.header;
    let mut out = Vec::new();
    let mut f = |name: String, text: String| out.push(GeneratedFile { name, text });
    for l in &plan.layers {
        f(format!("{}_{}_lif.v", h.p, l.name), r(LifV { h, l })?);
        f(
            format!("{}_{}_scanner.v", h.p, l.name),
            r(ScannerV { h, l })?,
        );
        let text = if l.mem {
            r(LayerMemV { h, l })?
        } else {
            r(LayerV { h, l })?
        };
        f(format!("{}_{}_layer.v", h.p, l.name), text);
    }
    if let Some(ld) = &plan.loader {
        f(format!("{}_loader.v", h.p), r(LoaderV { h, ld })?);
    }
    if let Some(e) = &plan.encoder {
        let text = if e.serial {
            r(EncoderSerialV { h, e })?
        } else {
            r(EncoderV { h, e })?
        };
        f(format!("{}_lfsr_encoder.v", h.p), text);
    }
    if let Some(s) = &plan.spike_in {
        f(format!("{}_spike_input.v", h.p), r(SpikeInV { h, s })?);
    }
    f(
        format!("{}_readout.v", h.p),
        r(ReadoutV {
            h,
            r: &plan.readout,
        })?,
    );
    f(
        format!("{}.v", h.top),
        r(TopV {
            h,
            r: &plan.readout,
            layers: &plan.layers,
            ld: plan.loader.as_ref(),
        })?,
    );
    Ok(out)
}

/// The testbench source.
pub fn testbench(plan: &Plan) -> Result<GeneratedFile> {
    Ok(GeneratedFile {
        name: format!("{}_tb.v", plan.header.p),
        text: r(TestbenchV {
            h: &plan.header,
            r: &plan.readout,
            layers: &plan.layers,
            ld: plan.loader.as_ref(),
        })?,
    })
}

#[derive(Template)]
#[template(path = "multi_tb.v", escape = "none")]
struct MultiTb<'a> {
    prefixes: &'a [String],
}

/// A wrapper testbench that runs the testbenches of several designs (module prefixes) in one
/// simulation; each reads `+<prefix>_stimulus=` etc. and the wrapper needs `+multi`.
pub fn multi_testbench(prefixes: &[String]) -> Result<GeneratedFile> {
    if prefixes.is_empty() {
        return Err(Error::Input("multi_tb needs at least one design".into()));
    }
    Ok(GeneratedFile {
        name: "multi_tb.v".into(),
        text: r(MultiTb { prefixes })?,
    })
}

/// Parameters of the UART board wrapper.
#[derive(Clone, Debug, Serialize)]
pub struct UartParams {
    /// Board clock (MHz).
    pub clock_mhz: u32,
    /// Baud rate.
    pub baud: u32,
    /// Default clock cycles per bit.
    pub clks_per_bit: u32,
    /// Bit counter width (holds 1.5 bit times).
    pub cw: usize,
    /// Lane counter width.
    pub lw: usize,
    /// Pixel counter width.
    pub pw: usize,
    /// Cycles per bit in the UART testbench.
    pub tb_clks_per_bit: u32,
    /// UART testbench watchdog (cycles waiting for the class).
    pub tb_timeout: u64,
}

/// iCEBreaker clock (12 MHz oscillator on pin 35).
pub const BOARD_CLOCK_MHZ: u32 = 12;
/// Default baud rate of the UART wrapper.
pub const BAUD: u32 = 115_200;

#[derive(Template)]
#[template(path = "uart.v", escape = "none")]
struct UartV<'a> {
    h: &'a Header,
    r: &'a ReadoutPlan,
    e: &'a EncoderPlan,
    ld: Option<&'a LoaderPlan>,
    u: &'a UartParams,
}

#[derive(Template)]
#[template(path = "uart_tb.v", escape = "none")]
struct UartTbV<'a> {
    h: &'a Header,
    r: &'a ReadoutPlan,
    e: &'a EncoderPlan,
    ld: Option<&'a LoaderPlan>,
    u: &'a UartParams,
}

#[derive(Template)]
#[template(path = "icebreaker.pcf", escape = "none")]
struct Pcf<'a> {
    top: &'a str,
}

/// The UART board wrapper, its testbench and the iCEBreaker pin constraints (LFSR designs only:
/// the wrapper sends pixel bytes). `None` for `--encoder spikes`.
pub fn board(plan: &Plan) -> Result<Option<[GeneratedFile; 3]>> {
    let Some(e) = &plan.encoder else {
        return Ok(None);
    };
    let h = &plan.header;
    let cpb = BOARD_CLOCK_MHZ * 1_000_000 / BAUD;
    let u = UartParams {
        clock_mhz: BOARD_CLOCK_MHZ,
        baud: BAUD,
        clks_per_bit: cpb,
        cw: crate::plan::bits_for((cpb as usize) * 3 / 2 + 1),
        lw: crate::plan::clog2(e.lanes),
        pw: crate::plan::clog2(h.inputs),
        tb_clks_per_bit: 4,
        tb_timeout: h.timeout + 1000,
    };
    let ld = plan.loader.as_ref();
    let top = format!("{}_uart", h.p);
    Ok(Some([
        GeneratedFile {
            name: format!("{top}.v"),
            text: r(UartV {
                h,
                r: &plan.readout,
                e,
                ld,
                u: &u,
            })?,
        },
        GeneratedFile {
            name: format!("{top}_tb.v"),
            text: r(UartTbV {
                h,
                r: &plan.readout,
                e,
                ld,
                u: &u,
            })?,
        },
        GeneratedFile {
            name: "icebreaker.pcf".into(),
            text: r(Pcf { top: &top })?,
        },
    ]))
}
