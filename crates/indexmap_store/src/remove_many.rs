//! Removals of many entries as one record: [`IndexRuns`] (the removed
//! indices, as runs), `retain`, `truncate`, `drain`, `split_off`, and a
//! batch's operations applied in one pass ([`apply_batch`]).
//!
//! A record of removed runs is applied in one O(n) pass that keeps the
//! order of the rest (`IndexMap::retain` with a cursor), or by
//! `IndexMap::truncate` when the removed entries are the last ones.

use std::hash::{BuildHasher, Hash};
use std::io;
use std::ops::{Bound, RangeBounds};

use indexmap::{Equivalent, IndexMap};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::IndexMapStore;
use crate::codec::{BatchOp, OpRef};
use crate::error::StoreError;

/// Sorted, disjoint, non-empty runs of indices, each as `(gap, len)`: the
/// run starts `gap` indices after the previous run's end (after 0 for the
/// first) and holds `len` indices. Both are varints on the wire, so a
/// record of removed indices costs a few bytes per run, however long.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexRuns(Vec<(u64, u64)>);

/// Builds [`IndexRuns`] from ascending indices.
#[derive(Debug, Default)]
pub(crate) struct RunsBuilder {
    runs: Vec<(u64, u64)>,
    /// End (exclusive) of the last run.
    end: u64,
}

impl RunsBuilder {
    /// Adds `index`, which must be greater than every index added before.
    pub(crate) fn push(&mut self, index: u64) {
        match self.runs.last_mut() {
            Some((_, len)) if index == self.end => *len += 1,
            _ => self.runs.push((index - self.end, 1)),
        }
        self.end = index + 1;
    }

    /// The runs.
    pub(crate) fn finish(self) -> IndexRuns {
        IndexRuns(self.runs)
    }
}

impl IndexRuns {
    /// One run: `start..end` (`start < end`).
    pub(crate) fn range(start: usize, end: usize) -> Self {
        IndexRuns(vec![(start as u64, (end - start) as u64)])
    }

    /// The runs, as `(gap, len)` pairs.
    pub(crate) fn runs(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// Whether there is no index.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many indices (saturating: a hostile record cannot overflow).
    pub(crate) fn count(&self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |sum, &(_, len)| sum.saturating_add(len))
    }

    /// The runs as absolute `start..end` ranges, checked against a map of
    /// `len` entries: every run non-empty, in order, within bounds.
    fn ranges(&self, len: usize) -> Result<Vec<(usize, usize)>, String> {
        let mut out = Vec::with_capacity(self.0.len());
        let mut end = 0u64;
        for &(gap, run) in &self.0 {
            let start = end.checked_add(gap);
            let stop = start.and_then(|s| s.checked_add(run));
            match (start, stop) {
                (Some(start), Some(stop)) if run > 0 && stop <= len as u64 => {
                    out.push((start as usize, stop as usize));
                    end = stop;
                }
                _ => {
                    return Err(format!(
                        "removal of a run of {run} entries {gap} after index {end} in a map of {len}"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Removes the indices from `map`, keeping the order of the rest, in
    /// one O(n) pass (O(removed) when they are the last entries); an
    /// `Err` describing the problem, and `map` unchanged, if an index is
    /// out of bounds or a run is empty.
    pub(crate) fn apply<K, V, S>(&self, map: &mut IndexMap<K, V, S>) -> Result<(), String> {
        let ranges = self.ranges(map.len())?;
        match ranges[..] {
            [] => {}
            [(start, end)] if end == map.len() => map.truncate(start),
            _ => {
                let mut runs = ranges.into_iter();
                let mut current = runs.next();
                let mut i = 0usize;
                map.retain(|_, _| {
                    let keep = match current {
                        Some((start, end)) if i >= start => {
                            if i + 1 == end {
                                current = runs.next();
                            }
                            false
                        }
                        _ => true,
                    };
                    i += 1;
                    keep
                });
            }
        }
        Ok(())
    }
}

/// The error of an index or range that `IndexMap` would panic on.
pub(crate) fn invalid_index(detail: String) -> io::Error {
    StoreError::InvalidIndex { detail }.into()
}

/// `range` as `start..end` within `0..len`, or the error `IndexMap::drain`
/// would panic with.
fn resolve_range(range: impl RangeBounds<usize>, len: usize) -> io::Result<(usize, usize)> {
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

/// Marks an index of [`Pending`] as holding no entry.
const NONE: usize = usize::MAX;

/// A batch's operations applied with the shift-removals deferred: every
/// entry gets an order key (its position in the final order, before the
/// removed ones are squeezed out), a shift-removal only marks its entry,
/// and one pass at the end removes the marked entries and, if an entry
/// had to move (a removed key inserted again goes last; a swap-removal
/// moves the last entry), reorders the rest. O(n + k) for `k` operations
/// on `n` entries, whatever the mix.
struct Pending<'m, K, V, S> {
    map: &'m mut IndexMap<K, V, S>,
    /// Per index in `map`: the entry's order key, or [`NONE`] if removed.
    key_of: Vec<usize>,
    /// Per order key: the index in `map` holding it, or [`NONE`].
    slot: Vec<usize>,
    /// Order keys issued during the batch (all `>=` the original length)
    /// and not yet found vacated, ascending.
    issued: Vec<usize>,
    /// The original order keys `0..low` are not yet known vacated.
    low: usize,
    /// Entries marked removed.
    removed: usize,
}

impl<'m, K: Hash + Eq, V, S: BuildHasher> Pending<'m, K, V, S> {
    fn new(map: &'m mut IndexMap<K, V, S>, ops: usize) -> Self {
        let n = map.len();
        let mut key_of = Vec::with_capacity(n + ops);
        key_of.extend(0..n);
        let mut slot = Vec::with_capacity(n + ops);
        slot.extend(0..n);
        Self {
            map,
            key_of,
            slot,
            issued: Vec::new(),
            low: n,
            removed: 0,
        }
    }

    /// Gives the entry at `index` a new order key, after every other.
    fn place_last(&mut self, index: usize) {
        let key = self.slot.len();
        self.slot.push(index);
        self.issued.push(key);
        self.key_of[index] = key;
    }

    /// The index of the live entry with the greatest order key.
    fn last(&mut self) -> Option<usize> {
        while let Some(&key) = self.issued.last() {
            if self.slot[key] != NONE {
                return Some(self.slot[key]);
            }
            self.issued.pop();
        }
        while self.low > 0 {
            if self.slot[self.low - 1] != NONE {
                return Some(self.slot[self.low - 1]);
            }
            self.low -= 1;
        }
        None
    }

    /// The index of `key`'s live entry.
    fn live(&self, key: &K) -> Option<usize> {
        self.map
            .get_index_of(key)
            .filter(|&i| self.key_of[i] != NONE)
    }

    fn mark_removed(&mut self, index: usize) {
        self.slot[self.key_of[index]] = NONE;
        self.key_of[index] = NONE;
        self.removed += 1;
    }

    fn insert(&mut self, key: K, value: V) {
        match self.map.get_index_of(&key) {
            Some(i) if self.key_of[i] != NONE => self.map[i] = value,
            Some(i) => {
                // Removed earlier in the batch, inserted again: the new
                // key and value, last.
                self.map[i] = value;
                let _ = self.map.replace_index(i, key);
                self.removed -= 1;
                self.place_last(i);
            }
            None => {
                let (i, _) = self.map.insert_full(key, value);
                self.key_of.push(NONE);
                self.place_last(i);
            }
        }
    }

    fn swap_remove(&mut self, key: &K) {
        let Some(i) = self.live(key) else { return };
        let Some(last) = self.last() else { return };
        if last != i {
            // The last entry takes the removed one's place in the order.
            let (from, to) = (self.key_of[last], self.key_of[i]);
            self.slot[to] = last;
            self.key_of[last] = to;
            self.key_of[i] = from;
            self.slot[from] = i;
        }
        self.mark_removed(i);
    }

    /// Removes the marked entries and puts the rest in order.
    fn finish(self) {
        let Pending {
            map,
            mut key_of,
            slot,
            removed,
            ..
        } = self;
        if removed > 0 {
            let mut i = 0;
            map.retain(|_, _| {
                let keep = key_of[i] != NONE;
                i += 1;
                keep
            });
        }
        // Each live entry's index after the removals.
        let mut next = 0;
        for k in &mut key_of {
            if *k != NONE {
                *k = next;
                next += 1;
            }
        }
        let order: Vec<usize> = slot
            .into_iter()
            .filter(|&i| i != NONE)
            .map(|i| key_of[i])
            .collect();
        if order.iter().enumerate().any(|(new, &old)| new != old) {
            crate::order::permute(map, &order);
        }
    }
}

/// Applies the operations of a batch, with the effect of applying them one
/// by one in order (order of entries included), in O(n + k): with fewer
/// than two shift-removals one by one, else with the shift-removals
/// deferred to one pass (see [`Pending`]).
pub(crate) fn apply_batch<K: Hash + Eq, V, S: BuildHasher>(
    map: &mut IndexMap<K, V, S>,
    ops: Vec<BatchOp<K, V>>,
) {
    let shift_removes = ops
        .iter()
        .filter(|op| matches!(op, BatchOp::ShiftRemove(_)))
        .count();
    if shift_removes < 2 {
        for op in ops {
            match op {
                BatchOp::Insert(k, v) => {
                    map.insert(k, v);
                }
                BatchOp::ShiftRemove(k) => {
                    map.shift_remove(&k);
                }
                BatchOp::SwapRemove(k) => {
                    map.swap_remove(&k);
                }
            }
        }
        return;
    }
    let mut pending = Pending::new(map, ops.len());
    for op in ops {
        match op {
            BatchOp::Insert(k, v) => pending.insert(k, v),
            BatchOp::ShiftRemove(k) => {
                if let Some(i) = pending.live(&k) {
                    pending.mark_removed(i);
                }
            }
            BatchOp::SwapRemove(k) => pending.swap_remove(&k),
        }
    }
    pending.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Op, decode, encode_into};

    fn runs_of(indices: &[u64]) -> IndexRuns {
        let mut b = RunsBuilder::default();
        for &i in indices {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn runs_are_gaps_and_lengths() {
        assert_eq!(runs_of(&[1, 2, 5]).0, [(1, 2), (2, 1)]);
        assert_eq!(runs_of(&[0, 1, 2]).0, [(0, 3)]);
        assert!(runs_of(&[]).is_empty());
        assert_eq!(runs_of(&[1, 2, 5]).count(), 3);
    }

    #[test]
    fn runs_apply_and_refuse_what_does_not_fit() {
        let mut map: IndexMap<u32, ()> = (0..8).map(|i| (i, ())).collect();
        runs_of(&[1, 2, 5]).apply(&mut map).unwrap();
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [0, 3, 4, 6, 7]);
        runs_of(&[3, 4]).apply(&mut map).unwrap();
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [0, 3, 4]);
        for bad in [
            IndexRuns(vec![(0, 4)]),
            IndexRuns(vec![(1, 0)]),
            IndexRuns(vec![(u64::MAX, 2)]),
            IndexRuns(vec![(0, 1), (0, u64::MAX)]),
        ] {
            assert!(bad.apply(&mut map).is_err(), "{bad:?}");
            assert_eq!(map.len(), 3);
        }
    }

    /// `ops` applied one by one, as `IndexMap` does.
    fn one_by_one(map: &mut IndexMap<u32, u32>, ops: &[BatchOp<u32, u32>]) {
        for op in ops {
            match op {
                BatchOp::Insert(k, v) => {
                    map.insert(*k, *v);
                }
                BatchOp::ShiftRemove(k) => {
                    map.shift_remove(k);
                }
                BatchOp::SwapRemove(k) => {
                    map.swap_remove(k);
                }
            }
        }
    }

    #[test]
    fn a_batch_applies_as_its_operations_one_by_one() {
        let mut rng = test_support::rng::Rng::new(0x5eed);
        for round in 0..20_000 {
            let keys = 1 + rng.below(40);
            let mut map: IndexMap<u32, u32> = IndexMap::new();
            for _ in 0..rng.below(30) {
                map.insert(rng.below(keys) as u32, rng.below(100) as u32);
            }
            let ops: Vec<BatchOp<u32, u32>> = (0..rng.below(40))
                .map(|_| {
                    let k = rng.below(keys) as u32;
                    match rng.below(10) {
                        0..=3 => BatchOp::Insert(k, rng.below(100) as u32),
                        4..=7 => BatchOp::ShiftRemove(k),
                        _ => BatchOp::SwapRemove(k),
                    }
                })
                .collect();
            let mut expected = map.clone();
            one_by_one(&mut expected, &ops);
            apply_batch(&mut map, ops.clone());
            let got: Vec<_> = map.iter().collect();
            let want: Vec<_> = expected.iter().collect();
            assert_eq!(got, want, "round {round}: {ops:?}");
            for (i, k) in expected.keys().enumerate() {
                assert_eq!(map.get_index_of(k), Some(i), "round {round}: index of {k}");
            }
        }
    }

    #[test]
    fn golden_retain_record_bytes() {
        // RECORDS.md's worked example: removing indices 1, 2 and 5.
        let mut buf = Vec::new();
        encode_into(
            &mut buf,
            &OpRef::<String, u32>::RemoveRuns(&runs_of(&[1, 2, 5])),
        )
        .unwrap();
        assert_eq!(buf, [7, 2, 1, 2, 2, 1]);
        let Op::RemoveRuns(runs) = decode::<String, u32>(&buf).unwrap() else {
            panic!("not a removal");
        };
        assert_eq!(runs, runs_of(&[1, 2, 5]));
    }
}
