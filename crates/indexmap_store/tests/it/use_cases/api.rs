//! The API at a glance: each method does what the README's table says, and
//! what it did is what a reopen finds.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, StoreConfig};
use test_support::scratch;

use super::{
    Users, assert_holds_and_reopens, assert_refused, chain, entries, model_entries, open_fails,
    reopen_entries,
};

fn owned(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

/// README "Quick start", as written: "Reopen: the state, order included, is
/// recovered from the log."
#[test]
fn quick_start_as_written() -> io::Result<()> {
    // Repeats scenarios::quick_start_and_config::quick_start_corrected on
    // purpose: this test pins the README's text, that one the seed
    // specification's.
    let (_dir, path) = scratch("users.log");

    let mut store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    store.insert("alice".into(), 1)?;
    store.insert("bob".into(), 2)?;
    assert_eq!(store.len(), 2);

    drop(store);
    let store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    assert_eq!(store.get("alice"), Some(&1));
    assert_eq!(store.keys().collect::<Vec<_>>(), ["alice", "bob"]);
    Ok(())
}

/// README "Configuration": the `StoreConfig` literal compiles as written
/// and "`sync_on_write: true` // fsync every mutation" leaves nothing
/// unsynced; the defaults are the documented ones.
#[test]
fn configuration_literal_from_the_readme() -> io::Result<()> {
    // The README's literal, as written; scenarios holds the seed spec's on
    // purpose: each pins its document.
    let (_dir, path) = scratch("kv.log");
    let cfg = StoreConfig {
        sync_on_write: true,        // fsync every mutation (durable, slow)
        min_compact_bytes: 4 << 20, // don't compact until the log is > 4 MiB
        compact_ratio: 3.0,         // compact when total_records >= 3 * live
        buf_capacity: 64 * 1024,    // encode/read/compaction buffer capacity
    };
    let mut store: IndexMapStore<u32, String> = IndexMapStore::open_with(&path, cfg)?;
    store.insert(7, "seven".into())?;
    assert_eq!(store.stats().unsynced_records, 0);
    for i in 0..20 {
        store.insert(i % 3, format!("v{i}"))?;
        assert_eq!(store.stats().unsynced_records, 0, "after mutation {i}");
    }
    assert_eq!(*store.config(), cfg);
    assert_eq!(store.stats().compactions, 0, "a tiny log is not compacted");
    drop(store);
    let store: IndexMapStore<u32, String> = IndexMapStore::open_with(&path, cfg)?;
    assert_eq!(store.get(&7).map(String::as_str), Some("seven"));

    let d = StoreConfig::default();
    assert!(!d.sync_on_write);
    assert_eq!(d.min_compact_bytes, 1 << 20);
    assert_eq!(d.compact_ratio, 2.0);
    assert_eq!(d.buf_capacity, 1 << 20);
    Ok(())
}

/// README: "iteration in insertion order, which survives every reopen":
/// a mixed workload of inserts, overwrites and removals, reopened after
/// every step, always equals an `IndexMap` given the same calls.
#[test]
fn insertion_order_survives_every_reopen() -> io::Result<()> {
    let (_dir, path) = scratch("order.log");
    let mut model: IndexMap<String, u64> = IndexMap::new();
    let mut store: Users = IndexMapStore::open(&path)?;
    for step in 0u64..60 {
        let key = format!("k{}", (step * 7) % 23);
        match step % 5 {
            0..=2 => {
                assert_eq!(store.insert(key.clone(), step)?, model.insert(key, step));
            }
            3 => assert_eq!(store.remove(&key)?, model.shift_remove(&key)),
            _ => assert_eq!(store.swap_remove(&key)?, model.swap_remove(&key)),
        }
        if step % 6 == 0 {
            drop(store);
            store = IndexMapStore::open(&path)?;
        }
        assert_eq!(entries(&store), model_entries(&model), "step {step}");
    }
    drop(store);
    assert_eq!(reopen_entries::<String, u64>(&path), model_entries(&model));
    Ok(())
}

/// README: "`insert(k, v)` ... return the previous value. An existing key
/// keeps its position", in memory and after a reopen.
#[test]
fn an_existing_key_keeps_its_position_on_insert() -> io::Result<()> {
    let (_dir, path) = scratch("pos.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
        assert_eq!(store.insert(k.into(), v)?, None);
    }
    assert_eq!(store.insert("a".into(), 10)?, Some(1));
    assert_eq!(store.insert_full("b".into(), 20)?, (1, Some(2)));
    assert_eq!(store.insert_full("d".into(), 4)?, (3, None));
    let want = owned(&[("a", 10), ("b", 20), ("c", 3), ("d", 4)]);
    assert_holds_and_reopens(store, &path, &want);
    Ok(())
}

/// README: "`remove(&k)` = `shift_remove`: Log a removal that keeps the
/// order of the rest"; `swap_remove` moves the last entry; `pop` removes the
/// last. All as a reopen finds them.
#[test]
fn remove_is_shift_remove_and_swap_remove_moves_the_last() -> io::Result<()> {
    let (_dir, path) = scratch("rm.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for (i, k) in ["a", "b", "c", "d", "e", "f"].into_iter().enumerate() {
        store.insert(k.into(), i as u64)?;
    }
    assert_eq!(store.remove("b")?, Some(1));
    assert_eq!(
        entries(&store),
        owned(&[("a", 0), ("c", 2), ("d", 3), ("e", 4), ("f", 5)])
    );
    assert_eq!(store.swap_remove("a")?, Some(0));
    assert_eq!(
        entries(&store),
        owned(&[("f", 5), ("c", 2), ("d", 3), ("e", 4)])
    );
    assert_eq!(store.pop()?, Some(("e".into(), 4)));
    let before = store.stats().total_records;
    assert_eq!(store.remove("nope")?, None);
    assert_eq!(
        store.stats().total_records,
        before,
        "absent key: nothing written"
    );
    let want = owned(&[("f", 5), ("c", 2), ("d", 3)]);
    assert_holds_and_reopens(store, &path, &want);
    Ok(())
}

/// README: "`modify(&k, f)`: Run `f` on the value in place, log the new
/// value; `Ok(None)` and no write if absent."
#[test]
fn modify_is_logged_and_absent_keys_write_nothing() -> io::Result<()> {
    let (dir, path) = scratch("modify.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("hits".into(), 0)?;
    store.insert("other".into(), 5)?;
    for i in 1..=10u64 {
        let seen = store.modify("hits", |v| {
            *v += 1;
            *v
        })?;
        assert_eq!(seen, Some(i), "modify returns what the closure returned");
    }
    let bytes = std::fs::metadata(&path)?.len();
    let records = store.stats().total_records;
    assert_eq!(store.modify("absent", |v| *v += 1)?, None);
    assert_eq!(
        std::fs::metadata(&path)?.len(),
        bytes,
        "absent key: no byte written"
    );
    assert_eq!(store.stats().total_records, records);
    drop(store);
    assert_eq!(
        reopen_entries::<String, u64>(&path),
        owned(&[("hits", 10), ("other", 5)]),
        "modified value, same position"
    );
    drop(dir);
    Ok(())
}

/// README: "`entry(k).and_modify(f)?.or_insert(v)?`: Insert-or-update":
/// a word count survives a reopen, in first-seen order.
#[test]
fn entry_api_counts_words() -> io::Result<()> {
    let (_dir, path) = scratch("words.log");
    let text = "the cat saw the dog and the dog saw the cat run";
    {
        let mut store: Users = IndexMapStore::open(&path)?;
        for w in text.split(' ') {
            store
                .entry(w.to_owned())
                .and_modify(|n| *n += 1)?
                .or_insert(1)?;
        }
        assert_eq!(*store.entry("zebra".into()).or_default()?, 0);
    }
    let want = owned(&[
        ("the", 4),
        ("cat", 2),
        ("saw", 2),
        ("dog", 2),
        ("and", 1),
        ("run", 1),
        ("zebra", 0),
    ]);
    assert_eq!(reopen_entries::<String, u64>(&path), want);
    Ok(())
}

/// README: "`insert_many` / `extend`, `apply(Batch)`: Many inserts, or mixed
/// inserts and removals, as one atomic record": after a reopen every
/// operation of every batch is there, in batch order (the "all" side of
/// all-or-nothing; the "nothing" side needs a crash).
#[test]
fn batches_are_there_whole_after_reopen() -> io::Result<()> {
    let (_dir, path) = scratch("batch.log");
    let mut model: IndexMap<String, u64> = IndexMap::new();
    {
        let mut store: Users = IndexMapStore::open(&path)?;
        let load: Vec<(String, u64)> = (0..500).map(|i| (format!("k{i:03}"), i)).collect();
        store.insert_many(load.clone())?;
        model.extend(load);
        let more: Vec<(String, u64)> = (250..750).map(|i| (format!("k{i:03}"), i * 10)).collect();
        store.extend(more.clone())?;
        model.extend(more);
        let mut batch = Batch::new();
        batch
            .insert("new".into(), 1)
            .shift_remove("k000".into())
            .swap_remove("k001".into())
            .insert("k002".into(), 2000)
            .shift_remove("new".into())
            .insert("new".into(), 2);
        assert_eq!(batch.len(), 6);
        store.apply(batch)?;
        model.insert("new".into(), 1);
        model.shift_remove("k000");
        model.swap_remove("k001");
        model.insert("k002".into(), 2000);
        model.shift_remove("new");
        model.insert("new".into(), 2);
        store.apply(Batch::new())?;
        assert_eq!(entries(&store), model_entries(&model));
    }
    assert_eq!(reopen_entries::<String, u64>(&path), model_entries(&model));
    Ok(())
}

/// README: "`flush`: `fdatasync`: everything before it survives power
/// loss": after it, nothing is unsynced.
#[test]
fn flush_syncs_everything_so_far() -> io::Result<()> {
    let (_dir, path) = scratch("flush.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for i in 0..10 {
        store.insert(format!("k{i}"), i)?;
    }
    assert!(
        store.stats().unsynced_records > 0,
        "default config does not sync each write"
    );
    store.flush()?;
    assert_eq!(store.stats().unsynced_records, 0);
    store.flush()?;
    Ok(())
}

/// README: "`close`: Seal the log and close the store, reporting errors a
/// drop would ignore": a clean close is `Ok` and keeps everything; a store
/// that refuses writes says so at `close` rather than pretending.
#[test]
fn close_reports_errors() -> io::Result<()> {
    let (_dir, path) = scratch("close.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("a".into(), 1)?;
    store.close()?;
    let mut store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.get("a"), Some(&1));
    let r = catch_unwind(AssertUnwindSafe(|| {
        store.modify("a", |v| {
            *v = 99;
            panic!("user code panics inside modify");
        })
    }));
    assert!(r.is_err());
    if store.insert("b".into(), 2).is_err() {
        let err = store
            .close()
            .expect_err("a store refusing writes closed with Ok");
        store_error_is_present(&err);
    } else {
        store.close()?;
    }
    Ok(())
}

fn store_error_is_present(err: &io::Error) {
    super::store_error(err);
}

/// README: "`compact`: Rewrite the log to one record per live entry, in
/// order": the order (after overwrites, shift and swap removals and moves)
/// is unchanged, the log holds exactly the live entries, and a reopen
/// finds the same.
#[test]
fn compact_keeps_order() -> io::Result<()> {
    let (_dir, path) = scratch("compact.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for i in 0..100 {
        store.insert(format!("k{}", i % 40), i)?;
    }
    store.remove("k3")?;
    store.swap_remove("k10")?;
    store.move_index(0, 20)?;
    let before = entries(&store);
    let bytes_before = store.stats().log_bytes;
    store.compact()?;
    assert_eq!(entries(&store), before);
    let s = store.stats();
    assert_eq!(s.total_records, s.live_records);
    assert_eq!(s.live_records, 38);
    assert_eq!(s.dead_ratio, 0.0);
    assert_eq!(s.compactions, 1);
    assert!(s.log_bytes < bytes_before);
    assert_eq!(s.log_bytes, std::fs::metadata(&path)?.len());
    drop(store);
    assert_eq!(reopen_entries::<String, u64>(&path), before);
    Ok(())
}

/// README: "Single writer: a second handle on the same path, in this
/// process or another, is refused" with `WouldBlock`, also when the path is
/// spelled through a symlink or with `./`; the first handle is unharmed,
/// and once it is closed the path opens again.
#[test]
fn a_second_handle_is_refused() -> io::Result<()> {
    let (dir, path) = scratch("single.log");
    let mut first: Users = IndexMapStore::open(&path)?;
    first.insert("a".into(), 1)?;

    let err = open_fails(Users::open(&path), "second handle, same path");
    assert_refused(&err, io::ErrorKind::WouldBlock, "second handle, same path");

    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&path, &link)?;
    let err = open_fails(Users::open(&link), "second handle through a symlink");
    assert_refused(
        &err,
        io::ErrorKind::WouldBlock,
        "second handle through a symlink",
    );

    let dotted = dir.path().join(".").join("single.log");
    let err = open_fails(Users::open(&dotted), "second handle through ./");
    assert_refused(&err, io::ErrorKind::WouldBlock, "second handle through ./");

    first.insert("b".into(), 2)?;
    first.close()?;
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    assert!(
        std::path::Path::new(&lock).exists(),
        "README: the sidecar `<path>.lock` stays after the store is closed"
    );
    let store: Users = Users::open(&link).unwrap_or_else(|e| panic!("{}", chain(&e)));
    assert_eq!(store.keys().collect::<Vec<_>>(), ["a", "b"]);
    Ok(())
}

/// README: "There is no `get_mut` ... `modify` and the entry API cover that
/// need", and `modify` documents poisoning: a panic in user code inside
/// `modify`, caught by the application, leaves the store either unchanged
/// or refusing writes; never ahead of its log after a reopen.
#[test]
fn a_panic_inside_modify_never_leaves_the_store_ahead_of_its_log() -> io::Result<()> {
    let (_dir, path) = scratch("panic.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("a".into(), 1)?;
    store.insert("b".into(), 2)?;
    let r = catch_unwind(AssertUnwindSafe(|| {
        store.modify("a", |v| {
            *v += 100;
            panic!("bug in the application");
        })
    }));
    assert!(r.is_err(), "the panic propagates");
    let in_memory = entries(&store);
    let accepts_writes = store.insert("c".into(), 3).is_ok();
    if accepts_writes {
        // Then memory and log must agree: what we saw is what a reopen finds.
        let mut want = in_memory.clone();
        want.push(("c".into(), 3));
        assert_eq!(entries(&store), want);
        drop(store);
        assert_eq!(
            reopen_entries::<String, u64>(&path),
            want,
            "the store accepted writes after the panic but its log disagrees with its memory"
        );
    } else {
        assert!(
            store.modify("b", |v| *v += 1).is_err(),
            "refuses every write"
        );
        assert!(store.flush().is_err() || store.insert("d".into(), 4).is_err());
        drop(store);
        assert_eq!(
            reopen_entries::<String, u64>(&path),
            owned(&[("a", 1), ("b", 2)]),
            "after a reopen: the state before the panicking modify"
        );
    }
    Ok(())
}

/// README: "Keys and values are any `Serialize + DeserializeOwned` types"
/// and records up to 1 GiB: 8 MiB values are stored, survive a reopen and
/// a compaction, byte for byte.
#[test]
fn huge_values() -> io::Result<()> {
    let (_dir, path) = scratch("huge.log");
    let big = |seed: u8| -> Vec<u8> {
        (0..8usize << 20)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    {
        let mut store: IndexMapStore<String, Vec<u8>> = IndexMapStore::open(&path)?;
        store.insert("one".into(), big(1))?;
        store.insert("small".into(), vec![7])?;
        store.insert("two".into(), big(2))?;
        store.insert("one".into(), big(3))?;
        store.close()?;
    }
    let mut store: IndexMapStore<String, Vec<u8>> = IndexMapStore::open(&path)?;
    assert_eq!(store.keys().collect::<Vec<_>>(), ["one", "small", "two"]);
    assert!(store.get("one").unwrap() == &big(3));
    assert!(store.get("two").unwrap() == &big(2));
    store.compact()?;
    drop(store);
    let store: IndexMapStore<String, Vec<u8>> = IndexMapStore::open(&path)?;
    assert!(store.get("one").unwrap() == &big(3));
    assert_eq!(store.get("small"), Some(&vec![7]));
    Ok(())
}
