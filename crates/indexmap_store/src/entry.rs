//! The entry API, shaped as indexmap's: [`Entry::Occupied`] or
//! [`Entry::Vacant`], each change logged before the map changes.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::store::log_durably;

/// A key's place in the store, present or not; from
/// [`IndexMapStore::entry`]. As [`indexmap::map::Entry`], except that every
/// change is logged (so each returns `io::Result`) and values are lent by
/// shared reference: a `&mut V` would let a change bypass the log.
///
/// ```
/// # use indexmap_store::IndexMapStore;
/// use indexmap_store::Entry;
/// # let dir = tempfile::tempdir()?;
/// # let mut store: IndexMapStore<String, u32> = IndexMapStore::open(dir.path().join("e.log"))?;
/// for word in ["a", "b", "a"] {
///     store.entry(word.to_owned()).and_modify(|n| *n += 1)?.or_insert(1)?;
/// }
/// assert_eq!(store.get("a"), Some(&2));
/// match store.entry("b".to_owned()) {
///     Entry::Occupied(e) => assert_eq!(e.shift_remove()?, 1),
///     Entry::Vacant(_) => unreachable!("b was inserted"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub enum Entry<'a, K, V, S = RandomState> {
    /// The key is in the store.
    Occupied(OccupiedEntry<'a, K, V, S>),
    /// The key is not in the store.
    Vacant(VacantEntry<'a, K, V, S>),
}

/// A present key's entry: [`Entry::Occupied`].
#[derive(Debug)]
pub struct OccupiedEntry<'a, K, V, S = RandomState> {
    store: &'a mut IndexMapStore<K, V, S>,
    index: usize,
}

/// An entry found by its index ([`IndexMapStore::get_index_entry`],
/// [`first_entry`](IndexMapStore::first_entry),
/// [`last_entry`](IndexMapStore::last_entry)): the same type as
/// [`OccupiedEntry`], whose methods are those of
/// [`indexmap::map::IndexedEntry`], each change logged.
pub type IndexedEntry<'a, K, V, S = RandomState> = OccupiedEntry<'a, K, V, S>;

/// An absent key's entry: [`Entry::Vacant`].
#[derive(Debug)]
pub struct VacantEntry<'a, K, V, S = RandomState> {
    store: &'a mut IndexMapStore<K, V, S>,
    key: K,
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// The entry for `key`, for in-place insert-or-update. Cost: O(1).
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, S> {
        match self.map.get_index_of(&key) {
            Some(index) => Entry::Occupied(OccupiedEntry { store: self, index }),
            None => Entry::Vacant(VacantEntry { store: self, key }),
        }
    }

    /// The entry at `index` (valid `0..len()`), for in-place
    /// manipulation, as [`IndexMap::get_index_entry`]; `None` if out of
    /// bounds. Its changes are logged as those of
    /// [`Entry::Occupied`]'s. Cost: O(1).
    ///
    /// [`IndexMap::get_index_entry`]: indexmap::IndexMap::get_index_entry
    pub fn get_index_entry(&mut self, index: usize) -> Option<IndexedEntry<'_, K, V, S>> {
        (index < self.map.len()).then_some(OccupiedEntry { store: self, index })
    }

    /// The first entry, as [`IndexMap::first_entry`]; `None` if the store
    /// is empty. Cost: O(1).
    ///
    /// [`IndexMap::first_entry`]: indexmap::IndexMap::first_entry
    pub fn first_entry(&mut self) -> Option<IndexedEntry<'_, K, V, S>> {
        self.get_index_entry(0)
    }

    /// The last entry, as [`IndexMap::last_entry`]; `None` if the store
    /// is empty. Cost: O(1).
    ///
    /// [`IndexMap::last_entry`]: indexmap::IndexMap::last_entry
    pub fn last_entry(&mut self) -> Option<IndexedEntry<'_, K, V, S>> {
        let last = self.map.len().checked_sub(1)?;
        self.get_index_entry(last)
    }
}

impl<'a, K, V, S> Entry<'a, K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// The entry's key. Cost: O(1).
    #[must_use]
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }

    /// Where the entry is, or would be inserted (`len()`), as
    /// [`indexmap::map::Entry::index`]. Cost: O(1).
    #[must_use]
    pub fn index(&self) -> usize {
        match self {
            Entry::Occupied(e) => e.index(),
            Entry::Vacant(e) => e.index(),
        }
    }

    /// If the key is present, runs `f` on its value and logs the new value
    /// (as [`IndexMapStore::modify`], whose failure poisons the store); the
    /// entry keeps its position. Cost: O(1) plus one write (and one sync
    /// with `sync_on_write`) when the key is present; nothing otherwise.
    pub fn and_modify(self, f: impl FnOnce(&mut V)) -> io::Result<Self> {
        Ok(match self {
            Entry::Occupied(e) => {
                e.store.modify_index(e.index, f)?;
                Entry::Occupied(e)
            }
            vacant => vacant,
        })
    }

    /// The value, inserting `default` last if the key is absent. Cost:
    /// O(1); an insertion adds one write (and one sync with
    /// `sync_on_write`).
    pub fn or_insert(self, default: V) -> io::Result<&'a V> {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `make()` last if the key is absent (`make` runs
    /// only then). Cost: as [`or_insert`](Self::or_insert).
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> io::Result<&'a V> {
        match self {
            Entry::Occupied(e) => Ok(e.into_ref()),
            Entry::Vacant(e) => e.insert(make()),
        }
    }

    /// The value, inserting `make(&key)` last if the key is absent.
    /// Cost: as [`or_insert`](Self::or_insert).
    pub fn or_insert_with_key(self, make: impl FnOnce(&K) -> V) -> io::Result<&'a V> {
        match self {
            Entry::Occupied(e) => Ok(e.into_ref()),
            Entry::Vacant(e) => {
                let value = make(&e.key);
                e.insert(value)
            }
        }
    }

    /// The value, inserting `V::default()` last if the key is absent.
    /// Cost: as [`or_insert`](Self::or_insert).
    pub fn or_default(self) -> io::Result<&'a V>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<'a, K, V, S> OccupiedEntry<'a, K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    fn pair(&self) -> (&K, &V) {
        self.store
            .map
            .get_index(self.index)
            .expect("an occupied entry's index is in bounds while it borrows the store")
    }

    /// The stored key. Cost: O(1).
    #[must_use]
    pub fn key(&self) -> &K {
        self.pair().0
    }

    /// The entry's index. Cost: O(1).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The value. Cost: O(1).
    #[must_use]
    pub fn get(&self) -> &V {
        self.pair().1
    }

    /// The value, borrowed for the entry's whole lifetime. Cost: O(1).
    #[must_use]
    pub fn into_ref(self) -> &'a V {
        let (_, value) = self
            .store
            .map
            .get_index(self.index)
            .expect("an occupied entry's index is in bounds while it borrows the store");
        value
    }

    /// Logs `value` as the key's new value and stores it, returning the
    /// old one; the entry keeps its position. On failure nothing changes.
    /// Cost: O(1) plus one write (and one sync with `sync_on_write`).
    pub fn insert(&mut self, value: V) -> io::Result<V> {
        let store = &mut *self.store;
        let (key, _) = store
            .map
            .get_index(self.index)
            .expect("an occupied entry's index is in bounds while it borrows the store");
        log_durably::<K, V, _>(
            &mut store.wal,
            Some(&mut store.feed),
            store.poison.as_deref(),
            store.verify_writes,
            &mut store.sync,
            &OpRef::Insert(key, &value),
        )?;
        let (_, slot) = store
            .map
            .get_index_mut(self.index)
            .expect("an occupied entry's index is in bounds while it borrows the store");
        let old = std::mem::replace(slot, value);
        store.applied(1);
        Ok(old)
    }

    /// Runs `f` on the value in place and logs the new value, as
    /// [`IndexMapStore::modify`] (whose failure poisons the store). Cost:
    /// O(1) plus one write.
    pub fn modify<R>(&mut self, f: impl FnOnce(&mut V) -> R) -> io::Result<R> {
        self.store.modify_index(self.index, f)
    }

    /// Removes the entry, shifting the later ones down (order kept), as
    /// [`IndexMapStore::shift_remove`]. Cost: O(n) plus one write.
    pub fn shift_remove(self) -> io::Result<V> {
        self.shift_remove_entry().map(|(_, v)| v)
    }

    /// Removes the entry, moving the last one into its place, as
    /// [`IndexMapStore::swap_remove`]. Cost: O(1) plus one write.
    pub fn swap_remove(self) -> io::Result<V> {
        self.swap_remove_entry().map(|(_, v)| v)
    }

    /// As [`shift_remove`](Self::shift_remove), returning the stored key
    /// too.
    pub fn shift_remove_entry(self) -> io::Result<(K, V)> {
        let removed = self.store.shift_remove_index(self.index)?;
        Ok(removed.expect("an occupied entry's index is in bounds while it borrows the store"))
    }

    /// As [`swap_remove`](Self::swap_remove), returning the stored key too.
    pub fn swap_remove_entry(self) -> io::Result<(K, V)> {
        let removed = self.store.swap_remove_index(self.index)?;
        Ok(removed.expect("an occupied entry's index is in bounds while it borrows the store"))
    }

    /// Moves the entry to index `to`, shifting the entries between, as
    /// [`IndexMapStore::move_index`]. Cost: O(|index - to|) plus one write.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex) if `to`
    /// is out of bounds (where `IndexMap` panics); nothing written.
    pub fn move_index(self, to: usize) -> io::Result<()> {
        self.store.move_index(self.index, to)
    }

    /// Swaps the entry with the one at `other`, as
    /// [`IndexMapStore::swap_indices`]. Cost: O(1) plus one write.
    ///
    /// # Errors
    ///
    /// As [`move_index`](Self::move_index).
    pub fn swap_indices(self, other: usize) -> io::Result<()> {
        self.store.swap_indices(self.index, other)
    }
}

impl<'a, K, V, S> VacantEntry<'a, K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// The key that would be inserted. Cost: O(1).
    #[must_use]
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The key, taken back; nothing is written. Cost: O(1).
    #[must_use]
    pub fn into_key(self) -> K {
        self.key
    }

    /// Where an [`insert`](Self::insert) would put the entry: `len()`.
    #[must_use]
    pub fn index(&self) -> usize {
        self.store.map.len()
    }

    /// Logs the pair and inserts it last; returns the stored value. On
    /// failure nothing changes. Cost: O(1) plus one write (and one sync
    /// with `sync_on_write`).
    pub fn insert(self, value: V) -> io::Result<&'a V> {
        let (index, _) = self.store.insert_full(self.key, value)?;
        Ok(self.store.map.get_index(index).map(|(_, v)| v).expect(
            "a compaction keeps every entry at its index, so the new entry is where insert put it",
        ))
    }

    /// Logs the pair and inserts it at `index` (valid `0..=len()`), the
    /// entries from there shifting up, as [`IndexMapStore::shift_insert`].
    /// Cost: O(n) plus one write.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex) if
    /// `index > len()` (where `IndexMap` panics); nothing written.
    pub fn shift_insert(self, index: usize, value: V) -> io::Result<&'a V> {
        self.store.shift_insert(index, self.key, value)?;
        Ok(self.store.map.get_index(index).map(|(_, v)| v).expect(
            "a compaction keeps every entry at its index, so the new entry is where it was put",
        ))
    }
}
