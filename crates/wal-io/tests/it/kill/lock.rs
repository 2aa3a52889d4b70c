//! The lock across processes: a second process is refused while a child
//! holds the log (idle, mid-rewrite, rewriting back to back), without
//! touching the log or the temporary file, and admitted after the kill.

use std::thread;
use std::time::{Duration, Instant};

use super::parent::{assert_refused, build_log, spawn, verify};
use super::{LOG_NAME, SEED_ENV, tmp_path};
use test_support::kill::{self, Ctx};
use test_support::rng::{Rng, mix, seed_from_env};

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
