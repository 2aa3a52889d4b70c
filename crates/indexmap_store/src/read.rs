//! Read-only access: the map's own lookups and iteration, at its speed.

use std::hash::{BuildHasher, Hash};

use indexmap::{Equivalent, IndexMap};

use crate::IndexMapStore;

/// The read API of a store holding its map in `self.map`: the writer's
/// [`IndexMapStore`] and a [`ReadOnlyStore`](crate::ReadOnlyStore) share
/// it, so they read alike. `$store` is the type, `[$gen]` its generic
/// parameters, `$s` its hasher.
macro_rules! map_reads {
    ($store:ty, [$($gen:ident),*], $s:ty) => {
        impl<$($gen),*> $store {
            /// The map's hasher (see [`OpenOptions::open_with_hasher`] and
            /// [`OpenOptions::open_read_only_with_hasher`]). Cost: O(1).
            ///
            /// [`OpenOptions::open_with_hasher`]: crate::OpenOptions::open_with_hasher
            /// [`OpenOptions::open_read_only_with_hasher`]: crate::OpenOptions::open_read_only_with_hasher
            #[must_use]
            pub fn hasher(&self) -> &$s {
                self.map.hasher()
            }

            /// The value of `key`. Cost: O(1).
            #[must_use]
            pub fn get<Q>(&self, key: &Q) -> Option<&V>
            where
                Q: ?Sized + Hash + Equivalent<K>,
                $s: BuildHasher,
            {
                self.map.get(key)
            }

            /// The index, key and value of `key`. Cost: O(1).
            #[must_use]
            pub fn get_full<Q>(&self, key: &Q) -> Option<(usize, &K, &V)>
            where
                Q: ?Sized + Hash + Equivalent<K>,
                $s: BuildHasher,
            {
                self.map.get_full(key)
            }

            /// The stored key and the value of `key`. Cost: O(1).
            #[must_use]
            pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
            where
                Q: ?Sized + Hash + Equivalent<K>,
                $s: BuildHasher,
            {
                self.map.get_key_value(key)
            }

            /// The index of `key` in insertion order. Cost: O(1).
            #[must_use]
            pub fn get_index_of<Q>(&self, key: &Q) -> Option<usize>
            where
                Q: ?Sized + Hash + Equivalent<K>,
                $s: BuildHasher,
            {
                self.map.get_index_of(key)
            }

            /// Whether `key` is present. Cost: O(1).
            #[must_use]
            pub fn contains_key<Q>(&self, key: &Q) -> bool
            where
                Q: ?Sized + Hash + Equivalent<K>,
                $s: BuildHasher,
            {
                self.map.contains_key(key)
            }

            /// The entry at `index` in insertion order. Cost: O(1).
            #[must_use]
            pub fn get_index(&self, index: usize) -> Option<(&K, &V)> {
                self.map.get_index(index)
            }

            /// The first entry in order. Cost: O(1).
            #[must_use]
            pub fn first(&self) -> Option<(&K, &V)> {
                self.map.first()
            }

            /// The last entry in order. Cost: O(1).
            #[must_use]
            pub fn last(&self) -> Option<(&K, &V)> {
                self.map.last()
            }

            /// Number of entries. Cost: O(1).
            #[must_use]
            pub fn len(&self) -> usize {
                self.map.len()
            }

            /// Whether there are no entries. Cost: O(1).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.map.is_empty()
            }

            /// The entries, in order. Cost: O(1) to create, O(1) per item.
            pub fn iter(&self) -> indexmap::map::Iter<'_, K, V> {
                self.map.iter()
            }

            /// The keys, in order. Cost: O(1) to create, O(1) per item.
            pub fn keys(&self) -> indexmap::map::Keys<'_, K, V> {
                self.map.keys()
            }

            /// The values, in order. Cost: O(1) to create, O(1) per item.
            pub fn values(&self) -> indexmap::map::Values<'_, K, V> {
                self.map.values()
            }

            /// The map itself, read-only, for every other read `IndexMap` offers
            /// (ranges, slices, binary search, ...). There is no mutable access:
            /// a change would bypass the log. Cost: O(1).
            #[must_use]
            pub fn as_map(&self) -> &IndexMap<K, V, $s> {
                &self.map
            }
        }

        impl<'a, $($gen),*> IntoIterator for &'a $store {
            type Item = (&'a K, &'a V);
            type IntoIter = indexmap::map::Iter<'a, K, V>;

            fn into_iter(self) -> Self::IntoIter {
                self.map.iter()
            }
        }
    };
}
pub(crate) use map_reads;

map_reads!(IndexMapStore<K, V, S>, [K, V, S], S);
