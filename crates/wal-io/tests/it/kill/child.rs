//! The child: the writer (random appends, batches, syncs and rewrites, each
//! reported), and the roles that hold the log, rewrite it or wait
//! mid-rewrite until killed.

use std::io::BufRead;
use std::path::Path;

use super::{LOG_NAME, PROTOCOL, SEED_ENV, START_ENV, open_checked, payload};
use test_support::chain;
use test_support::child::env_u64;
use test_support::rng::{Rng, mix};
use wal_io::Wal;

/// Rewrites the log with the same records `0..n` it holds.
fn rewrite_all(wal: &mut Wal, n: u64) {
    let written = wal
        .rewrite(|w| {
            for i in 0..n {
                w.push(&payload(i))?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("rewrite of {n} records failed: {}", chain(&e)));
    assert_eq!(written, n);
}

/// The writer: `budget` random operations on a log holding `start`
/// records, reporting each. Returns the log and its record count.
fn run_writer(path: &Path, start: u64, seed: u64, budget: u64) -> (Wal, u64) {
    let (mut wal, mut n, _) =
        open_checked(path).unwrap_or_else(|e| panic!("child open failed: {}", chain(&e)));
    assert_eq!(
        n, start,
        "the child recovered another record count than the parent"
    );
    let mut rng = Rng::new(mix(seed, start));
    for _ in 0..budget {
        match rng.below(100) {
            0..=54 => {
                PROTOCOL.report("DO", n + 1);
                let seq = wal.append(&payload(n)).expect("append");
                assert_eq!(seq, wal.stats().next_seq - 1);
                n += 1;
            }
            55..=79 | 97 => {
                // Now and then a batch of 100-200 KiB, whose one
                // write a kill may cut short.
                let k = match rng.below(25) {
                    0 => 150 + rng.below(150),
                    _ => 1 + rng.below(8),
                };
                let batch: Vec<Vec<u8>> = (n..n + k).map(payload).collect();
                PROTOCOL.report(if k > 100 { "BIG" } else { "DO" }, n + k);
                let seqs = wal
                    .append_many(batch.iter().map(Vec::as_slice))
                    .expect("append_many");
                assert_eq!(seqs.end - seqs.start, k);
                n += k;
            }
            80..=96 => {
                PROTOCOL.report("DO", n);
                wal.sync().expect("sync");
            }
            _ => {
                PROTOCOL.report("RW", n);
                rewrite_all(&mut wal, n);
            }
        }
        PROTOCOL.report("ACK", n);
    }
    (wal, n)
}

/// The child side of every kill test, selected by `WAL_KILL_ROLE`.
///
/// Run by the test harness without `WAL_KILL_CHILD` (that is, not as a
/// child), it cannot play a role, so instead it runs the writer in process
/// for a few hundred operations and checks that the log it leaves passes
/// the parent's verification: the test then still checks the child's
/// logic, just without a kill.
#[test]
fn kill_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_NAME);
        let (wal, n) = run_writer(&path, 0, 42, 300);
        assert!(n > 300, "300 operations appended only {n} records");
        drop(wal);
        let (_, m, recovered) = open_checked(&path).expect("reopen");
        assert_eq!(m, n);
        assert!(!recovered.torn && !recovered.removed_temp);
        return;
    };
    let path = dir.join(LOG_NAME);
    let start = env_u64(START_ENV);
    let held = match role.as_str() {
        "writer" => run_writer(&path, start, env_u64(SEED_ENV), 20_000).0,
        "hold" => {
            let (wal, n, _) = open_checked(&path).expect("child open");
            assert_eq!(n, start);
            PROTOCOL.report("HELD", n);
            wal
        }
        "rewrite-gated" => {
            let (mut wal, n, _) = open_checked(&path).expect("child open");
            assert_eq!(n, start);
            wal.rewrite(|w| {
                for i in 0..n {
                    w.push(&payload(i))?;
                    if i == n / 2 {
                        // Half the records are in the temporary file (the
                        // buffer is far smaller): wait here, mid-rewrite,
                        // until killed (or told to go on).
                        PROTOCOL.report("REWRITING", n);
                        let mut line = String::new();
                        std::io::stdin().lock().read_line(&mut line).expect("stdin");
                    }
                }
                Ok(())
            })
            .expect("rewrite");
            PROTOCOL.report("ACK", n);
            wal
        }
        "rewrite-loop" => {
            let (mut wal, n, _) = open_checked(&path).expect("child open");
            assert_eq!(n, start);
            PROTOCOL.report("HELD", n);
            loop {
                PROTOCOL.report("RW", n);
                rewrite_all(&mut wal, n);
                PROTOCOL.report("ACK", n);
            }
        }
        other => panic!("unknown role {other:?}"),
    };
    // Hold the log until killed.
    PROTOCOL.idle(held.stats().records);
}
