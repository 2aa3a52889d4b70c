//! Logs written by the real indexmap_store 0.2.3 (the crates.io crate):
//! refused by a plain open, untouched; imported with
//! `OpenOptions::import_legacy(true)` to exactly what that crate reads back,
//! in its order, torn tails included.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use indexmap_store::{IndexMapStore, LegacyTail, OpenOptions, StoreError};
use indexmap_store_v02 as v02;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Free,
    Paid { months: u16 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    tags: Vec<String>,
    age: Option<u32>,
    score: f64,
    kind: Kind,
}

fn profile(i: u64) -> Profile {
    Profile {
        name: format!("user {i}"),
        tags: (0..i % 3).map(|t| format!("t{t}")).collect(),
        age: i.is_multiple_of(2).then_some(20 + i as u32),
        score: i as f64 / 3.0,
        kind: if i.is_multiple_of(4) {
            Kind::Free
        } else {
            Kind::Paid { months: i as u16 }
        },
    }
}

fn store_error(e: &io::Error) -> &StoreError {
    e.get_ref()
        .and_then(|e| e.downcast_ref::<StoreError>())
        .unwrap_or_else(|| panic!("no StoreError behind {e}"))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that a refused open left the log at `path` as `before`, and
/// nothing beside it in `dir` but the names in `only`.
#[track_caller]
fn assert_untouched(path: &Path, before: &[u8], dir: &Path, only: &[&str]) {
    assert_eq!(fs::read(path).unwrap(), before);
    assert_eq!(names(dir), only, "nothing created beside it");
}

/// The error of an import of `path` as `IndexMapStore<K, V>`, which must
/// fail.
fn import_fails<K, V>(path: &Path) -> io::Error
where
    K: std::hash::Hash + Eq + Clone + std::fmt::Debug + Serialize + serde::de::DeserializeOwned,
    V: Clone + std::fmt::Debug + Serialize + serde::de::DeserializeOwned,
{
    OpenOptions::new()
        .import_legacy(true)
        .open::<K, V>(path)
        .unwrap_err()
}

/// What indexmap_store 0.2.3 reads back from a copy of `path`, in order.
fn old_reads<K, V>(path: &Path) -> Vec<(K, V)>
where
    K: std::hash::Hash + Eq + Clone + Serialize + serde::de::DeserializeOwned,
    V: Clone + Serialize + serde::de::DeserializeOwned,
{
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.log");
    fs::copy(path, &copy).unwrap();
    let old: v02::IndexMapStore<K, V> = v02::IndexMapStore::open(&copy).unwrap();
    old.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A workload using every operation 0.2.3 has, with its automatic and its
/// explicit compaction in the middle: inserts, overwrites (which keep their
/// position), removes (which shift), modify, and removes of absent keys.
fn write_old_workload(path: &Path) {
    let cfg = v02::StoreConfig {
        min_compact_bytes: 2048,
        ..v02::StoreConfig::default()
    };
    let mut old: v02::IndexMapStore<String, Profile> =
        v02::IndexMapStore::open_with(path, cfg).unwrap();
    for i in 0..60 {
        old.insert(format!("k{i}"), profile(i)).unwrap();
    }
    for i in (0..60).step_by(7) {
        old.remove(&format!("k{i}")).unwrap();
    }
    old.remove(&"absent".to_owned()).unwrap();
    for i in (1..60).step_by(5) {
        old.insert(format!("k{i}"), profile(i + 100)).unwrap();
    }
    old.compact().unwrap();
    old.modify(&"k2".to_owned(), |p| p.score = -1.0).unwrap();
    old.remove(&"k1".to_owned()).unwrap();
    old.insert("k0".to_owned(), profile(0)).unwrap(); // back, at the end
    for i in 60..70 {
        old.insert(format!("k{i}"), profile(i)).unwrap();
    }
    old.remove(&"k3".to_owned()).unwrap();
    old.flush().unwrap();
}

#[test]
fn a_plain_open_refuses_an_old_log_naming_the_option_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.log");
    write_old_workload(&path);
    let before = fs::read(&path).unwrap();

    let err = IndexMapStore::<String, Profile>::open(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    match store_error(&err) {
        StoreError::LegacyLog { path: p, records } => {
            assert_eq!(p, &path.canonicalize().unwrap());
            assert!(*records > 10, "{records} records");
        }
        other => panic!("not LegacyLog: {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("indexmap_store 0.2.x"), "{msg}");
    assert!(msg.contains("import_legacy(true)"), "{msg}");
    assert!(msg.contains(".v0-backup"), "{msg}");
    assert_untouched(&path, &before, dir.path(), &["users.log"]);
}

#[test]
fn import_gives_what_the_old_crate_reads_in_its_order_and_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.log");
    write_old_workload(&path);
    let original = fs::read(&path).unwrap();
    let expected = old_reads::<String, Profile>(&path);
    assert!(expected.len() > 40);

    let store: IndexMapStore<String, Profile> =
        OpenOptions::new().import_legacy(true).open(&path).unwrap();
    let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(got, expected);
    let import = store.legacy_import().expect("an import");
    assert_eq!(import.entries, expected.len() as u64);
    assert!(import.records >= expected.len() as u64);
    assert_eq!(import.ignored_bytes, 0);
    assert_eq!(import.tail, None);
    let backup = sibling(&path.canonicalize().unwrap(), ".v0-backup");
    assert_eq!(import.backup, backup);
    assert_eq!(
        fs::read(&backup).unwrap(),
        original,
        "the backup holds the original"
    );
    assert_ne!(fs::read(&path).unwrap(), original, "the log was converted");
    store.close().unwrap();
    assert!(
        !names(dir.path()).iter().any(|n| n.contains("tmp")),
        "no temporary file left: {:?}",
        names(dir.path())
    );

    // The next opens are ordinary ones, with or without the option.
    for opts in [OpenOptions::new(), OpenOptions::new().import_legacy(true)] {
        let mut store: IndexMapStore<String, Profile> = opts.open(&path).unwrap();
        assert!(store.legacy_import().is_none());
        let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(got, expected);
        assert_eq!(fs::read(&backup).unwrap(), original);
        store.insert("after".into(), profile(1)).unwrap();
        store.remove("after").unwrap();
    }
}

#[test]
fn a_torn_tail_imports_the_prefix_the_old_crate_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.log");
    let before_last;
    {
        let mut old: v02::IndexMapStore<String, u64> = v02::IndexMapStore::open(&path).unwrap();
        for i in 0..5u64 {
            old.insert(format!("k{i}"), i).unwrap();
        }
        old.remove(&"k1".to_owned()).unwrap();
        old.flush().unwrap();
        before_last = fs::metadata(&path).unwrap().len() as usize;
        old.insert("last key".to_owned(), 99).unwrap();
        old.flush().unwrap();
    }
    let full = fs::read(&path).unwrap();
    assert!(full.len() > before_last + 5);

    for cut in before_last..=full.len() {
        let case = tempfile::tempdir().unwrap();
        let path = case.path().join("cut.log");
        fs::write(&path, &full[..cut]).unwrap();
        let expected = old_reads::<String, u64>(&path);

        let records = if cut == full.len() { 7 } else { 6 };
        let err = IndexMapStore::<String, u64>::open(&path).unwrap_err();
        assert!(
            matches!(store_error(&err), StoreError::LegacyLog { records: r, .. } if *r == records),
            "cut {cut}: {err}"
        );
        assert_eq!(fs::read(&path).unwrap(), &full[..cut]);

        let store: IndexMapStore<String, u64> =
            OpenOptions::new().import_legacy(true).open(&path).unwrap();
        let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(got, expected, "cut {cut}");
        let import = store.legacy_import().unwrap();
        if cut == full.len() {
            assert_eq!((import.records, import.tail), (7, None));
            assert_eq!(got.last(), Some(&("last key".to_owned(), 99)));
        } else {
            assert_eq!(import.records, 6, "cut {cut}");
            assert_eq!(import.ignored_bytes, (cut - before_last) as u64);
            let tail = (cut > before_last).then_some(LegacyTail::Incomplete);
            assert_eq!(import.tail, tail, "cut {cut}");
        }
        assert_eq!(
            fs::read(&import.backup).unwrap(),
            &full[..cut],
            "the backup keeps the cut bytes too"
        );
    }
}

#[test]
fn importing_with_other_types_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.log");
    {
        let mut old: v02::IndexMapStore<String, u64> = v02::IndexMapStore::open(&path).unwrap();
        old.insert("alice".into(), 1).unwrap();
        old.insert("bob".into(), 2).unwrap();
    }
    let before = fs::read(&path).unwrap();

    let err = import_fails::<u64, String>(&path);
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        matches!(store_error(&err), StoreError::LegacyImport { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("other types"), "{err}");
    // (String, u32) reads the first record's bytes but leaves 4 over.
    let err = import_fails::<String, u32>(&path);
    assert!(
        matches!(store_error(&err), StoreError::LegacyImport { .. }),
        "{err}"
    );
    // A plain open with other types does not call it an old log.
    let err = IndexMapStore::<u64, String>::open(&path).unwrap_err();
    assert!(
        !matches!(store_error(&err), StoreError::LegacyLog { .. }),
        "{err}"
    );
    assert_untouched(&path, &before, dir.path(), &["typed.log"]);
}

#[test]
fn an_existing_backup_with_other_bytes_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.log");
    {
        let mut old: v02::IndexMapStore<String, u64> = v02::IndexMapStore::open(&path).unwrap();
        old.insert("a".into(), 1).unwrap();
    }
    let before = fs::read(&path).unwrap();
    let backup = sibling(&path, ".v0-backup");
    fs::write(&backup, b"someone else's backup").unwrap();

    let err = import_fails::<String, u64>(&path);
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert!(
        matches!(store_error(&err), StoreError::LegacyBackupExists { .. }),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(fs::read(&backup).unwrap(), b"someone else's backup");
    assert_eq!(names(dir.path()), ["b.log", "b.log.v0-backup"]);
}

#[test]
fn an_import_interrupted_before_its_rename_completes_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.log");
    {
        let mut old: v02::IndexMapStore<String, u64> = v02::IndexMapStore::open(&path).unwrap();
        for i in 0..10 {
            old.insert(format!("k{i}"), i).unwrap();
        }
        old.remove(&"k4".to_owned()).unwrap();
    }
    let original = fs::read(&path).unwrap();
    let expected = old_reads::<String, u64>(&path);
    // What a crash after the backup and during the new log's writing
    // leaves: the backup, and a half-made log of ours at the temporary path.
    fs::write(sibling(&path, ".v0-backup"), &original).unwrap();
    let tmp = sibling(&path, ".v0-import.tmp");
    {
        let mut partial: IndexMapStore<String, u64> = IndexMapStore::open(&tmp).unwrap();
        partial.insert("k0".into(), 0).unwrap();
    }

    let store: IndexMapStore<String, u64> =
        OpenOptions::new().import_legacy(true).open(&path).unwrap();
    let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(got, expected);
    assert_eq!(fs::read(sibling(&path, ".v0-backup")).unwrap(), original);
    drop(store);
    assert_eq!(
        names(dir.path()),
        ["i.log", "i.log.lock", "i.log.v0-backup"]
    );
}

#[test]
fn an_old_log_emptied_by_removes_imports_as_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.log");
    {
        let mut old: v02::IndexMapStore<u32, u32> = v02::IndexMapStore::open(&path).unwrap();
        old.insert(1, 1).unwrap();
        old.remove(&1).unwrap();
    }
    let store: IndexMapStore<u32, u32> =
        OpenOptions::new().import_legacy(true).open(&path).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.legacy_import().unwrap().records, 2);
    drop(store);
    let store: IndexMapStore<u32, u32> = IndexMapStore::open(&path).unwrap();
    assert!(store.is_empty() && store.legacy_import().is_none());
}
