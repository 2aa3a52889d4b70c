//! The `imstore` binary on logs made by the library: clean, torn, damaged,
//! cut short, with a stale temporary file, a salvage copy, a foreign file,
//! and a log held by a running writer. Exit statuses and key lines, and
//! that only the repairing commands ever change or create a file.

mod support;

use std::path::Path;

use indexmap_store::IndexMapStore;
use support::{flip, frame_offsets, make_store, run, snapshot};

/// The read-only commands on `path`.
fn read_only_commands(path: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["info", path],
        vec!["info", "--json", path],
        vec!["verify", path],
        vec!["verify", "--json", path],
        vec!["dump", path],
        vec!["dump", "--ops", "--json", "--payload", "hex", path],
        vec!["tail", "-n", "3", path],
        vec!["salvage", "--dry-run", path],
    ]
}

/// Runs every read-only command on `path` and checks that no file in its
/// directory changed and none was created or removed; returns verify's
/// exit status and output.
fn read_only_everything(path: &Path) -> (i32, String) {
    let dir = path.parent().unwrap();
    let before = snapshot(dir);
    let p = path.to_str().unwrap();
    for args in read_only_commands(p) {
        let (code, _, err) = run(&args);
        assert!(
            code != 64 && !err.contains("panicked"),
            "imstore {args:?} failed to run: {code} {err}"
        );
    }
    assert_eq!(snapshot(dir), before, "a read-only command changed {dir:?}");
    let (code, out, _) = run(&["verify", p]);
    (code, out)
}

#[test]
fn a_clean_closed_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 5);
    let p = path.to_str().unwrap();
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verdict: clean"), "{out}");
    assert!(out.contains("open would: change nothing"), "{out}");
    let (code, out, _) = run(&["info", p]);
    assert_eq!(code, 0);
    assert!(out.contains("app \"ims/bincode2-std\" version 5"), "{out}");
    assert!(
        out.contains("ops: insert 6, schema 1, shift_remove 1"),
        "{out}"
    );
    assert!(out.contains("writer lock: free"), "{out}");
    assert!(out.contains("about this log"), "{out}");
    assert!(out.contains("\"key\":\"String\""), "{out}");
    let (_, dump, _) = run(&["dump", p]);
    // The schema record, 6 inserts, a removal, a seal.
    assert_eq!(
        dump.lines().filter(|l| l.starts_with('@')).count(),
        9,
        "{dump}"
    );
    assert!(
        dump.lines().last().unwrap().contains("seq=8 seal synced<8"),
        "{dump}"
    );
    let (_, json, _) = run(&["verify", "--json", p]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["exit"].as_u64()),
        (Some("clean"), Some(0))
    );
    assert_eq!(v["records"], 8);
}

/// A store's log as it is while the store is open: its last records not
/// sealed. Written to `dir/name` without a lock file.
fn unsealed_log(dir: &Path, name: &str) -> std::path::PathBuf {
    let scratch = tempfile::tempdir().unwrap();
    let live = scratch.path().join("live.log");
    let mut store: IndexMapStore<String, String> = IndexMapStore::open(&live).unwrap();
    for i in 0..4 {
        store.insert(format!("k{i}"), "v".repeat(i * 3)).unwrap();
    }
    let bytes = std::fs::read(&live).unwrap();
    drop(store);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn torn_at_every_byte_of_the_last_frame_is_a_torn_tail_as_open_says() {
    let dir = tempfile::tempdir().unwrap();
    let whole = unsealed_log(dir.path(), "whole.log");
    let bytes = std::fs::read(&whole).unwrap();
    let last = *frame_offsets(&whole).last().unwrap();
    for cut in last..bytes.len() as u64 {
        let path = dir.path().join(format!("cut-{cut}.log"));
        std::fs::write(&path, &bytes[..usize::try_from(cut).unwrap()]).unwrap();
        let (code, out) = read_only_everything(&path);
        if cut == last {
            assert_eq!(code, 0, "cut at the frame boundary: {out}");
            continue;
        }
        assert_eq!(code, 1, "cut at {cut}: {out}");
        assert!(out.contains("verdict: torn tail"), "{out}");
        assert!(
            out.contains(&format!("cut {} bytes from byte {last}", cut - last)),
            "{out}"
        );
        // What the store's open then does.
        let store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
        let truncated = store.recovery_report().truncated.clone().unwrap();
        assert_eq!((truncated.offset, truncated.bytes), (last, cut - last));
        assert_eq!(store.len(), 3);
    }
}

#[test]
fn a_flipped_bit_in_synced_data_is_corruption_and_salvage_keeps_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 5);
    let p = path.to_str().unwrap();
    let offsets = frame_offsets(&path);
    flip(&path, offsets[3] + 13, 2);
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("verdict: corrupt"), "{out}");
    assert!(
        out.contains(&format!("is corrupt at byte {}", offsets[3])),
        "{out}"
    );
    let copy = format!("{p}.corrupt-{}", offsets[3]);
    assert!(
        out.contains(&format!(
            "salvage would: keep 3 records (bytes 0..{})",
            offsets[3]
        )),
        "{out}"
    );
    assert!(out.contains(&copy), "{out}");
    // The store's open refuses at that offset.
    let err = IndexMapStore::<String, String>::open(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("corrupt at byte {}", offsets[3])),
        "{err}"
    );
    // The damaged frame is reported and skipped; the later ones are shown.
    let (_, dump, _) = run(&["dump", p]);
    assert!(dump.contains(&format!("@{} DAMAGED", offsets[3])), "{dump}");
    assert!(
        dump.contains(&format!("@{} seq=4 record", offsets[4])),
        "{dump}"
    );

    let (code, out, err) = run(&["salvage", p]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("kept 3 records"), "{out}");
    assert!(Path::new(&copy).exists());
    let (code, out, _) = run(&["verify", p]);
    assert_eq!(code, 0, "{out}");
    // The salvage copy: raw frames without a header, the damaged one skipped.
    let before = snapshot(dir.path());
    let (code, dump, _) = run(&["dump", &copy]);
    assert_eq!(code, 0, "{dump}");
    assert!(dump.starts_with("no log header"), "{dump}");
    assert!(dump.contains("@0 DAMAGED"), "{dump}");
    assert!(dump.contains(" seq=4 record"), "{dump}");
    assert!(dump.contains(" seal "), "{dump}");
    let (_, info, _) = run(&["info", p]);
    assert!(info.contains("bytes a salvage copied aside"), "{info}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_closed_store_cut_short_at_a_frame_boundary_lost_synced_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 5);
    let offsets = frame_offsets(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..usize::try_from(offsets[5]).unwrap()]).unwrap();
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("verdict: synced data missing"), "{out}");
    assert!(out.contains("salvage would: keep all 5 records"), "{out}");
    assert!(IndexMapStore::<String, String>::open(&path).is_err());
}

#[test]
fn a_stale_temporary_file_is_shown_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 3);
    let tmp = dir.path().join("data.log.compact.tmp");
    std::fs::write(&tmp, &std::fs::read(&path).unwrap()[..30]).unwrap();
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 0, "{out}");
    let (_, info, _) = run(&["info", path.to_str().unwrap()]);
    assert!(
        info.contains("data.log.compact.tmp (30 bytes): stale temporary file"),
        "{info}"
    );
}

#[test]
fn a_foreign_file_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, this is not a log at all\n").unwrap();
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 3, "{out}");
    let (code, _, err) = run(&["verify", path.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("is not a log file"), "{err}");
    let (code, info, _) = run(&["info", path.to_str().unwrap()]);
    assert_eq!(code, 3, "{info}");
    assert!(info.contains("header: none readable"), "{info}");
    let (code, dump, _) = run(&["dump", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(dump.starts_with("no log header"), "{dump}");
    let (code, _, err) = run(&["verify", dir.path().join("missing.log").to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(!dir.path().join("missing.log").exists());
}

#[test]
fn a_log_held_by_a_running_writer_is_read_but_never_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 3);
    let p = path.to_str().unwrap();
    let mut store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
    store
        .insert("while-held".to_owned(), "x".to_owned())
        .unwrap();
    let (code, out) = read_only_everything(&path);
    assert_eq!(code, 0, "{out}");
    let (_, info, _) = run(&["info", p]);
    assert!(
        info.contains("writer lock: HELD by a running writer"),
        "{info}"
    );
    let before = snapshot(dir.path());
    let dest = dir.path().join("backup.log");
    for args in [
        vec!["salvage", p],
        vec!["backup", p, dest.to_str().unwrap()],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 4, "{args:?}: {err}");
        assert!(err.contains("held by a running writer"), "{err}");
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a refused repair changed a file"
    );
    // The writer was not disturbed.
    store.insert("after".to_owned(), "y".to_owned()).unwrap();
    store.close().unwrap();
}

#[test]
fn backup_copies_under_the_lock_and_verifies_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 20);
    let dest = dir.path().join("copy.log");
    let (code, out, err) = run(&["backup", path.to_str().unwrap(), dest.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the copy verifies as: clean"), "{out}");
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&path).unwrap());
    let (code, _, err) = run(&["backup", path.to_str().unwrap(), dest.to_str().unwrap()]);
    assert_eq!(code, 5);
    assert!(err.contains("already exists"), "{err}");
    let copy: IndexMapStore<String, String> = IndexMapStore::open(&dest).unwrap();
    assert_eq!(copy.get("key-0").map(String::as_str), Some("changed"));
}

#[test]
fn untyped_compaction_and_import_explain_that_they_need_the_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 3);
    let before = snapshot(dir.path());
    for cmd in ["compact", "import-legacy"] {
        let (code, _, err) = run(&[cmd, path.to_str().unwrap()]);
        assert_eq!(code, 5, "{err}");
        assert!(
            err.contains("needs the store's key and value types"),
            "{err}"
        );
        assert!(err.contains("imstore::run::<K, V>()"), "{err}");
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn help_usage_and_completions() {
    for cmd in [
        "info",
        "verify",
        "dump",
        "salvage",
        "compact",
        "backup",
        "import-legacy",
        "tail",
        "completions",
    ] {
        let (code, out, _) = run(&[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd}");
        assert!(
            out.contains("Example"),
            "{cmd} --help has no example: {out}"
        );
    }
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit status: 0 success"), "{out}");
    let (code, _, err) = run(&["verify"]);
    assert_eq!(code, 64, "{err}");
    let (code, out, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("imstore"), "{out}");
}
