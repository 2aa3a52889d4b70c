//! Scenarios from the specification (seed README and its notes), one
//! promise per test, on real files.

use std::fs;
use std::io;
use std::path::Path;

use crate::common::log_records;
use indexmap::IndexMap;
use indexmap_store::WalError;
use indexmap_store::{Batch, IndexMapStore, OpenOptions, StoreConfig, StoreError};
use serde::ser::{Error as _, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use store_test_kit::store_error;
use test_support::scratch;

type Users = IndexMapStore<String, u64>;

fn keys<V>(store: &IndexMapStore<String, V>) -> Vec<&str> {
    store.keys().map(String::as_str).collect()
}

fn pairs(store: &Users) -> Vec<(String, u64)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// The seed README's quick start, with the two errors its notes list fixed.
#[test]
fn quick_start_corrected() -> io::Result<()> {
    // Repeated on purpose by use_cases::api::quick_start_as_written: this
    // test pins the seed specification's text, that one the README's.
    let (_dir, path) = scratch("users.log");
    let mut store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    store.insert("alice".into(), 1)?;
    store.insert("bob".into(), 2)?;
    assert_eq!(store.len(), 2);

    // Reopen — state is recovered from the log.
    drop(store);
    let store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    assert_eq!(store.get("alice"), Some(&1));
    assert_eq!(store.get(&"alice".to_owned()), Some(&1));
    assert_eq!(store.get("bob"), Some(&2));
    assert_eq!(store.len(), 2);
    assert_eq!(keys(&store), ["alice", "bob"]);
    Ok(())
}

/// The configuration example of the spec compiles as written and is
/// honoured: `sync_on_write` leaves nothing unsynced after any mutation, and
/// the 4 MiB floor keeps a small log from being compacted.
#[test]
fn spec_configuration_literal_is_honoured() -> io::Result<()> {
    // The spec's literal, as written; use_cases::api holds the README's
    // (other comments, other checks) on purpose: each pins its document.
    let (_dir, path) = scratch("kv.log");
    let cfg = StoreConfig {
        sync_on_write: true,        // fsync every mutation (durable, slow)
        min_compact_bytes: 4 << 20, // don't compact until log > 4 MiB
        compact_ratio: 3.0,         // compact when total_records >= 3 * live
        buf_capacity: 64 * 1024,    // BufWriter capacity
    };
    let mut store: IndexMapStore<u32, String> = IndexMapStore::open_with(&path, cfg)?;
    assert_eq!(store.config(), &cfg);
    for i in 0..5 {
        store.insert(i, format!("v{i}"))?;
        assert_eq!(store.stats().unsynced_records, 0, "after insert {i}");
    }
    store.modify(&1, |v| v.push('!'))?;
    assert_eq!(store.stats().unsynced_records, 0, "after modify");
    store.remove(&2)?;
    assert_eq!(store.stats().unsynced_records, 0, "after remove");
    store.move_index(0, 2)?;
    assert_eq!(store.stats().unsynced_records, 0, "after move_index");
    store.insert_many([(7, "x".to_owned()), (8, "y".to_owned())])?;
    assert_eq!(store.stats().unsynced_records, 0, "after insert_many");
    store.clear()?;
    assert_eq!(store.stats().unsynced_records, 0, "after clear");
    // 4 MiB floor: a tiny log is never compacted. Ten records, eleven
    // mutations (the batch of two counts two).
    assert_eq!(store.stats().compactions, 0);
    assert_eq!(store.stats().total_records, 11);
    Ok(())
}

#[test]
fn without_sync_on_write_records_wait_for_flush() -> io::Result<()> {
    let (_dir, path) = scratch("lazy.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("a".into(), 1)?;
    store.insert("b".into(), 2)?;
    assert_eq!(store.stats().unsynced_records, 2);
    store.flush()?;
    assert_eq!(store.stats().unsynced_records, 0);
    store.flush()?; // nothing to sync: still fine
    assert_eq!(store.stats().unsynced_records, 0);
    // Unsynced records still reached the OS: another open sees them.
    store.insert("c".into(), 3)?;
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["a", "b", "c"]);
    Ok(())
}

#[test]
fn defaults_are_the_specified_ones() -> io::Result<()> {
    let d = StoreConfig::default();
    assert_eq!(d.compact_ratio, 2.0);
    assert_eq!(d.min_compact_bytes, 1 << 20);
    assert!(!d.sync_on_write);
    assert_eq!(d.buf_capacity, 1 << 20);
    let (_dir, path) = scratch("d.log");
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.config(), &d);
    drop(store);
    let store: Users = OpenOptions::new().open(&path)?;
    assert_eq!(store.config(), &d);
    assert_eq!(store.path(), path);
    Ok(())
}

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

fn abcd(path: &Path) -> io::Result<Users> {
    let mut store: Users = IndexMapStore::open(path)?;
    for (i, k) in ["a", "b", "c", "d"].into_iter().enumerate() {
        store.insert(k.to_owned(), i as u64)?;
    }
    Ok(store)
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
fn a_second_open_of_the_same_path_fails_until_the_first_is_dropped() -> io::Result<()> {
    let (_dir, path) = scratch("lock.log");
    let mut first: Users = IndexMapStore::open(&path)?;
    first.insert("a".into(), 1)?;
    let bytes = fs::read(&path)?;
    let err = IndexMapStore::<String, u64>::open(&path).expect_err("second open must fail");
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(
        matches!(
            store_error(&err),
            StoreError::Log(WalError::AlreadyOpen { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("already open"),
        "unclear message: {err}"
    );
    // Also through OpenOptions and with other types.
    let err = OpenOptions::new()
        .open::<u32, u32>(&path)
        .expect_err("locked");
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(fs::read(&path)?, bytes, "the failed opens changed nothing");
    first.insert("b".into(), 2)?;
    drop(first);
    let second: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&second), ["a", "b"]);
    Ok(())
}

/// A value whose serialisation fails on demand.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Fragile {
    fail: bool,
    n: u32,
}

impl Serialize for Fragile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.fail {
            return Err(S::Error::custom("Fragile refuses to be serialised"));
        }
        let mut st = s.serialize_struct("Fragile", 2)?;
        st.serialize_field("fail", &self.fail)?;
        st.serialize_field("n", &self.n)?;
        st.end()
    }
}

fn ok(n: u32) -> Fragile {
    Fragile { fail: false, n }
}

fn bad(n: u32) -> Fragile {
    Fragile { fail: true, n }
}

fn assert_encode_error(err: &io::Error) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(matches!(store_error(err), StoreError::Encode(_)), "{err:?}");
}

#[test]
fn a_value_that_fails_to_serialise_writes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("enc.log");
    let mut store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    store.insert("a".into(), ok(1))?;
    store.insert("b".into(), ok(2))?;
    let bytes = fs::read(&path)?;
    let stats = store.stats();
    let map = store.as_map().clone();

    let err = store.insert("c".into(), bad(3)).expect_err("insert");
    assert_encode_error(&err);
    let err = store.insert("a".into(), bad(3)).expect_err("overwrite");
    assert_encode_error(&err);
    let err = store
        .insert_many([("d".into(), ok(4)), ("e".into(), bad(5))])
        .expect_err("many");
    assert_encode_error(&err);
    let mut batch = Batch::new();
    batch.shift_remove("a".into()).insert("f".into(), bad(6));
    assert_encode_error(&store.apply(batch).expect_err("batch"));
    let err = store
        .entry("g".into())
        .or_insert(bad(7))
        .expect_err("entry");
    assert_encode_error(&err);

    assert_eq!(fs::read(&path)?, bytes, "log bytes unchanged");
    assert_eq!(store.as_map(), &map, "map unchanged");
    assert_eq!(store.stats(), stats, "stats unchanged");

    // Still usable, and nothing of the failures comes back on reopen.
    store.insert("c".into(), ok(3))?;
    store.remove("a")?;
    drop(store);
    let store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    assert_eq!(
        store
            .iter()
            .map(|(k, v)| (k.as_str(), v.n))
            .collect::<Vec<_>>(),
        [("b", 2), ("c", 3)]
    );
    Ok(())
}

/// `modify` changes the value before it can know whether the new value
/// serialises; when it does not, the store refuses later writes (its map is
/// ahead of the log) and a reopen gives the logged state.
#[test]
fn a_modify_that_breaks_serialisation_poisons_the_store() -> io::Result<()> {
    let (_dir, path) = scratch("poison.log");
    let mut store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    store.insert("a".into(), ok(1))?;
    let bytes = fs::read(&path)?;
    let err = store
        .modify("a", |v| v.fail = true)
        .expect_err("cannot log the new value");
    assert_encode_error(&err);
    assert_eq!(fs::read(&path)?, bytes, "nothing written");
    let err = store.insert("b".into(), ok(2)).expect_err("poisoned");
    assert!(
        matches!(store_error(&err), StoreError::Poisoned { .. }),
        "{err:?}"
    );
    assert!(store.flush().is_err(), "flush reports the poisoning too");
    assert!(store.compact().is_err(), "so does compact");
    assert_eq!(fs::read(&path)?, bytes, "nothing written while poisoned");
    drop(store);
    let store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    assert_eq!(store.get("a"), Some(&ok(1)));
    assert_eq!(store.len(), 1);
    Ok(())
}

#[test]
fn recovery_report_counts_replayed_records() -> io::Result<()> {
    let (_dir, path) = scratch("rep.log");
    let mut store = abcd(&path)?;
    assert!(store.recovery_report().created);
    assert_eq!(store.recovery_report().records, 0);
    store.remove("a")?;
    store.move_index(0, 2)?;
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    let report = store.recovery_report();
    assert!(!report.created && !report.initialized);
    assert_eq!(report.records, 7, "the schema record and 6 mutations");
    assert_eq!(report.bytes, fs::metadata(&path)?.len());
    assert!(report.truncated.is_none());
    assert!(report.removed_temp.is_none());
    assert_eq!(keys(&store), ["c", "d", "b"]);
    Ok(())
}

#[test]
fn debug_output_mentions_the_entries() -> io::Result<()> {
    let (_dir, path) = scratch("dbg.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("alice".into(), 12345)?;
    store.insert("bob".into(), 678)?;
    let text = format!("{store:?}");
    for needle in ["IndexMapStore", "alice", "12345", "bob", "678"] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
    assert!(text.find("alice") < text.find("bob"), "in order: {text}");
    Ok(())
}

#[test]
fn reads_iterate_in_order() -> io::Result<()> {
    let (_dir, path) = scratch("it.log");
    let mut store = abcd(&path)?;
    store.move_index(3, 0)?;
    let mut seen = Vec::new();
    for (k, v) in &store {
        seen.push((k.as_str(), *v));
    }
    assert_eq!(seen, [("d", 3), ("a", 0), ("b", 1), ("c", 2)]);
    let model: IndexMap<String, u64> = seen.iter().map(|&(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(store.as_map(), &model);
    assert_eq!(store.as_map().get_index(0), Some((&"d".to_owned(), &3)));
    assert_eq!(store.values().copied().collect::<Vec<_>>(), [3, 0, 1, 2]);
    assert_eq!(store.get_index(1), Some((&"a".to_owned(), &0)));
    assert_eq!(store.get_index_of("c"), Some(3));
    assert_eq!(store.get_full("b"), Some((2, &"b".to_owned(), &1)));
    assert_eq!(store.get_key_value("b"), Some((&"b".to_owned(), &1)));
    assert!(store.contains_key("a") && !store.contains_key("z"));
    assert_eq!(store.first(), Some((&"d".to_owned(), &3)));
    assert_eq!(store.last(), Some((&"c".to_owned(), &2)));
    assert!(!store.is_empty());
    Ok(())
}

#[test]
fn entry_api_inserts_last_and_modifies_in_place() -> io::Result<()> {
    let (_dir, path) = scratch("entry.log");
    let mut store = abcd(&path)?;
    let entry = store.entry("b".into());
    assert_eq!((entry.key().as_str(), entry.index()), ("b", 1));
    assert_eq!(*entry.and_modify(|v| *v += 10)?.or_insert(99)?, 11);
    assert_eq!(
        *store
            .entry("e".into())
            .and_modify(|v| *v += 10)?
            .or_insert(99)?,
        99
    );
    // A vacant entry's index is where it would go: the end.
    assert_eq!(store.entry("z".into()).index(), 5);
    assert_eq!(*store.entry("f".into()).or_default()?, 0);
    assert_eq!(
        *store
            .entry("a".into())
            .or_insert_with(|| unreachable!("present"))?,
        0
    );
    let before = store.stats().total_records;
    // or_insert on a present key writes nothing.
    assert_eq!(*store.entry("c".into()).or_insert(7)?, 2);
    assert_eq!(store.stats().total_records, before);
    assert_eq!(keys(&store), ["a", "b", "c", "d", "e", "f"]);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(pairs(&store)[1], ("b".to_owned(), 11));
    assert_eq!(keys(&store), ["a", "b", "c", "d", "e", "f"]);
    Ok(())
}

#[test]
fn entry_variants_log_every_change_and_survive_reopen() -> io::Result<()> {
    use indexmap_store::Entry;
    let (_dir, path) = scratch("entry-variants.log");
    let mut store = abcd(&path)?;
    // Occupied: replace the value in place, then read it back.
    let Entry::Occupied(mut b) = store.entry("b".into()) else {
        panic!("b is present");
    };
    assert_eq!((b.key().as_str(), b.index(), *b.get()), ("b", 1, 1));
    assert_eq!(b.insert(20)?, 1);
    assert_eq!(b.modify(|v| std::mem::replace(v, 21))?, 20);
    assert_eq!(*b.into_ref(), 21);
    // Occupied: remove by shifting, and by swapping.
    let Entry::Occupied(a) = store.entry("a".into()) else {
        panic!("a is present");
    };
    assert_eq!(a.shift_remove_entry()?, ("a".to_owned(), 0));
    assert_eq!(keys(&store), ["b", "c", "d"]);
    let Entry::Occupied(b) = store.entry("b".into()) else {
        panic!("b is present");
    };
    assert_eq!(b.swap_remove()?, 21);
    assert_eq!(keys(&store), ["d", "c"]);
    // Vacant: the key comes back untouched, and nothing is written.
    let bytes = fs::read(&path)?;
    let Entry::Vacant(x) = store.entry("x".into()) else {
        panic!("x is absent");
    };
    assert_eq!(x.index(), 2);
    assert_eq!(x.into_key(), "x");
    assert_eq!(fs::read(&path)?, bytes);
    // Vacant: an out-of-bounds position is refused and writes nothing.
    let Entry::Vacant(x) = store.entry("x".into()) else {
        panic!("x is absent");
    };
    let err = x.shift_insert(3, 9).expect_err("index 3 > len 2");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(fs::read(&path)?, bytes);
    // Vacant: insert at a position, and last.
    let Entry::Vacant(x) = store.entry("x".into()) else {
        panic!("x is absent");
    };
    assert_eq!(*x.shift_insert(0, 9)?, 9);
    let Entry::Vacant(y) = store.entry("y".into()) else {
        panic!("y is absent");
    };
    assert_eq!(*y.insert(8)?, 8);
    // Occupied: move and swap by index.
    let Entry::Occupied(y) = store.entry("y".into()) else {
        panic!("y is present");
    };
    y.move_index(0)?;
    let Entry::Occupied(c) = store.entry("c".into()) else {
        panic!("c is present");
    };
    c.swap_indices(0)?;
    let want = ["c", "x", "d", "y"];
    assert_eq!(keys(&store), want);
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), want);
    assert_eq!(pairs(&store)[3], ("y".to_owned(), 8));
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

/// Regression (a fixed bug in wal-io's `recover.rs`, which named the lock
/// after the path as spelled): opening the same log through a symlink took
/// a different lock file, so two writers ran at once, appended at the same
/// offsets, and an insert that returned `Ok` was silently lost.
#[test]
fn a_symlink_to_an_open_log_is_refused_by_the_single_writer_lock() -> io::Result<()> {
    let (dir, path) = scratch("a.log");
    let mut first: Users = IndexMapStore::open(&path)?;
    first.insert("x".into(), 1)?;
    let link = dir.path().join("b.log");
    std::os::unix::fs::symlink(&path, &link)?;
    match IndexMapStore::<String, u64>::open(&link) {
        Err(err) => assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}"),
        Ok(mut second) => {
            second.insert("y".into(), 2)?;
            first.insert("z".into(), 3)?;
            drop((first, second));
            let store: Users = IndexMapStore::open(&path)?;
            panic!(
                "a second writer opened the log through a symlink; after both inserted, \
                 the log holds {:?} (\"y\" was acknowledged)",
                store.as_map()
            );
        }
    }
    Ok(())
}
