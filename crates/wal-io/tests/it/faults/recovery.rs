//! Faults at every operation of recoveries of crash images: the open fails
//! or returns what the oracle allows, and later reopens satisfy it.

use std::sync::Arc;
use std::time::Instant;

use super::{Tally, options, shape};
use crate::support::{Driver, Model, Step, lock, open_log, workload};
use wal_io::sim::{CrashVariant, Fault, FaultKind, SimStorage};

/// The image a power loss of kind `variant` leaves when the workload of
/// `seed` dies at operation `op`, and the model at that moment.
fn crashed(seed: u64, steps: &[Step], op: u64, variant: CrashVariant) -> (SimStorage, Model) {
    let sim = SimStorage::new(seed);
    sim.crash_at(op);
    let mut driver = Driver::new(Arc::new(sim.clone()), options(seed));
    if driver.open().is_ok() {
        for step in steps {
            if driver.step(step).is_err() {
                break;
            }
        }
    }
    let model = lock(&driver.model).clone();
    drop(driver);
    sim.crash(variant);
    (sim, model)
}

/// Faults at every operation of recoveries that truncate torn tails and
/// remove stale temporary files: the open fails or returns what the oracle
/// allows; reopening afterwards, directly or after a crash, satisfies it.
#[test]
fn faults_during_recovery_of_crash_images() {
    let start = Instant::now();
    let mut t = Tally::default();
    let mut images = 0;
    let mut truncating = 0;
    for seed in 20..24 {
        let opts = options(seed);
        let steps = workload(seed, shape());
        let total = {
            let sim = SimStorage::new(seed);
            let mut driver = Driver::new(Arc::new(sim.clone()), opts.clone());
            driver.open().unwrap();
            steps.iter().for_each(|s| driver.step(s).unwrap());
            sim.ops()
        };
        let mut rng = crate::support::Rng::new(seed);
        for _ in 0..12 {
            let op = rng.index(usize::try_from(total).unwrap_or(0)) as u64;
            for v in CrashVariant::ALL {
                let (image, model) = crashed(seed, &steps, op, v);
                let probe = image.snapshot();
                let o0 = probe.ops();
                let Ok((_, _, report)) = open_log(Arc::new(probe.clone()), &opts) else {
                    continue;
                };
                images += 1;
                truncating +=
                    u64::from(report.truncated.is_some() || report.removed_temp.is_some());
                let recovery_ops = probe.ops() - o0;
                for j in 0..recovery_ops {
                    for kind in FaultKind::ALL {
                        t.runs += 1;
                        let here = format!(
                            "seed {seed}, crash at op {op} ({v}), {kind:?} at op {j} of the recovery"
                        );
                        let s = image.snapshot();
                        s.inject(Fault::once(s.ops() + j, kind));
                        match open_log(Arc::new(s.clone()), &opts) {
                            Ok((wal, replayed, _)) => {
                                drop(wal);
                                if let Err(e) = model.check(&replayed.payloads) {
                                    t.violation(format!("{here}: {e}"));
                                }
                            }
                            Err(_) => t.failed_calls += 1,
                        }
                        let state = s.snapshot();
                        t.reopen(&state, None, &opts, &model, &here);
                        let v2 = CrashVariant::ALL[usize::try_from(j).unwrap_or(0) % 7];
                        t.reopen(&state, Some(v2), &opts, &model, &here);
                    }
                }
            }
        }
    }
    eprintln!(
        "recovery faults: {images} crash images ({truncating} truncating or removing a temporary file), {} faulted recoveries ({} failed), {} reopens checked, {} violations, {:.1?}",
        t.runs,
        t.failed_calls,
        t.reopens,
        t.violations,
        start.elapsed()
    );
    assert!(
        t.violations == 0,
        "{} violations:\n{}",
        t.violations,
        t.messages.join("\n")
    );
}
