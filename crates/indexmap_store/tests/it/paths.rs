//! Issue 13's path cases through the store, on real files: what stands at
//! the path is the store's only if it is one regular file with one name.
//! Each refusal changes nothing and creates nothing.

use std::fs;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::process::Command;

use indexmap_store::{IndexMapStore, OpenOptions};
use test_support::dir_names;

type Users = IndexMapStore<String, u64>;

/// Two names for one log used to give two writers (the lock is named after
/// the path), and an acknowledged insert was lost: now both are refused.
#[test]
fn a_store_with_two_names_is_refused() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let a = dir.path().join("a.log");
    let mut store: Users = IndexMapStore::open(&a)?;
    store.insert("alice".into(), 1)?;
    store.close()?;
    let b = dir.path().join("b.log");
    fs::hard_link(&a, &b)?;
    let entries = dir_names(dir.path());
    for path in [&a, &b] {
        let err = Users::open(path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("hard link"), "{err}");
        // A reader too: through the other name it would miss a writer's
        // compaction (the new file takes only one of the names).
        let err = OpenOptions::new()
            .open_read_only::<String, u64>(path)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("hard link"), "{err}");
    }
    assert_eq!(dir_names(dir.path()), entries, "nothing created");
    fs::remove_file(&b)?;
    assert_eq!(Users::open(&a)?.get("alice"), Some(&1));
    Ok(())
}

/// A FIFO at the path used to be replaced by a regular log file.
#[test]
fn a_fifo_is_refused_and_kept() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("pipe.log");
    assert!(Command::new("mkfifo").arg(&path).status()?.success());
    let err = Users::open(&path).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(fs::symlink_metadata(&path)?.file_type().is_fifo());
    assert_eq!(dir_names(dir.path()), vec![path]);
    Ok(())
}

/// A dangling symlink at the path used to be replaced by a regular log.
#[test]
fn a_dangling_symlink_is_refused_and_kept() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let link = dir.path().join("data.log");
    let target = dir.path().join("elsewhere.log");
    std::os::unix::fs::symlink(&target, &link)?;
    let err = Users::open(&link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(fs::read_link(&link)?, target, "the link is kept");
    assert_eq!(dir_names(dir.path()), vec![link.clone()]);
    // A link to a log is followed: the store lives in the target.
    let mut store: Users = IndexMapStore::open(&target)?;
    store.insert("bob".into(), 2)?;
    store.close()?;
    assert_eq!(Users::open(&link)?.get("bob"), Some(&2));
    Ok(())
}
