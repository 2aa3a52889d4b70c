//! A batch's encoder callbacks: the typed push hands the encoder's own
//! error back and the batch stays usable; the boxed push boxes the same.

use super::{BAD, Unwanted, refuse, storage};
use wal_io::{CallbackError, Wal, WalError, WalOptions};

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
