//! Real processes killed with `SIGKILL` while writing a preallocated log,
//! and while holding records in the append buffer.
//!
//! The test binary re-executes itself as the child (`--exact
//! kill_prealloc::kill_prealloc_child`; see [`test_support::child`]). A `writer` child
//! appends records to a preallocated log, syncing every few, and reports
//! `@@ACK <n>` after each sync covering records `0..n` and `@@DO <n>`
//! before each append (`n` records if it completes). The parent kills it
//! at a random point, reopens the log itself with preallocation (and
//! without, on a copy) and checks that it holds exactly records `0..n`
//! with `acked <= n <= in_flight`, the zeros after them taken for
//! preallocated space. A `buffered` child appends records into a large
//! append buffer, flushing after the first half, and idles: the kill loses
//! exactly the unflushed half.

use std::path::Path;
use std::sync::Arc;

use test_support::child::{Protocol, env_u64, nth};
use test_support::rng::{Rng, announced_seed, mix};
use wal_io::{FsStorage, RecoveryReport, TruncationReason, Wal, WalError, WalOptions};

const PROTOCOL: Protocol = Protocol::new(
    "kill_prealloc::kill_prealloc_child",
    "WAL_KILL_PREALLOC_CHILD",
    "WAL_KILL_PREALLOC_ROLE",
);
const START_ENV: &str = "WAL_KILL_PREALLOC_START";
const LOG_NAME: &str = "prealloc.log";
/// Kills per log.
const ITERS: u64 = 12;
/// A small chunk, so that kills land in every part of it.
const CHUNK: u64 = 16 << 10;
/// Records the buffered child appends (half flushed).
const BUFFERED: u64 = 40;

fn payload(i: u64) -> Vec<u8> {
    let filler = (mix(0x7072_6561_6c6c_6f63, i) % 700) as usize;
    let mut p = format!("record-{i}-").into_bytes();
    p.extend((0..filler).map(|j| b'a' + ((i as usize + j) % 26) as u8));
    p
}

fn prealloc() -> WalOptions {
    WalOptions {
        preallocate: Some(CHUNK),
        ..WalOptions::default()
    }
}

fn buffered() -> WalOptions {
    WalOptions {
        append_buffer: 1 << 20,
        ..WalOptions::default()
    }
}

/// Opens `path` with `opts` and checks that it holds records `0..n`, in
/// order; returns the log, `n` and the report.
fn open_checked(path: &Path, opts: WalOptions) -> Result<(Wal, u64, RecoveryReport), WalError> {
    let mut n = 0u64;
    let (wal, report) = Wal::open(Arc::new(FsStorage::new()), path, opts, |r| {
        if r.payload != payload(n).as_slice() {
            return Err(format!("record #{n} (seq {}) holds the wrong payload", r.seq).into());
        }
        n += 1;
        Ok(())
    })?;
    Ok((wal, n, report))
}

#[test]
fn kill_prealloc_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        return;
    };
    let path = dir.join(LOG_NAME);
    match role.as_str() {
        "writer" => {
            let start = env_u64(START_ENV);
            let (mut wal, n, _) = open_checked(&path, prealloc()).expect("child open");
            assert_eq!(n, start);
            let mut rng = Rng::new(mix(start, 0x6b69_6c6c));
            for i in start.. {
                PROTOCOL.report("DO", i + 1);
                wal.append(&payload(i)).expect("append");
                if rng.below(3) == 0 {
                    wal.sync().expect("sync");
                    PROTOCOL.report("ACK", i + 1);
                }
            }
        }
        "buffered" => {
            let (mut wal, n, _) = open_checked(&path, buffered()).expect("child open");
            assert_eq!(n, 0);
            for i in 0..BUFFERED {
                wal.append(&payload(i)).expect("append");
                if i + 1 == BUFFERED / 2 {
                    wal.flush().expect("flush");
                }
            }
            assert!(wal.stats().buffered_bytes > 0);
            PROTOCOL.idle(BUFFERED);
            drop(wal);
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_killed_writer_of_a_preallocated_log_loses_only_unsynced_records() {
    let seed = announced_seed("kill_prealloc", "WAL_KILL_PREALLOC_SEED");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_NAME);
    let mut start = 0;
    let mut kept_space = 0;
    for iter in 0..ITERS {
        let ctx = format!("seed {seed}, iteration {iter}");
        let mut child = PROTOCOL.spawn(dir.path(), "writer", |c| {
            c.env(START_ENV, start.to_string());
        });
        let appends = 1 + rng.below(200);
        child.expect(
            &ctx,
            &format!("{appends} appends begun"),
            nth("DO", appends),
        );
        child.kill(&ctx);
        let acked = child.last(&["ACK"]).unwrap_or(start);
        let in_flight = child.last(&["DO"]).unwrap_or(start);

        // Without the option the zeros are a torn tail: check on a copy.
        let copy = dir.path().join("copy.log");
        std::fs::copy(&path, &copy).unwrap();
        let (_w, plain_n, plain) = open_checked(&copy, WalOptions::default())
            .unwrap_or_else(|e| panic!("{ctx}: plain open: {e}"));
        drop(_w);
        std::fs::remove_file(&copy).unwrap();
        let _ = std::fs::remove_file(dir.path().join("copy.log.lock"));

        let (wal, n, report) =
            open_checked(&path, prealloc()).unwrap_or_else(|e| panic!("{ctx}: open: {e}"));
        assert!(
            acked <= n && n <= in_flight,
            "{ctx}: {n} records, acked {acked}, in flight {in_flight}"
        );
        assert_eq!(
            plain_n, n,
            "{ctx}: the same records with and without the option"
        );
        if let Some(t) = &report.truncated {
            assert_eq!(t.reason, TruncationReason::TornTail, "{ctx}");
        }
        if let Some(t) = &plain.truncated {
            assert_eq!(t.reason, TruncationReason::TornTail, "{ctx}");
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, report.bytes + report.preallocated, "{ctx}");
        kept_space += report.preallocated;
        drop(wal);
        // The drop sealed the log and trimmed it.
        assert!(std::fs::metadata(&path).unwrap().len() < len.max(report.bytes + 64));
        start = n;
    }
    assert!(start > ITERS, "only {start} records over {ITERS} kills");
    assert!(kept_space > 0, "no kill left preallocated space");
}

#[test]
fn a_kill_loses_the_append_buffer_and_nothing_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_NAME);
    let mut child = PROTOCOL.spawn(dir.path(), "buffered", |_| {});
    child.expect(&"the buffered child", "IDLE", nth("IDLE", 1));
    child.kill(&"the buffered child");
    let (_wal, n, report) = open_checked(&path, buffered()).expect("open");
    assert_eq!(n, BUFFERED / 2, "exactly the flushed records survive");
    assert_eq!(report.truncated, None);
}
