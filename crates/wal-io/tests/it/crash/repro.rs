//! Reproducing a crash point with `crash_at`: the replay a failure message
//! asks for (`WAL_CRASH_REPRO`), and the check that it gives what the
//! snapshots of the seeded runs give.

use std::sync::Arc;

use super::checker::run_seed;
use super::{CALLS, options, recover};
use crate::support::{Driver, Model, TMP, WorkloadShape, lock, open_log, workload};
use wal_io::sim::{CrashVariant, SimStorage};

/// The model and the recovery after the workload of `seed` dies at
/// operation `op` (`crash_at`) and the machine crashes with `variant`;
/// with `again`, the recovery itself dies at its operation `j` and the
/// machine crashes with `variant2` before recovering once more.
fn reproduce(
    seed: u64,
    calls: usize,
    op: u64,
    variant: CrashVariant,
    again: Option<(u64, CrashVariant)>,
) -> (Model, Result<Vec<Vec<u8>>, String>, String, bool) {
    let sim = SimStorage::new(seed);
    sim.crash_at(op);
    let opts = options(seed);
    let mut driver = Driver::new(Arc::new(sim.clone()), opts.clone());
    let mut died = "open".to_owned();
    if driver.open().is_ok() && !sim.is_dead() {
        for (i, step) in workload(seed, WorkloadShape::new(calls)).iter().enumerate() {
            died = format!("call #{} {}", i + 1, step.describe());
            let before = lock(&driver.model).clone();
            let result = driver.step(step);
            if sim.is_dead() {
                // The process died during this call, even if the call
                // returned `Ok`: the open ignores a failed probe for a stale
                // temporary file. The hook saw the call in flight, so the
                // model must not count it as completed.
                let mut model = lock(&driver.model);
                *model = before;
                model.begin(step);
                break;
            }
            if result.is_err() {
                break;
            }
        }
    }
    let model = lock(&driver.model).clone();
    drop(driver);
    if !sim.is_dead() {
        died = "nothing (the workload ended first)".to_owned();
    }
    sim.crash(variant);
    if let Some((j, v2)) = again {
        sim.crash_at(sim.ops() + j);
        let _ = open_log(Arc::new(sim.clone()), &opts);
        sim.crash(v2);
    }
    let records = recover(&sim, &opts);
    (model, records, died, sim.read_file(TMP).is_some())
}

/// `WAL_CRASH_REPRO=<seed>,<calls>,<op>,<variant>[,<j>,<variant2>]`: replays one
/// crash point with `crash_at` and prints what recovery returned.
#[test]
fn reproduce_from_env() {
    let Ok(spec) = std::env::var("WAL_CRASH_REPRO") else {
        return;
    };
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let variant = |name: &str| {
        CrashVariant::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .unwrap_or_else(|| panic!("unknown variant {name}"))
    };
    let num = |s: &str| {
        s.parse::<u64>()
            .unwrap_or_else(|_| panic!("not a number: {s}"))
    };
    assert!(
        parts.len() == 4 || parts.len() == 6,
        "bad WAL_CRASH_REPRO {spec}"
    );
    let calls = usize::try_from(num(parts[1])).unwrap_or(CALLS);
    let again = (parts.len() == 6).then(|| (num(parts[4]), variant(parts[5])));
    let (model, result, died, temp_left) = reproduce(
        num(parts[0]),
        calls,
        num(parts[2]),
        variant(parts[3]),
        again,
    );
    eprintln!(
        "died during {died}; model: {} appended, {} synced, rewrite in flight: {:?}",
        model.records.len(),
        model.synced,
        model.rewrite_to.as_ref().map(Vec::len)
    );
    match &result {
        Ok(records) => {
            eprintln!(
                "recovered {} records; temporary file left: {temp_left}",
                records.len()
            );
            assert!(!temp_left, "a stale temporary file survived recovery");
            if again.is_none()
                && let Err(e) = model.check(records)
            {
                panic!("violation: {e}");
            }
        }
        Err(e) => panic!("{e}"),
    }
}

/// The snapshot technique gives what `crash_at` followed by `crash` gives,
/// so the seed, operation and variant of a failure reproduce it.
#[test]
fn crash_at_reproduces_the_snapshots() {
    let (seed, calls) = (3, 300);
    let total = run_seed(seed, calls, 0, &[]).total_ops;
    let mut rng = crate::support::Rng::new(99);
    let mut points: Vec<u64> = (0..40).map(|_| rng.index(total as usize) as u64).collect();
    points.extend([0, 1, 2, 3, 4, 5, total - 1]);
    let run = run_seed(seed, calls, 0, &points);
    assert_eq!(run.total_ops, total, "the workload is deterministic");
    for &op in &points {
        for (i, &v) in CrashVariant::ALL.iter().enumerate() {
            let (model, records, died, _) = reproduce(seed, calls, op, v, None);
            let (snap_model, snap_records) = &run.capture[&(op, i)];
            assert_eq!(
                (&model.records, model.synced, &model.rewrite_to),
                (
                    &snap_model.records,
                    snap_model.synced,
                    &snap_model.rewrite_to
                ),
                "seed {seed} op {op} {v}: the model at death differs (died during {died})"
            );
            assert_eq!(
                &records, snap_records,
                "seed {seed} op {op} {v}: crash_at gives another recovery (died during {died})"
            );
        }
    }
}
