//! The records of schema version 3 (removals of many, reorders, positional
//! inserts): a large batch of shift-removals applies and replays in one
//! pass, out-of-bounds calls are refused and write nothing, and records
//! that cannot apply are refused on open with the file untouched.

use std::fs;
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::time::Instant;

use crate::common::{STORE_APP_TAG, raw_log};
use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, StoreConfig, StoreError};
use store_test_kit::store_error;
use test_support::rng::Rng;
use test_support::scratch;

type Store = IndexMapStore<String, u64>;

fn keys(store: &Store) -> Vec<String> {
    store.keys().cloned().collect()
}

/// The scenario: 100,000 entries, then one batch of 50,000
/// shift-removals in random order. Applying it and reopening must be fast
/// (the times are printed, not asserted) and give IndexMap's result.
#[test]
fn a_batch_of_50k_shift_removes_on_100k_entries_applies_and_replays_in_one_pass() -> io::Result<()>
{
    const N: u64 = 100_000;
    const K: usize = 50_000;
    let (_dir, path) = scratch("big-batch.log");
    let config = StoreConfig {
        // No compaction: the reopen must replay the batch itself.
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    };
    let mut store: IndexMapStore<u64, u64> = IndexMapStore::open_with(&path, config)?;
    store.insert_many((0..N).map(|i| (i, i * 3)))?;
    let mut rng = Rng::new(14);
    let mut victims: Vec<u64> = (0..N).collect();
    for i in (1..victims.len()).rev() {
        victims.swap(i, rng.index(i + 1));
    }
    victims.truncate(K);
    let mut batch = Batch::new();
    for &k in &victims {
        batch.shift_remove(k);
    }
    // The model: removing distinct keys one by one keeps the order of the
    // rest, which is what retain gives (IndexMap's own shift_remove, one
    // by one, is the O(n k) this test is about).
    let gone: std::collections::HashSet<u64> = victims.iter().copied().collect();
    let mut model: IndexMap<u64, u64> = (0..N).map(|i| (i, i * 3)).collect();
    model.retain(|k, _| !gone.contains(k));

    let started = Instant::now();
    store.apply(batch)?;
    let applied = started.elapsed();
    assert!(
        store.iter().eq(model.iter()),
        "applied: not IndexMap's result"
    );
    assert_eq!(store.stats().total_records, N + K as u64);
    drop(store);

    let started = Instant::now();
    let store: IndexMapStore<u64, u64> = IndexMapStore::open_with(&path, config)?;
    let reopened = started.elapsed();
    assert!(
        store.iter().eq(model.iter()),
        "reopened: not IndexMap's result"
    );
    for (i, k) in model.keys().enumerate().step_by(997) {
        assert_eq!(store.get_index_of(k), Some(i));
    }
    eprintln!(
        "batch of {K} shift-removes on {N} entries: applied in {applied:?}, reopened (replaying {} records) in {reopened:?}",
        store.recovery_report().records
    );
    Ok(())
}

/// Asserts that `result` is the `InvalidIndex` refusal (`InvalidInput`).
fn assert_invalid<T: std::fmt::Debug>(result: io::Result<T>, what: &str) {
    let err = result.expect_err(what);
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{what}: {err}");
    assert!(
        matches!(store_error(&err), StoreError::InvalidIndex { .. }),
        "{what}: {err:?}"
    );
}

#[test]
fn out_of_bounds_calls_are_refused_where_indexmap_panics_and_write_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("bounds.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many(["a", "b", "c"].map(|k| (k.to_owned(), 1)))?;
    let size = fs::metadata(&path)?.len();
    let unchanged = |store: &Store, what: &str| {
        assert_eq!(keys(store), ["a", "b", "c"], "{what}");
        assert_eq!(store.stats().log_bytes, size, "{what}: the log grew");
        assert_eq!(fs::metadata(&path).unwrap().len(), size, "{what}");
    };
    assert_invalid(store.drain(2..4), "drain past the end");
    assert_invalid(store.drain(3..4), "drain starting at the end, past it");
    #[allow(clippy::reversed_empty_ranges)]
    assert_invalid(store.drain(2..1), "drain of a reversed range");
    assert_invalid(store.drain(..=usize::MAX), "drain to usize::MAX inclusive");
    assert_invalid(
        store.drain((Bound::Excluded(usize::MAX), Bound::Unbounded)),
        "drain after usize::MAX",
    );
    assert_invalid(store.split_off(4), "split_off past the end");
    assert_invalid(store.swap_indices(0, 3), "swap_indices past the end");
    assert_invalid(
        store.swap_indices(3, 3),
        "swap_indices of one index past the end",
    );
    assert_invalid(
        store.shift_insert(4, "d".into(), 1),
        "shift_insert of a new key past len",
    );
    assert_invalid(
        store.shift_insert(3, "a".into(), 1),
        "shift_insert of an existing key at len",
    );
    assert_invalid(
        store.insert_before(4, "a".into(), 1),
        "insert_before past len",
    );
    assert_invalid(
        store.replace_index(3, "z".into()),
        "replace_index past the end",
    );
    unchanged(&store, "after the refusals");

    // IndexMap's no-ops and None: the same, and nothing written.
    assert_eq!(store.drain(1..1)?, []);
    assert_eq!(store.drain(3..)?, []);
    assert!(store.split_off(3)?.is_empty());
    store.truncate(3)?;
    store.truncate(10)?;
    store.swap_indices(1, 1)?;
    store.retain(|_, _| true)?;
    assert_eq!(store.pop_if(|_, _| false)?, None);
    assert_eq!(
        store.replace_index(0, "b".into())?,
        Err((1, "b".to_owned()))
    );
    store.sort_keys()?;
    store.sort_by(|_, _, _, _| std::cmp::Ordering::Equal)?;
    assert_eq!(store.shift_remove_entry("zz")?, None);
    assert_eq!(store.swap_remove_entry("zz")?, None);
    unchanged(&store, "after the no-ops");

    // A store of one or none: reverse writes nothing, pop_if does not call.
    store.truncate(1)?;
    let size = fs::metadata(&path)?.len();
    store.reverse()?;
    store.truncate(0)?;
    let size0 = fs::metadata(&path)?.len();
    assert!(size0 > size, "truncating to 0 wrote a record");
    store.reverse()?;
    assert_eq!(
        store.pop_if(|_, _| panic!("called on an empty store"))?,
        None
    );
    assert_eq!(fs::metadata(&path)?.len(), size0);
    Ok(())
}

/// A call on the store and the same call on the model, named.
type Step = (
    &'static str,
    Box<dyn Fn(&mut Store) -> io::Result<()>>,
    Box<dyn Fn(&mut IndexMap<String, u64>)>,
);

#[test]
fn every_new_method_is_one_record_and_survives_reopen_and_compaction() -> io::Result<()> {
    let (_dir, path) = scratch("one-record.log");
    let config = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    };
    let mut store: Store = IndexMapStore::open_with(&path, config)?;
    let mut model: IndexMap<String, u64> = IndexMap::new();
    let pairs: Vec<(String, u64)> = (0..50u64).map(|i| (format!("k{i:02}"), i)).collect();
    store.insert_many(pairs.iter().cloned())?;
    model.extend(pairs);
    let mut calls = 0;
    let steps: Vec<Step> = vec![
        (
            "reverse",
            Box::new(|s| s.reverse()),
            Box::new(|m| m.reverse()),
        ),
        (
            "sort_by",
            Box::new(|s| s.sort_by(|_, a, _, b| (a % 7).cmp(&(b % 7)))),
            Box::new(|m| m.sort_by(|_, a, _, b| (a % 7).cmp(&(b % 7)))),
        ),
        (
            "retain",
            Box::new(|s| s.retain(|_, v| v % 3 != 0)),
            Box::new(|m| m.retain(|_, v| *v % 3 != 0)),
        ),
        (
            "drain",
            Box::new(|s| s.drain(3..9).map(drop)),
            Box::new(|m| drop(m.drain(3..9))),
        ),
        (
            "shift_insert",
            Box::new(|s| s.shift_insert(2, "new".into(), 7).map(drop)),
            Box::new(|m| {
                m.shift_insert(2, "new".into(), 7);
            }),
        ),
        (
            "insert_before",
            Box::new(|s| s.insert_before(9, "k01".into(), 8).map(drop)),
            Box::new(|m| {
                m.insert_before(9, "k01".into(), 8);
            }),
        ),
        (
            "replace_index",
            Box::new(|s| s.replace_index(4, "renamed".into()).map(drop)),
            Box::new(|m| drop(m.replace_index(4, "renamed".into()))),
        ),
        (
            "swap_indices",
            Box::new(|s| s.swap_indices(0, 10)),
            Box::new(|m| m.swap_indices(0, 10)),
        ),
        (
            "sort_by_cached_key",
            Box::new(|s| s.sort_by_cached_key(|k, _| k.clone())),
            Box::new(|m| m.sort_by_cached_key(|k, _| k.clone())),
        ),
        (
            "split_off",
            Box::new(|s| s.split_off(20).map(drop)),
            Box::new(|m| drop(m.split_off(20))),
        ),
        (
            "truncate",
            Box::new(|s| s.truncate(12)),
            Box::new(|m| m.truncate(12)),
        ),
    ];
    for (what, on_store, on_model) in &steps {
        let records = store.recovery_report().records;
        let before = store.stats();
        let frames = crate::common::log_records(&fs::read(&path)?).len();
        on_store(&mut store)?;
        on_model(&mut model);
        assert_eq!(
            crate::common::log_records(&fs::read(&path)?).len(),
            frames + 1,
            "{what}: one record"
        );
        assert!(store.stats().total_records > before.total_records, "{what}");
        assert!(store.iter().eq(model.iter()), "{what}");
        drop(store);
        store = IndexMapStore::open_with(&path, config)?;
        assert!(store.iter().eq(model.iter()), "{what}, reopened");
        assert!(store.recovery_report().records > records, "{what}");
        calls += 1;
    }
    assert_eq!(calls, steps.len());
    store.compact()?;
    drop(store);
    let store: Store = IndexMapStore::open_with(&path, config)?;
    assert!(store.iter().eq(model.iter()), "after compaction");
    Ok(())
}

#[test]
fn retain_calls_its_closure_once_per_entry_and_counts_what_it_removed() -> io::Result<()> {
    let (_dir, path) = scratch("retain.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many((0..10u64).map(|i| (i.to_string(), i)))?;
    let before = store.stats().total_records;
    let mut calls = 0;
    store.retain(|_, v| {
        calls += 1;
        v % 4 == 0
    })?;
    assert_eq!(calls, 10);
    assert_eq!(keys(&store), ["0", "4", "8"]);
    assert_eq!(store.stats().total_records, before + 7);
    Ok(())
}

/// A log of schema version 3 with the store's header tag and raw payloads.
fn raw_v3_log(path: &Path, payloads: &[&[u8]]) -> io::Result<Vec<u8>> {
    raw_log(path, STORE_APP_TAG, 3, payloads)
}

#[test]
fn v3_records_that_cannot_apply_are_refused_and_the_file_untouched() -> io::Result<()> {
    let (dir, _) = scratch("unused");
    // Two inserts ("a" => 1, "b" => 2), then the record under test.
    // Variants: 7 removed runs, 8 permutation, 9 reverse, 10 swap,
    // 11 insert at, 12 key replacement.
    let cases: [(&str, &[u8]); 12] = [
        ("a permutation too short", &[8, 1, 0]),
        ("a permutation naming an index twice", &[8, 2, 0, 0]),
        ("a permutation out of bounds", &[8, 2, 0, 5]),
        ("a run past the end", &[7, 1, 1, 5]),
        ("an empty run", &[7, 1, 0, 0]),
        (
            "a run whose start overflows",
            &[7, 1, 253, 255, 255, 255, 255, 255, 255, 255, 255, 1],
        ),
        ("a reverse of another length", &[9, 3]),
        ("a swap past the end", &[10, 0, 2]),
        ("an insert of a new key past len", &[11, 3, 1, b'c', 1]),
        ("a move of an existing key to len", &[11, 2, 1, b'a', 1]),
        ("a key replaced by another entry's", &[12, 0, 1, b'b']),
        ("a key replaced past the end", &[12, 5, 1, b'c']),
    ];
    for (i, (what, record)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("raw-{i}.log"));
        let bytes = raw_v3_log(&path, &[&[0, 1, b'a', 1], &[0, 1, b'b', 2], record])?;
        let err = IndexMapStore::<String, u32>::open(&path).expect_err(what);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{what}: {err}");
        assert!(
            matches!(store_error(&err), StoreError::Inconsistent { .. }),
            "{what}: {err:?}"
        );
        assert_eq!(fs::read(&path)?, bytes, "{what}: the file changed");
    }
    // The same records, valid, apply.
    let valid: [(&[u8], [&str; 2]); 4] = [
        (&[8, 2, 1, 0], ["b", "a"]),
        (&[9, 2], ["b", "a"]),
        (&[10, 1, 0], ["b", "a"]),
        (&[11, 0, 1, b'b', 5], ["b", "a"]),
    ];
    for (i, (record, want)) in valid.into_iter().enumerate() {
        let path = dir.path().join(format!("valid-{i}.log"));
        raw_v3_log(&path, &[&[0, 1, b'a', 1], &[0, 1, b'b', 2], record])?;
        let store = IndexMapStore::<String, u32>::open(&path)?;
        assert_eq!(store.keys().collect::<Vec<_>>(), want, "{record:?}");
    }
    Ok(())
}
