//! The skeleton of a kill test, shared by wal-io's and the store's: rounds
//! of fresh directories, in each a series of children that continue the
//! same file and are killed at a random point, a probe of the lock while
//! a child holds it, and a check of what a reopen finds.
//!
//! A test says what differs in a [`KillTest`]: how to start a child, where
//! to kill it, how to probe the lock, and how to verify the file after the
//! kill. [`run`] (or [`run_announced`], which adds the seed, a summary
//! and the checks every kill test makes) does the rest, in the same order and with the same random
//! draws for every test, so a seed names the same kill choices in both.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::child::Running;
use crate::copy_aside;
use crate::rng::{Rng, announced_seed, mix};

/// Where a kill test is, for every assertion message.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// The run's seed (the one [`KillTest::SEED_ENV`] replays).
    pub seed: u64,
    /// The round: one fresh directory each.
    pub round: u64,
    /// The kill within the round.
    pub iter: u64,
    /// The environment variable that replays the seed.
    pub seed_env: &'static str,
    /// What [`KillTest::variant`] chose for this kill, if it varies.
    pub variant: Option<(&'static str, bool)>,
}

impl Ctx {
    /// The seed of the round's operation sequence: every child of a round
    /// continues the same sequence.
    pub fn round_seed(&self) -> u64 {
        mix(self.seed, self.round)
    }
}

impl fmt::Display for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[seed {} round {} iteration {}",
            self.seed, self.round, self.iter
        )?;
        if let Some((name, on)) = self.variant {
            write!(f, " {name} {on}")?;
        }
        write!(f, "; rerun with {}={}]", self.seed_env, self.seed)
    }
}

/// What [`KillTest::verify`] is told about one kill.
#[derive(Debug, Clone, Copy)]
pub struct Killed<'a> {
    /// Where the test is.
    pub ctx: &'a Ctx,
    /// The file to reopen: the file itself or a copy of it (see
    /// [`reopen_target`]).
    pub target: &'a Path,
    /// The killed child, with everything it reported.
    pub child: &'a Running,
    /// The operations the file held when the child started.
    pub start: u64,
    /// The operations the child had acknowledged (at least `start`).
    pub acked: u64,
}

/// What a kill test does differently from another.
pub trait KillTest {
    /// What a round carries from one kill to the next (the model of what
    /// the file holds), fresh for each round.
    type Round: Default;
    /// The file's name in the round's directory.
    const FILE: &'static str;
    /// The environment variable that replays a run's seed.
    const SEED_ENV: &'static str;

    /// A flag that varies with the iteration (named in [`Ctx`]), if any.
    fn variant(&self, iter: u64) -> Option<(&'static str, bool)> {
        let _ = iter;
        None
    }

    /// Starts a writer child in `dir`, whose file holds `count` operations.
    fn spawn(&self, ctx: &Ctx, dir: &Path, count: u64) -> Running;

    /// Waits, with `rng`, until the moment to kill `child`.
    fn kill_point(&mut self, ctx: &Ctx, rng: &mut Rng, child: &mut Running);

    /// Asserts that a second opener of `path` is refused now.
    fn probe(&self, ctx: &Ctx, path: &Path);

    /// Where a rewrite or compaction of the file at `path` writes its
    /// temporary file: a kill that leaves it landed mid-rewrite.
    fn temp_path(&self, path: &Path) -> PathBuf;

    /// Reopens the file at `killed.target` (the file itself or a copy)
    /// and checks what it holds, given what the child had acknowledged;
    /// returns the operations the file holds.
    fn verify(&mut self, round: &mut Self::Round, killed: &Killed<'_>) -> u64;
}

/// What [`run`] counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Children killed.
    pub kills: u64,
    /// Lock probes while a child held the file.
    pub probes: u64,
    /// Operations the children acknowledged, in all.
    pub acked_ops: u64,
    /// Kills after which the file held an operation in flight.
    pub in_flight_kept: u64,
    /// Kills that left a temporary file ([`KillTest::temp_path`]): they
    /// landed during a rewrite or compaction.
    pub mid_rewrite: u64,
}

/// Runs `rounds` rounds of `iters` kills each: every kill starts a child
/// on the round's file, kills it where the test says, probing the lock
/// first in one kill out of three (if the child has opened the file), and
/// verifies the file in place or, every other time on average, a copy, so
/// that the next child does the recovery itself.
pub fn run<T: KillTest>(test: &mut T, seed: u64, rounds: u64, iters: u64) -> Tally {
    let mut tally = Tally::default();
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(T::FILE);
        let mut state = T::Round::default();
        let mut count = 0u64;
        for iter in 0..iters {
            let ctx = Ctx {
                seed,
                round,
                iter,
                seed_env: T::SEED_ENV,
                variant: test.variant(iter),
            };
            let mut rng = Rng::new(mix(mix(seed, round), iter));
            let mut child = test.spawn(&ctx, dir.path(), count);
            test.kill_point(&ctx, &mut rng, &mut child);
            if rng.below(3) == 0 && child.has_opened() {
                test.probe(&ctx, &path);
                tally.probes += 1;
            }
            child.kill(&ctx);
            tally.kills += 1;
            tally.mid_rewrite += u64::from(test.temp_path(&path).exists());
            let acked = child.last(&["ACK"]).unwrap_or(count);
            assert!(
                acked >= count,
                "{ctx}: acknowledged {acked} < {count} at start"
            );
            let target = reopen_target(&path, rng.below(2) == 0);
            let killed = Killed {
                ctx: &ctx,
                target: &target,
                child: &child,
                start: count,
                acked,
            };
            let held = test.verify(&mut state, &killed);
            tally.acked_ops += child.count("ACK");
            tally.in_flight_kept += u64::from(held > acked);
            count = held;
        }
    }
    tally
}

/// A whole kill test named `name`: its seed announced (taken from
/// [`KillTest::SEED_ENV`] if set), [`run`], a summary line, and what every
/// kill test demands of a run: at least 200 kills, ten acknowledged
/// operations per kill on average, and at least one kill during a rewrite
/// (or compaction). Returns the tally for the test's own demands.
pub fn run_announced<T: KillTest + fmt::Debug>(
    name: &str,
    test: &mut T,
    rounds: u64,
    iters: u64,
) -> Tally {
    let seed = announced_seed(name, T::SEED_ENV);
    let started = Instant::now();
    let tally = run(test, seed, rounds, iters);
    println!(
        "{name}: {tally:?} {test:?} in {:.1?} (seed {seed})",
        started.elapsed()
    );
    assert!(tally.kills >= 200, "only {} kills", tally.kills);
    assert!(
        tally.acked_ops >= 10 * tally.kills,
        "the children did little work between kills: {tally:?}"
    );
    assert!(
        tally.mid_rewrite > 0,
        "no kill landed during a rewrite or compaction: {tally:?} (seed {seed})"
    );
    tally
}

/// The lock check of a child that holds the file at `path` open: waits
/// until `child` reports `HELD`, has `probe` assert three times that a
/// second opener is refused, checks that the refusals left the file as
/// `baseline` (by default, its bytes once the child held it), and kills the
/// child.
pub fn refused_while_held(
    ctx: &str,
    child: &mut Running,
    path: &Path,
    baseline: Option<Vec<u8>>,
    probe: impl Fn(&dyn fmt::Display, &Path),
) {
    child.expect(&ctx, "HELD", |m| m.tag == "HELD");
    let held = baseline.unwrap_or_else(|| std::fs::read(path).expect("the held file"));
    for _ in 0..3 {
        probe(&ctx, path);
    }
    assert_eq!(
        std::fs::read(path).expect("the held file"),
        held,
        "{ctx}: a refused open changed the file"
    );
    child.kill(&ctx);
}

/// `path` itself if `in_place`, else a copy of it beside it (see
/// [`copy_aside`]).
pub fn reopen_target(path: &Path, in_place: bool) -> PathBuf {
    if in_place {
        path.to_path_buf()
    } else {
        copy_aside(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctx_names_the_seed_to_rerun_and_the_variant() {
        let mut ctx = Ctx {
            seed: 7,
            round: 1,
            iter: 2,
            seed_env: "X_SEED",
            variant: None,
        };
        assert_eq!(
            ctx.to_string(),
            "[seed 7 round 1 iteration 2; rerun with X_SEED=7]"
        );
        ctx.variant = Some(("sync_on_write", true));
        assert_eq!(
            ctx.to_string(),
            "[seed 7 round 1 iteration 2 sync_on_write true; rerun with X_SEED=7]"
        );
        assert_eq!(ctx.round_seed(), mix(7, 1));
    }
}
