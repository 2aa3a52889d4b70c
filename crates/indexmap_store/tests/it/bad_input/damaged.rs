//! Damaged logs: flipped bits in synced, compacted and sealed records and
//! in the header, records that do not decode or apply; refused untouched,
//! or salvaged into a copy that never overwrites a file.

use std::fs;
use std::io;

use super::{RAW_VERSION, Users, entries, history_ops, recorded_history, refused, write_users};
use crate::common::{HEADER_LEN, STORE_APP_TAG, log_records, raw_log};
use indexmap_store::WalError;
use indexmap_store::{IndexMapStore, OpenOptions, StoreConfig, StoreError, TruncationReason};
use store_test_kit::small::{K, Store, V};
use store_test_kit::store_error;
use test_support::scratch;
use test_support::sibling;

/// Flips bit `bit` of byte `at` of `bytes`.
fn flipped(bytes: &[u8], at: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 1 << bit;
    out
}

#[test]
fn a_flipped_bit_in_a_synced_record_is_refused_then_salvaged() -> io::Result<()> {
    let (dir, path) = scratch("rot.log");
    // Records 0..3 are flushed before record 3 is written, so records 3 and
    // later vouch for them (a flush follows record index 2).
    let (log, ends, states) = recorded_history(&path, &history_ops());
    let damaged_record = 1;
    let start = ends[damaged_record] as usize;
    let end = ends[damaged_record + 1] as usize;

    // Every bit of the record's frame: refused, file untouched, no copy made.
    let probe = dir.path().join("probe.log");
    for at in start..end {
        for bit in 0..8 {
            let bad = flipped(&log, at, bit);
            fs::write(&probe, &bad)?;
            let err = match Store::open(&probe) {
                Ok(store) => panic!("bit {bit} of byte {at} accepted: {:?}", store.as_map()),
                Err(e) => e,
            };
            assert_eq!(
                err.kind(),
                io::ErrorKind::InvalidData,
                "byte {at} bit {bit}: {err}"
            );
            match store_error(&err) {
                StoreError::Log(WalError::Corrupt {
                    offset,
                    valid_records,
                    ..
                }) => {
                    assert_eq!(*offset, start as u64, "byte {at} bit {bit}");
                    // The schema record comes first.
                    assert_eq!(*valid_records, damaged_record as u64 + 1);
                }
                other => panic!("byte {at} bit {bit}: expected Corrupt, got {other:?}"),
            }
            assert!(
                err.to_string().contains("salvage"),
                "no hint of salvage: {err}"
            );
            assert_eq!(fs::read(&probe)?, bad, "byte {at} bit {bit}: file changed");
        }
    }
    // The store's log and lock, and the probe: its refused opens left no
    // lock file, and no salvage copy.
    assert_eq!(
        fs::read_dir(dir.path())?.count(),
        3,
        "no salvage copy from strict opens"
    );

    // Salvage keeps the records before the damage and copies the rest.
    for at in [start, start + 5, start + 17, end - 1] {
        let bad = flipped(&log, at, 3);
        fs::write(&path, &bad)?;
        let store: Store = OpenOptions::new().salvage(true).open(&path)?;
        let expected = store_test_kit::model_entries(&states[damaged_record]);
        assert_eq!(entries(&store), expected, "byte {at}");
        let copy = sibling(&path, &format!(".corrupt-{start}"));
        let report = store.recovery_report();
        assert_eq!(report.records, damaged_record as u64 + 1);
        let cut = report.truncated.as_ref().expect("salvage cuts");
        assert_eq!(
            (cut.offset, cut.bytes),
            (start as u64, (log.len() - start) as u64)
        );
        assert_eq!(
            cut.reason,
            TruncationReason::Salvaged { copy: copy.clone() }
        );
        assert_eq!(
            fs::read(&copy)?,
            bad[start..],
            "the copy holds every byte from the damage"
        );
        assert_eq!(
            fs::read(&path)?,
            bad[..start],
            "the log keeps the valid prefix"
        );
        drop(store);
        // A strict open now succeeds; the store is usable.
        let mut store = Store::open(&path)?;
        store.insert("z".to_owned(), 1)?;
        drop(store);
        let store = Store::open(&path)?;
        assert_eq!(store.len(), expected.len() + 1);
        drop(store);
        fs::remove_file(&copy)?;
    }
    Ok(())
}

#[test]
fn a_damaged_header_is_refused_untouched() -> io::Result<()> {
    let (_dir, path) = scratch("header.log");
    let log = write_users(&path)?;
    for at in 0..HEADER_LEN {
        for bit in 0..8 {
            let bad = flipped(&log, at, bit);
            fs::write(&path, &bad)?;
            let err = refused::<String, u64>(&path, &bad);
            assert!(
                matches!(store_error(&err), StoreError::Log(_)),
                "byte {at}: {err:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn undecodable_or_inapplicable_records_are_refused_untouched() -> io::Result<()> {
    let (dir, _) = scratch("unused");
    let cases: [(&str, Vec<&[u8]>); 7] = [
        ("a move in an empty map", vec![&[4, 5, 7]]),
        ("a move past the end", vec![&[0, 1, b'a', 1], &[4, 0, 1]]),
        ("bytes after a Clear", vec![&[3, 0]]),
        ("an unknown variant", vec![&[9]]),
        ("an empty payload", vec![&[]]),
        (
            "a string claiming 2^64 - 1 bytes",
            vec![&[0, 253, 255, 255, 255, 255, 255, 255, 255, 255]],
        ),
        (
            "a batch claiming 2^32 - 1 ops",
            vec![&[5, 252, 255, 255, 255, 255, 0, 0]],
        ),
    ];
    for (i, (what, payloads)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("raw-{i}.log"));
        let bytes = raw_log(&path, STORE_APP_TAG, RAW_VERSION, &payloads)?;
        let err = refused::<String, u64>(&path, &bytes);
        let offset = log_records(&bytes).last().expect("a record").0 as u64;
        match store_error(&err) {
            StoreError::Inconsistent { offset: at, .. } if what.starts_with("a move") => {
                assert_eq!(*at, offset, "{what}");
            }
            StoreError::Decode { offset: at, .. } if !what.starts_with("a move") => {
                assert_eq!(*at, offset, "{what}");
            }
            other => panic!("{what}: unexpected {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn salvage_never_overwrites_an_existing_file_at_the_copy_path() -> io::Result<()> {
    let (_dir, path) = scratch("twice.log");
    let (log, ends, _) = recorded_history(&path, &history_ops());
    let start = ends[1] as usize;
    let bad = flipped(&log, start + 17, 2);
    fs::write(&path, &bad)?;
    let copy = sibling(&path, &format!(".corrupt-{start}"));
    let earlier = b"an earlier salvage copy, or somebody's file";
    fs::write(&copy, earlier)?;
    match OpenOptions::new().salvage(true).open::<K, V>(&path) {
        Err(err) => {
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
            assert_eq!(
                fs::read(&path)?,
                bad,
                "a failed salvage leaves the log alone"
            );
        }
        Ok(store) => {
            let Some(TruncationReason::Salvaged { copy: used }) = store
                .recovery_report()
                .truncated
                .as_ref()
                .map(|t| t.reason.clone())
            else {
                panic!("no salvage reported: {:?}", store.recovery_report());
            };
            assert_ne!(used, copy, "salvaged over an existing file");
            assert_eq!(fs::read(&used)?, bad[start..]);
        }
    }
    assert_eq!(
        fs::read(&copy)?,
        earlier,
        "an existing file was overwritten"
    );
    Ok(())
}

/// Regression (a fixed bug in wal-io's `rewrite.rs`, where every rewritten
/// record declared the rewrite's first sequence number as its synced
/// watermark): a compacted log is synced, renamed and its directory synced
/// before it becomes the log, yet none of its records vouched for an
/// earlier one. So until the next append, damage to any compacted record
/// was taken for a torn tail: a strict open cut off that record and
/// everything after it, with no salvage copy, instead of refusing.
#[test]
fn a_flipped_bit_in_a_compacted_log_is_refused_not_truncated() -> io::Result<()> {
    let (dir, path) = scratch("compacted.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for (i, k) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        store.insert(k.into(), i as u64)?;
        store.insert(k.into(), i as u64 + 10)?;
    }
    store.compact()?;
    assert_eq!(
        store.stats().unsynced_records,
        0,
        "a compacted log is synced"
    );
    drop(store);
    let log = fs::read(&path)?;
    let first = log_records(&log)[0].0;
    let bad = flipped(&log, first + 17, 0);
    fs::write(&path, &bad)?;

    let result = IndexMapStore::<String, u64>::open(&path);
    let on_disk = fs::read(&path)?;
    let files = fs::read_dir(dir.path())?.count();
    match result {
        Err(err) => {
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
            assert_eq!(on_disk, bad, "a refused open changed the file");
        }
        Ok(store) => panic!(
            "synced data was cut as a torn tail: opened with {:?}, the file went from {} to \
             {} bytes ({files} files in the directory, no salvage copy), report {:?}",
            store.as_map(),
            bad.len(),
            on_disk.len(),
            store.recovery_report()
        ),
    }
    Ok(())
}

/// Closing seals the log, so a flipped bit in the very last record of a
/// closed store is refused as corruption, with or without `sync_on_write`.
#[test]
fn a_flipped_bit_in_the_last_record_of_a_closed_store_is_refused() -> io::Result<()> {
    let (_dir, path) = scratch("closed.log");
    for sync_on_write in [false, true] {
        let config = StoreConfig {
            sync_on_write,
            ..StoreConfig::default()
        };
        let mut store: Users = IndexMapStore::open_with(&path, config)?;
        store.insert("a".into(), 1)?;
        store.insert("last".into(), 2)?;
        store.close()?;
        let log = fs::read(&path)?;
        let last = log_records(&log).pop().expect("records");
        let bad = flipped(&log, last.0 + 13, 3);
        fs::write(&path, &bad)?;
        let err = IndexMapStore::<String, u64>::open(&path).expect_err("damage refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(
            matches!(
                store_error(&err),
                StoreError::Log(WalError::Corrupt { offset, .. }) if *offset == last.0 as u64
            ),
            "{err}"
        );
        assert_eq!(fs::read(&path)?, bad, "a refused open changed the file");
        fs::remove_file(&path)?;
    }
    Ok(())
}
