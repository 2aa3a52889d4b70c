//! Odd paths and what lies beside them: a directory as the path, a missing
//! parent directory, and a stale (ours) or foreign file at the compaction
//! temp path.

use std::fs;
use std::io;

use super::{Users, write_users};
use indexmap_store::{COMPACT_TMP_SUFFIX, IndexMapStore, OpenOptions, StoreConfig};
use test_support::scratch;
use test_support::sibling;

#[test]
fn a_directory_as_path_is_an_error() -> io::Result<()> {
    let (dir, _) = scratch("unused");
    let sub = dir.path().join("a-directory");
    fs::create_dir(&sub)?;
    let err = IndexMapStore::<String, u64>::open(&sub).expect_err("a directory is not a log");
    assert_eq!(err.kind(), io::ErrorKind::IsADirectory, "{err}");
    // Also with salvage, and with a trailing slash.
    assert!(
        OpenOptions::new()
            .salvage(true)
            .open::<u8, u8>(&sub)
            .is_err()
    );
    assert!(IndexMapStore::<u8, u8>::open(format!("{}/", sub.display())).is_err());
    assert!(sub.is_dir());
    assert_eq!(fs::read_dir(&sub)?.count(), 0, "nothing created inside it");
    assert!(!sibling(&sub, ".lock").exists(), "no lock file beside it");
    Ok(())
}

#[test]
fn a_missing_parent_directory_is_not_found() -> io::Result<()> {
    let (dir, _) = scratch("unused");
    let missing = dir.path().join("no-such-dir");
    let err = IndexMapStore::<String, u64>::open(missing.join("x.log")).expect_err("no parent");
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(!missing.exists(), "the parent must not be created");
    assert_eq!(fs::read_dir(dir.path())?.count(), 0);
    Ok(())
}

#[test]
fn a_stale_compaction_temp_file_of_ours_is_removed_on_open() -> io::Result<()> {
    let (_dir, path) = scratch("stale.log");
    let tmp = sibling(&path, COMPACT_TMP_SUFFIX);
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("old".into(), 1)?;
    let old_log = fs::read(&path)?;
    store.insert("new".into(), 2)?;
    drop(store);
    let log = fs::read(&path)?;
    let candidates: [(&str, Vec<u8>); 4] = [
        ("a whole log", old_log.clone()),
        ("a header prefix", old_log[..10].to_vec()),
        ("an empty file", Vec::new()),
        ("zeros", vec![0; 300]),
    ];
    for (what, content) in candidates {
        fs::write(&tmp, &content)?;
        let store: Users = IndexMapStore::open(&path)?;
        assert_eq!(
            store.recovery_report().removed_temp.as_deref(),
            Some(&*tmp),
            "{what}"
        );
        assert!(!tmp.exists(), "{what} left at the temp path");
        assert_eq!(
            store.keys().collect::<Vec<_>>(),
            ["old", "new"],
            "{what}: the log wins"
        );
        assert_eq!(fs::read(&path)?, log, "{what}: the log itself is unchanged");
    }
    Ok(())
}

/// A file at `<path>.compact.tmp` that is not provably ours (text) is never
/// removed or changed: it is left in place or set aside beside it, bytes
/// intact, and the store works either way.
#[test]
fn a_foreign_file_at_the_temp_path_is_never_lost_or_changed() -> io::Result<()> {
    let (dir, path) = scratch("foreign.log");
    let tmp = sibling(&path, COMPACT_TMP_SUFFIX);
    let foreign = b"my notes, which happen to have this name\n";

    // Creating a new log (which goes through the temp path).
    fs::write(&tmp, foreign)?;
    match IndexMapStore::<String, u64>::open(&path) {
        Err(err) => {
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
            assert!(!path.exists(), "a refused open created the log");
            assert_eq!(fs::read(&tmp)?, foreign);
        }
        Ok(store) => {
            assert!(store.is_empty());
            assert!(
                store.recovery_report().removed_temp.is_none(),
                "a foreign file removed"
            );
        }
    }
    let holder = crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);

    // An existing log, automatic compaction due after every write.
    fs::remove_file(&holder)?;
    if path.exists() {
        fs::remove_file(&path)?;
    }
    write_users(&path)?;
    fs::write(&tmp, foreign)?;
    let config = StoreConfig {
        min_compact_bytes: 0,
        compact_ratio: 1.5,
        ..StoreConfig::default()
    };
    let mut store: Users = IndexMapStore::open_with(&path, config)?;
    assert!(
        store.recovery_report().removed_temp.is_none(),
        "a foreign file removed"
    );
    assert_eq!(store.len(), 3);
    crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);
    for i in 0..10 {
        store.insert("alice".into(), i)?;
    }
    if let Err(err) = store.compact() {
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    }
    store.insert("dave".into(), 4)?;
    drop(store);
    crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.get("alice"), Some(&9));
    assert_eq!(
        store.keys().collect::<Vec<_>>(),
        ["alice", "bob", "carol", "dave"]
    );
    drop(store);
    crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);
    Ok(())
}
