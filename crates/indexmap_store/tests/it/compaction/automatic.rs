//! The automatic compaction rule: checked op by op against the spec's
//! formula (with the log each compaction leaves: one `Insert` per live
//! entry, in order), for an all-dead log, at open, and with batches
//! counting as their mutations.

use std::fs;
use std::io;
use std::path::Path;

use super::{Users, keys};
use crate::common::log_records;
use indexmap_store::{COMPACT_TMP_SUFFIX, IndexMapStore, StoreConfig};
use store_test_kit::small::Op;
use store_test_kit::{apply_store, spec_says_compact};
use test_support::scratch;
use test_support::sibling;

/// The size of a compacted log of `(K, V)` with no entries: the header, the
/// schema record and the seal.
fn empty_log_len<K, V>() -> u64
where
    K: std::hash::Hash + Eq + serde::Serialize + serde::de::DeserializeOwned,
    V: serde::Serialize + serde::de::DeserializeOwned,
{
    let (_dir, path) = scratch("empty.log");
    let mut store: IndexMapStore<K, V> = IndexMapStore::open(&path).expect("open");
    store.compact().expect("compact");
    store.stats().log_bytes
}

/// Checks that the log at `path` holds its schema record (variant 6), its
/// entry count (variant 13, the number as one varint byte), then exactly
/// one `Insert` record per entry of `expected`, in its order (variant 0 of
/// the codec, then key and value).
fn assert_compacted_log(path: &Path, expected: &[(String, u32)]) {
    let bytes = fs::read(path).expect("read log");
    let records = log_records(&bytes);
    assert_eq!(records.first().map(|(_, p)| p[0]), Some(6), "schema first");
    assert_eq!(
        records.get(1).map(|(_, p)| p.clone()),
        Some(vec![13, expected.len() as u8]),
        "then the entry count"
    );
    let records = &records[2..];
    assert_eq!(records.len(), expected.len(), "one record per live entry");
    for ((_, payload), (k, v)) in records.iter().zip(expected) {
        let cfg = bincode::config::standard();
        let ((tag, key, value), used): ((u32, String, u32), _) =
            bincode::serde::decode_from_slice(payload, cfg).expect("an Insert record");
        assert_eq!(used, payload.len());
        assert_eq!(
            (tag, &key, value),
            (0, k, *v),
            "Insert records in map order"
        );
    }
}

/// Runs `ops` on a store with `config` and on a reference that never
/// compacts (to learn each record's size), and demands a compaction exactly
/// when the spec's rule holds for the log the op would leave. Returns the
/// number of automatic compactions, and how many of them found no live
/// record.
fn check_compaction_rule(config: StoreConfig, ops: &[Op]) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("auto.log");
    let never = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..config
    };
    let mut store = IndexMapStore::open_with(&path, config).expect("open");
    let mut reference = IndexMapStore::open_with(dir.path().join("ref.log"), never).expect("open");
    let (mut compactions, mut empty) = (0, 0);
    for op in ops {
        let ref_before = reference.stats();
        apply_store(&mut reference, op).expect("reference op");
        let record_bytes = reference.stats().log_bytes - ref_before.log_bytes;
        let records = reference.stats().total_records - ref_before.total_records;

        let before = store.stats();
        apply_store(&mut store, op).expect("op");
        let after = store.stats();
        let live = store.len() as u64;
        let (bytes, total) = (
            before.log_bytes + record_bytes,
            before.total_records + records,
        );
        assert_eq!(
            store_test_kit::entries(&store),
            store_test_kit::entries(&reference)
        );
        if records > 0 && spec_says_compact(&config, bytes, total, live) {
            assert_eq!(
                after.compactions,
                before.compactions + 1,
                "{op:?} at {bytes} B, {total}/{live}"
            );
            assert_eq!(after.total_records, live);
            assert_eq!(after.unsynced_records, 0);
            assert_eq!(fs::metadata(&path).expect("log").len(), after.log_bytes);
            let expected: Vec<(String, u32)> = store_test_kit::entries(&store);
            assert_compacted_log(&path, &expected);
            assert!(
                !sibling(&path, COMPACT_TMP_SUFFIX).exists(),
                "temp file left behind"
            );
            compactions += 1;
            empty += u64::from(live == 0);
            if live == 0 {
                assert_eq!(
                    after.log_bytes,
                    empty_log_len::<String, u32>(),
                    "an empty log is just its header and schema record"
                );
            }
        } else {
            assert_eq!(
                after.compactions, before.compactions,
                "{op:?} at {bytes} B, {total}/{live}"
            );
            assert_eq!(
                (after.log_bytes, after.total_records),
                (bytes, total),
                "after {op:?}"
            );
        }
    }
    assert_eq!(store.stats().compactions, compactions);
    (compactions, empty)
}

#[test]
fn automatic_compaction_follows_the_spec_rule() {
    let k = |i: usize| store_test_kit::small::KEYS[i % 6].to_owned();
    let mut ops = Vec::new();
    // Six live entries, then many overwrites (dead records pile up).
    for i in 0..6 {
        ops.push(Op::Insert(k(i), i as u32));
    }
    for round in 0..12u32 {
        for i in 0..6 {
            ops.push(Op::Insert(k(i), round * 1000 + i as u32));
        }
        ops.push(Op::MoveIndex(round as usize, 5 - round as usize % 6));
        ops.push(Op::Modify(k(round as usize), 1));
    }
    // Remove everything, one way or another, then churn with no live entry.
    ops.extend([
        Op::Remove(k(0)),
        Op::SwapRemove(k(1)),
        Op::Pop,
        Op::ShiftRemoveIndex(0),
    ]);
    ops.push(Op::Clear);
    for i in 0..60 {
        ops.push(Op::Insert(k(i), 1));
        ops.push(Op::SwapRemove(k(i)));
    }
    // The last config never compacts for the ratio while anything is
    // live: only the all-dead rule can fire.
    let configs = [(300, 2.0), (100, 3.0), (0, 1.5), (1000, 2.5), (300, 1000.0)];
    for (min_compact_bytes, compact_ratio) in configs {
        let config = StoreConfig {
            min_compact_bytes,
            compact_ratio,
            ..StoreConfig::default()
        };
        let (auto, empty) = check_compaction_rule(config, &ops);
        assert!(
            auto >= 2,
            "only {auto} automatic compactions with {config:?}"
        );
        if compact_ratio > 100.0 || min_compact_bytes == 0 {
            assert!(
                empty >= 1,
                "no compaction of an all-dead log with {config:?}"
            );
        }
    }
}

#[test]
fn an_all_dead_log_is_compacted_once_past_min_bytes() -> io::Result<()> {
    let (_dir, path) = scratch("dead.log");
    // A huge ratio: no compaction while anything is live.
    let config = StoreConfig {
        min_compact_bytes: 200,
        compact_ratio: 1000.0,
        ..StoreConfig::default()
    };
    let mut store: Users = IndexMapStore::open_with(&path, config)?;
    let empty = empty_log_len::<String, u64>();
    let mut compactions = 0;
    for i in 0..20 {
        let before = store.stats();
        store.insert("k".into(), i)?;
        let inserted = store.stats();
        assert_eq!(
            inserted.compactions, before.compactions,
            "compacted with a live entry"
        );
        assert_eq!(
            inserted.log_bytes,
            before.log_bytes + 20,
            "Insert(\"k\", small) is 20 bytes"
        );
        store.remove("k")?;
        let after = store.stats();
        // ShiftRemove("k") is 19 bytes.
        if inserted.log_bytes + 19 > 200 {
            assert_eq!(
                after.compactions,
                inserted.compactions + 1,
                "not compacted: {after:?}"
            );
            assert_eq!((after.total_records, after.log_bytes), (0, empty));
            assert_eq!(fs::metadata(&path)?.len(), empty);
            compactions += 1;
        } else {
            assert_eq!(
                after.compactions, inserted.compactions,
                "compacted early: {after:?}"
            );
            assert_eq!(after.log_bytes, inserted.log_bytes + 19);
        }
    }
    assert!(compactions >= 2, "only {compactions} compactions");

    // A clear of many entries (two records, 21 mutations) is compacted at
    // once if the log is past the floor.
    let many: Vec<(String, u64)> = (0..20).map(|i| (format!("key-{i}"), i)).collect();
    store.insert_many(many)?;
    let before = store.stats();
    assert!(
        before.log_bytes > 200 && before.live_records == 20,
        "{before:?}"
    );
    store.clear()?;
    let after = store.stats();
    assert_eq!(after.compactions, before.compactions + 1);
    assert_eq!((after.total_records, after.log_bytes), (0, empty));
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert!(store.is_empty());
    assert_eq!(
        store.recovery_report().records,
        2,
        "the schema record and the entry count"
    );
    Ok(())
}

#[test]
fn open_compacts_a_log_the_rule_says_to_compact() -> io::Result<()> {
    let (_dir, path) = scratch("reopen.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for round in 0..10 {
        for k in ["a", "b", "c"] {
            store.insert(k.into(), round)?;
        }
    }
    store.move_index(2, 0)?;
    assert_eq!(store.stats().total_records, 31);
    assert_eq!(store.stats().compactions, 0, "the default floor is 1 MiB");
    drop(store);
    let config = StoreConfig {
        min_compact_bytes: 100,
        ..StoreConfig::default()
    };
    let store: Users = IndexMapStore::open_with(&path, config)?;
    assert_eq!(store.recovery_report().records, 32, "schema and 31 more");
    let stats = store.stats();
    assert_eq!(
        (stats.compactions, stats.total_records),
        (1, 3),
        "{stats:?}"
    );
    assert_eq!(keys(&store), ["c", "a", "b"]);
    assert_eq!(
        log_records(&fs::read(&path)?).len(),
        5,
        "schema, entry count and 3"
    );
    Ok(())
}

#[test]
fn batches_count_as_their_mutations_for_compaction() -> io::Result<()> {
    // Rewriting the same 20,000 keys ten times with insert_many: each batch
    // is one record but 20,000 mutations, so the log must be compacted as
    // if each insert had been its own record.
    let (_dir, path) = scratch("batches.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    let keys: Vec<String> = (0..20_000).map(|i| format!("key-{i:05}")).collect();
    for round in 0..10u64 {
        store.insert_many(keys.iter().map(|k| (k.clone(), round * 1_000_003)))?;
        let stats = store.stats();
        assert_eq!(stats.live_records, 20_000);
        assert!(
            stats.total_records.is_multiple_of(20_000) && stats.total_records >= 20_000,
            "{stats:?}"
        );
    }
    let stats = store.stats();
    assert!(stats.compactions >= 3, "{stats:?}");
    assert!(
        stats.total_records <= 2 * stats.live_records,
        "the rule left {stats:?}"
    );
    let before = stats.log_bytes;
    store.compact()?;
    let live_bytes = store.stats().log_bytes;
    assert!(
        before <= 2 * live_bytes + 4096,
        "the log ended at {before} bytes for {live_bytes} of live data"
    );
    assert_eq!(store.stats().dead_ratio, 0.0);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.len(), 20_000);
    assert_eq!(store.get("key-00007"), Some(&9_000_027));
    Ok(())
}
