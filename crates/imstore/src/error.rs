//! The one error type of this crate, and the exit status of each error.

use std::io;
use std::path::PathBuf;

use wal_io::WalError;

/// Exit status: success, or `verify` found a clean log.
pub const EXIT_OK: u8 = 0;
/// Exit status of `verify`: a torn tail, which an open would cut (on a
/// log a writer holds, possibly a record being written: see the note).
pub const EXIT_TORN: u8 = 1;
/// Exit status of `verify`: synced data damaged or missing; an open refuses.
pub const EXIT_CORRUPT: u8 = 2;
/// Exit status: not a log (or not one this tool reads).
pub const EXIT_NOT_A_LOG: u8 = 3;
/// Exit status: a writer holds the log, so a repairing command refused.
pub const EXIT_LOCKED: u8 = 4;
/// Exit status: any other failure (I/O, a refused repair).
pub const EXIT_FAILED: u8 = 5;
/// Exit status: the command line was wrong (as `sysexits.h`'s `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;

/// Everything that can make a command fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImstoreError {
    /// The log layer refused or failed.
    #[error("{0}")]
    Wal(#[from] WalError),
    /// The store refused or failed (typed commands).
    #[error("{0}")]
    Store(io::Error),
    /// A file operation failed.
    #[error("{op} {path} failed: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A writer holds the log's lock: a command that writes refused.
    #[error(
        "{path} is held by a running writer (its lock file {lock} is locked); nothing was changed: stop the writer first, or use the read-only commands (info, verify, dump, tail)"
    )]
    Locked {
        /// The log.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The command needs the key and value types, which this build lacks.
    #[error(
        "{what} needs the store's key and value types, which this untyped build of imstore does not have (bincode records do not say where a key ends and its value begins); nothing was changed: build your own imstore with `imstore::run::<K, V>()` (see crates/imstore/examples/typed.rs)"
    )]
    NeedsTypes {
        /// The command.
        what: &'static str,
    },
    /// The file is a log of indexmap_store 0.2.x (the crates.io crate the
    /// store replaces), which the typed build recognised: it converts it
    /// with `import-legacy`.
    #[error(
        "{path} is a log written by indexmap_store 0.2.x ({records} records read as this build's key and value types), not by this version; it was left untouched: convert it with `import-legacy {path}` (the original is kept as {path}.v0-backup)",
        path = path.display()
    )]
    LegacyLog {
        /// The log.
        path: PathBuf,
        /// Its records that replay as the build's types.
        records: u64,
    },
    /// The file has the shape of an indexmap_store 0.2.x log, which the
    /// untyped build cannot decode: a typed build converts it.
    #[error(
        "{path} is not a log of this version but has the shape of one written by indexmap_store 0.2.x ({records} records of its length-prefixed format); it was left untouched: convert it with `import-legacy` in an imstore built with its key and value types (`imstore::run::<K, V>()`, see crates/imstore/examples/typed.rs), or open it with `OpenOptions::new().import_legacy(true)`",
        path = path.display()
    )]
    LegacyShape {
        /// The file.
        path: PathBuf,
        /// Its complete records (within its first MiB).
        records: u64,
    },
    /// A destination that must be new already exists.
    #[error("{path} already exists; nothing was written: choose another destination or remove it")]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// A repair found nothing to do or refused for a stated reason.
    #[error("{0}")]
    Refused(String),
}

impl ImstoreError {
    /// `op` on `path` failed with `source`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The exit status this error ends the program with.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Wal(e) => wal_exit_code(e),
            Self::Store(e) => match e
                .get_ref()
                .and_then(|e| e.downcast_ref::<indexmap_store::StoreError>())
            {
                Some(indexmap_store::StoreError::Log(w)) => wal_exit_code(w),
                _ if e.kind() == io::ErrorKind::WouldBlock => EXIT_LOCKED,
                _ => EXIT_FAILED,
            },
            Self::Locked { .. } => EXIT_LOCKED,
            Self::LegacyLog { .. } | Self::LegacyShape { .. } => EXIT_NOT_A_LOG,
            _ => EXIT_FAILED,
        }
    }
}

/// The exit status for a log layer error.
pub(crate) fn wal_exit_code(e: &WalError) -> u8 {
    match e {
        WalError::NotALog { .. }
        | WalError::BadHeader { .. }
        | WalError::WrongApp { .. }
        | WalError::NewerAppVersion { .. } => EXIT_NOT_A_LOG,
        WalError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => EXIT_NOT_A_LOG,
        WalError::Corrupt { .. } | WalError::Truncated { .. } => EXIT_CORRUPT,
        WalError::AlreadyOpen { .. } => EXIT_LOCKED,
        _ => EXIT_FAILED,
    }
}
