//! The parent's means: spawning a child in a role, asserting that a second
//! open is refused, verifying the log after a kill, and building a log.

use std::fmt;
use std::path::Path;
use std::process::Stdio;

use super::{PROTOCOL, Recovered, SEED_ENV, START_ENV, open_checked, opts, payload, storage};
use test_support::chain;
use test_support::child::Running;
use wal_io::{Wal, WalError};

/// Starts a child playing `role` on the log in `dir`, which holds `start`
/// records; its standard input is a pipe, held open so that the
/// `rewrite-gated` child blocks reading it.
pub fn spawn(dir: &Path, role: &str, start: u64, seed: u64) -> Running {
    PROTOCOL.spawn(dir, role, |child| {
        child
            .env(START_ENV, start.to_string())
            .env(SEED_ENV, seed.to_string())
            .stdin(Stdio::piped());
    })
}

/// Asserts that opening `path` now fails with `AlreadyOpen`.
pub fn assert_refused(ctx: &dyn fmt::Display, path: &Path) {
    match Wal::open(storage(), path, opts(), |_| Ok(())) {
        Ok(_) => panic!("{ctx}: a second process opened {path:?} while the child held it"),
        Err(e) => {
            assert!(
                matches!(&e, WalError::AlreadyOpen { path: p } if p == path),
                "{ctx}: a second opener got {} instead of AlreadyOpen",
                chain(&e)
            );
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{ctx}");
            assert!(
                e.to_string().contains("already open"),
                "{ctx}: unclear message: {e}"
            );
        }
    }
}

/// Reopens the log at `target` (the log itself, or a copy of it so that
/// the next child does the recovery itself) and checks it holds `lo..=hi`
/// records. Returns the count and what recovery did.
pub fn verify(ctx: &dyn fmt::Display, target: &Path, lo: u64, hi: u64) -> (u64, Recovered) {
    let (wal, n, recovered) = open_checked(target)
        .unwrap_or_else(|e| panic!("{ctx}: reopening after the kill failed: {}", chain(&e)));
    assert!(
        lo <= n && n <= hi,
        "{ctx}: the log holds {n} records; the child had acknowledged {lo} and had at most {hi} \
         in flight"
    );
    drop(wal);
    (n, recovered)
}

/// Appends records `0..n` to a new log at `path`.
pub fn build_log(path: &Path, n: u64) {
    let (mut wal, m, _) = open_checked(path).unwrap();
    assert_eq!(m, 0);
    let mut i = 0;
    while i < n {
        let end = (i + 500).min(n);
        let batch: Vec<Vec<u8>> = (i..end).map(payload).collect();
        wal.append_many(batch.iter().map(Vec::as_slice)).unwrap();
        i = end;
    }
    wal.sync().unwrap();
}
