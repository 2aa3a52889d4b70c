//! Files at the compaction temp path on open: a stale one of ours is
//! removed, a foreign one is set aside with its bytes intact.

use std::fs;
use std::io;

use indexmap_store::IndexMapStore;
use test_support::{scratch, sibling};

use super::closed_store;
use crate::use_cases::{Users, entries, snapshot};

/// README: "A stale `<path>.compact.tmp` left by an interrupted compaction
/// is removed when it is recognisably ours (empty, zeros, or starting with
/// the log's magic byte)."
#[test]
fn a_stale_compaction_file_of_ours_is_removed() -> io::Result<()> {
    let (_dir, path) = scratch("data.log");
    let want = closed_store(&path, 5);
    let tmp = sibling(&path, ".compact.tmp");
    let magic_start = fs::read(&path)?[..30].to_vec();
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("zeros", vec![0u8; 4096]),
        ("a log's first bytes", magic_start),
    ] {
        fs::write(&tmp, &bytes)?;
        let mut store: Users = IndexMapStore::open(&path)?;
        assert!(!tmp.exists(), "{what}: the stale file is still there");
        assert_eq!(
            store.recovery_report().removed_temp.as_deref(),
            Some(tmp.as_path()),
            "{what}"
        );
        assert_eq!(entries(&store), want, "{what}");
        store.compact()?;
    }
    Ok(())
}

/// README: "Any other file at that path is renamed, bytes intact, to
/// `<path>.compact.tmp.unrecognized` and reported in
/// `recovery_report().set_aside_temp`: neither a crash artifact nor a
/// stranger's file can block the store, and no byte of it is lost" - not
/// even when a second stranger's file turns up later.
#[test]
fn a_foreign_compaction_file_is_set_aside_intact() -> io::Result<()> {
    let (dir, path) = scratch("data.log");
    let want = closed_store(&path, 5);
    let tmp = sibling(&path, ".compact.tmp");
    let aside = sibling(&path, ".compact.tmp.unrecognized");
    let first = b"my precious notes, not a log".to_vec();
    fs::write(&tmp, &first)?;
    let mut store: Users = IndexMapStore::open(&path)?;
    assert_eq!(
        store.recovery_report().set_aside_temp.as_deref(),
        Some(aside.as_path())
    );
    assert_eq!(fs::read(&aside)?, first);
    assert!(!tmp.exists());
    assert_eq!(entries(&store), want);
    store.compact()?;
    store.insert("x".into(), 1)?;
    drop(store);

    let second = b"another stranger's file".to_vec();
    fs::write(&tmp, &second)?;
    let store: Users = IndexMapStore::open(&path)?;
    assert!(store.recovery_report().set_aside_temp.is_some());
    drop(store);
    let contents: Vec<Vec<u8>> = snapshot(dir.path()).into_values().collect();
    assert!(
        contents.contains(&first),
        "the first stranger's file was lost"
    );
    assert!(
        contents.contains(&second),
        "the second stranger's file was lost"
    );
    Ok(())
}
