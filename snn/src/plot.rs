//! `snn plot`: what the network does with one test digit, as SVG figures.
//!
//! One run of the model on test digit `I` with every layer's spikes and membranes recorded
//! (the integer golden runtime for integer models, the f32 runtime for float ones) gives:
//! * `raster-<k>-<layer>.svg`: a spike raster per layer over the `T` timesteps, the encoded
//!   input first (`k = 0`), one filled cell per spike;
//! * `membrane.svg`: membrane traces of chosen neurons with the firing threshold drawn;
//! * `counts.svg`: the output spike counts as bars, the predicted and the true class marked.
//!
//! The drawing helpers are shared with `snn eval --plots`. Text is emitted as SVG `<text>`
//! elements (plotters' SVG backend without the `ttf` feature), so no system font is read.

use std::path::{Path, PathBuf};

use clap::Args;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use kernels::data::TEST_SAMPLES;
use kernels::encode::Encoded;
use kernels::network::Input;
use kernels::spikes::SpikeTrain;

use crate::common::{
    CliError, CliResult, Runner, data_dir, emit, encoding_text, model_path, test_images,
};

/// Most neurons one membrane figure shows (more lines are unreadable).
pub const MAX_TRACE_NEURONS: usize = 16;

/// Fill colour of a spike cell in the rasters (the tests count the cells by it).
pub const SPIKE_RGB: RGBColor = RGBColor(20, 60, 160);
const PREDICTED_RGB: RGBColor = RGBColor(230, 110, 20);
const BAR_RGB: RGBColor = RGBColor(90, 130, 200);
const TRUE_RGB: RGBColor = RGBColor(20, 140, 60);

/// Arguments of `snn plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Test digit to run: index into the 2,000-digit test split (0..=1999).
    #[arg(long, value_name = "I")]
    pub sample: usize,
    /// Model file (default: the bundled 8-bit integer model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Use the bundled float model instead of the integer one (only without --model).
    #[arg(long, conflicts_with = "model")]
    pub float: bool,
    /// Directory with the MNIST IDX files (default: the bundled data/mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Layer whose membranes are traced (default: the output layer).
    #[arg(long, value_name = "NAME")]
    pub layer: Option<String>,
    /// Neurons of that layer to trace, comma-separated (default: all output neurons, at most
    /// 16).
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    pub neurons: Option<Vec<usize>>,
    /// Output directory for the SVG files (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out/plot")]
    pub out: PathBuf,
}

/// One layer of a recorded run.
pub struct TracedLayer {
    /// Layer name.
    pub name: String,
    /// Output spikes, `T x neurons`.
    pub spikes: SpikeTrain,
    /// Membrane potential at the end of every step, `T x neurons` row-major.
    pub membranes: Vec<f64>,
    /// Firing threshold.
    pub threshold: f64,
}

/// A recorded run of one sample.
pub struct SampleTrace {
    /// Encoded input spikes (`None` for direct analog input).
    pub input: Option<SpikeTrain>,
    /// Layers with neurons, in model order.
    pub layers: Vec<TracedLayer>,
    /// Output spike counts.
    pub counts: Vec<u32>,
    /// Predicted class.
    pub class: usize,
    /// Unit of the membrane potentials, for axis labels.
    pub unit: &'static str,
}

/// Runs image `pixels` as sample `sample` with every layer recorded.
pub fn trace_sample(runner: &Runner, pixels: &[u8], sample: u64) -> CliResult<SampleTrace> {
    let x = runner.encode(pixels, sample)?;
    let input = x.spikes().cloned();
    let missing = || CliError::internal("the runtime returned no trace");
    Ok(match (runner, &x) {
        (Runner::Int { model, net }, Encoded::Spikes(t)) => {
            let run = net.run(t, true)?;
            let thresholds = model.layers.iter().filter_map(|l| l.neuron);
            let layers = run
                .trace
                .ok_or_else(missing)?
                .into_iter()
                .zip(thresholds)
                .zip(net.layer_names())
                .map(|((tr, p), name)| TracedLayer {
                    name: name.clone(),
                    spikes: tr.spikes,
                    membranes: tr.membranes.iter().map(|&v| v as f64).collect(),
                    threshold: p.threshold as f64,
                })
                .collect();
            SampleTrace {
                input,
                layers,
                counts: run.counts,
                class: run.class,
                unit: "integer units",
            }
        }
        (Runner::Float { model, net }, x) => {
            let inp = match x {
                Encoded::Spikes(t) => Input::Spikes(t),
                Encoded::Analog(a) => Input::Analog(a),
            };
            let run = net.run(&inp, true)?;
            let thresholds = model.layers.iter().filter_map(|l| l.neuron.as_ref());
            let layers = run
                .trace
                .ok_or_else(missing)?
                .into_iter()
                .zip(thresholds)
                .zip(net.layer_names())
                .map(|((tr, n), name)| TracedLayer {
                    name: name.clone(),
                    spikes: tr.spikes,
                    membranes: tr.membranes.iter().map(|&v| v as f64).collect(),
                    // Per-neuron thresholds: the base neuron's; a readout has none (0).
                    threshold: n.base().lif().map_or(0.0, |p| p.threshold as f64),
                })
                .collect();
            SampleTrace {
                input,
                layers,
                counts: run.counts,
                class: run.class,
                unit: "float model units",
            }
        }
        (Runner::Int { .. }, Encoded::Analog(_)) => {
            return Err(CliError::input(
                "the integer runtime has no analog input".to_string(),
            ));
        }
    })
}

/// Creates `dir` (and parents) or fails with exit status 2 when it cannot be a directory.
pub fn prepare_out_dir(dir: &Path, flag: &str) -> CliResult<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::input(format!(
            "{flag} {}: exists and is not a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::input(format!("{flag} {}: cannot create: {e}", dir.display())))
}

/// Writes `text` to `dir/name` atomically (temporary file, then rename).
pub fn write_file(dir: &Path, name: &str, text: &str) -> CliResult<PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::input(format!("{}: cannot write: {e}", path.display()))
        })?;
    Ok(path)
}

fn draw_err<E: std::fmt::Debug>(e: E) -> CliError {
    CliError::internal(format!("drawing failed: {e:?}"))
}

/// A layer name as a file-name part (letters, digits, `-` and `_` only).
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Fills the figure white and writes a title and a smaller subtitle line on top; returns the
/// area below them (two short lines stay readable where one long caption would be cut).
fn framed<'a>(root: Area<'a>, title: &str, subtitle: &str) -> CliResult<Area<'a>> {
    root.fill(&WHITE).map_err(draw_err)?;
    let area = root.margin(8, 0, 0, 0);
    let area = area.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
    if subtitle.is_empty() {
        return Ok(area);
    }
    area.titled(
        subtitle,
        ("sans-serif", 14).into_font().color(&RGBColor(70, 70, 70)),
    )
    .map_err(draw_err)
}

/// Axis tick label of an integer-valued `f64` coordinate.
fn int_label(x: &f64) -> String {
    format!("{}", x.round() as i64)
}

/// A spike raster: one filled cell (`SPIKE_RGB`) per spike, timestep across, neuron down.
pub fn raster_svg(title: &str, subtitle: &str, spikes: &SpikeTrain) -> CliResult<String> {
    let (steps, neurons) = (spikes.steps(), spikes.neurons());
    // At least one pixel row per neuron, so a 784-pixel input layer stays legible.
    let height = (neurons as u32 + 190).clamp(440, 1400);
    let width = (steps as u32 * 24 + 160).clamp(760, 1400);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let area = framed(root, title, subtitle)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..steps as f64, neurons as f64..0.0)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("timestep t (steps, 0-based)")
            .y_desc("neuron index")
            .x_labels(steps.clamp(2, 26))
            .x_label_formatter(&int_label)
            .y_label_formatter(&int_label)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw_err)?;
        let cells = (0..steps).flat_map(|t| {
            (0..neurons)
                .filter(move |&n| spikes.get(t, n))
                .map(move |n| {
                    Rectangle::new(
                        [(t as f64 + 0.1, n as f64), (t as f64 + 0.9, n as f64 + 1.0)],
                        SPIKE_RGB.filled(),
                    )
                })
        });
        chart.draw_series(cells).map_err(draw_err)?;
        area.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A bar chart with `f64` values and category names along x.
pub struct Bars<'a> {
    /// Figure title.
    pub title: &'a str,
    /// Second, smaller title line (what was run).
    pub subtitle: &'a str,
    /// X axis description.
    pub x_desc: &'a str,
    /// Y axis description (with unit).
    pub y_desc: &'a str,
    /// Y tick labels are integers.
    pub integer_y: bool,
    /// Category names.
    pub names: Vec<String>,
    /// Bar heights.
    pub values: Vec<f64>,
    /// Value printed above each bar.
    pub value_labels: Vec<String>,
    /// Index of a bar drawn in the highlight colour (with its legend text).
    pub highlight: Option<(usize, String)>,
    /// Index of a bar marked with a triangle below the axis (with its legend text).
    pub marked: Option<(usize, String)>,
}

/// Draws [`Bars`].
pub fn bars_svg(b: &Bars) -> CliResult<String> {
    let n = b.values.len();
    let top = b.values.iter().cloned().fold(0.0f64, f64::max);
    // Head room above the tallest bar for its value and the legend box.
    let y_max = if top > 0.0 { top * 1.4 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        let area = framed(root, b.title, b.subtitle)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.6..n as f64 - 0.4, 0.0..y_max)
            .map_err(draw_err)?;
        let names = b.names.clone();
        let name_of = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        };
        let y_fmt = |y: &f64| {
            if b.integer_y {
                int_label(y)
            } else {
                format!("{y:.3}")
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(b.x_desc)
            .y_desc(b.y_desc)
            .x_labels(n * 2 + 1)
            .x_label_formatter(&name_of)
            .y_label_formatter(&y_fmt)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw_err)?;
        let hi = b.highlight.as_ref().map(|h| h.0);
        chart
            .draw_series(b.values.iter().enumerate().map(|(i, &v)| {
                let c = if Some(i) == hi {
                    PREDICTED_RGB
                } else {
                    BAR_RGB
                };
                Rectangle::new([(i as f64 - 0.35, 0.0), (i as f64 + 0.35, v)], c.filled())
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(
                b.values
                    .iter()
                    .zip(&b.value_labels)
                    .enumerate()
                    .map(|(i, (&v, s))| {
                        Text::new(
                            s.clone(),
                            (i as f64, v + y_max * 0.015),
                            ("sans-serif", 14)
                                .into_font()
                                .color(&BLACK)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                    }),
            )
            .map_err(draw_err)?;
        let mut legend = false;
        if let Some((i, text)) = &b.highlight {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*i as f64 - 0.35, 0.0), (*i as f64 + 0.35, 0.0)],
                    PREDICTED_RGB.filled(),
                )))
                .map_err(draw_err)?
                .label(text.clone())
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], PREDICTED_RGB.filled())
                });
            legend = true;
        }
        if let Some((i, text)) = &b.marked {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (*i as f64, y_max * 0.035),
                    9,
                    TRUE_RGB.filled(),
                )))
                .map_err(draw_err)?
                .label(text.clone())
                .legend(|(x, y)| TriangleMarker::new((x + 8, y), 7, TRUE_RGB.filled()));
            legend = true;
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(draw_err)?;
        }
        area.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// One line of a [`lines_svg`] figure.
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
    /// Points marked with a cross (e.g. spikes), on the same colour.
    pub marks: Vec<(f64, f64)>,
}

/// A line figure with an optional dashed horizontal reference line.
pub struct Lines<'a> {
    /// Figure title.
    pub title: &'a str,
    /// Second, smaller title line (what was run).
    pub subtitle: &'a str,
    /// Tick labels are integers on (x, y).
    pub integer_ticks: (bool, bool),
    /// X axis description (with unit).
    pub x_desc: &'a str,
    /// Y axis description (with unit).
    pub y_desc: &'a str,
    /// X range.
    pub x: std::ops::Range<f64>,
    /// Y range (default: the data's, padded).
    pub y: Option<std::ops::Range<f64>>,
    /// The lines.
    pub lines: Vec<Line>,
    /// A dashed horizontal line at this value, with its legend text.
    pub reference: Option<(f64, String)>,
    /// Legend text of the crosses.
    pub marks_label: Option<String>,
}

/// Draws [`Lines`].
pub fn lines_svg(f: &Lines) -> CliResult<String> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in f.lines.iter().flat_map(|l| &l.points) {
        lo = lo.min(p.1);
        hi = hi.max(p.1);
    }
    if let Some((r, _)) = &f.reference {
        lo = lo.min(*r);
        hi = hi.max(*r);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let (lo, hi) = match &f.y {
        Some(r) => (r.start, r.end),
        None => (lo - pad, hi + pad),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (980, 560)).into_drawing_area();
        let area = framed(root, f.title, f.subtitle)?;
        // The legend gets its own column right of the plot, so it never hides a line.
        let (plot, legend_area) = area.split_horizontally(760);
        let mut chart = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(f.x.clone(), lo..hi)
            .map_err(draw_err)?;
        let fmt = |int: bool| {
            move |v: &f64| {
                if int { int_label(v) } else { format!("{v:.2}") }
            }
        };
        let (fx, fy) = (fmt(f.integer_ticks.0), fmt(f.integer_ticks.1));
        chart
            .configure_mesh()
            .x_desc(f.x_desc)
            .y_desc(f.y_desc)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(draw_err)?;
        // Legend entries: (text, colour, kind) with kind 0 line, 1 dashed, 2 cross.
        let mut legend: Vec<(String, RGBAColor, u8)> = Vec::new();
        if let Some((r, text)) = &f.reference {
            chart
                .draw_series(DashedLineSeries::new(
                    [(f.x.start, *r), (f.x.end, *r)],
                    8,
                    6,
                    RED.stroke_width(2),
                ))
                .map_err(draw_err)?;
            legend.push((text.clone(), RED.to_rgba(), 1));
        }
        for (i, l) in f.lines.iter().enumerate() {
            let c = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(l.points.iter().cloned(), c.stroke_width(2)))
                .map_err(draw_err)?;
            chart
                .draw_series(l.marks.iter().map(|&p| Cross::new(p, 5, c.stroke_width(2))))
                .map_err(draw_err)?;
            legend.push((l.label.clone(), c, 0));
        }
        if let Some(text) = &f.marks_label {
            legend.push((text.clone(), BLACK.to_rgba(), 2));
        }
        for (k, (text, c, kind)) in legend.iter().enumerate() {
            let y = 40 + 22 * k as i32;
            let style = c.stroke_width(2);
            match kind {
                0 => legend_area.draw(&PathElement::new([(4, y), (28, y)], style)),
                1 => legend_area
                    .draw(&PathElement::new([(4, y), (12, y)], style))
                    .and_then(|_| legend_area.draw(&PathElement::new([(20, y), (28, y)], style))),
                _ => legend_area.draw(&Cross::new((16, y), 5, style)),
            }
            .map_err(draw_err)?;
            legend_area
                .draw(&Text::new(
                    text.clone(),
                    (34, y),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(draw_err)?;
        }
        area.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Parses and checks the traced layer and neurons.
fn pick_neurons(args: &PlotArgs, tr: &SampleTrace) -> CliResult<(usize, Vec<usize>)> {
    let li = match &args.layer {
        None => tr.layers.len() - 1,
        Some(name) => tr
            .layers
            .iter()
            .position(|l| &l.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = tr.layers.iter().map(|l| l.name.as_str()).collect();
                CliError::input(format!(
                    "--layer {name:?}: no such layer with neurons (layers: {})",
                    names.join(", ")
                ))
            })?,
    };
    let n = tr.layers[li].spikes.neurons();
    let neurons = match &args.neurons {
        Some(v) => v.clone(),
        None => (0..n.min(MAX_TRACE_NEURONS)).collect(),
    };
    if neurons.is_empty() {
        return Err(CliError::input("--neurons: give at least one neuron"));
    }
    if neurons.len() > MAX_TRACE_NEURONS {
        return Err(CliError::input(format!(
            "--neurons: {} neurons given, at most {MAX_TRACE_NEURONS} fit one figure",
            neurons.len()
        )));
    }
    if let Some(&bad) = neurons.iter().find(|&&k| k >= n) {
        return Err(CliError::input(format!(
            "--neurons: neuron {bad} is out of range: layer {:?} has {n} neurons (0..={})",
            tr.layers[li].name,
            n - 1
        )));
    }
    Ok((li, neurons))
}

/// Runs `snn plot`.
pub fn run(args: &PlotArgs) -> CliResult<()> {
    if args.sample >= TEST_SAMPLES {
        return Err(CliError::input(format!(
            "--sample {}: out of range, the test split has {TEST_SAMPLES} digits (0..={})",
            args.sample,
            TEST_SAMPLES - 1
        )));
    }
    let path = model_path(&args.model, args.float);
    let runner = Runner::load(&path)?;
    let data = test_images(&data_dir(&args.data), None)?;
    runner.check_images(&path, data.pixels())?;
    let i = args.sample;
    let label = data.labels[i] as usize;
    let tr = trace_sample(&runner, data.image(i), i as u64)?;
    let (li, neurons) = pick_neurons(args, &tr)?;
    prepare_out_dir(&args.out, "--out")?;
    let t_len = runner.timesteps();
    let what = format!(
        "{} model {:?}, test digit {i}",
        runner.kind(),
        runner.name()
    );
    let mut written = Vec::new();

    // (a) Spike rasters, the encoded input first.
    let mut rasters: Vec<(String, &SpikeTrain)> = Vec::new();
    if let Some(inp) = &tr.input {
        rasters.push(("input".into(), inp));
    }
    for l in &tr.layers {
        rasters.push((l.name.clone(), &l.spikes));
    }
    for (k, (name, s)) in rasters.iter().enumerate() {
        let what_layer = if k == 0 && tr.input.is_some() {
            format!("encoded input ({})", encoding_text(&runner.encoding()))
        } else {
            format!("layer {name}")
        };
        let title = format!(
            "Spike raster: {what_layer}, {} spikes in {} steps",
            s.count(),
            s.steps()
        );
        let sub = format!("{what}; {} neurons; one mark per spike", s.neurons());
        let svg = raster_svg(&title, &sub, s)?;
        written.push(write_file(
            &args.out,
            &format!("raster-{k}-{}.svg", file_part(name)),
            &svg,
        )?);
    }

    // (b) Membrane traces with the threshold.
    let layer = &tr.layers[li];
    let n = layer.spikes.neurons();
    let lines = neurons
        .iter()
        .map(|&k| Line {
            label: format!("neuron {k} ({} spikes)", {
                (0..layer.spikes.steps())
                    .filter(|&t| layer.spikes.get(t, k))
                    .count()
            }),
            points: (0..layer.spikes.steps())
                .map(|t| (t as f64, layer.membranes[t * n + k]))
                .collect(),
            marks: (0..layer.spikes.steps())
                .filter(|&t| layer.spikes.get(t, k))
                .map(|t| (t as f64, layer.membranes[t * n + k]))
                .collect(),
        })
        .collect();
    let title = format!("Membrane potential, layer {}", layer.name);
    let sub = format!("{what}; v at the end of each step, after reset; x = spike");
    let y_desc = format!("membrane potential v ({})", tr.unit);
    let svg = lines_svg(&Lines {
        title: &title,
        subtitle: &sub,
        integer_ticks: (true, matches!(runner, Runner::Int { .. })),
        x_desc: "timestep t (steps, 0-based)",
        y_desc: &y_desc,
        x: 0.0..(t_len.max(2) - 1) as f64,
        y: None,
        lines,
        reference: Some((
            layer.threshold,
            format!("threshold {}", fmt_num(layer.threshold)),
        )),
        marks_label: Some("spike (x)".into()),
    })?;
    written.push(write_file(&args.out, "membrane.svg", &svg)?);

    // (c) Output spike counts.
    let title = format!("Output spike counts: predicted {}, true {label}", tr.class);
    let sub = format!("{what}; spikes of each output neuron over T = {t_len} steps");
    let svg = bars_svg(&Bars {
        title: &title,
        subtitle: &sub,
        integer_y: true,
        x_desc: "class (output neuron)",
        y_desc: "output spikes (count)",
        names: (0..tr.counts.len()).map(|c| c.to_string()).collect(),
        values: tr.counts.iter().map(|&c| c as f64).collect(),
        value_labels: tr.counts.iter().map(|c| c.to_string()).collect(),
        highlight: Some((tr.class, format!("predicted class {}", tr.class))),
        marked: (label < tr.counts.len()).then(|| (label, format!("true class {label}"))),
    })?;
    written.push(write_file(&args.out, "counts.svg", &svg)?);

    let mut o = format!(
        "{what}: label {label}, predicted {} ({})\n",
        tr.class,
        if tr.class == label {
            "correct"
        } else {
            "wrong"
        }
    );
    for w in written {
        o.push_str(&format!("wrote {}\n", w.display()));
    }
    emit(&o)
}

/// A threshold for a legend: integers without decimals.
fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.4}")
    }
}
