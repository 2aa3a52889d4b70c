//! Where [`Wal::open_with`](crate::Wal::open_with) sends the records it
//! replays: the [`Replay`] trait, for replayers that process records on
//! other threads and learn of a failure only later.

use crate::error::BoxError;
use crate::report::ReplayRecord;

/// Takes the records an open replays, in log order.
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
pub trait Replay {
    /// Called once before the first record with the file's length (an
    /// upper bound on the bytes any record can describe).
    fn begin(&mut self, file_len: u64) {
        let _ = file_len;
    }

    /// Takes one record. An error fails the open at this record.
    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), BoxError>;

    /// Whether a record already taken has failed: the open stops reading
    /// and calls [`finish`](Replay::finish). Polled between runs of frames,
    /// so a few more records may be taken after a failure.
    fn failed(&self) -> bool {
        false
    }

    /// Called once after the last record taken: waits for every record's
    /// processing and reports the first failure, in log order.
    fn finish(&mut self) -> Result<(), ReplayFailure> {
        Ok(())
    }
}

/// A record whose processing failed after [`Replay::record`] took it.
#[derive(Debug)]
pub struct ReplayFailure {
    /// The record's sequence number.
    pub seq: u64,
    /// Byte offset of the record's frame.
    pub offset: u64,
    /// What went wrong.
    pub source: BoxError,
}

/// A closure as a [`Replay`]: each record processed before the next.
pub(crate) struct Each<F>(pub(crate) F);

impl<F> Replay for Each<F>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
{
    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), BoxError> {
        (self.0)(record)
    }
}
