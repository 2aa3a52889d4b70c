//! `IndexMapStore<String, String>` against floors measured in the same run,
//! with N entries (1M, 100k with `BENCH_QUICK=1`) of 16-byte keys and
//! 100-byte values: `insert` vs `IndexMap::insert` and vs a raw
//! bincode + crc32fast + `write(2)` per record (target ≥ 0.8 of the
//! latter; `insert.rs`); `insert_many` vs a `BufWriter` writing the same
//! bytes (≥ 0.8), and vs that plus filling an `IndexMap` with the same
//! pairs (the whole job's floor; building the map alone costs several
//! times the writes; `insert_many.rs`); per-call inserts under
//! `Durability::Buffered` vs the same `BufWriter` floor plus
//! `IndexMap::insert` (≥ 0.8; `buffered.rs`); `insert` with
//! `sync_on_write` vs write + `fdatasync` (≥ 0.9; `insert.rs`); `get` vs
//! `IndexMap::get` (time ≤ 1.1; `get.rs`); the same through
//! `SharedStore`'s read lock (≤ 1.3), and with a writer running
//! (`shared.rs`); reopening vs reading, checking, decoding and inserting
//! by hand (≥ 0.7; `reopen.rs`); `compact` vs a `BufWriter` writing and
//! syncing the same bytes (≥ 0.7; `compact.rs`); the `IndexMap`
//! operations of schema version 3 and `get` with `foldhash`
//! (`reorder.rs`). Before the timed groups it measures, in
//! fresh child processes, the resident memory of an opened store against a
//! plain `IndexMap` with the same entries, and the peak during the open.
//!
//! After each group it prints the ratio to its floor (medians, and best
//! samples, which a busy machine disturbs less), the target and whether it
//! is met, plus reference ratios against hand-written code doing the same
//! work (encoding included), which show the store's own overhead; a summary
//! follows at the end. A routine so slow that one run exceeds
//! `BENCH_MAX_ITER_SECS` (20 s; 5 s with `BENCH_QUICK=1`) is reported from
//! that single run instead of being sampled.
//!
//! Files live in a `tempfile::tempdir()` under `std::env::temp_dir()`; point
//! `TMPDIR` at a real disk (not tmpfs) for the sync figures to mean anything.
//! Run with `cargo bench -p indexmap_store --bench store` (`BENCH_QUICK=1`
//! for a short run, `BENCH_MEMORY=0` to skip the memory report); under
//! `cargo test --benches` every size is tiny.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use criterion::Criterion;
use test_support::bench::{Recorder, Scale};

use fixture::Fixture;
use memory::{memory_child, memory_report};

mod buffered;
mod compact;
mod fixture;
mod get;
mod insert;
mod insert_many;
mod memory;
mod mirror;
mod reopen;
mod reorder;
mod shared;

/// Runs `iters` rounds of `setup` (untimed), `run` on what it made
/// (timed), then drops what `run` returned and calls `teardown` (both
/// untimed); returns the timed total, for a
/// [`Group::bench`](test_support::bench::Group::bench) routine.
fn timed<S, T>(
    iters: u64,
    mut setup: impl FnMut() -> S,
    mut run: impl FnMut(S) -> T,
    mut teardown: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let state = setup();
        let start = Instant::now();
        let out = run(state);
        total += start.elapsed();
        drop(out);
        teardown();
    }
    total
}

fn main() {
    if let Ok(role) = std::env::var("BENCH_MEMORY_CHILD") {
        memory_child(&role);
        return;
    }
    let scale = Scale::detect();
    let mut c = Criterion::default().configure_from_args();
    let fx = Fixture {
        dir: tempfile::tempdir_in(std::env::temp_dir()).expect("create a temporary directory"),
        n: scale.pick(1000, 100_000, 1_000_000),
        data: OnceCell::new(),
        loaded: OnceCell::new(),
    };
    let rec = Recorder::new(scale != Scale::Test);
    if scale != Scale::Test {
        eprintln!(
            "store bench: scale {scale:?}, {} entries, files in {}",
            fx.n,
            fx.dir.path().display()
        );
        if std::env::var("BENCH_MEMORY").is_ok_and(|v| v == "0") {
            eprintln!("memory: skipped (BENCH_MEMORY=0)");
        } else {
            memory_report(&fx, &rec);
        }
    }
    insert::insert(&mut c, &rec, &fx, scale);
    insert_many::insert_many(&mut c, &rec, &fx, scale);
    buffered::insert_buffered(&mut c, &rec, &fx, scale);
    insert::insert_sync(&mut c, &rec, &fx, scale);
    get::get(&mut c, &rec, &fx, scale);
    shared::get(&mut c, &rec, &fx, scale);
    reopen::reopen(&mut c, &rec, &fx, scale);
    compact::compact(&mut c, &rec, &fx, scale);
    reorder::mutations(&mut c, &rec, &fx, scale);
    reorder::get_foldhash(&mut c, &rec, &fx, scale);
    if scale != Scale::Test {
        eprintln!("\nstore bench summary ({scale:?}, {} entries):", fx.n);
        for line in rec.summary() {
            eprintln!("  {line}");
        }
    }
    c.final_summary();
}
