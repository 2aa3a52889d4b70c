//! Inserts at a position and key replacement: `shift_insert`,
//! `insert_before` and the sorted inserts (`insert_sorted*`), logged as
//! [`Op::InsertAt`] (insert or update the key, then move it to an index)
//! or, for an update in place, [`Op::Insert`]; and `replace_index`.
//!
//! [`Op::InsertAt`]: crate::codec::Op::InsertAt
//! [`Op::Insert`]: crate::codec::Op::Insert

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash};
use std::io;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::remove_many::invalid_index;
use crate::store::log_durably;

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

    /// Inserts the pair at its place among keys sorted in ascending order,
    /// as [`IndexMap::insert_sorted`]: the place is found with
    /// [`IndexMap::binary_search_keys`]; if the key is found there, its
    /// value is replaced in place (no entry moves) and `(index,
    /// Some(old))` returned, else the pair is inserted there as by
    /// [`insert_before`](Self::insert_before), the later entries shifting
    /// up, and `(index, None)` returned. If the keys are not sorted, the
    /// place is unspecified (as for `slice::binary_search`), but the pair
    /// is moved to or inserted at it regardless. One record: the update
    /// ([`insert`](Self::insert)'s), or the insert at the index
    /// (`insert_before`'s). Cost: O(log n) comparisons, O(n) moves for a
    /// new key, plus one write.
    pub fn insert_sorted(&mut self, key: K, value: V) -> io::Result<(usize, Option<V>)>
    where
        K: Ord,
    {
        match self.map.binary_search_keys(&key) {
            Ok(i) => {
                // Logged with the stored key, which the update keeps.
                let (stored, _) = self.map.get_index(i).expect("a found index is in bounds");
                log_durably::<K, V, _>(
                    &mut self.wal,
                    Some(&mut self.feed),
                    self.poison.as_deref(),
                    self.verify_writes,
                    &mut self.sync,
                    &OpRef::Insert(stored, &value),
                )?;
                let old = std::mem::replace(&mut self.map[i], value);
                self.applied(1);
                Ok((i, Some(old)))
            }
            Err(i) => self.insert_before(i, key, value),
        }
    }

    /// Inserts the pair at its place among entries sorted by `cmp`, as
    /// [`IndexMap::insert_sorted_by`]: the place is found with
    /// [`IndexMap::binary_search_by`], calling `cmp(k, v, &key, &value)`
    /// on the entries it probes, then the pair goes there as by
    /// [`insert_before`](Self::insert_before): a new key is inserted, an
    /// existing key takes `value` and **moves** there (unlike
    /// [`insert_sorted`](Self::insert_sorted)). Returns the entry's final
    /// index and the previous value. If the entries are not sorted by
    /// `cmp`, the place is unspecified, but the pair goes there
    /// regardless. `cmp` runs now only: the record is `insert_before`'s,
    /// holding the index. Cost: O(log n) calls of `cmp` and O(n) moves,
    /// plus one write.
    pub fn insert_sorted_by<F>(
        &mut self,
        key: K,
        value: V,
        mut cmp: F,
    ) -> io::Result<(usize, Option<V>)>
    where
        F: FnMut(&K, &V, &K, &V) -> Ordering,
    {
        let (Ok(i) | Err(i)) = self.map.binary_search_by(|k, v| cmp(k, v, &key, &value));
        self.insert_before(i, key, value)
    }

    /// Inserts the pair at its place among entries sorted by the key
    /// `sort_key` extracts, as [`IndexMap::insert_sorted_by_key`]: the
    /// place is found with [`IndexMap::binary_search_by_key`] for
    /// `sort_key(&key, &value)`, then the pair goes there as by
    /// [`insert_sorted_by`](Self::insert_sorted_by) (an existing key
    /// moves). Returns the entry's final index and the previous value.
    /// One record; cost as `insert_sorted_by`.
    pub fn insert_sorted_by_key<B, F>(
        &mut self,
        key: K,
        value: V,
        mut sort_key: F,
    ) -> io::Result<(usize, Option<V>)>
    where
        B: Ord,
        F: FnMut(&K, &V) -> B,
    {
        let search = sort_key(&key, &value);
        let (Ok(i) | Err(i)) = self.map.binary_search_by_key(&search, sort_key);
        self.insert_before(i, key, value)
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
