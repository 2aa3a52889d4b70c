//! What an open promises: one writer per log (also through a symlink),
//! and a recovery report that counts the records replayed.

use std::fs;
use std::io;

use super::{Users, abcd, keys};
use indexmap_store::WalError;
use indexmap_store::{IndexMapStore, OpenOptions, StoreError};
use store_test_kit::store_error;
use test_support::scratch;

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
