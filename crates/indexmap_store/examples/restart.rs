//! How long a restart takes on this machine, and how much memory it
//! peaks at: builds (once) a compacted store of N entries (16-byte keys,
//! 100-byte values, as the benches use), then opens it in fresh child
//! processes, sequentially (`OpenOptions::open`) and with decoding on a
//! second thread (`OpenOptions::open_threaded`), and prints each open's
//! time, the records it replayed, and its resident memory: the peak during
//! the open against what the opened store keeps. Before each pair of opens,
//! a floor: the time to fill a pre-sized `IndexMap` with the same pairs,
//! already decoded and hashed in memory, on one thread, as the threaded
//! open's inserting thread does (it inserts in log order, on one thread,
//! so the open cannot beat this).
//!
//! ```sh
//! cargo run --release -p indexmap_store --example restart -- 10000000 /path/on/a/disk
//! ```
//!
//! The log (about 120 bytes per entry) is kept in the directory given
//! (default: the system's temporary directory) as `restart-<N>.log`, so a
//! second run measures only the opens; delete it afterwards.

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use indexmap::IndexMap;
use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use indexmap_store::{IndexMapStore, OpenOptions, StoreConfig};

type Store = IndexMapStore<String, String>;

/// A field of `/proc/self/status` in KiB (Linux; 0 elsewhere).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() -> std::io::Result<()> {
    if let Ok(how) = std::env::var("RESTART_CHILD") {
        return child(&how);
    }
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|a| a.parse().expect("the first argument is the entry count"))
        .unwrap_or(1_000_000);
    let dir = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let path = dir.join(format!("restart-{n}.log"));
    if !path.exists() {
        let start = Instant::now();
        let config = StoreConfig {
            min_compact_bytes: u64::MAX,
            ..StoreConfig::default()
        };
        let mut store: Store = IndexMapStore::open_with(&path, config)?;
        let mut chunk = Vec::with_capacity(100_000);
        for i in 0..n {
            chunk.push((format!("key-{i:012}"), format!("{i:0>100}")));
            if chunk.len() == chunk.capacity() {
                store.insert_many(std::mem::take(&mut chunk))?;
                chunk.reserve(100_000);
            }
        }
        store.insert_many(chunk)?;
        store.compact()?;
        println!(
            "built {} ({} entries, {:.0} MiB) in {:.1?}",
            path.display(),
            n,
            std::fs::metadata(&path)?.len() as f64 / f64::from(1 << 20),
            start.elapsed()
        );
    }
    let exe = std::env::current_exe()?;
    for how in [
        "floor",
        "sequential",
        "threaded",
        "floor",
        "sequential",
        "threaded",
    ] {
        let out = Command::new(&exe)
            .env("RESTART_CHILD", how)
            .env("RESTART_LOG", &path)
            .output()?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(())
}

/// Opens the log `how` and reports, in this fresh process.
fn child(how: &str) -> std::io::Result<()> {
    let path = std::env::var("RESTART_LOG").expect("RESTART_LOG");
    if how == "floor" {
        return floor(&path);
    }
    // Reset the peak, where the kernel allows it.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS");
    let start = Instant::now();
    let store: Store = match how {
        "threaded" => OpenOptions::new().open_threaded(&path)?,
        _ => OpenOptions::new().open(&path)?,
    };
    let took = start.elapsed();
    let (after, peak) = (status_kib("VmRSS"), status_kib("VmHWM"));
    let report = store.recovery_report();
    println!(
        "{how:>10}: {} entries in {took:.2?} (report: {:.2?}, {} records); resident {:.0} MiB, peak {:.0} MiB = {:.3}x",
        store.len(),
        report.duration,
        report.records,
        (after - before) as f64 / 1024.0,
        (peak - before) as f64 / 1024.0,
        (peak - before) as f64 / (after - before).max(1) as f64,
    );
    Ok(())
}

/// The floor an open of this log cannot beat on one inserting thread:
/// filling a pre-sized `IndexMap` (the store's default hasher) with the
/// pairs the log holds, already decoded and in memory. Made by the same
/// formula as the log, so nothing is read.
fn floor(path: &str) -> std::io::Result<()> {
    let n = entries_in_name(path);
    let hasher = RandomState::new();
    let pairs: Vec<(u64, String, String)> = (0..n)
        .map(|i| {
            let key = format!("key-{i:012}");
            (hasher.hash_one(&key), key, format!("{i:0>100}"))
        })
        .collect();
    let start = Instant::now();
    let mut map = IndexMap::with_capacity_and_hasher(n as usize, hasher);
    // What the threaded open's inserting thread does with each record:
    // the key's hash was computed on the reading thread.
    for (hash, key, value) in pairs {
        match map.raw_entry_mut_v1().from_key_hashed_nocheck(hash, &key) {
            RawEntryMut::Occupied(mut entry) => {
                entry.insert(value);
            }
            RawEntryMut::Vacant(entry) => {
                entry.insert_hashed_nocheck(hash, key, value);
            }
        }
    }
    let took = start.elapsed();
    println!(
        "     floor: {} decoded, hashed pairs into a pre-sized IndexMap, one thread, nothing read: {took:.2?}",
        map.len()
    );
    Ok(())
}

/// N from a log named `restart-<N>.log`.
fn entries_in_name(path: &str) -> u64 {
    path.rsplit_once("restart-")
        .and_then(|(_, tail)| tail.strip_suffix(".log"))
        .and_then(|n| n.parse().ok())
        .expect("the log is named restart-<N>.log")
}
