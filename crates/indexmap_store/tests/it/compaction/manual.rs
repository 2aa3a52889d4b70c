//! `compact()` called by hand: the order kept, the log and the temp path it
//! writes through (a foreign file there included), and a store opened
//! through a symlink.

use std::fs;
use std::io;

use super::{Users, keys, pairs};
use crate::common::log_records;
use indexmap_store::{COMPACT_TMP_SUFFIX, IndexMapStore};
use test_support::scratch;
use test_support::sibling;

#[test]
fn manual_compaction_keeps_order_and_uses_the_temp_path() -> io::Result<()> {
    let (dir, path) = scratch("mc.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for round in 0..3 {
        for k in ["x", "y", "z", "w"] {
            store.insert(k.into(), round)?;
        }
    }
    store.move_index(3, 0)?;
    store.swap_remove("y")?;
    let order = pairs(&store);
    assert_eq!(keys(&store), ["w", "x", "z"]);
    let stats = store.stats();
    assert_eq!(stats.total_records, 14);
    assert!((stats.dead_ratio - 11.0 / 14.0).abs() < 1e-9, "{stats:?}");
    store.compact()?;
    let stats = store.stats();
    assert_eq!(
        (stats.total_records, stats.live_records, stats.compactions),
        (3, 3, 1)
    );
    assert_eq!(stats.dead_ratio, 0.0);
    assert_eq!(pairs(&store), order);
    let payloads: Vec<_> = log_records(&fs::read(&path)?)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(payloads.len(), 5);
    assert_eq!(payloads[0][0], 6, "the schema record first");
    assert_eq!(payloads[1], [13, 3], "then the entry count, 3");
    assert_eq!(payloads[2], [0, 1, b'w', 2], "then Insert(\"w\", 2)");
    let tmp = sibling(&path, COMPACT_TMP_SUFFIX);
    assert_eq!(COMPACT_TMP_SUFFIX, ".compact.tmp");
    assert!(!tmp.exists(), "{} left behind", tmp.display());
    let mut names: Vec<_> = fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    assert_eq!(names, ["mc.log", "mc.log.lock"], "no stray files");

    // Writes and reopen keep working after compaction.
    store.insert("v".into(), 9)?;
    drop(store);
    let mut store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["w", "x", "z", "v"]);
    assert_eq!(
        store.recovery_report().records,
        6,
        "schema, entry count and 4 inserts"
    );

    // The temp path is the one compaction writes: a foreign file put there
    // while the store is open is either refused (compaction fails, nothing
    // written) or set aside beside it with its bytes intact.
    let foreign = b"not yours\n";
    fs::write(&tmp, foreign)?;
    let log = fs::read(&path)?;
    match store.compact() {
        Err(err) => {
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
            assert_eq!(fs::read(&tmp)?, foreign);
            assert_eq!(
                fs::read(&path)?,
                log,
                "a failed compaction wrote to the log"
            );
            assert_eq!(store.stats().compactions, 0);
        }
        Ok(()) => {
            assert!(!tmp.exists(), "{} left behind", tmp.display());
            assert_eq!(store.stats().compactions, 1);
            assert_eq!(store.stats().total_records, 4);
        }
    }
    crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);
    assert_eq!(keys(&store), ["w", "x", "z", "v"]);
    // Either way the store keeps working.
    store.insert("u".into(), 1)?;
    drop(store);
    let store: Users = IndexMapStore::open(&path)?;
    assert_eq!(keys(&store), ["w", "x", "z", "v", "u"]);
    crate::common::assert_foreign_file_intact(dir.path(), &tmp, foreign);
    Ok(())
}

/// Regression (a fixed bug in wal-io's `rewrite.rs`, which renamed the
/// compacted file over the path as spelled): compacting a store opened
/// through a symlink replaced the symlink with a regular file, so the real
/// log was orphaned, stale, and missed every later write.
#[test]
fn compaction_through_a_symlink_keeps_the_link_and_updates_the_log() -> io::Result<()> {
    let (dir, _) = scratch("unused");
    let real_dir = dir.path().join("real");
    fs::create_dir(&real_dir)?;
    let target = real_dir.join("data.log");
    let link = dir.path().join("data.log");
    let mut store: Users = IndexMapStore::open(&target)?;
    store.insert("a".into(), 1)?;
    drop(store);
    std::os::unix::fs::symlink(&target, &link)?;

    let mut store: Users = IndexMapStore::open(&link)?;
    store.insert("a".into(), 2)?;
    store.compact()?;
    store.insert("b".into(), 3)?;
    drop(store);
    assert!(
        fs::symlink_metadata(&link)?.file_type().is_symlink(),
        "compaction replaced the symlink with a regular file"
    );
    let store: Users = IndexMapStore::open(&target)?;
    assert_eq!(
        pairs(&store),
        [("a".to_owned(), 2), ("b".to_owned(), 3)],
        "the real log"
    );
    Ok(())
}
