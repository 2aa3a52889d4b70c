//! README recovery table: "valid records that do not decode as `(K, V)`
//! (other types, another codec): Fails with `InvalidData` ..., changing
//! nothing", and the summary: "a file that is not yours, or was written
//! with other types, is refused and left byte-for-byte untouched". Opened
//! with the wrong types, a store must be refused even when its bytes happen
//! to decode as those types; opened with the right ones again, it is whole.

use std::fmt::Debug;
use std::hash::Hash;
use std::io;
use std::path::Path;

use indexmap_store::IndexMapStore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use test_support::scratch;

use super::{assert_refused, entries, reopen_entries, snapshot};

/// Writes `pairs` as a `<K1, V1>` store, closes it, opens it as `<K2, V2>`
/// (which must be refused with `InvalidData`, leaving every file as it
/// was), then opens it as `<K1, V1>` and finds `pairs`.
#[track_caller]
fn refused_as<K1, V1, K2, V2>(pairs: Vec<(K1, V1)>)
where
    K1: Hash + Eq + Clone + Debug + Serialize + DeserializeOwned,
    V1: Clone + Debug + PartialEq + Serialize + DeserializeOwned,
    K2: Hash + Eq + Debug + Serialize + DeserializeOwned,
    V2: Debug + Serialize + DeserializeOwned,
{
    let what = format!(
        "a <{}, {}> store opened as <{}, {}>",
        std::any::type_name::<K1>(),
        std::any::type_name::<V1>(),
        std::any::type_name::<K2>(),
        std::any::type_name::<V2>()
    );
    let (dir, path) = scratch("typed.log");
    write::<K1, V1>(&path, pairs.clone());
    let before = snapshot(dir.path());
    match IndexMapStore::<K2, V2>::open(&path) {
        Ok(store) => panic!(
            "{what}: the open succeeded and reads {:?}",
            store.iter().collect::<Vec<_>>()
        ),
        Err(e) => assert_refused(&e, io::ErrorKind::InvalidData, &what),
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "{what}: the refused open changed files"
    );
    assert_eq!(
        reopen_entries::<K1, V1>(&path),
        pairs,
        "{what}: then with the right types"
    );
}

fn write<K, V>(path: &Path, pairs: Vec<(K, V)>)
where
    K: Hash + Eq + Clone + Serialize + DeserializeOwned,
    V: Clone + Serialize + DeserializeOwned,
{
    let mut store: IndexMapStore<K, V> = IndexMapStore::open(path).unwrap();
    for (k, v) in pairs {
        store.insert(k, v).unwrap();
    }
    assert!(!entries(&store).is_empty());
    store.close().unwrap();
}

fn users() -> Vec<(String, u64)> {
    vec![("alice".into(), 1), ("bob".into(), 2)]
}

/// The quick start's `<String, u64>` store opened as `<String, u32>` and as
/// `<Vec<u8>, i8>`: both decode its bytes, both must be refused.
#[test]
fn the_quick_start_store_is_refused_with_other_types() {
    refused_as::<String, u64, String, u32>(users());
    refused_as::<String, u64, Vec<u8>, i8>(users());
}

/// Obviously incompatible types are refused too (`StoreError::Decode`
/// today).
#[test]
fn incompatible_types_are_refused() {
    refused_as::<String, String, u64, u64>(vec![("k".into(), "a long string value".into())]);
    refused_as::<u8, u8, String, String>(vec![(200, 250)]);
}

/// Integer values of other widths decode as each other under bincode's
/// varint encoding: `u64` and `u32`, both ways.
#[test]
fn integer_widths_are_told_apart() {
    refused_as::<String, u64, String, u32>(vec![("a".into(), 7), ("b".into(), 70_000)]);
    refused_as::<String, u32, String, u64>(vec![("a".into(), 7), ("b".into(), 70_000)]);
}

/// `String` and `Vec<u8>` keys are encoded alike.
#[test]
fn string_and_byte_keys_are_told_apart() {
    refused_as::<String, u32, Vec<u8>, u32>(vec![("a".into(), 1)]);
    refused_as::<Vec<u8>, u32, String, u32>(vec![(b"a".to_vec(), 1)]);
}

/// `i8` and `u8` values are one byte each.
#[test]
fn signedness_is_told_apart() {
    refused_as::<String, i8, String, u8>(vec![("a".into(), -1), ("b".into(), 5)]);
    refused_as::<String, u8, String, i8>(vec![("a".into(), 255), ("b".into(), 5)]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    a: u32,
    b: u32,
}

/// A struct and a tuple of the same fields are encoded alike.
#[test]
fn a_struct_and_a_tuple_are_told_apart() {
    refused_as::<String, Point, String, (u32, u32)>(vec![("p".into(), Point { a: 1, b: 2 })]);
    refused_as::<String, (u32, u32), String, Point>(vec![("p".into(), (1, 2))]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Status {
    Active,
    Suspended,
}

/// The same enum after a release reordered its variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum StatusReordered {
    Suspended,
    Active,
}

/// Bincode writes variant indices, so reordering an enum's variants turns
/// every `Active` into `Suspended`: that must be refused.
#[test]
fn an_enum_with_reordered_variants_is_told_apart() {
    refused_as::<String, Status, String, StatusReordered>(vec![
        ("alice".into(), Status::Active),
        ("bob".into(), Status::Suspended),
    ]);
}
