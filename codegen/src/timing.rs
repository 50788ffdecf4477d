//! Exact cycles per inference: a cycle-level model of the generated control logic (handshakes,
//! scanner, neuron phase, readout), driven by the spike counts of the golden model. It mirrors
//! the templates state for state, and `verify` checks that simulation measures the same number.
//!
//! Per layer and timestep, the scanner takes `S = sum over chunks of (k == 0 ? 1 : k * G)`
//! cycles (`k` active inputs in the chunk, `G` weight words per input); the layer is busy
//! `S + GN + 3` cycles (accept, scan, drain, `GN` neuron cycles, push). Layers overlap across
//! timesteps through the ready/valid handshakes; the model below resolves the stalls exactly.

use kernels::spikes::SpikeTrain;

use crate::plan::Plan;
use crate::stimulus::Golden;

/// Scanner cycles of one layer for one timestep's input bitmap.
pub fn scan_cycles(chunk: usize, chunks: usize, groups: usize, row: &[bool]) -> u64 {
    (0..chunks)
        .map(|c| {
            let k = row[c * chunk..((c + 1) * chunk).min(row.len())]
                .iter()
                .filter(|&&b| b)
                .count() as u64;
            if k == 0 { 1 } else { k * groups as u64 }
        })
        .sum()
}

/// Busy cycles of a memory-based layer (`--arch mem`) for one step's input bitmap, in the terms
/// of [`predict`]'s layer model (busy, then the two neuron-phase cycles, then push): pass 0 scans
/// with every address accepted at once (`S` with `G = 1`) plus one cycle to drain the read-address
/// register; each further group costs two neuron-phase cycles plus a list replay of
/// `k == 0 ? 1 : k + 1` cycles (`k` active inputs; the replay's first two pipeline cycles, list
/// read and read-address register, overlap the previous group's neuron phase).
pub fn mem_busy_cycles(chunk: usize, chunks: usize, groups: usize, row: &[bool]) -> u64 {
    let k = row.iter().filter(|&&b| b).count() as u64;
    let replay = if k == 0 { 3 } else { k + 3 };
    scan_cycles(chunk, chunks, 1, row) + 1 + (groups as u64 - 1) * replay
}

fn row_bools(t: &SpikeTrain, step: usize) -> Vec<bool> {
    (0..t.neurons()).map(|n| t.get(step, n)).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ls {
    Idle,
    Acc,
    Neur,
    Out,
}

/// Cycles from the first accepted input beat to the accepted `m_axis_tlast`, for one sample,
/// with the testbench's behaviour (beats offered back to back, `m_axis_tready` high).
pub fn predict(plan: &Plan, g: &Golden) -> u64 {
    let h = &plan.header;
    let t_max = h.timesteps;
    let trace = g.run.trace.as_ref().expect("golden run with traces");
    // Scan cycles per layer per step.
    let scans: Vec<Vec<u64>> = plan
        .layers
        .iter()
        .enumerate()
        .map(|(li, l)| {
            let src = if li == 0 {
                &g.input
            } else {
                &trace[li - 1].spikes
            };
            (0..t_max)
                .map(|t| {
                    let row = row_bools(src, t);
                    if l.mem {
                        mem_busy_cycles(l.c, l.nc, l.g, &row)
                    } else {
                        scan_cycles(l.c, l.nc, l.g, &row)
                    }
                })
                .collect()
        })
        .collect();
    let nl = plan.layers.len();
    // Input stage.
    let lfsr = plan.encoder.as_ref();
    let beats_total = h.beats;
    let mut beats_done = 0usize;
    // lfsr: 0 load, 1 run, 2 push; spikes: 0 load, 2 push.
    let mut in_state = 0u8;
    let mut in_cnt = 0usize; // lfsr: wg / rg; spikes: beat
    let mut in_step = 0usize;
    // Layers.
    let mut st = vec![Ls::Idle; nl];
    let mut k = vec![0usize; nl];
    let mut busy = vec![0u64; nl];
    let mut ovalid = vec![false; nl];
    let mut lstep = vec![0usize; nl];
    let mut olast = vec![false; nl];
    let mut curlast = vec![false; nl];
    // Readout.
    let mut emit = false;
    let mut e = 0usize;
    let mut edge = 0u64;
    loop {
        // Pre-edge combinational values.
        let s_valid = beats_done < beats_total;
        let (s_ready, src_valid, src_last) = match lfsr {
            Some(_) => (in_state == 0, in_state == 2, in_step == t_max - 1),
            None => (in_state == 0, in_state == 2, in_step == t_max - 1),
        };
        let in_ready: Vec<bool> = st.iter().map(|s| *s == Ls::Idle).collect();
        let ro_ready = !emit;
        let out_ready: Vec<bool> = (0..nl)
            .map(|i| {
                if i + 1 < nl {
                    in_ready[i + 1]
                } else {
                    ro_ready
                }
            })
            .collect();
        // Readout edge.
        if emit {
            if e == h.outputs {
                return edge;
            }
            e += 1;
        } else if ovalid[nl - 1] && olast[nl - 1] {
            emit = true;
            e = 0;
        }
        // Layers edge (inputs are the pre-edge values).
        let ov_pre = ovalid.clone();
        let ol_pre = olast.clone();
        for i in 0..nl {
            let l = &plan.layers[i];
            let (iv, il) = if i == 0 {
                (src_valid, src_last)
            } else {
                (ov_pre[i - 1], ol_pre[i - 1])
            };
            let can_push = !ovalid[i] || out_ready[i];
            if ovalid[i] && out_ready[i] {
                ovalid[i] = false;
            }
            match st[i] {
                Ls::Idle => {
                    if iv {
                        st[i] = Ls::Acc;
                        busy[i] = scans[i][lstep[i]];
                        curlast[i] = il;
                    }
                }
                Ls::Acc => {
                    if busy[i] == 0 {
                        st[i] = Ls::Neur;
                    } else {
                        busy[i] -= 1;
                    }
                }
                Ls::Neur => {
                    if k[i] == l.gn - 1 {
                        k[i] = 0;
                        st[i] = Ls::Out;
                    } else {
                        k[i] += 1;
                    }
                }
                Ls::Out => {
                    if can_push {
                        ovalid[i] = true;
                        olast[i] = curlast[i];
                        lstep[i] = (lstep[i] + 1) % t_max;
                        st[i] = Ls::Idle;
                    }
                }
            }
        }
        // Input stage edge.
        let src_ready = in_ready[0];
        match (lfsr, in_state) {
            (Some(enc), 0) => {
                if s_valid && s_ready {
                    beats_done += 1;
                    if in_cnt == enc.groups - 1 {
                        in_cnt = 0;
                        in_step = 0;
                        in_state = 1;
                    } else {
                        in_cnt += 1;
                    }
                }
            }
            (Some(enc), 1) => {
                if in_cnt == enc.run_len {
                    in_state = 2;
                } else {
                    in_cnt += 1;
                }
            }
            (Some(_), _) => {
                if src_ready {
                    in_cnt = 0;
                    if src_last {
                        in_state = 0;
                    } else {
                        in_step += 1;
                        in_state = 1;
                    }
                }
            }
            (None, 0) => {
                if s_valid && s_ready {
                    beats_done += 1;
                    let si = plan.spike_in.as_ref().unwrap();
                    if in_cnt == si.beats - 1 {
                        in_cnt = 0;
                        in_state = 2;
                    } else {
                        in_cnt += 1;
                    }
                }
            }
            (None, _) => {
                if src_ready {
                    in_state = 0;
                    in_step = if src_last { 0 } else { in_step + 1 };
                }
            }
        }
        edge += 1;
        if edge > 100_000_000 {
            return u64::MAX;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{mem_busy_cycles, scan_cycles};

    #[test]
    fn scan_cycles_by_hand() {
        // Chunks of 4: [1 0 1 0] has 2 active inputs, 2 words each -> 4 cycles; [0 0 0 0] is
        // empty -> 1 cycle; [0 1] (last, partial) -> 2 cycles.
        let row = [
            true, false, true, false, false, false, false, false, false, true,
        ];
        assert_eq!(scan_cycles(4, 3, 2, &row), 4 + 1 + 2);
        assert_eq!(scan_cycles(4, 3, 1, &row), 2 + 1 + 1);
        // 3 active inputs, 3 groups: scan 2 + 1 + 1 and 1 drain cycle, then 2 replays of
        // 2 + (3 + 1) cycles.
        assert_eq!(mem_busy_cycles(4, 3, 3, &row), 5 + 2 * 6);
        // No active input: scan 3 empty chunks + 1 drain, 1 group more costs 2 + 1.
        assert_eq!(mem_busy_cycles(4, 3, 2, &[false; 10]), 4 + 3);
    }
}
