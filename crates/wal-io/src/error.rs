//! The one error type of this crate, [`WalError`], and what vouched for a
//! length it reports missing ([`VouchedBy`]). [`CallbackError`], which hands
//! a callback's own error back unboxed, is in [`crate::callback_error`] and
//! re-exported here.

use std::io;
use std::path::PathBuf;

use wal_format::FormatError;

pub use crate::callback_error::CallbackError;

/// A boxed error from caller-supplied code (a replay or encode callback),
/// as the boxed entry points ([`Wal::open`](crate::Wal::open),
/// [`Batch::push_with`](crate::Batch::push_with), ...) take it. The
/// `_typed` ones take any error type and hand it back unboxed in a
/// [`CallbackError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong opening, appending to or rewriting a log.
///
/// Converts into `io::Error` (with this value reachable through
/// [`io::Error::get_ref`]) for callers whose API speaks `io::Result`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// A storage operation failed.
    #[error("{op} {path} failed: {source}")]
    Io {
        /// What was being done, e.g. "writing to".
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another handle, in this process or another, holds the log open.
    #[error(
        "{path} is already open by another writer (in this process or another); close that handle first"
    )]
    AlreadyOpen {
        /// The log's path.
        path: PathBuf,
    },
    /// The file is not a log (wrong magic); it was left untouched.
    #[error(
        "{path} is not a log file written by this library; it was left untouched (check the path)"
    )]
    NotALog {
        /// The file's path.
        path: PathBuf,
    },
    /// The header is damaged or from a newer format version; the file was
    /// left untouched.
    #[error("{path} has an unusable log header ({source}); it was left untouched")]
    BadHeader {
        /// The file's path.
        path: PathBuf,
        /// What is wrong with the header.
        #[source]
        source: FormatError,
    },
    /// The log was written by another application or codec; the file was
    /// left untouched.
    #[error(
        "{path} was written by application {found:?}, not {expected:?}; it was left untouched (open it with the matching application or types)"
    )]
    WrongApp {
        /// The tag this reader expects.
        expected: String,
        /// The tag found in the header.
        found: String,
        /// The file's path.
        path: PathBuf,
    },
    /// The log was written by a newer version of the application's schema;
    /// the file was left untouched.
    #[error(
        "{path} was written with schema version {found}, newer than the {supported} this build reads; it was left untouched (upgrade the application)"
    )]
    NewerAppVersion {
        /// The version in the header.
        found: u32,
        /// The newest version this reader accepts ([`WalOptions::app_version`](crate::WalOptions::app_version)).
        supported: u32,
        /// The file's path.
        path: PathBuf,
    },
    /// Synced data is damaged: a later valid record proves that the record
    /// at `offset` had been made durable, so this is not a torn write. The
    /// file was left untouched.
    #[error(
        "{path} is corrupt at byte {offset} (record {seq}): a valid record at byte {vouched_by} proves this data had been synced, so it is not a torn write. The file was left untouched; restore it from a backup, or open it in salvage mode to keep the {valid_records} records before the damage after the bytes from {offset} on are copied to a sibling file"
    )]
    Corrupt {
        /// The log's path.
        path: PathBuf,
        /// Byte offset of the first damaged record.
        offset: u64,
        /// Sequence number of the first damaged record.
        seq: u64,
        /// Byte offset of the later record that vouches for the damaged one.
        vouched_by: u64,
        /// Valid records before the damage.
        valid_records: u64,
        /// What is wrong with the damaged bytes (`None`: a frame cut short).
        #[source]
        source: Option<FormatError>,
    },
    /// Synced data is missing or damaged at the end of the valid records:
    /// the header or the sidecar vouched that the log was durable up to
    /// `vouched_len`, but its valid frames end at `offset` (the file was
    /// cut short, or its last synced records damaged, where no later record
    /// could vouch for them). The file was left untouched.
    #[error(
        "{path} lost synced data: its valid records end at byte {offset} (the file has {file_len} bytes), but {by} vouches that {vouched_len} bytes had been synced, so this is not a torn write. The file was left untouched; restore it from a backup, or open it in salvage mode to keep the {valid_records} records before byte {offset}{hint}",
        hint = by.hint()
    )]
    Truncated {
        /// The log's path.
        path: PathBuf,
        /// End of the last valid frame.
        offset: u64,
        /// The file's length.
        file_len: u64,
        /// The length vouched durable.
        vouched_len: u64,
        /// What vouched for it.
        by: VouchedBy,
        /// Valid records before `offset`.
        valid_records: u64,
        /// What is wrong with the bytes at `offset`, if any follow it
        /// (`None`: the file ends there, or inside a frame).
        #[source]
        source: Option<FormatError>,
    },
    /// The log holds a complete, valid record longer than this reader's
    /// [`WalOptions::max_record_len`](crate::WalOptions::max_record_len): it
    /// is not damage, and the file was left untouched.
    #[error(
        "{path} holds a valid record of {len} bytes at byte {offset}, longer than this reader's max_record_len of {max}; it was left untouched: open it with max_record_len of at least {len} (the writer's bound)"
    )]
    RecordBeyondBound {
        /// The log's path.
        path: PathBuf,
        /// Byte offset of the record's frame.
        offset: u64,
        /// The record's payload length.
        len: u64,
        /// This reader's bound.
        max: u32,
    },
    /// The log file has more than one name (hard link): a second name would
    /// let a second writer in, and a rewrite would split the names. The
    /// file was left untouched.
    #[error(
        "{path} has {links} hard links; a log must have one name (a second name would let a second writer in, and a compaction would leave the other name on the old file): it was left untouched; remove the other names, or copy the file instead of linking it"
    )]
    HardLinked {
        /// The log's path.
        path: PathBuf,
        /// Its number of names.
        links: u64,
    },
    /// The log was opened by another process, which this one was forked
    /// from: only the process that opened it may sync, seal, close or
    /// rewrite it (and a forked child must not append to it either).
    #[error(
        "{path} was opened by process {owner}, not this one ({current}): a forked child must not use its parent's log; open the log in the child after the parent closed it"
    )]
    WrongProcess {
        /// The log's path.
        path: PathBuf,
        /// The process that opened it.
        owner: u32,
        /// This process.
        current: u32,
    },
    /// A copy of the log ([`Wal::write_copy`](crate::Wal::write_copy)) was
    /// to be written where a file exists, without leave to replace it;
    /// nothing was written.
    #[error(
        "{path} already exists; it was left untouched and nothing was written: choose another path, or ask to overwrite it"
    )]
    DestinationExists {
        /// The destination's path.
        path: PathBuf,
    },
    /// A copy of the log ([`Wal::write_copy`](crate::Wal::write_copy)) was
    /// to be written over the log itself (by its own path or through a
    /// symbolic link), which it never replaces; nothing was written.
    #[error(
        "{path} is the log being copied; a copy never replaces its own source, even when asked to overwrite: nothing was written, choose another path"
    )]
    CopyOntoSource {
        /// The log's path.
        path: PathBuf,
    },
    /// The replay callback rejected a record; the file was left untouched.
    /// (The `_typed` entry points return [`CallbackError::Replay`] instead,
    /// with the callback's error unboxed.)
    #[error(
        "record {seq} at byte {offset} of {path} was rejected: {source}; the file was left untouched"
    )]
    Replay {
        /// The log's path.
        path: PathBuf,
        /// The record's sequence number.
        seq: u64,
        /// The record's byte offset.
        offset: u64,
        /// The callback's error.
        #[source]
        source: BoxError,
    },
    /// An encode callback failed; nothing was written. (The `_typed`
    /// entry points return [`CallbackError::Encode`] instead, with the
    /// callback's error unboxed.)
    #[error("encoding a record failed; nothing was written")]
    Encode {
        /// The callback's error.
        #[source]
        source: BoxError,
    },
    /// A record is larger than the configured bound; nothing was written.
    #[error(
        "a record of {len} bytes exceeds the limit of {max} bytes; nothing was written (raise max_record_len to store it)"
    )]
    RecordTooLarge {
        /// The payload's length.
        len: u64,
        /// The bound in force.
        max: u32,
    },
    /// A seal note longer than a seal carries; the note in force is kept.
    #[error(
        "a seal note of {len} bytes exceeds the limit of {max} bytes; nothing was changed (keep the note to {max} bytes)"
    )]
    SealNoteTooLong {
        /// The note's length.
        len: usize,
        /// The longest note a seal carries.
        max: usize,
    },
    /// An earlier write, sync or rewrite failed, so the log refuses writes:
    /// what reached the disk is unknown until it is reopened.
    #[error(
        "the log refuses writes since an earlier failure ({first}); drop it and reopen to re-validate from disk"
    )]
    Poisoned {
        /// A description of the first failure.
        first: String,
    },
}

/// What vouched that a log was durable up to some length; see
/// [`WalError::Truncated`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VouchedBy {
    /// The log's header: a rewrite (compaction) wrote and synced the file
    /// at that length.
    Header,
    /// The sidecar file beside the log (`<log>.lock`), written when the
    /// log was last opened, closed or rewritten.
    Sidecar {
        /// The sidecar's path.
        path: PathBuf,
    },
}

impl VouchedBy {
    /// What a user who replaced the log on purpose should do.
    fn hint(&self) -> String {
        match self {
            Self::Header => String::new(),
            Self::Sidecar { path } => format!(
                ". If you replaced the log with an older copy on purpose, delete {} and open it again",
                path.display()
            ),
        }
    }
}

impl std::fmt::Display for VouchedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Header => f.write_str("its header"),
            Self::Sidecar { path } => write!(f, "the sidecar file {}", path.display()),
        }
    }
}

impl WalError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The `io::ErrorKind` this error maps to.
    #[must_use]
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Self::Io { source, .. } => source.kind(),
            Self::AlreadyOpen { .. } => io::ErrorKind::WouldBlock,
            Self::DestinationExists { .. } | Self::CopyOntoSource { .. } => {
                io::ErrorKind::AlreadyExists
            }
            Self::RecordBeyondBound { .. }
            | Self::HardLinked { .. }
            | Self::SealNoteTooLong { .. } => io::ErrorKind::InvalidInput,
            Self::WrongProcess { .. } => io::ErrorKind::PermissionDenied,
            Self::NotALog { .. }
            | Self::BadHeader { .. }
            | Self::WrongApp { .. }
            | Self::NewerAppVersion { .. }
            | Self::Corrupt { .. }
            | Self::Truncated { .. }
            | Self::Replay { .. }
            | Self::Encode { .. }
            | Self::RecordTooLarge { .. } => io::ErrorKind::InvalidData,
            Self::Poisoned { .. } => io::ErrorKind::Other,
        }
    }
}

/// Names what was being done, and to which file, when an I/O call fails:
/// `file.sync_data().context("syncing", &path)?`.
pub(crate) trait Context<T> {
    /// The result, or the error as [`WalError::Io`] with `op` and `path`.
    fn context(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T, WalError>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T, WalError> {
        self.map_err(|e| WalError::io(op, path, e))
    }
}

impl From<WalError> for io::Error {
    fn from(e: WalError) -> Self {
        io::Error::new(e.kind(), e)
    }
}
