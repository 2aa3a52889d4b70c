//! Real-process crash tests: a child process writes to a log and is killed with `SIGKILL`.
//!
//! The test binary re-executes itself as the child (`--exact kill::child::kill_child`,
//! with the `WAL_KILL_CHILD` environment variable naming the log's
//! directory and `WAL_KILL_ROLE` what to do there; the plumbing is
//! [`test_support::child`]). The child reports progress on its standard
//! output, which the parent reads through a pipe: the pipe keeps every line
//! the child finished writing even after it is killed. Right before an
//! operation's write the child prints `@@DO <n>` (or `@@BIG <n>` for a
//! large batch, `@@RW <n>` for a rewrite: the record count if the
//! operation completes) and after it returns `@@ACK <n>` (the record
//! count now acknowledged). The parent kills the child at a random
//! point, reopens the log itself and checks that it holds exactly records
//! `0..n` with `acked <= n <= in_flight`, each with the payload that
//! [`payload`] derives from its index, and then lets the next child continue
//! the same log, so every log goes through dozens of kills and recoveries.
//!
//! Every failure message names the seed, round and iteration; rerun with
//! `WAL_KILL_SEED=<seed>` for the same operation sequences and kill
//! choices (the kill timing itself cannot be replayed).
//!
//! [`child`] is the child; [`parent`] holds the parent's means (spawning a
//! child, checking a refused open, verifying the log after a kill);
//! [`random_kills`] kills writers at random points, round after round, and
//! [`lock`] checks that a second process is refused while a child holds the
//! log. This module holds what parent and child agree on: the protocol's
//! names, the payloads and the checked open.

mod child;
mod lock;
mod parent;
mod random_kills;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use test_support::child::Protocol;
use test_support::rng::{Rng, mix};
use test_support::sibling;
use wal_io::{FsStorage, TruncationReason, Wal, WalError, WalOptions};

/// The child is the `kill_child` test in [`child`]; `WAL_KILL_CHILD`, set only
/// in a child, names the log's directory, and `WAL_KILL_ROLE` what it does
/// there: `writer`, `hold`, `rewrite-gated` or `rewrite-loop`.
const PROTOCOL: Protocol =
    Protocol::new("kill::child::kill_child", "WAL_KILL_CHILD", "WAL_KILL_ROLE");
/// Records the log holds when the child starts (verified by the parent).
const START_ENV: &str = "WAL_KILL_START";
/// The seed of the child's operation sequence; also the parent's override.
const SEED_ENV: &str = "WAL_KILL_SEED";
const LOG_NAME: &str = "kill.log";

// ---------------------------------------------------------------------------
// Deterministic helpers shared by parent and child.

/// The payload of record `i`: its index, then filler of a length that is
/// usually short, sometimes a few hundred bytes and sometimes several KiB,
/// so that writes and records straddle page boundaries.
fn payload(i: u64) -> Vec<u8> {
    let mut rng = Rng::new(mix(0x0070_6179_6c6f_6164, i));
    let filler = match rng.below(10) {
        0 => 2000 + rng.below(4500),
        1..=3 => 100 + rng.below(900),
        _ => rng.below(100),
    };
    let mut p = format!("record-{i}-").into_bytes();
    p.extend((0..filler).map(|j| b'a' + ((i + j) % 26) as u8));
    p
}

fn payload_summary(p: &[u8]) -> String {
    let head = String::from_utf8_lossy(&p[..p.len().min(24)]).into_owned();
    format!("{head:?}... ({} bytes)", p.len())
}

fn storage() -> Arc<FsStorage> {
    Arc::new(FsStorage::new())
}

/// Small write buffer, so a rewrite reaches its temporary file in many
/// writes rather than one.
fn opts() -> WalOptions {
    WalOptions {
        buf_capacity: 64 * 1024,
        ..WalOptions::default()
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    sibling(path, &opts().temp_suffix)
}

/// Opens `path` and checks that it holds records `0..n` with their
/// payloads, in order, with increasing sequence numbers (consecutive but
/// for the one a seal takes when the writer closed the log). Returns the open
/// log, `n`, and whether a tail was cut off or a stale temporary removed.
fn open_checked(path: &Path) -> Result<(Wal, u64, Recovered), WalError> {
    let mut n = 0u64;
    let mut next_seq = None;
    let mut first_seq = None;
    let (wal, report) = Wal::open(storage(), path, opts(), |r| {
        if let Some(expected) = next_seq
            && r.seq != expected
            && r.seq != expected + 1
        {
            return Err(format!("record #{n} has seq {} after seq {}", r.seq, expected - 1).into());
        }
        let want = payload(n);
        if r.payload != want.as_slice() {
            return Err(format!(
                "record #{n} (seq {}, offset {}) is {}, expected {}",
                r.seq,
                r.offset,
                payload_summary(r.payload),
                payload_summary(&want)
            )
            .into());
        }
        first_seq.get_or_insert(r.seq);
        next_seq = Some(r.seq + 1);
        n += 1;
        Ok(())
    })?;
    if n > 0 {
        assert_eq!(
            first_seq,
            Some(wal.header().base_seq),
            "the first record's seq is not the header's base seq"
        );
    }
    assert_eq!(
        report.records, n,
        "report.records disagrees with the replay"
    );
    assert_eq!(
        wal.stats().records,
        n,
        "stats().records disagrees with the replay"
    );
    if let Some(t) = &report.truncated {
        assert_eq!(
            t.reason,
            TruncationReason::TornTail,
            "a kill can only leave a torn tail: {t:?}"
        );
    }
    let recovered = Recovered {
        torn: report.truncated.is_some(),
        removed_temp: report.removed_temp.is_some(),
    };
    Ok((wal, n, recovered))
}

#[derive(Debug, Clone, Copy)]
struct Recovered {
    torn: bool,
    removed_temp: bool,
}
