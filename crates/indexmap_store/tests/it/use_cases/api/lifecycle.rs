//! The README's table beyond writes: `flush`, `close` (and the errors it
//! reports), `compact`, and the single writer a second handle meets.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

use indexmap_store::IndexMapStore;
use test_support::scratch;

use crate::use_cases::{Users, assert_refused, chain, entries, open_fails, reopen_entries};

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
