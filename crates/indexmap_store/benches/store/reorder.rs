//! The `IndexMap` operations of schema version 3 and the hasher parameter,
//! against `IndexMap` doing the same in the same run (issue 14's targets):
//!
//! - `retain` removing every other entry: ≤ 3× `IndexMap::retain` plus
//!   one raw `write(2)` of the record's bytes; the reopen after it ≤ 1.2×
//!   the reopen of the log without it;
//! - `sort_keys` of entries inserted in a shuffled order: ≤ 1.5×
//!   `IndexMap::sort_keys` plus the raw write of the record;
//! - a `Batch` of N/2 shift-removes: applied in ≤ 2× `IndexMap::retain`
//!   removing the same keys, and replayed in ≤ 2× the same (the reopen of
//!   the log with the batch ≤ the reopen without it + 2× that retain);
//!   both are reported twice: against `retain` with a predicate on the
//!   key's text (no lookup at all), and against `retain` testing each key
//!   against the set of removed keys, which is what "removing the same
//!   keys" costs when, like a batch, one is given the keys;
//! - `get` with `foldhash` as the hasher: ≤ 1.1× `IndexMap::get` with the
//!   same hasher.
//!
//! Each mutation runs on a fresh copy of an N-entry log, opened untimed,
//! with automatic compaction off in every open: removing half of the
//! entries would otherwise trigger one (its cost is `store/compact`'s).

use std::cell::OnceCell;
use std::collections::HashSet;
use std::fs::{File, OpenOptions as FsOpen};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, OpenOptions, StoreConfig};
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, Store, fresh_store, remove, shuffle, shuffled_keys, time_lookups};
use crate::timed;

type Fold = foldhash::fast::FixedState;

/// Whether the entry with key `k` ("key-<12 digits>") is kept: the even
/// ones, so the removals are N/2 runs of one (the worst case for runs).
fn keep(k: &str) -> bool {
    k.as_bytes().last().is_some_and(|d| d % 2 == 0)
}

/// No automatic compaction (see the module docs).
const NO_COMPACTION: StoreConfig = StoreConfig {
    min_compact_bytes: u64::MAX,
    sync_on_write: false,
    compact_ratio: 2.0,
    buf_capacity: 1 << 20,
};

/// A copy of the log at `from`, opened: the untimed setup of a mutation.
fn open_copy(from: &Path, to: &Path) -> Store {
    remove(to);
    std::fs::copy(from, to).expect("copy the log");
    IndexMapStore::open_with(to, NO_COMPACTION).expect("open the copy")
}

/// The time of one positioned `write(2)` of `len` bytes at the end of a
/// file (created once), per call: the raw floor of logging a record.
fn raw_write(path: &Path, len: u64, iters: u64) -> Duration {
    let bytes = vec![0x5au8; usize::try_from(len).expect("a record fits in memory")];
    let mut file: File = FsOpen::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the floor file");
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        file.set_len(0).expect("truncate the floor file");
        let start = Instant::now();
        file.write_all(&bytes).expect("write");
        total += start.elapsed();
    }
    total
}

/// The map of `path`'s entries, as `IndexMap` with the default hasher.
fn map_of(path: &Path) -> IndexMap<String, String> {
    let store: Store = IndexMapStore::open(path).expect("open");
    store.as_map().clone()
}

/// A log of the fixture's entries inserted in a shuffled order, compacted.
fn shuffled_log(fx: &Fixture) -> PathBuf {
    let path = fx.path("shuffled.log");
    let mut pairs = fx.data().clone();
    shuffle(&mut pairs, 0x9E37_79B9_7F4A_7C15);
    let mut store = fresh_store(&path, StoreConfig::default());
    store.insert_many(pairs).expect("load");
    store.compact().expect("compact");
    path
}

/// `retain` and the reopen after it; `sort_keys`; a batch of shift-removes
/// and its replay.
pub(crate) fn mutations(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/reorder");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);
    let work = fx.path("reorder.log");
    let floor_file = fx.path("floor-record.bin");
    // The byte length of each operation's record, learnt on its first run.
    let retain_len = OnceCell::new();
    let sort_len = OnceCell::new();
    let shuffled = OnceCell::new();
    let plain_map = OnceCell::new();
    let shuffled_map = OnceCell::new();
    let record_len = |store: &mut Store, op: &mut dyn FnMut(&mut Store)| -> u64 {
        let before = store.stats();
        op(store);
        let after = store.stats();
        assert_eq!(after.compactions, before.compactions, "no compaction ran");
        after.log_bytes - before.log_bytes
    };

    g.bench("floor_indexmap_retain", |iters| {
        let map = plain_map.get_or_init(|| map_of(fx.loaded()));
        timed(
            iters,
            || map.clone(),
            |mut m| {
                m.retain(|k, _| keep(k));
                m
            },
            || {},
        )
    });
    g.bench("store_retain", |iters| {
        timed(
            iters,
            || open_copy(fx.loaded(), &work),
            |mut store| {
                let len = record_len(&mut store, &mut |s| s.retain(|k, _| keep(k)).unwrap());
                retain_len.get_or_init(|| len);
                store
            },
            || {},
        )
    });
    g.bench("floor_write_retain_record", |iters| {
        let len = *retain_len.get_or_init(|| {
            let mut store = open_copy(fx.loaded(), &work);
            record_len(&mut store, &mut |s| s.retain(|k, _| keep(k)).unwrap())
        });
        raw_write(&floor_file, len, iters)
    });

    g.bench("floor_indexmap_sort_keys", |iters| {
        let path = shuffled.get_or_init(|| shuffled_log(fx));
        let map = shuffled_map.get_or_init(|| map_of(path));
        timed(
            iters,
            || map.clone(),
            |mut m| {
                m.sort_keys();
                m
            },
            || {},
        )
    });
    g.bench("store_sort_keys", |iters| {
        let path = shuffled.get_or_init(|| shuffled_log(fx));
        timed(
            iters,
            || open_copy(path, &work),
            |mut store| {
                let len = record_len(&mut store, &mut |s| s.sort_keys().unwrap());
                sort_len.get_or_init(|| len);
                store
            },
            || {},
        )
    });
    g.bench("floor_write_sort_record", |iters| {
        let len = *sort_len.get_or_init(|| {
            let path = shuffled.get_or_init(|| shuffled_log(fx));
            let mut store = open_copy(path, &work);
            record_len(&mut store, &mut |s| s.sort_keys().unwrap())
        });
        raw_write(&floor_file, len, iters)
    });

    // `IndexMap::retain` given the removed keys as a set (built untimed):
    // the floor for a batch, which names its keys rather than a predicate
    // and so must look each one up as this does.
    let removed_keys = OnceCell::new();
    g.bench("floor_indexmap_retain_by_keys", |iters| {
        let map = plain_map.get_or_init(|| map_of(fx.loaded()));
        let set: &HashSet<String> = removed_keys.get_or_init(|| {
            fx.data()
                .iter()
                .filter(|(k, _)| !keep(k))
                .map(|(k, _)| k.clone())
                .collect()
        });
        timed(
            iters,
            || map.clone(),
            |mut m| {
                m.retain(|k, _| !set.contains(k));
                m
            },
            || {},
        )
    });
    g.bench("store_batch_shift_removes", |iters| {
        timed(
            iters,
            || {
                let mut batch = Batch::new();
                for (k, _) in fx.data().iter().filter(|(k, _)| !keep(k)) {
                    batch.shift_remove(k.clone());
                }
                (open_copy(fx.loaded(), &work), batch)
            },
            |(mut store, batch)| {
                store.apply(batch).unwrap();
                store
            },
            || {},
        )
    });

    // The logs the reopens read: the loaded one, and copies of it ending
    // in the retain record and in the batch record.
    let after = |name: &str, op: &dyn Fn(&mut Store)| -> PathBuf {
        let path = fx.path(name);
        let mut store = open_copy(fx.loaded(), &path);
        op(&mut store);
        store.close().expect("close");
        path
    };
    let retained = OnceCell::new();
    let batched = OnceCell::new();
    let reopen = |path: &Path, iters: u64| -> Duration {
        (0..iters)
            .map(|_| {
                let start = Instant::now();
                let store: Store = IndexMapStore::open_with(path, NO_COMPACTION).expect("reopen");
                let elapsed = start.elapsed();
                black_box(store.len());
                elapsed
            })
            .sum()
    };
    g.bench("floor_reopen_without", |iters| reopen(fx.loaded(), iters));
    g.bench("reopen_after_retain", |iters| {
        let path = retained.get_or_init(|| {
            after("retained.log", &|s: &mut Store| {
                s.retain(|k, _| keep(k)).unwrap()
            })
        });
        reopen(path, iters)
    });
    g.bench("reopen_after_batch", |iters| {
        let path = batched.get_or_init(|| {
            after("batched.log", &|s: &mut Store| {
                let mut batch = Batch::new();
                for (k, _) in fx.data().iter().filter(|(k, _)| !keep(k)) {
                    batch.shift_remove(k.clone());
                }
                s.apply(batch).unwrap();
            })
        });
        reopen(path, iters)
    });
    g.group.finish();

    // Replay ≤ 2× retain is checked as: reopen with the batch ≤ reopen
    // without it plus twice the retain.
    let ratios: [(&str, &[&str], Target); 7] = [
        (
            "store_retain",
            &["floor_indexmap_retain", "floor_write_retain_record"],
            Target::Time(3.0),
        ),
        (
            "reopen_after_retain",
            &["floor_reopen_without"],
            Target::Time(1.2),
        ),
        (
            "store_sort_keys",
            &["floor_indexmap_sort_keys", "floor_write_sort_record"],
            Target::Time(1.5),
        ),
        (
            "store_batch_shift_removes",
            &["floor_indexmap_retain"],
            Target::Time(2.0),
        ),
        (
            "store_batch_shift_removes",
            &["floor_indexmap_retain_by_keys"],
            Target::Time(2.0),
        ),
        (
            "reopen_after_batch",
            &[
                "floor_reopen_without",
                "floor_indexmap_retain",
                "floor_indexmap_retain",
            ],
            Target::Time(1.0),
        ),
        (
            "reopen_after_batch",
            &[
                "floor_reopen_without",
                "floor_indexmap_retain_by_keys",
                "floor_indexmap_retain_by_keys",
            ],
            Target::Time(1.0),
        ),
    ];
    let id = |s: &str| format!("store/reorder/{s}");
    for (subject, floors, target) in ratios {
        let floors: Vec<String> = floors.iter().map(|f| id(f)).collect();
        let floors: Vec<&str> = floors.iter().map(String::as_str).collect();
        rec.ratio(&id(subject), &floors, target);
    }
    for name in ["retained.log", "batched.log", "reorder.log", "shuffled.log"] {
        remove(&fx.path(name));
    }
}

/// Every key looked up once, in a shuffled order, with `foldhash`: the
/// store opened with that hasher vs an `IndexMap` with it.
pub(crate) fn get_foldhash(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/get_foldhash");
    g.group.throughput(Throughput::Elements(fx.n));
    g.sampled(scale, Duration::from_secs(2), Duration::from_secs(3));
    let hasher = Fold::with_seed(0x1234);
    let store: OnceCell<IndexMapStore<String, String, Fold>> = OnceCell::new();
    let map: OnceCell<IndexMap<String, String, Fold>> = OnceCell::new();
    let lookups: OnceCell<Vec<String>> = OnceCell::new();
    let lookups = || lookups.get_or_init(|| shuffled_keys(fx.data()));
    g.bench("floor_indexmap_get", |iters| {
        let map = map.get_or_init(|| {
            let mut map = IndexMap::with_hasher(hasher.clone());
            map.extend(fx.data().iter().cloned());
            map
        });
        time_lookups(iters, lookups(), |k| map.get(k))
    });
    g.bench("store_get", |iters| {
        let store = store.get_or_init(|| {
            OpenOptions::new()
                .open_with_hasher(fx.loaded(), hasher.clone())
                .expect("open with foldhash")
        });
        time_lookups(iters, lookups(), |k| store.get(k))
    });
    g.group.finish();
    rec.ratio(
        "store/get_foldhash/store_get",
        &["store/get_foldhash/floor_indexmap_get"],
        Target::Time(1.1),
    );
}
