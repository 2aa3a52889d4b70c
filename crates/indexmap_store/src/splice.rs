//! Replacing a range of entries: `splice`, logged as one
//! [`Op::Splice`](crate::codec::Op::Splice) record holding the range and
//! the replacement pairs, replayed by `IndexMap::splice` itself.

use std::hash::{BuildHasher, Hash};
use std::io;
use std::ops::RangeBounds;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::remove_many::resolve_range;

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Replaces the entries in `range` with the pairs of `replace_with`
    /// and returns the removed entries, in order, as [`IndexMap::splice`]:
    /// the range is removed first; then each pair, in order, updates the
    /// value of its key in place if the key is in the store (outside the
    /// range, or inserted earlier by this call: a duplicate key in
    /// `replace_with` keeps its first position and takes its last value),
    /// or else is inserted in the gap the range left, after the pairs
    /// inserted before it. `replace_with` need not be as long as the range.
    /// The entries before and after the range keep their order.
    ///
    /// Unlike `IndexMap::splice`, which returns a lazy iterator and
    /// consumes `replace_with` when it is dropped, the store does it all
    /// now and returns the removed entries as a `Vec`, as its
    /// [`drain`](Self::drain) does.
    ///
    /// One record holding the range and every pair of `replace_with`, so
    /// that after a crash the splice is there whole or not at all; nothing
    /// is written if the range is empty and `replace_with` yields nothing.
    /// Cost: O(n + m) for `m` pairs, plus one write of the encoded pairs,
    /// which must fit one record (1 GiB); a reopen replays it in O(n + m).
    ///
    /// # Errors
    ///
    /// Where `IndexMap::splice` panics (the start after the end, or the end
    /// past `len()`): [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written and `replace_with` not consumed.
    pub fn splice<R, I>(&mut self, range: R, replace_with: I) -> io::Result<Vec<(K, V)>>
    where
        R: RangeBounds<usize>,
        I: IntoIterator<Item = (K, V)>,
    {
        let (start, end) = resolve_range(range, self.map.len())?;
        let pairs: Vec<(K, V)> = replace_with.into_iter().collect();
        if start == end && pairs.is_empty() {
            return Ok(Vec::new());
        }
        self.log(&OpRef::Splice(start as u64, end as u64, &pairs))?;
        let count = (end - start + pairs.len()) as u64;
        let removed = self.map.splice(start..end, pairs).collect();
        self.applied(count);
        Ok(removed)
    }
}

/// Replays [`Op::Splice`](crate::codec::Op::Splice): the range must lie
/// within the map.
pub(crate) fn replay_splice<K: Hash + Eq, V, S: BuildHasher>(
    map: &mut IndexMap<K, V, S>,
    start: u64,
    end: u64,
    pairs: Vec<(K, V)>,
) -> Result<(), String> {
    let n = map.len();
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if s <= e && e <= n => {
            // Dropping the splice inserts the pairs.
            drop(map.splice(s..e, pairs));
            Ok(())
        }
        _ => Err(format!("splice of indices {start}..{end} in a map of {n}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Op, OpRef, decode, encode_into, splice_mutations};

    #[test]
    fn golden_splice_record_bytes() {
        // RECORDS.md's worked example: `splice(1..3, [("x", 7), ("a", 300)])`.
        let pairs = vec![("x".to_owned(), 7u32), ("a".to_owned(), 300)];
        let mut buf = Vec::new();
        encode_into(&mut buf, &OpRef::Splice(1, 3, &pairs)).unwrap();
        assert_eq!(buf, [14, 1, 3, 2, 1, b'x', 7, 1, b'a', 251, 0x2c, 0x01]);
        let Op::Splice(1, 3, back) = decode::<String, u32>(&buf).unwrap() else {
            panic!("not a splice");
        };
        assert_eq!(back, pairs);
        assert_eq!(splice_mutations(&buf), Some(4));
        let mut other = Vec::new();
        encode_into(&mut other, &OpRef::<String, u32>::Clear).unwrap();
        assert_eq!(splice_mutations(&other), None);
    }
}
