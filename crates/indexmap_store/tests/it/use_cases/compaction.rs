//! README "Compaction": "Every mutation appends one record;
//! `total_records` counts the log's records ... After a mutation, when the
//! log is larger than `min_compact_bytes` and `total_records >=
//! compact_ratio * live_records` ..., the store writes a fresh log".
//! Batches are mutations too: each operation inside one counts.

use std::fs;
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, StoreConfig, StoreStats};
use test_support::scratch;

use super::{cp_alone, entries, model_entries, reopen_entries};

type Store = IndexMapStore<String, [u8; 32]>;

fn cfg(min_compact_bytes: u64) -> StoreConfig {
    StoreConfig {
        min_compact_bytes,
        ..StoreConfig::default()
    }
}

fn value(round: u32, i: u32) -> [u8; 32] {
    let mut v = [0u8; 32];
    v[..4].copy_from_slice(&round.to_le_bytes());
    v[4..8].copy_from_slice(&i.to_le_bytes());
    v
}

fn honest(s: &StoreStats, what: &str) {
    let dead = s.total_records.saturating_sub(s.live_records);
    let want = if s.total_records == 0 {
        0.0
    } else {
        dead as f64 / s.total_records as f64
    };
    assert!(
        (s.dead_ratio - want).abs() < 1e-9,
        "{what}: dead_ratio {} but (total - live) / total = {want} ({s:?})",
        s.dead_ratio
    );
}

/// The size of a freshly compacted log holding what the store at `path`
/// holds (compacting a copy, so the store itself is not touched).
fn compacted_size(path: &Path, sub: &str) -> u64 {
    let copy = cp_alone(path, sub);
    let mut store: Store = IndexMapStore::open_with(&copy, cfg(u64::MAX)).unwrap();
    store.compact().unwrap();
    store.close().unwrap();
    fs::metadata(&copy).unwrap().len()
}

/// What every compacting workload here ends with: the log on disk is
/// within 2x of a freshly compacted log of the same data, and a reopen
/// after closing `store` finds exactly `model`.
fn assert_near_compacted_and_reopens(
    store: Store,
    path: &Path,
    model: &IndexMap<String, [u8; 32]>,
) -> io::Result<()> {
    let s = store.stats();
    let on_disk = fs::metadata(path)?.len();
    let fresh = compacted_size(path, "fresh");
    assert!(
        on_disk <= 2 * fresh,
        "log is {on_disk} bytes, a compacted log of the same data {fresh}: {s:?}"
    );
    drop(store);
    assert_eq!(
        reopen_entries::<String, [u8; 32]>(path),
        model_entries(model)
    );
    Ok(())
}

/// "`total_records` counts the log's records" and "Every mutation appends
/// one record": an `insert_many` of 1,000 pairs is 1,000 mutations, an
/// `apply` of 15 operations is 15, and `dead_ratio` follows.
#[test]
fn stats_count_each_operation_of_a_batch() -> io::Result<()> {
    let (_dir, path) = scratch("count.log");
    let mut store: Store = IndexMapStore::open_with(&path, cfg(u64::MAX))?;
    store.insert_many((0..1000).map(|i| (format!("k{i}"), value(0, i))))?;
    let s = store.stats();
    assert_eq!((s.live_records, s.total_records), (1000, 1000), "{s:?}");
    honest(&s, "after the first batch");
    store.insert_many((0..1000).map(|i| (format!("k{i}"), value(1, i))))?;
    let s = store.stats();
    assert_eq!((s.live_records, s.total_records), (1000, 2000), "{s:?}");
    assert!((s.dead_ratio - 0.5).abs() < 1e-9, "{s:?}");
    let mut batch = Batch::new();
    for i in 0..10 {
        batch.insert(format!("new{i}"), value(2, i));
    }
    for i in 0..5 {
        batch.shift_remove(format!("k{i}"));
    }
    store.apply(batch)?;
    let s = store.stats();
    assert_eq!((s.live_records, s.total_records), (1005, 2015), "{s:?}");
    honest(&s, "after apply");
    Ok(())
}

/// Rewriting the same 20,000 keys ten times with `insert_many` (in batches
/// of 1,000), with `min_compact_bytes` = 64 KiB, compacts automatically: at
/// the end `compactions >= 1`, the counters are honest and the log on disk
/// is within 2x of a freshly compacted log of the same data.
#[test]
fn rewriting_the_same_keys_in_batches_compacts() -> io::Result<()> {
    let (_dir, path) = scratch("batches.log");
    let mut store: Store = IndexMapStore::open_with(&path, cfg(64 * 1024))?;
    let mut model = IndexMap::new();
    for round in 0..10 {
        for chunk in 0..20 {
            let pairs: Vec<(String, [u8; 32])> = (chunk * 1000..(chunk + 1) * 1000)
                .map(|i| (format!("key-{i:05}"), value(round, i)))
                .collect();
            model.extend(pairs.iter().cloned());
            store.insert_many(pairs)?;
        }
        let s = store.stats();
        honest(&s, &format!("round {round}"));
        assert_eq!(s.live_records, 20_000);
        assert!(
            s.total_records >= s.live_records,
            "round {round}: fewer records than live entries: {s:?}"
        );
    }
    let s = store.stats();
    assert!(
        s.compactions >= 1,
        "200,000 batched overwrites of 20,000 keys never compacted: {s:?}"
    );
    assert!(
        (s.total_records as f64) < 2.0 * s.live_records as f64,
        "the ratio was reached without compacting: {s:?}"
    );
    assert_eq!(s.log_bytes, fs::metadata(&path)?.len());
    assert_near_compacted_and_reopens(store, &path, &model)
}

/// `apply(Batch)` with removals: batches that each insert 2,000 new keys
/// and remove the previous 2,000 keep the live set constant while the log
/// grows; it must compact, and the order stays the model's.
#[test]
fn batches_with_removals_compact() -> io::Result<()> {
    let (_dir, path) = scratch("churn.log");
    let mut store: Store = IndexMapStore::open_with(&path, cfg(64 * 1024))?;
    let mut model = IndexMap::new();
    for round in 0..15u32 {
        let mut batch = Batch::new();
        for i in 0..2000 {
            let k = format!("r{round}-{i}");
            batch.insert(k.clone(), value(round, i));
            model.insert(k, value(round, i));
        }
        if round > 0 {
            for i in 0..2000 {
                let k = format!("r{}-{i}", round - 1);
                batch.shift_remove(k.clone());
                model.shift_remove(&k);
            }
        }
        store.apply(batch)?;
        honest(&store.stats(), &format!("round {round}"));
    }
    let s = store.stats();
    assert!(s.compactions >= 1, "batched churn never compacted: {s:?}");
    assert_eq!(entries(&store), model_entries(&model));
    assert_near_compacted_and_reopens(store, &path, &model)
}

/// The same policy with single inserts: overwriting 1,000 keys twenty
/// times compacts automatically, and the data survives it and a reopen.
#[test]
fn single_overwrites_compact() -> io::Result<()> {
    let (_dir, path) = scratch("single.log");
    let mut store: Store = IndexMapStore::open_with(&path, cfg(64 * 1024))?;
    let mut model = IndexMap::new();
    for round in 0..20 {
        for i in 0..1000 {
            store.insert(format!("k{i}"), value(round, i))?;
            model.insert(format!("k{i}"), value(round, i));
        }
    }
    let s = store.stats();
    assert!(s.compactions >= 1, "{s:?}");
    honest(&s, "single overwrites");
    assert_near_compacted_and_reopens(store, &path, &model)
}

/// "(with no live records the ratio is infinite)": clearing a store whose
/// log is past `min_compact_bytes` compacts it to (next to) nothing, and
/// it reopens empty.
#[test]
fn clearing_a_large_store_compacts_it() -> io::Result<()> {
    let (_dir, path) = scratch("clear.log");
    let mut store: Store = IndexMapStore::open_with(&path, cfg(64 * 1024))?;
    for i in 0..5000 {
        store.insert(format!("k{i}"), value(0, i))?;
    }
    assert_eq!(store.stats().compactions, 0, "nothing dead yet");
    store.clear()?;
    let s = store.stats();
    assert!(s.compactions >= 1, "{s:?}");
    assert!(fs::metadata(&path)?.len() < 1024, "{s:?}");
    drop(store);
    assert!(reopen_entries::<String, [u8; 32]>(&path).is_empty());
    Ok(())
}
