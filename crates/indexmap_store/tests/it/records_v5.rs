//! The sorted inserts, `extract_if`, `append`, `splice` and the entries by
//! index: each call is one record that survives reopen and compaction,
//! out-of-bounds calls are refused where `IndexMap` panics and write
//! nothing, a panicking closure changes nothing, and splice records
//! (schema version 5) that cannot apply are refused on open with the file
//! untouched.

use std::cell::Cell;
use std::fs;
use std::io;

use crate::common::{STORE_APP_TAG, log_records, raw_log};
use indexmap::IndexMap;
use indexmap_store::{ChangeKind, FeedEvent, IndexMapStore, StoreConfig, StoreError};
use store_test_kit::store_error;
use test_support::scratch;

type Store = IndexMapStore<String, u64>;
type Map = IndexMap<String, u64>;

fn keys(store: &Store) -> Vec<String> {
    store.keys().cloned().collect()
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
fn out_of_bounds_ranges_are_refused_and_no_ops_write_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("bounds5.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many(["a", "b", "c"].map(|k| (k.to_owned(), 1)))?;
    let size = fs::metadata(&path)?.len();
    let unchanged = |store: &Store, what: &str| {
        assert_eq!(keys(store), ["a", "b", "c"], "{what}");
        assert_eq!(store.stats().log_bytes, size, "{what}: the log grew");
        assert_eq!(fs::metadata(&path).unwrap().len(), size, "{what}");
    };
    let never = |_: &String, _: &u64| -> bool { panic!("the predicate ran on a refused range") };
    assert_invalid(store.extract_if(2..4, never), "extract_if past the end");
    #[allow(clippy::reversed_empty_ranges)]
    assert_invalid(store.extract_if(2..1, never), "extract_if reversed");
    assert_invalid(store.extract_if(..=usize::MAX, never), "extract_if to MAX");
    // The replacement is not consumed when the range is refused.
    let pulled = Cell::new(0);
    let replacement = || {
        (0..3).map(|i| {
            pulled.set(pulled.get() + 1);
            (format!("n{i}"), i)
        })
    };
    assert_invalid(store.splice(1..4, replacement()), "splice past the end");
    #[allow(clippy::reversed_empty_ranges)]
    assert_invalid(store.splice(3..2, replacement()), "splice reversed");
    assert_invalid(store.splice(4.., replacement()), "splice from past the end");
    assert_eq!(pulled.get(), 0, "a refused splice pulled its replacement");
    unchanged(&store, "after the refusals");

    // IndexMap's no-ops and None: the same, and nothing written.
    assert_eq!(store.extract_if(1..1, never)?, []);
    assert_eq!(store.extract_if(.., |_, _| false)?, []);
    assert_eq!(store.splice(2..2, [])?, []);
    assert_eq!(store.splice(3.., [])?, []);
    let mut empty = Map::new();
    store.append(&mut empty)?;
    assert!(store.get_index_entry(3).is_none());
    assert!(store.get_index_entry(usize::MAX).is_none());
    unchanged(&store, "after the no-ops");

    store.truncate(0)?;
    let size0 = fs::metadata(&path)?.len();
    assert!(store.first_entry().is_none());
    assert!(store.last_entry().is_none());
    assert_eq!(store.extract_if(.., never)?, []);
    assert_eq!(fs::metadata(&path)?.len(), size0);
    Ok(())
}

/// A call on the store and the same call on the model, named.
type Step = (
    &'static str,
    Box<dyn Fn(&mut Store) -> io::Result<()>>,
    Box<dyn Fn(&mut Map)>,
);

fn steps() -> Vec<Step> {
    vec![
        (
            "insert_sorted of a new key",
            Box::new(|s| s.insert_sorted("k10x".into(), 1).map(drop)),
            Box::new(|m| _ = m.insert_sorted("k10x".into(), 1)),
        ),
        (
            "insert_sorted of a present key",
            Box::new(|s| s.insert_sorted("k20".into(), 99).map(drop)),
            Box::new(|m| _ = m.insert_sorted("k20".into(), 99)),
        ),
        (
            "insert_sorted_by moving a present key",
            Box::new(|s| {
                s.insert_sorted_by("k03".into(), 7, |k1, _, k2, _| k1.cmp(k2).reverse())
                    .map(drop)
            }),
            Box::new(|m| {
                m.insert_sorted_by("k03".into(), 7, |k1, _, k2, _| k1.cmp(k2).reverse());
            }),
        ),
        (
            "insert_sorted_by_key",
            Box::new(|s| {
                s.insert_sorted_by_key("mid".into(), 25, |_, v| *v)
                    .map(drop)
            }),
            Box::new(|m| _ = m.insert_sorted_by_key("mid".into(), 25, |_, v| *v)),
        ),
        (
            "extract_if",
            Box::new(|s| s.extract_if(5..40, |_, v| v % 3 == 0).map(drop)),
            Box::new(|m| _ = m.extract_if(5..40, |_, v| *v % 3 == 0).count()),
        ),
        (
            "append",
            Box::new(|s| {
                let mut other: Map = [("k01", 500), ("zz", 1), ("yy", 2)]
                    .map(|(k, v)| (k.to_owned(), v))
                    .into();
                s.append(&mut other)?;
                assert!(other.is_empty());
                Ok(())
            }),
            Box::new(|m| {
                let mut other: Map = [("k01", 500), ("zz", 1), ("yy", 2)]
                    .map(|(k, v)| (k.to_owned(), v))
                    .into();
                m.append(&mut other);
            }),
        ),
        (
            "splice",
            Box::new(|s| {
                let with = [("s1", 1), ("k45", 2), ("k02", 3), ("s1", 4)];
                s.splice(2..6, with.map(|(k, v)| (k.to_owned(), v)))
                    .map(drop)
            }),
            Box::new(|m| {
                let with = [("s1", 1), ("k45", 2), ("k02", 3), ("s1", 4)];
                drop(m.splice(2..6, with.map(|(k, v)| (k.to_owned(), v))));
            }),
        ),
        (
            "splice inserting only",
            Box::new(|s| s.splice(0..0, [("first".to_owned(), 0)]).map(drop)),
            Box::new(|m| _ = m.splice(0..0, [("first".to_owned(), 0)])),
        ),
        (
            "get_index_entry then insert",
            Box::new(|s| {
                let mut e = s.get_index_entry(3).expect("in bounds");
                e.insert(1234).map(drop)
            }),
            Box::new(|m| _ = m.get_index_entry(3).map(|mut e| e.insert(1234))),
        ),
        (
            "first_entry then swap_remove",
            Box::new(|s| s.first_entry().expect("not empty").swap_remove().map(drop)),
            Box::new(|m| _ = m.first_entry().map(|e| e.swap_remove())),
        ),
        (
            "last_entry then move_index",
            Box::new(|s| s.last_entry().expect("not empty").move_index(1)),
            Box::new(|m| _ = m.last_entry().map(|e| e.move_index(1))),
        ),
    ]
}

#[test]
fn every_new_method_is_one_record_and_survives_reopen_and_compaction() -> io::Result<()> {
    let (_dir, path) = scratch("one-record5.log");
    let config = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    };
    let mut store: Store = IndexMapStore::open_with(&path, config)?;
    let pairs: Vec<(String, u64)> = (0..50u64).map(|i| (format!("k{i:02}"), i)).collect();
    store.insert_many(pairs.iter().cloned())?;
    let mut model: Map = pairs.into_iter().collect();
    let steps = steps();
    for (what, on_store, on_model) in &steps {
        let before = store.stats();
        let frames = log_records(&fs::read(&path)?).len();
        on_store(&mut store)?;
        on_model(&mut model);
        assert_eq!(
            log_records(&fs::read(&path)?).len(),
            frames + 1,
            "{what}: one record"
        );
        assert!(store.stats().total_records > before.total_records, "{what}");
        assert!(store.iter().eq(model.iter()), "{what}: {:?}", keys(&store));
        drop(store);
        store = IndexMapStore::open_with(&path, config)?;
        assert!(store.iter().eq(model.iter()), "{what}, reopened");
    }
    store.compact()?;
    drop(store);
    let store: Store = IndexMapStore::open_with(&path, config)?;
    assert!(store.iter().eq(model.iter()), "after compaction");
    Ok(())
}

#[test]
fn a_splice_reaches_the_feed_whole_and_a_copy_applies_it() -> io::Result<()> {
    let (_dir, path) = scratch("feed5.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many((0..6u64).map(|i| (format!("k{i}"), i)))?;
    let (mut copy, _) = store.snapshot();
    let feed = store.subscribe();
    let removed = store.splice(1..3, [("x".to_owned(), 7), ("k4".to_owned(), 40)])?;
    assert_eq!(removed, [("k1".to_owned(), 1), ("k2".to_owned(), 2)]);
    let Some(Ok(FeedEvent::Change(change))) = feed.try_recv() else {
        panic!("the splice was not delivered");
    };
    let pairs = [("x".to_owned(), 7), ("k4".to_owned(), 40)];
    assert_eq!(
        change.kind(),
        ChangeKind::Splice {
            start: 1,
            end: 3,
            replace_with: &pairs
        }
    );
    assert_eq!(change.keys().collect::<Vec<_>>(), ["x", "k4"]);
    change.apply(&mut copy).map_err(io::Error::from)?;
    assert_eq!(&copy, store.as_map());
    assert_eq!(keys(&store), ["k0", "x", "k3", "k4", "k5"]);
    assert!(feed.try_recv().is_none(), "one record, one change");
    Ok(())
}

#[test]
fn a_splice_record_is_named_and_counted_without_the_types() -> io::Result<()> {
    let (_dir, path) = scratch("summary5.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many((0..4u64).map(|i| (format!("k{i}"), i)))?;
    store.splice(1..3, [("x".to_owned(), 7), ("y".to_owned(), 300)])?;
    drop(store);
    let records = log_records(&fs::read(&path)?);
    let (_, payload) = records.last().expect("the splice record");
    let summary = indexmap_store::inspect::summarize(payload);
    assert_eq!(summary.kind, "splice");
    assert_eq!(summary.mutations, Some(4), "2 removed, 2 pairs");
    let logged = indexmap_store::inspect::decode_record::<String, u64>(payload)?;
    assert_eq!(
        logged,
        indexmap_store::inspect::LoggedOp::Splice(
            1,
            3,
            vec![("x".to_owned(), 7), ("y".to_owned(), 300)]
        )
    );
    let header = fs::read(&path)?;
    // The header's application version (bytes 28..32 of a version-3
    // header: magic 8, version 4, tag 16, then it) is the record schema's.
    assert_eq!(header[28..32], 5u32.to_le_bytes(), "schema version 5");
    Ok(())
}

#[test]
fn splice_records_that_cannot_apply_are_refused_and_the_file_untouched() -> io::Result<()> {
    let (dir, _) = scratch("unused5");
    // Two inserts ("a" => 1, "b" => 2), then the record under test:
    // variant 14, start, end, the pairs.
    let cases: [(&str, &[u8]); 4] = [
        ("a splice ending past len", &[14, 1, 3, 0]),
        ("a splice starting after its end", &[14, 2, 1, 0]),
        ("a splice starting past len", &[14, 3, 3, 1, 1, b'c', 1]),
        (
            "a splice whose end overflows",
            &[14, 0, 253, 255, 255, 255, 255, 255, 255, 255, 255, 0],
        ),
    ];
    for (i, (what, record)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("raw-{i}.log"));
        let bytes = raw_log(
            &path,
            STORE_APP_TAG,
            5,
            &[&[0, 1, b'a', 1], &[0, 1, b'b', 2], record],
        )?;
        let err = IndexMapStore::<String, u32>::open(&path).expect_err(what);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{what}: {err}");
        assert!(
            matches!(store_error(&err), StoreError::Inconsistent { .. }),
            "{what}: {err:?}"
        );
        assert_eq!(fs::read(&path)?, bytes, "{what}: the file changed");
    }
    // Valid ones apply as IndexMap::splice.
    /// A record, and the entries it leaves.
    type Valid = (&'static [u8], &'static [(&'static str, u32)]);
    let valid: [Valid; 3] = [
        (&[14, 0, 1, 1, 1, b'c', 3], &[("c", 3), ("b", 2)]),
        (
            &[14, 2, 2, 2, 1, b'a', 5, 1, b'c', 6],
            &[("a", 5), ("b", 2), ("c", 6)],
        ),
        (&[14, 0, 2, 0], &[]),
    ];
    for (i, (record, want)) in valid.into_iter().enumerate() {
        let path = dir.path().join(format!("valid-{i}.log"));
        raw_log(
            &path,
            STORE_APP_TAG,
            5,
            &[&[0, 1, b'a', 1], &[0, 1, b'b', 2], record],
        )?;
        let store = IndexMapStore::<String, u32>::open(&path)?;
        let got: Vec<(&str, u32)> = store.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(got, want, "{record:?}");
    }
    Ok(())
}

/// The closures run before anything is logged: one that panics leaves the
/// store as it was, writable, and its log unchanged.
#[test]
fn a_panicking_predicate_or_comparison_changes_nothing() -> io::Result<()> {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let (_dir, path) = scratch("panic5.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many((0..6u64).map(|i| (format!("k{i}"), i)))?;
    let size = fs::metadata(&path)?.len();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        store.extract_if(.., |_, v| {
            assert!(*v < 4, "pred panicked");
            v % 2 == 0
        })
    }));
    assert!(caught.is_err(), "pred panicked through extract_if");
    let caught = catch_unwind(AssertUnwindSafe(|| {
        store.insert_sorted_by("new".into(), 1, |_, v, _, _| {
            assert!(*v < 3, "cmp panicked");
            std::cmp::Ordering::Less
        })
    }));
    assert!(caught.is_err(), "cmp panicked through insert_sorted_by");
    assert_eq!(store.poisoned(), None);
    assert_eq!(fs::metadata(&path)?.len(), size, "nothing logged");
    assert_eq!(keys(&store), ["k0", "k1", "k2", "k3", "k4", "k5"]);
    store.insert("k6".into(), 6)?;
    drop(store);
    let store: Store = IndexMapStore::open(&path)?;
    assert_eq!(store.len(), 7);
    Ok(())
}
