//! The `_typed` entry points hand a callback's own error back by value, in
//! a `CallbackError`, with the record it belongs to; the boxed entry points
//! still return the same failure boxed in a `WalError`, in the same words.

use std::path::Path;
use std::sync::Arc;

use wal_io::inspect::{ReadOnlyFs, inspect, inspect_typed};
use wal_io::{
    CallbackError, FollowEvent, FsStorage, Replay, ReplayFailure, ReplayRecord, Visibility, Wal,
    WalError, WalFollower, WalOptions,
};

/// A caller's own error type: not boxed, not `'static`-erased, and
/// compared by value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payload {payload:?} is not wanted")]
struct Unwanted {
    payload: Vec<u8>,
}

/// The payload every callback here refuses.
const BAD: &[u8] = b"bad";

fn refuse(payload: &[u8]) -> Result<(), Unwanted> {
    if payload == BAD {
        Err(Unwanted {
            payload: payload.to_vec(),
        })
    } else {
        Ok(())
    }
}

fn storage() -> Arc<FsStorage> {
    Arc::new(FsStorage::new())
}

/// A closed log of `payloads`; returns each record's (seq, offset) as a
/// replay reports it, and the file's bytes.
fn log_of(path: &Path, payloads: &[&[u8]]) -> (Vec<(u64, u64)>, Vec<u8>) {
    let (mut wal, _) = Wal::open(storage(), path, WalOptions::default(), |_| Ok(())).unwrap();
    for p in payloads {
        wal.append(p).unwrap();
    }
    wal.close().unwrap();
    let mut at = Vec::new();
    let (_wal, _) = Wal::open(storage(), path, WalOptions::default(), |r| {
        at.push((r.seq, r.offset));
        Ok(())
    })
    .unwrap();
    drop(_wal);
    (at, std::fs::read(path).unwrap())
}

/// The parts of a typed replay failure, or a panic naming what came back.
fn replay_parts<T: std::fmt::Debug>(
    got: Result<T, CallbackError<Unwanted>>,
) -> (u64, u64, Unwanted) {
    match got {
        Err(CallbackError::Replay {
            seq,
            offset,
            source,
            ..
        }) => (seq, offset, source),
        other => panic!("expected the callback's own error, got {other:?}"),
    }
}

#[test]
fn a_typed_open_hands_back_the_callbacks_error_by_value_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (at, before) = log_of(&path, &[b"one", b"two", BAD, b"four"]);

    let typed = Wal::open_typed(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload)
    });
    let typed = typed.map(|_| ()).unwrap_err();
    assert_eq!(typed.kind(), std::io::ErrorKind::InvalidData);
    let message = typed.to_string();
    let (seq, offset, source) = replay_parts::<()>(Err(typed));
    assert_eq!((seq, offset), at[2]);
    assert_eq!(
        source,
        Unwanted {
            payload: BAD.to_vec()
        }
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");

    // The boxed open fails the same way, in the same words.
    let boxed = Wal::open(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload).map_err(Into::into)
    })
    .map(|_| ())
    .unwrap_err();
    let WalError::Replay {
        seq: bseq,
        offset: boffset,
        source: bsource,
        ..
    } = &boxed
    else {
        panic!("expected a replay error, got {boxed}");
    };
    assert_eq!((*bseq, *boffset), at[2]);
    assert_eq!(
        bsource.downcast_ref::<Unwanted>(),
        Some(&Unwanted {
            payload: BAD.to_vec()
        })
    );
    assert_eq!(boxed.to_string(), message);
    assert_eq!(boxed.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");
}

#[test]
fn boxing_a_typed_error_gives_the_boxed_entry_points_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    log_of(&path, &[b"one", BAD]);
    let typed = Wal::open_typed(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload)
    })
    .map(|_| ())
    .unwrap_err();
    let boxed = Wal::open(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload).map_err(Into::into)
    })
    .map(|_| ())
    .unwrap_err();
    let converted = WalError::from(typed);
    assert!(matches!(converted, WalError::Replay { .. }));
    assert_eq!(converted.to_string(), boxed.to_string());
    assert_eq!(format!("{converted:?}"), format!("{boxed:?}"));
}

#[test]
fn a_failure_of_the_log_itself_is_the_wal_variant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-log");
    std::fs::write(&path, b"{\"key\": 1}").unwrap();
    let typed = Wal::open_typed(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload)
    })
    .map(|_| ())
    .unwrap_err();
    let boxed = Wal::open(storage(), &path, WalOptions::default(), |_| Ok(()))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(
        &typed,
        CallbackError::Wal(WalError::NotALog { .. })
    ));
    assert_eq!(typed.kind(), boxed.kind());
    assert_eq!(typed.to_string(), boxed.to_string());
}

/// Takes every record and reports the refused one only from `finish`, as
/// a replayer decoding on another thread does.
#[derive(Default)]
struct Deferring {
    bad: Option<ReplayFailure<Unwanted>>,
}

impl Replay<Unwanted> for Deferring {
    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), Unwanted> {
        if self.bad.is_none()
            && let Err(source) = refuse(record.payload)
        {
            self.bad = Some(ReplayFailure {
                seq: record.seq,
                offset: record.offset,
                source,
            });
        }
        Ok(())
    }

    fn failed(&self) -> bool {
        self.bad.is_some()
    }

    fn finish(&mut self) -> Result<(), ReplayFailure<Unwanted>> {
        self.bad.take().map_or(Ok(()), Err)
    }
}

#[test]
fn a_typed_replayer_s_deferred_failure_comes_back_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (at, before) = log_of(&path, &[b"one", BAD, b"three"]);
    let got = Wal::open_with_typed(
        storage(),
        &path,
        WalOptions::default(),
        &mut Deferring::default(),
    );
    let (seq, offset, source) = replay_parts(got);
    assert_eq!((seq, offset), at[1]);
    assert_eq!(source.payload, BAD);
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");

    // Without the refused record the same replayer opens the log.
    let clean = dir.path().join("clean.log");
    log_of(&clean, &[b"one", b"two"]);
    let (_wal, report) = Wal::open_with_typed(
        storage(),
        &clean,
        WalOptions::default(),
        &mut Deferring::default(),
    )
    .unwrap();
    assert_eq!(report.records, 2);
}

#[test]
fn a_typed_push_hands_back_the_encoders_error_and_the_batch_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let opts = WalOptions {
        max_record_len: 16,
        ..WalOptions::default()
    };
    let (mut wal, _) = Wal::open(storage(), &path, opts.clone(), |_| Ok(())).unwrap();
    let mut batch = wal.batch().unwrap();
    batch
        .push_with_typed(|buf| {
            buf.extend_from_slice(b"kept");
            refuse(b"kept")
        })
        .unwrap();
    let refused = batch.push_with_typed(|buf| {
        buf.extend_from_slice(b"half written");
        refuse(BAD)
    });
    let Err(CallbackError::Encode { source }) = refused else {
        panic!("expected the encoder's own error, got {refused:?}");
    };
    assert_eq!(source.payload, BAD);
    // A record over the bound is the log's failure, not the encoder's.
    let too_large = batch.push_with_typed(|buf| {
        buf.extend_from_slice(&[7; 17]);
        Ok::<(), Unwanted>(())
    });
    assert!(
        matches!(
            too_large,
            Err(CallbackError::Wal(WalError::RecordTooLarge {
                len: 17,
                max: 16
            }))
        ),
        "{too_large:?}"
    );
    batch.push(b"also kept").unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch.commit().unwrap(), 0..2);
    drop(wal);

    let mut records = Vec::new();
    Wal::open(storage(), &path, opts, |r| {
        records.push(r.payload.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(records, [b"kept".to_vec(), b"also kept".to_vec()]);
}

#[test]
fn the_boxed_push_still_boxes_the_encoders_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (mut wal, _) = Wal::open(storage(), &path, WalOptions::default(), |_| Ok(())).unwrap();
    let mut batch = wal.batch().unwrap();
    let err = batch.push_with(|_| refuse(BAD)).unwrap_err();
    let WalError::Encode { source } = &err else {
        panic!("expected an encode error, got {err}");
    };
    assert_eq!(
        source.downcast_ref::<Unwanted>().map(|u| &u.payload[..]),
        Some(BAD)
    );
    assert_eq!(
        err.to_string(),
        "encoding a record failed; nothing was written"
    );
    assert!(batch.is_empty());

    // The typed push's error, boxed, is the same.
    let typed = batch.push_with_typed(|_| refuse(BAD)).unwrap_err();
    assert_eq!(typed.to_string(), err.to_string());
    assert_eq!(format!("{:?}", WalError::from(typed)), format!("{err:?}"));
}

#[test]
fn a_typed_follower_hands_back_the_callbacks_error_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (at, before) = log_of(&path, &[b"one", BAD]);
    let opened = WalFollower::open_typed(
        storage(),
        &path,
        WalOptions::default(),
        Visibility::Written,
        |r| refuse(r.payload),
    );
    let (seq, offset, source) = replay_parts(opened);
    assert_eq!((seq, offset), at[1]);
    assert_eq!(source.payload, BAD);

    // The boxed open: the same failure, boxed.
    let boxed = WalFollower::open(
        storage(),
        &path,
        WalOptions::default(),
        Visibility::Written,
        |r| refuse(r.payload).map_err(Into::into),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(boxed, WalError::Replay { seq, offset, .. } if (seq, offset) == at[1]));
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");
}

#[test]
fn a_typed_poll_hands_back_the_callbacks_error_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (mut wal, _) = Wal::open(storage(), &path, WalOptions::default(), |_| Ok(())).unwrap();
    wal.append(b"one").unwrap();
    let (mut follower, _) = WalFollower::open_typed(
        storage(),
        &path,
        WalOptions::default(),
        Visibility::Written,
        |r| refuse(r.payload),
    )
    .unwrap();
    let seq = wal.append(BAD).unwrap();
    let polled = follower.poll_typed(|event| match event {
        FollowEvent::Record(r) => refuse(r.payload),
        FollowEvent::Reset => Ok(()),
    });
    let (got_seq, _, source) = replay_parts(polled);
    assert_eq!(got_seq, seq);
    assert_eq!(source.payload, BAD);
    // The boxed poll is refused at the same record.
    let boxed = follower.poll(|event| match event {
        FollowEvent::Record(r) => refuse(r.payload).map_err(Into::into),
        FollowEvent::Reset => Ok(()),
    });
    assert!(matches!(boxed, Err(WalError::Replay { seq: s, .. }) if s == seq));
}

#[test]
fn a_typed_inspection_hands_back_the_callbacks_error_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (at, _) = log_of(&path, &[BAD]);
    let found = inspect_typed(&ReadOnlyFs, &path, &WalOptions::default(), |r| {
        refuse(r.payload)
    });
    let (seq, offset, source) = replay_parts(found);
    assert_eq!((seq, offset), at[0]);
    assert_eq!(source.payload, BAD);
    let boxed = inspect(&ReadOnlyFs, &path, &WalOptions::default(), |r| {
        refuse(r.payload).map_err(Into::into)
    });
    assert!(matches!(boxed, Err(WalError::Replay { seq, .. }) if seq == at[0].0));
}

#[test]
fn into_callback_splits_the_callbacks_error_from_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    log_of(&path, &[BAD]);
    let replayed = Wal::open_typed(storage(), &path, WalOptions::default(), |r| {
        refuse(r.payload)
    })
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        replayed.into_callback().map_err(|e| e.to_string()),
        Ok(Unwanted {
            payload: BAD.to_vec()
        })
    );

    let (mut wal, _) = Wal::open(storage(), &path, WalOptions::default(), |_| Ok(())).unwrap();
    let mut batch = wal.batch().unwrap();
    let encoded = batch.push_with_typed(|_| refuse(BAD)).unwrap_err();
    assert_eq!(encoded.into_callback().unwrap().payload, BAD);
    drop(wal);

    let not_a_log = dir.path().join("not-a-log");
    std::fs::write(&not_a_log, b"plain text").unwrap();
    let refused = Wal::open_typed(storage(), &not_a_log, WalOptions::default(), |r| {
        refuse(r.payload)
    })
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(
        refused.into_callback(),
        Err(WalError::NotALog { .. })
    ));
}
