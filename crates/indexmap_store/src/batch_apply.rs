//! A batch's operations applied in one pass ([`apply_batch`]): on
//! replay, and when a batch is applied to the map after it was logged.

use std::hash::{BuildHasher, Hash};

use indexmap::IndexMap;

use crate::codec::BatchOp;

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
}
