//! crates.io `indexmap_store` 0.2.3, the crate the specification describes
//! and the design this repository replaces, behind [`Store`] at its
//! defaults (renamed `indexmap_store_023` in `Cargo.toml`).
//!
//! What it does, read from its source (`src/lib.rs`, 446 lines): an
//! `IndexMap` with the `ahash` hasher, and one log of length-prefixed
//! bincode 1 records with no checksum, written through a 1 MiB `BufWriter`.
//! With `StoreConfig::default()` (`sync_on_write: false`) a write reaches
//! the OS only when the buffer fills (about 8,000 of these records), at
//! `flush()` or on drop: a killed process loses what was still buffered.
//! `flush()` is `BufWriter::flush` + `fdatasync`. With `sync_on_write: true`
//! every mutation does both before it returns. Recovery stops at the first
//! record that is short or does not decode and truncates the file there,
//! so damage in the middle of a synced log silently drops everything after
//! it. Compaction renames a synced temporary file over the log but does not
//! fsync the directory.

use std::path::Path;

use crate::data::Entry;
use crate::stores::{Durability, Store};

/// 0.2.3's store: [`Durability::OnSync`] is `StoreConfig::default()`,
/// [`Durability::EveryWrite`] sets `sync_on_write: true`. It has no batch
/// API: a batch is one `insert` per entry (its `BufWriter` coalesces them).
/// Gets go through `as_indexmap().get(&str)`, which needs no `String`.
pub struct Legacy(indexmap_store_023::IndexMapStore<String, String>);

impl Legacy {
    /// Opens (or creates) `store.log` in `dir`.
    pub fn open(dir: &Path, durability: Durability) -> Self {
        let config = indexmap_store_023::StoreConfig {
            sync_on_write: durability == Durability::EveryWrite,
            ..Default::default()
        };
        let path = dir.join("store.log");
        let store = indexmap_store_023::IndexMapStore::open_with(&path, config)
            .unwrap_or_else(|e| panic!("indexmap_store 0.2.3: open {}: {e}", path.display()));
        Legacy(store)
    }
}

impl Store for Legacy {
    fn insert(&mut self, e: &Entry) {
        let (key, value) = (e.key().to_owned(), e.value().to_owned());
        self.0
            .insert(key, value)
            .expect("indexmap_store 0.2.3: insert");
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        for e in entries {
            self.insert(e);
        }
    }
    fn sync(&mut self) {
        self.0.flush().expect("indexmap_store 0.2.3: flush");
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        self.0.as_indexmap().get(key).map(String::len)
    }
    fn scan(&mut self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(n, bytes), (k, v)| {
            (n + 1, bytes + (k.len() + v.len()) as u64)
        })
    }
}
