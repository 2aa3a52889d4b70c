//! The operation vocabulary: [`Op`] names every mutating method of
//! `IndexMapStore` (plus compaction, flush and reopen), and [`Outcome`]
//! what such a method returned, comparable between store and model.

use indexmap::IndexMap;

use crate::flavor::Flavor;
use crate::model::apply_model;

/// One operation of a batch passed to `IndexMapStore::apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem<F: Flavor> {
    /// `Batch::insert`.
    Insert(F::K, F::V),
    /// `Batch::shift_remove`.
    ShiftRemove(F::K),
    /// `Batch::swap_remove`.
    SwapRemove(F::K),
}

/// One operation on the store, and on the model. The value-dependent ones
/// (`Modify`, `Entry`, `Retain`, the sorts by a closure) take their
/// closures from the [`Flavor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<F: Flavor> {
    /// `insert(k, v)`.
    Insert(F::K, F::V),
    /// `insert_full(k, v)`.
    InsertFull(F::K, F::V),
    /// `remove(&k)`.
    Remove(F::K),
    /// `shift_remove(&k)`.
    ShiftRemove(F::K),
    /// `swap_remove(&k)`.
    SwapRemove(F::K),
    /// `shift_remove_full(&k)`.
    ShiftRemoveFull(F::K),
    /// `swap_remove_full(&k)`.
    SwapRemoveFull(F::K),
    /// `shift_remove_index(i)`; `i` may be out of bounds.
    ShiftRemoveIndex(usize),
    /// `swap_remove_index(i)`; `i` may be out of bounds.
    SwapRemoveIndex(usize),
    /// `pop()`.
    Pop,
    /// `clear()`.
    Clear,
    /// `move_index(from % len, to % len)`; nothing when the map is empty
    /// (an out-of-bounds move panics by contract).
    MoveIndex(usize, usize),
    /// `modify(&k, |v| { old = v.clone(); F::modify(v, d); old })`.
    Modify(F::K, F::Delta),
    /// `entry(k).and_modify(|v| F::modify(v, delta)).or_insert(default)`.
    Entry {
        /// The key.
        key: F::K,
        /// Applied to a present value.
        delta: F::Delta,
        /// Inserted when absent.
        default: F::V,
    },
    /// `insert_many(pairs)`.
    InsertMany(Vec<(F::K, F::V)>),
    /// `extend(pairs)`.
    Extend(Vec<(F::K, F::V)>),
    /// `apply(batch)`.
    Apply(Vec<BatchItem<F>>),
    /// `compact()`.
    Compact,
    /// `flush()`.
    Flush,
    /// Drop the store and open it again.
    Reopen,
    /// `retain(|k, v| F::keep(k, v, d))`.
    Retain(u32),
    /// `truncate(len)`.
    Truncate(usize),
    /// `drain(start..end)`; may be out of bounds or reversed.
    Drain(usize, usize),
    /// `split_off(at)`; may be out of bounds.
    SplitOff(usize),
    /// `pop_if(|_, v| *v >= d)`.
    PopIf(F::V),
    /// `shift_remove_entry(&k)`.
    ShiftRemoveEntry(F::K),
    /// `swap_remove_entry(&k)`.
    SwapRemoveEntry(F::K),
    /// `sort_keys()`.
    SortKeys,
    /// `sort_by(F::compare)` (stable: ties keep their order).
    SortBy,
    /// `sort_by_key(F::class)` (stable).
    SortByKey,
    /// `sort_unstable_keys()`.
    SortUnstableKeys,
    /// `sort_unstable_by` on `(value, key)` (a total order).
    SortUnstableBy,
    /// `sort_unstable_by_key(|k, _| (F::key_size(k), k.clone()))` (a total
    /// order).
    SortUnstableByKey,
    /// `sort_by_cached_key(|k, _| F::key_size(k))` (stable).
    SortByCachedKey,
    /// `reverse()`.
    Reverse,
    /// `swap_indices(a, b)`; may be out of bounds.
    SwapIndices(usize, usize),
    /// `shift_insert(i, k, v)`; may be out of bounds.
    ShiftInsert(usize, F::K, F::V),
    /// `insert_before(i, k, v)`; may be out of bounds.
    InsertBefore(usize, F::K, F::V),
    /// `replace_index(i, k)`; may be out of bounds.
    ReplaceIndex(usize, F::K),
    /// `insert_sorted(k, v)`.
    InsertSorted(F::K, F::V),
    /// `insert_sorted_by(k, v, F::compare)`.
    InsertSortedBy(F::K, F::V),
    /// `insert_sorted_by_key(k, v, F::class)`.
    InsertSortedByKey(F::K, F::V),
    /// `extract_if(start..end, |k, v| !F::keep(k, v, d))`; the range may
    /// be out of bounds or reversed.
    ExtractIf(usize, usize, u32),
    /// `append(&mut other)`, `other` collected from the pairs (a repeated
    /// key keeps its first position and its last value).
    Append(Vec<(F::K, F::V)>),
    /// `splice(start..end, pairs)`; the range may be out of bounds or
    /// reversed.
    Splice(usize, usize, Vec<(F::K, F::V)>),
    /// `get_index_entry(i)`, then `insert(v)` on it; `i` may be out of
    /// bounds.
    IndexEntryInsert(usize, F::V),
    /// `first_entry()`, then `swap_remove_entry()` on it.
    FirstEntrySwapRemove,
    /// `last_entry()`, then `modify(|v| F::modify(v, d))` on it.
    LastEntryModify(F::Delta),
}

/// Number of distinct [`Op`] variants.
pub const OP_VARIANTS: usize = 48;

/// What a method returned, comparable between store and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<F: Flavor> {
    /// `()`.
    Unit,
    /// A previous or removed value.
    Value(Option<F::V>),
    /// `insert_full`'s index and previous value.
    Full(usize, Option<F::V>),
    /// A `*_remove_full` result.
    RemovedFull(Option<(usize, F::K, F::V)>),
    /// A removed entry (`*_remove_index`, `pop`).
    Removed(Option<(F::K, F::V)>),
    /// `modify`'s result: the old value, if the key was present.
    Modified(Option<F::V>),
    /// The value the entry API returned.
    EntryValue(F::V),
    /// Removed entries (`drain`, `split_off`).
    Entries(Vec<(F::K, F::V)>),
    /// `replace_index`'s result.
    Replaced(Result<F::K, (usize, F::K)>),
    /// An index or range out of bounds: `IndexMap` panics, the store
    /// returns `StoreError::InvalidIndex` (`InvalidInput`).
    Invalid,
}

impl<F: Flavor> Op<F> {
    /// Mutations this op adds to the store's count (`total_records`) when
    /// applied to a store whose map equals `model` (before any automatic
    /// compaction): one per record, a batch's operation count for a batch.
    pub fn mutations(&self, model: &IndexMap<F::K, F::V>) -> u64 {
        match self {
            Op::InsertMany(pairs) | Op::Extend(pairs) => pairs.len() as u64,
            Op::Apply(items) => items.len() as u64,
            // One insert per distinct key of `other`.
            Op::Append(pairs) => pairs
                .iter()
                .map(|(k, _)| k)
                .collect::<std::collections::HashSet<_>>()
                .len() as u64,
            // The entries removed and the pairs given.
            Op::Splice(start, end, pairs) => {
                if self.records_written(model) == 0 {
                    return 0;
                }
                (end - start + pairs.len()) as u64
            }
            // Removals of many: the entries removed.
            Op::Retain(_)
            | Op::Truncate(_)
            | Op::Drain(..)
            | Op::SplitOff(_)
            | Op::ExtractIf(..) => {
                let mut after = model.clone();
                apply_model(&mut after, self);
                (model.len() - after.len()) as u64
            }
            // Reorders: the entries whose index changes.
            op if op.is_reorder() => {
                let mut after = model.clone();
                apply_model(&mut after, op);
                model
                    .keys()
                    .zip(after.keys())
                    .filter(|(a, b)| a != b)
                    .count() as u64
            }
            _ => self.records_written(model),
        }
    }

    /// Whether this op only reorders the entries.
    pub fn is_reorder(&self) -> bool {
        matches!(
            self,
            Op::SortKeys
                | Op::SortBy
                | Op::SortByKey
                | Op::SortUnstableKeys
                | Op::SortUnstableBy
                | Op::SortUnstableByKey
                | Op::SortByCachedKey
                | Op::Reverse
                | Op::SwapIndices(..)
        )
    }

    /// Records this op appends to the log when applied to a store whose map
    /// equals `model` (before any automatic compaction).
    pub fn records_written(&self, model: &IndexMap<F::K, F::V>) -> u64 {
        let wrote = match self {
            Op::Insert(..) | Op::InsertFull(..) | Op::Entry { .. } => true,
            Op::Remove(k)
            | Op::ShiftRemove(k)
            | Op::SwapRemove(k)
            | Op::ShiftRemoveFull(k)
            | Op::SwapRemoveFull(k)
            | Op::Modify(k, _) => model.contains_key(k),
            Op::ShiftRemoveIndex(i) | Op::SwapRemoveIndex(i) => *i < model.len(),
            Op::Pop | Op::Clear | Op::MoveIndex(..) => !model.is_empty(),
            Op::InsertMany(pairs) | Op::Extend(pairs) => !pairs.is_empty(),
            Op::Apply(items) => !items.is_empty(),
            Op::Compact | Op::Flush | Op::Reopen => false,
            Op::Retain(_) | Op::Truncate(_) | Op::Drain(..) | Op::SplitOff(_) => {
                self.mutations(model) > 0
            }
            Op::ExtractIf(..) => self.mutations(model) > 0,
            Op::InsertSorted(..) | Op::InsertSortedBy(..) | Op::InsertSortedByKey(..) => true,
            Op::Append(pairs) => !pairs.is_empty(),
            Op::Splice(start, end, pairs) => {
                start <= end && *end <= model.len() && (start < end || !pairs.is_empty())
            }
            Op::IndexEntryInsert(i, _) => *i < model.len(),
            Op::FirstEntrySwapRemove | Op::LastEntryModify(_) => !model.is_empty(),
            Op::PopIf(d) => model.last().is_some_and(|(_, v)| v >= d),
            Op::ShiftRemoveEntry(k) | Op::SwapRemoveEntry(k) => model.contains_key(k),
            op if op.is_reorder() => op.mutations(model) > 0,
            Op::ShiftInsert(..) | Op::InsertBefore(..) | Op::ReplaceIndex(..) => !matches!(
                apply_model(&mut model.clone(), self),
                Outcome::Invalid | Outcome::Replaced(Err(_))
            ),
            _ => unreachable!("every op is covered above"),
        };
        u64::from(wrote)
    }

    /// The op's name, for coverage checks.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Insert(..) => "insert",
            Op::InsertFull(..) => "insert_full",
            Op::Remove(_) => "remove",
            Op::ShiftRemove(_) => "shift_remove",
            Op::SwapRemove(_) => "swap_remove",
            Op::ShiftRemoveFull(_) => "shift_remove_full",
            Op::SwapRemoveFull(_) => "swap_remove_full",
            Op::ShiftRemoveIndex(_) => "shift_remove_index",
            Op::SwapRemoveIndex(_) => "swap_remove_index",
            Op::Pop => "pop",
            Op::Clear => "clear",
            Op::MoveIndex(..) => "move_index",
            Op::Modify(..) => "modify",
            Op::Entry { .. } => "entry",
            Op::InsertMany(_) => "insert_many",
            Op::Extend(_) => "extend",
            Op::Apply(_) => "apply",
            Op::Compact => "compact",
            Op::Flush => "flush",
            Op::Reopen => "reopen",
            Op::Retain(_) => "retain",
            Op::Truncate(_) => "truncate",
            Op::Drain(..) => "drain",
            Op::SplitOff(_) => "split_off",
            Op::PopIf(_) => "pop_if",
            Op::ShiftRemoveEntry(_) => "shift_remove_entry",
            Op::SwapRemoveEntry(_) => "swap_remove_entry",
            Op::SortKeys => "sort_keys",
            Op::SortBy => "sort_by",
            Op::SortByKey => "sort_by_key",
            Op::SortUnstableKeys => "sort_unstable_keys",
            Op::SortUnstableBy => "sort_unstable_by",
            Op::SortUnstableByKey => "sort_unstable_by_key",
            Op::SortByCachedKey => "sort_by_cached_key",
            Op::Reverse => "reverse",
            Op::SwapIndices(..) => "swap_indices",
            Op::ShiftInsert(..) => "shift_insert",
            Op::InsertBefore(..) => "insert_before",
            Op::ReplaceIndex(..) => "replace_index",
            Op::InsertSorted(..) => "insert_sorted",
            Op::InsertSortedBy(..) => "insert_sorted_by",
            Op::InsertSortedByKey(..) => "insert_sorted_by_key",
            Op::ExtractIf(..) => "extract_if",
            Op::Append(_) => "append",
            Op::Splice(..) => "splice",
            Op::IndexEntryInsert(..) => "get_index_entry",
            Op::FirstEntrySwapRemove => "first_entry",
            Op::LastEntryModify(_) => "last_entry",
        }
    }
}
