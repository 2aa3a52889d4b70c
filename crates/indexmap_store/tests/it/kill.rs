//! Real-process crash tests: a child process mutates a store and is killed with `SIGKILL`.
//!
//! The test binary re-executes itself as the child (`--exact kill::kill_child`,
//! with the `STORE_KILL_CHILD` environment variable naming the store's
//! directory and `STORE_KILL_ROLE` what to do there; the plumbing is
//! [`test_support::child`]). The child applies a deterministic
//! sequence of operations ([`op`]: inserts, shift and swap
//! removals, in-place modifications, `insert_many`, and more rarely mixed
//! batches, moves, pops and clears, over a small key space so that most
//! records soon die) to a store configured to compact
//! very often, and reports progress on its standard output, which the
//! parent reads through a pipe that keeps every line the child finished
//! writing even after it is killed: `@@DO <i+1>` before operation `i` and
//! `@@ACK <i+1>` after it returned. The parent kills the child at a random
//! point, reopens the store and checks that it equals a model `IndexMap`
//! after exactly the acknowledged operations or one more (the one in
//! flight), entries and order; then the next child continues the same
//! store. Half the runs use `sync_on_write`.
//!
//! Every failure message names the seed, round and iteration; rerun with
//! `STORE_KILL_SEED=<seed>` for the same operation sequences and kill
//! choices (the kill timing itself cannot be replayed).

use std::cmp::Ordering;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use indexmap::IndexMap;
use indexmap_store::WalError;
use indexmap_store::{
    COMPACT_TMP_SUFFIX, IndexMapStore, StoreConfig, StoreError, TruncationReason,
};
use store_test_kit::{BatchItem, Flavor, apply_model, apply_store};
use test_support::child::{Protocol, Running, env_u64, nth};
use test_support::kill::{self, Ctx, KillTest, Killed};
use test_support::rng::{Rng, mix};
use test_support::{chain, sibling};

/// The child is the `kill_child` test below; `STORE_KILL_CHILD`, set only
/// in a child, names the store's directory, and `STORE_KILL_ROLE` what it
/// does there: `writer` or `hold`.
const PROTOCOL: Protocol = Protocol::new("kill::kill_child", "STORE_KILL_CHILD", "STORE_KILL_ROLE");
/// Operations the store holds when the child starts (verified by the parent).
const START_ENV: &str = "STORE_KILL_START";
/// The seed of the operation sequence; also the parent's override.
const SEED_ENV: &str = "STORE_KILL_SEED";
/// `1` for `sync_on_write`.
const SYNC_ENV: &str = "STORE_KILL_SYNC";
const STORE_NAME: &str = "kill.store";

/// Stores per run of the main test, each a fresh file.
const ROUNDS: u64 = 6;
/// Kills per store.
const ITERS: u64 = 50;
/// Distinct keys: few, so that overwrites and removals make dead records.
const KEYS: u64 = 24;

type Map = IndexMap<String, String>;
type Store = IndexMapStore<String, String>;

// ---------------------------------------------------------------------------
// Deterministic helpers shared by parent and child.

/// The kill test's data: keys from a small set, string values that
/// [`modified`] grows by a suffix naming the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Strings;

impl Flavor for Strings {
    type K = String;
    type V = String;
    /// The index of the operation that modifies.
    type Delta = u64;

    fn modify(v: &mut String, i: &u64) {
        *v = modified(v, *i);
    }

    // The sequence below uses none of the ops that take these closures.
    fn keep(_: &String, v: &String, d: u32) -> bool {
        v.len() % 3 != d as usize % 3
    }

    fn compare(_: &String, v1: &String, _: &String, v2: &String) -> Ordering {
        v1.len().cmp(&v2.len())
    }

    fn class(_: &String, v: &String) -> u64 {
        v.len() as u64 % 3
    }

    fn key_size(k: &String) -> usize {
        k.len()
    }
}

/// One operation of the sequence.
type Op = store_test_kit::Op<Strings>;

fn key(rng: &mut Rng) -> String {
    format!("key-{:02}", rng.below(KEYS))
}

/// A value, usually short, sometimes a few KiB so that records straddle
/// pages.
fn value(rng: &mut Rng, i: u64, j: u64) -> String {
    let len = match rng.below(10) {
        0 => 1500 + rng.below(3000),
        1..=3 => 100 + rng.below(400),
        _ => rng.below(40),
    };
    let mut v = format!("v{i}.{j}:");
    v.extend((0..len).map(|x| char::from(b'a' + ((i + j + x) % 26) as u8)));
    v
}

fn modified(old: &str, i: u64) -> String {
    format!("{}|m{i}", &old[..old.len().min(48)])
}

/// Operation `i` of the sequence of `seed`.
fn op(seed: u64, i: u64) -> Op {
    let mut rng = Rng::new(mix(seed, i));
    match rng.below(100) {
        0..=29 => {
            let k = key(&mut rng);
            Op::Insert(k, value(&mut rng, i, 0))
        }
        30..=39 => Op::ShiftRemove(key(&mut rng)),
        40..=49 => Op::SwapRemove(key(&mut rng)),
        50..=66 => Op::Modify(key(&mut rng), i),
        67..=81 => {
            let n = 1 + rng.below(6);
            let pairs = (0..n)
                .map(|j| {
                    let k = key(&mut rng);
                    (k, value(&mut rng, i, j))
                })
                .collect();
            Op::InsertMany(pairs)
        }
        82..=89 => {
            let n = 1 + rng.below(6);
            let ops = (0..n)
                .map(|j| match rng.below(3) {
                    0 => {
                        let k = key(&mut rng);
                        BatchItem::Insert(k, value(&mut rng, i, j))
                    }
                    1 => BatchItem::ShiftRemove(key(&mut rng)),
                    _ => BatchItem::SwapRemove(key(&mut rng)),
                })
                .collect();
            Op::Apply(ops)
        }
        // `move_index(a % len, b % len)`, if not empty.
        90..=95 => Op::MoveIndex(rng.next_u64() as usize, rng.next_u64() as usize),
        96..=98 => Op::Pop,
        _ => Op::Clear,
    }
}

/// The model after operations `0..n`.
fn model_at(seed: u64, n: u64) -> Map {
    let mut map = Map::new();
    for i in 0..n {
        apply_model(&mut map, &op(seed, i));
    }
    map
}

/// Whether `store` holds exactly `model`'s entries, in `model`'s order.
fn same(store: &Store, model: &Map) -> bool {
    store.len() == model.len() && store.iter().eq(model.iter())
}

/// A short description of how `store` differs from `model`.
fn diff(store: &Store, model: &Map) -> String {
    let keys = |it: &mut dyn Iterator<Item = &String>| it.cloned().collect::<Vec<_>>().join(",");
    let first = store
        .iter()
        .zip(model.iter())
        .position(|(a, b)| a != b)
        .map_or("none in the common prefix".to_owned(), |p| p.to_string());
    format!(
        "store has {} entries [{}], model {} [{}]; first differing entry: {first}",
        store.len(),
        keys(&mut store.keys()),
        model.len(),
        keys(&mut model.keys())
    )
}

/// Tiny compaction floor and ratio: a compaction every dozen operations.
fn config(sync_on_write: bool) -> StoreConfig {
    StoreConfig {
        sync_on_write,
        min_compact_bytes: 4096,
        compact_ratio: 1.5,
        buf_capacity: 16 * 1024,
    }
}

fn open(path: &Path, sync_on_write: bool) -> io::Result<Store> {
    IndexMapStore::open_with(path, config(sync_on_write))
}

// ---------------------------------------------------------------------------
// The child.

/// Opens the store, which must hold the model after `start` operations.
fn open_expecting(path: &Path, seed: u64, start: u64, sync: bool) -> (Store, Map) {
    let store = open(path, sync).unwrap_or_else(|e| panic!("child open failed: {}", chain(&e)));
    let model = model_at(seed, start);
    assert!(
        same(&store, &model),
        "the child recovered another state than the parent: {}",
        diff(&store, &model)
    );
    (store, model)
}

/// The writer: operations `start..start + budget`, each reported, each
/// checked against the model as it goes.
fn run_writer(path: &Path, seed: u64, start: u64, sync: bool, budget: u64) -> Store {
    let (mut store, mut model) = open_expecting(path, seed, start, sync);
    let mut compactions = store.stats().compactions;
    for i in start..start + budget {
        let op = op(seed, i);
        PROTOCOL.report("DO", i + 1);
        apply_store(&mut store, &op)
            .unwrap_or_else(|e| panic!("operation {i} ({op:?}) failed: {}", chain(&e)));
        PROTOCOL.report("ACK", i + 1);
        apply_model(&mut model, &op);
        assert!(
            same(&store, &model),
            "after operation {i}: {}",
            diff(&store, &model)
        );
        let now = store.stats().compactions;
        if now != compactions {
            compactions = now;
            PROTOCOL.report("COMPACTED", i + 1);
        }
    }
    store
}

/// The child side of every test in this file, selected by
/// `STORE_KILL_ROLE`.
///
/// Run by the test harness without `STORE_KILL_CHILD` (that is, not as a
/// child), it cannot play a role, so instead it runs the writer in process
/// for a few hundred operations and checks that the store it leaves
/// reopens to the model and that it compacted: the test then still checks
/// the child's logic, just without a kill.
#[test]
fn kill_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_NAME);
        let store = run_writer(&path, 42, 0, false, 300);
        assert!(store.stats().compactions >= 5, "{:?}", store.stats());
        drop(store);
        let store = open(&path, false).unwrap();
        let model = model_at(42, 300);
        assert!(same(&store, &model), "{}", diff(&store, &model));
        return;
    };
    let path = dir.join(STORE_NAME);
    let (seed, start) = (env_u64(SEED_ENV), env_u64(START_ENV));
    let sync = env_u64(SYNC_ENV) == 1;
    let store = match role.as_str() {
        "writer" => run_writer(&path, seed, start, sync, 20_000),
        "hold" => {
            let (store, _) = open_expecting(&path, seed, start, sync);
            PROTOCOL.report("HELD", start);
            store
        }
        other => panic!("unknown role {other:?}"),
    };
    // Hold the store until killed.
    PROTOCOL.idle(store.len() as u64);
}

// ---------------------------------------------------------------------------
// The parent.

/// Starts a child playing `role` on the store in `dir`, which holds the
/// model after operations `0..start` of the sequence of `seed`.
fn spawn(dir: &Path, role: &str, seed: u64, start: u64, sync: bool) -> Running {
    PROTOCOL.spawn(dir, role, |child| {
        child
            .env(SEED_ENV, seed.to_string())
            .env(START_ENV, start.to_string())
            .env(SYNC_ENV, u8::from(sync).to_string());
    })
}

/// Asserts that opening `path` now fails with `WouldBlock` (the log's
/// `AlreadyOpen`).
fn assert_refused(ctx: &dyn fmt::Display, path: &Path) {
    match open(path, false) {
        Ok(_) => panic!("{ctx}: a second process opened {path:?} while the child held it"),
        Err(e) => {
            assert_eq!(
                e.kind(),
                io::ErrorKind::WouldBlock,
                "{ctx}: a second opener got {} instead of WouldBlock",
                chain(&e)
            );
            let inner = e.get_ref().and_then(|e| e.downcast_ref::<StoreError>());
            assert!(
                matches!(inner, Some(StoreError::Log(WalError::AlreadyOpen { .. }))),
                "{ctx}: WouldBlock without AlreadyOpen behind it: {inner:?}"
            );
            assert!(
                e.to_string().contains("already open"),
                "{ctx}: unclear message: {e}"
            );
        }
    }
}

/// The store's kill test ([`kill::run`] does the rounds): children
/// alternate `sync_on_write`, and each round keeps a model `IndexMap` of
/// what the store holds.
#[derive(Debug, Default)]
struct StoreKills {
    compactions: u64,
    torn: u64,
    removed_temp: u64,
}

/// Whether the child of `ctx` runs with `sync_on_write`.
fn sync(ctx: &Ctx) -> bool {
    ctx.variant.is_some_and(|(_, on)| on)
}

impl KillTest for StoreKills {
    type Round = Map;
    const FILE: &'static str = STORE_NAME;
    const SEED_ENV: &'static str = SEED_ENV;

    fn variant(&self, iter: u64) -> Option<(&'static str, bool)> {
        Some(("sync_on_write", iter.is_multiple_of(2)))
    }

    fn spawn(&self, ctx: &Ctx, dir: &Path, count: u64) -> Running {
        spawn(dir, "writer", ctx.round_seed(), count, sync(ctx))
    }

    fn kill_point(&mut self, ctx: &Ctx, rng: &mut Rng, child: &mut Running) {
        if rng.below(5) == 0 {
            // Anywhere, including while the child starts and recovers.
            thread::sleep(Duration::from_micros(rng.below(30_000)));
        } else {
            // After a number of acknowledged operations, maybe a bit later.
            let target = 1 + rng.below(if sync(ctx) { 60 } else { 250 });
            child.expect(ctx, "acknowledgement", nth("ACK", target));
            if rng.below(2) == 0 {
                thread::sleep(Duration::from_micros(rng.below(3_000)));
            }
        }
    }

    fn probe(&self, ctx: &Ctx, path: &Path) {
        assert_refused(ctx, path);
    }

    fn temp_path(&self, path: &Path) -> PathBuf {
        sibling(path, COMPACT_TMP_SUFFIX)
    }

    /// Reopens the store and checks that it equals the model after `acked`
    /// operations or, if operation `acked` was in flight, after
    /// `acked + 1`. `model` holds the state after `start` operations and
    /// is advanced to the one found.
    fn verify(&mut self, model: &mut Map, killed: &Killed<'_>) -> u64 {
        let Killed {
            ctx,
            target,
            child,
            start,
            acked,
        } = *killed;
        let in_flight = child.last(&["DO"]).is_some_and(|d| d > acked);
        self.compactions += child.count("COMPACTED");
        let seed = ctx.round_seed();
        let store = open(target, sync(ctx))
            .unwrap_or_else(|e| panic!("{ctx}: reopening after the kill failed: {}", chain(&e)));
        let report = store.recovery_report().clone();
        if let Some(t) = &report.truncated {
            assert_eq!(
                t.reason,
                TruncationReason::TornTail,
                "{ctx}: a kill can only leave a torn tail: {t:?}"
            );
        }
        self.torn += u64::from(report.truncated.is_some());
        self.removed_temp += u64::from(report.removed_temp.is_some());
        for i in start..acked {
            apply_model(model, &op(seed, i));
        }
        if same(&store, model) {
            return acked;
        }
        let mut next = model.clone();
        apply_model(&mut next, &op(seed, acked));
        assert!(
            in_flight && same(&store, &next),
            "{ctx}: after {acked} acknowledged operations (operation {acked} {}), the reopened \
             store matches neither the model after them nor after the next: {}",
            if in_flight {
                "in flight"
            } else {
                "not started"
            },
            diff(&store, model)
        );
        *model = next;
        acked + 1
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_operation() {
    let mut stats = StoreKills::default();
    let tally = kill::run_announced("indexmap_store kill test", &mut stats, ROUNDS, ITERS);
    assert!(
        stats.compactions >= tally.kills,
        "the children compacted too rarely: {tally:?} {stats:?}"
    );
}

#[test]
fn second_process_is_refused_while_the_holder_lives_and_admitted_after_its_kill() {
    let ctx = "[lock while held]";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_NAME);
    let seed = 7;
    let mut store = open(&path, false).unwrap();
    for i in 0..100 {
        apply_store(&mut store, &op(seed, i)).unwrap();
    }
    drop(store);
    let model = model_at(seed, 100);
    let mut child = spawn(dir.path(), "hold", seed, 100, false);
    // The child's open may have compacted; what it holds is the baseline.
    kill::refused_while_held(ctx, &mut child, &path, None, assert_refused);
    let store = open(&path, false).unwrap_or_else(|e| panic!("{ctx}: {}", chain(&e)));
    assert!(same(&store, &model), "{ctx}: {}", diff(&store, &model));
    assert!(store.recovery_report().truncated.is_none());
}
