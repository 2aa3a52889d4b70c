//! The replay callbacks' own errors, by value, with their record: a typed
//! open, a typed `Replay` whose failure comes from `finish`, a typed
//! follower's open and poll, a typed inspection; and the boxed entry
//! points failing the same way.

use super::{BAD, Unwanted, log_of, refuse, replay_parts, storage};
use wal_io::inspect::{ReadOnlyFs, inspect, inspect_typed};
use wal_io::{
    FollowEvent, Replay, ReplayFailure, ReplayRecord, Visibility, Wal, WalError, WalFollower,
    WalOptions,
};

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
