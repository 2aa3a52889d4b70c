//! Crash tests of the store over `SimStorage`: a simulated power loss after
//! every storage operation of seeded workloads (automatic compactions
//! included), under every crash variant. The reopened store must equal the
//! model after some number of operations between the last one known durable
//! and the last one issued, order included, and a threaded open
//! (`open_threaded`, two threads) of the same crashed state must recover
//! the same entries with the same report.
//!
//! Every seed picks a durability policy (`Always`, `OnFlush`, `Bytes`,
//! `Buffered`) and whether the log is preallocated, so the crash images
//! cover each; an op counts as durable once the store's durable watermark
//! covers its record.
//!
//! A failure prints the seed, variant and crash point; the simulation and
//! the workload are deterministic, so the same values reproduce it.
//! `STORE_CRASH_SEEDS=<n>` runs more seeds.

use std::cmp::Ordering;
use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{Durability, IndexMapStore, OpenOptions, StoreConfig};
use store_test_kit::{BatchItem, Flavor, apply_model, apply_store, latest_matching_state};
use test_support::rng::Rng;
use wal_io::sim::{CrashVariant, SimStorage};

/// The crash test's data: a few small keys, byte vectors of up to a few
/// KiB, so that records straddle pages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bytes;

impl Flavor for Bytes {
    type K = u16;
    type V = Vec<u8>;
    type Delta = u8;

    fn modify(v: &mut Vec<u8>, b: &u8) {
        v.push(*b);
    }

    fn keep(k: &u16, v: &Vec<u8>, d: u32) -> bool {
        u32::from(*k as u8 ^ v.len() as u8) % 3 != d % 3
    }

    fn compare(k1: &u16, v1: &Vec<u8>, k2: &u16, v2: &Vec<u8>) -> Ordering {
        (v1.len(), k1).cmp(&(v2.len(), k2))
    }

    fn class(_: &u16, v: &Vec<u8>) -> u64 {
        v.len() as u64 % 3
    }

    fn key_size(k: &u16) -> usize {
        usize::from(*k)
    }
}

type Op = store_test_kit::Op<Bytes>;
type Map = IndexMap<u16, Vec<u8>>;
type Store = IndexMapStore<u16, Vec<u8>>;

const PATH: &str = "db.log";

/// `(a, b)` taken modulo `len + 1` and ordered: a valid drain range.
fn drain_range(a: usize, b: usize, len: usize) -> (usize, usize) {
    let (a, b) = (a % (len + 1), b % (len + 1));
    (a.min(b), a.max(b))
}

/// A valid `shift_insert` index for `key` in `map`.
fn insert_index(i: usize, map_len: usize, present: bool) -> usize {
    i % (map_len + usize::from(!present)).max(1)
}

/// `op` with its indices made valid for `map` (taken modulo its length),
/// as the workload meant them: the workload is drawn before any map exists.
fn resolve(op: Op, map: &Map) -> Op {
    let len = map.len();
    match op {
        Op::SwapIndices(a, b) if len > 0 => Op::SwapIndices(a % len, b % len),
        // Nothing to swap: a no-op (the store and the model both refuse it).
        Op::SwapIndices(..) => Op::SwapIndices(0, 0),
        Op::Drain(a, b) => {
            let (a, b) = drain_range(a, b, len);
            Op::Drain(a, b)
        }
        Op::ShiftInsert(i, k, v) => {
            Op::ShiftInsert(insert_index(i, len, map.contains_key(&k)), k, v)
        }
        Op::Splice(a, b, pairs) => {
            let (a, b) = drain_range(a, b, len);
            Op::Splice(a, b, pairs)
        }
        Op::ExtractIf(a, b, d) => {
            let (a, b) = drain_range(a, b, len);
            Op::ExtractIf(a, b, d)
        }
        op => op,
    }
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 3000 + rng.below(3000),
        _ => rng.below(200),
    };
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The workload of `seed`, its indices resolved against the model as it
/// goes (`MoveIndex` is taken modulo the length by the kit itself).
fn workload(seed: u64, n: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed);
    let mut map = Map::new();
    (0..n)
        .map(|_| {
            let key = rng.below(24) as u16;
            let pairs = |rng: &mut Rng| -> Vec<(u16, Vec<u8>)> {
                (0..rng.below(6))
                    .map(|_| (rng.below(24) as u16, value(rng)))
                    .collect()
            };
            let op = match rng.below(133) {
                0..=39 => Op::Insert(key, value(&mut rng)),
                40..=49 => Op::ShiftRemove(key),
                50..=57 => Op::SwapRemove(key),
                58..=67 => Op::Modify(key, rng.next_u64() as u8),
                68..=73 => Op::Apply(
                    (0..1 + rng.below(6))
                        .map(|_| {
                            let (insert, k) = (rng.below(3) != 0, rng.below(24) as u16);
                            let v = value(&mut rng);
                            if insert {
                                BatchItem::Insert(k, v)
                            } else {
                                BatchItem::ShiftRemove(k)
                            }
                        })
                        .collect(),
                ),
                74..=78 => Op::InsertMany(
                    (0..1 + rng.below(6))
                        .map(|_| (rng.below(24) as u16, value(&mut rng)))
                        .collect(),
                ),
                79..=84 => Op::MoveIndex(rng.next_u64() as usize, rng.next_u64() as usize),
                85..=86 => Op::Clear,
                87..=95 => Op::Flush,
                96..=99 => Op::Compact,
                // Schema version 3: one record each, however many entries
                // they touch.
                100..=103 => Op::Retain(u32::from(rng.next_u64() as u8)),
                104..=105 => Op::SortKeys,
                // By value length, then key.
                106..=107 => Op::SortBy,
                108..=109 => Op::Reverse,
                110..=111 => Op::SwapIndices(rng.next_u64() as usize, rng.next_u64() as usize),
                112..=113 => Op::Drain(rng.next_u64() as usize, rng.next_u64() as usize),
                114 => Op::Truncate(rng.below(24) as usize),
                115..=118 => Op::ShiftInsert(rng.next_u64() as usize, key, value(&mut rng)),
                // Schema version 5 and the methods logged with earlier
                // kinds: each one record, all there or not at all.
                119..=120 => Op::Splice(
                    rng.next_u64() as usize,
                    rng.next_u64() as usize,
                    pairs(&mut rng),
                ),
                121..=122 => Op::ExtractIf(
                    rng.next_u64() as usize,
                    rng.next_u64() as usize,
                    u32::from(rng.next_u64() as u8),
                ),
                123..=124 => Op::Append(pairs(&mut rng)),
                125 => Op::InsertSorted(key, value(&mut rng)),
                126 => Op::InsertSortedBy(key, value(&mut rng)),
                // A batch of shift- and swap-removals and inserts (the
                // deferred path).
                _ => Op::Apply(
                    (0..2 + rng.below(8))
                        .map(|_| {
                            let (kind, k) = (rng.below(3), rng.below(24) as u16);
                            let v = value(&mut rng);
                            match kind {
                                0 => BatchItem::Insert(k, v),
                                1 => BatchItem::ShiftRemove(k),
                                _ => BatchItem::SwapRemove(k),
                            }
                        })
                        .collect(),
                ),
            };
            let op = resolve(op, &map);
            apply_model(&mut map, &op);
            op
        })
        .collect()
}

/// The options of seed `seed`: `Always` for multiples of 3, else one of
/// the deferred policies in turn; every other seed preallocates its log.
fn config(seed: u64) -> OpenOptions {
    let durability = if seed.is_multiple_of(3) {
        Durability::Always
    } else {
        [
            Durability::OnFlush,
            Durability::Bytes(300),
            Durability::Buffered,
        ][(seed / 3 % 3) as usize]
    };
    OpenOptions::new()
        .config(StoreConfig {
            sync_on_write: false,
            min_compact_bytes: 2048,
            compact_ratio: 1.5,
            // Small: the `Buffered` policy's buffer fills often.
            buf_capacity: 1024,
        })
        .durability(durability)
        .preallocate((seed / 9 % 2 == 1).then_some(4096))
}

fn open(sim: &SimStorage, opts: &OpenOptions) -> std::io::Result<Store> {
    opts.clone().storage(Arc::new(sim.clone())).open(PATH)
}

/// Runs the workload until the simulated process dies at storage operation
/// `crash_at`; returns (ops known durable, ops issued).
fn run_until_crash(sim: &SimStorage, ops: &[Op], opts: &OpenOptions) -> (usize, usize) {
    let Ok(mut store) = open(sim, opts) else {
        return (0, 0);
    };
    let mut durable = 0;
    for (i, op) in ops.iter().enumerate() {
        if apply_store(&mut store, op).is_err() {
            return (durable, i + 1);
        }
        let stats = store.stats();
        if stats.durable_seq == stats.next_seq {
            durable = i + 1;
        }
    }
    (durable, ops.len())
}

fn check_seed(seed: u64, n_ops: usize) -> usize {
    let ops = workload(seed, n_ops);
    let cfg = config(seed);
    let mut states = vec![Map::new()];
    for op in &ops {
        let mut next = states.last().cloned().unwrap_or_default();
        apply_model(&mut next, op);
        states.push(next);
    }
    // How many storage operations the whole workload takes.
    let total_ops = {
        let sim = SimStorage::new(seed);
        let (_, issued) = run_until_crash(&sim, &ops, &cfg);
        assert_eq!(
            issued,
            ops.len(),
            "seed {seed}: the workload fails without a crash"
        );
        sim.ops()
    };
    let mut checked = 0;
    for crash_at in 0..total_ops {
        for (v, variant) in CrashVariant::ALL.into_iter().enumerate() {
            let sim = SimStorage::new(seed ^ (crash_at << 8) ^ v as u64);
            sim.crash_at(crash_at);
            let (durable, issued) = run_until_crash(&sim, &ops, &cfg);
            sim.crash(variant);
            // The same crashed state, for the threaded open below.
            let twin = sim.snapshot();
            let store = open(&sim, &cfg).unwrap_or_else(|e| {
                panic!("seed {seed} variant {variant} crash at op {crash_at}: reopen failed: {e}")
            });
            let got: Vec<_> = store.iter().map(|(k, v)| (*k, v.clone())).collect();
            // Decoding on a second thread recovers the very same store.
            let threaded: Store = cfg
                .clone()
                .storage(Arc::new(twin.clone()))
                .recovery_threads(2)
                .open_threaded(PATH)
                .unwrap_or_else(|e| {
                    panic!("seed {seed} variant {variant} crash at op {crash_at}: threaded reopen failed: {e}")
                });
            assert!(
                threaded
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .eq(got.iter().cloned())
                    && threaded.recovery_report() == store.recovery_report(),
                "seed {seed} variant {variant} crash at op {crash_at}: the threaded open \
                 recovered another state ({:?} vs {:?})",
                threaded.recovery_report(),
                store.recovery_report()
            );
            drop(threaded);
            let matched = latest_matching_state(&states, durable, issued, &got);
            assert!(
                matched.is_some(),
                "seed {seed} variant {variant} crash at op {crash_at}: recovered {} entries, \
                 matching no state between op {durable} (durable) and op {issued} (issued)",
                got.len()
            );
            checked += 1;
        }
    }
    checked
}

fn seeds(range: std::ops::Range<u64>) -> std::ops::Range<u64> {
    let extra: u64 = std::env::var("STORE_CRASH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    range.start..range.end + extra
}

#[test]
fn crash_at_every_storage_operation_under_deferred_policies() {
    let mut checked = 0;
    for seed in seeds(1..9).map(|s| s * 3 + 1) {
        checked += check_seed(seed, 200);
    }
    assert!(checked > 1000, "only {checked} crash images checked");
}

#[test]
fn crash_at_every_storage_operation_under_always() {
    let mut checked = 0;
    for seed in seeds(1..9).map(|s| s * 3) {
        checked += check_seed(seed, 200);
    }
    assert!(checked > 1000, "only {checked} crash images checked");
}

#[test]
fn automatic_compaction_runs_in_these_workloads() {
    let ops = workload(4, 120);
    let sim = SimStorage::new(4);
    let mut store = open(&sim, &config(4)).unwrap();
    let mut manual = 0;
    for op in &ops {
        manual += u64::from(matches!(op, Op::Compact));
        apply_store(&mut store, op).unwrap();
    }
    assert!(
        store.stats().compactions > manual,
        "the crash workloads must exercise automatic compaction"
    );
}

#[test]
fn the_workloads_hold_every_new_record() {
    let ops: Vec<Op> = (1..9).flat_map(|s| workload(s * 3, 200)).collect();
    let has = |f: fn(&Op) -> bool| ops.iter().any(f);
    assert!(has(|op| matches!(op, Op::Retain(_))));
    assert!(has(|op| matches!(op, Op::SortKeys | Op::SortBy)));
    assert!(has(|op| matches!(op, Op::Reverse)));
    assert!(has(|op| matches!(op, Op::SwapIndices(..))));
    assert!(has(|op| matches!(op, Op::Drain(..) | Op::Truncate(_))));
    assert!(has(|op| matches!(op, Op::ShiftInsert(..))));
    assert!(has(|op| matches!(op, Op::Splice(_, _, p) if p.len() > 1)));
    assert!(has(|op| matches!(op, Op::ExtractIf(a, b, _) if a < b)));
    assert!(has(|op| matches!(op, Op::Append(p) if p.len() > 1)));
    assert!(has(|op| matches!(
        op,
        Op::InsertSorted(..) | Op::InsertSortedBy(..)
    )));
    assert!(has(|op| matches!(
        op,
        Op::Apply(items) if items.iter().any(|i| matches!(i, BatchItem::SwapRemove(_)))
    )));
}

#[test]
fn the_seeds_cover_every_policy_with_and_without_preallocation() {
    let all: Vec<OpenOptions> = seeds(1..9)
        .flat_map(|s| [config(s * 3), config(s * 3 + 1)])
        .collect();
    let desc: Vec<String> = all.iter().map(|o| format!("{o:?}")).collect();
    for policy in ["Always", "OnFlush", "Bytes(300)", "Buffered"] {
        for prealloc in ["preallocate: None", "preallocate: Some(4096)"] {
            assert!(
                desc.iter()
                    .any(|d| d.contains(policy) && d.contains(prealloc)),
                "no seed runs {policy} with {prealloc}"
            );
        }
    }
}
