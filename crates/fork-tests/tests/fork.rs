//! After `fork`, the child shares its parent's open file descriptions, and
//! with them the log's `flock`. Issue 13's case: a child that dropped its
//! copy of a store released the parent's lock (and sealed the parent's log),
//! so another process opened the store while the parent held it. And the
//! other direction: a child that outlives the owner's close must not keep
//! the lock alive.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use fork_tests::{in_child, sleeping_child, wait};
use indexmap_store::IndexMapStore;
use wal_io::{FsStorage, Wal, WalError, WalOptions};

/// Forking tests run one at a time.
static FORKING: Mutex<()> = Mutex::new(());

fn open(path: &Path) -> Result<Wal, WalError> {
    open_replaying(path).map(|(w, _)| w)
}

/// Opens the log at `path`, with the payloads it replayed.
fn open_replaying(path: &Path) -> Result<(Wal, Vec<Vec<u8>>), WalError> {
    let mut records = Vec::new();
    let (wal, _) = Wal::open(
        Arc::new(FsStorage::new()),
        path,
        WalOptions::default(),
        |r| {
            records.push(r.payload.to_vec());
            Ok(())
        },
    )?;
    Ok((wal, records))
}

#[test]
fn a_child_dropping_its_copy_keeps_the_parents_lock_and_log() {
    let _one = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let mut wal = open(&path).unwrap();
    wal.append(b"parent's").unwrap();
    let before = std::fs::read(&path).unwrap();

    let mut child_copy = Some(wal);
    // The child syncs (refused: the log is not its own), then drops the
    // parent's handle, as a daemonising parent's child would when it
    // returns: no seal, no unlock.
    let code = in_child(|| {
        let mut wal = child_copy.take().unwrap();
        let refused = matches!(wal.sync(), Err(WalError::WrongProcess { .. }));
        drop(wal);
        if refused { 0 } else { 1 }
    });
    let mut wal = child_copy.take().unwrap();
    assert_eq!(code, 0, "the child was allowed to sync the parent's log");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the child changed the log"
    );
    // The parent still holds the lock: a second writer is refused.
    assert!(matches!(open(&path), Err(WalError::AlreadyOpen { .. })));
    wal.append(b"parent's second").unwrap();
    wal.close().unwrap();
    let (_, records) = open_replaying(&path).unwrap();
    assert_eq!(records, [b"parent's".to_vec(), b"parent's second".to_vec()]);
}

#[test]
fn a_child_that_outlives_the_owners_close_does_not_keep_the_lock() {
    let _one = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let wal = open(&path).unwrap();
    let child = sleeping_child(2_000);
    wal.close().unwrap();
    // The child still holds a copy of the lock's file description.
    let reopened = open(&path);
    wait(child);
    assert!(
        reopened.is_ok(),
        "the lock outlived its owner: {reopened:?}"
    );
}

#[test]
fn a_forked_store_stays_the_parents() -> io::Result<()> {
    let _one = FORKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.log");
    let mut store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    store.insert("alice".into(), 1)?;
    let mut copy = Some(store);
    let code = in_child(|| {
        let mut store = copy.take().unwrap();
        let refused = store.flush().is_err() && store.compact().is_err();
        drop(store);
        if refused { 0 } else { 1 }
    });
    let mut store = copy.take().unwrap();
    assert_eq!(
        code, 0,
        "the child could sync or compact the parent's store"
    );
    let second: io::Result<IndexMapStore<String, u64>> = IndexMapStore::open(&path);
    assert_eq!(
        second.err().map(|e| e.kind()),
        Some(io::ErrorKind::WouldBlock),
        "a second writer got in after the child dropped its copy"
    );
    store.insert("bob".into(), 2)?;
    store.close()?;
    let store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    assert_eq!(store.keys().collect::<Vec<_>>(), ["alice", "bob"]);
    Ok(())
}
