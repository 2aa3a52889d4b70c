//! What may stand at a log's path, and who may write: special files,
//! dangling links, hard links, missing directories, a reader with a smaller
//! record bound. Each refusal leaves every byte and every directory entry
//! as it was, and says what to do.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::process::Command;
use std::sync::Arc;

use crate::support::{open_fs as open, open_fs_with as open_with};
use test_support::dir_names;
use wal_io::{FsStorage, Visibility, WalError, WalFollower, WalOptions};

/// A log of 2 MiB records written with a 4 MiB bound, reopened with a
/// 1 MiB bound: the records are complete and valid, so they are not a torn
/// tail; the open is refused, naming the bound to use, and nothing is cut,
/// whether the log was sealed or not.
#[test]
fn a_reader_with_a_smaller_record_bound_refuses_and_cuts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let big = WalOptions {
        max_record_len: 4 << 20,
        ..WalOptions::default()
    };
    let small = WalOptions {
        max_record_len: 1 << 20,
        ..WalOptions::default()
    };
    for sealed in [true, false] {
        let path = dir.path().join(format!("big-{sealed}.log"));
        let (mut wal, _) = open_with(&path, big.clone()).unwrap();
        wal.append(b"small first").unwrap();
        wal.append(&vec![7; 2 << 20]).unwrap();
        wal.sync().unwrap();
        if sealed {
            wal.close().unwrap();
        } else {
            // A killed writer: no seal. Forgetting leaks the lock for this
            // process, so the check below opens a copy.
            std::mem::forget(wal);
        }
        let path = if sealed {
            path
        } else {
            let copy = dir.path().join("copy.log");
            fs::copy(&path, &copy).unwrap();
            copy
        };
        let before = fs::read(&path).unwrap();
        let err = open_with(&path, small.clone()).unwrap_err();
        let WalError::RecordBeyondBound { len, max, .. } = &err else {
            panic!("sealed {sealed}: expected RecordBeyondBound, got {err:?}");
        };
        assert_eq!((*len, *max), (2 << 20, 1 << 20));
        assert!(err.to_string().contains("max_record_len"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), before, "sealed {sealed}: changed");
        let (_, records) = open_with(&path, big.clone()).unwrap();
        assert_eq!(
            records.len(),
            2,
            "sealed {sealed}: the writer's bound reads all"
        );
    }
}

/// A second name for the log would let a second writer in (the lock is
/// named after the path) and a compaction would leave it on the old file:
/// a log with two names is refused, untouched, through either name.
#[test]
fn a_hard_linked_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    let (mut wal, _) = open(&a).unwrap();
    wal.append(b"one").unwrap();
    wal.close().unwrap();
    fs::hard_link(&a, &b).unwrap();
    let before = fs::read(&a).unwrap();
    let entries = dir_names(dir.path());
    for path in [&a, &b] {
        let err = open(path).unwrap_err();
        assert!(
            matches!(err, WalError::HardLinked { links: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("hard link"), "{err}");
        // A follower too: through the other name it would never see the
        // file a compaction puts in the writer's place.
        let err = WalFollower::open(
            Arc::new(FsStorage::new()),
            path,
            WalOptions::default(),
            Visibility::Written,
            |_| Ok(()),
        )
        .unwrap_err();
        assert!(
            matches!(err, WalError::HardLinked { links: 2, .. }),
            "{err:?}"
        );
    }
    assert_eq!(fs::read(&a).unwrap(), before);
    assert_eq!(dir_names(dir.path()), entries, "nothing created");
    fs::remove_file(&b).unwrap();
    assert_eq!(open(&a).unwrap().1, vec![b"one".to_vec()]);
}

/// A FIFO at the path would block the open forever, and replacing it would
/// destroy something that is not ours: refused, left in place.
#[test]
fn a_fifo_at_the_path_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipe.log");
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let entries = dir_names(dir.path());
    let err = open(&path).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(
        fs::symlink_metadata(&path).unwrap().file_type().is_fifo(),
        "the FIFO is still there"
    );
    assert_eq!(dir_names(dir.path()), entries, "nothing created");
}

/// A symbolic link to nothing is neither followed into a new file nor
/// replaced by one: refused, the link kept.
#[test]
fn a_dangling_symlink_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("data.log");
    let target = dir.path().join("missing").join("real.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let entries = dir_names(dir.path());
    let err = open(&link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(fs::read_link(&link).unwrap(), target, "the link is kept");
    assert_eq!(dir_names(dir.path()), entries, "nothing created");
}

/// Errors carry their cause and name the path the caller gave: a
/// directory, a missing parent directory.
#[test]
fn errors_name_the_path_given_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Is a directory"), "{text}");
    assert!(text.contains(&*dir.path().to_string_lossy()), "{text}");

    let missing = dir.path().join("nope").join("sub").join("x.log");
    let text = open(&missing).unwrap_err().to_string();
    assert!(text.contains("No such file or directory"), "{text}");
    assert!(text.contains("x.log") && !text.contains(".lock"), "{text}");
    assert!(dir_names(dir.path()).is_empty(), "nothing created");
}

/// A refused open leaves nothing behind: no lock file beside a text file,
/// none beside a log of another application.
#[test]
fn a_refused_open_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "hello").unwrap();
    let err = open(&notes).unwrap_err();
    assert!(matches!(err, WalError::NotALog { .. }), "{err:?}");
    assert_eq!(dir_names(dir.path()), vec![notes.clone()]);

    let other = dir.path().join("other.log");
    let opts = WalOptions {
        app_tag: b"someone-else".to_vec(),
        ..WalOptions::default()
    };
    let (wal, _) = open_with(&other, opts).unwrap();
    wal.close().unwrap();
    fs::remove_file(dir.path().join("other.log.lock")).unwrap();
    let err = open(&other).unwrap_err();
    assert!(matches!(err, WalError::WrongApp { .. }), "{err:?}");
    assert_eq!(dir_names(dir.path()), vec![notes, other]);
}
