//! The main kill test: writers killed at random points (anywhere, after
//! acknowledgements, as a large batch starts, during rewrites), each log
//! going through dozens of kills and recoveries.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::parent::{assert_refused, spawn, verify};
use super::{LOG_NAME, PROTOCOL, SEED_ENV, tmp_path};
use test_support::child::{Running, nth};
use test_support::kill::{self, Ctx, KillTest, Killed};
use test_support::rng::Rng;

/// Logs per run of the main test, each a fresh file.
const ROUNDS: u64 = 12;
/// Kills per log.
const ITERS: u64 = 20;

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
