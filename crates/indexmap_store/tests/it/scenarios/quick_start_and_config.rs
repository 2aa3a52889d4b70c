//! The specification's own examples and defaults: its quick start (with
//! the errors its notes list fixed), its configuration literal, the default
//! configuration, and records waiting for `flush` without `sync_on_write`.

use std::io;

use super::{Users, keys};
use indexmap_store::{IndexMapStore, OpenOptions, StoreConfig};
use test_support::scratch;

/// The seed README's quick start, with the two errors its notes list fixed.
#[test]
fn quick_start_corrected() -> io::Result<()> {
    // Repeated on purpose by use_cases::api::examples::quick_start_as_written:
    // this test pins the seed specification's text, that one the README's.
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
