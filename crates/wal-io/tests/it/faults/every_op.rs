//! Every fault kind, once and persistent, at every storage operation of
//! seeded workloads: what the failing call, the log, its images and every
//! reopen must show.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{CALLS, Tally, options, shape};
use crate::support::{
    Driver, Hook, Hooked, LOCK, LOG, OpInfo, Step, StepError, TMP, lock, open_log,
    partial_then_valid, workload,
};
use wal_io::sim::{CrashVariant, Fault, FaultKind, OpKind, SimStorage};
use wal_io::{Storage, Wal, WalError};

/// Whether `fault` fails operation `index` of kind `op` (the simulation's
/// rule; lock files and extending `set_len` do not occur after the first
/// open).
fn fires(fault: &Fault, index: u64, op: OpKind) -> bool {
    index == fault.at_op
        || (fault.persistent
            && index > fault.at_op
            && match fault.kind {
                FaultKind::Eio | FaultKind::ShortWriteEio => true,
                FaultKind::Enospc | FaultKind::ShortWriteEnospc => {
                    matches!(op, OpKind::CreateNew | OpKind::Write | OpKind::Allocate)
                }
                FaultKind::FsyncEio => matches!(op, OpKind::SyncData | OpKind::SyncDir),
            })
}

/// Whether a log file reads as `bytes` bytes of log, then nothing but the
/// zeros of preallocated space.
fn holds_exactly(file: Option<Vec<u8>>, bytes: u64) -> bool {
    let Some(file) = file else {
        return false;
    };
    let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    file.len() >= bytes && file[bytes..].iter().all(|&b| b == 0)
}

/// Every later write must be refused as `Poisoned`, touching no storage.
fn check_poisoned(wal: &mut Wal, sim: &SimStorage) -> Result<(), String> {
    if wal.poisoned().is_none() {
        return Err("the failed call did not poison the log".to_owned());
    }
    let ops = sim.ops();
    let results: [(&str, Result<(), WalError>); 6] = [
        ("append", wal.append(b"after").map(|_| ())),
        (
            "append_many",
            wal.append_many([&b"a"[..], b"b"]).map(|_| ()),
        ),
        ("batch", wal.batch().map(|_| ())),
        ("sync", wal.sync()),
        ("flush", wal.flush()),
        ("rewrite", wal.rewrite(|w| w.push(b"new")).map(|_| ())),
    ];
    for (name, r) in results {
        match r {
            Err(WalError::Poisoned { .. }) => {}
            other => return Err(format!("{name} after the failure gave {other:?}")),
        }
    }
    if sim.ops() != ops {
        return Err(format!(
            "refused writes ran {} storage operations",
            sim.ops() - ops
        ));
    }
    Ok(())
}

/// Runs the workload of `seed` with `fault` injected until a call fails,
/// then checks everything the failure promises. Stops after the reopens.
fn run_faulted(seed: u64, steps: &[Step], fault: Fault, t: &mut Tally) {
    t.runs += 1;
    let opts = options(seed);
    let sim = SimStorage::new(seed);
    sim.inject(fault);
    let oplog: Arc<Mutex<Vec<OpInfo>>> = Arc::default();
    let hook: Hook = {
        let oplog = oplog.clone();
        Arc::new(move |info: &OpInfo| lock(&oplog).push(info.clone()))
    };
    let storage: Arc<dyn Storage> = Arc::new(Hooked::new(sim.clone(), hook));
    let mut driver = Driver::new(storage, opts.clone());
    let whence = |call: usize, what: &str| {
        format!(
            "seed {seed}, {:?} {} at op {}, call #{call} {what}",
            fault.kind,
            if fault.persistent {
                "persistent"
            } else {
                "once"
            },
            fault.at_op
        )
    };
    let mut failed = None;
    for call in 0..=steps.len() {
        let step = if call == 0 {
            &Step::Reopen
        } else {
            &steps[call - 1]
        };
        let what = if call == 0 {
            "open".to_owned()
        } else {
            step.describe()
        };
        let first_op = lock(&oplog).len();
        let before = if let Step::Rewrite { .. } = step {
            (sim.read_file(LOG), sim.durable_file(LOG))
        } else {
            (None, None)
        };
        let result = if call == 0 {
            driver.open()
        } else {
            driver.step(step)
        };
        let ops: Vec<OpInfo> = lock(&oplog)[first_op..].to_vec();
        let failing = ops.iter().find(|o| fires(&fault, o.index, o.op)).cloned();
        match (result, failing) {
            (Ok(()), None) => {}
            (Ok(()), Some(o)) => {
                if (o.op == OpKind::FileExists && o.path == Path::new(TMP))
                    || (o.op != OpKind::Lock && o.path == Path::new(LOCK))
                {
                    // A probe for a stale temporary file, or reading or
                    // writing the sidecar's claim (best effort: a claim that
                    // cannot be read or written only weakens a later
                    // check); its failure is ignored, which is harmless.
                    t.swallowed += 1;
                } else if o.op == OpKind::Allocate
                    && matches!(fault.kind, FaultKind::Enospc | FaultKind::ShortWriteEnospc)
                {
                    // No room for a chunk of preallocated zeros: the bytes
                    // were written without them (the reopens below check
                    // that the call's records are there).
                    t.swallowed += 1;
                } else if o.op == OpKind::Write
                    && !fault.persistent
                    && opts.append_buffer > 0
                    && matches!(fault.kind, FaultKind::Enospc | FaultKind::ShortWriteEnospc)
                {
                    // The append buffer met a full disk once: it was cut
                    // back, then written in parts that fit (the reopens
                    // below check that its records are there).
                    t.swallowed += 1;
                } else {
                    t.violation(format!(
                        "{}: the fault hit op {} ({:?} {}) but the call succeeded",
                        whence(call, &what),
                        o.index,
                        o.op,
                        o.path.display()
                    ));
                    return;
                }
            }
            (Err(StepError::Check(e)), _) => {
                t.violation(format!("{}: {e}", whence(call, &what)));
                return;
            }
            (Err(StepError::Wal(e)), None) => {
                t.violation(format!(
                    "{}: failed without a fault: {e}",
                    whence(call, &what)
                ));
                return;
            }
            (Err(StepError::Wal(e)), Some(o)) => {
                failed = Some((call, what, step.clone(), e, o, ops, before));
                break;
            }
        }
    }
    let Some((call, what, step, err, failing, ops, before)) = failed else {
        t.not_reached += 1;
        return;
    };
    t.failed_calls += 1;
    let here = format!(
        "{} failing at op {} ({:?} {}) with {err}",
        whence(call, &what),
        failing.index,
        failing.op,
        failing.path.display()
    );
    let model = lock(&driver.model).clone();

    // Later writes are refused, unless the failure left the log exactly
    // as it was: a rewrite that failed before its rename, or a write that
    // found the disk full and was cut back.
    let renamed_before = ops
        .iter()
        .any(|o| o.op == OpKind::Rename && o.index < failing.index);
    if let Some(wal) = driver.wal.as_mut() {
        let full = matches!(fault.kind, FaultKind::Enospc | FaultKind::ShortWriteEnospc)
            && matches!(failing.op, OpKind::Write | OpKind::Allocate)
            && failing.path == Path::new(LOG);
        let recoverable = (matches!(step, Step::Rewrite { .. }) && !renamed_before) || full;
        if wal.poisoned().is_none() {
            if !recoverable {
                t.violation(format!("{here}: the log is not poisoned"));
            } else if !holds_exactly(
                sim.read_file(LOG),
                wal.stats().bytes - wal.stats().buffered_bytes,
            ) {
                t.violation(format!(
                    "{here}: the log stayed usable but the file is not the length it reports (or that, then preallocated zeros)"
                ));
            } else {
                t.usable += 1;
            }
        } else if let Err(e) = check_poisoned(wal, &sim) {
            t.violation(format!("{here}: {e}"));
        }
    } else {
        t.in_open += 1;
    }

    // A failed rewrite leaves the log as it was, unless it renamed.
    if let Step::Rewrite { .. } = step {
        t.in_rewrite += 1;
        let renamed = ops
            .iter()
            .any(|o| o.op == OpKind::Rename && o.index < failing.index);
        if renamed {
            t.after_rename += 1;
        } else if (sim.read_file(LOG), sim.durable_file(LOG)) != before {
            t.violation(format!(
                "{here}: the failed rewrite changed the log before renaming"
            ));
        }
    }

    // No image holds a partial record followed by a valid one.
    for (name, image) in [
        ("visible", sim.read_file(LOG)),
        ("durable", sim.durable_file(LOG)),
    ] {
        if let Some(problem) = image.as_deref().and_then(partial_then_valid) {
            t.violation(format!("{here}: the {name} image: {problem}"));
        }
    }

    // Reopen: with a persistent fault still active (may fail, must not lie),
    // then with faults cleared, directly and after every crash variant.
    driver.wal = None;
    let state = sim.snapshot();
    if fault.persistent {
        let s = state.snapshot();
        if let Ok((wal, replayed, _)) = open_log(Arc::new(s.clone()), &opts) {
            drop(wal);
            t.reopens += 1;
            if let Err(e) = model.check(&replayed.payloads) {
                t.violation(format!("{here}: reopen with the fault active: {e}"));
            }
        }
    }
    let direct = t.reopen(&state, None, &opts, &model, &here);
    for (name, image) in [
        ("visible", direct.read_file(LOG)),
        ("durable", direct.durable_file(LOG)),
    ] {
        if let Some(problem) = image.as_deref().and_then(partial_then_valid) {
            t.violation(format!(
                "{here}: after reopening, the {name} image: {problem}"
            ));
        }
    }
    for v in CrashVariant::ALL {
        t.reopen(&state, Some(v), &opts, &model, &here);
    }
}

/// Runs every fault kind, once and persistent, at every operation of the
/// workloads of `seeds`.
fn run_seeds(name: &str, seeds: std::ops::Range<u64>) {
    let start = Instant::now();
    let mut t = Tally::default();
    let mut points = 0;
    for seed in seeds.clone() {
        let steps = workload(seed, shape());
        // The number of operations of the unfaulted workload.
        let sim = SimStorage::new(seed);
        let mut driver = Driver::new(Arc::new(sim.clone()), options(seed));
        driver.open().unwrap();
        for step in &steps {
            driver.step(step).unwrap();
        }
        drop(driver);
        let total = sim.ops();
        points += total;
        for at_op in 0..total {
            for kind in FaultKind::ALL {
                for fault in [Fault::once(at_op, kind), Fault::persistent(at_op, kind)] {
                    run_faulted(seed, &steps, fault, &mut t);
                }
            }
        }
    }
    eprintln!(
        "{name}: {} seeds x {CALLS} calls, {points} operations x {} kinds x once/persistent = {} faulted runs: {} failed calls ({} in opens, {} in rewrites, {} of them after the rename), {} left the log usable, {} ignored probe failures, {} faults never hit, {} reopens checked, {} violations, {:.1?}",
        seeds.end - seeds.start,
        FaultKind::ALL.len(),
        t.runs,
        t.failed_calls,
        t.in_open,
        t.in_rewrite,
        t.after_rename,
        t.usable,
        t.swallowed,
        t.not_reached,
        t.reopens,
        t.violations,
        start.elapsed()
    );
    if t.violations > 0 {
        let mut msg = format!("{} violations in {name}:\n", t.violations);
        for m in &t.messages {
            let _ = writeln!(msg, "  {m}");
        }
        panic!("{msg}");
    }
    assert!(t.in_rewrite > 0 && t.after_rename > 0 && t.in_open > 0);
}

#[test]
fn faults_at_every_operation_seeds_0_to_2() {
    run_seeds("seeds 0..3", 0..3);
}

#[test]
fn faults_at_every_operation_seeds_3_to_5() {
    run_seeds("seeds 3..6", 3..6);
}

#[test]
fn faults_at_every_operation_seeds_6_to_8() {
    run_seeds("seeds 6..9", 6..9);
}
