//! The seeded runs: a crash at every operation of 20 seeds' workloads of
//! 2,000 calls, split over four tests, and the optional soak.

use std::fmt::Write as _;
use std::time::Instant;

use super::checker::{Counts, run_seed};
use super::{CALLS, RECRASH_EVERY, SEEDS, SHOWN};
use wal_io::sim::CrashVariant;

/// Runs `seeds` and fails listing every violation found.
fn run_seeds(name: &str, seeds: impl IntoIterator<Item = u64>, calls: usize) {
    let start = Instant::now();
    let mut total = Counts::default();
    let mut violations = Vec::new();
    for seed in seeds {
        let run = run_seed(seed, calls, RECRASH_EVERY, &[]);
        total.add(&run.counts);
        violations.extend(run.violations);
    }
    eprintln!(
        "{name}: {} seeds x {} calls: {} crash points x {} variants = {} images ({} recovered, {} identical to the previous point), {} re-crash images, {} violations, {:.1?}",
        total.seeds,
        calls,
        total.crash_points,
        CrashVariant::ALL.len(),
        total.images,
        total.recovered,
        total.reused,
        total.recrash_images,
        total.violations,
        start.elapsed()
    );
    if total.violations > 0 {
        let mut msg = format!(
            "{} violations in {name}; rerun one with WAL_CRASH_REPRO=<seed>,<calls>,<op>,<variant>\n",
            total.violations
        );
        for v in violations.iter().take(SHOWN) {
            let _ = writeln!(msg, "  {v}");
        }
        panic!("{msg}");
    }
}

#[test]
fn seeds_00_to_04() {
    run_seeds("seeds 0..5", 0..5, CALLS);
}

#[test]
fn seeds_05_to_09() {
    run_seeds("seeds 5..10", 5..10, CALLS);
}

#[test]
fn seeds_10_to_14() {
    run_seeds("seeds 10..15", 10..15, CALLS);
}

#[test]
fn seeds_15_to_19() {
    run_seeds("seeds 15..20", 15..SEEDS, CALLS);
}

/// `WAL_SOAK_SEEDS=<n>`: `n` more seeds of 5,000 calls, on every core.
#[test]
fn soak() {
    let Some(n) = std::env::var("WAL_SOAK_SEEDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let threads = std::thread::available_parallelism().map_or(2, |t| t.get() as u64);
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let seeds = (1000 + t..1000 + n).step_by(usize::try_from(threads).unwrap_or(1));
                run_seeds(&format!("soak thread {t}"), seeds, 5000);
            });
        }
    });
}
