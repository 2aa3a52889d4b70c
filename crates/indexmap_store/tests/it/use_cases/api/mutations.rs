//! The README's table of writes: insertion order across reopens, `insert`
//! keeping an existing key's position, shift and swap removal, `modify`
//! (a panic inside it included), the entry API and batches, each as a
//! reopen finds it.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore};
use test_support::scratch;

use crate::use_cases::{Users, assert_holds_and_reopens, entries, model_entries, reopen_entries};

fn owned(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
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
