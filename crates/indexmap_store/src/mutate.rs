//! Mutations: each logs one record, then changes the map.
//!
//! The order is always: encode and append the record and, with
//! `sync_on_write`, sync it (nothing in memory changes if that fails), then
//! apply it to the map, then compact if due, which cannot fail the call
//! (see [`crate::compaction`]). So a mutation that returns an error left no
//! trace in the map. The exception is [`IndexMapStore::modify`] (and
//! [`Entry::and_modify`](crate::Entry::and_modify)): its closure changes the
//! value in place before it can be logged, so a failure to log it poisons
//! the store, which then says so on every later write.

use std::hash::{BuildHasher, Hash};
use std::io;

use indexmap::Equivalent;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::{BatchOp, InsertEntries, InsertMany, OpRef};
use crate::open::apply_batch;
use crate::store::log_durably;

/// Inserts and removals applied as one record: after any crash, all of
/// them are in the store or none is. Build it, then pass it to
/// [`IndexMapStore::apply`].
///
/// ```
/// # use indexmap_store::{Batch, IndexMapStore};
/// # let dir = tempfile::tempdir()?;
/// # let mut store: IndexMapStore<String, u32> = IndexMapStore::open(dir.path().join("b.log"))?;
/// let mut batch = Batch::new();
/// batch.insert("a".to_owned(), 1).insert("b".to_owned(), 2).shift_remove("a".to_owned());
/// store.apply(batch)?;
/// assert_eq!(store.keys().collect::<Vec<_>>(), ["b"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<K, V> {
    pub(crate) ops: Vec<BatchOp<K, V>>,
}

impl<K, V> Default for Batch<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Batch<K, V> {
    /// An empty batch.
    #[must_use]
    pub fn new() -> Self {
        Self { ops: Vec::new() }
    }

    /// Adds an insert (as [`IndexMapStore::insert`]).
    pub fn insert(&mut self, key: K, value: V) -> &mut Self {
        self.ops.push(BatchOp::Insert(key, value));
        self
    }

    /// Adds a shift-removal (as [`IndexMapStore::shift_remove`]).
    pub fn shift_remove(&mut self, key: K) -> &mut Self {
        self.ops.push(BatchOp::ShiftRemove(key));
        self
    }

    /// Adds a swap-removal (as [`IndexMapStore::swap_remove`]).
    pub fn swap_remove(&mut self, key: K) -> &mut Self {
        self.ops.push(BatchOp::SwapRemove(key));
        self
    }

    /// Operations in the batch.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Inserts a key-value pair and returns the previous value.
    ///
    /// A new key goes last; an existing key keeps its position and gets the
    /// new value. Cost: O(1) amortized, plus one write (and one sync with
    /// `sync_on_write`).
    pub fn insert(&mut self, key: K, value: V) -> io::Result<Option<V>> {
        self.insert_full(key, value).map(|(_, old)| old)
    }

    /// Like [`insert`](Self::insert), also returning the entry's index;
    /// the same effect on order and the same cost.
    pub fn insert_full(&mut self, key: K, value: V) -> io::Result<(usize, Option<V>)> {
        self.log(&OpRef::Insert(&key, &value))?;
        let result = self.map.insert_full(key, value);
        self.applied(1);
        Ok(result)
    }

    /// **`shift_remove`** (keeps the order, O(n)), unlike indexmap's deprecated `remove` (`swap_remove`).
    ///
    /// Removes `key` by shifting every later entry down one place, keeping
    /// the order of the rest: the specification's `remove`. Code ported
    /// from `IndexMap::remove` that relied on its O(1) swap should call
    /// [`swap_remove`](Self::swap_remove). Nothing is written if the key is
    /// absent.
    pub fn remove<Q>(&mut self, key: &Q) -> io::Result<Option<V>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.shift_remove(key)
    }

    /// Removes `key` by shifting every later entry down one place: keeps
    /// the order of the rest. Cost: O(n); nothing is written if the key is
    /// absent.
    pub fn shift_remove<Q>(&mut self, key: &Q) -> io::Result<Option<V>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        Ok(self.shift_remove_full(key)?.map(|(_, _, v)| v))
    }

    /// Like [`shift_remove`](Self::shift_remove), returning the index the
    /// entry had, and its key; the same effect on order and the same cost.
    pub fn shift_remove_full<Q>(&mut self, key: &Q) -> io::Result<Option<(usize, K, V)>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        match self.map.get_index_of(key) {
            Some(index) => Ok(self.shift_remove_index(index)?.map(|(k, v)| (index, k, v))),
            None => Ok(None),
        }
    }

    /// Removes `key` by moving the last entry into its place: O(1), but
    /// the last entry changes position. Nothing is written if the key is
    /// absent.
    pub fn swap_remove<Q>(&mut self, key: &Q) -> io::Result<Option<V>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        Ok(self.swap_remove_full(key)?.map(|(_, _, v)| v))
    }

    /// Like [`swap_remove`](Self::swap_remove), returning the index the
    /// entry had, and its key; the same effect on order and the same cost.
    pub fn swap_remove_full<Q>(&mut self, key: &Q) -> io::Result<Option<(usize, K, V)>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        match self.map.get_index_of(key) {
            Some(index) => Ok(self.swap_remove_index(index)?.map(|(k, v)| (index, k, v))),
            None => Ok(None),
        }
    }

    /// Removes the entry at `index` by shifting every later entry down:
    /// keeps the order of the rest. Cost: O(n); `Ok(None)` and nothing
    /// written if `index` is out of bounds.
    pub fn shift_remove_index(&mut self, index: usize) -> io::Result<Option<(K, V)>> {
        let Some((key, _)) = self.map.get_index(index) else {
            return Ok(None);
        };
        log_durably::<K, V, _>(
            &mut self.wal,
            Some(&mut self.feed),
            self.poison.as_deref(),
            self.verify_writes,
            &mut self.sync,
            &OpRef::<K, V>::ShiftRemove(key),
        )?;
        let removed = self.map.shift_remove_index(index);
        self.applied(1);
        Ok(removed)
    }

    /// Removes the entry at `index` by moving the last entry into its
    /// place. Cost: O(1); `Ok(None)` and nothing written if `index` is out
    /// of bounds.
    pub fn swap_remove_index(&mut self, index: usize) -> io::Result<Option<(K, V)>> {
        let Some((key, _)) = self.map.get_index(index) else {
            return Ok(None);
        };
        log_durably::<K, V, _>(
            &mut self.wal,
            Some(&mut self.feed),
            self.poison.as_deref(),
            self.verify_writes,
            &mut self.sync,
            &OpRef::<K, V>::SwapRemove(key),
        )?;
        let removed = self.map.swap_remove_index(index);
        self.applied(1);
        Ok(removed)
    }

    /// Removes and returns the last entry; the others keep their order.
    /// Cost: O(1); nothing written if the store is empty.
    pub fn pop(&mut self) -> io::Result<Option<(K, V)>> {
        match self.map.len() {
            0 => Ok(None),
            n => self.swap_remove_index(n - 1),
        }
    }

    /// Removes every entry, as one record. Cost: O(n) to drop the entries;
    /// nothing written if the store is already empty.
    pub fn clear(&mut self) -> io::Result<()> {
        if self.map.is_empty() {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::Clear)?;
        self.map.clear();
        self.applied(1);
        Ok(())
    }

    /// Moves the entry at `from` to `to`, shifting the entries between
    /// them: the order changes only there. Cost: O(|from - to|).
    ///
    /// # Errors
    ///
    /// Where [`IndexMap::move_index`] panics (`from` or `to` out of
    /// bounds): [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written.
    ///
    /// [`IndexMap::move_index`]: indexmap::IndexMap::move_index
    pub fn move_index(&mut self, from: usize, to: usize) -> io::Result<()> {
        let len = self.map.len();
        if from >= len || to >= len {
            return Err(crate::remove_many::invalid_index(format!(
                "move_index from {from} to {to} in a store of {len} entries"
            )));
        }
        self.log(&OpRef::<K, V>::Move(from as u64, to as u64))?;
        self.map.move_index(from, to);
        self.applied(1);
        Ok(())
    }

    /// Runs `f` on the value of `key` in place and logs the new value; the
    /// entry keeps its position. Returns `Ok(None)` and writes nothing if
    /// the key is absent, else `Ok(Some(f's result))`. Cost: O(1) plus
    /// re-encoding the whole value.
    ///
    /// Unlike the other mutations, `modify` changes the value before it can
    /// log it: if logging (or, with `sync_on_write`, syncing) fails after
    /// `f` ran, or `f` or the value's `Serialize` panics, the map is ahead
    /// of the log, so the store is poisoned: every later write fails until
    /// it is reopened, and the reopened store has the value before `f`.
    /// Until then, reads (on this handle, and through every clone of a
    /// [`SharedStore`](crate::SharedStore)) see the value as `f` left it,
    /// half-changed if `f` panicked. Do not retry a failed `modify` on the
    /// same handle expecting `f` to run once: reopen, then check the value.
    pub fn modify<Q, R>(&mut self, key: &Q, f: impl FnOnce(&mut V) -> R) -> io::Result<Option<R>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let Some(index) = self.map.get_index_of(key) else {
            return Ok(None);
        };
        Ok(Some(self.modify_index(index, f)?))
    }

    /// Like [`modify`](Self::modify) on the entry at `index`, which must
    /// exist.
    pub(crate) fn modify_index<R>(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut V) -> R,
    ) -> io::Result<R> {
        self.check_poison()?;
        let Some((key, value)) = self.map.get_index_mut(index) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no entry at that index",
            ));
        };
        // If `f` or the value's `Serialize` panics and the panic is caught,
        // the map may be ahead of the log: stay poisoned until the new
        // value is logged.
        self.poison = Some("a modify closure or a value's Serialize panicked".to_owned());
        let result = f(value);
        let logged = log_durably::<K, V, _>(
            &mut self.wal,
            Some(&mut self.feed),
            None,
            self.verify_writes,
            &mut self.sync,
            &OpRef::Insert(key, &*value),
        );
        self.poison = None;
        if let Err(e) = logged {
            return Err(self.poison_with(e));
        }
        self.applied(1);
        Ok(result)
    }

    /// Inserts every pair, in order, as one record: after a crash all of
    /// them are there or none is. The fast path for bulk loads: one write
    /// (and one sync with `sync_on_write`) for the lot. Existing keys keep
    /// their positions. Cost: O(n) plus one write of the encoded pairs,
    /// which must fit one record (1 GiB).
    pub fn insert_many(&mut self, pairs: impl IntoIterator<Item = (K, V)>) -> io::Result<()> {
        let pairs: Vec<(K, V)> = pairs.into_iter().collect();
        if pairs.is_empty() {
            return Ok(());
        }
        self.log(&InsertMany(&pairs))?;
        // As `IndexMap::extend` does: room for all when empty, else for
        // half, in case many keys are already present.
        let reserve = if self.map.is_empty() {
            pairs.len()
        } else {
            pairs.len().div_ceil(2)
        };
        self.map.reserve(reserve);
        let count = pairs.len() as u64;
        for (key, value) in pairs {
            self.map.insert(key, value);
        }
        self.applied(count);
        Ok(())
    }

    /// The same as [`insert_many`](Self::insert_many): order, atomicity and
    /// cost included.
    pub fn extend(&mut self, pairs: impl IntoIterator<Item = (K, V)>) -> io::Result<()> {
        self.insert_many(pairs)
    }

    /// Moves every entry of `other` into the store, in `other`'s order,
    /// leaving `other` empty, as [`IndexMap::append`]: as an insert of
    /// each pair in turn, so a key already in the store keeps its position
    /// and takes the new value, and new keys go last. One record (as
    /// [`insert_many`](Self::insert_many), atomic); nothing is written if
    /// `other` is empty. On error `other` is left as it was. Cost: O(m)
    /// for `m` entries of `other`, plus one write.
    ///
    /// [`IndexMap::append`]: indexmap::IndexMap::append
    pub fn append<S2>(&mut self, other: &mut indexmap::IndexMap<K, V, S2>) -> io::Result<()> {
        if other.is_empty() {
            return Ok(());
        }
        self.log(&InsertEntries(&*other))?;
        let count = other.len() as u64;
        self.map.extend(other.drain(..));
        self.applied(count);
        Ok(())
    }

    /// Applies `batch` as one record: after a crash, all of its operations
    /// are there or none is. Each operation affects order as its single
    /// counterpart does, in the batch's order. Cost: O(1) per insert and
    /// swap-removal, and, with two or more shift-removals, one O(n) pass
    /// for all of them (live and on replay: O(n + k) for `k` operations),
    /// plus one write (and one sync with `sync_on_write`) for the whole
    /// batch; nothing is written for an empty batch.
    pub fn apply(&mut self, batch: Batch<K, V>) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.log(&OpRef::Batch(&batch.ops))?;
        let count = batch.ops.len() as u64;
        apply_batch(&mut self.map, batch.ops);
        self.applied(count);
        Ok(())
    }
}
