//! Huge values: a 64 MiB value goes through insert, `modify`, reopen,
//! compaction, backup and a reader like any other; a record over the
//! 1 GiB bound (README, "Limitations") is refused with a typed error that
//! says what to do, writes nothing, and leaves the store usable.

use std::io;

use indexmap_store::{IndexMapStore, OpenOptions, StoreError};
use test_support::scratch;

use super::{chain, entries, reopen_entries, store_error};

type Blobs = IndexMapStore<String, Vec<u8>>;

fn blob(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// README: "Keys and values are any `Serialize + DeserializeOwned` types":
/// a 64 MiB value survives a reopen, a compaction, a backup and a reader.
#[test]
fn a_64_mib_value_round_trips_through_reopen_compaction_and_backup() -> io::Result<()> {
    let (dir, path) = scratch("blobs.log");
    let big = blob(64 << 20);
    let mut store: Blobs = IndexMapStore::open(&path)?;
    store.insert("big".into(), big.clone())?;
    store.insert("small".into(), vec![1])?;
    store.modify("big", |v| v[0] = 9)?;
    let want = entries(&store);
    store.close()?;

    let mut store: Blobs = IndexMapStore::open(&path)?;
    assert_eq!(entries(&store), want, "after a reopen");
    assert_eq!(
        store.get("big").map(|v| (v.len(), v[0])),
        Some((big.len(), 9))
    );
    store.compact()?;
    let backup = dir.path().join("backup.log");
    store.backup_to(&backup)?;
    drop(store);
    assert_eq!(
        reopen_entries::<String, Vec<u8>>(&path),
        want,
        "after compaction"
    );
    assert_eq!(
        reopen_entries::<String, Vec<u8>>(&backup),
        want,
        "the backup"
    );
    let reader = OpenOptions::new().open_read_only::<String, Vec<u8>>(&path)?;
    assert_eq!(reader.iter().count(), want.len());
    Ok(())
}

/// Asserts that `err` is the refusal of a record over the bound: typed,
/// `InvalidInput`, saying nothing was written and what to do instead.
#[track_caller]
fn assert_too_large(err: &io::Error, what: &str) {
    assert!(
        matches!(store_error(err), StoreError::RecordTooLarge { .. }),
        "{what}: not StoreError::RecordTooLarge: {}",
        chain(err)
    );
    assert_eq!(
        err.kind(),
        io::ErrorKind::InvalidInput,
        "{what}: {}",
        chain(err)
    );
    let msg = err.to_string();
    assert!(msg.contains("nothing was written"), "{what}: {msg}");
    // The facade has no max_record_len to raise: the advice must be one a
    // user of this crate can follow.
    assert!(!msg.contains("max_record_len"), "{what}: {msg}");
    assert!(msg.contains("split"), "{what}: no advice in {msg}");
    // True of an insert or a batch, not of a `modify` (see below).
    assert!(!msg.contains("unchanged"), "{what}: {msg}");
}

/// README, "Limitations": a record is at most 1 GiB encoded. An insert or
/// a batch over it is refused with `StoreError::RecordTooLarge`, nothing is
/// written, and the store keeps working and reopens as it was.
#[test]
fn a_record_over_1_gib_is_refused_and_the_store_stays_usable() -> io::Result<()> {
    let (_dir, path) = scratch("blobs.log");
    let mut store: Blobs = IndexMapStore::open(&path)?;
    store.insert("a".into(), vec![1, 2, 3])?;
    let bytes = std::fs::read(&path)?;

    let err = store
        .insert("big".into(), vec![7; 1 << 30])
        .expect_err("a value of 1 GiB is over the bound with its key and tag");
    assert_too_large(&err, "an insert");
    let err = store
        .insert_many([
            ("b".to_string(), vec![0; 600 << 20]),
            ("c".to_string(), vec![0; 600 << 20]),
        ])
        .expect_err("a batch of 1.2 GiB");
    assert_too_large(&err, "a batch");
    assert_eq!(std::fs::read(&path)?, bytes, "a refused record wrote bytes");
    assert_eq!(store.poisoned(), None);

    store.insert("d".into(), vec![4])?;
    let want = vec![("a".to_string(), vec![1, 2, 3]), ("d".to_string(), vec![4])];
    assert_eq!(entries(&store), want);
    drop(store);
    assert_eq!(reopen_entries::<String, Vec<u8>>(&path), want);

    // A `modify` that grows its value past the bound: the closure already
    // changed the value, so the store is poisoned (README: "Do not retry a
    // failed `modify`"); the reopened store has the value from before.
    let mut store: Blobs = IndexMapStore::open(&path)?;
    let err = store
        .modify("d", |v| v.resize(1 << 30, 0))
        .expect_err("a modified value of 1 GiB");
    assert_too_large(&err, "a modify");
    assert!(store.poisoned().is_some());
    drop(store);
    assert_eq!(reopen_entries::<String, Vec<u8>>(&path), want);
    Ok(())
}
