//! Where [`Wal::open_with`](crate::Wal::open_with) and
//! [`Wal::open_with_typed`](crate::Wal::open_with_typed) send the records
//! they replay: the [`Replay`] trait, for replayers that process records
//! on other threads and learn of a failure only later.

use crate::error::BoxError;
use crate::report::ReplayRecord;

/// Takes the records an open replays, in log order, failing with errors
/// of type `E`.
///
/// A closure `FnMut(ReplayRecord<'_>) -> Result<(), BoxError>` given to
/// [`Wal::open`](crate::Wal::open) processes each record before the next is
/// read. A `Replay` may instead hand records to other threads (decoding and
/// applying them while the log is still being read) and report a failure
/// later: [`failed`](Replay::failed) stops the reading early, and
/// [`finish`](Replay::finish), called after the last valid record and
/// before the open changes any byte of the file, reports the first failure
/// with the record it belongs to. The open then fails exactly as if
/// [`record`](Replay::record) had failed at that record: the same
/// [`WalError::Replay`](crate::WalError::Replay), the file untouched.
///
/// `E` is [`BoxError`] unless you say otherwise: `impl Replay for T` is
/// what [`Wal::open_with`](crate::Wal::open_with) takes, and its failures
/// come back boxed in a [`WalError::Replay`](crate::WalError::Replay).
/// With your own error type, `impl Replay<MyError> for T` and open with
/// [`Wal::open_with_typed`](crate::Wal::open_with_typed): the failure
/// comes back as your `MyError`, by value, in a
/// [`CallbackError::Replay`](crate::CallbackError::Replay), with no
/// downcast.
pub trait Replay<E = BoxError> {
    /// Called once before the first record with the file's length (an
    /// upper bound on the bytes any record can describe).
    fn begin(&mut self, file_len: u64) {
        let _ = file_len;
    }

    /// Called after [`begin`](Replay::begin) and before the first record
    /// when the file ends with a seal carrying a note
    /// ([`Wal::set_seal_note`](crate::Wal::set_seal_note)): the note, as
    /// the last writer left it when it closed the log. Its checksum
    /// verified, but the records it speaks of are not read yet: use it as
    /// a hint (to size what the records will fill), never to judge them.
    fn seal_note(&mut self, note: &[u8]) {
        let _ = note;
    }

    /// Takes one record. An error fails the open at this record.
    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), E>;

    /// Whether a record already taken has failed: the open stops reading
    /// and calls [`finish`](Replay::finish). Polled between runs of frames,
    /// so a few more records may be taken after a failure.
    fn failed(&self) -> bool {
        false
    }

    /// Called once after the last record taken: waits for every record's
    /// processing and reports the first failure, in log order.
    fn finish(&mut self) -> Result<(), ReplayFailure<E>> {
        Ok(())
    }
}

/// A record whose processing failed after [`Replay::record`] took it,
/// with the replayer's error (`E`, [`BoxError`] unless said otherwise).
#[derive(Debug)]
pub struct ReplayFailure<E = BoxError> {
    /// The record's sequence number.
    pub seq: u64,
    /// Byte offset of the record's frame.
    pub offset: u64,
    /// What went wrong.
    pub source: E,
}

/// A closure as a [`Replay`]: each record processed before the next.
pub(crate) struct Each<F>(pub(crate) F);

impl<E, F> Replay<E> for Each<F>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), E>,
{
    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), E> {
        (self.0)(record)
    }
}
