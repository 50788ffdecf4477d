//! Event-camera data: the N-MNIST binary event format, and binning of events into spike trains
//! the way tonic's `ToFrame` slices them.
//!
//! # The N-MNIST file format
//!
//! One file per sample (`Train/<digit>/<id>.bin`, `Test/<digit>/<id>.bin`), a plain sequence of
//! 40-bit events, 5 bytes each, no header:
//!
//! | byte | bits | field |
//! |---|---|---|
//! | 0 | 7..0 | x address (0..=33) |
//! | 1 | 7..0 | y address (0..=33) |
//! | 2 | 7 | polarity (1 = ON, brightness increase; 0 = OFF) |
//! | 2 | 6..0 | timestamp bits 22..16 |
//! | 3 | 7..0 | timestamp bits 15..8 |
//! | 4 | 7..0 | timestamp bits 7..0 (microseconds) |
//!
//! As in the dataset authors' reader (Orchard et al., `Read_Ndataset.m`, and tonic's
//! `read_mnist_file`), an event whose y address is 240 is a timestamp-overflow marker, not a
//! spike: every later timestamp is increased by 2^13 us. A file whose length is not a multiple of
//! 5 is truncated and refused.
//!
//! # Binning
//!
//! [`Binning`] mirrors tonic's `ToFrame(sensor_size, time_window | event_count | n_time_bins)`
//! with no overlap: windows are half-open `[start, end)` on timestamps (tonic's
//! `np.searchsorted`, side left), frames count events per (polarity, y, x), and a spike train
//! holds a 1 where a frame's count is at least one. Neuron index is
//! `polarity * H * W + y * W + x`, i.e. PyTorch's flattening of a `2 x H x W` frame.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::MAX_TIMESTEPS;
use crate::spikes::SpikeTrain;

/// N-MNIST sensor width and height (34 x 34 pixels, 2 polarities).
pub const NMNIST_SIZE: usize = 34;
/// Largest event file accepted (bytes), checked before reading: real N-MNIST samples hold a few
/// thousand events (tens of kilobytes).
pub const MAX_EVENT_FILE_BYTES: u64 = 64 << 20;
/// Timestamps are 23 bits wide.
pub const TIMESTAMP_BITS: u32 = 23;
/// The y address that marks a timestamp overflow.
pub const OVERFLOW_Y: u8 = 240;
/// Increment applied to later timestamps at each overflow marker (2^13 us).
pub const OVERFLOW_INCREMENT: u64 = 1 << 13;

/// One camera event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Column.
    pub x: u16,
    /// Row.
    pub y: u16,
    /// `true` for ON (brightness increase), `false` for OFF.
    pub polarity: bool,
    /// Timestamp in microseconds (overflow markers already applied).
    pub t: u64,
}

/// Parses N-MNIST bytes (see the module documentation) into events, validating sizes and
/// addresses against a `width x height` sensor (34 x 34 for N-MNIST).
pub fn parse_nmnist(bytes: &[u8], width: usize, height: usize) -> Result<Vec<Event>> {
    if bytes.len() as u64 > MAX_EVENT_FILE_BYTES {
        return Err(Error::format(format!(
            "event data of {} bytes exceeds the limit of {MAX_EVENT_FILE_BYTES}",
            bytes.len()
        )));
    }
    if !bytes.len().is_multiple_of(5) {
        return Err(Error::format(format!(
            "event data of {} bytes is not a whole number of 5-byte events (truncated?)",
            bytes.len()
        )));
    }
    let mut events = Vec::with_capacity(bytes.len() / 5);
    let mut offset = 0u64;
    let mut last_t = 0u64;
    for (i, e) in bytes.chunks_exact(5).enumerate() {
        if e[1] == OVERFLOW_Y {
            offset += OVERFLOW_INCREMENT;
            continue;
        }
        let (x, y) = (e[0] as usize, e[1] as usize);
        if x >= width || y >= height {
            return Err(Error::format(format!(
                "event {i}: address ({x}, {y}) is outside the {width}x{height} sensor"
            )));
        }
        let t = (((e[2] & 0x7f) as u64) << 16 | (e[3] as u64) << 8 | e[4] as u64) + offset;
        if t < last_t {
            return Err(Error::format(format!(
                "event {i}: timestamp {t} us is earlier than the previous event's {last_t} us \
                 (events must be in time order)"
            )));
        }
        last_t = t;
        events.push(Event {
            x: x as u16,
            y: y as u16,
            polarity: e[2] & 0x80 != 0,
            t,
        });
    }
    Ok(events)
}

/// Reads an N-MNIST `.bin` file (34 x 34 sensor). Errors name the file.
pub fn read_nmnist(path: &Path) -> Result<Vec<Event>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > MAX_EVENT_FILE_BYTES {
        return Err(Error::format(format!(
            "{}: {} bytes exceeds the limit of {MAX_EVENT_FILE_BYTES}",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    parse_nmnist(&bytes, NMNIST_SIZE, NMNIST_SIZE).map_err(|e| match e {
        Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Encodes events in the N-MNIST format (for tests and conversion tools). Timestamps must fit
/// 23 bits and addresses 8 bits (y = 240 is reserved for overflow markers).
pub fn encode_nmnist(events: &[Event]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(events.len() * 5);
    for (i, e) in events.iter().enumerate() {
        if e.x > 255 || e.y > 255 || e.y == OVERFLOW_Y as u16 || e.t >> TIMESTAMP_BITS != 0 {
            return Err(Error::invalid(format!(
                "event {i} ({}, {}, t = {}) does not fit the N-MNIST encoding",
                e.x, e.y, e.t
            )));
        }
        out.extend_from_slice(&[
            e.x as u8,
            e.y as u8,
            (e.polarity as u8) << 7 | (e.t >> 16) as u8,
            (e.t >> 8) as u8,
            e.t as u8,
        ]);
    }
    Ok(out)
}

/// How events are sliced into frames (tonic `ToFrame`, no overlap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binning {
    /// Windows of `us` microseconds starting at the first event. Without `include_incomplete`,
    /// `floor((t_last - t_first - us) / us) + 1` windows (at least 1); with it, the ceiling.
    TimeWindow {
        /// Window length in microseconds (> 0).
        us: u64,
        /// Keep a last window that extends past the final event.
        include_incomplete: bool,
    },
    /// Consecutive groups of `count` events; a final partial group only with
    /// `include_incomplete`.
    EventCount {
        /// Events per frame (> 0).
        count: usize,
        /// Keep a last, smaller group.
        include_incomplete: bool,
    },
    /// A fixed number of frames: the span is cut into `bins` windows of
    /// `floor((t_last - t_first) / bins)` us each (tonic's integer division, so events at the
    /// very end can fall after the last window and are dropped, as in tonic).
    TimeBins {
        /// Number of frames (> 0).
        bins: usize,
    },
}

/// Index ranges `[start, end)` of the events in each frame.
fn slices(events: &[Event], binning: Binning) -> Result<Vec<(usize, usize)>> {
    let ts: Vec<u64> = events.iter().map(|e| e.t).collect();
    // First index with t >= x (np.searchsorted, side="left").
    let search = |x: u64| ts.partition_point(|&t| t < x);
    let (t0, t1) = match (ts.first(), ts.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => (0, 0),
    };
    let check = |n: u128| -> Result<usize> {
        if n > MAX_TIMESTEPS as u128 {
            Err(Error::invalid(format!(
                "binning gives {n} frames, above the limit of {MAX_TIMESTEPS}"
            )))
        } else {
            Ok(n as usize)
        }
    };
    match binning {
        Binning::TimeWindow {
            us,
            include_incomplete,
        } => {
            if us == 0 {
                return Err(Error::invalid("time window must be > 0 us"));
            }
            let span = (t1 - t0) as i128 - us as i128;
            let n = if span <= 0 {
                1
            } else if include_incomplete {
                (span as u128).div_ceil(us as u128) + 1
            } else {
                span as u128 / us as u128 + 1
            };
            let n = check(n)?;
            Ok((0..n as u64)
                .map(|k| (search(t0 + k * us), search(t0 + k * us + us)))
                .collect())
        }
        Binning::EventCount {
            count,
            include_incomplete,
        } => {
            if count == 0 {
                return Err(Error::invalid("event count per frame must be > 0"));
            }
            let len = events.len();
            let per = count.min(len);
            let rest = len - per;
            let n = if include_incomplete {
                rest.div_ceil(count) + 1
            } else {
                rest / count + 1
            };
            let n = check(n as u128)?;
            Ok((0..n)
                .map(|k| (k * count, (k * count + per).min(len)))
                .collect())
        }
        Binning::TimeBins { bins } => {
            if bins == 0 {
                return Err(Error::invalid("number of time bins must be > 0"));
            }
            let bins = check(bins as u128)?;
            let size = (t1 - t0) / bins as u64;
            Ok((0..bins as u64)
                .map(|k| (search(t0 + k * size), search(t0 + (k + 1) * size)))
                .collect())
        }
    }
}

/// Event counts per frame, `frames x 2 x height x width` row-major (tonic `ToFrame`).
///
/// The counts of all frames are held at once, so their total is limited to
/// [`MAX_FRAME_VALUES`](crate::limits::MAX_FRAME_VALUES) and checked before allocation: a short
/// hostile file whose timestamps span hours would otherwise ask for gigabytes.
pub fn to_frames(
    events: &[Event],
    width: usize,
    height: usize,
    binning: Binning,
) -> Result<Vec<Vec<u32>>> {
    let plane = sensor_plane(width, height)?;
    let slices = slices(events, binning)?;
    let total = slices.len().checked_mul(2 * plane);
    if total.is_none_or(|n| n > crate::limits::MAX_FRAME_VALUES) {
        return Err(Error::invalid(format!(
            "{} frames of 2x{height}x{width} counts exceed the limit of {} values; use fewer \
             or longer frames (or to_spike_train, which stores one bit per value)",
            slices.len(),
            crate::limits::MAX_FRAME_VALUES
        )));
    }
    let mut out = Vec::new();
    for (a, b) in slices {
        let mut f = vec![0u32; 2 * plane];
        for e in &events[a..b] {
            f[pixel_index(e, width, height)?] += 1;
        }
        out.push(f);
    }
    Ok(out)
}

/// `width * height`, refusing sensors whose frames could not be indexed.
fn sensor_plane(width: usize, height: usize) -> Result<usize> {
    width
        .checked_mul(height)
        .filter(|&n| n > 0 && n <= crate::model::MAX_LAYER_ELEMENTS / 2)
        .ok_or_else(|| Error::invalid(format!("sensor size {width}x{height} is out of range")))
}

/// Neuron index of an event: `polarity * H * W + y * W + x`, checking the address.
fn pixel_index(e: &Event, width: usize, height: usize) -> Result<usize> {
    let (x, y) = (e.x as usize, e.y as usize);
    if x >= width || y >= height {
        return Err(Error::invalid(format!(
            "event at ({x}, {y}) is outside the {width}x{height} sensor"
        )));
    }
    Ok(e.polarity as usize * width * height + y * width + x)
}

/// Bins events into a spike train of `frames` steps and `2 * height * width` neurons: a neuron
/// spikes in a step when at least one event of its polarity and pixel fell in that frame.
///
/// Bits are set straight from the event slices, without building count frames, so memory is
/// one bit per neuron and step (at most [`MAX_TIMESTEPS`] steps).
pub fn to_spike_train(
    events: &[Event],
    width: usize,
    height: usize,
    binning: Binning,
) -> Result<SpikeTrain> {
    let neurons = 2 * sensor_plane(width, height)?;
    let slices = slices(events, binning)?;
    let mut train = SpikeTrain::zeros(slices.len(), neurons);
    for (t, (a, b)) in slices.into_iter().enumerate() {
        for e in &events[a..b] {
            train.set(t, pixel_index(e, width, height)?, true);
        }
    }
    Ok(train)
}

/// Lists an N-MNIST-style dataset directory: `<dir>/<label>/<file>.bin` with labels `0..=9`,
/// sorted by label then file name. Other entries are ignored; no sample at all is an error.
pub fn list_dataset(dir: &Path) -> Result<Vec<(PathBuf, u8)>> {
    let rd = |p: &Path| {
        std::fs::read_dir(p).map_err(|e| Error::Io(format!("cannot list {}: {e}", p.display())))
    };
    let mut out = Vec::new();
    for label in 0..=9u8 {
        let sub = dir.join(label.to_string());
        if !sub.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = rd(&sub)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "bin") && p.is_file())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (p, label)));
    }
    if out.is_empty() {
        return Err(Error::format(format!(
            "{}: no <label>/<sample>.bin files (expected the N-MNIST layout, e.g. Test/0/00004.bin)",
            dir.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(x: u16, y: u16, p: bool, t: u64) -> Event {
        Event {
            x,
            y,
            polarity: p,
            t,
        }
    }

    #[test]
    fn parses_hand_made_bytes() {
        // x = 3, y = 4, ON, t = 0x01_02_03 = 66051 us.
        // x = 33, y = 0, OFF, t = 0x7f_ff_ff = 8388607 us (largest 23-bit value).
        let bytes = [3, 4, 0x80 | 0x01, 0x02, 0x03, 33, 0, 0x7f, 0xff, 0xff];
        let e = parse_nmnist(&bytes, 34, 34).unwrap();
        assert_eq!(e, vec![ev(3, 4, true, 66051), ev(33, 0, false, 8_388_607)]);
        assert_eq!(encode_nmnist(&e).unwrap(), bytes);
    }

    #[test]
    fn overflow_marker_adds_2_pow_13_to_later_events() {
        let bytes = [
            1, 1, 0, 0, 10, // t = 10
            0, 240, 0, 0, 0, // overflow marker
            2, 2, 0x80, 0, 5, // t = 5 + 8192
        ];
        let e = parse_nmnist(&bytes, 34, 34).unwrap();
        assert_eq!(e, vec![ev(1, 1, false, 10), ev(2, 2, true, 8197)]);
    }

    #[test]
    fn refuses_truncated_out_of_range_and_unordered() {
        assert!(matches!(
            parse_nmnist(&[1, 2, 3, 4], 34, 34),
            Err(Error::Format(m)) if m.contains("5-byte")
        ));
        assert!(matches!(
            parse_nmnist(&[34, 0, 0, 0, 0], 34, 34),
            Err(Error::Format(m)) if m.contains("(34, 0)")
        ));
        assert!(matches!(
            parse_nmnist(&[0, 0, 0, 0, 9, 0, 0, 0, 0, 8], 34, 34),
            Err(Error::Format(m)) if m.contains("event 1")
        ));
        assert!(parse_nmnist(&[], 34, 34).unwrap().is_empty());
        assert!(encode_nmnist(&[ev(0, 0, true, 1 << 23)]).is_err());
        assert!(encode_nmnist(&[ev(0, 240, true, 0)]).is_err());
    }

    // Expected frames below are worked out by hand from tonic's slicing rules.
    fn sample() -> Vec<Event> {
        vec![
            ev(0, 0, true, 100),
            ev(1, 0, false, 150),
            ev(0, 0, true, 199),
            ev(2, 1, true, 200),
            ev(2, 1, true, 299),
            ev(0, 1, false, 350),
        ]
    }

    #[test]
    fn time_window_frames() {
        // Sensor 3x2: plane of 6; ON plane at offset 6. t0 = 100, window 100 us:
        // floor((350 - 100 - 100) / 100) + 1 = 2 windows: [100, 200) and [200, 300).
        let f = to_frames(
            &sample(),
            3,
            2,
            Binning::TimeWindow {
                us: 100,
                include_incomplete: false,
            },
        )
        .unwrap();
        // Frame 0: ON (0,0) twice -> index 6 + 0; OFF (1,0) -> index 1.
        let mut f0 = vec![0; 12];
        f0[6] = 2;
        f0[1] = 1;
        // Frame 1: ON (2,1) twice -> 6 + 1*3 + 2 = 11.
        let mut f1 = vec![0; 12];
        f1[11] = 2;
        assert_eq!(f, vec![f0.clone(), f1.clone()]);
        // include_incomplete: ceil(150 / 100) + 1 = 3 windows; the third holds OFF (0,1) -> 3.
        let f = to_frames(
            &sample(),
            3,
            2,
            Binning::TimeWindow {
                us: 100,
                include_incomplete: true,
            },
        )
        .unwrap();
        let mut f2 = vec![0; 12];
        f2[3] = 1;
        assert_eq!(f, vec![f0, f1, f2]);
    }

    #[test]
    fn event_count_frames() {
        // 6 events, 4 per frame: floor((6 - 4) / 4) + 1 = 1 frame; incomplete: ceil(2/4)+1 = 2.
        let c = |inc| {
            to_frames(
                &sample(),
                3,
                2,
                Binning::EventCount {
                    count: 4,
                    include_incomplete: inc,
                },
            )
            .unwrap()
        };
        let mut f0 = vec![0; 12];
        f0[6] = 2;
        f0[1] = 1;
        f0[11] = 1;
        assert_eq!(c(false), vec![f0.clone()]);
        let mut f1 = vec![0; 12];
        f1[11] = 1;
        f1[3] = 1;
        assert_eq!(c(true), vec![f0, f1]);
    }

    #[test]
    fn time_bins_drop_the_tail_like_tonic() {
        // span 250 us, 3 bins: size floor(250 / 3) = 83: [100,183) [183,266) [266,349);
        // the event at t = 350 lies past the last bin and is dropped.
        let f = to_frames(&sample(), 3, 2, Binning::TimeBins { bins: 3 }).unwrap();
        let mut f0 = vec![0; 12];
        f0[6] = 1;
        f0[1] = 1;
        let mut f1 = vec![0; 12];
        f1[6] = 1;
        f1[11] = 1;
        let mut f2 = vec![0; 12];
        f2[11] = 1;
        assert_eq!(f, vec![f0, f1, f2]);
        let train = to_spike_train(&sample(), 3, 2, Binning::TimeBins { bins: 3 }).unwrap();
        assert_eq!((train.steps(), train.neurons()), (3, 12));
        assert!(train.get(0, 6) && train.get(0, 1) && train.get(1, 11) && train.get(2, 11));
        assert_eq!(train.count(), 5);
    }

    #[test]
    fn bad_binning_parameters() {
        let s = sample();
        assert!(
            to_frames(
                &s,
                3,
                2,
                Binning::TimeWindow {
                    us: 0,
                    include_incomplete: false
                }
            )
            .is_err()
        );
        assert!(to_frames(&s, 3, 2, Binning::TimeBins { bins: 0 }).is_err());
        assert!(to_frames(&s, 3, 2, Binning::TimeBins { bins: 1 << 30 }).is_err());
        assert!(
            to_frames(
                &s,
                3,
                2,
                Binning::TimeWindow {
                    us: 1,
                    include_incomplete: true
                }
            )
            .is_ok()
        );
        // An event outside the sensor.
        let outside = Binning::EventCount {
            count: 1,
            include_incomplete: false,
        };
        assert!(to_frames(&[ev(5, 0, true, 0)], 3, 2, outside).is_err());
    }

    #[test]
    fn reads_files_and_dataset_directories() {
        let dir = tempfile::tempdir().unwrap();
        for (label, name) in [(3u8, "b.bin"), (3, "a.bin"), (0, "z.bin")] {
            let d = dir.path().join(label.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), [1, 2, 0x80, 0, 7]).unwrap();
        }
        std::fs::write(dir.path().join("3/notes.txt"), "x").unwrap();
        let list = list_dataset(dir.path()).unwrap();
        let names: Vec<(String, u8)> = list
            .iter()
            .map(|(p, l)| (p.file_name().unwrap().to_string_lossy().into_owned(), *l))
            .collect();
        assert_eq!(
            names,
            vec![
                ("z.bin".into(), 0),
                ("a.bin".into(), 3),
                ("b.bin".into(), 3)
            ]
        );
        assert_eq!(read_nmnist(&list[0].0).unwrap(), vec![ev(1, 2, true, 7)]);
        let bad = dir.path().join("bad.bin");
        std::fs::write(&bad, [1, 2, 3]).unwrap();
        assert!(matches!(read_nmnist(&bad), Err(Error::Format(m)) if m.contains("bad.bin")));
        assert!(list_dataset(&dir.path().join("0")).is_err());
    }
}
