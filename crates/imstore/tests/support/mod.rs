//! Shared by the integration tests: logs made by the library, the built
//! binary, and directory snapshots.

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use indexmap_store::IndexMapStore;

/// Runs the untyped `imstore` with `args`.
pub fn imstore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imstore"))
        .args(args)
        .output()
        .expect("the imstore binary runs")
}

/// The exit status, stdout and stderr of `out`.
pub fn parts(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `imstore args` and returns `(exit status, stdout, stderr)`.
pub fn run(args: &[&str]) -> (i32, String, String) {
    parts(&imstore(args))
}

/// A closed store at `dir/name` with `n` entries `key-i -> value-i`, one
/// overwritten and one removed; returns its path.
pub fn make_store(dir: &Path, name: &str, n: usize) -> PathBuf {
    let path = dir.join(name);
    let mut store: IndexMapStore<String, String> = IndexMapStore::open(&path).unwrap();
    for i in 0..n {
        store
            .insert(format!("key-{i}"), format!("value-{i}"))
            .unwrap();
    }
    store
        .insert("key-0".to_owned(), "changed".to_owned())
        .unwrap();
    store.shift_remove("key-1").unwrap();
    store.close().unwrap();
    path
}

/// Every file in `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// The byte offsets where the log's frames start, from `imstore dump --json`.
pub fn frame_offsets(path: &Path) -> Vec<u64> {
    let (code, out, _) = run(&["dump", "--json", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    out.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["offset"].as_u64()
        })
        .collect()
}

/// Flips bit `bit` of byte `at` of the file.
pub fn flip(path: &Path, at: u64, bit: u8) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[usize::try_from(at).unwrap()] ^= 1 << bit;
    std::fs::write(path, bytes).unwrap();
}

/// A 0.2.x record of `(String, String)`: `u32` length, tag 0, then
/// bincode 1 (a `u64` length before each string's bytes).
pub fn legacy_insert(key: &str, value: &str) -> Vec<u8> {
    let mut body = vec![0u8];
    for s in [key, value] {
        body.extend_from_slice(&(s.len() as u64).to_le_bytes());
        body.extend_from_slice(s.as_bytes());
    }
    let mut out = u32::try_from(body.len()).unwrap().to_le_bytes().to_vec();
    out.extend(body);
    out
}
