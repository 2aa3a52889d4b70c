//! One direct test per step of the durability protocol that, broken alone
//! in a copy of the code, was caught by only a few broader tests: the
//! directory sync after a stale temporary file is removed, the cut-back
//! after a failed fsync, the seal at the end of a rewritten log, and the
//! sync of an open that cut a torn tail.

use std::path::Path;
use std::sync::Arc;

use crate::support::{LOG, TMP, open_log};
use wal_format::{Decoded, FileHeader, FrameHeader, FrameKind};
use wal_io::sim::{CrashVariant, Fault, FaultKind, SimStorage};
use wal_io::{OpenMode, Storage, TruncationReason, WalOptions};

fn opts() -> WalOptions {
    WalOptions::default()
}

/// Removing (or setting aside) a stale temporary file is made durable
/// before the open returns: after a power loss it does not come back.
#[test]
fn removing_a_stale_temp_file_is_durable() {
    for (what, bytes, kept_as) in [
        ("ours", vec![0u8; 300], None),
        (
            "a stranger's",
            b"someone's notes".to_vec(),
            Some("wal.log.rewrite.tmp.unrecognized"),
        ),
    ] {
        let sim = SimStorage::new(3);
        drop(open_log(Arc::new(sim.clone()), &opts()).unwrap());
        sim.write_file(TMP, &bytes).unwrap();
        assert!(
            sim.durable_list().contains(&TMP.into()),
            "{what}: planted durably"
        );
        let (_wal, _, report) = open_log(Arc::new(sim.clone()), &opts()).unwrap();
        let durable = sim.durable_list();
        assert!(
            !durable.contains(&TMP.into()),
            "{what}: the removal is not durable"
        );
        match kept_as {
            None => assert!(report.removed_temp.is_some(), "{what}: {report:?}"),
            Some(aside) => {
                assert!(durable.contains(&aside.into()), "{what}: set aside durably");
                assert_eq!(sim.durable_file(aside), Some(bytes.clone()), "{what}");
            }
        }
    }
}

/// A failed fsync cuts the file back to what the last successful sync made
/// durable, at once: the records it covered may never reach the disk, and
/// must not be read back and vouched for by a later open.
#[test]
fn a_failed_fsync_cuts_the_log_back_at_once() {
    let sim = SimStorage::new(5);
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts()).unwrap();
    wal.append(b"synced").unwrap();
    wal.sync().unwrap();
    let synced_len = wal.stats().bytes;
    wal.append(b"lost with the failed sync").unwrap();
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    assert!(wal.sync().is_err());
    assert_eq!(
        sim.read_file(LOG).map(|b| b.len() as u64),
        Some(synced_len),
        "the file is cut back to its synced length"
    );
    assert!(wal.poisoned().is_some());
    drop(wal);
    sim.clear_faults();
    let (_wal, replayed, report) = open_log(Arc::new(sim.clone()), &opts()).unwrap();
    assert_eq!(replayed.payloads, vec![b"synced".to_vec()]);
    assert_eq!(report.truncated, None);
}

/// A rewritten log ends with a seal right after its records, and its
/// header vouches for those records: a rewritten log is protected without
/// ever being closed.
#[test]
fn a_rewritten_log_ends_with_a_seal_its_header_vouches_up_to() {
    let sim = SimStorage::new(7);
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts()).unwrap();
    for i in 0..20u8 {
        wal.append(&[i; 40]).unwrap();
    }
    wal.rewrite(|w| (0..5u8).try_for_each(|i| w.push(&[i; 40])))
        .unwrap();
    let bytes = sim.read_file(LOG).unwrap();
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&bytes) else {
        panic!("not a log");
    };
    let mut at = header.encoded_len();
    let mut last = None;
    while let Some(frame) = FrameHeader::peek(&bytes[at..]) {
        last = Some((at, frame.kind));
        at += usize::try_from(frame.frame_len()).unwrap();
    }
    assert_eq!(at, bytes.len(), "whole frames");
    let (seal_at, kind) = last.unwrap();
    assert_eq!(kind, FrameKind::Seal, "the rewrite ends with a seal");
    assert_eq!(
        header.vouched_len, seal_at as u64,
        "the header vouches up to the seal"
    );
    assert_ne!(header.file_id, 0);

    // Cut inside its records, the log alone (no sidecar) is refused.
    std::mem::forget(wal);
    let copy = sim.snapshot();
    copy.remove(Path::new(&format!("{LOG}.lock"))).unwrap();
    copy.write_file(LOG, &bytes[..seal_at - 3]).unwrap();
    let err = open_log(Arc::new(copy), &opts()).unwrap_err();
    assert!(matches!(err, wal_io::WalError::Truncated { .. }), "{err:?}");
}

/// A killed writer left unsynced records and a torn tail; the next open
/// cuts the tail and must sync before appending: the records it appends
/// declare every replayed record durable, so a power loss that kept one of
/// them but not the replayed records (or the cut) would leave a log that
/// refuses to open except in salvage mode.
#[test]
fn an_open_that_cut_a_torn_tail_syncs_before_appending() {
    for seed in 0..12 {
        let sim = SimStorage::new(seed);
        let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts()).unwrap();
        wal.append(b"one").unwrap();
        wal.sync().unwrap();
        // Never synced by the writer: only the page cache holds it when the
        // writer is killed, and only the next open's sync makes it durable.
        wal.append(b"two").unwrap();
        // The kill, with a record's first bytes in the file after it.
        let len = wal.stats().bytes;
        std::mem::forget(wal);
        let killed = sim.snapshot();
        // Through the storage, unsynced (`write_file` would be durable).
        let file = killed.open(Path::new(LOG), OpenMode::Existing).unwrap();
        file.write_at(len, &[0xA5, 0, 0, 0, 200, 0, 0, 0]).unwrap();
        drop(file);
        assert_eq!(killed.read_file(LOG).unwrap().len() as u64, len + 8);
        assert!(
            killed.durable_file(LOG).unwrap().len() as u64 <= len,
            "record two and the torn bytes are not durable"
        );

        let (mut wal, replayed, report) = open_log(Arc::new(killed.clone()), &opts()).unwrap();
        assert_eq!(replayed.payloads.len(), 2, "seed {seed}");
        assert!(matches!(
            report.truncated,
            Some(wal_io::Truncation {
                reason: TruncationReason::TornTail,
                ..
            })
        ));
        wal.append(b"three, after the cut").unwrap();
        std::mem::forget(wal);
        for variant in CrashVariant::ALL {
            let img = killed.snapshot();
            img.crash_with_seed(variant, seed);
            let strict = open_log(Arc::new(img.clone()), &opts());
            let (_, replayed, _) = strict
                .unwrap_or_else(|e| panic!("seed {seed}, {variant}: the strict open failed: {e}"));
            assert!(
                replayed.payloads.len() >= 2,
                "seed {seed}, {variant}: synced records lost"
            );
        }
    }
}
