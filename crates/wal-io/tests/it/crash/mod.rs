//! Crash at every storage operation of seeded workloads, in every crash variant, then recover: the records replayed are always the first k appended, for some synced <= k <= appended (or exactly a rewrite's new list), and crashing again during or after recovery loses nothing a completed recovery returned.
//!
//! One run per seed: a hook before every storage operation snapshots the
//! simulation (the state a crash at that operation leaves) and recovers
//! each crash variant's image ([`checker`]). That is what
//! `SimStorage::crash_at` followed by `crash` would produce
//! (`crash_at_reproduces_the_snapshots` in [`repro`] checks it), so every
//! failure names a seed, an operation index and a variant to rerun with
//! `WAL_CRASH_REPRO=<seed>,<calls>,<op>,<variant>[,<j>,<variant2>]`
//! (`cargo test -p wal-io --test it crash::repro::reproduce_from_env -- --nocapture`).
//!
//! [`seeds`] runs the seeds; `WAL_SOAK_SEEDS=<n>` adds `n` seeds of 5,000
//! calls each. [`stale_temp`] covers the temporary file an interrupted
//! rewrite or creation leaves. This module holds what they share: the
//! run's constants, each seed's options and the checked recovery.

mod checker;
mod repro;
mod seeds;
mod stale_temp;

use std::sync::Arc;

use crate::support::{check_open, open_log};
use wal_io::sim::SimStorage;
use wal_io::{TruncationReason, WalOptions};

/// Calls per seed in the default run.
const CALLS: usize = 2000;
/// Seeds in the default run (split over the `seeds_*` tests).
const SEEDS: u64 = 20;
/// The re-crash checks (a crash at every operation of the first recovery
/// and of a later one) run for one variant, rotating, at every crash point
/// whose number is a multiple of this.
const RECRASH_EVERY: u64 = 1;
/// Violations printed in full.
const SHOWN: usize = 12;

/// The options of seed `seed`: small buffers for some seeds, so rewrites
/// take several writes and replays several reads; half the seeds
/// preallocate the log in small chunks (so that crashes land before,
/// during and after allocations), and one in four gathers appends in a
/// small append buffer.
fn options(seed: u64) -> WalOptions {
    WalOptions {
        buf_capacity: if seed.is_multiple_of(3) {
            4096
        } else {
            64 << 10
        },
        preallocate: (seed % 2 == 1).then_some(1024),
        append_buffer: if seed % 4 == 2 { 600 } else { 0 },
        ..WalOptions::default()
    }
}

/// Opens the log on `sim` and returns its payloads; any failure of the open
/// or of its report is an error.
fn recover(sim: &SimStorage, opts: &WalOptions) -> Result<Vec<Vec<u8>>, String> {
    let (wal, replayed, report) = open_log(Arc::new(sim.clone()), opts)
        .map_err(|e| format!("recovery failed: {e} ({e:?})"))?;
    check_open(&wal, &replayed, &report)?;
    if let Some(t) = &report.truncated
        && t.reason != TruncationReason::TornTail
    {
        return Err(format!("strict recovery reported {t:?}"));
    }
    drop(wal);
    Ok(replayed.payloads)
}
