//! Float `Model` -> NIR file, readable by Python's `nir.read`.
//!
//! The inverse of snnTorch's exporter, since that is what the default import semantics undo:
//! a LIF layer with decay `beta` becomes `LIF(tau = dt / (1 - beta), r = tau / dt, v_leak = 0,
//! v_threshold, v_reset = 0)` with `dt = 1e-4`; `beta = 1` becomes `IF(r = 1)`; a synaptic
//! layer becomes `CubaLIF(tau_syn = dt / (1 - alpha), tau_mem = dt / (1 - beta),
//! r = tau_mem / dt, w_in = tau_syn / dt)`. Importing the file with `--semantics snntorch` and
//! the same dt gives the model back.

use std::path::Path;

use hdf5_pure::{FileBuilder, GroupBuilder};
use kernels::model::{LayerOp, Model, Shape};
use kernels::neuron::{FiringRule, Neuron, ResetMode};

use crate::{Error, Result};

/// Options of [`export`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    /// Time step used to turn decays into time constants (default 1e-4, snnTorch's).
    pub dt: f64,
    /// Gzip-compress the numeric datasets as nir >= 1.0.8 does (default true).
    pub compress: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            dt: 1e-4,
            compress: true,
        }
    }
}

/// NIR version written into exported files (the node layout of nir 1.0).
const NIR_VERSION: &str = "1.0.8";

/// Writes `model` as a NIR file at `path`.
pub fn export(model: &Model, path: &Path, opts: &ExportOptions) -> Result<()> {
    let bytes = export_bytes(model, opts)?;
    std::fs::write(path, bytes)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

fn dims(s: Shape) -> Vec<u64> {
    if s.height == 1 && s.width == 1 {
        vec![s.channels as u64]
    } else {
        vec![s.channels as u64, s.height as u64, s.width as u64]
    }
}

struct Writer {
    compress: bool,
}

impl Writer {
    fn string(&self, g: &mut GroupBuilder, name: &str, value: &str) {
        g.create_dataset(name)
            .with_vlen_strings(&[value])
            .with_shape(&[]);
    }

    fn f32s(&self, g: &mut GroupBuilder, name: &str, v: &[f32], shape: &[u64]) {
        let d = g.create_dataset(name);
        d.with_f32_data(v).with_shape(shape);
        if self.compress && !shape.is_empty() {
            d.with_chunks(shape).with_deflate(4);
        }
    }

    fn f64s(&self, g: &mut GroupBuilder, name: &str, v: f64, shape: &[u64], count: usize) {
        let d = g.create_dataset(name);
        d.with_f64_data(&vec![v; count]).with_shape(shape);
        if self.compress && !shape.is_empty() {
            d.with_chunks(shape).with_deflate(4);
        }
    }

    fn i64s(&self, g: &mut GroupBuilder, name: &str, v: &[i64], shape: &[u64]) {
        let d = g.create_dataset(name);
        d.with_i64_data(v).with_shape(shape);
        if self.compress && !shape.is_empty() {
            d.with_chunks(shape).with_deflate(4);
        }
    }
}

/// Serialises `model` as the bytes of a NIR (HDF5) file.
pub fn export_bytes(model: &Model, opts: &ExportOptions) -> Result<Vec<u8>> {
    model.validate()?;
    let dt = opts.dt;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::Options(format!(
            "dt {dt} must be a positive number of seconds"
        )));
    }
    let w = Writer {
        compress: opts.compress,
    };
    let mut fb = FileBuilder::new();
    fb.create_dataset("version")
        .with_vlen_strings(&[NIR_VERSION])
        .with_shape(&[]);
    let mut root = fb.create_group("node");
    w.string(&mut root, "type", "NIRGraph");
    let mut nodes = root.create_group("nodes");
    let mut chain: Vec<String> = vec!["input".into()];
    let mut g = nodes.create_group("input");
    w.string(&mut g, "type", "Input");
    let in_dims = dims(model.input);
    w.i64s(
        &mut g,
        "shape",
        &in_dims.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        &[in_dims.len() as u64],
    );
    nodes.add_group(g.finish());
    let mut shape = model.input;
    for l in &model.layers {
        let out = l.op.output_shape()?;
        if matches!(l.op, LayerOp::Dense { .. }) && shape.height * shape.width != 1 {
            // kernels lets a dense layer read a CxHxW map in channel-major order; NIR (and
            // PyTorch) need an explicit Flatten for that.
            let fname = format!("{}_flatten", l.name);
            let mut g = nodes.create_group(&fname);
            w.string(&mut g, "type", "Flatten");
            w.i64s(&mut g, "start_dim", &[0], &[]);
            w.i64s(&mut g, "end_dim", &[-1], &[]);
            let d = dims(shape);
            w.i64s(
                &mut g,
                "input_type",
                &d.iter().map(|&x| x as i64).collect::<Vec<_>>(),
                &[d.len() as u64],
            );
            nodes.add_group(g.finish());
            chain.push(fname);
        }
        let mut g = nodes.create_group(&l.name);
        match l.op {
            LayerOp::Dense { inputs, outputs } => {
                let shp = [outputs as u64, inputs as u64];
                if l.bias.is_empty() {
                    w.string(&mut g, "type", "Linear");
                } else {
                    w.string(&mut g, "type", "Affine");
                    w.f32s(&mut g, "bias", &l.bias, &[outputs as u64]);
                }
                w.f32s(&mut g, "weight", &l.weights, &shp);
            }
            LayerOp::Conv2d {
                input,
                out_channels,
                kernel,
                stride,
                padding,
            } => {
                w.string(&mut g, "type", "Conv2d");
                let shp = [
                    out_channels as u64,
                    input.channels as u64,
                    kernel[0] as u64,
                    kernel[1] as u64,
                ];
                w.f32s(&mut g, "weight", &l.weights, &shp);
                let bias = if l.bias.is_empty() {
                    vec![0.0; out_channels]
                } else {
                    l.bias.clone()
                };
                w.f32s(&mut g, "bias", &bias, &[out_channels as u64]);
                let s = stride as i64;
                let p = padding as i64;
                w.i64s(&mut g, "stride", &[s, s], &[2]);
                w.i64s(&mut g, "padding", &[p, p], &[2]);
                w.i64s(&mut g, "dilation", &[1, 1], &[2]);
                w.i64s(&mut g, "groups", &[1], &[]);
                w.i64s(
                    &mut g,
                    "input_shape",
                    &[input.height as i64, input.width as i64],
                    &[2],
                );
            }
            LayerOp::SumPool2d { kernel, .. } | LayerOp::AvgPool2d { kernel, .. } => {
                let kind = if matches!(l.op, LayerOp::SumPool2d { .. }) {
                    "SumPool2d"
                } else {
                    "AvgPool2d"
                };
                w.string(&mut g, "type", kind);
                let k = kernel as i64;
                w.i64s(&mut g, "kernel_size", &[k, k], &[2]);
                w.i64s(&mut g, "stride", &[k, k], &[2]);
                w.i64s(&mut g, "padding", &[0, 0], &[2]);
            }
            LayerOp::Flatten { input } => {
                w.string(&mut g, "type", "Flatten");
                w.i64s(&mut g, "start_dim", &[0], &[]);
                w.i64s(&mut g, "end_dim", &[-1], &[]);
                let d = dims(input);
                w.i64s(
                    &mut g,
                    "input_type",
                    &d.iter().map(|&x| x as i64).collect::<Vec<_>>(),
                    &[d.len() as u64],
                );
            }
        }
        nodes.add_group(g.finish());
        chain.push(l.name.clone());
        if let Some(n) = &l.neuron {
            let nname = format!("{}_neurons", l.name);
            let mut g = nodes.create_group(&nname);
            neuron_node(&w, &mut g, n, out, dt, &l.name)?;
            nodes.add_group(g.finish());
            chain.push(nname);
        }
        shape = out;
    }
    let mut g = nodes.create_group("output");
    w.string(&mut g, "type", "Output");
    let od = dims(shape);
    w.i64s(
        &mut g,
        "shape",
        &od.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        &[od.len() as u64],
    );
    nodes.add_group(g.finish());
    chain.push("output".into());
    root.add_group(nodes.finish());
    let edges: Vec<&str> = chain
        .windows(2)
        .flat_map(|p| [p[0].as_str(), p[1].as_str()])
        .collect();
    root.create_dataset("edges")
        .with_vlen_strings(&edges)
        .with_shape(&[(chain.len() - 1) as u64, 2]);
    fb.add_group(root.finish());
    fb.finish()
        .map_err(|e| Error::Format(format!("cannot serialise the NIR file: {e}")))
}

fn neuron_node(
    w: &Writer,
    g: &mut GroupBuilder,
    n: &Neuron,
    out: Shape,
    dt: f64,
    layer: &str,
) -> Result<()> {
    if let Neuron::PerNeuron(_) = n {
        return Err(Error::Options(format!(
            "layer {layer:?}: exporting per-neuron decays and thresholds is not supported"
        )));
    }
    if let Some(lif) = n.lif()
        && (lif.rule != FiringRule::Snntorch || lif.reset != ResetMode::Subtract)
    {
        // NIR has no field for the reset mechanism or the firing rule; the importer's
        // snnTorch default (subtract, delayed) is what round-trips.
        return Err(Error::Options(format!(
            "layer {layer:?}: only snnTorch-rule subtract-reset neurons can be exported \
             faithfully (NIR stores no reset mechanism); this one has {:?} reset and the {:?} \
             rule",
            lif.reset, lif.rule
        )));
    }
    let d = dims(out);
    let count = out.len();
    let fill = |v: f64| vec![v as f32; count];
    let tau_of = |decay: f32, what: &str| -> Result<f64> {
        if decay >= 1.0 {
            return Err(Error::Options(format!(
                "layer {layer:?}: {what} = 1 has an infinite time constant"
            )));
        }
        Ok(dt / (1.0 - decay as f64))
    };
    match n {
        Neuron::Lif(p) if p.beta == 1.0 => {
            w.string(g, "type", "IF");
            w.f32s(g, "r", &fill(1.0), &d);
            w.f32s(g, "v_threshold", &fill(p.threshold as f64), &d);
            w.f32s(g, "v_reset", &fill(0.0), &d);
        }
        Neuron::Lif(p) => {
            let tau = tau_of(p.beta, "beta")?;
            w.string(g, "type", "LIF");
            w.f64s(g, "tau", tau, &d, count);
            w.f64s(g, "r", tau / dt, &d, count);
            w.f32s(g, "v_leak", &fill(0.0), &d);
            w.f32s(g, "v_threshold", &fill(p.threshold as f64), &d);
            w.f32s(g, "v_reset", &fill(0.0), &d);
        }
        Neuron::Synaptic { alpha, lif } => {
            let ts = tau_of(*alpha, "alpha")?;
            let tm = tau_of(lif.beta, "beta")?;
            w.string(g, "type", "CubaLIF");
            w.f64s(g, "tau_syn", ts, &d, count);
            w.f64s(g, "tau_mem", tm, &d, count);
            w.f64s(g, "r", tm / dt, &d, count);
            w.f64s(g, "w_in", ts / dt, &d, count);
            w.f32s(g, "v_leak", &fill(0.0), &d);
            w.f32s(g, "v_threshold", &fill(lif.threshold as f64), &d);
            w.f32s(g, "v_reset", &fill(0.0), &d);
        }
        // Readouts: the inverse of the importer's Euler mapping with unit input gain. The
        // decoding rule (max/final/mean) has no NIR field and is not written.
        Neuron::Li(p) if p.alpha.is_none() && p.beta == 1.0 => {
            w.string(g, "type", "I");
            w.f32s(g, "r", &fill(1.0), &d);
        }
        Neuron::Li(p) => match p.alpha {
            None => {
                let tau = tau_of(p.beta, "beta")?;
                w.string(g, "type", "LI");
                w.f64s(g, "tau", tau, &d, count);
                w.f64s(g, "r", tau / dt, &d, count);
                w.f32s(g, "v_leak", &fill(0.0), &d);
            }
            Some(alpha) => {
                let ts = tau_of(alpha, "alpha")?;
                let tm = tau_of(p.beta, "beta")?;
                w.string(g, "type", "CubaLI");
                w.f64s(g, "tau_syn", ts, &d, count);
                w.f64s(g, "tau_mem", tm, &d, count);
                w.f64s(g, "r", tm / dt, &d, count);
                w.f64s(g, "w_in", ts / dt, &d, count);
                w.f32s(g, "v_leak", &fill(0.0), &d);
            }
        },
        Neuron::PerNeuron(_) => unreachable!("refused above"),
    }
    Ok(())
}
