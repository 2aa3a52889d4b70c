//! Crash at every storage operation of seeded workloads, in every crash variant, then recover: the records replayed are always the first k appended, for some synced <= k <= appended (or exactly a rewrite's new list), and crashing again during or after recovery loses nothing a completed recovery returned.
//!
//! One run per seed: a hook before every storage operation snapshots the
//! simulation (the state a crash at that operation leaves) and recovers
//! each crash variant's image. That is what `SimStorage::crash_at` followed
//! by `crash` would produce (`crash_at_reproduces_the_snapshots` checks
//! it), so every failure names a seed, an operation index and a variant to
//! rerun with `WAL_CRASH_REPRO=<seed>,<calls>,<op>,<variant>[,<j>,<variant2>]`
//! (`cargo test -p wal-io --test it crash::reproduce_from_env -- --nocapture`).
//!
//! `WAL_SOAK_SEEDS=<n>` adds `n` seeds of 5,000 calls each.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::support::{
    Driver, Hook, Hooked, LOG, Model, OpInfo, TMP, WorkloadShape, check_open, lock, mutates,
    open_log, workload,
};
use wal_io::sim::{CrashVariant, OpKind, SimStorage};
use wal_io::{RecoveryReport, Storage, TruncationReason, Wal, WalOptions};

/// Calls per seed in the default run.
const CALLS: usize = 2000;
/// Seeds in the default run (split over the `seeds_*` tests).
const SEEDS: u64 = 20;
/// The re-crash checks (a crash at every operation of the first recovery
/// and of a later one) run for one variant, rotating, at every crash point
/// whose number is a multiple of this.
const RECRASH_EVERY: u64 = 1;
/// Violations printed in full.
const SHOWN: usize = 12;

/// The options of seed `seed`: small buffers for some seeds, so rewrites
/// take several writes and replays several reads; half the seeds
/// preallocate the log in small chunks (so that crashes land before,
/// during and after allocations), and one in four gathers appends in a
/// small append buffer.
fn options(seed: u64) -> WalOptions {
    WalOptions {
        buf_capacity: if seed.is_multiple_of(3) {
            4096
        } else {
            64 << 10
        },
        preallocate: (seed % 2 == 1).then_some(1024),
        append_buffer: if seed % 4 == 2 { 600 } else { 0 },
        ..WalOptions::default()
    }
}

fn variant_index(v: CrashVariant) -> usize {
    CrashVariant::ALL.iter().position(|&x| x == v).unwrap_or(0)
}

/// Opens the log on `sim` and returns its payloads; any failure of the open
/// or of its report is an error.
fn recover(sim: &SimStorage, opts: &WalOptions) -> Result<Vec<Vec<u8>>, String> {
    let (wal, replayed, report) = open_log(Arc::new(sim.clone()), opts)
        .map_err(|e| format!("recovery failed: {e} ({e:?})"))?;
    check_open(&wal, &replayed, &report)?;
    if let Some(t) = &report.truncated
        && t.reason != TruncationReason::TornTail
    {
        return Err(format!("strict recovery reported {t:?}"));
    }
    drop(wal);
    Ok(replayed.payloads)
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
type Captured = BTreeMap<(u64, usize), (Model, Result<Vec<Vec<u8>>, String>)>;

/// Counts of what a run checked.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    seeds: u64,
    calls: u64,
    crash_points: u64,
    images: u64,
    recovered: u64,
    reused: u64,
    recrash_images: u64,
    violations: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
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
struct SeedRun {
    counts: Counts,
    violations: Vec<String>,
    capture: Captured,
    total_ops: u64,
}

/// Runs the workload of `seed` once, checking every crash point.
fn run_seed(seed: u64, calls: usize, recrash_every: u64, capture_points: &[u64]) -> SeedRun {
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

/// A stale temporary file of an interrupted rewrite is removed on open if
/// it is recognisably ours (empty, starting with the log magic's first byte,
/// or zeros); any other file of that name is renamed aside, bytes intact,
/// so it can never block the log.
#[test]
fn stale_temp_file_is_removed_and_foreign_one_left_alone() {
    let opts = WalOptions::default();
    let magic = wal_format::MAGIC;
    let header = wal_format::FileHeader::new(&opts.app_tag, 0, 7).encode();
    let mut with_records = header.to_vec();
    wal_format::encode_record(&mut with_records, 7, 7, b"partial", 1 << 20).unwrap();
    with_records.truncate(with_records.len() - 3);
    let ours: [&[u8]; 6] = [b"", &magic[..3], &magic, &header, &with_records, &[0; 700]];
    for (i, tmp) in ours.iter().enumerate() {
        let (sim, wal, report) =
            reopen_beside_stale_temp(i as u64, tmp, &opts, &format!("case {i}"));
        assert_eq!(
            report.removed_temp.as_deref(),
            Some(Path::new(TMP)),
            "case {i}"
        );
        assert_eq!(sim.read_file(TMP), None, "case {i}: removed");
        assert_eq!(sim.durable_file(TMP), None, "case {i}: durably removed");
        rewrite_and_reopen(&sim, wal, &opts, &format!("case {i}"));
    }
    let foreign: [&[u8]; 3] = [b"my notes", b"\0\0\0not zeros", &[b'W'; 600]];
    let aside = format!("{TMP}.unrecognized");
    for (i, tmp) in foreign.iter().enumerate() {
        let case = format!("foreign {i}");
        let (sim, wal, report) = reopen_beside_stale_temp(i as u64, tmp, &opts, &case);
        assert_eq!(report.removed_temp, None, "foreign {i}");
        assert_eq!(
            report.set_aside_temp.as_deref(),
            Some(Path::new(&aside)),
            "foreign {i}"
        );
        assert_eq!(sim.read_file(TMP), None, "foreign {i}: moved away");
        assert_eq!(
            sim.durable_file(&aside).as_deref(),
            Some(*tmp),
            "foreign {i}: bytes kept"
        );
        rewrite_and_reopen(&sim, wal, &opts, &case);
        assert_eq!(sim.read_file(&aside).as_deref(), Some(*tmp), "foreign {i}");
    }
}

/// A log on a new simulation (`seed`) holding the record "kept", closed,
/// then `tmp` written as a stale temporary file beside it, and the log
/// reopened: the simulation, the log and the open's report. Asserts that
/// the open replayed just "kept".
fn reopen_beside_stale_temp(
    seed: u64,
    tmp: &[u8],
    opts: &WalOptions,
    case: &str,
) -> (SimStorage, Wal, RecoveryReport) {
    let sim = SimStorage::new(seed);
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), opts).unwrap();
    wal.append(b"kept").unwrap();
    drop(wal);
    sim.write_file(TMP, tmp).unwrap();
    let (wal, replayed, report) = open_log(Arc::new(sim.clone()), opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"kept".to_vec()], "{case}");
    (sim, wal, report)
}

/// Rewrites `wal` to hold just "new", closes it, and asserts that a reopen
/// replays just that: the temporary file no longer blocks a rewrite.
fn rewrite_and_reopen(sim: &SimStorage, mut wal: Wal, opts: &WalOptions, case: &str) {
    wal.rewrite(|w| w.push(b"new")).unwrap();
    drop(wal);
    let (_, replayed, _) = open_log(Arc::new(sim.clone()), opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"new".to_vec()], "{case}");
}

/// The simulation just before the first operation `pred` accepts, while
/// `run` works on storage that observes it; with that operation's index.
fn state_before(
    seed: u64,
    pred: impl FnMut(&OpInfo) -> bool + Send + 'static,
    run: impl FnOnce(Arc<dyn Storage>),
) -> (u64, SimStorage) {
    let sim = SimStorage::new(seed);
    let found: Arc<Mutex<Option<(u64, SimStorage)>>> = Arc::default();
    let hook: Hook = {
        let (sim, found) = (sim.clone(), found.clone());
        let pred = Mutex::new(pred);
        Arc::new(move |info: &OpInfo| {
            let mut found = lock(&found);
            if found.is_none() && (lock(&pred))(info) {
                *found = Some((info.index, sim.snapshot()));
            }
        })
    };
    run(Arc::new(Hooked::new(sim, hook)));
    let found = lock(&found).take();
    found.expect("the operation was reached")
}

/// Accepts the `sync_data` of the temporary file created `nth` (from 0).
/// (New logs are created through the temporary file too.)
fn temp_sync(nth: usize) -> impl FnMut(&OpInfo) -> bool + Send + 'static {
    let mut created = 0;
    move |info| {
        if info.op == OpKind::CreateNew && info.path == Path::new(TMP) {
            created += 1;
        }
        info.op == OpKind::SyncData && created == nth + 1
    }
}

/// A power loss while a rewrite's temporary file is unsynced, tearing its
/// first write at byte 0 and filling the sector with garbage, must not leave
/// a file that blocks every later rewrite.
#[test]
fn garbage_torn_temp_of_an_interrupted_rewrite_is_not_left_behind() {
    let opts = WalOptions::default();
    let mut failures = Vec::new();
    for seed in 0..512 {
        let (op, snap) = state_before(seed, temp_sync(1), |storage| {
            let (mut wal, _, _) = crate::support::open_at(storage, Path::new(LOG), &opts).unwrap();
            wal.append(b"synced").unwrap();
            wal.sync().unwrap();
            wal.rewrite(|_| Ok(())).unwrap();
        });
        snap.crash(CrashVariant::TornSectorGarbage);
        let tmp = snap.read_file(TMP);
        let (mut wal, replayed, _) = open_log(Arc::new(snap.clone()), &opts).unwrap();
        assert_eq!(replayed.payloads, vec![b"synced".to_vec()], "seed {seed}");
        drop(replayed);
        if let Err(e) = wal.rewrite(|w| w.push(b"compacted")) {
            failures.push(format!(
                "seed {seed}, crash at op {op} ({TMP} sync_data), torn-sector-garbage: the temporary file ({:?} B, starting {:02x?}) survives the open and the next rewrite fails: {e}",
                tmp.as_ref().map(Vec::len),
                tmp.as_ref().map(|t| &t[..t.len().min(8)])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same tear during the creation of a new log (its header goes through
/// the temporary file) must not make the next open fail.
#[test]
fn garbage_torn_temp_of_an_interrupted_creation_does_not_brick_the_open() {
    let opts = WalOptions::default();
    let mut failures = Vec::new();
    for seed in 0..512 {
        let (op, snap) = state_before(seed, temp_sync(0), |storage| {
            drop(crate::support::open_at(storage, Path::new(LOG), &opts).unwrap());
        });
        snap.crash(CrashVariant::TornSectorGarbage);
        let tmp = snap.read_file(TMP);
        match open_log(Arc::new(snap.clone()), &opts) {
            Ok((_, replayed, _)) => assert!(replayed.payloads.is_empty(), "seed {seed}"),
            Err(e) => failures.push(format!(
                "seed {seed}, crash at op {op} ({TMP} sync_data of the creation), torn-sector-garbage: the log {} exist, the temporary file ({:?} B, starting {:02x?}) does, and open fails: {e}",
                if snap.read_file(LOG).is_some() { "does" } else { "does not" },
                tmp.as_ref().map(Vec::len),
                tmp.as_ref().map(|t| &t[..t.len().min(8)])
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
