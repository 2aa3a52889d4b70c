//! Reads and the entry API: iteration and lookups in order, the `Debug`
//! output, and every entry variant logging its change.

use std::fs;
use std::io;

use super::{Users, abcd, keys, pairs};
use indexmap::IndexMap;
use indexmap_store::IndexMapStore;
use test_support::scratch;

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
