//! Bad input on real files: wrong types, foreign files, damaged logs, odd
//! paths. Never a panic, and never a byte of a file that is not provably
//! ours changed.

use std::fs;
use std::io;
use std::path::Path;

use crate::common::{HEADER_LEN, STORE_APP_TAG, log_records, raw_log};
use indexmap::IndexMap;
use indexmap_store::WalError;
use indexmap_store::{
    COMPACT_TMP_SUFFIX, IndexMapStore, OpenOptions, StoreConfig, StoreError, TruncationReason,
};
use store_test_kit::small::{K, Op, Store, V};
use store_test_kit::{apply_model, store_error};
use test_support::scratch;
use test_support::sibling;

type Users = IndexMapStore<String, u64>;

fn entries(store: &Store) -> Vec<(K, V)> {
    store_test_kit::entries(store)
}

/// Writes a small `String -> u64` store at `path` and returns its bytes.
fn write_users(path: &Path) -> io::Result<Vec<u8>> {
    let mut store: Users = IndexMapStore::open(path)?;
    store.insert("alice".into(), 1)?;
    store.insert("bob".into(), 300)?;
    store.insert("carol".into(), 3)?;
    store.flush()?;
    drop(store);
    fs::read(path)
}

/// Asserts that the right types still open the users' store at `path`,
/// unchanged.
fn assert_users_still_open(path: &Path) -> io::Result<()> {
    let store: Users = IndexMapStore::open(path)?;
    assert_eq!(store.get("bob"), Some(&300));
    assert_eq!(store.len(), 3);
    Ok(())
}

/// Asserts that opening `path` as `IndexMapStore<K2, V2>` fails with
/// `InvalidData` and leaves the file as `bytes`; returns the error.
fn refused<K2, V2>(path: &Path, bytes: &[u8]) -> io::Error
where
    K2: std::hash::Hash + Eq + serde::Serialize + serde::de::DeserializeOwned,
    V2: serde::Serialize + serde::de::DeserializeOwned,
{
    let err = match IndexMapStore::<K2, V2>::open(path) {
        Ok(_) => panic!("{} opened with the wrong types", path.display()),
        Err(e) => e,
    };
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert_eq!(
        fs::read(path).expect("read"),
        bytes,
        "file changed by a refused open"
    );
    err
}

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

/// Tails a crash, a disk or another program may leave after valid records.
fn junk_tails(log: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let records = log_records(log);
    let (last_at, _) = records.last().expect("records");
    let mut pseudo_random = Vec::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..777 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pseudo_random.push(x as u8);
    }
    vec![
        ("zeros", vec![0; 4096]),
        ("one zero", vec![0]),
        ("text", b"garbage garbage garbage\n".to_vec()),
        ("markers", vec![0xA5; 100]),
        ("0xff", vec![0xFF; 33]),
        ("pseudo-random", pseudo_random),
        ("a copy of the last record", log[*last_at..].to_vec()),
        (
            "a copy of the first record and more",
            log[HEADER_LEN..].to_vec(),
        ),
        (
            "half a frame header",
            log[HEADER_LEN..HEADER_LEN + 8].to_vec(),
        ),
    ]
}

#[test]
fn garbage_and_zero_tails_are_truncated() -> io::Result<()> {
    let (_dir, path) = scratch("tail.log");
    let log = write_users(&path)?;
    // Each case starts from this store as it was closed: its log and the
    // sidecar beside it (which a restored log alone would contradict).
    let lock = sibling(&path, ".lock");
    let sidecar = fs::read(&lock)?;
    for (what, tail) in junk_tails(&log) {
        let mut bytes = log.clone();
        bytes.extend_from_slice(&tail);
        fs::write(&path, &bytes)?;
        let mut store: Users = IndexMapStore::open(&path)?;
        assert_eq!(
            store.keys().collect::<Vec<_>>(),
            ["alice", "bob", "carol"],
            "{what}"
        );
        let report = store.recovery_report().clone();
        assert_eq!(report.records, 4, "{what}: the schema record and 3 inserts");
        let cut = report
            .truncated
            .unwrap_or_else(|| panic!("{what}: no truncation reported"));
        assert_eq!(cut.offset, log.len() as u64, "{what}");
        assert_eq!(cut.bytes, tail.len() as u64, "{what}");
        assert_eq!(cut.reason, TruncationReason::TornTail, "{what}");
        assert_eq!(
            fs::read(&path)?,
            log,
            "{what}: not truncated to the valid log"
        );

        // The store works on: write, reopen, see it, then restore.
        store.insert("dave".into(), 4)?;
        drop(store);
        let store: Users = IndexMapStore::open(&path)?;
        assert_eq!(
            store.keys().collect::<Vec<_>>(),
            ["alice", "bob", "carol", "dave"],
            "{what}"
        );
        assert!(store.recovery_report().truncated.is_none(), "{what}");
        drop(store);
        fs::write(&path, &log)?;
        fs::write(&lock, &sidecar)?;
    }
    Ok(())
}

/// Writes a log through `ops` (each writing exactly one record) and returns
/// its bytes, the end offset of each record (the first: the schema record
/// a new log starts with) and the model after each.
fn recorded_history(path: &Path, ops: &[Op]) -> (Vec<u8>, Vec<u64>, Vec<IndexMap<K, V>>) {
    let mut store = Store::open(path).expect("open");
    let mut model = IndexMap::new();
    let mut states = vec![model.clone()];
    let mut ends = vec![store.stats().log_bytes];
    for op in ops {
        assert_eq!(
            op.records_written(&model),
            1,
            "{op:?} must write one record"
        );
        apply_model(&mut model, op);
        store_test_kit::apply_store(&mut store, op).expect("op");
        assert_eq!(entries(&store), store_test_kit::model_entries(&model));
        ends.push(store.stats().log_bytes);
        states.push(model.clone());
        if ends.len() == 4 {
            store.flush().expect("flush");
        }
    }
    drop(store);
    (fs::read(path).expect("read"), ends, states)
}

fn history_ops() -> Vec<Op> {
    let k = |s: &str| s.to_owned();
    vec![
        Op::Insert(k("a"), 1),
        Op::Insert(k("b"), 2),
        Op::InsertMany(vec![
            (k("c"), 3),
            (k("d"), 4),
            (k("hhhhhhhhhhhhhhhh"), 70_000),
        ]),
        Op::Insert(k("a"), 300),
        Op::MoveIndex(0, 3),
        Op::SwapRemove(k("b")),
        Op::Modify(k("c"), 5),
        Op::Remove(k("d")),
        Op::Apply(vec![
            store_test_kit::small::BatchItem::Insert(k("e"), 9),
            store_test_kit::small::BatchItem::SwapRemove(k("a")),
        ]),
        Op::Clear,
        Op::Insert(k("f"), u32::MAX),
        Op::Entry {
            key: k("f"),
            delta: 1,
            default: 0,
        },
        Op::Insert(k("gg"), 7),
        Op::Pop,
    ]
}

#[test]
fn every_prefix_of_a_log_opens_as_a_prefix_of_its_history() -> io::Result<()> {
    let (dir, path) = scratch("history.log");
    let (log, ends, states) = recorded_history(&path, &history_ops());
    // Closing the store sealed its log: one 25-byte frame after the last
    // record (16 bytes of framing and the 9-byte note of the entry
    // count), vouching for it.
    assert_eq!(ends.last().copied(), Some(log.len() as u64 - 25));
    let prefix_path = dir.path().join("prefix.log");
    let mut last_k = 0;
    for len in 0..=log.len() {
        // A fresh copy of the log alone each time: the previous prefix's
        // open left a sidecar whose claim would (rightly) refuse a shorter
        // copy of the same log.
        let _ = fs::remove_file(sibling(&prefix_path, ".lock"));
        fs::write(&prefix_path, &log[..len])?;
        let store = Store::open(&prefix_path)
            .unwrap_or_else(|e| panic!("prefix of {len} bytes refused: {e}"));
        let report = store.recovery_report().clone();
        // Records replayed: the schema record, then one per op.
        let k = usize::try_from(report.records.saturating_sub(1)).expect("small");
        assert!(k >= last_k, "prefix {len}: {k} records after {last_k}");
        last_k = k;
        let complete = ends
            .iter()
            .filter(|&&end| end <= len as u64)
            .count()
            .saturating_sub(1);
        assert_eq!(k, complete, "prefix {len}: records replayed");
        assert_eq!(
            entries(&store),
            store_test_kit::model_entries(&states[k]),
            "prefix {len}"
        );
        let end = if len == log.len() {
            len as u64
        } else {
            ends[k]
        };
        if len < HEADER_LEN {
            assert!(report.initialized, "prefix {len}: {report:?}");
            assert!(report.truncated.is_none(), "prefix {len}: {report:?}");
        } else if report.records == 0 {
            // No complete schema record: cut back to the header, then the
            // open appends the schema record again.
            let torn = (len > HEADER_LEN).then_some((HEADER_LEN as u64, (len - HEADER_LEN) as u64));
            let cut = report.truncated.as_ref().map(|c| (c.offset, c.bytes));
            assert_eq!(cut, torn, "prefix {len}");
        } else if len as u64 == end {
            assert!(
                report.truncated.is_none(),
                "prefix {len} ends on a record or the seal: {report:?}"
            );
        } else {
            let cut = report.truncated.as_ref().expect("a torn record is cut off");
            assert_eq!(
                (cut.offset, cut.bytes),
                (end, len as u64 - end),
                "prefix {len}"
            );
            assert_eq!(cut.reason, TruncationReason::TornTail, "prefix {len}");
        }
        let after = fs::read(&prefix_path)?;
        if len < HEADER_LEN {
            // A new header: the same fields up to `base_seq`, a new
            // `file_id`.
            assert!(after.len() >= HEADER_LEN, "prefix {len}: a new header");
            assert_eq!(after[..40], log[..40], "prefix {len}: file after open");
        } else {
            assert_eq!(after, log[..end as usize], "prefix {len}: file after open");
        }
    }
    assert_eq!(last_k, states.len() - 1);
    Ok(())
}

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

/// The schema version of the logs written here: one before schema records.
const RAW_VERSION: u32 = 1;

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
