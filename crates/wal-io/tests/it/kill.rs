//! Real-process crash tests: a child process writes to a log and is killed with `SIGKILL`.
//!
//! The test binary re-executes itself as the child (`--exact kill::kill_child`,
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

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use test_support::child::{Protocol, Running, env_u64, nth};
use test_support::kill::{self, Ctx, KillTest, Killed};
use test_support::rng::{Rng, mix, seed_from_env};
use test_support::{chain, sibling};
use wal_io::{FsStorage, TruncationReason, Wal, WalError, WalOptions};

/// The child is the `kill_child` test below; `WAL_KILL_CHILD`, set only
/// in a child, names the log's directory, and `WAL_KILL_ROLE` what it does
/// there: `writer`, `hold`, `rewrite-gated` or `rewrite-loop`.
const PROTOCOL: Protocol = Protocol::new("kill::kill_child", "WAL_KILL_CHILD", "WAL_KILL_ROLE");
/// Records the log holds when the child starts (verified by the parent).
const START_ENV: &str = "WAL_KILL_START";
/// The seed of the child's operation sequence; also the parent's override.
const SEED_ENV: &str = "WAL_KILL_SEED";
const LOG_NAME: &str = "kill.log";

/// Logs per run of the main test, each a fresh file.
const ROUNDS: u64 = 12;
/// Kills per log.
const ITERS: u64 = 20;

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

// ---------------------------------------------------------------------------
// The child.

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

/// The child side of every test in this file, selected by `WAL_KILL_ROLE`.
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

// ---------------------------------------------------------------------------
// The parent.

/// Starts a child playing `role` on the log in `dir`, which holds `start`
/// records; its standard input is a pipe, held open so that the
/// `rewrite-gated` child blocks reading it.
fn spawn(dir: &Path, role: &str, start: u64, seed: u64) -> Running {
    PROTOCOL.spawn(dir, role, |child| {
        child
            .env(START_ENV, start.to_string())
            .env(SEED_ENV, seed.to_string())
            .stdin(Stdio::piped());
    })
}

/// Asserts that opening `path` now fails with `AlreadyOpen`.
fn assert_refused(ctx: &dyn fmt::Display, path: &Path) {
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
fn verify(ctx: &dyn fmt::Display, target: &Path, lo: u64, hi: u64) -> (u64, Recovered) {
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
fn build_log(path: &Path, n: u64) {
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

/// The log's kill test ([`kill::run`] does the rounds).
#[derive(Debug, Default)]
struct LogKills {
    torn: u64,
    big_kills: u64,
    removed_temp: u64,
}

impl KillTest for LogKills {
    type Round = ();
    const FILE: &'static str = LOG_NAME;
    const SEED_ENV: &'static str = SEED_ENV;

    fn spawn(&self, ctx: &Ctx, dir: &Path, count: u64) -> Running {
        spawn(dir, "writer", count, ctx.round_seed())
    }

    fn kill_point(&mut self, ctx: &Ctx, rng: &mut Rng, child: &mut Running) {
        match rng.below(10) {
            // Anywhere, including while the child starts and recovers.
            0..=1 => thread::sleep(Duration::from_micros(rng.below(30_000))),
            // After a number of acknowledged operations, maybe a bit later.
            2..=5 => {
                let target = 1 + rng.below(200);
                child.expect(ctx, "acknowledgement", nth("ACK", target));
                if rng.below(2) == 0 {
                    thread::sleep(Duration::from_micros(rng.below(1_000)));
                }
            }
            // Right as the child starts writing a large batch.
            6 => {
                let seen = child.wait_for(ctx, PROTOCOL.patience, |m| m.tag == "BIG");
                self.big_kills += u64::from(seen);
            }
            // During (or just after) a rewrite.
            _ => {
                let skip = rng.below(3);
                let seen = child.wait_for(ctx, PROTOCOL.patience, nth("RW", skip + 1));
                if seen {
                    thread::sleep(Duration::from_micros(rng.below(4_000)));
                }
            }
        }
    }

    fn probe(&self, ctx: &Ctx, path: &Path) {
        assert_refused(ctx, path);
    }

    fn temp_path(&self, path: &Path) -> PathBuf {
        tmp_path(path)
    }

    fn verify(&mut self, (): &mut (), k: &Killed<'_>) -> u64 {
        let hi = k
            .child
            .last(&["DO", "BIG", "RW"])
            .unwrap_or(k.start)
            .max(k.acked);
        let (n, recovered) = verify(k.ctx, k.target, k.acked, hi);
        self.torn += u64::from(recovered.torn);
        self.removed_temp += u64::from(recovered.removed_temp);
        n
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_record() {
    kill::run_announced("wal-io kill test", &mut LogKills::default(), ROUNDS, ITERS);
}

#[test]
fn second_process_is_refused_while_the_holder_lives_and_admitted_after_its_kill() {
    let ctx = "[lock while held]";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_NAME);
    build_log(&path, 100);
    let before = std::fs::read(&path).unwrap();
    let mut child = spawn(dir.path(), "hold", 100, 0);
    // Nor did the holder's own open change it.
    kill::refused_while_held(ctx, &mut child, &path, Some(before), assert_refused);
    let (n, recovered) = verify(&ctx, &path, 100, 100);
    assert_eq!(n, 100);
    assert!(!recovered.torn);
}

#[test]
fn second_process_is_refused_during_a_rewrite_and_admitted_after_its_kill() {
    let ctx = "[lock during rewrite]";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_NAME);
    let tmp = tmp_path(&path);
    build_log(&path, 4000);
    let before = std::fs::read(&path).unwrap();
    let mut child = spawn(dir.path(), "rewrite-gated", 4000, 0);
    child.expect(&ctx, "REWRITING", |m| m.tag == "REWRITING");
    let tmp_len = std::fs::metadata(&tmp)
        .unwrap_or_else(|e| panic!("{ctx}: no temporary file mid-rewrite: {e}"))
        .len();
    assert!(tmp_len > 0, "{ctx}: the rewrite wrote nothing yet");
    for _ in 0..3 {
        assert_refused(&ctx, &path);
    }
    assert_eq!(
        std::fs::metadata(&tmp).map(|m| m.len()).ok(),
        Some(tmp_len),
        "{ctx}: a refused open touched the holder's temporary file"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused open changed the log"
    );
    child.kill(&ctx);
    assert!(
        tmp.exists(),
        "{ctx}: the kill mid-rewrite left no temporary file"
    );
    let (n, recovered) = verify(&ctx, &path, 4000, 4000);
    assert_eq!(n, 4000);
    assert!(
        recovered.removed_temp,
        "{ctx}: the stale temporary file was not removed"
    );
    assert!(!tmp.exists());
    assert_eq!(std::fs::read(&path).unwrap(), before, "the old log changed");
}

#[test]
fn kills_during_back_to_back_rewrites_of_a_large_log_keep_every_record() {
    let seed = seed_from_env(SEED_ENV);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_NAME);
    let tmp = tmp_path(&path);
    const RECORDS: u64 = 4000;
    build_log(&path, RECORDS);
    let (mut mid_rewrite, mut completed) = (0, 0);
    for iter in 0..12 {
        let ctx = Ctx {
            seed,
            round: 1000,
            iter,
            seed_env: SEED_ENV,
            variant: None,
        };
        let mut rng = Rng::new(mix(mix(seed, 1000), iter));
        let mut child = spawn(dir.path(), "rewrite-loop", RECORDS, 0);
        child.expect(&ctx, "RW", |m| m.tag == "RW");
        let deadline = Instant::now() + Duration::from_micros(rng.below(40_000));
        while Instant::now() < deadline {
            assert_refused(&ctx, &path);
            thread::sleep(Duration::from_micros(rng.below(5_000)));
        }
        child.kill(&ctx);
        mid_rewrite += u64::from(tmp.exists());
        completed += child.count("ACK");
        let (n, _) = verify(&ctx, &path, RECORDS, RECORDS);
        assert_eq!(n, RECORDS);
    }
    println!(
        "back-to-back rewrites: 12 kills, {mid_rewrite} mid-rewrite, {completed} rewrites completed"
    );
    assert!(mid_rewrite > 0, "no kill landed mid-rewrite (seed {seed})");
}
