//! The `imstore` binary on the log of a store opened with
//! `OpenOptions::preallocate`: the zeros its writer reserved at the end of
//! the file are neither damage nor a torn tail. `verify` says clean (exit
//! 0) and what an open keeps, `dump` shows them as zeros and reports no
//! damaged range, `info` succeeds, while the writer runs and after it was
//! killed without closing (`mem::forget`: the file is left as a crash
//! leaves it). Nothing is changed.

mod support;

use indexmap_store::{IndexMapStore, OpenOptions};
use support::{run, snapshot};

type Store = IndexMapStore<String, String>;

/// Runs `verify`, `dump` and `info` on `path`; checks each reports the
/// zero tail for what it is and that no file in the directory changed.
fn check_zero_tail(path: &std::path::Path, records: usize) {
    let dir = path.parent().unwrap();
    let before = snapshot(dir);
    let len = std::fs::metadata(path).unwrap().len();
    let p = path.to_str().unwrap();

    let (code, out, err) = run(&["verify", p]);
    assert_eq!(code, 0, "verify of a preallocated log: {out}{err}");
    assert!(
        out.contains("verdict: clean, with zeros at the end"),
        "{out}"
    );
    assert!(out.contains("no record is in them"), "{out}");
    assert!(
        !out.contains("damaged") && !out.contains("bad frame"),
        "{out}"
    );

    let (code, out, err) = run(&["dump", p]);
    assert_eq!(code, 0, "dump of a preallocated log: {out}{err}");
    assert!(!out.contains("DAMAGED") && !out.contains("TORN"), "{out}");
    assert!(!err.contains("damaged"), "{err}");
    let zeros = out
        .lines()
        .find(|l| l.contains(" ZEROS: "))
        .unwrap_or_else(|| panic!("no ZEROS line in the dump of a {len}-byte log:\n{out}"));
    assert!(zeros.contains("to the end of the file"), "{zeros}");
    let frames = out.lines().filter(|l| l.contains(" seq=")).count();
    assert!(
        frames >= records,
        "{frames} frames dumped, {records} inserts made"
    );

    let (code, out, err) = run(&["dump", "--json", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("{\"zeros\"")), "{out}");

    let (code, out, err) = run(&["info", p]);
    assert_eq!(code, 0, "info of a preallocated log: {out}{err}");

    assert_eq!(snapshot(dir), before, "a read-only command changed a file");
}

#[test]
fn a_preallocated_log_s_zero_tail_is_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prealloc.log");
    let opts = OpenOptions::new().preallocate(Some(64 << 10));
    let mut store: Store = opts.open(&path).unwrap();
    for i in 0..50 {
        store
            .insert(format!("key-{i}"), format!("value-{i}"))
            .unwrap();
    }
    store.flush().unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(
        len >= 64 << 10,
        "the writer preallocated nothing ({len} bytes): the test would prove nothing"
    );
    // The writer is running.
    check_zero_tail(&path, 50);
    // The writer is gone without closing: what a crash leaves.
    std::mem::forget(store);
    check_zero_tail(&path, 50);
}

/// `backup` of a log that ends in reserved zeros (here a copy of a
/// preallocating writer's log, taken while it ran) verifies the copy as
/// clean with zeros at the end, and does not note the log as not clean.
#[test]
fn a_backup_of_a_log_with_reserved_zeros_is_not_noted_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prealloc.log");
    let mut store: Store = OpenOptions::new()
        .preallocate(Some(64 << 10))
        .open(&path)
        .unwrap();
    for i in 0..20 {
        store
            .insert(format!("key-{i}"), format!("value-{i}"))
            .unwrap();
    }
    store.flush().unwrap();
    let copy = dir.path().join("copy.log");
    std::fs::copy(&path, &copy).unwrap();
    drop(store);
    let dest = dir.path().join("backup.log");
    let (code, out, err) = run(&["backup", copy.to_str().unwrap(), dest.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("verifies as: clean, with zeros at the end"),
        "{out}"
    );
    assert!(!out.contains("not clean"), "{out}");
}
