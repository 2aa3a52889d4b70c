//! The entry API: insert-or-update without a second lookup by the caller.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;

/// A key's place in the store, present or not; from
/// [`IndexMapStore::entry`]. Every change it makes is logged.
///
/// ```
/// # use indexmap_store::IndexMapStore;
/// # let dir = tempfile::tempdir()?;
/// # let mut store: IndexMapStore<String, u32> = IndexMapStore::open(dir.path().join("e.log"))?;
/// for word in ["a", "b", "a"] {
///     store.entry(word.to_owned()).and_modify(|n| *n += 1)?.or_insert(1)?;
/// }
/// assert_eq!(store.get("a"), Some(&2));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Entry<'a, K, V, S = RandomState> {
    store: &'a mut IndexMapStore<K, V, S>,
    key: K,
    index: Option<usize>,
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// The entry for `key`. Cost: O(1).
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, S> {
        let index = self.map.get_index_of(&key);
        Entry {
            store: self,
            key,
            index,
        }
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
        &self.key
    }

    /// The entry's index, if the key is present. Cost: O(1).
    #[must_use]
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// If the key is present, runs `f` on its value and logs the new value
    /// (as [`IndexMapStore::modify`]); the entry keeps its position. Cost:
    /// O(1) plus one write (and one sync with `sync_on_write`) when the key
    /// is present; nothing otherwise.
    pub fn and_modify(self, f: impl FnOnce(&mut V)) -> io::Result<Self> {
        if let Some(index) = self.index {
            self.store.modify_index(index, f)?;
        }
        Ok(self)
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
        let index = match self.index {
            Some(index) => index,
            None => self.store.insert_full(self.key, make())?.0,
        };
        self.store
            .map
            .get_index(index)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                // Only possible if an automatic compaction reordered entries,
                // which it never does.
                io::Error::other("entry vanished after insert")
            })
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
