//! Everything acknowledged can be read back (issue 13): a write that the
//! next open could not decode to the same entries is refused before
//! anything is logged, and a record the writer accepts is never refused by
//! the reader's decode limit.

use std::fs;
use std::io;

use indexmap_store::{Batch, IndexMapStore, OpenOptions, StoreError};
use serde::{Deserialize, Serialize};
use test_support::scratch;

/// A value whose `Serialize` leaves a field out when it is `None`: bincode
/// is not self-describing, so the reader would take the next bytes for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sparse {
    id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn store_error(err: &io::Error) -> &StoreError {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<StoreError>())
        .unwrap_or_else(|| panic!("no StoreError behind {err:?}"))
}

/// `skip_serializing_if`: a single insert, and a batch of two that used to
/// re-parse as an insert followed by a removal (the store reopened without
/// key 2 and said nothing), are refused with nothing written; values that
/// write every field still go through, and the store keeps working.
#[test]
fn a_type_that_skips_fields_is_refused_before_anything_is_logged() -> io::Result<()> {
    let (_dir, path) = scratch("sparse.log");
    let mut store: IndexMapStore<u32, Sparse> = IndexMapStore::open(&path)?;
    let full = Sparse {
        id: 1,
        note: Some("kept".into()),
    };
    store.insert(1, full.clone())?;
    let len = fs::metadata(&path)?.len();

    let sparse = Sparse { id: 2, note: None };
    let err = store.insert(2, sparse.clone()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(
        matches!(store_error(&err), StoreError::Unreadable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("skip_serializing_if"), "{err}");

    let mut batch = Batch::new();
    batch.insert(2, sparse.clone()).insert(3, full.clone());
    let err = store.apply(batch).unwrap_err();
    assert!(
        matches!(store_error(&err), StoreError::Unreadable { .. }),
        "{err:?}"
    );
    let err = store
        .insert_many([(2, sparse.clone()), (3, sparse)])
        .unwrap_err();
    assert!(
        matches!(store_error(&err), StoreError::Unreadable { .. }),
        "{err:?}"
    );

    assert_eq!(fs::metadata(&path)?.len(), len, "nothing was written");
    assert_eq!(store.len(), 1, "nothing was applied");
    assert!(
        store.poisoned().is_none(),
        "a refused write does not poison"
    );
    store.insert(4, full.clone())?;
    store.close()?;
    let store: IndexMapStore<u32, Sparse> = IndexMapStore::open(&path)?;
    assert_eq!(
        store
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>(),
        [(1, full.clone()), (4, full)]
    );
    Ok(())
}

/// Without the check (`verify_writes(false)`), the same write is
/// acknowledged and the log cannot be read back: the check is what keeps
/// the promise.
#[test]
fn without_the_check_the_write_is_acknowledged_and_unreadable() -> io::Result<()> {
    let (_dir, path) = scratch("unchecked.log");
    let opts = OpenOptions::new().verify_writes(false);
    let mut store: IndexMapStore<u32, Sparse> = opts.open(&path)?;
    store.insert(2, Sparse { id: 2, note: None })?;
    store.insert(3, Sparse { id: 3, note: None })?;
    drop(store);
    let reopened: io::Result<IndexMapStore<u32, Sparse>> = opts.open(&path);
    let lost = match reopened {
        Err(_) => true,
        Ok(store) => store.len() != 2,
    };
    assert!(lost, "the unchecked sparse writes read back intact");
    Ok(())
}

/// A record of 136 million zero `u64`s (136 MB) claims more than 1 GiB when
/// decoded (bincode counts 8 bytes per varint `u64`): the old fixed 1 GiB
/// decode limit acknowledged it and then refused every open. The limit now
/// grows with the record, so it reads back.
#[test]
fn a_large_record_of_small_integers_reads_back() -> io::Result<()> {
    let (_dir, path) = scratch("zeros.log");
    let n = (1usize << 30) / 8 + (1 << 21);
    let mut store: IndexMapStore<u8, Vec<u64>> = IndexMapStore::open(&path)?;
    store.insert(0, vec![0; n])?;
    drop(store);
    let store: IndexMapStore<u8, Vec<u64>> = IndexMapStore::open(&path)?;
    let value = store.get(&0).expect("the record reads back");
    assert_eq!(value.len(), n);
    assert!(value.iter().all(|&x| x == 0));
    Ok(())
}

/// A `String` inside a newtype whose `Deserialize` refuses what its
/// `Serialize` wrote: the decode is skipped only for the plain standard
/// types, so this write is still decoded, and refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(serde::de::Error::custom("empty"));
        }
        Ok(NonEmpty(s))
    }
}

#[test]
fn a_newtype_around_a_string_is_still_decoded() -> io::Result<()> {
    let (_dir, path) = scratch("newtype.log");
    let mut store: IndexMapStore<String, NonEmpty> = IndexMapStore::open(&path)?;
    store.insert("a".into(), NonEmpty("kept".into()))?;
    let len = fs::metadata(&path)?.len();
    let err = store
        .insert("b".into(), NonEmpty(String::new()))
        .unwrap_err();
    assert!(
        matches!(store_error(&err), StoreError::Unreadable { .. }),
        "{err:?}"
    );
    assert_eq!(fs::metadata(&path)?.len(), len, "nothing was written");
    drop(store);
    let store: IndexMapStore<String, NonEmpty> = IndexMapStore::open(&path)?;
    assert_eq!(store.len(), 1);
    assert_eq!(store.get("a"), Some(&NonEmpty("kept".into())));
    Ok(())
}

/// Plain standard types skip the decode, and what they write reads back:
/// text with every kind of character, bytes, and the extremes of the
/// integers and floats, one call each and as a batch.
#[test]
fn standard_types_read_back_without_the_decode() -> io::Result<()> {
    let (_dir, path) = scratch("standard.log");
    let texts = ["", "a", "ünïcødé ✓ 𝄞", "\0\u{10FFFF}"];
    {
        let mut text: IndexMapStore<String, Vec<u8>> = IndexMapStore::open(&path)?;
        for (i, t) in texts.iter().enumerate() {
            text.insert((*t).to_owned(), vec![i as u8; i * 100])?;
        }
        text.insert_many([("many".to_owned(), vec![255; 3])])?;
    }
    let text: IndexMapStore<String, Vec<u8>> = IndexMapStore::open(&path)?;
    let keys: Vec<&str> = text.keys().map(String::as_str).collect();
    assert_eq!(keys, [&texts[..], &["many"]].concat());
    assert_eq!(text.get("\0\u{10FFFF}"), Some(&vec![3; 300]));
    drop(text);

    let (_dir, path) = scratch("numbers.log");
    let pairs = [(i128::MIN, f64::NAN), (0, -0.0), (i128::MAX, f64::INFINITY)];
    {
        let mut numbers: IndexMapStore<i128, f64> = IndexMapStore::open(&path)?;
        for (k, v) in pairs {
            numbers.insert(k, v)?;
        }
    }
    let numbers: IndexMapStore<i128, f64> = IndexMapStore::open(&path)?;
    let bits: Vec<(i128, u64)> = numbers.iter().map(|(k, v)| (*k, v.to_bits())).collect();
    let want: Vec<(i128, u64)> = pairs.iter().map(|(k, v)| (*k, v.to_bits())).collect();
    assert_eq!(bits, want);
    Ok(())
}
