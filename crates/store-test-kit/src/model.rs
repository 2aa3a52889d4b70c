//! The model: an [`Op`] applied to a plain `IndexMap`.

use std::hash::BuildHasher;

use indexmap::IndexMap;

use crate::flavor::Flavor;
use crate::op::{BatchItem, Op, Outcome};

/// The valid `(from, to)` of a `MoveIndex` on a map of `len` entries.
pub(crate) fn move_indices(from: usize, to: usize, len: usize) -> Option<(usize, usize)> {
    (len > 0).then(|| (from % len, to % len))
}

/// Applies `d` to `v` and returns the value it had.
pub(crate) fn modified<F: Flavor>(v: &mut F::V, d: &F::Delta) -> F::V {
    let old = v.clone();
    F::modify(v, d);
    old
}

/// Applies `op` to the model.
pub fn apply_model<F: Flavor, S: BuildHasher + Clone>(
    model: &mut IndexMap<F::K, F::V, S>,
    op: &Op<F>,
) -> Outcome<F> {
    match op {
        Op::Insert(k, v) => Outcome::Value(model.insert(k.clone(), v.clone())),
        Op::InsertFull(k, v) => {
            let (i, old) = model.insert_full(k.clone(), v.clone());
            Outcome::Full(i, old)
        }
        Op::Remove(k) | Op::ShiftRemove(k) => Outcome::Value(model.shift_remove(k)),
        Op::SwapRemove(k) => Outcome::Value(model.swap_remove(k)),
        Op::ShiftRemoveFull(k) => Outcome::RemovedFull(model.shift_remove_full(k)),
        Op::SwapRemoveFull(k) => Outcome::RemovedFull(model.swap_remove_full(k)),
        Op::ShiftRemoveIndex(i) => Outcome::Removed(model.shift_remove_index(*i)),
        Op::SwapRemoveIndex(i) => Outcome::Removed(model.swap_remove_index(*i)),
        Op::Pop => Outcome::Removed(model.pop()),
        Op::Clear => {
            model.clear();
            Outcome::Unit
        }
        Op::MoveIndex(from, to) => {
            if let Some((from, to)) = move_indices(*from, *to, model.len()) {
                model.move_index(from, to);
            }
            Outcome::Unit
        }
        Op::Modify(k, d) => Outcome::Modified(model.get_mut(k).map(|v| modified::<F>(v, d))),
        Op::Entry {
            key,
            delta,
            default,
        } => Outcome::EntryValue(
            model
                .entry(key.clone())
                .and_modify(|v| F::modify(v, delta))
                .or_insert_with(|| default.clone())
                .clone(),
        ),
        Op::InsertMany(pairs) | Op::Extend(pairs) => {
            model.extend(pairs.iter().cloned());
            Outcome::Unit
        }
        Op::Apply(items) => {
            for item in items {
                match item {
                    BatchItem::Insert(k, v) => {
                        model.insert(k.clone(), v.clone());
                    }
                    BatchItem::ShiftRemove(k) => {
                        model.shift_remove(k);
                    }
                    BatchItem::SwapRemove(k) => {
                        model.swap_remove(k);
                    }
                }
            }
            Outcome::Unit
        }
        Op::Compact | Op::Flush | Op::Reopen => Outcome::Unit,
        Op::Retain(d) => {
            model.retain(|k, v| F::keep(k, v, *d));
            Outcome::Unit
        }
        Op::Truncate(len) => {
            model.truncate(*len);
            Outcome::Unit
        }
        // Where IndexMap panics, the model says Invalid and changes nothing.
        Op::Drain(start, end) => {
            if start > end || *end > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(model.drain(start..end).collect())
        }
        Op::SplitOff(at) => {
            if *at > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(model.split_off(*at).into_iter().collect())
        }
        Op::PopIf(d) => Outcome::Removed(model.pop_if(|_, v| *v >= *d)),
        Op::ShiftRemoveEntry(k) => Outcome::Removed(model.shift_remove_entry(k)),
        Op::SwapRemoveEntry(k) => Outcome::Removed(model.swap_remove_entry(k)),
        Op::SortKeys => {
            model.sort_keys();
            Outcome::Unit
        }
        Op::SortBy => {
            model.sort_by(|k1, v1, k2, v2| F::compare(k1, v1, k2, v2));
            Outcome::Unit
        }
        Op::SortByKey => {
            model.sort_by_key(|k, v| F::class(k, v));
            Outcome::Unit
        }
        Op::SortUnstableKeys => {
            model.sort_unstable_keys();
            Outcome::Unit
        }
        Op::SortUnstableBy => {
            model.sort_unstable_by(|k1, v1, k2, v2| (v1, k1).cmp(&(v2, k2)));
            Outcome::Unit
        }
        Op::SortUnstableByKey => {
            model.sort_unstable_by_key(|k, _| (F::key_size(k), k.clone()));
            Outcome::Unit
        }
        Op::SortByCachedKey => {
            model.sort_by_cached_key(|k, _| F::key_size(k));
            Outcome::Unit
        }
        Op::Reverse => {
            model.reverse();
            Outcome::Unit
        }
        Op::SwapIndices(a, b) => {
            if *a >= model.len() || *b >= model.len() {
                return Outcome::Invalid;
            }
            model.swap_indices(*a, *b);
            Outcome::Unit
        }
        Op::ShiftInsert(i, k, v) => {
            let limit = model.len() + usize::from(!model.contains_key(k));
            if *i >= limit {
                return Outcome::Invalid;
            }
            Outcome::Value(model.shift_insert(*i, k.clone(), v.clone()))
        }
        Op::InsertBefore(i, k, v) => {
            if *i > model.len() {
                return Outcome::Invalid;
            }
            let (at, old) = model.insert_before(*i, k.clone(), v.clone());
            Outcome::Full(at, old)
        }
        Op::ReplaceIndex(i, k) => {
            if *i >= model.len() {
                return Outcome::Invalid;
            }
            Outcome::Replaced(model.replace_index(*i, k.clone()))
        }
        Op::InsertSorted(k, v) => {
            let (i, old) = model.insert_sorted(k.clone(), v.clone());
            Outcome::Full(i, old)
        }
        Op::InsertSortedBy(k, v) => {
            let (i, old) = model.insert_sorted_by(k.clone(), v.clone(), F::compare);
            Outcome::Full(i, old)
        }
        Op::InsertSortedByKey(k, v) => {
            let (i, old) = model.insert_sorted_by_key(k.clone(), v.clone(), F::class);
            Outcome::Full(i, old)
        }
        Op::ExtractIf(start, end, d) => {
            if start > end || *end > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(
                model
                    .extract_if(start..end, |k, v| !F::keep(k, v, *d))
                    .collect(),
            )
        }
        Op::Append(pairs) => {
            let mut other: IndexMap<F::K, F::V> = pairs.iter().cloned().collect();
            model.append(&mut other);
            Outcome::Unit
        }
        Op::Splice(start, end, pairs) => {
            if start > end || *end > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(model.splice(start..end, pairs.iter().cloned()).collect())
        }
        Op::IndexEntryInsert(i, v) => {
            Outcome::Value(model.get_index_entry(*i).map(|mut e| e.insert(v.clone())))
        }
        Op::FirstEntrySwapRemove => {
            Outcome::Removed(model.first_entry().map(|e| e.swap_remove_entry()))
        }
        Op::LastEntryModify(d) => Outcome::Modified(
            model
                .last_entry()
                .map(|mut e| modified::<F>(e.get_mut(), d)),
        ),
    }
}
