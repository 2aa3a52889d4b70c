//! What [`Wal::open`](crate::Wal::open) found and did: the recovery report.

use std::path::PathBuf;
use std::time::Duration;

use wal_format::FormatError;

/// One record handed to the replay callback of [`Wal::open`](crate::Wal::open).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ReplayRecord<'a> {
    /// The record's sequence number.
    pub seq: u64,
    /// Byte offset of the record's frame in the file.
    pub offset: u64,
    /// The payload.
    pub payload: &'a [u8],
}

/// What [`Wal::open`](crate::Wal::open) found and did.
///
/// Two reports are equal when recovery found and did the same things:
/// [`duration`](Self::duration), a measurement, is not compared.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The file did not exist and was created.
    pub created: bool,
    /// The file was empty or held only part of a header (a creation cut
    /// short) and was initialised as a new log.
    pub initialized: bool,
    /// Records replayed (seals, which hold no application data, are not
    /// counted).
    pub records: u64,
    /// Bytes of valid log after recovery, header included.
    pub bytes: u64,
    /// A damaged or incomplete tail that was cut off.
    pub truncated: Option<Truncation>,
    /// Bytes of zeros after the last record, taken for preallocated space
    /// and kept for later appends: only with
    /// [`WalOptions::preallocate`](crate::WalOptions::preallocate) set
    /// (without it, they are cut off and reported in `truncated`). They
    /// are there when the log was not closed (its process was killed, or
    /// the machine lost power) while it had space preallocated, or when a
    /// power loss kept a file's new length but not its last data.
    pub preallocated: u64,
    /// A stale temporary file of an interrupted rewrite that was removed.
    pub removed_temp: Option<PathBuf>,
    /// A file at the temporary path that was not recognisably a leftover of
    /// this log: renamed to this path, its bytes intact, so that it cannot
    /// block rewrites. Inspect it, then delete it.
    pub set_aside_temp: Option<PathBuf>,
    /// How long the open took, replay included (a store's open reports
    /// its whole open).
    pub duration: Duration,
}

impl PartialEq for RecoveryReport {
    fn eq(&self, other: &Self) -> bool {
        // Destructured, so that a new field must be placed here.
        let Self {
            created,
            initialized,
            records,
            bytes,
            truncated,
            preallocated,
            removed_temp,
            set_aside_temp,
            duration: _,
        } = self;
        *created == other.created
            && *initialized == other.initialized
            && *records == other.records
            && *bytes == other.bytes
            && *truncated == other.truncated
            && *preallocated == other.preallocated
            && *removed_temp == other.removed_temp
            && *set_aside_temp == other.set_aside_temp
    }
}

impl Eq for RecoveryReport {}

/// A tail cut off by recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Truncation {
    /// Offset the file was truncated to: the end of the last valid record.
    pub offset: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// What was wrong with the first removed bytes (`None`: they ended
    /// inside a frame).
    pub cause: Option<FormatError>,
    /// Why it was safe to cut.
    pub reason: TruncationReason,
}

/// Why recovery cut a tail off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TruncationReason {
    /// No later valid record proves the cut bytes were ever synced: they
    /// are an interrupted write.
    TornTail,
    /// The bytes were synced and damaged; in salvage mode they were first
    /// copied into this file.
    Salvaged {
        /// The sibling file holding every byte from the damage to the end.
        copy: PathBuf,
    },
    /// In salvage mode: the file already ended before the length its header
    /// or its sidecar vouched durable (it was cut short while closed), so
    /// synced records were missing and nothing was left to copy or cut.
    /// `bytes` is then 0.
    CutShort {
        /// The length that had been vouched durable.
        vouched_len: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_compare_what_recovery_did_not_how_long_it_took() {
        let a = RecoveryReport {
            records: 3,
            duration: Duration::from_millis(5),
            ..RecoveryReport::default()
        };
        let mut b = a.clone();
        b.duration = Duration::from_secs(1);
        assert_eq!(a, b);
        b.records = 4;
        assert_ne!(a, b);
        b.records = 3;
        b.truncated = Some(Truncation {
            offset: 60,
            bytes: 1,
            cause: None,
            reason: TruncationReason::TornTail,
        });
        assert_ne!(a, b);
    }
}
