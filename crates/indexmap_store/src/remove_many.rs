//! Removals of many entries as one record: `retain`, `extract_if`,
//! `truncate`, `drain`, `split_off`, `pop_if`, and the `_entry` removals;
//! the removed indices are logged as [`IndexRuns`].

use std::hash::{BuildHasher, Hash};
use std::io;
use std::ops::{Bound, RangeBounds};

use indexmap::{Equivalent, IndexMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::error::StoreError;
use crate::index_runs::{IndexRuns, RunsBuilder};

/// The error of an index or range that `IndexMap` would panic on.
pub(crate) fn invalid_index(detail: String) -> io::Error {
    StoreError::InvalidIndex { detail }.into()
}

/// `range` as `start..end` within `0..len`, or the error `IndexMap::drain`
/// would panic with.
pub(crate) fn resolve_range(
    range: impl RangeBounds<usize>,
    len: usize,
) -> io::Result<(usize, usize)> {
    let start = match range.start_bound() {
        Bound::Included(&s) => Some(s),
        Bound::Excluded(&s) => s.checked_add(1),
        Bound::Unbounded => Some(0),
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.checked_add(1),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => Some(len),
    };
    match (start, end) {
        (Some(start), Some(end)) if start <= end && end <= len => Ok((start, end)),
        _ => Err(invalid_index(format!(
            "range {:?}..{:?} in a store of {len} entries",
            range.start_bound(),
            range.end_bound()
        ))),
    }
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Keeps the entries for which `keep` returns `true` and removes the
    /// others, as [`IndexMap::retain`]: the entries are visited in order,
    /// and the rest keep their order.
    ///
    /// `keep` runs once per entry, now; the record holds the removed
    /// indices (as runs), not the closure, so a reopen replays it in one
    /// O(n) pass. Unlike `IndexMap::retain`, `keep` sees each value by
    /// shared reference: a change made there could not be logged (use
    /// [`modify`](Self::modify)). One record, however many entries go;
    /// nothing is written if none does, and nothing changes if `keep`
    /// panics. Cost: O(n) plus one write.
    pub fn retain<F>(&mut self, mut keep: F) -> io::Result<()>
    where
        F: FnMut(&K, &V) -> bool,
    {
        let mut runs = RunsBuilder::default();
        for (i, (k, v)) in self.map.iter().enumerate() {
            if !keep(k, v) {
                runs.push(i as u64);
            }
        }
        let runs = runs.finish();
        if runs.is_empty() {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::RemoveRuns(&runs))?;
        let count = runs.count();
        // The runs were built from this map: they apply.
        let _ = runs.apply(&mut self.map);
        self.applied(count);
        Ok(())
    }

    /// Removes the entries of `range` for which `pred` returns `true` and
    /// returns them, in order, as [`IndexMap::extract_if`] does once its
    /// iterator is exhausted: the entries in `range` are visited in order,
    /// and the rest keep their order. `..` checks the whole store.
    ///
    /// Unlike `IndexMap::extract_if`, which is a lazy iterator whose
    /// predicate gets `&mut V`, the store calls `pred` on every entry of
    /// the range now, with the value by shared reference (a change could
    /// not be logged: use [`modify`](Self::modify)), and returns the
    /// removed entries as a `Vec`, as its [`drain`](Self::drain) does. One
    /// record holding the removed indices (as [`retain`](Self::retain)),
    /// replayed in one O(n) pass; nothing is written if none is removed,
    /// and nothing changes if `pred` panics. Cost: O(n) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::extract_if` panics (the start after the end, or
    /// the end past `len()`): [`StoreError::InvalidIndex`]
    /// (`InvalidInput`), nothing written and `pred` never called.
    pub fn extract_if<F, R>(&mut self, range: R, mut pred: F) -> io::Result<Vec<(K, V)>>
    where
        F: FnMut(&K, &V) -> bool,
        R: RangeBounds<usize>,
    {
        let (start, end) = resolve_range(range, self.map.len())?;
        let mut marks = Vec::with_capacity(end - start);
        let mut runs = RunsBuilder::default();
        for (i, (k, v)) in self.map[start..end].iter().enumerate() {
            let out = pred(k, v);
            if out {
                runs.push((start + i) as u64);
            }
            marks.push(out);
        }
        let runs = runs.finish();
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        self.log(&OpRef::<K, V>::RemoveRuns(&runs))?;
        let mut marks = marks.into_iter();
        let removed: Vec<(K, V)> = self
            .map
            .extract_if(start..end, |_, _| marks.next().unwrap_or(false))
            .collect();
        self.applied(removed.len() as u64);
        Ok(removed)
    }

    /// Keeps the first `len` entries and removes the rest, as
    /// [`IndexMap::truncate`]: the rest keep their order. Nothing is
    /// written if `len >= self.len()`. One record. Cost: O(removed) plus
    /// one write.
    pub fn truncate(&mut self, len: usize) -> io::Result<()> {
        let n = self.map.len();
        if len >= n {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::RemoveRuns(&IndexRuns::range(len, n)))?;
        self.map.truncate(len);
        self.applied((n - len) as u64);
        Ok(())
    }

    /// Removes the entries in `range` and returns them, in order, as
    /// [`IndexMap::drain`] does; the later entries shift down to fill the
    /// gap, keeping their order. One record; nothing is written for an
    /// empty range. Cost: O(n) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::drain` panics (the start after the end, or the end
    /// past `len()`): [`StoreError::InvalidIndex`] (`InvalidInput`),
    /// nothing written.
    pub fn drain<R>(&mut self, range: R) -> io::Result<Vec<(K, V)>>
    where
        R: RangeBounds<usize>,
    {
        let (start, end) = resolve_range(range, self.map.len())?;
        if start == end {
            return Ok(Vec::new());
        }
        self.log(&OpRef::<K, V>::RemoveRuns(&IndexRuns::range(start, end)))?;
        let drained = self.map.drain(start..end).collect();
        self.applied((end - start) as u64);
        Ok(drained)
    }

    /// Removes the entries from index `at` on and returns them, in order,
    /// as a new map, as [`IndexMap::split_off`]; the store keeps
    /// `0..at`. One record; nothing is written if `at == len()` (the map
    /// returned is then empty). Cost: O(removed) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::split_off` panics (`at > len()`):
    /// [`StoreError::InvalidIndex`] (`InvalidInput`), nothing written.
    pub fn split_off(&mut self, at: usize) -> io::Result<IndexMap<K, V, S>>
    where
        S: Clone,
    {
        let n = self.map.len();
        if at > n {
            return Err(invalid_index(format!(
                "split_off at {at} in a store of {n} entries"
            )));
        }
        if at == n {
            return Ok(IndexMap::with_hasher(self.map.hasher().clone()));
        }
        self.log(&OpRef::<K, V>::RemoveRuns(&IndexRuns::range(at, n)))?;
        let tail = self.map.split_off(at);
        self.applied((n - at) as u64);
        Ok(tail)
    }

    /// Removes and returns the last entry if `predicate` returns `true`
    /// for it, as [`IndexMap::pop_if`]; `Ok(None)` and nothing written if
    /// the store is empty (`predicate` is not called then) or `predicate`
    /// returns `false`. The others keep their order. Unlike
    /// `IndexMap::pop_if`, `predicate` sees the value by shared reference
    /// (a change could not be logged). Cost: O(1) plus one write.
    pub fn pop_if(&mut self, predicate: impl FnOnce(&K, &V) -> bool) -> io::Result<Option<(K, V)>> {
        match self.map.last() {
            Some((k, v)) if predicate(k, v) => self.pop(),
            _ => Ok(None),
        }
    }

    /// Removes `key` by shifting every later entry down, returning its
    /// stored key and value, as [`IndexMap::shift_remove_entry`]: keeps
    /// the order of the rest. Cost: O(n); nothing is written if the key
    /// is absent.
    pub fn shift_remove_entry<Q>(&mut self, key: &Q) -> io::Result<Option<(K, V)>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        Ok(self.shift_remove_full(key)?.map(|(_, k, v)| (k, v)))
    }

    /// Removes `key` by moving the last entry into its place, returning
    /// its stored key and value, as [`IndexMap::swap_remove_entry`]:
    /// O(1), but the last entry changes position. Nothing is written if
    /// the key is absent.
    pub fn swap_remove_entry<Q>(&mut self, key: &Q) -> io::Result<Option<(K, V)>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        Ok(self.swap_remove_full(key)?.map(|(_, k, v)| (k, v)))
    }

    /// Reserves room for `additional` more entries in memory, as
    /// [`IndexMap::reserve`]. Not logged: it changes no entry. Cost: O(n)
    /// when it reallocates.
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    /// Shrinks the map's memory to fit its entries, as
    /// [`IndexMap::shrink_to_fit`]. Not logged: it changes no entry.
    /// Cost: O(n).
    pub fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
    }
}
