//! The workloads, one per process: each opens a store, times its part, and
//! closes the store (closing is timed apart, as `close_secs`).
//!
//! `setup` and `reopen`/`reopen-scan` are run by `cargo xtask compare` in
//! two processes on one directory, so the timed open finds a warm page
//! cache but no in-process cache; `churn` is followed the same way by a
//! `reopen` of its directory.

use std::path::Path;
use std::time::Instant;

use crate::data::{ENTRY_LEN, Entry, VALUE_LEN, lookup_index};
use crate::stores::{self, Durability, Store};

/// Entries per batch in `load-batch`.
pub const BATCH: u64 = 10_000;
/// How often `churn` writes every key.
pub const CHURN_ROUNDS: u64 = 10;

/// A workload: what one process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// N inserts, one call each, then one `sync`.
    LoadPerCall,
    /// N inserts in batches of [`BATCH`], then one `sync`.
    LoadBatch,
    /// N inserts, each durable before the next.
    Durable,
    /// N inserts shared among `--threads` threads, each durable before it
    /// returns (see [`crate::threads`]).
    DurableThreads,
    /// Load N (not timed), then N uniformly random gets.
    Get,
    /// Load N like `load-per-call` and close: the directory for a reopen.
    Setup,
    /// Open an existing store of N entries (timed), then check two entries.
    Reopen,
    /// Open an existing store of N entries and read every entry (timed).
    ReopenScan,
    /// N keys, each written [`CHURN_ROUNDS`] times per call, then one `sync`.
    Churn,
}

impl Workload {
    /// Every workload, with its `--workload` name.
    pub const ALL: [(Workload, &'static str); 9] = [
        (Workload::LoadPerCall, "load-per-call"),
        (Workload::LoadBatch, "load-batch"),
        (Workload::Durable, "durable"),
        (Workload::DurableThreads, "durable-threads"),
        (Workload::Get, "get"),
        (Workload::Setup, "setup"),
        (Workload::Reopen, "reopen"),
        (Workload::ReopenScan, "reopen-scan"),
        (Workload::Churn, "churn"),
    ];

    /// The workload called `name`.
    pub fn parse(name: &str) -> Option<Workload> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(w, _)| *w)
    }
}

/// What a workload measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Operations in the timed part.
    pub ops: u64,
    /// Seconds of the timed part.
    pub secs: f64,
    /// Seconds to close (drop) the store afterwards.
    pub close_secs: f64,
    /// Key and value bytes of the live entries at the end.
    pub live_bytes: u64,
    /// A figure derived from what was read (so no read is optimised away).
    pub check: u64,
}

/// Runs `workload` on store `store` with `n` entries in `dir` (and
/// `threads` threads, for `durable-threads`); `None` when this build does
/// not have the store (a hook not filled yet).
pub fn run(store: &str, workload: Workload, n: u64, threads: u32, dir: &Path) -> Option<Outcome> {
    let durability = match workload {
        Workload::DurableThreads => return crate::threads::run(store, threads, n, dir),
        Workload::Durable => Durability::EveryWrite,
        _ => Durability::OnSync,
    };
    let opened = Instant::now();
    let mut db = stores::open(store, dir, durability, n)?;
    let open_secs = opened.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut out = Outcome {
        ops: n,
        live_bytes: n * ENTRY_LEN,
        ..Outcome::default()
    };
    match workload {
        Workload::DurableThreads => unreachable!("run by crate::threads"),
        Workload::LoadPerCall | Workload::Durable | Workload::Setup => {
            load_per_call(db.as_mut(), n, 0);
            if workload != Workload::Durable {
                db.sync();
            }
        }
        Workload::LoadBatch => {
            let mut first = 0;
            while first < n {
                let last = (first + BATCH).min(n);
                let batch: Vec<Entry> = (first..last).map(|i| Entry::new(i, 0)).collect();
                db.insert_batch(&batch);
                first = last;
            }
            db.sync();
        }
        Workload::Get => {
            load_per_call(db.as_mut(), n, 0);
            db.sync();
            let start = Instant::now();
            out.check = random_gets(db.as_mut(), n);
            out.secs = start.elapsed().as_secs_f64();
        }
        Workload::Reopen => {
            out.secs = open_secs;
            out.ops = 1;
            for index in [0, n - 1] {
                let e = Entry::new(index, 0);
                let len = db.value_len(e.key());
                assert_eq!(len, Some(VALUE_LEN), "{store}: key {index} after reopen");
            }
        }
        Workload::ReopenScan => {
            let (count, bytes) = db.scan();
            out.secs = open_secs + start.elapsed().as_secs_f64();
            assert_eq!(
                (count, bytes),
                (n, n * ENTRY_LEN),
                "{store}: the scan found other entries than were written"
            );
            out.check = count;
        }
        Workload::Churn => {
            for round in 0..CHURN_ROUNDS {
                load_per_call(db.as_mut(), n, round);
            }
            db.sync();
            out.ops = n * CHURN_ROUNDS;
        }
    }
    if out.secs == 0.0 {
        out.secs = start.elapsed().as_secs_f64();
    }
    let closing = Instant::now();
    drop(db);
    out.close_secs = closing.elapsed().as_secs_f64();
    Some(out)
}

/// Inserts entries `0..n` as written in `round`, one call each.
fn load_per_call(db: &mut dyn Store, n: u64, round: u64) {
    for index in 0..n {
        db.insert(&Entry::new(index, round));
    }
}

/// `n` gets of uniformly random present keys; returns the sum of the value
/// lengths after checking each.
fn random_gets(db: &mut dyn Store, n: u64) -> u64 {
    let mut sum = 0;
    for nth in 0..n {
        let index = lookup_index(nth, n);
        let key = crate::data::key_bytes(index);
        let key = std::str::from_utf8(&key).expect("keys are ASCII");
        match db.value_len(key) {
            Some(len) if len == VALUE_LEN => sum += len as u64,
            other => panic!("get of key {index}: value length {other:?}, expected {VALUE_LEN}"),
        }
    }
    sum
}
