//! Errors: "Every error carries a `StoreError`"; refusals name their cause
//! and leave nothing behind; "anything that is not a store's log ... Fails
//! with `InvalidData`, changing nothing".

use std::fs;
use std::io;

use indexmap_store::{IndexMapStore, StoreError};
use serde::{Deserialize, Serialize, Serializer};
use test_support::scratch;

use super::{Users, assert_refused, chain, entries, header_len, open_fails, snapshot};

/// README: "Every error carries a `StoreError`" and the OS's own cause:
/// opening a directory as the store says "Is a directory" and names the
/// path the user gave.
#[test]
fn opening_a_directory_names_the_cause_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a-directory");
    fs::create_dir(&target).unwrap();
    let err = open_fails(Users::open(&target), "a directory");
    super::store_error(&err);
    let msg = err.to_string();
    assert!(msg.contains("Is a directory"), "no OS cause in: {msg}");
    assert!(
        msg.contains(&target.display().to_string()),
        "the path given is not named in: {msg}"
    );
}

/// README: errors carry their cause: a path whose parent directory does
/// not exist is reported as "No such file or directory" for the path the
/// user passed (not for a sidecar `.lock` file the user never named).
#[test]
fn a_missing_parent_directory_names_the_path_given() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("data.log");
    let err = open_fails(Users::open(&target), "a missing parent directory");
    super::store_error(&err);
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(
        msg.contains("No such file or directory"),
        "no OS cause in: {msg}"
    );
    assert!(
        msg.contains(&target.display().to_string()),
        "the path given is not named in: {msg}"
    );
    assert!(
        !msg.contains(".lock"),
        "the message names a file the user never named: {msg}"
    );
}

/// README recovery table: "anything that is not a store's log (a text
/// file ...) Fails with `InvalidData`, changing nothing": `notes.txt` keeps
/// its bytes and no new file (no `notes.txt.lock`) appears beside it.
#[test]
fn a_text_file_is_refused_and_nothing_is_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "hello").unwrap();
    let before = snapshot(dir.path());
    let err = open_fails(Users::open(&notes), "a text file");
    assert_refused(&err, io::ErrorKind::InvalidData, "a text file");
    assert_eq!(fs::read(&notes).unwrap(), b"hello");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the refused open left files behind (or changed one)"
    );
}

/// Seeded CRC-32 of a header's bytes before its checksum, which is its
/// last four bytes (`FORMAT.md`: "Every header and every frame ends with a
/// checksum over all of its other bytes").
fn header_crc(header: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(0x2144_df1c);
    h.update(&header[..header_len() as usize - 4]);
    h.finalize()
}

/// README recovery table, the same row for other formats: a binary file of
/// another format, a log of a newer format version, a log of another
/// application and one of a newer schema version (headers otherwise valid,
/// checksums recomputed) are each refused with `InvalidData`, the file
/// unchanged.
#[test]
fn files_that_are_not_our_log_are_refused_unchanged() {
    let (dir, path) = scratch("real.log");
    {
        let mut store: Users = IndexMapStore::open(&path).unwrap();
        store.insert("a".into(), 1).unwrap();
    }
    let real = fs::read(&path).unwrap();
    let crc_at = header_len() as usize - 4;
    assert_eq!(
        header_crc(&real),
        u32::from_le_bytes(real[crc_at..crc_at + 4].try_into().unwrap()),
        "FORMAT.md's header checksum"
    );
    let patched = |at: usize, with: &[u8]| {
        let mut b = real.clone();
        b[at..at + with.len()].copy_from_slice(with);
        let crc = header_crc(&b);
        b[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
        b
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a PNG",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01".repeat(4),
        ),
        ("format version 999", patched(8, &999u32.to_le_bytes())),
        ("another application", patched(12, b"someone-else-v1\0")),
        ("schema version 99", patched(28, &99u32.to_le_bytes())),
        ("a header only, damaged", {
            let mut b = real[..header_len() as usize].to_vec();
            b[20] ^= 4;
            b
        }),
    ];
    for (what, bytes) in cases {
        let p = dir.path().join(format!("{what}.log"));
        fs::write(&p, &bytes).unwrap();
        let err = open_fails(Users::open(&p), what);
        assert_refused(&err, io::ErrorKind::InvalidData, what);
        assert_eq!(fs::read(&p).unwrap(), bytes, "{what}: the file changed");
    }
}

/// A value whose serialisation fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Picky(u32);

impl Serialize for Picky {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            Err(serde::ser::Error::custom("13 is unlucky"))
        } else {
            s.serialize_u32(self.0)
        }
    }
}

/// README: "A serialization failure is `InvalidData` and writes nothing",
/// for a single insert and for a batch with one bad value among good ones:
/// no byte reaches the log, the map is unchanged, and the store goes on.
#[test]
fn a_value_that_cannot_be_serialised_writes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("picky.log");
    let mut store: IndexMapStore<String, Picky> = IndexMapStore::open(&path)?;
    store.insert("ok".into(), Picky(1))?;
    let bytes = fs::read(&path)?;

    let err = store.insert("bad".into(), Picky(13)).unwrap_err();
    assert_refused(&err, io::ErrorKind::InvalidData, "insert of a bad value");
    assert!(
        matches!(super::store_error(&err), StoreError::Encode(_)),
        "{}",
        chain(&err)
    );
    let err = store
        .insert_many([("x".into(), Picky(2)), ("y".into(), Picky(13))])
        .unwrap_err();
    assert_refused(&err, io::ErrorKind::InvalidData, "batch with a bad value");
    assert_eq!(
        fs::read(&path)?,
        bytes,
        "a failed serialisation wrote bytes"
    );
    assert_eq!(entries(&store), vec![("ok".into(), Picky(1))]);

    store.insert("later".into(), Picky(3))?;
    drop(store);
    let store: IndexMapStore<String, Picky> = IndexMapStore::open(&path)?;
    assert_eq!(
        entries(&store),
        vec![("ok".into(), Picky(1)), ("later".into(), Picky(3))]
    );
    Ok(())
}
