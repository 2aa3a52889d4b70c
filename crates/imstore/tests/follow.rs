//! `imstore tail -f` follows a live writer read-only: new records appear
//! as they are appended, and a compaction's rewrite is noticed and
//! followed from the new file's start.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indexmap_store::IndexMapStore;
use support::{make_store, snapshot};

/// Lines until one contains `want`, or a timeout (a generous bound on a
/// busy machine, not a performance assertion).
fn wait_for(rx: &mpsc::Receiver<String>, want: &str, seen: &mut Vec<String>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(want);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn tail_follows_appends_and_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_store(dir.path(), "data.log", 3);
    let mut store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_imstore"))
        .args(["tail", "-f", "--json", "--interval-ms", "20", "-n", "2"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    // The last frames of the log first: its seal at sequence number 7.
    assert!(wait_for(&rx, "\"kind\":\"seal\"", &mut seen), "{seen:#?}");
    let files = snapshot(dir.path()).into_keys().collect::<Vec<_>>();
    store
        .insert("appended".to_owned(), "live".to_owned())
        .unwrap();
    // The record's key, hex-encoded in its payload: "appended".
    assert!(wait_for(&rx, "617070656e646564", &mut seen), "{seen:#?}");
    store.compact().unwrap();
    assert!(wait_for(&rx, "\"rewritten\"", &mut seen), "{seen:#?}");
    store
        .insert("after-compaction".to_owned(), "x".to_owned())
        .unwrap();
    // "after-compaction", hex-encoded.
    assert!(
        wait_for(&rx, "61667465722d636f6d70616374696f6e", &mut seen),
        "{seen:#?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    // The follower created nothing.
    assert_eq!(snapshot(dir.path()).into_keys().collect::<Vec<_>>(), files);
    store.close().unwrap();
}
