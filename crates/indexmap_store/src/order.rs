//! Reordering: the sorts, `reverse` and `swap_indices`, each one record.
//!
//! A sort runs the user's comparison once, at write time, on the entries'
//! indices; the record holds the resulting order as old indices
//! ([`Op::Permute`](crate::codec::Op::Permute)), which a replay checks (a
//! permutation of `0..len`) and applies in O(n), without the closure. The
//! store applies it to its own map without hashing a key
//! ([`permute_in_place`]); a replay moves the entries out and inserts them
//! again ([`permute`]). `reverse` and `swap_indices` need no more than
//! their arguments.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash};
use std::io;
use std::ptr;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::codec::OpRef;
use crate::remove_many::invalid_index;

/// Entries a permutation moves (`order[i] != i`).
pub(crate) fn moved(order: &[u64]) -> u64 {
    order
        .iter()
        .enumerate()
        .filter(|&(new, &old)| new as u64 != old)
        .count() as u64
}

/// `order` as indices if it is a permutation of `0..len`, else what is
/// wrong with it.
pub(crate) fn check_permutation(order: &[u64], len: usize) -> Result<Vec<usize>, String> {
    if order.len() != len {
        return Err(format!(
            "a permutation of {} entries for a map of {len}",
            order.len()
        ));
    }
    let mut seen = vec![false; len];
    let mut out = Vec::with_capacity(len);
    for &old in order {
        match usize::try_from(old) {
            Ok(i) if i < len && !seen[i] => {
                seen[i] = true;
                out.push(i);
            }
            _ => {
                return Err(format!(
                    "a permutation naming index {old} twice or out of bounds in a map of {len}"
                ));
            }
        }
    }
    Ok(out)
}

/// Puts `map` in the order `order` (new position `i` gets the entry at old
/// index `order[i]`), which must be a permutation of `0..map.len()`.
///
/// The entries are moved out (`drain` keeps the table's capacity and the
/// hasher) and inserted again in the new order: one hash and one insert
/// per entry, in sequence. Following the permutation's cycles with
/// `swap_indices` instead costs two random table probes per moved entry,
/// which measured about twice as slow at a million entries. If `K`'s
/// `Hash` or `Eq` panics midway, entries are lost from `map`: the caller
/// poisons the store around it.
pub(crate) fn permute<K, V, S>(map: &mut IndexMap<K, V, S>, order: &[usize])
where
    K: Hash + Eq,
    S: BuildHasher,
{
    let mut slots: Vec<Option<(K, V)>> = map.drain(..).map(Some).collect();
    map.extend(order.iter().filter_map(|&old| slots[old].take()));
    debug_assert!(slots.iter().all(Option::is_none), "not a permutation");
}

/// Puts `map` in the order `order`, as [`permute`] does, without hashing
/// a key: `IndexMap::sort_by_cached_key` with each entry's new position as
/// its key, which moves the entries and rebuilds the table from the hashes
/// it keeps (about a quarter of `permute`'s time at a million entries).
///
/// An entry is told by the address of its key, which must lie in the
/// map's entries, in place: the standard library's `sort_by_cached_key`
/// computes every key, each from the element where it stands, before it
/// moves any. Every call is checked (inside the entries, on an entry's
/// boundary, each entry once); returns `false` if one was not, and the
/// map's order is then unknown (its entries and lookups stay whole): the
/// caller must treat the map as behind the log. The unit tests compare
/// this with [`permute`] on random permutations.
pub(crate) fn permute_in_place<K, V, S>(map: &mut IndexMap<K, V, S>, order: &[usize]) -> bool
where
    K: Hash + Eq,
    S: BuildHasher,
{
    let n = map.len();
    let addr =
        |map: &IndexMap<K, V, S>, i: usize| map.get_index(i).map(|(k, _)| ptr::from_ref(k).addr());
    let (Some(base), Some(second)) = (addr(map, 0), addr(map, 1)) else {
        return true; // fewer than two entries: nothing moves
    };
    let stride = second.wrapping_sub(base);
    if stride == 0 || order.len() != n {
        return false;
    }
    let mut rank = vec![0usize; n];
    for (new, &old) in order.iter().enumerate() {
        match rank.get_mut(old) {
            Some(r) => *r = new,
            None => return false,
        }
    }
    let mut seen = vec![false; n];
    let mut sound = true;
    map.sort_by_cached_key(|k, _| {
        let off = ptr::from_ref(k).addr().wrapping_sub(base);
        let i = off / stride;
        match (off % stride, seen.get_mut(i)) {
            (0, Some(seen)) if !*seen => {
                *seen = true;
                rank[i]
            }
            _ => {
                sound = false;
                0
            }
        }
    });
    sound
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Logs and applies the order `order` (old indices, a permutation):
    /// one record; nothing written if no entry moves.
    fn reorder(&mut self, order: Vec<usize>) -> io::Result<()> {
        let wire: Vec<u64> = order.iter().map(|&i| i as u64).collect();
        let moved = moved(&wire);
        if moved == 0 {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::Permute(&wire))?;
        // Logged: the map is behind the log until it is reordered too (no
        // user code runs here, but a failed allocation could still unwind).
        self.poison = Some("a reorder was interrupted after it was logged".to_owned());
        if !permute_in_place(&mut self.map, &order) {
            // Not expected from any standard library so far (see
            // `permute_in_place`); the log holds the right order.
            self.poison = Some(
                "the map's order could not be set in place after a reorder was logged; \
                 reopen the store, which replays the reorder from the log"
                    .to_owned(),
            );
            return Err(io::Error::other(
                "the reorder was logged, but the map's order could not be set in place: \
                 drop the store and reopen it, which replays the reorder from the log",
            ));
        }
        self.poison = None;
        self.applied(moved);
        Ok(())
    }

    /// The order `sort` gives to the entries, as old indices: it sorts
    /// the indices `0..len`, looking up the entries they name with
    /// `entry`. (Sorting indices, not tuples of references, moves a word
    /// per element: it measured a quarter faster at a million entries.)
    fn sorted_order<'a>(
        &'a self,
        sort: impl FnOnce(&mut [usize], &dyn Fn(usize) -> (&'a K, &'a V)),
    ) -> Vec<usize> {
        let slice = self.map.as_slice();
        let entry = |i: usize| {
            slice
                .get_index(i)
                .expect("the indices sorted are those of the map's entries")
        };
        let mut order: Vec<usize> = (0..slice.len()).collect();
        sort(&mut order, &entry);
        order
    }

    /// Sorts the entries by key, as [`IndexMap::sort_keys`] (stable).
    /// One record holding the new order (old indices, one varint each);
    /// nothing written if no entry moves. Cost: O(n log n) comparisons
    /// plus one write of O(n) bytes; a reopen replays it in O(n).
    pub fn sort_keys(&mut self) -> io::Result<()>
    where
        K: Ord,
    {
        self.sort_by(|k1, _, k2, _| k1.cmp(k2))
    }

    /// Sorts the entries with `cmp`, as [`IndexMap::sort_by`] (stable).
    /// `cmp` runs now only: the record holds the resulting order. One
    /// record; nothing written if no entry moves, nothing changed if `cmp`
    /// panics. Cost as [`sort_keys`](Self::sort_keys).
    pub fn sort_by<F>(&mut self, mut cmp: F) -> io::Result<()>
    where
        F: FnMut(&K, &V, &K, &V) -> Ordering,
    {
        let order = self.sorted_order(|o, e| {
            o.sort_by(|&a, &b| {
                let ((ka, va), (kb, vb)) = (e(a), e(b));
                cmp(ka, va, kb, vb)
            });
        });
        self.reorder(order)
    }

    /// Sorts the entries by the key `sort_key` extracts, as
    /// [`IndexMap::sort_by_key`] (stable). One record; cost as
    /// [`sort_keys`](Self::sort_keys).
    pub fn sort_by_key<T, F>(&mut self, mut sort_key: F) -> io::Result<()>
    where
        T: Ord,
        F: FnMut(&K, &V) -> T,
    {
        let order = self.sorted_order(|o, e| {
            o.sort_by_key(|&i| {
                let (k, v) = e(i);
                sort_key(k, v)
            });
        });
        self.reorder(order)
    }

    /// Sorts the entries by key, as [`IndexMap::sort_unstable_keys`]. Keys
    /// are unique, so the result is that of [`sort_keys`](Self::sort_keys).
    /// One record; cost as `sort_keys`.
    pub fn sort_unstable_keys(&mut self) -> io::Result<()>
    where
        K: Ord,
    {
        self.sort_unstable_by(|k1, _, k2, _| k1.cmp(k2))
    }

    /// Sorts the entries with `cmp`, as [`IndexMap::sort_unstable_by`]:
    /// entries that compare equal may end in any order (not necessarily
    /// the one `IndexMap` would give them), and that order is what the
    /// record holds and a reopen restores. One record; cost as
    /// [`sort_keys`](Self::sort_keys).
    pub fn sort_unstable_by<F>(&mut self, mut cmp: F) -> io::Result<()>
    where
        F: FnMut(&K, &V, &K, &V) -> Ordering,
    {
        let order = self.sorted_order(|o, e| {
            o.sort_unstable_by(|&a, &b| {
                let ((ka, va), (kb, vb)) = (e(a), e(b));
                cmp(ka, va, kb, vb)
            });
        });
        self.reorder(order)
    }

    /// Sorts the entries by the key `sort_key` extracts, as
    /// [`IndexMap::sort_unstable_by_key`] (equal entries in any order, as
    /// [`sort_unstable_by`](Self::sort_unstable_by)). One record.
    pub fn sort_unstable_by_key<T, F>(&mut self, mut sort_key: F) -> io::Result<()>
    where
        T: Ord,
        F: FnMut(&K, &V) -> T,
    {
        let order = self.sorted_order(|o, e| {
            o.sort_unstable_by_key(|&i| {
                let (k, v) = e(i);
                sort_key(k, v)
            });
        });
        self.reorder(order)
    }

    /// Sorts the entries by the key `sort_key` extracts, calling it once
    /// per entry, as [`IndexMap::sort_by_cached_key`] (stable). One
    /// record; cost O(n) calls plus as [`sort_keys`](Self::sort_keys).
    pub fn sort_by_cached_key<T, F>(&mut self, mut sort_key: F) -> io::Result<()>
    where
        T: Ord,
        F: FnMut(&K, &V) -> T,
    {
        let order = self.sorted_order(|o, e| {
            o.sort_by_cached_key(|&i| {
                let (k, v) = e(i);
                sort_key(k, v)
            });
        });
        self.reorder(order)
    }

    /// Reverses the order of the entries, as [`IndexMap::reverse`]. One
    /// small record (the length); nothing written with fewer than two
    /// entries. Cost: O(n) plus one write.
    pub fn reverse(&mut self) -> io::Result<()> {
        let n = self.map.len();
        if n < 2 {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::Reverse(n as u64))?;
        self.map.reverse();
        self.applied((n - n % 2) as u64);
        Ok(())
    }

    /// Swaps the entries at `a` and `b`, as [`IndexMap::swap_indices`];
    /// the others keep their places. One record; nothing written if
    /// `a == b`. Cost: O(1) plus one write.
    ///
    /// # Errors
    ///
    /// Where `IndexMap::swap_indices` panics (`a` or `b` out of bounds):
    /// [`StoreError::InvalidIndex`](crate::StoreError::InvalidIndex)
    /// (`InvalidInput`), nothing written.
    pub fn swap_indices(&mut self, a: usize, b: usize) -> io::Result<()> {
        let n = self.map.len();
        if a >= n || b >= n {
            return Err(invalid_index(format!(
                "swap_indices({a}, {b}) in a store of {n} entries"
            )));
        }
        if a == b {
            return Ok(());
        }
        self.log(&OpRef::<K, V>::SwapIndices(a as u64, b as u64))?;
        self.map.swap_indices(a, b);
        self.applied(2);
        Ok(())
    }
}

/// Replays [`Op::Permute`](crate::codec::Op::Permute).
pub(crate) fn replay_permute<K: Hash + Eq, V, S: BuildHasher>(
    map: &mut IndexMap<K, V, S>,
    order: &[u64],
) -> Result<(), String> {
    let order = check_permutation(order, map.len())?;
    permute(map, &order);
    Ok(())
}

/// Replays [`Op::Reverse`](crate::codec::Op::Reverse).
pub(crate) fn replay_reverse<K, V, S>(map: &mut IndexMap<K, V, S>, len: u64) -> Result<(), String> {
    if len != map.len() as u64 {
        return Err(format!(
            "reverse of {len} entries in a map of {}",
            map.len()
        ));
    }
    map.reverse();
    Ok(())
}

/// Replays [`Op::SwapIndices`](crate::codec::Op::SwapIndices).
pub(crate) fn replay_swap<K, V, S>(
    map: &mut IndexMap<K, V, S>,
    a: u64,
    b: u64,
) -> Result<(), String> {
    let len = map.len();
    match (usize::try_from(a), usize::try_from(b)) {
        (Ok(a), Ok(b)) if a < len && b < len => {
            map.swap_indices(a, b);
            Ok(())
        }
        _ => Err(format!("swap of indices {a} and {b} in a map of {len}")),
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
