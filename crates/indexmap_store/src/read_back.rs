//! The read-back check: what a record must read back as before it is
//! logged ([`encode_checked`], [`Shape`]), and which writes it can settle
//! without decoding ([`certain`]).
//!
//! [`OpenOptions::verify_writes`](crate::OpenOptions::verify_writes) decodes
//! every record before it is logged, because a key or value type's serde
//! impls can write what they cannot read (`skip_serializing_if`, a
//! `Deserialize` that validates, a shape bincode cannot represent). For a
//! few standard types that cannot happen: bincode writes them as their
//! bytes or their integer, and reads exactly that back. When the key and
//! the value are both of them, the decode is certain to give the record
//! back, so [`encode_checked`] skips it. That is a proof, not a sample:
//! the types are matched by their `TypeId`, so a newtype around a
//! `String`, whose `Deserialize` may refuse what its `Serialize` wrote, is
//! still decoded.
//!
//! The decode also enforces the reader's memory limit
//! ([`CLAIM_PER_BYTE`] per stored byte, at least 1 GiB): the skip applies
//! only when the record's largest possible claim is within it.

use std::any::TypeId;
use std::mem::size_of;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{
    BATCH_VARIANT, BatchOp, CLAIM_PER_BYTE, InsertEntries, InsertMany, Op, OpRef, SPLICE_VARIANT,
    decode, encode_into,
};

/// The shape of an operation as far as its record must show it: its kind,
/// and for a batch the kind of each of its operations. A record that reads
/// back with another shape was misread (see [`encode_checked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An insert, or a batch operation that inserts.
    Insert,
    /// A shift removal.
    ShiftRemove,
    /// A swap removal.
    SwapRemove,
    /// Any other whole operation, by its variant index.
    Other(u32),
}

/// What an operation about to be written must read back as.
pub(crate) trait Shape {
    /// Its kind; for a batch, the kinds of its operations in order.
    fn shape(&self) -> (Kind, Vec<Kind>);
}

impl<K, V> Shape for OpRef<'_, K, V> {
    fn shape(&self) -> (Kind, Vec<Kind>) {
        match self {
            OpRef::Insert(..) => (Kind::Insert, Vec::new()),
            OpRef::ShiftRemove(_) => (Kind::ShiftRemove, Vec::new()),
            OpRef::SwapRemove(_) => (Kind::SwapRemove, Vec::new()),
            OpRef::Clear => (Kind::Other(3), Vec::new()),
            OpRef::Move(..) => (Kind::Other(4), Vec::new()),
            OpRef::Batch(ops) => (
                Kind::Other(BATCH_VARIANT),
                ops.iter().map(BatchOp::kind).collect(),
            ),
            OpRef::Schema(_) => (Kind::Other(6), Vec::new()),
            OpRef::RemoveRuns(_) => (Kind::Other(7), Vec::new()),
            OpRef::Permute(_) => (Kind::Other(8), Vec::new()),
            OpRef::Reverse(_) => (Kind::Other(9), Vec::new()),
            OpRef::SwapIndices(..) => (Kind::Other(10), Vec::new()),
            OpRef::InsertAt(..) => (Kind::Other(11), Vec::new()),
            OpRef::ReplaceKey(..) => (Kind::Other(12), Vec::new()),
            OpRef::Live(_) => (Kind::Other(13), Vec::new()),
            OpRef::Splice(_, _, pairs) => splice_shape(pairs.len()),
        }
    }
}

impl<K, V> Shape for InsertMany<'_, K, V> {
    fn shape(&self) -> (Kind, Vec<Kind>) {
        (Kind::Other(BATCH_VARIANT), vec![Kind::Insert; self.0.len()])
    }
}

impl<K, V, S> Shape for InsertEntries<'_, K, V, S> {
    fn shape(&self) -> (Kind, Vec<Kind>) {
        (Kind::Other(BATCH_VARIANT), vec![Kind::Insert; self.0.len()])
    }
}

/// A splice's shape: its kind, and an insert per pair it holds.
fn splice_shape(pairs: usize) -> (Kind, Vec<Kind>) {
    (Kind::Other(SPLICE_VARIANT), vec![Kind::Insert; pairs])
}

impl<K, V> Op<K, V> {
    /// The shape it was decoded with.
    fn shape(&self) -> (Kind, Vec<Kind>) {
        match self {
            Op::Insert(..) => (Kind::Insert, Vec::new()),
            Op::ShiftRemove(_) => (Kind::ShiftRemove, Vec::new()),
            Op::SwapRemove(_) => (Kind::SwapRemove, Vec::new()),
            Op::Clear => (Kind::Other(3), Vec::new()),
            Op::Move(..) => (Kind::Other(4), Vec::new()),
            Op::Batch(ops) => (
                Kind::Other(BATCH_VARIANT),
                ops.iter().map(BatchOp::kind).collect(),
            ),
            Op::Schema(_) => (Kind::Other(6), Vec::new()),
            Op::RemoveRuns(_) => (Kind::Other(7), Vec::new()),
            Op::Permute(_) => (Kind::Other(8), Vec::new()),
            Op::Reverse(_) => (Kind::Other(9), Vec::new()),
            Op::SwapIndices(..) => (Kind::Other(10), Vec::new()),
            Op::InsertAt(..) => (Kind::Other(11), Vec::new()),
            Op::ReplaceKey(..) => (Kind::Other(12), Vec::new()),
            Op::Live(_) => (Kind::Other(13), Vec::new()),
            Op::Splice(_, _, pairs) => splice_shape(pairs.len()),
        }
    }
}

impl<K, V> BatchOp<K, V> {
    fn kind(&self) -> Kind {
        match self {
            BatchOp::Insert(..) => Kind::Insert,
            BatchOp::ShiftRemove(_) => Kind::ShiftRemove,
            BatchOp::SwapRemove(_) => Kind::SwapRemove,
        }
    }
}

/// Why a record was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// Serialising failed.
    #[error(transparent)]
    Encode(#[from] bincode::error::EncodeError),
    /// The encoded record would not read back as written.
    #[error("{0}")]
    Unreadable(String),
}

/// Appends the encoding of `op` to `buf`, and with `verify`, checks that it
/// reads back: it decodes as `Op<K, V>` under the very limit a reader
/// applies, whole, with the same operations in the same order. That refuses,
/// before anything is logged, what an open could not read back: a record
/// past the decode limit, or a type whose serde shape bincode cannot
/// represent (`#[serde(skip_serializing_if)]` writes fewer fields than it
/// reads). Where the decode is certain to succeed (key and value types
/// whose encoding always reads back, see [`crate::read_back`]), it is
/// skipped. On error `buf` may hold a partial encoding; the caller drops it.
pub(crate) fn encode_checked<K, V, T>(
    buf: &mut Vec<u8>,
    op: &T,
    verify: bool,
) -> Result<(), WriteError>
where
    K: DeserializeOwned,
    V: DeserializeOwned,
    T: Serialize + Shape + ?Sized,
{
    let start = buf.len();
    encode_into(buf, op)?;
    if !verify || certain::<K, V>(buf.len() - start) {
        return Ok(());
    }
    let payload = &buf[start..];
    let back = decode::<K, V>(payload).map_err(|e| {
        WriteError::Unreadable(format!(
            "the {}-byte record would not read back ({e}): the key or value type's serde shape is not one bincode can read back (is a field `#[serde(skip_serializing_if)]`?), or the record is past what a reader accepts ({CLAIM_PER_BYTE} decoded bytes per stored byte)",
            payload.len()
        ))
    })?;
    if back.shape() != op.shape() {
        return Err(WriteError::Unreadable(
            "the record would read back as other operations: the key or value type's serde shape is not one bincode can read back (is a field `#[serde(skip_serializing_if)]`?)".to_owned(),
        ));
    }
    Ok(())
}

/// The floor of the reader's decode limit ([`crate::codec::decode`]).
const LIMIT_FLOOR: usize = 1 << 30;

/// The types whose bincode encoding (serde, standard configuration) always
/// decodes back to an equal value: text and bytes (a length, then the
/// bytes; text was valid UTF-8 when written), integers (varints), floats
/// (their bits), `bool`, `char` and `()`.
fn exact_types() -> [TypeId; 21] {
    [
        TypeId::of::<String>(),
        TypeId::of::<Vec<u8>>(),
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<u128>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<i128>(),
        TypeId::of::<isize>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<bool>(),
        TypeId::of::<char>(),
        TypeId::of::<()>(),
        TypeId::of::<Box<str>>(),
        TypeId::of::<Box<[u8]>>(),
    ]
}

/// Whether `T` is one of the [`exact_types`]. `T` need not be `'static`:
/// [`typeid::of`] gives the id of `T` with its lifetimes made `'static`,
/// and every listed type is `'static` with no lifetimes, so an equal id
/// means the very same type.
pub(crate) fn is_exact<T: ?Sized>() -> bool {
    let id = typeid::of::<T>();
    exact_types().contains(&id)
}

/// Whether a record of `payload_len` bytes encoding operations over `K`
/// and `V` certainly reads back as written, without decoding it: both are
/// [exact](is_exact), and what decoding it may claim is within the
/// reader's limit.
///
/// The claim bound: bincode claims, for every container it decodes,
/// the element's size per element, and every element takes at least one
/// encoded byte (a variant index, a length or a varint; an element of
/// size zero claims nothing). The containers of a record are the batch's
/// operations ([`BatchOp`]), a splice's pairs (`(K, V)`, no wider than a
/// `BatchOp`), index lists (`u64`), index runs
/// (`(u64, u64)`) and the bytes of text and byte vectors, so the claim is
/// at most `payload_len` times the largest of those sizes.
pub(crate) fn certain<K, V>(payload_len: usize) -> bool {
    if !(is_exact::<K>() && is_exact::<V>()) {
        return false;
    }
    let widest = size_of::<BatchOp<K, V>>()
        .max(size_of::<(u64, u64)>())
        .max(size_of::<K>())
        .max(size_of::<V>());
    let limit = payload_len.saturating_mul(CLAIM_PER_BYTE).max(LIMIT_FLOOR);
    payload_len.saturating_mul(widest) <= limit
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    /// A newtype whose `Deserialize` may refuse what it wrote: never
    /// exact, even though it is a `String` inside.
    #[derive(Serialize, Deserialize)]
    struct Name(String);

    #[test]
    fn only_the_listed_types_are_exact() {
        assert!(is_exact::<String>());
        assert!(is_exact::<Vec<u8>>());
        assert!(is_exact::<u64>());
        assert!(is_exact::<char>());
        assert!(!is_exact::<Name>());
        assert!(!is_exact::<Option<String>>());
        assert!(!is_exact::<Vec<u64>>());
        assert!(!is_exact::<(String, String)>());
        assert!(!is_exact::<&'static str>());
    }

    /// Encodes an insert of `k, v` as the store does and decodes it back
    /// (the check [`certain`] skips): it must read back equal.
    fn reads_back<K, V>(k: &K, v: &V)
    where
        K: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        V: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let mut buf = Vec::new();
        encode_into(&mut buf, &OpRef::Insert(k, v)).unwrap();
        assert!(certain::<K, V>(buf.len()));
        match decode::<K, V>(&buf) {
            Ok(Op::Insert(k2, v2)) => assert!(&k2 == k && &v2 == v, "{k:?} {v:?}"),
            other => panic!("{k:?}, {v:?} read back as {other:?}"),
        }
    }

    proptest::proptest! {
        /// The claim behind the list, checked for every listed type
        /// (floats by their bits, NaNs included).
        #[test]
        fn every_exact_type_reads_back(
            text: String,
            bytes: Vec<u8>,
            ints: (u8, u16, u32, u64, u128, usize),
            signed: (i8, i16, i32, i64, i128, isize),
            bits: (u32, u64),
            flag: bool,
            c: char,
        ) {
            reads_back(&text, &bytes);
            reads_back(&text.clone().into_boxed_str(), &bytes.clone().into_boxed_slice());
            reads_back(&ints.0, &ints.1);
            reads_back(&ints.2, &ints.3);
            reads_back(&ints.4, &ints.5);
            reads_back(&signed.0, &signed.1);
            reads_back(&signed.2, &signed.3);
            reads_back(&signed.4, &signed.5);
            reads_back(&flag, &c);
            reads_back(&(), &text);
            let (f, d) = (f32::from_bits(bits.0), f64::from_bits(bits.1));
            let mut buf = Vec::new();
            encode_into(&mut buf, &OpRef::Insert(&f, &d)).unwrap();
            match decode::<f32, f64>(&buf) {
                Ok(Op::Insert(f2, d2)) => {
                    proptest::prop_assert_eq!((f2.to_bits(), d2.to_bits()), bits);
                }
                other => panic!("{f}, {d} read back as {other:?}"),
            }
        }
    }

    #[test]
    fn certainty_needs_both_types_exact() {
        assert!(certain::<String, String>(100));
        assert!(certain::<u64, Vec<u8>>(1 << 40));
        assert!(!certain::<String, Name>(100));
        assert!(!certain::<Name, String>(100));
    }

    #[test]
    fn the_claim_bound_of_exact_types_stays_within_the_limit() {
        // Every exact type's widest container element is within
        // `CLAIM_PER_BYTE`, so the bound holds at every record size.
        assert!(size_of::<BatchOp<String, String>>() <= CLAIM_PER_BYTE);
        assert!(size_of::<BatchOp<u128, i128>>() <= CLAIM_PER_BYTE);
        for len in [0, 1, 1 << 20, 1 << 34, usize::MAX / 2] {
            assert!(certain::<u128, Box<[u8]>>(len), "{len}");
        }
    }
}
