//! The memory report: resident memory of an opened store against a plain
//! `IndexMap` with the same entries, each in a fresh child process.

use std::hint::black_box;
use std::process::Command;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, OpenOptions};
use test_support::bench::Recorder;

use crate::fixture::{Fixture, Store, key, value};

/// A field of `/proc/self/status` (`VmRSS`, `VmHWM`), in KiB.
pub(crate) fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory of one process, in KiB: before the work, after it, and
/// the peak (reset before the work where the kernel allows).
pub(crate) struct Rss {
    before: u64,
    after: u64,
    peak: u64,
}

/// In a child process: opens the store at `BENCH_MEMORY_LOG`
/// (`BENCH_MEMORY_CHILD=store`, or `store_threaded` for
/// `OpenOptions::open_threaded`) or builds an `IndexMap` of the same
/// `BENCH_MEMORY_N` entries (`BENCH_MEMORY_CHILD=indexmap`), and prints
/// "before after peak" in KiB.
pub(crate) fn memory_child(role: &str) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = proc_status_kib("VmRSS").unwrap();
    let keep: Box<dyn std::any::Any> = match role {
        "store" => {
            let path = std::env::var("BENCH_MEMORY_LOG").unwrap();
            let store: Store = IndexMapStore::open(path).unwrap();
            Box::new(store)
        }
        "store_threaded" => {
            let path = std::env::var("BENCH_MEMORY_LOG").unwrap();
            let store: Store = OpenOptions::new().open_threaded(path).unwrap();
            Box::new(store)
        }
        "indexmap" => {
            let n: u64 = std::env::var("BENCH_MEMORY_N").unwrap().parse().unwrap();
            let mut map = IndexMap::new();
            for i in 0..n {
                map.insert(key(i), value(i));
            }
            Box::new(map)
        }
        other => panic!("BENCH_MEMORY_CHILD: unknown role {other}"),
    };
    let after = proc_status_kib("VmRSS").unwrap();
    let peak = proc_status_kib("VmHWM").unwrap();
    println!("{before} {after} {peak}");
    drop(black_box(keep));
}

/// Measures, each in a fresh child process, an opened store and a plain
/// `IndexMap` with the same entries, and prints the comparison.
pub(crate) fn memory_report(fx: &Fixture, rec: &Recorder) {
    let exe = std::env::current_exe().unwrap();
    let child = |role: &str| -> Rss {
        let out = Command::new(&exe)
            .env("BENCH_MEMORY_CHILD", role)
            .env("BENCH_MEMORY_LOG", fx.loaded())
            .env("BENCH_MEMORY_N", fx.n.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "memory child {role} failed: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let v: Vec<u64> = text
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        Rss {
            before: v[0],
            after: v[1],
            peak: v[2],
        }
    };
    let store = child("store");
    let threaded = child("store_threaded");
    let map = child("indexmap");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (store_mem, map_mem) = (store.after - store.before, map.after - map.before);
    let (store_peak, map_peak) = (store.peak - store.before, map.peak - map.before);
    let lines = [
        format!(
            "memory: store {:.1} MiB vs IndexMap {:.1} MiB, ratio {:.3} ({} entries; VmRSS growth, fresh processes)",
            mib(store_mem),
            mib(map_mem),
            store_mem as f64 / map_mem as f64,
            fx.n,
        ),
        format!(
            "memory: peak during open {:.1} MiB = {:.3}x the store's steady state; \
             IndexMap peak while building {:.1} MiB = {:.3}x its steady state (VmHWM growth)",
            mib(store_peak),
            store_peak as f64 / store_mem as f64,
            mib(map_peak),
            map_peak as f64 / map_mem as f64,
        ),
        format!(
            "memory: peak during a threaded open {:.1} MiB = {:.3}x its steady state {:.1} MiB",
            mib(threaded.peak - threaded.before),
            (threaded.peak - threaded.before) as f64 / (threaded.after - threaded.before) as f64,
            mib(threaded.after - threaded.before),
        ),
    ];
    for line in lines {
        rec.say(line);
    }
}
