//! A mutation that returns an error leaves no trace in the map; `modify`,
//! which changes the value before it can log it, poisons the store
//! instead, including when the value's `Serialize` panics (issue 13).

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use indexmap_store::{IndexMapStore, StoreConfig, StoreError};
use serde::{Deserialize, Serialize, Serializer};
use test_support::scratch;
use wal_io::sim::{Fault, FaultKind, SimStorage};

/// A value whose `Serialize` fails on 13 and panics on 666.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Touchy(u32);

impl Serialize for Touchy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            13 => Err(serde::ser::Error::custom("13 is unlucky")),
            666 => panic!("Serialize panicked"),
            n => s.serialize_newtype_struct("Touchy", &n),
        }
    }
}

type Store = IndexMapStore<String, Touchy>;

/// Asserts that a reopen of the log at `path` finds `"a"` holding
/// `Touchy(1)`, the value before the failed call.
fn assert_reopens_with_the_value_before(path: &Path) -> io::Result<()> {
    let store: Store = IndexMapStore::open(path)?;
    assert_eq!(store.get("a"), Some(&Touchy(1)));
    Ok(())
}

fn is_poisoned(err: &io::Error) -> bool {
    matches!(
        err.get_ref().and_then(|e| e.downcast_ref::<StoreError>()),
        Some(StoreError::Poisoned { .. })
    )
}

#[test]
fn an_insert_that_cannot_be_encoded_changes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("enc.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("a".into(), Touchy(1))?;
    let err = store.insert("a".into(), Touchy(13)).expect_err("13 fails");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("13 is unlucky"),
        "the cause: {err}"
    );
    assert_eq!(store.get("a"), Some(&Touchy(1)), "the map is unchanged");
    // Not poisoned: the store goes on.
    store.insert("b".into(), Touchy(2))?;
    assert_eq!(store.len(), 2);
    Ok(())
}

#[test]
fn a_modify_that_cannot_be_logged_poisons_the_store() -> io::Result<()> {
    let (_dir, path) = scratch("modify.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("a".into(), Touchy(1))?;
    let err = store.modify("a", |v| v.0 = 13).expect_err("13 fails");
    assert!(err.to_string().contains("13 is unlucky"), "{err}");
    let later = store.insert("b".into(), Touchy(2)).expect_err("poisoned");
    assert!(is_poisoned(&later), "{later}");
    assert!(later.to_string().contains("13 is unlucky"), "{later}");
    drop(store);
    let store: Store = IndexMapStore::open(&path)?;
    assert_eq!(store.get("a"), Some(&Touchy(1)), "the value before f");
    assert_eq!(store.len(), 1);
    Ok(())
}

#[test]
fn a_panicking_serialize_in_modify_leaves_the_store_poisoned() -> io::Result<()> {
    let (_dir, path) = scratch("panic.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("a".into(), Touchy(1))?;
    let caught = catch_unwind(AssertUnwindSafe(|| store.modify("a", |v| v.0 = 666)));
    assert!(caught.is_err(), "Serialize panicked through modify");
    // The map holds 666, the log does not: every write is refused.
    let err = store.insert("b".into(), Touchy(2)).expect_err("poisoned");
    assert!(is_poisoned(&err), "{err}");
    assert!(store.flush().is_err());
    drop(store);
    assert_reopens_with_the_value_before(&path)
}

/// The entry API's `and_modify` goes through the same path: a panicking
/// `Serialize` leaves the store poisoned, never ahead of its log, and
/// `compact()` cannot write the unlogged value.
#[test]
fn a_panicking_serialize_in_and_modify_leaves_the_store_poisoned() -> io::Result<()> {
    let (_dir, path) = scratch("entry-panic.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("a".into(), Touchy(1))?;
    let caught = catch_unwind(AssertUnwindSafe(|| {
        store.entry("a".into()).and_modify(|v| v.0 = 666).map(drop)
    }));
    assert!(caught.is_err(), "Serialize panicked through and_modify");
    let err = store.compact().expect_err("poisoned");
    assert!(is_poisoned(&err), "{err}");
    drop(store);
    assert_reopens_with_the_value_before(&path)
}

#[test]
fn a_failed_sync_leaves_the_map_unchanged() -> io::Result<()> {
    let sim = SimStorage::new(5);
    let cfg = StoreConfig {
        sync_on_write: true,
        ..StoreConfig::default()
    };
    let open = || IndexMapStore::open_with_storage(Arc::new(sim.clone()), "s.log", cfg);
    let mut store: IndexMapStore<u8, u8> = open()?;
    store.insert(1, 1)?;
    // The insert's write, then its sync, which fails.
    sim.inject(Fault::once(sim.ops() + 1, FaultKind::FsyncEio));
    store.insert(2, 2).expect_err("the sync fails");
    assert_eq!(store.get(&2), None, "no trace in memory");
    assert_eq!(store.len(), 1);
    drop(store);
    let store = open()?;
    assert_eq!(store.iter().collect::<Vec<_>>(), [(&1, &1)]);
    Ok(())
}

thread_local! {
    /// Whether [`Fickle`]'s `Hash` panics (per thread, so parallel tests do
    /// not see each other's setting).
    static HASH_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A key whose `Hash` panics while [`HASH_PANICS`] is set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Fickle(u32);

impl std::hash::Hash for Fickle {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        assert!(!HASH_PANICS.get(), "Hash panicked");
        self.0.hash(state);
    }
}

/// A sort logs its order, then moves the entries without hashing a key
/// (the map keeps each key's hash): a key's `Hash` that would panic during
/// the sort is never called, the store stays writable, and the reopen has
/// the same order.
#[test]
fn a_sort_never_hashes_a_key() -> io::Result<()> {
    let (_dir, path) = scratch("sort-panic.log");
    let mut store: IndexMapStore<Fickle, u32> = IndexMapStore::open(&path)?;
    for k in [5, 3, 9, 1, 7] {
        store.insert(Fickle(k), k * 10)?;
    }
    HASH_PANICS.set(true);
    let caught = catch_unwind(AssertUnwindSafe(|| store.sort_keys()));
    HASH_PANICS.set(false);
    assert!(
        matches!(caught, Ok(Ok(()))),
        "sort_keys hashed a key: {caught:?}"
    );
    let keys: Vec<u32> = store.keys().map(|k| k.0).collect();
    assert_eq!(keys, [1, 3, 5, 7, 9], "sorted in memory");
    assert_eq!(store.get(&Fickle(9)), Some(&90), "lookups still work");
    store.insert(Fickle(2), 20)?;
    drop(store);
    let store: IndexMapStore<Fickle, u32> = IndexMapStore::open(&path)?;
    let keys: Vec<u32> = store.keys().map(|k| k.0).collect();
    assert_eq!(keys, [1, 3, 5, 7, 9, 2], "the logged order");
    Ok(())
}

/// A comparison that panics runs before anything is logged: the store
/// keeps its order, is not poisoned, and takes writes.
#[test]
fn a_panicking_comparison_changes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("cmp-panic.log");
    let mut store: IndexMapStore<String, u32> = IndexMapStore::open(&path)?;
    for (k, v) in [("b", 2), ("a", 1), ("c", 3)] {
        store.insert(k.into(), v)?;
    }
    let caught = catch_unwind(AssertUnwindSafe(|| {
        store.sort_by(|_, v1, _, v2| {
            assert!(*v1 != 3 && *v2 != 3, "cmp panicked");
            v1.cmp(v2)
        })
    }));
    assert!(caught.is_err(), "cmp panicked through sort_by");
    assert_eq!(store.poisoned(), None);
    store.insert("d".into(), 4)?;
    drop(store);
    let store: IndexMapStore<String, u32> = IndexMapStore::open(&path)?;
    let keys: Vec<&str> = store.keys().map(String::as_str).collect();
    assert_eq!(keys, ["b", "a", "c", "d"]);
    Ok(())
}
