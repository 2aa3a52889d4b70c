//! The `_typed` entry points hand a callback's own error back by value, in
//! a `CallbackError`, with the record it belongs to; the boxed entry points
//! still return the same failure boxed in a `WalError`, in the same words.
//!
//! [`replay`] covers the replay callbacks (open, a `Replay` with a deferred
//! failure, a follower's open and poll, an inspection), [`encode`] a
//! batch's encoder callbacks, [`conversion`] turning a `CallbackError`
//! into a `WalError` and back into the callback's own error. This module
//! holds what they share: the refused payload and the error refusing it.

mod conversion;
mod encode;
mod replay;

use std::path::Path;
use std::sync::Arc;

use wal_io::{CallbackError, FsStorage, Wal, WalOptions};

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
