//! The untyped `imstore` binary on a log of indexmap_store 0.2.x (the
//! crates.io crate the store replaces): it cannot decode the records, but
//! it recognises the format's shape and says how to convert the file (a
//! typed build's `import-legacy`, or `OpenOptions::import_legacy`) instead
//! of calling it a file that is not a log; exit status 3, nothing changed.

mod support;

use support::{legacy_insert, run, snapshot};

#[test]
fn untyped_verify_and_info_name_a_0_2_log_and_how_to_convert_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log");
    let mut log = [legacy_insert("a", "1"), legacy_insert("b", "2")].concat();
    // The last record cut short, as a crash leaves it.
    log.extend_from_slice(&legacy_insert("c", "3")[..7]);
    std::fs::write(&path, &log).unwrap();
    let p = path.to_str().unwrap();
    let before = snapshot(dir.path());

    let (code, out, err) = run(&["verify", p]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("indexmap_store 0.2.x") && err.contains("2 records"),
        "{err}"
    );
    assert!(
        err.contains("import-legacy") && err.contains("import_legacy(true)"),
        "{err}"
    );
    assert!(!err.contains("check the path"), "{err}");
    let (code, out, err) = run(&["info", p]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("indexmap_store 0.2.x"),
        "{out}{err}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a read-only command changed a file"
    );

    // A file that is neither is still "not a log".
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "hello, world\n").unwrap();
    let (code, _, err) = run(&["verify", other.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(!err.contains("0.2.x"), "{err}");
}
