//! `Wal` throughput against raw-file floors measured in the same run: one
//! 128-byte record per `append` vs one `write(2)` of a pre-encoded frame;
//! 1000 records per `append_many` (128 B, 1 KiB and 4 KiB payloads; the
//! log packs them into batch frames) vs a `BufWriter<File>` writing the
//! same bytes, pre-encoded; `append` + `sync`, with and without
//! `WalOptions::preallocate`, vs `write(2)` + `fdatasync` appending and vs
//! positioned writes + `fdatasync` into a zero-filled preallocated file
//! (then the same four interleaved, round by round, for a disk whose sync
//! latency drifts);
//! and open-with-replay of a log of 128-byte records, one frame each (1 GiB,
//! 64 MiB with `BENCH_QUICK=1`) from the page cache vs reading the file in
//! 1 MiB chunks and running `crc32fast::hash` over each.
//!
//! After each group it prints the ratio to its floor (medians, and best
//! samples, which a busy machine disturbs less), the target (append ≥ 0.9,
//! sync ≥ 0.9, replay ≥ 0.5 of the floor's throughput) and whether it is
//! met, plus reference ratios against encoding the frames by hand; for
//! replay also the peak memory (`VmHWM`, reset first). A replay still
//! running after `BENCH_MAX_ITER_SECS` (20 s; 5 s with `BENCH_QUICK=1`) is
//! given up and its rate so far projected to the whole log, not sampled.
//!
//! Files live in a `tempfile::tempdir()` under `std::env::temp_dir()`; point
//! `TMPDIR` at a real disk (not tmpfs) for the sync figures to mean anything.
//! Run with `cargo bench -p wal-io --bench wal` (`BENCH_QUICK=1` for a short
//! run, `BENCH_REPLAY_MIB=<n>` for another replay log size); under
//! `cargo test --benches` every size is tiny.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use test_support::bench::{Recorder, Scale, selected};
use wal_format::{DEFAULT_MAX_RECORD_LEN, encode_record};
use wal_io::{FsStorage, Wal, WalOptions};

use append_many::{MANY_SIZES, append_many};
use append_one::append_one;
use append_sync::{append_sync, interleaved_sync_probe};
use replay::replay;

mod append_many;
mod append_one;
mod append_sync;
mod replay;

/// Payload size of every record.
const PAYLOAD: usize = 128;

/// Deterministic pseudo-random bytes (xorshift64*).
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn open_wal(path: &Path) -> Wal {
    open_wal_with(path, WalOptions::default())
}

fn open_wal_with(path: &Path, opts: WalOptions) -> Wal {
    let storage = Arc::new(FsStorage::new());
    Wal::open(storage, path, opts, |_| Ok(()))
        .expect("open the benchmark log")
        .0
}

/// Removes a benchmark file and the log's lock file, ignoring absence.
fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let _ = std::fs::remove_file(PathBuf::from(lock));
}

/// Times `run` on `subject` (made, untimed, by the caller), then drops
/// `subject` and removes the benchmark file at `path`, untimed: the shape
/// of every routine below that writes a file.
fn timed<T>(path: &Path, mut subject: T, run: impl FnOnce(&mut T)) -> Duration {
    let start = Instant::now();
    run(&mut subject);
    let elapsed = start.elapsed();
    drop(subject);
    remove(path);
    elapsed
}

/// One `Vec` holding `frames` encoded back to back, and each frame alone.
fn encode_frames(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut all = Vec::new();
    let mut each = Vec::new();
    for (seq, p) in payloads.iter().enumerate() {
        let mut frame = Vec::new();
        encode_record(
            &mut frame,
            seq as u64,
            seq as u64,
            p,
            DEFAULT_MAX_RECORD_LEN,
        )
        .unwrap();
        all.extend_from_slice(&frame);
        each.push(frame);
    }
    (all, each)
}

fn main() {
    let scale = Scale::detect();
    let mut c = Criterion::default().configure_from_args();
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("create a temporary directory");
    if scale != Scale::Test {
        eprintln!(
            "wal bench: scale {scale:?}, files in {}",
            dir.path().display()
        );
    }
    let rec = Recorder::new(scale != Scale::Test);
    append_one(&mut c, &rec, dir.path(), scale);
    for size in MANY_SIZES {
        append_many(&mut c, &rec, dir.path(), scale, size);
    }
    append_sync(&mut c, &rec, dir.path(), scale);
    if selected("wal/append_sync") {
        interleaved_sync_probe(dir.path(), scale);
    }
    replay(&mut c, &rec, dir.path(), scale);
    if scale != Scale::Test {
        eprintln!("\nwal bench summary ({scale:?}):");
        for line in rec.summary() {
            eprintln!("  {line}");
        }
    }
    c.final_summary();
}
