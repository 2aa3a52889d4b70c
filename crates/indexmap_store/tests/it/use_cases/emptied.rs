//! README recovery table: "the store was closed, log and `<path>.lock`
//! together: refused, whatever the cut", and "damaged or missing data that
//! had been synced is never dropped silently". A cut to nothing (the file
//! emptied: `truncate -s 0`, or indexmap_store 0.2.x opening the converted
//! log, which reads its header as a record cut short and truncates the
//! file to 0 bytes) or into the header is such a cut. A new log is created
//! whole (written aside and renamed), so such a file is never a creation
//! cut short. Deleting the log (the quick start's "start over") still
//! gives a new store.

use std::fs;
use std::io;

use indexmap_store::{IndexMapStore, OpenOptions, StoreError, WalError};
use test_support::scratch;

use super::{Users, chain, entries, open_fails, set_len, snapshot, store_error};

fn closed_store(path: &std::path::Path) -> io::Result<()> {
    let mut store: Users = IndexMapStore::open(path)?;
    store.insert("alice".into(), 1)?;
    store.insert("bob".into(), 2)?;
    store.close()
}

#[track_caller]
fn assert_lost_synced_data(err: &io::Error, lock: &std::path::Path) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{}", chain(err));
    assert!(
        matches!(
            store_error(err),
            StoreError::Log(WalError::Truncated { offset: 0, .. })
        ),
        "{}",
        chain(err)
    );
    let msg = err.to_string();
    assert!(
        msg.contains("lost synced data") && msg.contains(&lock.display().to_string()),
        "{msg}"
    );
}

#[test]
fn a_closed_store_cut_to_nothing_or_into_its_header_is_refused() -> io::Result<()> {
    for cut in [0, 10] {
        let (dir, path) = scratch("users.log");
        closed_store(&path)?;
        set_len(&path, cut);
        let lock = dir.path().join("users.log.lock");
        let before = snapshot(dir.path());

        let err = open_fails(Users::open(&path), &format!("a log cut to {cut} bytes"));
        assert_lost_synced_data(&err, &lock);
        let err = OpenOptions::new()
            .open_read_only::<String, u64>(&path)
            .map(|r| r.len())
            .unwrap_err();
        assert_lost_synced_data(&err, &lock);
        assert_eq!(snapshot(dir.path()), before, "cut to {cut}: files changed");

        // As the message says: salvage keeps what is left (nothing), and
        // so does deleting the lock file for a log emptied on purpose.
        let store: Users = OpenOptions::new().salvage(true).open(&path)?;
        assert!(store.is_empty());
        store.close()?;
        fs::write(&path, b"")?;
        fs::remove_file(&lock)?;
        assert!(Users::open(&path)?.is_empty(), "cut to {cut}");
    }
    Ok(())
}

/// Deleting the log (not its lock file) starts over, as the quick start
/// says; an empty file without a lock file is a new store, as before.
#[test]
fn a_deleted_log_still_starts_over() -> io::Result<()> {
    let (_dir, path) = scratch("users.log");
    closed_store(&path)?;
    fs::remove_file(&path)?;
    let mut store: Users = IndexMapStore::open(&path)?;
    assert!(store.is_empty() && store.recovery_report().created);
    store.insert("carol".into(), 3)?;
    store.close()?;
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(entries(&store), [("carol".to_owned(), 3)]);
    Ok(())
}
