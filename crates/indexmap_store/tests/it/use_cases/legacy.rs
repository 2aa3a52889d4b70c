//! README, "Coming from indexmap_store 0.2.x": a 0.2.x log (no header, no
//! checksums: `u32` length, tag 0 insert / 1 remove, bincode 1 of `(K, V)`
//! or `K`) is converted by `OpenOptions::new().import_legacy(true)`, its
//! bytes kept as `<path>.v0-backup`; a failed import changes nothing.
//! The logs here are written by hand in that format; `crates/legacy-tests`
//! checks the same against the real 0.2.3 crate.

use std::fs;
use std::io;

use indexmap_store::{IndexMapStore, LegacyTail, OpenOptions, StoreError};
use test_support::scratch;

use super::{Users, chain, entries, reopen_entries, snapshot, store_error};

/// A 0.2.x record: length of what follows, the tag, the body.
fn record(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len() + 1)
        .unwrap()
        .to_le_bytes()
        .to_vec();
    out.push(tag);
    out.extend_from_slice(body);
    out
}

/// A 0.2.x insert of `(String, u64)`: bincode 1 writes a `u64` length
/// before the string's bytes and fixed-width integers.
fn insert(key: &str, value: u64) -> Vec<u8> {
    let mut body = (key.len() as u64).to_le_bytes().to_vec();
    body.extend_from_slice(key.as_bytes());
    body.extend_from_slice(&value.to_le_bytes());
    record(0, &body)
}

fn import(path: &std::path::Path) -> io::Result<Users> {
    OpenOptions::new().import_legacy(true).open(path)
}

/// The message of the import of `path`, which must fail with
/// `StoreError::LegacyImport` (`what` names the case in a failure).
#[track_caller]
fn import_refused(path: &std::path::Path, what: &str) -> String {
    let err = match import(path) {
        Ok(store) => panic!("{what}: imported {} entries", store.len()),
        Err(e) => e,
    };
    assert!(
        matches!(store_error(&err), StoreError::LegacyImport { .. }),
        "{what}: {}",
        chain(&err)
    );
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{what}");
    err.to_string()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

/// A torn last record is left out, as 0.2.x cut it; importing again, or
/// opening plainly, opens the converted log; an empty file is a new store.
#[test]
fn a_torn_last_record_is_left_out_and_a_second_import_just_opens() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    let mut old = [insert("alice", 1), insert("bob", 2)].concat();
    let whole = old.clone();
    old.extend_from_slice(&insert("carol", 3)[..9]);
    fs::write(&path, &old)?;

    let store = import(&path)?;
    let report = store.legacy_import().expect("an import").clone();
    assert_eq!((report.records, report.entries), (2, 2));
    assert_eq!(
        (report.ignored_bytes, report.tail),
        (9, Some(LegacyTail::Incomplete))
    );
    assert_eq!(
        fs::read(&report.backup)?,
        old,
        "the backup holds the old bytes"
    );
    assert_eq!(entries(&store), pairs(&[("alice", 1), ("bob", 2)]));
    drop(store);

    let again = import(&path)?;
    assert!(again.legacy_import().is_none(), "imported twice");
    assert_eq!(entries(&again), pairs(&[("alice", 1), ("bob", 2)]));
    drop(again);
    assert_eq!(
        reopen_entries::<String, u64>(&path),
        pairs(&[("alice", 1), ("bob", 2)])
    );
    assert_ne!(fs::read(&path)?, whole);

    let empty = dir.path().join("empty.log");
    fs::write(&empty, b"")?;
    let store = import(&empty)?;
    assert!(store.is_empty() && store.legacy_import().is_none());
    Ok(())
}

/// A file in the way of the import's temporary log is refused, naming it,
/// and the failed import leaves the directory as it was: no backup.
#[test]
fn an_import_refused_for_a_file_in_the_way_leaves_no_backup() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    fs::write(&path, [insert("alice", 1), insert("bob", 2)].concat())?;
    let in_the_way = dir.path().join("users.log.v0-import.tmp");
    fs::write(&in_the_way, b"my notes")?;
    let before = snapshot(dir.path());

    let msg = import_refused(&path, "past a stranger's file");
    assert!(
        msg.contains("v0-import.tmp") && msg.contains("move it away"),
        "{msg}"
    );
    assert!(msg.contains("Nothing was changed"), "{msg}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the refused import changed files"
    );

    fs::remove_file(&in_the_way)?;
    let store = import(&path)?;
    assert_eq!(store.legacy_import().map(|i| i.entries), Some(2));
    Ok(())
}

/// A path that already holds a store of this crate opens as usual.
#[test]
fn importing_over_a_store_of_this_crate_just_opens_it() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("alice".into(), 1)?;
    store.close()?;
    let before = snapshot(dir.path());
    let store = import(&path)?;
    assert!(store.legacy_import().is_none());
    assert_eq!(entries(&store), pairs(&[("alice", 1)]));
    drop(store);
    assert_eq!(
        snapshot(dir.path()).len(),
        before.len(),
        "no backup appeared"
    );
    Ok(())
}

/// A 0.2.x user whose types change too: `migrate` on the old log names it
/// as a 0.2.x log, as `open` does (not "not a log ... check the path"),
/// changing nothing; importing with the old types, then migrating, works.
#[test]
fn migrating_a_0_2_log_names_it_and_import_then_migrate_works() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    fs::write(&path, [insert("alice", 1), insert("bob", 2)].concat())?;
    let before = snapshot(dir.path());
    let to_u32 = |k: String, v: u64| (k, u32::try_from(v).unwrap());
    let err = match IndexMapStore::<String, u32>::migrate(&path, to_u32) {
        Ok(store) => panic!("migrated a 0.2.x log unimported: {} entries", store.len()),
        Err(e) => e,
    };
    assert!(
        matches!(store_error(&err), StoreError::LegacyLog { records: 2, .. }),
        "{}",
        chain(&err)
    );
    assert!(err.to_string().contains("import_legacy"), "{err}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the refused migration changed files"
    );

    import(&path)?.close()?;
    let store = IndexMapStore::<String, u32>::migrate(&path, to_u32)?;
    assert_eq!(
        entries(&store),
        [("alice".to_owned(), 1), ("bob".to_owned(), 2)]
    );
    Ok(())
}

/// A 0.2.x log whose only record was cut short (its first write
/// interrupted) holds nothing to import: the import says so, naming what
/// to do, instead of calling it a file that is not a log; nothing changes.
#[test]
fn a_0_2_log_whose_first_record_is_cut_short_is_explained() -> io::Result<()> {
    let (dir, path) = scratch("users.log");
    fs::write(&path, &insert("alice", 1)[..9])?;
    let before = snapshot(dir.path());
    let msg = import_refused(&path, "a first record cut short");
    assert!(
        msg.contains("cut short") && msg.contains("delete it"),
        "{msg}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the refused import changed files"
    );

    // A text file is still not a log.
    fs::write(&path, "hello, world\n")?;
    let err = import(&path).map(|s| s.len()).unwrap_err();
    assert!(err.to_string().contains("not a log"), "{err}");
    Ok(())
}

/// A 0.2.x insert whose key is not UTF-8: complete, but not a `String`.
fn undecodable() -> Vec<u8> {
    let mut body = 2u64.to_le_bytes().to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(&7u64.to_le_bytes());
    record(0, &body)
}

/// "Never drop valid data": 0.2.x cut its log at the first record it
/// could not apply. After a record cut short that is a torn end, but after
/// a complete record that does not decode (a value of another type, a
/// damaged byte) or one of length zero, records that decode are data: the
/// import is refused, naming the record, and changes nothing. With nothing
/// decodable after it, the record is left out as 0.2.x left it.
#[test]
fn an_import_that_would_drop_records_after_a_bad_one_is_refused() -> io::Result<()> {
    let zero_length = 0u32.to_le_bytes().to_vec();
    for (name, bad) in [("undecodable", undecodable()), ("zero length", zero_length)] {
        let (dir, path) = scratch("users.log");
        let head = [insert("alice", 1), insert("bob", 2)].concat();
        fs::write(&path, [&head[..], &bad, &insert("carol", 3)].concat())?;
        let before = snapshot(dir.path());
        let msg = import_refused(&path, name);
        let at = format!("record 3 (byte {})", head.len());
        assert!(msg.contains(&at), "{name}: {msg}");
        assert!(msg.contains("1 complete records after it"), "{name}: {msg}");
        assert!(msg.contains("Nothing was changed"), "{name}: {msg}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{name}: the refusal changed files"
        );

        // What the message advises: a copy cut at that byte imports.
        let copy = dir.path().join("cut.log");
        fs::write(&copy, &head)?;
        let store = import(&copy)?;
        assert_eq!(
            entries(&store),
            pairs(&[("alice", 1), ("bob", 2)]),
            "{name}"
        );

        // With nothing decodable after it, it ends the log as in 0.2.x.
        fs::write(&path, [&head[..], &bad, &[0xee; 3][..]].concat())?;
        let store = import(&path)?;
        assert_eq!(
            entries(&store),
            pairs(&[("alice", 1), ("bob", 2)]),
            "{name}"
        );
    }
    Ok(())
}
