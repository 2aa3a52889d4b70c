//! `CallbackError` against `WalError`: boxing a typed error gives the boxed
//! entry point's error, a failure of the log itself is the `Wal` variant,
//! and `into_callback` splits the callback's error from the log's.

use super::{BAD, Unwanted, log_of, refuse, storage};
use wal_io::{CallbackError, Wal, WalError, WalOptions};

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
