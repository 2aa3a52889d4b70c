//! Key and value types are recorded in the log (a schema record) and
//! checked on open; a store of other types is refused, untouched, with a
//! message naming both sides; `migrate` converts it in one atomic rewrite.

use std::fs;
use std::hash::Hash;
use std::io;
use std::path::Path;

use crate::common::{STORE_APP_TAG, raw_log};
use indexmap_store::{IndexMapStore, OpenOptions, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use store_test_kit::store_error;
use test_support::scratch;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    age: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UserV2 {
    name: String,
    age: u32,
    email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Color {
    Red,
    Green(u8),
}

/// `Color` with its variants in the other order: decodes as `Color`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Swapped {
    Green(u8),
    Red,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Loose {
    Number(u64),
    Text(String),
}

/// Writes a store of `(K, V)` with `entries`, closed.
fn write<K, V>(path: &Path, entries: Vec<(K, V)>) -> io::Result<Vec<u8>>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    let mut store: IndexMapStore<K, V> = IndexMapStore::open(path)?;
    store.insert_many(entries)?;
    store.close()?;
    fs::read(path)
}

/// Asserts that opening `path` as `(K, V)` is refused as a type mismatch
/// naming both sides, with the file unchanged; returns the message.
fn refused_as<K, V>(path: &Path, bytes: &[u8], opts: &OpenOptions) -> String
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    let err = match opts.open::<K, V>(path) {
        Ok(_) => panic!("opened with other types"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(
        matches!(store_error(&err), StoreError::TypeMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(fs::read(path).expect("read"), bytes, "the file changed");
    let text = err.to_string();
    assert!(text.contains("IndexMapStore::migrate"), "{text}");
    text
}

#[test]
fn types_that_decode_as_each_other_are_refused() -> io::Result<()> {
    let (_dir, path) = scratch("pairs.log");
    let opts = OpenOptions::new();

    let bytes = write::<String, u64>(&path, vec![("a".into(), 1)])?;
    let text = refused_as::<String, u32>(&path, &bytes, &opts);
    assert!(
        text.contains("(String, u64)") && text.contains("(String, u32)"),
        "both sides named: {text}"
    );
    refused_as::<Vec<u8>, u64>(&path, &bytes, &opts);
    fs::remove_file(&path)?;

    let bytes = write::<u8, i8>(&path, vec![(1, -1)])?;
    refused_as::<u8, u8>(&path, &bytes, &opts);
    fs::remove_file(&path)?;

    let user = User {
        name: "ann".into(),
        age: 40,
    };
    let bytes = write::<u8, User>(&path, vec![(1, user)])?;
    let text = refused_as::<u8, (String, u32)>(&path, &bytes, &opts);
    assert!(text.contains("struct { name: String, age: u32 }"), "{text}");
    refused_as::<u8, UserV2>(&path, &bytes, &opts);
    fs::remove_file(&path)?;

    let bytes = write::<u8, Color>(&path, vec![(1, Color::Green(3))])?;
    refused_as::<u8, Swapped>(&path, &bytes, &opts);

    // The right types still open it.
    let store: IndexMapStore<u8, Color> = IndexMapStore::open(&path)?;
    assert_eq!(store.get(&1), Some(&Color::Green(3)));
    Ok(())
}

#[test]
fn the_user_schema_version_is_recorded_and_compared() -> io::Result<()> {
    let (_dir, path) = scratch("versioned.log");
    let v1 = OpenOptions::new().schema_version(1);
    let mut store: IndexMapStore<String, u32> = v1.open(&path)?;
    store.insert("a".into(), 1)?;
    store.close()?;
    let bytes = fs::read(&path)?;
    let text = refused_as::<String, u32>(&path, &bytes, &OpenOptions::new());
    assert!(
        text.contains("schema version 1") && text.contains("schema version 0"),
        "{text}"
    );
    let v2 = OpenOptions::new().schema_version(2);
    let store: IndexMapStore<String, u32> = v2.migrate(&path, |k: String, v: u32| (k, v * 10))?;
    assert_eq!(store.get("a"), Some(&10));
    drop(store);
    let store: IndexMapStore<String, u32> = v2.open(&path)?;
    assert_eq!(store.get("a"), Some(&10));
    Ok(())
}

#[test]
fn a_value_struct_gains_a_field_through_migrate() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    let names = ["zoe", "adam", "mia", "bo"];
    let mut store: IndexMapStore<String, User> = IndexMapStore::open(&path)?;
    for (i, name) in names.iter().enumerate() {
        let user = User {
            name: name.to_string(),
            age: i as u32,
        };
        store.insert(name.to_string(), user)?;
    }
    store.swap_remove("adam")?; // "bo" moves to index 1
    store.close()?;
    let bytes = fs::read(&path)?;

    let text = refused_as::<String, UserV2>(&path, &bytes, &OpenOptions::new());
    assert!(
        text.contains("email") && text.contains("struct { name: String, age: u32 }"),
        "{text}"
    );

    let store = IndexMapStore::<String, UserV2>::migrate(&path, |k, old: User| {
        let email = format!("{}@example.com", old.name);
        (
            k,
            UserV2 {
                name: old.name,
                age: old.age,
                email,
            },
        )
    })?;
    let order = ["zoe", "bo", "mia"];
    assert_eq!(store.keys().collect::<Vec<_>>(), order);
    assert_eq!(store.stats().total_records, 3, "one insert per entry");
    drop(store);

    let store: IndexMapStore<String, UserV2> = IndexMapStore::open(&path)?;
    assert_eq!(store.keys().collect::<Vec<_>>(), order);
    assert_eq!(
        store.get("bo").map(|u| u.email.as_str()),
        Some("bo@example.com")
    );
    assert_eq!(store.get("bo").map(|u| u.age), Some(3));
    drop(store);
    // The old types are refused now, and a repeated migration (as after a
    // crash right after the rename) just opens the migrated store.
    let bytes = fs::read(&path)?;
    refused_as::<String, User>(&path, &bytes, &OpenOptions::new());
    let again = IndexMapStore::<String, UserV2>::migrate(&path, |k: String, old: User| {
        panic!("{k} {old:?} converted twice")
    })?;
    assert_eq!(again.len(), 3);
    drop(again);
    let mut names: Vec<_> = fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    assert_eq!(names, ["users.log", "users.log.lock"], "no stray files");
    Ok(())
}

#[test]
fn migrate_with_colliding_keys_keeps_the_later_value_at_the_earlier_place() -> io::Result<()> {
    let (_dir, path) = scratch("collide.log");
    write::<String, u32>(
        &path,
        vec![("a1".into(), 1), ("b".into(), 2), ("a2".into(), 3)],
    )?;
    let store =
        IndexMapStore::<String, u32>::migrate(&path, |k: String, v: u32| (k[..1].to_owned(), v))?;
    let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(got, [("a".to_owned(), 3), ("b".to_owned(), 2)]);
    Ok(())
}

#[test]
fn a_self_describing_type_is_refused_before_anything_is_written() {
    let (dir, path) = scratch("loose.log");
    let err = IndexMapStore::<String, Loose>::open(&path).expect_err("untagged value type");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("value type") && text.contains("not supported by the codec"),
        "{text}"
    );
    assert!(
        matches!(
            store_error(&err),
            StoreError::UnsupportedType { which: "value", .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing created"
    );
}

#[test]
fn a_log_without_a_schema_record_opens_unchecked_and_gets_one_at_compaction() -> io::Result<()> {
    let (_dir, path) = scratch("legacy.log");
    // A log as the previous version wrote it: app version 1, Insert records.
    let mut payloads = Vec::new();
    for (k, v) in [("x", 1u64), ("y", 2)] {
        payloads.push(
            bincode::serde::encode_to_vec((0u8, k, v), bincode::config::standard())
                .map_err(io::Error::other)?,
        );
    }
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    raw_log(&path, STORE_APP_TAG, 1, &refs)?;

    let mut store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    assert_eq!(store.keys().collect::<Vec<_>>(), ["x", "y"]);
    store.compact()?;
    drop(store);
    let bytes = fs::read(&path)?;
    refused_as::<String, u32>(&path, &bytes, &OpenOptions::new());
    let store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    assert_eq!(store.get("y"), Some(&2));
    Ok(())
}
