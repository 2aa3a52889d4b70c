//! Test plumbing shared by this workspace's own test suites; not published,
//! not for users.
//!
//! It holds what the test suites of `wal-io` and `indexmap_store` would
//! otherwise each carry a copy of, and nothing that is specific to what
//! one of them tests:
//!
//! - [`child`]: re-executing the running test binary as a child process,
//!   reading its progress lines, killing it with `SIGKILL` and checking
//!   that the kill is what ended it;
//! - [`kill`]: the skeleton of a kill test (rounds of children continuing
//!   one file, each killed at a random point, the lock probed, the file
//!   verified), which wal-io's and the store's kill tests fill in;
//! - [`rng`]: deterministic choices from a seed, and the seed of a run
//!   (from an environment variable, so a failure can be replayed);
//! - [`bench`](mod@bench): the benches' criterion harness, which measures floors in
//!   the same run as their subjects and prints the ratios;
//! - [`chain`] and [`copy_aside`], for failure messages and for recovering
//!   a copy of a file rather than the file itself; [`sibling`], the name of
//!   a file's lock or temporary file; [`dir_names`], a directory's listing;
//!   [`scratch`], a temporary directory
//!   per test.
//!
//! Add it to a crate as a path `[dev-dependencies]` entry only.

pub mod bench;
pub mod child;
pub mod kill;
pub mod rng;

use std::path::{Path, PathBuf};

/// The error and every source below it, on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Copies the file at `path` into a fresh directory `copy` beside it, under
/// the same name, and returns the copy's path: a test can then open (and so
/// recover) the copy and leave the original as a killed process left it.
///
/// If there is no file at `path` (a child killed early enough has not
/// created it yet), there is none at the returned path either.
///
/// # Panics
///
/// If `path` has no parent or file name, or on any I/O error.
#[track_caller]
pub fn copy_aside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .expect("copy_aside: the path names no file");
    let dir = path
        .parent()
        .expect("copy_aside: the path has no parent")
        .join("copy");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let copy = dir.join(name);
    if path.exists() {
        std::fs::copy(path, &copy).unwrap();
    }
    copy
}

/// `path` with `suffix` appended to its file name (`x.log` → `x.log.lock`):
/// where a store or log keeps its lock and temporary files.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The paths directly in `dir`, sorted: what a test compares to show that
/// a refused call created nothing.
///
/// # Panics
///
/// On any I/O error.
pub fn dir_names(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
}

/// A fresh temporary directory and the path `name` in it; the directory
/// is removed when the returned guard drops.
///
/// # Panics
///
/// If the directory cannot be created.
pub fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join(name);
    (dir, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("opening the log")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chain_joins_every_source() {
        let e = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(chain(&e), "opening the log: disk on fire");
    }

    #[test]
    fn copy_aside_copies_the_file_or_nothing() {
        let dir = std::env::temp_dir().join(format!("test-support-copy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("x.log");
        std::fs::write(&path, b"one").unwrap();
        let copy = copy_aside(&path);
        assert_eq!(copy, dir.join("copy").join("x.log"));
        assert_eq!(std::fs::read(&copy).unwrap(), b"one");
        // Each call starts afresh: with no file, the old copy is gone too.
        std::fs::remove_file(&path).unwrap();
        assert!(!copy_aside(&path).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
