//! The README's opening promises: its quick start and configuration
//! literal, as written, and keys and values of any serde type, 8 MiB values
//! included.

use std::io;

use indexmap_store::{IndexMapStore, StoreConfig};
use test_support::scratch;

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
