//! Reading a store's log without opening the store: its records as
//! operations, and a read-only replay.
//!
//! **Who should use this:** tools that inspect a log (the `imstore`
//! command, or an application's own build of it with its key and value
//! types). An application opens its store with [`OpenOptions`](crate::OpenOptions)
//! and never needs this module.
//!
//! A record's payload is one operation encoded with bincode (see
//! `RECORDS.md`). bincode is not self-describing: without the key and
//! value types, a record's key cannot be told from its value, so
//! [`summarize`] names the operation and decodes only the fields that hold
//! no key or value; [`decode_record`] decodes all of it with the types.

use std::hash::Hash;
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::Storage;
/// The log options [`wal_options`] returns.
pub use wal_io::WalOptions;
/// What [`replay_read_only`] found besides the map, and what it names.
pub use wal_io::inspect::{Inspection, SalvagePlan, SidecarState, Stop, Verdict};

use crate::codec::{self, BatchOp, Op};
use crate::error::{StoreError, from_callback};
use crate::schema::{describe, schema_of};
use crate::store::COMPACT_TMP_SUFFIX;

/// The application tag in a store's log header: this crate, bincode 2,
/// standard configuration.
pub const APP_TAG: &[u8; 16] = codec::APP_TAG;
/// The record schema version in a store's log header (see `RECORDS.md`).
pub const SCHEMA_VERSION: u32 = codec::SCHEMA_VERSION;

/// Names of the operations, by variant index (see `RECORDS.md`).
const NAMES: [&str; 15] = [
    "insert",
    "shift_remove",
    "swap_remove",
    "clear",
    "move",
    "batch",
    "schema",
    "remove_runs",
    "permute",
    "reverse",
    "swap_indices",
    "insert_at",
    "replace_key",
    "live",
    "splice",
];

/// The schema record: the shapes of the log's key and value types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SchemaInfo {
    /// FNV-1a of the full rendering of both shapes.
    pub fingerprint: u64,
    /// The application's schema version (`OpenOptions::schema_version`).
    pub user_version: u32,
    /// The key type's shape (possibly cut).
    pub key: String,
    /// The value type's shape (possibly cut).
    pub value: String,
}

/// One operation of a batch record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoggedBatchOp<K, V> {
    /// `insert`.
    Insert(K, V),
    /// `shift_remove`.
    ShiftRemove(K),
    /// `swap_remove`.
    SwapRemove(K),
}

/// One logged operation, decoded with its key and value types; the
/// variants are the record kinds of `RECORDS.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoggedOp<K, V> {
    /// Inserts or updates the key.
    Insert(K, V),
    /// Removes the key, keeping the order of the rest.
    ShiftRemove(K),
    /// Removes the key, moving the last entry into its place.
    SwapRemove(K),
    /// Removes every entry.
    Clear,
    /// Moves the entry at the first index to the second.
    Move(u64, u64),
    /// Operations applied together.
    Batch(Vec<LoggedBatchOp<K, V>>),
    /// The shapes of the key and value types; not a mutation.
    Schema(SchemaInfo),
    /// Removes runs of indices, as `(gap, len)` pairs.
    RemoveRuns(Vec<(u64, u64)>),
    /// Reorders the map: the new order, as old indices.
    Permute(Vec<u64>),
    /// Reverses a map of this many entries.
    Reverse(u64),
    /// Swaps the entries at two indices.
    SwapIndices(u64, u64),
    /// Inserts or updates the key, then moves it to the index.
    InsertAt(u64, K, V),
    /// Replaces the key at the index.
    ReplaceKey(u64, K),
    /// How many entries the records after it leave in the map (written by
    /// compactions, so that an open sizes the map once); not a mutation.
    Live(u64),
    /// Removes the entries at the first index up to the second
    /// (exclusive), then inserts the pairs there in order; a key present
    /// outside the range is updated in place.
    Splice(u64, u64, Vec<(K, V)>),
}

impl<K, V> From<Op<K, V>> for LoggedOp<K, V> {
    fn from(op: Op<K, V>) -> Self {
        let batch = |op| match op {
            BatchOp::Insert(k, v) => LoggedBatchOp::Insert(k, v),
            BatchOp::ShiftRemove(k) => LoggedBatchOp::ShiftRemove(k),
            BatchOp::SwapRemove(k) => LoggedBatchOp::SwapRemove(k),
        };
        match op {
            Op::Insert(k, v) => Self::Insert(k, v),
            Op::ShiftRemove(k) => Self::ShiftRemove(k),
            Op::SwapRemove(k) => Self::SwapRemove(k),
            Op::Clear => Self::Clear,
            Op::Move(a, b) => Self::Move(a, b),
            Op::Batch(ops) => Self::Batch(ops.into_iter().map(batch).collect()),
            Op::Schema(s) => Self::Schema(SchemaInfo {
                fingerprint: s.fingerprint,
                user_version: s.user_version,
                key: s.key,
                value: s.value,
            }),
            Op::RemoveRuns(runs) => Self::RemoveRuns(runs.runs().to_vec()),
            Op::Permute(order) => Self::Permute(order),
            Op::Reverse(len) => Self::Reverse(len),
            Op::SwapIndices(a, b) => Self::SwapIndices(a, b),
            Op::InsertAt(i, k, v) => Self::InsertAt(i, k, v),
            Op::ReplaceKey(i, k) => Self::ReplaceKey(i, k),
            Op::Live(n) => Self::Live(n),
            Op::Splice(start, end, pairs) => Self::Splice(start, end, pairs),
        }
    }
}

/// Decodes a record's payload as an operation on `K` and `V`, as an open
/// does (same codec, same decode limit).
///
/// # Errors
///
/// `InvalidData` when the payload is not an operation on these types.
pub fn decode_record<K: DeserializeOwned, V: DeserializeOwned>(
    payload: &[u8],
) -> io::Result<LoggedOp<K, V>> {
    codec::decode::<K, V>(payload)
        .map(LoggedOp::from)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// What can be told about a record without its key and value types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordSummary {
    /// The operation's name (`insert`, `batch`, …), `unknown` for a
    /// variant this build does not know.
    pub kind: &'static str,
    /// Mutations it counts (as `StoreStats::total_records` does), when known
    /// without the types: a batch's length, a removal of runs' indices.
    pub mutations: Option<u64>,
    /// The whole operation, for the kinds that hold no key or value.
    pub op: Option<LoggedOp<(), ()>>,
}

/// Names the operation in `payload` and decodes what needs no types.
#[must_use]
pub fn summarize(payload: &[u8]) -> RecordSummary {
    // A variant index and a length are bincode varints: one byte below 251.
    let variant = payload.first().copied().filter(|&b| b < 251);
    let kind = variant
        .and_then(|v| NAMES.get(usize::from(v)))
        .copied()
        .unwrap_or("unknown");
    match codec::decode::<(), ()>(payload) {
        Ok(op) if !matches!(op, Op::Insert(..) | Op::InsertAt(..) | Op::Splice(..)) => {
            RecordSummary {
                kind,
                mutations: Some(op.mutations()),
                op: Some(op.into()),
            }
        }
        _ => RecordSummary {
            kind,
            mutations: match kind {
                "batch" => payload.get(1).filter(|&&b| b < 251).map(|&n| u64::from(n)),
                "splice" => codec::splice_mutations(payload),
                "unknown" => None,
                _ => Some(1),
            },
            op: None,
        },
    }
}

/// The log options the store opens its log with.
#[must_use]
pub fn wal_options() -> WalOptions {
    WalOptions {
        app_tag: APP_TAG.to_vec(),
        app_version: SCHEMA_VERSION,
        temp_suffix: COMPACT_TMP_SUFFIX.to_owned(),
        ..WalOptions::default()
    }
}

/// How many complete records `bytes` (a file's first bytes, or all of
/// them) hold if they have the shape of an indexmap_store 0.2.x log, for a
/// reader without the key and value types: length-prefixed records, each
/// tagged insert or remove, the first an insert, the last possibly cut
/// short. `None` if they do not, or hold no complete record. A shape, not
/// a proof: [`OpenOptions::import_legacy`](crate::OpenOptions::import_legacy)
/// decodes every record before it converts anything.
#[must_use]
pub fn legacy_shape(bytes: &[u8]) -> Option<u64> {
    crate::legacy_format::shape(bytes)
}

/// `opts` for a reader that changes nothing: with preallocation on, so
/// that zeros to the end of the file (space a preallocating writer
/// reserved, whether or not it is still open) are reported as
/// [`Verdict::Preallocated`] rather than a torn tail. An open without
/// `preallocate` cuts them instead; they hold no record either way.
///
/// [`Verdict::Preallocated`]: wal_io::inspect::Verdict::Preallocated
#[must_use]
pub fn inspection_options(opts: WalOptions) -> WalOptions {
    WalOptions {
        preallocate: Some(1 << 20),
        ..opts
    }
}

/// Replays the log at `path` as `K` and `V` without opening the store:
/// [`wal_io::inspect::inspect`] with the store's options, applying every
/// record as an open would. Takes no lock and writes nothing.
///
/// # Errors
///
/// What the open would fail with before judging the tail (not a log,
/// another application's, a record that is not an operation on `K` and
/// `V` or cannot apply, a schema record of other types), with [`StoreError`] reachable through
/// `io::Error::get_ref` where the store's open gives one.
pub fn replay_read_only<K, V>(
    storage: &dyn Storage,
    path: &Path,
) -> io::Result<(IndexMap<K, V>, Inspection)>
where
    K: Hash + Eq + DeserializeOwned,
    V: DeserializeOwned,
{
    let expected = schema_of::<K, V>(0).map_err(|u| {
        io::Error::from(StoreError::UnsupportedType {
            which: u.which,
            detail: u.detail,
        })
    })?;
    let mut map = IndexMap::new();
    let found = wal_io::inspect::inspect_typed(
        storage,
        path,
        &inspection_options(wal_options()),
        |record| {
            let op = codec::decode(record.payload).map_err(|source| StoreError::Decode {
                seq: record.seq,
                offset: record.offset,
                source,
            })?;
            if let Op::Schema(found) = &op
                && found.fingerprint != expected.fingerprint
            {
                // As an open with these types refuses (any schema version).
                return Err(StoreError::TypeMismatch {
                    path: path.to_path_buf(),
                    expected: describe(&expected),
                    found: describe(found),
                });
            }
            crate::open::replay(&mut map, record.seq, record.offset, op)
        },
    )
    .map_err(from_callback)?;
    Ok((map, found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{OpRef, encode_into};

    fn payload(op: &OpRef<'_, String, u32>) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_into(&mut buf, op).unwrap();
        buf
    }

    #[test]
    fn summaries_name_every_kind_and_decode_what_needs_no_types() {
        let k = "key".to_owned();
        let batch = [
            BatchOp::Insert(k.clone(), 1),
            BatchOp::SwapRemove(k.clone()),
        ];
        let cases: [(OpRef<'_, String, u32>, &str, Option<u64>); 7] = [
            (OpRef::Insert(&k, &5), "insert", Some(1)),
            (OpRef::ShiftRemove(&k), "shift_remove", Some(1)),
            (OpRef::Clear, "clear", Some(1)),
            (OpRef::Move(1, 2), "move", Some(1)),
            (OpRef::Batch(&batch), "batch", Some(2)),
            (OpRef::Reverse(5), "reverse", Some(4)),
            (OpRef::InsertAt(3, &k, &5), "insert_at", Some(1)),
        ];
        for (op, kind, mutations) in cases {
            let summary = summarize(&payload(&op));
            assert_eq!((summary.kind, summary.mutations), (kind, mutations));
        }
        assert_eq!(
            summarize(&payload(&OpRef::Move(1, 2))).op,
            Some(LoggedOp::Move(1, 2))
        );
        assert_eq!(summarize(&[200]).kind, "unknown");
        assert_eq!(summarize(&[]).kind, "unknown");
    }

    #[test]
    fn typed_decoding_gives_the_operation() {
        let k = "key".to_owned();
        let op = decode_record::<String, u32>(&payload(&OpRef::InsertAt(3, &k, &5))).unwrap();
        assert_eq!(op, LoggedOp::InsertAt(3, k.clone(), 5));
        let err = decode_record::<u64, u64>(&payload(&OpRef::Insert(&k, &5))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
