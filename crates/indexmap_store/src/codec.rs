//! The codec: how operations become record payloads.
//!
//! The only module that knows about bincode. Payloads are bincode 2.0.1
//! through serde with `config::standard()` (varint integers, little-endian),
//! and the log header records that as [`APP_TAG`], with the record schema
//! as [`SCHEMA_VERSION`]; a future codec gets a new tag, so old files are
//! recognised rather than misread.

use bincode::config::{self, Configuration, LittleEndian, Varint};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub(crate) use crate::index_runs::IndexRuns;

/// The log header's application tag: this crate, bincode 2, standard config.
pub const APP_TAG: &[u8; 16] = b"ims/bincode2-std";
/// Version of the [`Op`] schema. Version 2 added [`Op::Schema`]: a build
/// that knows version 1 refuses a version-2 log as newer instead of failing
/// on its first record. Version 3 added the records after [`Op::Schema`]
/// (removed index runs, permutations, reverse, swaps, positional inserts,
/// key replacement: see `RECORDS.md`). Version 4 added [`Op::Live`], the
/// entry count a compaction writes ahead of its entries. Version 5 added
/// [`Op::Splice`].
pub const SCHEMA_VERSION: u32 = 5;

/// How much memory decoding may claim per byte of the record: bincode's
/// limit counts what it decodes at its in-memory size (8 bytes for every
/// varint `u64`, 24 for every `Vec`), not the bytes it reads, so a record
/// of zeros decoded as `Vec<u64>` claims 8 bytes per byte. The limit is
/// derived from the record's length, so that a record cannot make the
/// decoder allocate without bound, and the same limit is checked when the
/// record is written (see [`crate::read_back::encode_checked`]): a record the reader would
/// refuse is never logged.
pub(crate) const CLAIM_PER_BYTE: usize = 64;

fn encode_config() -> Configuration<LittleEndian, Varint> {
    config::standard()
}

/// Decodes `$bytes` whole as the caller's type with the bincode
/// configuration `$config`, under the smallest limit tier that allows
/// [`CLAIM_PER_BYTE`] claimed bytes per byte of it, and at least `$floor`;
/// leftover bytes are an error. A macro because bincode's configurations
/// can only be named through sealed traits: the log's records and
/// [`crate::legacy`]'s (bincode 1) records share the tiers this way.
macro_rules! decode_whole {
    ($bytes:expr, $config:expr, $floor:expr) => {{
        let bytes: &[u8] = $bytes;
        let config = $config;
        let need = bytes
            .len()
            .saturating_mul($crate::codec::CLAIM_PER_BYTE)
            .max($floor);
        let decoded = if need <= 1 << 20 {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 20 }>())
        } else if need <= 1 << 26 {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 26 }>())
        } else if need <= 1 << 30 {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 30 }>())
        } else if need <= 1 << 34 {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 34 }>())
        } else if need <= 1 << 38 {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 38 }>())
        } else {
            bincode::serde::decode_from_slice(bytes, config.with_limit::<{ 1 << 42 }>())
        };
        match decoded {
            Ok((value, used)) if used == bytes.len() => Ok(value),
            Ok((_, used)) => Err(bincode::error::DecodeError::OtherString(format!(
                "{} bytes left over after the record",
                bytes.len() - used
            ))),
            Err(e) => Err(e),
        }
    }};
}
pub(crate) use decode_whole;

/// One logged operation, as decoded on replay.
#[derive(Debug, Deserialize)]
pub(crate) enum Op<K, V> {
    Insert(K, V),
    ShiftRemove(K),
    SwapRemove(K),
    Clear,
    Move(u64, u64),
    Batch(Vec<BatchOp<K, V>>),
    /// The shapes of the log's key and value types: the first record of
    /// every log the store creates or compacts. Not a mutation.
    Schema(SchemaRecord),
    // Version 3 (see `RECORDS.md`); only ever appended to.
    /// Shift-removes the entries at these indices, in one pass (`retain`,
    /// `truncate`, `drain`, `split_off`).
    RemoveRuns(IndexRuns),
    /// Reorders the map: the new order, as old indices (the sorts).
    Permute(Vec<u64>),
    /// Reverses a map of this many entries.
    Reverse(u64),
    /// Swaps the entries at two indices.
    SwapIndices(u64, u64),
    /// Inserts or updates the key, then moves it to the index
    /// (`shift_insert`, `insert_before`).
    InsertAt(u64, K, V),
    /// Replaces the key at the index (`replace_index`).
    ReplaceKey(u64, K),
    // Version 4.
    /// How many entries the records after it leave in the map: written by
    /// compactions and backups after the schema record, so that an open
    /// sizes the map once. Not a mutation.
    Live(u64),
    // Version 5.
    /// Removes the entries at `start..end`, then inserts the pairs there
    /// in order, as `IndexMap::splice` (a key present outside the range
    /// is updated in place).
    Splice(u64, u64, Vec<(K, V)>),
}

/// What [`Op::Schema`] holds: see [`crate::schema`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SchemaRecord {
    /// FNV-1a of the full rendering of both shapes.
    pub(crate) fingerprint: u64,
    /// The user's schema version ([`crate::OpenOptions::schema_version`]).
    pub(crate) user_version: u32,
    /// The key type's shape, for messages (possibly cut).
    pub(crate) key: String,
    /// The value type's shape, for messages (possibly cut).
    pub(crate) value: String,
}

impl<K, V> Op<K, V> {
    /// Mutations this record holds: one, a batch's operation count, none
    /// for a schema record.
    pub(crate) fn mutations(&self) -> u64 {
        match self {
            Op::Batch(ops) => ops.len() as u64,
            Op::Schema(_) | Op::Live(_) => 0,
            Op::RemoveRuns(runs) => runs.count(),
            Op::Permute(order) => crate::order::moved(order),
            Op::Reverse(len) => len - len % 2,
            Op::SwapIndices(..) => 2,
            Op::Splice(start, end, pairs) => end
                .saturating_sub(*start)
                .saturating_add(pairs.len() as u64),
            _ => 1,
        }
    }
}

/// The same operations, borrowing their data, for encoding. Variant order
/// must match [`Op`]: bincode identifies variants by index.
#[derive(Debug, Serialize)]
pub(crate) enum OpRef<'a, K, V> {
    Insert(&'a K, &'a V),
    ShiftRemove(&'a K),
    SwapRemove(&'a K),
    Clear,
    Move(u64, u64),
    Batch(&'a [BatchOp<K, V>]),
    Schema(&'a SchemaRecord),
    RemoveRuns(&'a IndexRuns),
    Permute(&'a [u64]),
    Reverse(u64),
    SwapIndices(u64, u64),
    InsertAt(u64, &'a K, &'a V),
    ReplaceKey(u64, &'a K),
    Live(u64),
    Splice(u64, u64, &'a [(K, V)]),
}

/// One operation of an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum BatchOp<K, V> {
    Insert(K, V),
    ShiftRemove(K),
    SwapRemove(K),
}

/// A batch of inserts of borrowed pairs: encodes exactly as
/// [`OpRef::Batch`] of the same [`BatchOp::Insert`]s, without building them.
#[derive(Debug)]
pub(crate) struct InsertMany<'a, K, V>(pub &'a [(K, V)]);

/// A batch of inserts of every entry of a map, in order (`append`):
/// encodes exactly as [`InsertMany`] of the same pairs.
#[derive(Debug)]
pub(crate) struct InsertEntries<'a, K, V, S>(pub &'a indexmap::IndexMap<K, V, S>);

/// [`OpRef::Batch`]'s variant index (bincode writes indices, not names).
pub(crate) const BATCH_VARIANT: u32 = 5;

/// [`BatchOp::Insert`], borrowing.
#[derive(Serialize)]
enum InsertRef<'a, K, V> {
    Insert(&'a K, &'a V),
}

/// A sequence of inserts, from an iterator of exact length.
struct Inserts<I>(I);

impl<'a, K, V, I> Serialize for Inserts<I>
where
    K: Serialize + 'a,
    V: Serialize + 'a,
    I: Iterator<Item = (&'a K, &'a V)> + ExactSizeIterator + Clone,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone().map(|(k, v)| InsertRef::Insert(k, v)))
    }
}

impl<K: Serialize, V: Serialize> Serialize for InsertMany<'_, K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pairs = Inserts(self.0.iter().map(|(k, v)| (k, v)));
        s.serialize_newtype_variant("OpRef", BATCH_VARIANT, "Batch", &pairs)
    }
}

impl<K: Serialize, V: Serialize, M> Serialize for InsertEntries<'_, K, V, M> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_variant("OpRef", BATCH_VARIANT, "Batch", &Inserts(self.0.iter()))
    }
}

/// What a splice record (variant 14) counts without its key and value
/// types: the entries removed plus the pairs inserted, read from the
/// varints before the first pair. `None` if `payload` is no splice.
pub(crate) fn splice_mutations(payload: &[u8]) -> Option<u64> {
    let ((variant, start, end, pairs), _): ((u32, u64, u64, u64), usize) =
        bincode::serde::decode_from_slice(payload, encode_config()).ok()?;
    (variant == SPLICE_VARIANT).then(|| end.saturating_sub(start).saturating_add(pairs))
}

/// [`OpRef::Splice`]'s variant index.
pub(crate) const SPLICE_VARIANT: u32 = 14;

/// Appends the encoding of `op` (an [`OpRef`] or [`InsertMany`]) to `buf`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    op: &T,
) -> Result<(), bincode::error::EncodeError> {
    bincode::serde::encode_into_std_write(op, buf, encode_config()).map(drop)
}

/// The first byte of the seal note a closing store leaves (see
/// `RECORDS.md`, *The seal note*): the entry count follows.
const LIVE_NOTE_TAG: u8 = 1;

/// The seal note a store leaves when it closes
/// ([`wal_io::Wal::set_seal_note`]): [`LIVE_NOTE_TAG`], then how many
/// entries the map holds, `u64` little-endian, so that the next open sizes
/// the map once, as [`Op::Live`] lets it after a compaction.
pub(crate) fn live_note(entries: usize) -> [u8; 9] {
    let mut note = [0; 9];
    note[0] = LIVE_NOTE_TAG;
    note[1..].copy_from_slice(&(entries as u64).to_le_bytes());
    note
}

/// The entry count of a note [`live_note`] wrote; `None` for any other
/// note (a later version's, or none of this crate's).
pub(crate) fn read_live_note(note: &[u8]) -> Option<u64> {
    match note {
        [LIVE_NOTE_TAG, count @ ..] => Some(u64::from_le_bytes(count.try_into().ok()?)),
        _ => None,
    }
}

/// Decodes a whole payload (at least 1 GiB of claims allowed, more for
/// a larger record); leftover bytes are an error.
pub(crate) fn decode<K: DeserializeOwned, V: DeserializeOwned>(
    payload: &[u8],
) -> Result<Op<K, V>, bincode::error::DecodeError> {
    decode_whole!(payload, config::standard(), 1 << 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(op: &OpRef<'_, String, u32>) -> Op<String, u32> {
        let mut buf = Vec::new();
        encode_into(&mut buf, op).unwrap();
        decode(&buf).unwrap()
    }

    #[test]
    fn insert_many_encodes_as_a_batch_of_inserts() {
        let pairs = vec![
            ("a".to_owned(), 1u32),
            ("b".to_owned(), 300),
            ("a".to_owned(), 2),
        ];
        let ops: Vec<BatchOp<String, u32>> = pairs
            .iter()
            .map(|(k, v)| BatchOp::Insert(k.clone(), *v))
            .collect();
        let mut batch = Vec::new();
        encode_into(&mut batch, &OpRef::Batch(&ops)).unwrap();
        let mut many = Vec::new();
        encode_into(&mut many, &InsertMany(&pairs)).unwrap();
        assert_eq!(many, batch);
        let Op::Batch(decoded) = decode::<String, u32>(&many).unwrap() else {
            panic!("an InsertMany must decode as a batch");
        };
        assert_eq!(decoded, ops);
        let mut empty = Vec::new();
        encode_into(&mut empty, &InsertMany::<String, u32>(&[])).unwrap();
        let mut empty_batch = Vec::new();
        encode_into(&mut empty_batch, &OpRef::<String, u32>::Batch(&[])).unwrap();
        assert_eq!(empty, empty_batch);
    }

    #[test]
    fn ops_round_trip() {
        let (k, v) = ("k".to_owned(), 7u32);
        assert!(matches!(round_trip(&OpRef::Insert(&k, &v)), Op::Insert(a, 7) if a == "k"));
        assert!(matches!(round_trip(&OpRef::ShiftRemove(&k)), Op::ShiftRemove(a) if a == "k"));
        assert!(matches!(round_trip(&OpRef::SwapRemove(&k)), Op::SwapRemove(a) if a == "k"));
        assert!(matches!(round_trip(&OpRef::Clear), Op::Clear));
        assert!(matches!(round_trip(&OpRef::Move(1, 2)), Op::Move(1, 2)));
        let batch = [
            BatchOp::Insert(k.clone(), 1),
            BatchOp::SwapRemove(k.clone()),
        ];
        let Op::Batch(ops) = round_trip(&OpRef::Batch(&batch)) else {
            panic!("not a batch")
        };
        assert_eq!(ops, batch);
    }

    #[test]
    fn leftover_bytes_are_an_error() {
        let mut buf = Vec::new();
        encode_into(&mut buf, &OpRef::<String, u32>::Clear).unwrap();
        buf.push(0);
        assert!(decode::<String, u32>(&buf).is_err());
    }

    #[test]
    fn golden_insert_bytes() {
        // Pins the codec: variant 0, "k" as varint length + bytes, 7 as varint.
        let mut buf = Vec::new();
        encode_into(&mut buf, &OpRef::Insert(&"k".to_owned(), &7u32)).unwrap();
        assert_eq!(buf, [0, 1, b'k', 7]);
    }

    #[test]
    fn golden_seal_note_bytes() {
        // Pins the note and RECORDS.md's worked example (*The seal note*).
        let note = live_note(1_000);
        assert_eq!(note, [1, 0xe8, 0x03, 0, 0, 0, 0, 0, 0]);
        assert_eq!(read_live_note(&note), Some(1_000));
        assert_eq!(read_live_note(&[2, 0xe8, 0x03, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(read_live_note(&note[..8]), None);
        let mut frame = Vec::new();
        wal_format::encode_seal_with_note(&mut frame, 42, &note).unwrap();
        assert_eq!(
            frame,
            [
                0x5a, 0, 0, 0, 9, 0, 0, 0, 0x2a, 0, 0, 0, 1, 0xe8, 0x03, 0, 0, 0, 0, 0, 0, 0x9d,
                0xc0, 0xcd, 0x09
            ]
        );
    }
}
