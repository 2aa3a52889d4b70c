//! Values that fail to serialise: every write of one is refused with
//! nothing written, and a `modify` that breaks serialisation poisons the
//! store.

use std::fs;
use std::io;

use indexmap_store::{Batch, IndexMapStore, StoreError};
use serde::ser::{Error as _, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use store_test_kit::store_error;
use test_support::scratch;

/// A value whose serialisation fails on demand.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Fragile {
    fail: bool,
    n: u32,
}

impl Serialize for Fragile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.fail {
            return Err(S::Error::custom("Fragile refuses to be serialised"));
        }
        let mut st = s.serialize_struct("Fragile", 2)?;
        st.serialize_field("fail", &self.fail)?;
        st.serialize_field("n", &self.n)?;
        st.end()
    }
}

fn ok(n: u32) -> Fragile {
    Fragile { fail: false, n }
}

fn bad(n: u32) -> Fragile {
    Fragile { fail: true, n }
}

fn assert_encode_error(err: &io::Error) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(matches!(store_error(err), StoreError::Encode(_)), "{err:?}");
}

#[test]
fn a_value_that_fails_to_serialise_writes_nothing() -> io::Result<()> {
    let (_dir, path) = scratch("enc.log");
    let mut store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    store.insert("a".into(), ok(1))?;
    store.insert("b".into(), ok(2))?;
    let bytes = fs::read(&path)?;
    let stats = store.stats();
    let map = store.as_map().clone();

    let err = store.insert("c".into(), bad(3)).expect_err("insert");
    assert_encode_error(&err);
    let err = store.insert("a".into(), bad(3)).expect_err("overwrite");
    assert_encode_error(&err);
    let err = store
        .insert_many([("d".into(), ok(4)), ("e".into(), bad(5))])
        .expect_err("many");
    assert_encode_error(&err);
    let mut batch = Batch::new();
    batch.shift_remove("a".into()).insert("f".into(), bad(6));
    assert_encode_error(&store.apply(batch).expect_err("batch"));
    let err = store
        .entry("g".into())
        .or_insert(bad(7))
        .expect_err("entry");
    assert_encode_error(&err);

    assert_eq!(fs::read(&path)?, bytes, "log bytes unchanged");
    assert_eq!(store.as_map(), &map, "map unchanged");
    assert_eq!(store.stats(), stats, "stats unchanged");

    // Still usable, and nothing of the failures comes back on reopen.
    store.insert("c".into(), ok(3))?;
    store.remove("a")?;
    drop(store);
    let store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    assert_eq!(
        store
            .iter()
            .map(|(k, v)| (k.as_str(), v.n))
            .collect::<Vec<_>>(),
        [("b", 2), ("c", 3)]
    );
    Ok(())
}

/// `modify` changes the value before it can know whether the new value
/// serialises; when it does not, the store refuses later writes (its map is
/// ahead of the log) and a reopen gives the logged state.
#[test]
fn a_modify_that_breaks_serialisation_poisons_the_store() -> io::Result<()> {
    let (_dir, path) = scratch("poison.log");
    let mut store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    store.insert("a".into(), ok(1))?;
    let bytes = fs::read(&path)?;
    let err = store
        .modify("a", |v| v.fail = true)
        .expect_err("cannot log the new value");
    assert_encode_error(&err);
    assert_eq!(fs::read(&path)?, bytes, "nothing written");
    let err = store.insert("b".into(), ok(2)).expect_err("poisoned");
    assert!(
        matches!(store_error(&err), StoreError::Poisoned { .. }),
        "{err:?}"
    );
    assert!(store.flush().is_err(), "flush reports the poisoning too");
    assert!(store.compact().is_err(), "so does compact");
    assert_eq!(fs::read(&path)?, bytes, "nothing written while poisoned");
    drop(store);
    let store: IndexMapStore<String, Fragile> = IndexMapStore::open(&path)?;
    assert_eq!(store.get("a"), Some(&ok(1)));
    assert_eq!(store.len(), 1);
    Ok(())
}
