//! Inserts at a position and key replacement: `shift_insert`,
//! `insert_before` (both logged as [`Op::InsertAt`]: insert or update the
//! key, then move it to an index) and `replace_index`.
//!
//! [`Op::InsertAt`]: crate::codec::Op::InsertAt

use std::hash::{BuildHasher, Hash};
use std::io;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::remove_many::invalid_index;

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Inserts the pair at `index`, as [`IndexMap::shift_insert`]: a new
    /// key goes exactly there (valid indices `0..=len()`), the entries
    /// from `index` on shift up one; an existing key keeps its stored key,
    /// gets `value` and moves to `index` (valid `0..len()`), the entries
    /// between shifting by one. Returns the previous value. One record.
    /// Cost: O(n) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::shift_insert` panics (`index` out of those bounds):
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written.
    pub fn shift_insert(&mut self, index: usize, key: K, value: V) -> io::Result<Option<V>> {
        let n = self.map.len();
        let (bound, ok) = match self.map.get_index_of(&key) {
            Some(_) => ("an existing key: 0..len", index < n),
            None => ("a new key: 0..=len", index <= n),
        };
        if !ok {
            return Err(invalid_index(format!(
                "shift_insert at {index} in a store of {n} entries (valid for {bound})"
            )));
        }
        self.log(&OpRef::InsertAt(index as u64, &key, &value))?;
        let old = self.map.shift_insert(index, key, value);
        self.applied(1);
        Ok(old)
    }

    /// Inserts the pair before the entry at `index` (valid `0..=len()`),
    /// as [`IndexMap::insert_before`]: a new key goes at `index`; an
    /// existing key gets `value` and moves to `index`, or to `index - 1`
    /// when it was before `index` (so that it ends before the entry that
    /// was at `index`). Returns the entry's final index and the previous
    /// value. One record. Cost: O(n) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::insert_before` panics (`index > len()`):
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written.
    pub fn insert_before(
        &mut self,
        index: usize,
        key: K,
        value: V,
    ) -> io::Result<(usize, Option<V>)> {
        let n = self.map.len();
        if index > n {
            return Err(invalid_index(format!(
                "insert_before {index} in a store of {n} entries"
            )));
        }
        let at = match self.map.get_index_of(&key) {
            Some(i) if index > i => index - 1,
            _ => index,
        };
        self.log(&OpRef::InsertAt(at as u64, &key, &value))?;
        let result = self.map.insert_before(index, key, value);
        debug_assert_eq!(result.0, at);
        self.applied(1);
        Ok(result)
    }

    /// Replaces the key at `index` with `key`, which must not be in the
    /// store at another index, as [`IndexMap::replace_index`]: the entry
    /// keeps its value and position. Returns `Ok(Ok(old_key))`, or
    /// `Ok(Err((other_index, key)))` and writes nothing if an equivalent
    /// key is at another index. One record. Cost: O(1) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::replace_index` panics (`index >= len()`):
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written.
    #[allow(clippy::type_complexity)]
    pub fn replace_index(&mut self, index: usize, key: K) -> io::Result<Result<K, (usize, K)>> {
        let n = self.map.len();
        if index >= n {
            return Err(invalid_index(format!(
                "replace_index {index} in a store of {n} entries"
            )));
        }
        if let Some(other) = self.map.get_index_of(&key).filter(|&i| i != index) {
            return Ok(Err((other, key)));
        }
        self.log(&OpRef::<K, V>::ReplaceKey(index as u64, &key))?;
        let replaced = self.map.replace_index(index, key);
        self.applied(1);
        Ok(replaced)
    }
}

/// Replays [`Op::InsertAt`](crate::codec::Op::InsertAt).
pub(crate) fn replay_insert_at<K: Hash + Eq, V, S: BuildHasher>(
    map: &mut IndexMap<K, V, S>,
    index: u64,
    key: K,
    value: V,
) -> Result<(), String> {
    let n = map.len();
    let limit = if map.contains_key(&key) { n } else { n + 1 };
    match usize::try_from(index) {
        Ok(i) if i < limit => {
            map.shift_insert(i, key, value);
            Ok(())
        }
        _ => Err(format!("insert at index {index} in a map of {n}")),
    }
}

/// Replays [`Op::ReplaceKey`](crate::codec::Op::ReplaceKey).
pub(crate) fn replay_replace_key<K: Hash + Eq, V, S: BuildHasher>(
    map: &mut IndexMap<K, V, S>,
    index: u64,
    key: K,
) -> Result<(), String> {
    let n = map.len();
    match usize::try_from(index) {
        Ok(i) if i < n => match map.replace_index(i, key) {
            Ok(_) => Ok(()),
            Err((other, _)) => Err(format!(
                "replacing the key at index {i} by the key at index {other}"
            )),
        },
        _ => Err(format!("key replacement at index {index} in a map of {n}")),
    }
}
