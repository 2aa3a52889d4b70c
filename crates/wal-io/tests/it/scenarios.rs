//! Scenario tests of `Wal` over real files.

use std::path::Path;
use std::sync::Arc;

use crate::support::{new_fs_log, open_at, open_fs as open, open_fs_with as open_with};
use wal_format::FrameKind;
use wal_io::{FsStorage, RecoveryMode, TruncationReason, Wal, WalError, WalOptions};

#[test]
fn appends_survive_reopen_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (mut wal, records) = open(&path).unwrap();
    assert!(records.is_empty());
    assert_eq!(wal.append(b"one").unwrap(), 0);
    assert_eq!(wal.append_many([&b"two"[..], b"three"]).unwrap(), 1..3);
    wal.sync().unwrap();
    drop(wal);
    let (wal, records) = open(&path).unwrap();
    assert_eq!(
        records,
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    assert_eq!(wal.stats().records, 3);
    assert_eq!(wal.stats().unsynced_records, 0);
}

#[test]
fn second_opener_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (wal, _) = open(&path).unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, WalError::AlreadyOpen { .. }), "{err}");
    drop(wal);
    assert!(open(&path).is_ok());
}

#[test]
fn rewrite_replaces_contents_and_appends_continue() {
    let (dir, path, mut wal) = new_fs_log();
    for i in 0..100u32 {
        wal.append(&i.to_le_bytes()).unwrap();
    }
    let n = wal
        .rewrite(|w| {
            w.push(b"compacted")?;
            w.push(b"state")
        })
        .unwrap();
    assert_eq!(n, 2);
    wal.append(b"after").unwrap();
    drop(wal);
    let (wal, records) = open(&path).unwrap();
    assert_eq!(
        records,
        vec![b"compacted".to_vec(), b"state".to_vec(), b"after".to_vec()]
    );
    assert_eq!(wal.header().base_seq, 100);
    assert!(!dir.path().join("events.log.rewrite.tmp").exists());
}

/// A log cut inside its last record after a clean close: the sidecar's
/// claim says that record was synced, so the cut is refused as lost synced
/// data, untouched; the same log copied without its sidecar cannot tell
/// the cut from a torn write, and cuts it back.
#[test]
fn a_cut_closed_log_is_refused_and_a_log_alone_is_cut_back() {
    let (dir, path, mut wal) = new_fs_log();
    wal.append(b"kept").unwrap();
    wal.append(b"torn record").unwrap();
    let full = wal.stats().bytes;
    drop(wal);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(full - 3).unwrap();
    drop(f);
    let cut = std::fs::read(&path).unwrap();

    let err = open(&path).unwrap_err();
    let WalError::Truncated {
        offset,
        valid_records,
        by: wal_io::VouchedBy::Sidecar { .. },
        ..
    } = err
    else {
        panic!("expected Truncated, vouched by the sidecar: {err:?}");
    };
    assert_eq!(valid_records, 1);
    assert!(offset < full - 3);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        cut,
        "the refused log is untouched"
    );

    // The log alone, as `cp` of the log file would leave it.
    std::fs::remove_file(dir.path().join("events.log.lock")).unwrap();
    let (_wal, replayed, report) =
        open_at(Arc::new(FsStorage::new()), &path, &WalOptions::default()).unwrap();
    assert_eq!(replayed.payloads, vec![b"kept".to_vec()]);
    let t = report.truncated.expect("a torn tail is reported");
    assert_eq!(t.reason, TruncationReason::TornTail);
    assert_eq!(t.offset, offset);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), t.offset);
}

#[test]
fn synced_corruption_is_refused_untouched_then_salvaged() {
    let (dir, path, mut wal) = new_fs_log();
    wal.append(b"first").unwrap();
    let damaged_at = wal.stats().bytes;
    wal.append(b"second").unwrap();
    wal.sync().unwrap();
    wal.append(b"third").unwrap();
    drop(wal);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[damaged_at as usize + 20] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    let err = open(&path).unwrap_err();
    assert!(
        matches!(err, WalError::Corrupt { offset, .. } if offset == damaged_at),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a refused open changes nothing"
    );

    let opts = WalOptions {
        recovery: RecoveryMode::Salvage,
        ..WalOptions::default()
    };
    let (_wal, records) = open_with(&path, opts).unwrap();
    assert_eq!(records, vec![b"first".to_vec()]);
    let copy = dir.path().join(format!("events.log.corrupt-{damaged_at}"));
    assert_eq!(std::fs::read(copy).unwrap(), bytes[damaged_at as usize..]);
}

#[test]
fn foreign_files_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"just some text, not a log\n").unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, WalError::NotALog { .. }), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"just some text, not a log\n"
    );
}

#[test]
fn replay_reads_the_log_in_chunks_not_per_record() {
    use wal_io::sim::SimStorage;
    let sim = SimStorage::new(5);
    let opts = WalOptions {
        buf_capacity: 64 * 1024,
        ..WalOptions::default()
    };
    let (mut wal, _) =
        Wal::open(Arc::new(sim.clone()), "big.log", opts.clone(), |_| Ok(())).unwrap();
    let payload = [7u8; 1000];
    wal.append_many(std::iter::repeat_n(&payload[..], 2000))
        .unwrap();
    let bytes = wal.stats().bytes;
    drop(wal);
    let before = sim.ops();
    let mut n = 0;
    let (_wal, report) = Wal::open(Arc::new(sim.clone()), "big.log", opts, |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((n, report.records), (2000, 2000));
    let ops = sim.ops() - before;
    let chunks = bytes.div_ceil(64 * 1024);
    // One read per chunk (a record straddling a chunk boundary may cost one
    // more), plus a handful of operations to open, lock and sync.
    // (The open also checks the file before locking it and reads and
    // writes the sidecar's claim.)
    assert!(
        ops <= 2 * chunks + 24,
        "{ops} storage operations to replay {chunks} chunks"
    );
}

/// Closing seals the log: the last records, which no later record vouches
/// for, are vouched for by the seal, so damage to them is corruption, not a
/// torn tail. A log killed before it is closed has no seal, and the same
/// damage is cut off as a torn tail.
#[test]
fn a_closed_log_is_sealed_so_damage_to_its_last_record_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    for close in [true, false] {
        let path = dir.path().join(format!("sealed-{close}.log"));
        let (mut wal, _) = open(&path).unwrap();
        wal.append(b"first").unwrap();
        wal.append(b"last record").unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        if close {
            wal.close().unwrap();
            // The seal: one empty frame.
            assert_eq!(std::fs::metadata(&path).unwrap().len(), before + 16);
        } else {
            // What a kill leaves: no drop, no seal.
            std::mem::forget(wal);
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let last_payload = before as usize - 4 - b"last record".len();
        bytes[last_payload] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        // The forgotten log's lock file descriptor is still open in this
        // process; a new lock on the same path needs a fresh lock file.
        let _ = std::fs::remove_file(format!("{}.lock", path.display()));
        match open(&path) {
            Err(WalError::Corrupt { offset, .. }) if close => {
                assert_eq!(offset, last_payload as u64 - 12, "the last record's frame");
                assert_eq!(std::fs::read(&path).unwrap(), bytes, "refused untouched");
            }
            Ok((wal, records)) if !close => {
                assert_eq!(records, vec![b"first".to_vec()]);
                let cut = wal.stats().bytes;
                assert_eq!(cut, last_payload as u64 - 12, "cut as a torn tail");
            }
            other => panic!("close: {close}: {:?}", other.map(|(_, r)| r)),
        }
    }
}

/// A seal holds no application data: it is not replayed nor counted, and
/// reopening and closing without appending adds no second seal.
#[test]
fn seals_are_invisible_and_added_only_after_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seals.log");
    let (mut wal, _) = open(&path).unwrap();
    wal.append(b"a").unwrap();
    wal.close().unwrap();
    let sealed = std::fs::metadata(&path).unwrap().len();
    let (wal, records) = open(&path).unwrap();
    assert_eq!(records, vec![b"a".to_vec()]);
    assert_eq!(wal.stats().records, 1);
    wal.close().unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        sealed,
        "nothing new to seal"
    );
    let (mut wal, _) = open(&path).unwrap();
    assert_eq!(
        wal.append(b"b").unwrap(),
        2,
        "the seal took sequence number 1"
    );
    drop(wal);
    let (wal, records) = open(&path).unwrap();
    assert_eq!(records, vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(wal.stats().records, 2);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), sealed + 17 + 16);
}

/// The kinds of the frames after the header of the log at `path`.
fn frame_kinds(path: &Path) -> Vec<FrameKind> {
    let bytes = std::fs::read(path).unwrap();
    let Ok(wal_format::Decoded::Complete(header)) = wal_format::FileHeader::decode(&bytes) else {
        panic!("not a log");
    };
    let mut at = header.encoded_len();
    let mut kinds = Vec::new();
    while let Some(h) = wal_format::FrameHeader::peek(&bytes[at..]) {
        kinds.push(h.kind);
        at += usize::try_from(h.frame_len()).unwrap();
    }
    assert_eq!(at, bytes.len(), "the log ends with a whole frame");
    kinds
}

#[test]
fn records_appended_together_share_batch_frames() {
    use FrameKind::{Batch, Record, Seal};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batches.log");
    let (mut wal, _) = open(&path).unwrap();
    wal.append(b"alone").unwrap();
    let many: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_le_bytes().repeat(30)).collect();
    assert_eq!(
        wal.append_many(many.iter().map(Vec::as_slice)).unwrap(),
        1..1001
    );
    wal.append_many([&b"lone batch"[..]]).unwrap();
    wal.close().unwrap();
    let kinds = frame_kinds(&path);
    // 1000 records of 120 bytes: two frames of about 64 KiB.
    assert_eq!(kinds, [Record, Batch, Batch, Record, Seal]);
    let (wal, records) = open(&path).unwrap();
    assert_eq!(records.len(), 1002);
    assert_eq!(records[1..1001], many[..]);
    assert_eq!(records[1001], b"lone batch");
    assert_eq!(wal.stats().records, 1002);
}

#[test]
fn a_version_1_log_gets_no_batch_frames_until_it_is_rewritten() {
    use FrameKind::{Batch, Record, Seal};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log");
    let header = wal_format::FileHeader {
        version: 1,
        ..wal_format::FileHeader::new(&WalOptions::default().app_tag, 0, 0)
    };
    let mut bytes = header.encode().to_vec();
    wal_format::encode_record(&mut bytes, 0, 0, b"v1", wal_format::DEFAULT_MAX_RECORD_LEN).unwrap();
    std::fs::write(&path, &bytes).unwrap();

    let (mut wal, records) = open(&path).unwrap();
    assert_eq!(records, [b"v1".to_vec()]);
    assert_eq!(wal.header().version, 1);
    wal.append_many([&b"a"[..], b"b", b"c"]).unwrap();
    wal.close().unwrap();
    assert_eq!(
        frame_kinds(&path),
        [Record; 4].into_iter().chain([Seal]).collect::<Vec<_>>(),
        "a version 1 reader can still read every frame"
    );
    assert_eq!(std::fs::read(&path).unwrap()[8], 1, "still version 1");

    let (mut wal, records) = open(&path).unwrap();
    assert_eq!(records.len(), 4);
    wal.rewrite(|w| records.iter().try_for_each(|r| w.push(r)))
        .unwrap();
    assert_eq!(wal.header().version, wal_format::FORMAT_VERSION);
    wal.close().unwrap();
    assert_eq!(frame_kinds(&path), [Batch, Seal]);
    let (_, again) = open(&path).unwrap();
    assert_eq!(again, records);
}
