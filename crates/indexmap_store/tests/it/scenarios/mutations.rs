//! Each mutation's promise: where entries go (insert, shift and swap
//! removal, moves, order across a reopen), what it writes (one record per
//! clear or batch, nothing for a no-op or an out-of-bounds index).

use std::fs;
use std::io;

use super::{Users, abcd, keys, pairs};
use crate::common::log_records;
use indexmap_store::{Batch, IndexMapStore, StoreError};
use store_test_kit::store_error;
use test_support::scratch;

#[test]
fn insert_on_existing_key_keeps_position_and_returns_old_value() -> io::Result<()> {
    let (_dir, path) = scratch("i.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.insert("a".into(), 1)?, None);
    assert_eq!(store.insert("b".into(), 2)?, None);
    assert_eq!(store.insert("c".into(), 3)?, None);
    assert_eq!(store.insert("a".into(), 10)?, Some(1));
    assert_eq!(store.insert_full("b".into(), 20)?, (1, Some(2)));
    assert_eq!(store.insert_full("d".into(), 4)?, (3, None));
    let expected = [("a", 10), ("b", 20), ("c", 3), ("d", 4)].map(|(k, v)| (k.to_owned(), v));
    assert_eq!(pairs(&store), expected);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(pairs(&store), expected);
    Ok(())
}

#[test]
fn remove_is_shift_remove() -> io::Result<()> {
    let (_dir, path) = scratch("r.log");
    let mut store = abcd(&path)?;
    assert_eq!(store.remove("b")?, Some(1));
    assert_eq!(keys(&store), ["a", "c", "d"]);
    let bytes = fs::read(&path)?;
    assert_eq!(store.remove("b")?, None, "already gone");
    assert_eq!(
        fs::read(&path)?,
        bytes,
        "removing an absent key writes nothing"
    );
    assert_eq!(store.shift_remove_full("a")?, Some((0, "a".to_owned(), 0)));
    assert_eq!(keys(&store), ["c", "d"]);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["c", "d"]);
    Ok(())
}

#[test]
fn swap_remove_moves_the_last_entry() -> io::Result<()> {
    let (_dir, path) = scratch("s.log");
    let mut store = abcd(&path)?;
    assert_eq!(store.swap_remove("a")?, Some(0));
    assert_eq!(keys(&store), ["d", "b", "c"]);
    assert_eq!(store.swap_remove_full("b")?, Some((1, "b".to_owned(), 1)));
    assert_eq!(keys(&store), ["d", "c"]);
    assert_eq!(store.swap_remove("zz")?, None);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["d", "c"]);
    Ok(())
}

/// Each kind of mutation, then a reopen: the order is the one before it.
#[test]
fn order_survives_reopen_for_every_kind_of_mutation() -> io::Result<()> {
    let (_dir, path) = scratch("o.log");
    type Step = (
        &'static str,
        fn(&mut Users) -> io::Result<()>,
        &'static [&'static str],
    );
    let steps: &[Step] = &[
        (
            "insert",
            |s| s.insert("e".into(), 4).map(drop),
            &["a", "b", "c", "d", "e"],
        ),
        (
            "move_index forward",
            |s| s.move_index(0, 3),
            &["b", "c", "d", "a", "e"],
        ),
        (
            "move_index back",
            |s| s.move_index(4, 1),
            &["b", "e", "c", "d", "a"],
        ),
        (
            "swap_remove",
            |s| s.swap_remove("b").map(drop),
            &["a", "e", "c", "d"],
        ),
        (
            "shift_remove",
            |s| s.shift_remove("e").map(drop),
            &["a", "c", "d"],
        ),
        (
            "swap_remove_index",
            |s| s.swap_remove_index(0).map(drop),
            &["d", "c"],
        ),
        (
            "insert_many",
            |s| s.insert_many([("f".into(), 5), ("d".into(), 9)]),
            &["d", "c", "f"],
        ),
        (
            "shift_remove_index",
            |s| s.shift_remove_index(0).map(drop),
            &["c", "f"],
        ),
        (
            "extend",
            |s| s.extend([("g".into(), 6), ("h".into(), 7)]),
            &["c", "f", "g", "h"],
        ),
        ("pop", |s| s.pop().map(drop), &["c", "f", "g"]),
        (
            "modify",
            |s| s.modify("c", |v| *v += 1).map(drop),
            &["c", "f", "g"],
        ),
        (
            "entry",
            |s| {
                s.entry("f".into())
                    .and_modify(|v| *v *= 2)?
                    .or_insert(0)
                    .map(drop)
            },
            &["c", "f", "g"],
        ),
        (
            "apply",
            |s| {
                let mut b = Batch::new();
                b.insert("i".into(), 8)
                    .swap_remove("c".into())
                    .shift_remove("f".into());
                s.apply(b)
            },
            &["i", "g"],
        ),
        ("compact", Users::compact, &["i", "g"]),
        ("clear", Users::clear, &[]),
        (
            "insert after clear",
            |s| s.insert("z".into(), 0).map(drop),
            &["z"],
        ),
    ];
    let mut store = abcd(&path)?;
    for (name, mutate, expected) in steps {
        mutate(&mut store)?;
        assert_eq!(keys(&store), *expected, "after {name}");
        let before = pairs(&store);
        drop(store);
        store = IndexMapStore::open(&path)?;
        assert_eq!(pairs(&store), before, "after {name} and a reopen");
    }
    assert_eq!(store.get("z"), Some(&0));
    Ok(())
}

#[test]
fn modify_of_absent_key_returns_none_and_writes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("m.log");
    let mut store = abcd(&path)?;
    let bytes = fs::read(&path)?;
    let stats = store.stats();
    let mut ran = false;
    let result = store.modify("nope", |v| {
        ran = true;
        *v
    })?;
    assert_eq!(result, None);
    assert!(!ran, "the closure must not run for an absent key");
    assert_eq!(fs::read(&path)?, bytes, "log bytes unchanged");
    assert_eq!(store.stats(), stats);

    // A present key: closure runs, its result comes back, one record.
    assert_eq!(
        store.modify("b", |v| {
            *v += 100;
            *v * 2
        })?,
        Some(202)
    );
    assert_eq!(store.get("b"), Some(&101));
    assert_eq!(keys(&store), ["a", "b", "c", "d"]);
    assert_eq!(store.stats().total_records, stats.total_records + 1);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.get("b"), Some(&101));
    assert_eq!(keys(&store), ["a", "b", "c", "d"]);
    Ok(())
}

#[test]
fn clear_is_one_record() -> io::Result<()> {
    let (_dir, path) = scratch("c.log");
    let mut store = abcd(&path)?;
    let before = store.stats().total_records;
    store.clear()?;
    assert!(store.is_empty());
    assert_eq!(store.stats().total_records, before + 1);
    // The log: its schema record, the inserts and the clear.
    assert_eq!(log_records(&fs::read(&path)?).len() as u64, before + 2);
    let bytes = fs::read(&path)?;
    store.clear()?;
    assert_eq!(
        fs::read(&path)?,
        bytes,
        "clearing an empty store writes nothing"
    );
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert!(store.is_empty());
    assert_eq!(store.recovery_report().records, before + 2);
    Ok(())
}

#[test]
fn a_batch_is_one_record() -> io::Result<()> {
    let (_dir, path) = scratch("b.log");
    let mut store = abcd(&path)?;
    let before = store.stats().total_records;
    let mut batch = Batch::new();
    batch
        .insert("e".into(), 4)
        .insert("a".into(), 10)
        .shift_remove("b".into())
        .swap_remove("c".into())
        .insert("f".into(), 5);
    assert_eq!(batch.len(), 5);
    store.apply(batch)?;
    assert_eq!(keys(&store), ["a", "e", "d", "f"]);
    assert_eq!(store.get("a"), Some(&10));
    // One record, five mutations: compaction counts mutations.
    assert_eq!(store.stats().total_records, before + 5);

    store.insert_many([("x".into(), 1), ("y".into(), 2), ("z".into(), 3)])?;
    assert_eq!(store.stats().total_records, before + 8);
    let bytes = fs::read(&path)?;
    store.apply(Batch::new())?;
    store.insert_many([])?;
    assert_eq!(fs::read(&path)?, bytes, "empty batches write nothing");
    // The schema record, the four inserts and the two batches.
    assert_eq!(log_records(&bytes).len() as u64, before + 3);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["a", "e", "d", "f", "x", "y", "z"]);
    Ok(())
}

#[test]
fn move_index_out_of_bounds_is_an_error_and_writes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("mv.log");
    let mut store = abcd(&path)?;
    let bytes = fs::read(&path)?;
    for (from, to) in [(1, 4), (4, 1), (usize::MAX, 0)] {
        let err = store
            .move_index(from, to)
            .expect_err("an out-of-bounds move is refused (IndexMap panics)");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(
            matches!(store_error(&err), StoreError::InvalidIndex { .. }),
            "{err}"
        );
    }
    assert_eq!(fs::read(&path)?, bytes);
    assert_eq!(keys(&store), ["a", "b", "c", "d"]);
    store.move_index(1, 3)?;
    assert_eq!(keys(&store), ["a", "c", "d", "b"]);
    Ok(())
}

#[test]
fn index_removals_out_of_bounds_write_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("idx.log");
    let mut store = abcd(&path)?;
    let bytes = fs::read(&path)?;
    assert_eq!(store.shift_remove_index(4)?, None);
    assert_eq!(store.swap_remove_index(usize::MAX)?, None);
    assert_eq!(fs::read(&path)?, bytes);
    assert_eq!(store.pop()?, Some(("d".to_owned(), 3)));
    assert_eq!(store.shift_remove_index(0)?, Some(("a".to_owned(), 0)));
    assert_eq!(keys(&store), ["b", "c"]);
    Ok(())
}
