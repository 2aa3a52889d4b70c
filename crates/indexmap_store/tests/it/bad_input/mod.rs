//! Bad input on real files: wrong types, foreign files, damaged logs, odd
//! paths. Never a panic, and never a byte of a file that is not provably
//! ours changed.
//!
//! One module per kind of bad input: [`foreign_files`] (files that are not
//! this store's log: text, another application's, other types), [`paths`]
//! (a directory, a missing parent, files at the compaction temp path),
//! [`tails`] (junk after the last record, every prefix of a log) and
//! [`damaged`] (flipped bits, a bad header, records that do not decode).
//! This file holds their helpers: a small users' store, the refusal check
//! and a recorded history of one record per op.

mod damaged;
mod foreign_files;
mod paths;
mod tails;

use std::fs;
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use indexmap_store::IndexMapStore;
use store_test_kit::apply_model;
use store_test_kit::small::{K, Op, Store, V};

type Users = IndexMapStore<String, u64>;

fn entries(store: &Store) -> Vec<(K, V)> {
    store_test_kit::entries(store)
}

/// Writes a small `String -> u64` store at `path` and returns its bytes.
fn write_users(path: &Path) -> io::Result<Vec<u8>> {
    let mut store: Users = IndexMapStore::open(path)?;
    store.insert("alice".into(), 1)?;
    store.insert("bob".into(), 300)?;
    store.insert("carol".into(), 3)?;
    store.flush()?;
    drop(store);
    fs::read(path)
}

/// Asserts that the right types still open the users' store at `path`,
/// unchanged.
fn assert_users_still_open(path: &Path) -> io::Result<()> {
    let store: Users = IndexMapStore::open(path)?;
    assert_eq!(store.get("bob"), Some(&300));
    assert_eq!(store.len(), 3);
    Ok(())
}

/// Asserts that opening `path` as `IndexMapStore<K2, V2>` fails with
/// `InvalidData` and leaves the file as `bytes`; returns the error.
fn refused<K2, V2>(path: &Path, bytes: &[u8]) -> io::Error
where
    K2: std::hash::Hash + Eq + serde::Serialize + serde::de::DeserializeOwned,
    V2: serde::Serialize + serde::de::DeserializeOwned,
{
    let err = match IndexMapStore::<K2, V2>::open(path) {
        Ok(_) => panic!("{} opened with the wrong types", path.display()),
        Err(e) => e,
    };
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert_eq!(
        fs::read(path).expect("read"),
        bytes,
        "file changed by a refused open"
    );
    err
}

/// Writes a log through `ops` (each writing exactly one record) and returns
/// its bytes, the end offset of each record (the first: the schema record
/// a new log starts with) and the model after each.
fn recorded_history(path: &Path, ops: &[Op]) -> (Vec<u8>, Vec<u64>, Vec<IndexMap<K, V>>) {
    let mut store = Store::open(path).expect("open");
    let mut model = IndexMap::new();
    let mut states = vec![model.clone()];
    let mut ends = vec![store.stats().log_bytes];
    for op in ops {
        assert_eq!(
            op.records_written(&model),
            1,
            "{op:?} must write one record"
        );
        apply_model(&mut model, op);
        store_test_kit::apply_store(&mut store, op).expect("op");
        assert_eq!(entries(&store), store_test_kit::model_entries(&model));
        ends.push(store.stats().log_bytes);
        states.push(model.clone());
        if ends.len() == 4 {
            store.flush().expect("flush");
        }
    }
    drop(store);
    (fs::read(path).expect("read"), ends, states)
}

fn history_ops() -> Vec<Op> {
    let k = |s: &str| s.to_owned();
    vec![
        Op::Insert(k("a"), 1),
        Op::Insert(k("b"), 2),
        Op::InsertMany(vec![
            (k("c"), 3),
            (k("d"), 4),
            (k("hhhhhhhhhhhhhhhh"), 70_000),
        ]),
        Op::Insert(k("a"), 300),
        Op::MoveIndex(0, 3),
        Op::SwapRemove(k("b")),
        Op::Modify(k("c"), 5),
        Op::Remove(k("d")),
        Op::Apply(vec![
            store_test_kit::small::BatchItem::Insert(k("e"), 9),
            store_test_kit::small::BatchItem::SwapRemove(k("a")),
        ]),
        Op::Clear,
        Op::Insert(k("f"), u32::MAX),
        Op::Entry {
            key: k("f"),
            delta: 1,
            default: 0,
        },
        Op::Insert(k("gg"), 7),
        Op::Pop,
    ]
}

/// The schema version of the logs written here: one before schema records.
const RAW_VERSION: u32 = 1;
