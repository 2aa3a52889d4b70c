//! What [`inspect`](crate::inspect::inspect) reports: the
//! [`Inspection`] of a log, with the [`Verdict`] of a strict open, the
//! [`SalvagePlan`] of a salvaging one, the [`SidecarState`] and where
//! replay [`Stop`]ped. Re-exported by [`crate::inspect`].

use std::path::PathBuf;

use wal_format::{FileHeader, FormatError};

use crate::error::{VouchedBy, WalError};

/// What [`Wal::open`](crate::Wal::open) would do with the log, in strict
/// mode (the default).
#[derive(Debug)]
#[non_exhaustive]
pub enum Verdict {
    /// Every byte after the header is a valid frame, and nothing vouched
    /// durable is missing: the open changes nothing.
    Clean,
    /// The file is empty or a strict prefix of a header (a creation cut
    /// short): the open would initialise it as a new log.
    Initialize,
    /// A torn tail: the open would cut the file back to `cut_to`, removing
    /// `bytes` bytes that nothing proves were ever synced.
    TornTail {
        /// End of the last valid frame: the file's length after the open.
        cut_to: u64,
        /// Bytes the open would remove.
        bytes: u64,
    },
    /// Nothing but zeros follows the last valid frame, and nothing vouched
    /// durable is missing: space a writer preallocated
    /// ([`WalOptions::preallocate`](crate::WalOptions::preallocate)). Only
    /// when the options preallocate (an open without preallocation cuts
    /// them as a [`Verdict::TornTail`]): the open keeps them for later
    /// appends.
    Preallocated {
        /// End of the last valid frame.
        records_end: u64,
        /// Bytes of zeros after it.
        bytes: u64,
    },
    /// The open would refuse the log, touching no byte: synced data is
    /// damaged ([`WalError::Corrupt`]) or missing ([`WalError::Truncated`]),
    /// or a valid record is longer than the bound
    /// ([`WalError::RecordBeyondBound`]). This is the error it would return.
    Refused(WalError),
}

/// What an open in [`RecoveryMode::Salvage`](crate::RecoveryMode::Salvage)
/// would keep and copy aside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SalvagePlan {
    /// The log's length after the salvage: the end of its last valid frame.
    pub keep_to: u64,
    /// Records kept (seals not counted).
    pub records: u64,
    /// The file every byte from `keep_to` on would be copied to first, and
    /// how many bytes; `None` when nothing follows the valid frames (the
    /// file was cut short: nothing is left to copy or cut).
    pub copy: Option<(PathBuf, u64)>,
}

/// What the lock file `<log>.lock` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SidecarState {
    /// There is no lock file.
    Absent,
    /// An empty lock file, or a claim cut short or damaged.
    Empty,
    /// A valid claim: the log whose header has `file_id` was durable up to
    /// byte `durable_len`.
    Claim {
        /// The `file_id` of the log the claim is about.
        file_id: u64,
        /// Bytes of that log, header included, known durable.
        durable_len: u64,
    },
    /// Bytes that are not a claim: another program's file, never written
    /// to by an open.
    Foreign,
}

/// Where replay stopped before the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stop {
    /// Byte offset of the first frame that is not valid.
    pub offset: u64,
    /// The sequence number it would have had.
    pub seq: u64,
    /// What is wrong with it (`None`: the file ends inside it).
    pub cause: Option<FormatError>,
}

/// Everything [`inspect`](crate::inspect::inspect) found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspection {
    /// The log's path, symbolic links resolved, as the open would use it.
    pub path: PathBuf,
    /// The file's length in bytes.
    pub file_len: u64,
    /// The header, `None` for an empty file or a header cut short.
    pub header: Option<FileHeader>,
    /// Valid records (seals not counted).
    pub records: u64,
    /// Valid seals.
    pub seals: u64,
    /// End of the last valid frame.
    pub end: u64,
    /// End of the last valid frame that holds records.
    pub records_end: u64,
    /// Sequence number after the last valid frame.
    pub next_seq: u64,
    /// Whether the last valid frame holds records (no seal after them: the
    /// log was not closed).
    pub unsealed: bool,
    /// The length vouched durable before this open: the larger of the
    /// header's `vouched_len` and the sidecar's claim about this file.
    pub vouched_len: u64,
    /// What vouched for `vouched_len`.
    pub vouched_by: VouchedBy,
    /// What the lock file holds.
    pub sidecar: SidecarState,
    /// Where replay stopped before the end of the file, if it did.
    pub stop: Option<Stop>,
    /// What a strict open would do.
    pub verdict: Verdict,
    /// What an open in salvage mode would keep, when a strict open would
    /// refuse for damaged or missing synced data.
    pub salvage: Option<SalvagePlan>,
}
