//! `Wal::open_with`: a replayer that learns of a record's failure only
//! later (as one decoding on other threads does) fails the open at that
//! record, with the error a closure failing there gives, and changes no
//! byte of the file, even when the tail would otherwise be cut.

use std::path::Path;
use std::sync::Arc;

use wal_io::{FsStorage, Replay, ReplayFailure, ReplayRecord, Wal, WalError, WalOptions};

const RECORDS: u32 = 200;
const BAD: u64 = 40;

/// Takes every record, and reports the one at sequence number [`BAD`] as
/// failed only in [`Replay::finish`].
#[derive(Default)]
struct Deferring {
    file_len: Option<u64>,
    taken: u64,
    bad: Option<(u64, u64)>,
}

impl Replay for Deferring {
    fn begin(&mut self, file_len: u64) {
        self.file_len = Some(file_len);
    }

    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), wal_io::BoxError> {
        self.taken += 1;
        if record.seq == BAD {
            self.bad = Some((record.seq, record.offset));
        }
        Ok(())
    }

    fn failed(&self) -> bool {
        self.bad.is_some()
    }

    fn finish(&mut self) -> Result<(), ReplayFailure> {
        match self.bad {
            Some((seq, offset)) => Err(ReplayFailure {
                seq,
                offset,
                source: "record rejected".into(),
            }),
            None => Ok(()),
        }
    }
}

fn opts() -> WalOptions {
    // Small reads, so that the log is read in many runs of frames.
    WalOptions {
        buf_capacity: 512,
        ..WalOptions::default()
    }
}

/// A log of [`RECORDS`] records with a few stray bytes after them: a torn
/// tail that a successful open would cut.
fn torn_log(path: &Path) -> Vec<u8> {
    let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), path, opts(), |_| Ok(())).unwrap();
    for i in 0..RECORDS {
        wal.append(&[i.to_le_bytes(), [7; 4]].concat()).unwrap();
    }
    drop(wal);
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend_from_slice(&[0x5a; 6]);
    std::fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn a_deferred_failure_fails_the_open_at_its_record_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let before = torn_log(&path);

    let mut deferring = Deferring::default();
    let err = Wal::open_with(Arc::new(FsStorage::new()), &path, opts(), &mut deferring)
        .expect_err("the deferred failure must fail the open");
    let WalError::Replay { seq, offset, .. } = &err else {
        panic!("expected a replay error, got {err}");
    };
    assert_eq!(*seq, BAD);
    assert_eq!(Some((*seq, *offset)), deferring.bad);
    assert_eq!(deferring.file_len, Some(before.len() as u64));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the torn tail must not be cut"
    );
    // Reading stopped soon after the failure, not at the end of the log.
    assert!(
        deferring.taken < u64::from(RECORDS),
        "took {} records after a failure at {BAD}",
        deferring.taken
    );

    // The same error a closure failing at that record gives.
    let immediate = Wal::open(Arc::new(FsStorage::new()), &path, opts(), |r| {
        if r.seq == BAD {
            Err("record rejected".into())
        } else {
            Ok(())
        }
    })
    .expect_err("the closure's failure must fail the open");
    assert_eq!(err.to_string(), immediate.to_string());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn without_a_failure_the_open_settles_the_tail_and_reports_its_duration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let before = torn_log(&path);
    let mut taking = Deferring {
        bad: None,
        ..Deferring::default()
    };
    // Never the record at BAD: take a log shorter than it.
    let short = dir.path().join("short.log");
    let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &short, opts(), |_| Ok(())).unwrap();
    for i in 0..BAD {
        wal.append(&i.to_le_bytes()).unwrap();
    }
    drop(wal);
    let (wal, report) =
        Wal::open_with(Arc::new(FsStorage::new()), &short, opts(), &mut taking).unwrap();
    assert_eq!(taking.taken, BAD);
    assert_eq!(report.records, BAD);
    assert!(report.duration > std::time::Duration::ZERO);
    drop(wal);

    // And the torn log's tail is cut when nothing fails before it.
    let (_wal, report) = Wal::open(Arc::new(FsStorage::new()), &path, opts(), |_| Ok(())).unwrap();
    assert_eq!(report.records, u64::from(RECORDS));
    let cut = report.truncated.expect("the torn tail is cut");
    assert_eq!(cut.bytes, 6);
    assert_eq!(std::fs::read(&path).unwrap().len(), before.len() - 6);
}
