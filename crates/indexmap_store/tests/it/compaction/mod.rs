//! Compaction as the specification states it, on real files: the
//! automatic rule (`min_compact_bytes`, `compact_ratio`, an all-dead log),
//! `compact()`, the `<path>.compact.tmp` it writes through, and the log it
//! leaves (one `Insert` per live entry, in order).
//!
//! [`automatic`] holds the rule (on writes, at open, for batches and
//! all-dead logs) and the log it leaves; [`manual`] holds `compact()` (order,
//! the temp path, a store opened through a symlink). This file holds their
//! helpers: the users' store, its keys and pairs.

mod automatic;
mod manual;

use indexmap_store::IndexMapStore;

type Users = IndexMapStore<String, u64>;

fn keys<V>(store: &IndexMapStore<String, V>) -> Vec<&str> {
    store.keys().map(String::as_str).collect()
}

fn pairs(store: &Users) -> Vec<(String, u64)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}
