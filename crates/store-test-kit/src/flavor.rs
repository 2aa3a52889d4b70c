//! The key and value types an [`Op`](crate::Op) runs on, and the closures
//! the value-dependent operations pass to the store and the model.
//!
//! Each test picks the data that suits it (the model test small strings
//! and integers, the crash test byte vectors that straddle pages, the kill
//! test strings that grow), while the operation vocabulary, its model and
//! its application to a store stay written once.

use std::cmp::Ordering;
use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The types one family of tests runs [`Op`](crate::Op)s on.
///
/// The closures must be deterministic: the store and the model each call
/// them and must reach the same map.
pub trait Flavor: Clone + Debug + PartialEq + Eq + 'static {
    /// The key type.
    type K: Clone + Debug + Hash + Eq + Ord + Serialize + DeserializeOwned;
    /// The value type.
    type V: Clone + Debug + Eq + Ord + Serialize + DeserializeOwned;
    /// The argument of `Op::Modify` and `Op::Entry`'s `and_modify`.
    type Delta: Clone + Debug + PartialEq + Eq;

    /// Changes a present value (`Op::Modify`, `Op::Entry`).
    fn modify(v: &mut Self::V, d: &Self::Delta);
    /// `Op::Retain(d)`'s predicate: whether to keep an entry.
    fn keep(k: &Self::K, v: &Self::V, d: u32) -> bool;
    /// `Op::SortBy`'s comparison (the sort is stable).
    fn compare(k1: &Self::K, v1: &Self::V, k2: &Self::K, v2: &Self::V) -> Ordering;
    /// `Op::SortByKey`'s key (the sort is stable, so ties keep their order).
    fn class(k: &Self::K, v: &Self::V) -> u64;
    /// A coarse size of a key: `Op::SortByCachedKey`'s key (stable), and
    /// with the key itself `Op::SortUnstableByKey`'s (a total order).
    fn key_size(k: &Self::K) -> usize;
}

/// The model test's data: short strings from [`KEYS`](crate::small::KEYS) and
/// small integers, so that inserts collide and removals hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Small;

impl Flavor for Small {
    type K = String;
    type V = u32;
    type Delta = u32;

    fn modify(v: &mut u32, d: &u32) {
        *v = v.wrapping_add(*d);
    }

    fn keep(k: &String, v: &u32, d: u32) -> bool {
        v.wrapping_add(k.len() as u32) % 3 != d % 3
    }

    fn compare(_: &String, v1: &u32, _: &String, v2: &u32) -> Ordering {
        // Descending values.
        v2.cmp(v1)
    }

    fn class(_: &String, v: &u32) -> u64 {
        u64::from(v % 3)
    }

    fn key_size(k: &String) -> usize {
        k.len()
    }
}
