//! A typed build (`imstore::run::<K, V>()`): decoded keys and values, exact
//! live counts, the store's own type check, and compaction and import,
//! which the untyped build refuses. Run in-process through
//! `imstore::execute` with the types this test's logs hold.

mod support;

use std::path::Path;

use clap::Parser;
use imstore::{Cli, Codec, EXIT_CORRUPT, EXIT_LOCKED, EXIT_OK, Typed, execute};
use indexmap_store::IndexMapStore;
use support::{flip, frame_offsets, legacy_insert, make_store, run, snapshot};

fn typed(args: &[&str]) -> Result<u8, imstore::ImstoreError> {
    let cli = Cli::try_parse_from(std::iter::once("imstore").chain(args.iter().copied())).unwrap();
    execute(&Typed::<String, String>::default(), cli)
}

/// Each record's payload, from `imstore dump --ops --json --payload hex`.
fn payloads(path: &Path) -> Vec<Vec<u8>> {
    let (_, out, _) = run(&[
        "dump",
        "--ops",
        "--json",
        "--payload",
        "hex",
        path.to_str().unwrap(),
    ]);
    out.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let hex = v["record"]["payload"]
                .as_str()?
                .strip_prefix("hex:")?
                .to_owned();
            Some(
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn keys_and_values_are_decoded_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 3);
    let ops: Vec<serde_json::Value> = payloads(&path)
        .iter()
        .map(|p| Typed::<String, String>::default().op_json(p))
        .collect();
    assert_eq!(ops[0]["op"], "schema");
    assert_eq!(
        ops[1],
        serde_json::json!({"op": "insert", "decoded": {"key": "key-0", "value": "value-0"}})
    );
    assert_eq!(
        ops[5],
        serde_json::json!({"op": "shift_remove", "decoded": {"shift_remove": "key-1"}})
    );
    // Other types: the error says so, the operation is still named.
    let wrong = Typed::<u64, u64>::default().op_json(&payloads(&path)[1]);
    assert_eq!(wrong["op"], "insert");
    assert!(
        wrong["error"]
            .as_str()
            .unwrap()
            .contains("not an operation on these types")
    );
}

#[test]
fn typed_verify_counts_live_entries_and_refuses_other_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 4);
    let p = path.to_str().unwrap();
    assert_eq!(typed(&["verify", p]).unwrap(), EXIT_OK);
    let cli = Cli::try_parse_from(["imstore", "verify", p]).unwrap();
    let err = execute(&Typed::<u64, Vec<u8>>::default(), cli).unwrap_err();
    assert!(err.to_string().contains("written with"), "{err}");
    let offsets = frame_offsets(&path);
    flip(&path, offsets[2] + 12, 0);
    assert_eq!(typed(&["verify", p]).unwrap(), EXIT_CORRUPT);
}

#[test]
fn typed_compaction_keeps_the_map_and_refuses_while_a_writer_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 50);
    let p = path.to_str().unwrap();
    {
        let mut store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
        for i in 0..50 {
            store
                .insert(format!("key-{i}"), "overwritten".to_owned())
                .unwrap();
        }
        let before = snapshot(dir.path());
        let err = typed(&["compact", p]).unwrap_err();
        assert_eq!(err.exit_code(), EXIT_LOCKED, "{err}");
        assert_eq!(snapshot(dir.path()), before);
        store.close().unwrap();
    }
    let before: Vec<(String, String)> = IndexMapStore::<String, String>::open(&path)
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let len_before = std::fs::metadata(&path).unwrap().len();
    assert_eq!(typed(&["compact", p]).unwrap(), EXIT_OK);
    assert!(std::fs::metadata(&path).unwrap().len() < len_before);
    let (code, out, _) = run(&["verify", p]);
    assert_eq!(code, 0, "{out}");
    let after: Vec<(String, String)> = IndexMapStore::<String, String>::open(&path)
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn typed_import_converts_a_legacy_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log");
    // indexmap_store 0.2.x: u32 length, tag (0 insert, 1 remove), bincode 1.
    let record = |tag: u8, body: &[u8]| {
        let mut out = u32::try_from(body.len() + 1)
            .unwrap()
            .to_le_bytes()
            .to_vec();
        out.push(tag);
        out.extend_from_slice(body);
        out
    };
    let insert =
        |k: u32, v: u64| record(0, &[k.to_le_bytes().as_slice(), &v.to_le_bytes()].concat());
    let log = [
        insert(1, 10),
        insert(2, 20),
        record(1, &1u32.to_le_bytes()),
        insert(3, 30),
    ]
    .concat();
    std::fs::write(&path, log).unwrap();
    let p = path.to_str().unwrap();
    // Untyped: not a log, and no import.
    let (code, _, _) = run(&["verify", p]);
    assert_eq!(code, 3);
    let cli = Cli::try_parse_from(["imstore", "import-legacy", p]).unwrap();
    assert_eq!(
        execute(&Typed::<u32, u64>::default(), cli).unwrap(),
        EXIT_OK
    );
    assert!(dir.path().join("old.log.v0-backup").exists());
    let store: IndexMapStore<u32, u64> = IndexMapStore::open(&path).unwrap();
    assert_eq!(
        store.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        [(2, 20), (3, 30)]
    );
}

/// The store's open names a 0.2.x log and the option that converts it; the
/// typed build, which has the types to recognise one, does the same for
/// `verify` and `info` (pointing to its `import-legacy`) instead of
/// calling it a file that is not a log, and changes nothing.
#[test]
fn typed_verify_names_a_0_2_log_and_the_command_that_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log");
    std::fs::write(
        &path,
        [legacy_insert("a", "1"), legacy_insert("b", "2")].concat(),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let before = snapshot(dir.path());
    let err = typed(&["verify", p]).unwrap_err();
    assert_eq!(err.exit_code(), imstore::EXIT_NOT_A_LOG, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("0.2.x") && msg.contains("import-legacy"),
        "{msg}"
    );
    // `info` shows the same verdict among what it reads.
    let _ = typed(&["info", p]);
    assert_eq!(snapshot(dir.path()), before, "verify or info changed files");

    assert_eq!(typed(&["import-legacy", p]).unwrap(), EXIT_OK);
    assert_eq!(typed(&["verify", p]).unwrap(), EXIT_OK);
}
