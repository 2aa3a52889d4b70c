//! Use cases: what an application does with `indexmap_store`, one test per
//! promise of the README and per row of its recovery table, each driving
//! the public API on real files (batches, overwrites, reopens, a `cp` of
//! the log alone, truncation with `File::set_len`, bit flips, wrong types,
//! a full disk).
//!
//! Written from the user's side: nothing here looks inside the crates
//! beyond what the README and `FORMAT.md` document (the frame layout is
//! used only to aim a cut or a bit flip at a chosen record).

mod api;
mod compaction;
mod durability;
mod emptied;
mod errors;
mod full_disk;
mod huge;
mod legacy;
mod recovery;
mod types;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use indexmap_store::IndexMapStore;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The README's store: user names to numbers.
pub type Users = IndexMapStore<String, u64>;

/// Size of the file header of the logs a new store writes: read from the
/// version field of a new store's log (`FORMAT.md`: 60 bytes from format
/// version 3 on, 44 before), so the tests aim right whatever the version.
pub fn header_len() -> u64 {
    static LEN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *LEN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.log");
        let store: Users = IndexMapStore::open(&path).unwrap();
        store.close().unwrap();
        let bytes = fs::read(&path).unwrap();
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if version >= 3 { 60 } else { 44 }
    })
}

// The `StoreError` behind an error, which the README promises every error
// carries, and the entries of a store or a model, in order.
pub use store_test_kit::{entries, model_entries, store_error};

/// The error of an open that must fail.
#[track_caller]
pub fn open_fails<K, V>(result: io::Result<IndexMapStore<K, V>>, what: &str) -> io::Error {
    match result {
        Ok(store) => panic!(
            "{what}: the open succeeded (with {} entries) where it must be refused",
            store.len()
        ),
        Err(e) => e,
    }
}

/// Asserts that `err` is a refusal of kind `kind` carrying a `StoreError`.
#[track_caller]
pub fn assert_refused(err: &io::Error, kind: io::ErrorKind, what: &str) {
    assert_eq!(
        err.kind(),
        kind,
        "{what}: wrong error kind; error: {}",
        chain(err)
    );
    store_error(err);
}

/// The error and its sources, on one line.
pub fn chain(err: &io::Error) -> String {
    test_support::chain(err)
}

/// Every file in `dir` (not recursing) with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = if e.file_type().unwrap().is_file() {
                fs::read(e.path()).unwrap()
            } else {
                b"<not a file>".to_vec()
            };
            (name, bytes)
        })
        .collect()
}

/// Opens `path` with types `(K, V)` and returns its entries, dropping it.
pub fn reopen_entries<K, V>(path: &Path) -> Vec<(K, V)>
where
    K: std::hash::Hash + Eq + Clone + Serialize + DeserializeOwned,
    V: Clone + Serialize + DeserializeOwned,
{
    let store: IndexMapStore<K, V> = IndexMapStore::open(path)
        .unwrap_or_else(|e| panic!("reopening {}: {}", path.display(), chain(&e)));
    entries(&store)
}

/// Asserts that `store` holds `want`, in order, and that a reopen of `path`
/// after it is dropped finds the same.
#[track_caller]
pub fn assert_holds_and_reopens(store: Users, path: &Path, want: &[(String, u64)]) {
    assert_eq!(entries(&store), want);
    drop(store);
    assert_eq!(reopen_entries::<String, u64>(path), want);
}

/// One frame of a log, located with the layout of `FORMAT.md`: 12 bytes of
/// header (marker, lag, `len`, `seq_lo`), the payload, a 4-byte checksum
/// (`16 + len` bytes in all).
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// `0xA5` record, `0x5A` seal, `0xC3` batch.
    pub marker: u8,
}

/// The frames of a log file's bytes.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = header_len() as usize;
    while at + 12 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let size = 16 + len;
        assert!(at + size <= bytes.len(), "frame at {at} runs past the end");
        out.push(Frame {
            offset: at as u64,
            marker: bytes[at],
        });
        at += size;
    }
    assert_eq!(at, bytes.len(), "bytes after the last frame");
    out
}

/// Copies the log at `path` alone (no lock file, nothing else) into a new
/// directory `sub` beside it, as `cp` would; returns the copy's path.
pub fn cp_alone(path: &Path, sub: &str) -> PathBuf {
    let dir = path.parent().unwrap().join(sub);
    fs::create_dir_all(&dir).unwrap();
    let copy = dir.join(path.file_name().unwrap());
    fs::copy(path, &copy).unwrap();
    copy
}

/// Truncates the file at `path` to `len` bytes.
pub fn set_len(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}
