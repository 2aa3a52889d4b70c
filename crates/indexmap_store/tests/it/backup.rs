//! Online backup: `backup_to` and `backup_with`, over real files as an
//! application uses them, and over `SimStorage` crashed at every storage
//! operation of a backup.

use std::fs;
use std::io;
use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{BackupProgress, IndexMapStore, OpenOptions, StoreConfig};
use test_support::scratch;
use wal_io::sim::{CrashVariant, SimStorage};

type Store = IndexMapStore<String, u64>;

#[test]
fn a_backup_is_an_ordinary_store_of_the_current_state() {
    let (dir, path) = scratch("live.log");
    let backup = dir.path().join("backup.log");
    let mut store = Store::open(&path).unwrap();
    for i in 0..1000u64 {
        store.insert(format!("k{}", i % 300), i).unwrap();
    }
    store.shift_remove("k7").unwrap();
    store.move_index(0, 100).unwrap();
    let log_before = fs::read(&path).unwrap();
    let mut reports = Vec::new();
    let written = store
        .backup_with(&backup, false, |p: BackupProgress| reports.push(p))
        .unwrap();
    assert_eq!(written, 299);
    assert_eq!(reports.last().map(|p| p.entries_written), Some(299));
    assert!(reports.iter().all(|p| p.entries_total == 299));
    // The store's own log is untouched, and the store keeps working.
    assert_eq!(fs::read(&path).unwrap(), log_before);
    store.insert("after".into(), 1).unwrap();
    // Only the backup itself was created beside the log: no lock, no
    // temporary file.
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["backup.log", "live.log", "live.log.lock"]);
    // Compacted: one record per entry, and the schema record.
    let copy = Store::open(&backup).unwrap();
    assert_eq!(copy.stats().total_records, 299);
    let mut want: IndexMap<String, u64> = store.as_map().clone();
    want.shift_remove("after");
    assert_eq!(copy.as_map(), &want);
    drop(copy);

    // An existing file is refused, untouched, unless asked.
    let kept = fs::read(&backup).unwrap();
    let err = store.backup_to(&backup).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert!(err.to_string().contains("overwrite"), "{err}");
    assert_eq!(fs::read(&backup).unwrap(), kept);
    store.backup_with(&backup, true, |_| {}).unwrap();
    assert_eq!(Store::open(&backup).unwrap().as_map(), store.as_map());
    // Never over the store's own log.
    let err = store.backup_with(&path, true, |_| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    // Nor over a store a writer has open.
    let other = dir.path().join("other.log");
    let _writer = Store::open(&other).unwrap();
    let err = store.backup_with(&other, true, |_| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

/// `backup_with(path, true, ..)` never replaces the store's own log, by
/// its name or through a symbolic link; the refusal says so instead of
/// asking for the overwrite that was asked for.
#[test]
fn a_backup_over_its_own_log_says_why_it_is_refused() {
    let (dir, path) = scratch("live.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("a".into(), 1).unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let before = fs::read(&path).unwrap();
    for dest in [&path, &link] {
        let err = store.backup_with(dest, true, |_| {}).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("the log being copied") && !msg.contains("ask to overwrite"),
            "{}: {msg}",
            dest.display()
        );
    }
    assert_eq!(fs::read(&path).unwrap(), before);
    store.insert("b".into(), 2).unwrap();
}

#[test]
fn progress_is_reported_for_large_stores() {
    let dir = tempfile::tempdir().unwrap();
    let mut store: IndexMapStore<u64, u64> =
        IndexMapStore::open(dir.path().join("big.log")).unwrap();
    store.insert_many((0..150_000).map(|i| (i, i))).unwrap();
    let mut reports = Vec::new();
    store
        .backup_with(dir.path().join("b.log"), false, |p| {
            reports.push(p.entries_written);
        })
        .unwrap();
    assert_eq!(reports, [65_536, 131_072, 150_000]);
}

#[test]
fn a_backup_can_be_read_by_a_follower_while_it_is_replaced() {
    let (dir, path) = scratch("live.log");
    let backup = dir.path().join("backup.log");
    let mut store = Store::open(&path).unwrap();
    store.insert("a".into(), 1).unwrap();
    store.backup_to(&backup).unwrap();
    let mut reader = OpenOptions::new()
        .open_read_only::<String, u64>(&backup)
        .unwrap();
    assert_eq!(reader.len(), 1);
    store.insert("b".into(), 2).unwrap();
    store.backup_with(&backup, true, |_| {}).unwrap();
    assert!(reader.refresh().unwrap().reloaded);
    assert_eq!(reader.as_map(), store.as_map());
}

const LIVE: &str = "live.log";
const BACKUP: &str = "backup.log";

fn config() -> StoreConfig {
    StoreConfig {
        // Several writes per backup.
        buf_capacity: 512,
        ..StoreConfig::default()
    }
}

/// A store on a fresh `SimStorage` with 200 entries, synced.
fn sim_store() -> (SimStorage, Store) {
    let sim = SimStorage::new(11);
    let mut store = Store::open_with_storage(Arc::new(sim.clone()), LIVE, config()).unwrap();
    for i in 0..400u64 {
        store.insert(format!("key-{}", i % 200), i).unwrap();
    }
    store.flush().unwrap();
    (sim, store)
}

#[test]
fn a_crash_at_any_step_of_a_backup_leaves_no_backup_or_a_whole_one() {
    let (sim, store) = sim_store();
    let start = sim.ops();
    store.backup_to(BACKUP).unwrap();
    let steps = sim.ops() - start;
    assert!(steps >= 6, "{steps} storage operations");
    let want = store.as_map().clone();
    drop(store);
    let (mut whole, mut none) = (0, 0);
    for step in 0..steps {
        for (v, variant) in CrashVariant::ALL.into_iter().enumerate() {
            let (sim, store) = sim_store();
            sim.crash_at(sim.ops() + step);
            assert!(
                store.backup_to(BACKUP).is_err(),
                "step {step}: the crash did not stop the backup"
            );
            drop(store);
            sim.crash_with_seed(variant, step * 7 + v as u64);
            let ctx = format!("crash at step {step} of {steps}, {variant:?}");
            if sim.read_file(BACKUP).is_none() {
                none += 1;
            } else {
                let copy = Store::open_with_storage(Arc::new(sim.clone()), BACKUP, config())
                    .unwrap_or_else(|e| panic!("{ctx}: the backup does not open: {e}"));
                assert_eq!(copy.as_map(), &want, "{ctx}: a partial backup");
                assert!(copy.recovery_report().truncated.is_none(), "{ctx}");
                whole += 1;
            }
            // The live store recovers as it was.
            let live = Store::open_with_storage(Arc::new(sim.clone()), LIVE, config())
                .unwrap_or_else(|e| panic!("{ctx}: the store does not open: {e}"));
            assert_eq!(live.as_map(), &want, "{ctx}");
        }
    }
    assert!(whole > 0 && none > 0, "{whole} whole, {none} none");
}
