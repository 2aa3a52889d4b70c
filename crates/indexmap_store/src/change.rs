//! [`Change`]: one logged operation, as a read-only follower applies it
//! and a change feed delivers it.

use std::hash::Hash;

use indexmap::IndexMap;

use crate::codec::{BatchOp, Op};
use crate::error::StoreError;

/// One logged operation of a store and its sequence number: what
/// [`ReadOnlyStore::refresh_with`](crate::ReadOnlyStore::refresh_with)
/// shows before applying it, and what a change feed
/// ([`IndexMapStore::subscribe`](crate::IndexMapStore::subscribe))
/// delivers after the writer logged it.
///
/// [`kind`](Self::kind) describes it, with its keys and values;
/// [`apply`](Self::apply) makes the same change to a map, so that a copy
/// of the store's map that applies every change in order stays equal to
/// it.
#[derive(Debug)]
pub struct Change<K, V> {
    pub(crate) seq: u64,
    pub(crate) op: Op<K, V>,
}

/// What a [`Change`] does, borrowing its keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeKind<'a, K, V> {
    /// An insert or an update (`insert`, `modify`, the entry API): an
    /// existing key keeps its position.
    Insert {
        /// The key.
        key: &'a K,
        /// Its new value.
        value: &'a V,
    },
    /// A removal that keeps the order of the rest.
    ShiftRemove {
        /// The key removed.
        key: &'a K,
    },
    /// A removal that moves the last entry into the gap.
    SwapRemove {
        /// The key removed.
        key: &'a K,
    },
    /// Every entry removed.
    Clear,
    /// An entry moved (`move_index`).
    Move {
        /// Its index before.
        from: u64,
        /// Its index after.
        to: u64,
    },
    /// An atomic batch (`insert_many`, `extend`, `apply`) of this many
    /// inserts and removals.
    Batch {
        /// Operations in the batch.
        ops: usize,
    },
    /// Entries removed by index in one record (`retain`, `truncate`,
    /// `drain`, `split_off`, `pop_if`).
    RemoveMany {
        /// How many.
        entries: u64,
    },
    /// The order changed (a sort, `reverse`, `swap_indices`).
    Reorder,
    /// An insert at a position (`shift_insert`, `insert_before`).
    InsertAt {
        /// Where the entry ends up.
        index: u64,
        /// The key.
        key: &'a K,
        /// The value.
        value: &'a V,
    },
    /// The key at an index replaced (`replace_index`).
    ReplaceKey {
        /// The index.
        index: u64,
        /// The new key.
        key: &'a K,
    },
    /// A range replaced (`splice`): the entries at `start..end` removed,
    /// then each pair inserted there in order, a key present outside the
    /// range updated in place.
    Splice {
        /// The range's start.
        start: u64,
        /// The range's end (exclusive).
        end: u64,
        /// The pairs, in order.
        replace_with: &'a [(K, V)],
    },
    /// The log's record of its key and value types: no change to the map.
    Schema,
    /// A compaction's count of the entries it writes next, so that an open
    /// sizes the map once: no change to the map.
    Live {
        /// The entries the compacted log holds.
        entries: u64,
    },
}

impl<K, V> Change<K, V> {
    /// The operation's sequence number in the log: increasing, in log
    /// order (not always consecutive: seals and a compaction take numbers
    /// too).
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// What the operation does.
    #[must_use]
    pub fn kind(&self) -> ChangeKind<'_, K, V> {
        match &self.op {
            Op::Insert(key, value) => ChangeKind::Insert { key, value },
            Op::ShiftRemove(key) => ChangeKind::ShiftRemove { key },
            Op::SwapRemove(key) => ChangeKind::SwapRemove { key },
            Op::Clear => ChangeKind::Clear,
            Op::Move(from, to) => ChangeKind::Move {
                from: *from,
                to: *to,
            },
            Op::Batch(ops) => ChangeKind::Batch { ops: ops.len() },
            Op::Schema(_) => ChangeKind::Schema,
            Op::Live(entries) => ChangeKind::Live { entries: *entries },
            Op::RemoveRuns(runs) => ChangeKind::RemoveMany {
                entries: runs.count(),
            },
            Op::Permute(_) | Op::Reverse(_) | Op::SwapIndices(..) => ChangeKind::Reorder,
            Op::InsertAt(index, key, value) => ChangeKind::InsertAt {
                index: *index,
                key,
                value,
            },
            Op::ReplaceKey(index, key) => ChangeKind::ReplaceKey { index: *index, key },
            Op::Splice(start, end, pairs) => ChangeKind::Splice {
                start: *start,
                end: *end,
                replace_with: pairs,
            },
        }
    }

    /// The keys the operation names, in order (a batch's and a splice's
    /// included; the operations by index name none).
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        let (one, batch): (Option<&K>, &[BatchOp<K, V>]) = match &self.op {
            Op::Insert(k, _) | Op::ShiftRemove(k) | Op::SwapRemove(k) => (Some(k), &[]),
            Op::InsertAt(_, k, _) | Op::ReplaceKey(_, k) => (Some(k), &[]),
            Op::Batch(ops) => (None, ops),
            _ => (None, &[]),
        };
        let pairs: &[(K, V)] = match &self.op {
            Op::Splice(_, _, pairs) => pairs,
            _ => &[],
        };
        let batch = batch.iter().map(|op| match op {
            BatchOp::Insert(k, _) | BatchOp::ShiftRemove(k) | BatchOp::SwapRemove(k) => k,
        });
        one.into_iter()
            .chain(batch)
            .chain(pairs.iter().map(|(k, _)| k))
    }
}

impl<K: Hash + Eq, V> Change<K, V> {
    /// Makes the same change to `map`, as the store made it to its own.
    ///
    /// Fails with [`StoreError::Inconsistent`] (changing nothing) if the
    /// change cannot apply: `map` is not the store's map as it was before
    /// this change (a change was skipped, or the map was changed by other
    /// means).
    pub fn apply(self, map: &mut IndexMap<K, V>) -> Result<(), StoreError> {
        crate::open::replay(map, self.seq, 0, self.op)
    }
}
