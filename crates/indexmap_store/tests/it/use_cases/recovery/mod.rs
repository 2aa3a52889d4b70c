//! "Recovery: what `open` does with what it finds", one test per row, plus
//! the stale compaction file and the sealed (closed) store.
//!
//! One module per kind of finding: [`cuts`] (files cut short or with a
//! tail: a half-created header, a torn tail, a closed store cut anywhere),
//! [`bit_flips`] (flipped bits in synced, flushed and sealed data) and
//! [`temp_files`] (a stale or foreign file at the compaction temp path).
//! This file holds their helper, a closed store of single inserts.

mod bit_flips;
mod cuts;
mod temp_files;

use std::path::Path;

use indexmap_store::IndexMapStore;

use super::{Users, entries, store_error};

/// A closed store of `n` single inserts; returns its entries.
fn closed_store(path: &Path, n: u64) -> Vec<(String, u64)> {
    let mut store: Users = IndexMapStore::open(path).unwrap();
    for i in 0..n {
        store.insert(format!("k{i}"), i * 3).unwrap();
    }
    let want = entries(&store);
    store.close().unwrap();
    want
}
