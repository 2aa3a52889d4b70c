//! The per-seed harness: a storage hook that, before every operation of a
//! seed's workload, recovers the image each crash variant leaves (and, at
//! chosen points, crashes again during and after that recovery), and checks
//! every result against the model.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{SHOWN, options, recover};
use crate::support::{
    Driver, Hook, Hooked, Model, OpInfo, TMP, WorkloadShape, lock, mutates, open_log, workload,
};
use wal_io::sim::{CrashVariant, OpKind, SimStorage};
use wal_io::{Storage, WalOptions};

fn variant_index(v: CrashVariant) -> usize {
    CrashVariant::ALL.iter().position(|&x| x == v).unwrap_or(0)
}

/// What recovering one crash image gave.
#[derive(Debug, Clone)]
struct Outcome {
    /// The first recovery's records, or why it failed.
    records: Result<Vec<Vec<u8>>, String>,
    /// Broken promises that do not depend on the model: a temporary file
    /// left behind, a crash during or after recovery changing the result.
    problems: Vec<String>,
    /// Images recovered for the re-crash checks.
    recrash_images: u64,
}

/// Recovers the crash image `variant` of `snap`; with `recrash`, also
/// crashes at every operation of that recovery (then recovers again) and
/// at every operation of a later recovery.
fn recover_image(
    snap: &SimStorage,
    variant: CrashVariant,
    opts: &WalOptions,
    recrash: bool,
    rotate: usize,
) -> Outcome {
    let img = snap.snapshot();
    img.crash(variant);
    let before = img.snapshot();
    let ops0 = img.ops();
    let mut out = Outcome {
        records: recover(&img, opts),
        problems: Vec::new(),
        recrash_images: 0,
    };
    if out.records.is_err() {
        return out;
    }
    if let Some(tmp) = img.read_file(TMP) {
        out.problems.push(format!(
            "stale temporary file left after recovery ({} B, starting {:02x?})",
            tmp.len(),
            &tmp[..tmp.len().min(12)]
        ));
    }
    if !recrash {
        return out;
    }
    // A crash at each operation of this first recovery.
    let first = ops0..img.ops();
    out.crash_each_op(&before, first, rotate, opts, "the first recovery");
    // A crash at each operation of a later recovery.
    let after = img.snapshot();
    let l0 = after.ops();
    if recover(&after, opts).is_err() {
        out.problems
            .push("a second recovery after a completed one failed".to_owned());
        return out;
    }
    let later = l0..after.ops();
    out.crash_each_op(&img, later, rotate + 3, opts, "a later recovery");
    out
}

impl Outcome {
    /// Crashes a snapshot of `base` at each operation in `ops` of a
    /// recovery (`what`), with crash variants rotated by `rotate`; a
    /// problem unless the recovery after it returns the records of the
    /// first recovery (which that recovery would have returned, or did).
    fn crash_each_op(
        &mut self,
        base: &SimStorage,
        ops: std::ops::Range<u64>,
        rotate: usize,
        opts: &WalOptions,
        what: &str,
    ) {
        let Ok(want) = &self.records else {
            return;
        };
        for (j, op) in ops.enumerate() {
            let d = base.snapshot();
            d.crash_at(op);
            // The open fails, or succeeds when the dead operation's error
            // is ignored (a probe for a stale temporary file): either way
            // the process dies here.
            let _ = open_log(Arc::new(d.clone()), opts);
            let v = CrashVariant::ALL[(rotate + j) % CrashVariant::ALL.len()];
            d.crash(v);
            self.recrash_images += 1;
            match recover(&d, opts) {
                Ok(k) if k == *want => {}
                Ok(k) => self.problems.push(format!(
                    "crash at op {j} of {what} ({v}): {} records, that recovery returns {}",
                    k.len(),
                    want.len()
                )),
                Err(e) => self
                    .problems
                    .push(format!("crash at op {j} of {what} ({v}): {e}")),
            }
        }
    }
}

/// Outcomes of chosen crash points, by operation and variant index: the
/// model at the crash and what recovery returned.
pub type Captured = BTreeMap<(u64, usize), (Model, Result<Vec<Vec<u8>>, String>)>;

/// Counts of what a run checked.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub seeds: u64,
    pub calls: u64,
    pub crash_points: u64,
    pub images: u64,
    pub recovered: u64,
    pub reused: u64,
    pub recrash_images: u64,
    pub violations: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.seeds += o.seeds;
        self.calls += o.calls;
        self.crash_points += o.crash_points;
        self.images += o.images;
        self.recovered += o.recovered;
        self.reused += o.reused;
        self.recrash_images += o.recrash_images;
        self.violations += o.violations;
    }
}

struct CheckerState {
    /// Mutating operations run so far: the crash image of two operations
    /// with no mutation between them is the same (same state, same seeded
    /// randomness), so its recoveries are reused.
    mutations: u64,
    cache: Option<(u64, Vec<Outcome>)>,
    call: usize,
    step: String,
    counts: Counts,
    violations: Vec<String>,
    /// Outcomes kept for `crash_at_reproduces_the_snapshots`.
    capture: Captured,
    capture_points: Vec<u64>,
}

/// The per-seed harness behind the storage hook.
struct Checker {
    seed: u64,
    calls: usize,
    opts: WalOptions,
    sim: SimStorage,
    model: Arc<Mutex<Model>>,
    /// Run the re-crash checks at one crash point in this many.
    recrash_every: u64,
    state: Mutex<CheckerState>,
}

impl Checker {
    fn new(seed: u64, calls: usize, sim: SimStorage, recrash_every: u64) -> Self {
        Self {
            seed,
            calls,
            opts: options(seed),
            sim,
            model: Arc::new(Mutex::new(Model::default())),
            recrash_every,
            state: Mutex::new(CheckerState {
                mutations: 0,
                cache: None,
                call: 0,
                step: "open".to_owned(),
                counts: Counts::default(),
                violations: Vec::new(),
                capture: BTreeMap::new(),
                capture_points: Vec::new(),
            }),
        }
    }

    fn set_call(&self, call: usize, step: String) {
        let mut st = lock(&self.state);
        st.call = call;
        st.step = step;
    }

    fn violation(&self, st: &mut CheckerState, msg: String) {
        st.counts.violations += 1;
        if st.violations.len() < SHOWN {
            st.violations.push(msg);
        }
    }

    /// The crash point before operation `info`.
    fn at(&self, info: &OpInfo) {
        let mut st = lock(&self.state);
        let n = info.index;
        st.counts.crash_points += 1;
        st.counts.images += CrashVariant::ALL.len() as u64;
        let fresh = !matches!(&st.cache, Some((k, _)) if *k == st.mutations);
        if fresh {
            let snap = self.sim.snapshot();
            let recrash = self.recrash_every > 0 && n.is_multiple_of(self.recrash_every);
            let rotate = usize::try_from(n).unwrap_or(0);
            let outcomes: Vec<Outcome> = CrashVariant::ALL
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let chosen = recrash && (rotate + i) % CrashVariant::ALL.len() == 0;
                    recover_image(&snap, v, &self.opts, chosen, rotate)
                })
                .collect();
            st.counts.recovered += CrashVariant::ALL.len() as u64;
            st.cache = Some((st.mutations, outcomes));
        } else {
            st.counts.reused += CrashVariant::ALL.len() as u64;
        }
        let cache = st.cache.take();
        let outcomes = cache.as_ref().map_or(&[][..], |(_, o)| o.as_slice());
        let model = lock(&self.model);
        let whence = format!(
            "seed {} (calls {}), crash at op {n} ({:?} {}) during call #{} {}",
            self.seed,
            self.calls,
            info.op,
            info.path.display(),
            st.call,
            st.step
        );
        for (v, o) in CrashVariant::ALL.iter().zip(outcomes) {
            st.counts.recrash_images += if fresh { o.recrash_images } else { 0 };
            let verdict = match &o.records {
                Ok(records) => model.check(records),
                Err(e) if fresh => Err(e.clone()),
                Err(_) => Ok(()),
            };
            if let Err(e) = verdict {
                let msg = format!("{whence}, variant {v}: {e}");
                self.violation(&mut st, msg);
            }
            if fresh {
                for p in &o.problems {
                    let msg = format!("{whence}, variant {v}: {p}");
                    self.violation(&mut st, msg);
                }
            }
            if st.capture_points.contains(&n) {
                let entry = (model.clone(), o.records.clone());
                st.capture.insert((n, variant_index(*v)), entry);
            }
        }
        drop(model);
        st.cache = cache;
        if mutates(info.op) {
            st.mutations += 1;
        }
    }
}

/// What a seed's run found.
pub struct SeedRun {
    pub counts: Counts,
    pub violations: Vec<String>,
    pub capture: Captured,
    pub total_ops: u64,
}

/// Runs the workload of `seed` once, checking every crash point.
pub fn run_seed(seed: u64, calls: usize, recrash_every: u64, capture_points: &[u64]) -> SeedRun {
    let sim = SimStorage::new(seed);
    let checker = Arc::new(Checker::new(seed, calls, sim.clone(), recrash_every));
    lock(&checker.state).capture_points = capture_points.to_vec();
    let hook: Hook = {
        let checker = checker.clone();
        Arc::new(move |info: &OpInfo| checker.at(info))
    };
    let storage: Arc<dyn Storage> = Arc::new(Hooked::new(sim.clone(), hook));
    let mut driver = Driver::new(storage, checker.opts.clone());
    driver.model = checker.model.clone();
    let steps = workload(seed, WorkloadShape::new(calls));
    let mut stopped = driver.open().err().map(|e| format!("open: {e}"));
    for (i, step) in steps.iter().enumerate() {
        if stopped.is_some() {
            break;
        }
        checker.set_call(i + 1, step.describe());
        if let Err(e) = driver.step(step) {
            stopped = Some(format!("call #{} {}: {e}", i + 1, step.describe()));
        }
    }
    drop(driver);
    // The crash point after the last operation.
    checker.set_call(calls + 1, "(end)".to_owned());
    checker.at(&OpInfo {
        index: sim.ops(),
        op: OpKind::Read,
        path: Path::new("(end)").to_path_buf(),
    });
    let mut st = lock(&checker.state);
    if let Some(e) = stopped {
        st.counts.violations += 1;
        let msg = format!("seed {seed}: the uncrashed workload failed at {e}");
        st.violations.insert(0, msg);
    }
    st.counts.seeds = 1;
    st.counts.calls = calls as u64;
    SeedRun {
        counts: st.counts,
        violations: std::mem::take(&mut st.violations),
        capture: std::mem::take(&mut st.capture),
        total_ops: sim.ops(),
    }
}
