//! The one error type of this crate.
//!
//! Every fallible method returns `io::Result`, as the specification says;
//! the [`StoreError`] behind the `io::Error` is reachable through
//! [`io::Error::get_ref`] and [`io::Error::into_inner`].

use std::io;
use std::path::PathBuf;

use wal_io::{CallbackError, WalError};

/// What went wrong, behind every `io::Error` this crate returns.
///
/// ```
/// # use indexmap_store::StoreError;
/// # fn check(err: std::io::Error) {
/// if let Some(StoreError::Decode { offset, .. }) =
///     err.get_ref().and_then(|e| e.downcast_ref::<StoreError>())
/// {
///     eprintln!("record at byte {offset} has other types");
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The log failed: I/O, locking, a foreign or damaged file, poisoning.
    #[error(transparent)]
    Log(#[from] WalError),
    /// A key or value could not be serialised; nothing was written.
    #[error(
        "could not serialise a key or value with bincode ({0}); nothing was written: check the type's Serialize impl (a map or sequence must know its length)"
    )]
    Encode(#[source] bincode::error::EncodeError),
    /// A record with a valid checksum does not decode as this store's key
    /// and value types: the file was written with other types or another
    /// codec. The file was left untouched.
    #[error(
        "record {seq} at byte {offset} does not decode as this store's key and value types ({source}); the log was written with other types or another codec: open it with the types it was written with, or migrate it with IndexMapStore::migrate. The file was left untouched"
    )]
    Decode {
        /// The record's sequence number.
        seq: u64,
        /// The record's byte offset in the log.
        offset: u64,
        /// What bincode reported.
        #[source]
        source: bincode::error::DecodeError,
    },
    /// A record decodes but cannot apply (a move to an index that does not
    /// exist): the log was not written by a correct store. The file was
    /// left untouched.
    #[error(
        "record {seq} at byte {offset} cannot apply: {detail}; the log was not written by a correct store. The file was left untouched: restore a backup"
    )]
    Inconsistent {
        /// The record's sequence number.
        seq: u64,
        /// The record's byte offset in the log.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// The log records other key and value types (or another user schema
    /// version) than the store was opened with. Nothing in the file was
    /// changed.
    #[error(
        "{path} was written with key and value types {found}, not {expected}; nothing was changed: open it with the types it was written with, or migrate it with IndexMapStore::migrate",
        path = path.display()
    )]
    TypeMismatch {
        /// The log's path.
        path: PathBuf,
        /// The types (and schema version) the store was opened with.
        expected: String,
        /// The types (and schema version) the log records.
        found: String,
    },
    /// The key or value type's serde shape cannot be read back by the codec
    /// (bincode is not self-describing). Nothing was opened or written.
    #[error(
        "the {which} type's serde shape is not supported by the codec (bincode): {detail}. Untagged, internally tagged or flattened serde types and self-describing values (such as serde_json::Value) cannot be stored; use a plain struct or an externally tagged enum"
    )]
    UnsupportedType {
        /// `"key"` or `"value"`.
        which: &'static str,
        /// What the type's `Deserialize` asked for.
        detail: String,
    },
    /// A record would not read back as written, so it was not logged:
    /// see [`OpenOptions::verify_writes`](crate::OpenOptions::verify_writes).
    #[error(
        "{reason}; nothing was written (check the key and value types' serde attributes, or split the value)"
    )]
    Unreadable {
        /// Why the record would not read back.
        reason: String,
    },
    /// An index or range out of bounds, where `IndexMap` would panic
    /// (`drain`, `split_off`, `swap_indices`, `shift_insert`,
    /// `insert_before`, `replace_index`): nothing was written or changed.
    #[error("index out of bounds: {detail}; nothing was written")]
    InvalidIndex {
        /// The call and the store's length.
        detail: String,
    },
    /// The file is a log written by indexmap_store 0.2.x, the crates.io
    /// crate this one replaces; it was left untouched. Open it with
    /// [`OpenOptions::import_legacy`](crate::OpenOptions::import_legacy) to
    /// convert it.
    #[error(
        "{path} is a log written by indexmap_store 0.2.x (the crates.io crate this one replaces; {records} records); open it with OpenOptions::new().import_legacy(true) to convert it (the original is kept as {path}.v0-backup). The file was left untouched",
        path = path.display()
    )]
    LegacyLog {
        /// The log's path.
        path: PathBuf,
        /// Records of it that replay as the opener's key and value types.
        records: u64,
    },
    /// Converting an indexmap_store 0.2.x log failed before anything was
    /// changed: see the reason.
    #[error(
        "cannot import {path} as an indexmap_store 0.2.x log: {reason}. Nothing was changed",
        path = path.display()
    )]
    LegacyImport {
        /// The log's path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Converting an indexmap_store 0.2.x log would overwrite an existing
    /// backup holding other bytes; nothing was changed.
    #[error(
        "{backup} already exists and holds other bytes than the log to import; it is never overwritten: move it away, then open again. Nothing was changed",
        backup = backup.display()
    )]
    LegacyBackupExists {
        /// The backup's path (`<path>.v0-backup`).
        backup: PathBuf,
    },
    /// A record (one insert's encoded key and value, or one batch) is over
    /// the 1 GiB bound on a record; nothing was written. An insert or batch
    /// leaves the store as it was; a [`modify`](crate::IndexMapStore::modify)
    /// that grew its value over it poisons the store, as any failed
    /// `modify` does.
    #[error(
        "a record of {len} bytes (the encoded key and value, or the whole batch) exceeds the limit of {max} bytes on one record, and nothing was written: split the value over several keys or keep it in a file of its own and store its path, or split the batch into smaller ones"
    )]
    RecordTooLarge {
        /// The encoded record's length.
        len: u64,
        /// The bound: 1 GiB.
        max: u32,
    },
    /// An earlier failure left the in-memory map ahead of the log, so the
    /// store refuses writes.
    #[error(
        "the store refuses writes since an earlier failure ({first}); drop it (with a \
         SharedStore, every handle) and reopen it, which recovers what the log holds"
    )]
    Poisoned {
        /// A description of the first failure.
        first: String,
    },
}

impl StoreError {
    fn kind(&self) -> io::ErrorKind {
        match self {
            Self::Log(e) => e.kind(),
            Self::Encode(_)
            | Self::Decode { .. }
            | Self::Inconsistent { .. }
            | Self::TypeMismatch { .. }
            | Self::LegacyLog { .. }
            | Self::LegacyImport { .. } => io::ErrorKind::InvalidData,
            Self::LegacyBackupExists { .. } => io::ErrorKind::AlreadyExists,
            Self::UnsupportedType { .. }
            | Self::Unreadable { .. }
            | Self::InvalidIndex { .. }
            | Self::RecordTooLarge { .. } => io::ErrorKind::InvalidInput,
            Self::Poisoned { .. } => io::ErrorKind::Other,
        }
    }
}

impl From<StoreError> for io::Error {
    fn from(e: StoreError) -> Self {
        io::Error::new(e.kind(), e)
    }
}

/// Converts a log error.
pub(crate) fn from_wal(e: WalError) -> io::Error {
    match e {
        // wal-io's message says to raise its `max_record_len`, which this
        // crate does not expose: say what a user of the store can do.
        WalError::RecordTooLarge { len, max } => StoreError::RecordTooLarge { len, max },
        e => StoreError::Log(e),
    }
    .into()
}

/// Converts the error of a replay or an encode whose callback fails with
/// a `StoreError`: that error itself, as the callback made it (wal-io
/// hands it back by value), or the log's own failure.
pub(crate) fn from_callback(e: CallbackError<StoreError>) -> io::Error {
    match e.into_callback() {
        Ok(e) => e.into(),
        Err(e) => from_wal(e),
    }
}
