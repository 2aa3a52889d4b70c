//! `OpenOptions::open_threaded` (decoding on a second thread) gives what
//! the sequential `open` gives, on valid and damaged logs alike: the same
//! map in the same order, the same recovery report, the same error naming
//! the same record, the same bytes left on disk. And a compacted log tells
//! the open how many entries to size the map for.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{STORE_APP_TAG, raw_log};
use indexmap_store::RecoveryReport;
use indexmap_store::{Batch, IndexMapStore, OpenOptions, StoreConfig};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use test_support::scratch;

type Store = IndexMapStore<String, u64>;

/// The entries an open gave and its report (its duration zeroed).
type Opened = (Vec<(String, u64)>, RecoveryReport);

/// What an open gave: its entries and report, or the error's kind and
/// message; then every file in the directory.
#[derive(Debug, PartialEq)]
struct Outcome {
    opened: Result<Opened, (io::ErrorKind, String)>,
    files: Vec<(String, Vec<u8>)>,
}

fn open_as(path: &Path, threads: usize, salvage: bool) -> Outcome {
    let opened = OpenOptions::new()
        .recovery_threads(threads)
        .salvage(salvage)
        .open_threaded::<String, u64>(path)
        .map(|store| {
            let mut report = store.recovery_report().clone();
            report.duration = std::time::Duration::ZERO;
            let entries = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
            (entries, report)
        })
        .map_err(|e| (e.kind(), e.to_string()));
    // A log initialised anew (its header was cut short) gets a random file
    // id, in its header and in the lock file's claim: compare lengths then.
    let initialized = opened.as_ref().is_ok_and(|(_, r)| r.initialized);
    let mut files: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mut bytes = fs::read(e.path()).unwrap();
            if initialized {
                bytes = bytes.len().to_le_bytes().to_vec();
            }
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    Outcome { opened, files }
}

/// Opens a copy of the directory's log with one thread and another copy
/// with two, and requires the same outcome.
fn same_either_way(path: &Path, salvage: bool) -> Outcome {
    let dir = path.parent().unwrap();
    let saved: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path(), fs::read(e.path()).unwrap())
        })
        .collect();
    let one = open_as(path, 1, salvage);
    for e in fs::read_dir(dir).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    for (p, bytes) in &saved {
        fs::write(p, bytes).unwrap();
    }
    let two = open_as(path, 2, salvage);
    assert_eq!(one, two, "one thread and two gave different outcomes");
    two
}

/// Writes `payloads` as records of a store's log (schema version 4), as a
/// store would frame them (checksums valid), whatever they hold.
fn raw_v4_log(path: &Path, payloads: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    raw_log(path, STORE_APP_TAG, 4, &refs).unwrap();
}

/// bincode of `Op::Insert(key, value)` for a short key and small value.
fn insert(key: &str, value: u8) -> Vec<u8> {
    let mut p = vec![0, key.len() as u8];
    p.extend_from_slice(key.as_bytes());
    p.push(value);
    p
}

#[test]
fn a_compacted_store_opens_the_same_with_its_map_sized_once() -> io::Result<()> {
    let (_dir, path) = scratch("sized.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert_many(
        (0..10_000u64)
            .map(|i| (format!("k{i}"), i))
            .collect::<Vec<_>>(),
    )?;
    store.compact()?;
    store.insert("after".into(), 1)?;
    drop(store);
    let outcome = same_either_way(&path, false);
    let (entries, report) = outcome.opened.expect("a valid log opens");
    assert_eq!(entries.len(), 10_001);
    assert_eq!(entries[0], ("k0".to_owned(), 0));
    assert_eq!(entries[10_000], ("after".to_owned(), 1));
    // Schema, entry count, 10,000 inserts, the later insert.
    assert_eq!(report.records, 10_003);

    // The count a compaction records sizes the map once: no growth by
    // doubling, which leaves up to twice the room.
    let mut store: Store = IndexMapStore::open(&path)?;
    store.compact()?;
    drop(store);
    for threads in [1, 2] {
        let store: Store = OpenOptions::new()
            .recovery_threads(threads)
            .open_threaded(&path)?;
        let capacity = store.as_map().capacity();
        assert_eq!(
            capacity, 10_001,
            "capacity {capacity} for 10,001 entries with {threads} threads"
        );
        assert!(store.recovery_report().duration > std::time::Duration::ZERO);
    }
    // So does a read-only open.
    let reader = OpenOptions::new().open_read_only::<String, u64>(&path)?;
    assert_eq!(reader.len(), 10_001);
    assert_eq!(
        reader.as_map().capacity(),
        10_001,
        "a read-only open sizes the map once too"
    );
    Ok(())
}

#[test]
fn a_record_that_does_not_decode_fails_both_opens_at_it_and_changes_nothing() {
    let (_dir, path) = scratch("undecodable.log");
    let mut payloads: Vec<_> = (0..3000).map(|i| insert(&format!("k{i}"), 1)).collect();
    // Variant 0 (insert), then a key length running past the record.
    payloads.insert(2500, vec![0, 200, b'x']);
    raw_v4_log(&path, &payloads);
    // A torn tail after it, which a successful open would cut.
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[1, 2, 3]);
    fs::write(&path, &bytes).unwrap();
    let outcome = same_either_way(&path, false);
    let (kind, message) = outcome.opened.expect_err("the bad record fails the open");
    assert_eq!(kind, io::ErrorKind::InvalidData);
    assert!(message.contains("record 2500"), "{message}");
    assert_eq!(fs::read(&path).unwrap(), bytes, "nothing may change");
}

#[test]
fn a_record_that_cannot_apply_fails_both_opens_with_the_same_error() {
    let (_dir, path) = scratch("inconsistent.log");
    let mut payloads: Vec<_> = (0..2000).map(|i| insert(&format!("k{i}"), 1)).collect();
    // A permutation of two entries naming index 5 (variant 8).
    payloads.insert(700, vec![8, 2, 0, 5]);
    // And an undecodable record after it: the first failure is the one.
    payloads.insert(1500, vec![0, 200]);
    raw_v4_log(&path, &payloads);
    let outcome = same_either_way(&path, false);
    let (_, message) = outcome.opened.expect_err("the bad record fails the open");
    assert!(message.contains("record 700"), "{message}");
}

#[test]
fn other_types_are_refused_the_same_way() -> io::Result<()> {
    let (_dir, path) = scratch("types.log");
    let mut store: IndexMapStore<u64, String> = IndexMapStore::open(&path)?;
    store.insert(1, "one".into())?;
    drop(store);
    let outcome = same_either_way(&path, false);
    let (kind, message) = outcome.opened.expect_err("other types are refused");
    assert_eq!(kind, io::ErrorKind::InvalidData);
    assert!(message.contains("u64"), "{message}");
    Ok(())
}

/// A store's log after some mixed operations, synced, then compacted
/// halfway when `compact` is set.
fn build(path: &Path, ops: &[(u8, u16)], compact: bool) {
    let config = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    };
    let mut store: Store = IndexMapStore::open_with(path, config).unwrap();
    for (i, &(op, key)) in ops.iter().enumerate() {
        let k = format!("key{}", key % 64);
        match op % 6 {
            0 | 1 => drop(store.insert(k, u64::from(key)).unwrap()),
            2 => drop(store.shift_remove(&k).unwrap()),
            3 => drop(store.swap_remove(&k).unwrap()),
            4 => {
                let mut batch = Batch::new();
                batch.insert(k, 7).shift_remove(format!("key{}", key % 7));
                store.apply(batch).unwrap();
            }
            _ => store.retain(|_, v| *v % 3 != u64::from(key % 3)).unwrap(),
        }
        if compact && i == ops.len() / 2 {
            store.compact().unwrap();
        }
    }
    store.flush().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random logs, cut short or with a byte changed anywhere (header,
    /// frames, payloads, seals), open the same with one thread and two,
    /// strict or salvaging.
    #[test]
    fn random_damage_gives_the_same_verdict_with_one_thread_and_two(
        ops in proptest::collection::vec((any::<u8>(), any::<u16>()), 1..300),
        compact in any::<bool>(),
        damage in 0u8..3,
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        salvage in any::<bool>(),
    ) {
        let (_dir, path) = scratch("random.log");
        build(&path, &ops, compact);
        let mut bytes = fs::read(&path).unwrap();
        let i = at.index(bytes.len());
        match damage {
            0 => {}
            1 => bytes.truncate(i),
            _ => bytes[i] ^= xor,
        }
        fs::write(&path, &bytes).unwrap();
        same_either_way(&path, salvage);
    }
}

/// Armed by the one test that uses [`Bomb`], once the log is written
/// (writing decodes each record back, to check it).
static BOMB_ARMED: AtomicBool = AtomicBool::new(false);

/// A key whose `Deserialize` panics on 666 while [`BOMB_ARMED`] (user code
/// failing mid-open).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
struct Bomb(u32);

impl<'de> Deserialize<'de> for Bomb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        assert!(
            !(n == 666 && BOMB_ARMED.load(Ordering::SeqCst)),
            "Deserialize panicked"
        );
        Ok(Bomb(n))
    }
}

/// Armed by the one test that uses [`Fickle`].
static HASH_ARMED: AtomicBool = AtomicBool::new(false);

/// A key whose `Hash` panics on 666 while [`HASH_ARMED`], on named
/// threads only: the test's own thread (which builds the map) panics, the
/// open's unnamed reading thread does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Fickle(u32);

impl Hash for Fickle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let armed = HASH_ARMED.load(Ordering::SeqCst);
        assert!(
            !(armed && self.0 == 666 && std::thread::current().name().is_some()),
            "Hash panicked"
        );
        self.0.hash(state);
    }
}

/// Opens `path` as `IndexMapStore<K, u64>` with `threads`, and returns
/// whether the open panicked.
fn open_panics<K>(path: &Path, threads: usize) -> bool
where
    K: Hash + Eq + Serialize + DeserializeOwned + Send,
{
    catch_unwind(AssertUnwindSafe(|| {
        let _ = OpenOptions::new()
            .recovery_threads(threads)
            .open_threaded::<K, u64>(path);
    }))
    .is_err()
}

/// Writes keys `0..n` with `make`, closes, and appends a few stray bytes
/// (a torn tail a successful open would cut); returns the file's bytes.
fn written<K>(
    path: &Path,
    n: u32,
    make: impl Fn(u32) -> K,
    then: impl FnOnce(&mut IndexMapStore<K, u64>),
) -> Vec<u8>
where
    K: Hash + Eq + Serialize + DeserializeOwned + Send,
{
    let mut store: IndexMapStore<K, u64> = IndexMapStore::open(path).unwrap();
    store
        .insert_many((0..n).map(|i| (make(i), u64::from(i))).collect::<Vec<_>>())
        .unwrap();
    then(&mut store);
    drop(store);
    let mut bytes = fs::read(path).unwrap();
    bytes.extend_from_slice(&[9, 9, 9]);
    fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn a_panic_in_deserialize_propagates_from_either_thread_and_changes_nothing() {
    let (_dir, path) = scratch("bomb.log");
    let bytes = written(&path, 3000, Bomb, |_| {});
    BOMB_ARMED.store(true, Ordering::SeqCst);
    // A panic, not a hang, and not a lock left held: every attempt panics
    // the same way.
    let panicked: Vec<_> = [1, 2, 1]
        .map(|threads| open_panics::<Bomb>(&path, threads))
        .into();
    BOMB_ARMED.store(false, Ordering::SeqCst);
    assert_eq!(panicked, [true, true, true]);
    assert_eq!(fs::read(&path).unwrap(), bytes);
    let store: IndexMapStore<Bomb, u64> = OpenOptions::new().open_threaded(&path).unwrap();
    assert_eq!(store.len(), 3000);
}

#[test]
fn a_panic_in_hash_while_building_the_map_propagates_and_changes_nothing() {
    let (_dir, path) = scratch("fickle.log");
    let bytes = written(&path, 3000, Fickle, |store| {
        // Replayed on the thread that builds the map, which hashes 666.
        store.shift_remove(&Fickle(666)).unwrap();
    });
    HASH_ARMED.store(true, Ordering::SeqCst);
    let panicked: Vec<_> = [2, 1]
        .map(|threads| open_panics::<Fickle>(&path, threads))
        .into();
    HASH_ARMED.store(false, Ordering::SeqCst);
    assert_eq!(panicked, [true, true]);
    assert_eq!(fs::read(&path).unwrap(), bytes);
    // Disarmed, the log opens: the stray bytes are cut, all else is kept.
    let store: IndexMapStore<Fickle, u64> = OpenOptions::new().open_threaded(&path).unwrap();
    assert_eq!(store.len(), 2999);
    assert!(store.recovery_report().truncated.is_some());
}
