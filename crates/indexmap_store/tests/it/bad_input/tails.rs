//! Logs cut short or with junk after their last record: junk tails are
//! truncated, and every prefix of a log opens as a prefix of its history.

use std::fs;
use std::io;

use super::{Users, entries, history_ops, recorded_history, write_users};
use crate::common::{HEADER_LEN, log_records};
use indexmap_store::{IndexMapStore, TruncationReason};
use store_test_kit::small::Store;
use test_support::scratch;
use test_support::sibling;

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
