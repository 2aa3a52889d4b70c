//! `imstore verify` on a log a writer has open: a record the writer is
//! still writing looks like a torn tail, and the tool must say so rather
//! than leave the operator believing the log is damaged.

mod support;

use std::io::Write;

use indexmap_store::IndexMapStore;
use support::{make_store, run};

/// A writer holds the log and the file ends inside a frame, as it does
/// for a moment while a record is being written (seen with a live
/// preallocating writer: 3 `verify` runs in 60 said "torn tail", exit 1,
/// with nothing saying that a writer was appending). The verdict stays
/// the open's (exit 1), and the output now names the running writer.
#[test]
fn verify_of_a_torn_tail_names_the_writer_holding_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "live.log", 3);
    let p = path.to_str().unwrap();
    let store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
    // The start of a frame header, as a writer's append shows it midway.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0xA5, 0x20, 0, 0])
        .unwrap();

    let (code, out, _) = run(&["verify", p]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: torn tail"), "{out}");
    assert!(
        out.contains("a writer holds the log") && out.contains("being written"),
        "{out}"
    );
    let (code, out, _) = run(&["verify", "--json", p]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["writer"], "held", "{out}");
    assert!(
        v["note"]
            .as_str()
            .is_some_and(|n| n.contains("being written")),
        "{out}"
    );

    // Without a writer the torn tail is what a crash left: no such note.
    drop(store);
    // The writer's close sealed the log; append the torn frame again.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0xA5, 0x20, 0, 0])
        .unwrap();
    let (code, out, _) = run(&["verify", p]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("a writer holds the log"), "{out}");
}
