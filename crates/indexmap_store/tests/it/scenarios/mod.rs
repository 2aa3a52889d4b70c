//! Scenarios from the specification (seed README and its notes), one
//! promise per test, on real files.
//!
//! One module per family: [`quick_start_and_config`] (the spec's examples
//! and defaults), [`mutations`] (each mutation's effect on order and on the
//! log), [`reads_and_entries`] (reads, `Debug` and the entry API),
//! [`encode_errors`] (values that fail to serialise), [`opens`] (the
//! single-writer lock and the recovery report) and [`leaderboard`] (a
//! sorted leaderboard kept with the sorted inserts, `append`,
//! `extract_if` and `splice`). This file holds their
//! helpers: the users' store, its keys and pairs, and a four-key store.

mod encode_errors;
mod leaderboard;
mod mutations;
mod opens;
mod quick_start_and_config;
mod reads_and_entries;

use std::io;
use std::path::Path;

use indexmap_store::IndexMapStore;

type Users = IndexMapStore<String, u64>;

fn keys<V>(store: &IndexMapStore<String, V>) -> Vec<&str> {
    store.keys().map(String::as_str).collect()
}

fn pairs(store: &Users) -> Vec<(String, u64)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn abcd(path: &Path) -> io::Result<Users> {
    let mut store: Users = IndexMapStore::open(path)?;
    for (i, k) in ["a", "b", "c", "d"].into_iter().enumerate() {
        store.insert(k.to_owned(), i as u64)?;
    }
    Ok(store)
}
