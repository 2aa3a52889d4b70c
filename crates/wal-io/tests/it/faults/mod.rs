//! Injected I/O faults (fsync EIO with Linux semantics, write EIO, short writes, ENOSPC; once and persistent) at every storage operation of seeded workloads, rewrites and opens included: the failing call returns an error, every later write is refused as `Poisoned` without touching storage, no image holds a partial record followed by a valid one, a failed rewrite leaves the log byte-identical unless it failed after its rename, and reopening, directly or after a crash, satisfies the oracle with failed syncs counting as unsynced.
//!
//! [`every_op`] injects the faults into the workloads, [`recovery`] into
//! the recoveries of crash images, and [`fsync`] follows an fsync failure
//! end to end. This module holds what they share: each seed's options and
//! workload shape, and the [`Tally`] with its checked reopen.

mod every_op;
mod fsync;
mod recovery;

use std::sync::Arc;

use crate::support::{Model, WorkloadShape, check_open, open_log};
use wal_io::WalOptions;
use wal_io::sim::{CrashVariant, SimStorage};

/// Calls per seed.
const CALLS: usize = 150;

/// Small buffers for half the seeds; the log preallocated in 1 KiB chunks
/// for every other pair of seeds, so that faults hit allocations too; a
/// 2 KiB append buffer for every other four, so that they hit its flushes
/// (and the writes of what fits after a full disk).
fn options(seed: u64) -> WalOptions {
    WalOptions {
        buf_capacity: if seed.is_multiple_of(2) {
            4096
        } else {
            64 << 10
        },
        preallocate: (seed % 4 >= 2).then_some(1024),
        append_buffer: if seed % 8 >= 4 { 2048 } else { 0 },
        ..WalOptions::default()
    }
}

fn shape() -> WorkloadShape {
    WorkloadShape {
        calls: CALLS,
        max_bytes: 16 << 10,
        max_records: 30,
    }
}

/// Tallies over many faulted runs.
#[derive(Debug, Default)]
struct Tally {
    runs: u64,
    failed_calls: u64,
    in_rewrite: u64,
    in_open: u64,
    after_rename: u64,
    swallowed: u64,
    usable: u64,
    not_reached: u64,
    reopens: u64,
    violations: u64,
    messages: Vec<String>,
}

impl Tally {
    fn violation(&mut self, msg: String) {
        self.violations += 1;
        if self.messages.len() < 16 {
            self.messages.push(msg);
        }
    }
}

/// Opens the log on `sim` and checks the records against the model.
fn reopen_check(sim: &SimStorage, opts: &WalOptions, model: &Model) -> Result<(), String> {
    let (wal, replayed, report) =
        open_log(Arc::new(sim.clone()), opts).map_err(|e| format!("open failed: {e}"))?;
    check_open(&wal, &replayed, &report)?;
    model.check(&replayed.payloads)
}

impl Tally {
    /// Reopens a snapshot of `state` with its faults cleared, directly or
    /// after a `crash`, and counts a violation (at `here`) unless it passes
    /// [`reopen_check`]. Returns the snapshot as the reopen left it.
    fn reopen(
        &mut self,
        state: &SimStorage,
        crash: Option<CrashVariant>,
        opts: &WalOptions,
        model: &Model,
        here: &str,
    ) -> SimStorage {
        let img = state.snapshot();
        img.clear_faults();
        if let Some(v) = crash {
            img.crash(v);
        }
        self.reopens += 1;
        if let Err(e) = reopen_check(&img, opts, model) {
            match crash {
                None => self.violation(format!("{here}: direct reopen: {e}")),
                Some(v) => self.violation(format!("{here}: reopen after a crash ({v}): {e}")),
            }
        }
        img
    }
}
