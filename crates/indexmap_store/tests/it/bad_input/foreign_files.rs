//! Files that are not this store's log, refused untouched: text, another
//! application's log, the log of a store of other types (with and without
//! a schema record); and the one foreign file that opens, an empty one.

use std::fs;
use std::io;

use super::{RAW_VERSION, Users, assert_users_still_open, refused, write_users};
use crate::common::{HEADER_LEN, STORE_APP_TAG, log_records, raw_log};
use indexmap_store::WalError;
use indexmap_store::{COMPACT_TMP_SUFFIX, IndexMapStore, StoreError};
use store_test_kit::store_error;
use test_support::scratch;
use test_support::sibling;

#[test]
fn wrong_types_are_refused_by_the_schema_record_and_the_file_untouched() -> io::Result<()> {
    let (_dir, path) = scratch("users.log");
    let bytes = write_users(&path)?;
    for err in [
        refused::<u64, Vec<String>>(&path, &bytes),
        refused::<String, String>(&path, &bytes),
        refused::<String, u8>(&path, &bytes),
    ] {
        match store_error(&err) {
            StoreError::TypeMismatch { found, .. } => {
                assert!(found.contains("(String, u64)"), "{err}");
            }
            other => panic!("expected a TypeMismatch, got {other:?}"),
        }
        assert!(err.to_string().contains("migrate"), "{err}");
    }
    assert_users_still_open(&path)
}

#[test]
fn wrong_types_on_a_log_without_schema_are_refused_with_the_record_offset() -> io::Result<()> {
    // A log written before schema records: only decoding can tell.
    let (_dir, path) = scratch("legacy.log");
    let insert = |k: &str, v: u64| {
        bincode::serde::encode_to_vec((0u8, k, v), bincode::config::standard()).expect("encode")
    };
    let payloads = [insert("alice", 1), insert("bob", 300), insert("carol", 3)];
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let bytes = raw_log(&path, STORE_APP_TAG, RAW_VERSION, &refs)?;

    // Insert(u64 = 5, Vec<String> of 97 ('a') strings...) runs out of bytes.
    let err = refused::<u64, Vec<String>>(&path, &bytes);
    match store_error(&err) {
        StoreError::Decode { offset, seq, .. } => {
            assert_eq!((*offset, *seq), (HEADER_LEN as u64, 0), "the first record");
        }
        other => panic!("expected a Decode error, got {other:?}"),
    }
    assert_eq!(HEADER_LEN, 60);
    let text = err.to_string();
    assert!(
        text.contains("60") && text.contains("untouched") && text.contains("migrate"),
        "unhelpful message: {text}"
    );

    // A String value where a u64 is: the one-byte string runs out.
    let err = refused::<String, String>(&path, &bytes);
    assert!(
        matches!(
            store_error(&err),
            StoreError::Decode {
                offset: 60,
                seq: 0,
                ..
            }
        ),
        "{err:?}"
    );

    // A u8 value decodes 1 from the first record, but 300 (a 3-byte
    // varint) leaves bytes over in the second: the error names record 1.
    let err = refused::<String, u8>(&path, &bytes);
    let second = log_records(&bytes)[1].0 as u64;
    assert!(
        matches!(store_error(&err), StoreError::Decode { offset, seq: 1, .. } if *offset == second),
        "{err:?}"
    );

    assert_users_still_open(&path)
}

#[test]
fn a_text_file_is_refused_untouched() -> io::Result<()> {
    let (dir, path) = scratch("notes.txt");
    for text in [
        &b"hello, world\nthis is not a log at all\n"[..],
        b"hi",
        b"\x89PNG\r\n\x1a\n0000",
    ] {
        fs::write(&path, text)?;
        let err = refused::<String, u64>(&path, text);
        assert!(
            matches!(store_error(&err), StoreError::Log(WalError::NotALog { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("untouched"), "{err}");
    }
    assert!(!sibling(&path, COMPACT_TMP_SUFFIX).exists());
    // A refused open creates nothing beside the file, not even a lock.
    assert_eq!(
        fs::read_dir(dir.path())?.count(),
        1,
        "only the file: {:?}",
        fs::read_dir(dir.path())?.collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn an_empty_file_opens_as_a_new_empty_store() -> io::Result<()> {
    let (_dir, path) = scratch("empty.log");
    fs::write(&path, b"")?;
    let mut store: Users = IndexMapStore::open(&path)?;
    assert!(store.is_empty());
    assert!(
        store.recovery_report().initialized,
        "{:?}",
        store.recovery_report()
    );
    assert_eq!(store.recovery_report().records, 0);
    // The new log holds its schema record (variant 6), nothing else.
    let records = log_records(&fs::read(&path)?);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1[0], 6, "a schema record");
    store.insert("a".into(), 1)?;
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(store.get("a"), Some(&1));
    assert!(!store.recovery_report().initialized);
    Ok(())
}

#[test]
fn a_log_of_another_application_is_refused_untouched() -> io::Result<()> {
    let (_dir, path) = scratch("other.log");
    let bytes = raw_log(&path, b"someone-else", RAW_VERSION, &[b"hello"])?;
    let err = refused::<String, u64>(&path, &bytes);
    assert!(
        matches!(
            store_error(&err),
            StoreError::Log(WalError::WrongApp { .. })
        ),
        "{err:?}"
    );
    Ok(())
}
