//! Read-only opens and followers, as an application uses them: over real
//! files, beside a writer in the same process (the multi-process test is
//! `followers.rs`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use indexmap::IndexMap;
use indexmap_store::{
    ChangeKind, IndexMapStore, OpenOptions, ReadOnlyStore, StoreConfig, StoreError,
};
use test_support::scratch;

type Store = IndexMapStore<String, u64>;
type Reader = ReadOnlyStore<String, u64>;

fn reader(path: &Path) -> std::io::Result<Reader> {
    OpenOptions::new().open_read_only(path)
}

fn snapshot(reader: &Reader) -> Vec<(String, u64)> {
    reader.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn state(store: &Store) -> Vec<(String, u64)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// Every file in `dir`: name, bytes, modification time.
fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let meta = fs::metadata(&path).unwrap();
            (
                path.clone(),
                fs::read(&path).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_reader_follows_a_live_writer_in_order() {
    let (_dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("alice".into(), 1).unwrap();
    let mut reader = reader(&path).unwrap();
    assert_eq!(snapshot(&reader), state(&store));
    assert_eq!(reader.get("alice"), Some(&1));
    assert_eq!(reader.next_seq(), store.next_seq());

    store.insert("bob".into(), 2).unwrap();
    store.insert("alice".into(), 3).unwrap();
    store.shift_remove("bob").unwrap();
    store
        .insert_many([("carol".to_owned(), 4), ("dave".to_owned(), 5)])
        .unwrap();
    let mut seen = Vec::new();
    let refreshed = reader
        .refresh_with(|change| {
            seen.push(match change.kind() {
                ChangeKind::Insert { key, value } => format!("insert {key}={value}"),
                ChangeKind::ShiftRemove { key } => format!("remove {key}"),
                ChangeKind::Batch { ops } => format!("batch of {ops}"),
                other => format!("{other:?}"),
            });
        })
        .unwrap();
    assert_eq!(
        seen,
        ["insert bob=2", "insert alice=3", "remove bob", "batch of 2"]
    );
    assert_eq!(refreshed.records, 4);
    assert!(!refreshed.reloaded);
    assert_eq!(snapshot(&reader), state(&store));
    assert_eq!(reader.as_map(), store.as_map());
    assert_eq!(reader.get_index_of("dave"), Some(2));
    assert_eq!(reader.first(), store.first());
    assert_eq!(reader.next_seq(), store.next_seq());

    // Nothing new: nothing applied.
    let refreshed = reader.refresh().unwrap();
    assert!(!refreshed.changed());

    // A compaction replaces the log: the reader reloads it.
    store.compact().unwrap();
    store.insert("erin".into(), 6).unwrap();
    let refreshed = reader.refresh().unwrap();
    assert!(refreshed.reloaded);
    assert_eq!(snapshot(&reader), state(&store));

    // Closed: still readable, nothing left pending.
    store.close().unwrap();
    reader.refresh().unwrap();
    assert_eq!(reader.pending_bytes(), 0);
    assert_eq!(reader.len(), 4);
}

#[test]
fn a_read_only_open_changes_no_byte_timestamp_or_file() {
    let (dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    for i in 0..100 {
        store.insert(format!("k{}", i % 17), i).unwrap();
    }
    drop(store);
    // The log and its lock file read-only, and the directory too.
    for name in ["users.log", "users.log.lock"] {
        fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(0o444)).unwrap();
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let before = listing(dir.path());
    std::thread::sleep(Duration::from_millis(20));
    let mut reader = reader(&path).unwrap();
    assert_eq!(reader.len(), 17);
    reader.refresh().unwrap();
    let second = self::reader(&path).unwrap();
    assert_eq!(second.as_map(), reader.as_map());
    drop((reader, second));
    assert_eq!(listing(dir.path()), before);

    // Without a lock file: none is created.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_file(dir.path().join("users.log.lock")).unwrap();
    let before = listing(dir.path());
    let reader = self::reader(&path).unwrap();
    assert_eq!(reader.len(), 17);
    drop(reader);
    assert_eq!(listing(dir.path()), before);

    // A missing store is not created.
    let err = self::reader(&dir.path().join("missing.log")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn a_reader_takes_no_lock() {
    let (_dir, path) = scratch("users.log");
    drop(Store::open(&path).unwrap());
    let readers: Vec<Reader> = (0..3).map(|_| reader(&path).unwrap()).collect();
    // A writer opens beside three readers.
    let mut store = Store::open(&path).unwrap();
    store.insert("x".into(), 1).unwrap();
    for mut r in readers {
        assert_eq!(r.refresh().unwrap().records, 1);
        assert_eq!(r.get("x"), Some(&1));
    }
}

#[test]
fn other_types_are_refused_as_the_writer_refuses_them() {
    let (_dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("a".into(), 1).unwrap();
    let err = OpenOptions::new()
        .open_read_only::<String, String>(&path)
        .unwrap_err();
    let typed = err.get_ref().and_then(|e| e.downcast_ref::<StoreError>());
    assert!(
        matches!(typed, Some(StoreError::TypeMismatch { .. })),
        "{err}"
    );
    let err = OpenOptions::new()
        .schema_version(2)
        .open_read_only::<String, u64>(&path)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn damaged_synced_data_is_refused_and_left_as_it_is() {
    let (dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    for i in 0..50 {
        store.insert(format!("key-{i}"), i).unwrap();
    }
    store.close().unwrap();
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let before = listing(dir.path());
    let err = reader(&path).unwrap_err();
    let writer_err = Store::open(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(err.to_string(), writer_err.to_string());
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn a_torn_tail_is_pending_until_the_writer_reopens() {
    let (dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("a".into(), 1).unwrap();
    store.insert("b".into(), 2).unwrap();
    let whole = fs::metadata(&path).unwrap().len();
    // A killed writer's half-written record.
    std::mem::forget(store);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0xa5, 0, 0, 0, 40, 0, 0, 0]);
    fs::write(&path, &bytes).unwrap();
    let mut reader = reader(&path).unwrap();
    assert_eq!(reader.len(), 2);
    assert_eq!(reader.pending_bytes(), 8);
    assert_eq!(fs::metadata(&path).unwrap().len(), whole + 8);
    // (The forgotten handle still holds the lock in this process: a
    // process-wide lock; release it the way a killed process would.)
    fs::remove_file(dir.path().join("users.log.lock")).unwrap();
    let mut store = Store::open(&path).unwrap();
    assert!(store.recovery_report().truncated.is_some());
    store.insert("c".into(), 3).unwrap();
    let refreshed = reader.refresh().unwrap();
    assert_eq!(refreshed.pending_bytes, 0);
    assert_eq!(reader.as_map(), store.as_map());
}

#[test]
fn durable_only_readers_see_what_was_synced() {
    let (_dir, path) = scratch("users.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("a".into(), 1).unwrap();
    let durable = || {
        OpenOptions::new()
            .durable_only(true)
            .open_read_only::<String, u64>(&path)
            .unwrap()
    };
    let mut reader = durable();
    assert!(reader.durable_only());
    assert!(reader.is_empty());
    store.flush().unwrap();
    store.insert("b".into(), 2).unwrap();
    reader.refresh().unwrap();
    assert_eq!(snapshot(&reader), [("a".to_owned(), 1)]);
    store.close().unwrap();
    reader.refresh().unwrap();
    assert_eq!(reader.len(), 2);
}

#[test]
fn follow_refreshes_on_a_thread() {
    let (_dir, path) = scratch("users.log");
    let config = StoreConfig {
        min_compact_bytes: 0,
        ..StoreConfig::default()
    };
    let mut store = Store::open_with(&path, config).unwrap();
    let (tx, rx) = mpsc::channel();
    let following =
        reader(&path)
            .unwrap()
            .follow(Duration::from_millis(5), move |store, refreshed| {
                refreshed.unwrap();
                let map: IndexMap<String, u64> = store.as_map().clone();
                let _ = tx.send(map);
            });
    for i in 0..200 {
        store.insert(format!("k{}", i % 10), i).unwrap();
    }
    let want = store.as_map().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        if seen == want {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never caught up");
    }
    let reader = following.stop();
    assert_eq!(reader.as_map(), &want);
    assert!(store.stats().compactions > 0);
}

#[test]
fn a_legacy_log_is_named_and_never_imported_by_a_reader() {
    let (dir, path) = scratch("old.log");
    // Two inserts as indexmap_store 0.2.x wrote them: a u32 length, a tag
    // (0: insert), then the bincode 1 key and value.
    let mut log = Vec::new();
    for (k, v) in [(1u32, 10u64), (2, 20)] {
        log.extend_from_slice(&13u32.to_le_bytes());
        log.push(0);
        log.extend_from_slice(&k.to_le_bytes());
        log.extend_from_slice(&v.to_le_bytes());
    }
    fs::write(&path, &log).unwrap();
    let before = listing(dir.path());
    for import in [false, true] {
        let err = OpenOptions::new()
            .import_legacy(import)
            .open_read_only::<u32, u64>(&path)
            .unwrap_err();
        let typed = err.get_ref().and_then(|e| e.downcast_ref::<StoreError>());
        assert!(
            matches!(typed, Some(StoreError::LegacyLog { records: 2, .. })),
            "{err}"
        );
        assert_eq!(listing(dir.path()), before);
    }
}
