//! Crash tests of the store over `SimStorage`: a simulated power loss after
//! every storage operation of seeded workloads (automatic compactions
//! included), under every crash variant. The reopened store must equal the
//! model after some number of operations between the last one known durable
//! and the last one issued, order included.
//!
//! Every seed picks a durability policy (`Always`, `OnFlush`, `Bytes`,
//! `Buffered`) and whether the log is preallocated, so the crash images
//! cover each; an op counts as durable once the store's durable watermark
//! covers its record.
//!
//! A failure prints the seed, variant and crash point; the simulation and
//! the workload are deterministic, so the same values reproduce it.
//! `STORE_CRASH_SEEDS=<n>` runs more seeds.

use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{Batch, Durability, IndexMapStore, OpenOptions, StoreConfig};
use test_support::rng::Rng;
use wal_io::sim::{CrashVariant, SimStorage};

type Map = IndexMap<u16, Vec<u8>>;
type Store = IndexMapStore<u16, Vec<u8>>;

const PATH: &str = "db.log";

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, Vec<u8>),
    ShiftRemove(u16),
    SwapRemove(u16),
    Modify(u16, u8),
    Batch(Vec<(bool, u16, Vec<u8>)>),
    InsertMany(Vec<(u16, Vec<u8>)>),
    Move(usize, usize),
    Clear,
    Flush,
    Compact,
    // Schema version 3: one record each, however many entries they touch.
    Retain(u8),
    SortKeys,
    SortByLen,
    Reverse,
    SwapIndices(usize, usize),
    Drain(usize, usize),
    Truncate(usize),
    ShiftInsert(usize, u16, Vec<u8>),
    /// A batch of shift- and swap-removals and inserts (the deferred path).
    MixedBatch(Vec<(u8, u16, Vec<u8>)>),
}

fn retain_keep(k: u16, v: &[u8], d: u8) -> bool {
    (k as u8 ^ v.len() as u8) % 3 != d % 3
}

/// `(a, b)` taken modulo `len + 1` and ordered: a valid drain range.
fn drain_range(a: usize, b: usize, len: usize) -> (usize, usize) {
    let (a, b) = (a % (len + 1), b % (len + 1));
    (a.min(b), a.max(b))
}

/// A valid `shift_insert` index for `key` in `map`.
fn insert_index(i: usize, map_len: usize, present: bool) -> usize {
    i % (map_len + usize::from(!present)).max(1)
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 3000 + rng.below(3000),
        _ => rng.below(200),
    };
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The workload of `seed`; `Move` indices are taken modulo the length then.
fn workload(seed: u64, n: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let key = rng.below(24) as u16;
            match rng.below(125) {
                0..=39 => Op::Insert(key, value(&mut rng)),
                40..=49 => Op::ShiftRemove(key),
                50..=57 => Op::SwapRemove(key),
                58..=67 => Op::Modify(key, rng.next_u64() as u8),
                68..=73 => Op::Batch(
                    (0..1 + rng.below(6))
                        .map(|_| (rng.below(3) != 0, rng.below(24) as u16, value(&mut rng)))
                        .collect(),
                ),
                74..=78 => Op::InsertMany(
                    (0..1 + rng.below(6))
                        .map(|_| (rng.below(24) as u16, value(&mut rng)))
                        .collect(),
                ),
                79..=84 => Op::Move(rng.next_u64() as usize, rng.next_u64() as usize),
                85..=86 => Op::Clear,
                87..=95 => Op::Flush,
                96..=99 => Op::Compact,
                100..=103 => Op::Retain(rng.next_u64() as u8),
                104..=105 => Op::SortKeys,
                106..=107 => Op::SortByLen,
                108..=109 => Op::Reverse,
                110..=111 => Op::SwapIndices(rng.next_u64() as usize, rng.next_u64() as usize),
                112..=113 => Op::Drain(rng.next_u64() as usize, rng.next_u64() as usize),
                114 => Op::Truncate(rng.below(24) as usize),
                115..=118 => Op::ShiftInsert(rng.next_u64() as usize, key, value(&mut rng)),
                _ => Op::MixedBatch(
                    (0..2 + rng.below(8))
                        .map(|_| (rng.below(3) as u8, rng.below(24) as u16, value(&mut rng)))
                        .collect(),
                ),
            }
        })
        .collect()
}

fn apply_model(map: &mut Map, op: &Op) {
    match op {
        Op::Insert(k, v) => {
            map.insert(*k, v.clone());
        }
        Op::ShiftRemove(k) => {
            map.shift_remove(k);
        }
        Op::SwapRemove(k) => {
            map.swap_remove(k);
        }
        Op::Modify(k, b) => {
            if let Some(v) = map.get_mut(k) {
                v.push(*b);
            }
        }
        Op::Batch(ops) => {
            for (insert, k, v) in ops {
                if *insert {
                    map.insert(*k, v.clone());
                } else {
                    map.shift_remove(k);
                }
            }
        }
        Op::InsertMany(pairs) => map.extend(pairs.iter().cloned()),
        Op::Move(a, b) => {
            if !map.is_empty() {
                map.move_index(a % map.len(), b % map.len());
            }
        }
        Op::Clear => map.clear(),
        Op::Flush | Op::Compact => {}
        Op::Retain(d) => map.retain(|k, v| retain_keep(*k, v, *d)),
        Op::SortKeys => map.sort_keys(),
        Op::SortByLen => map.sort_by(|k1, v1, k2, v2| (v1.len(), k1).cmp(&(v2.len(), k2))),
        Op::Reverse => map.reverse(),
        Op::SwapIndices(a, b) => {
            if !map.is_empty() {
                map.swap_indices(a % map.len(), b % map.len());
            }
        }
        Op::Drain(a, b) => {
            let (a, b) = drain_range(*a, *b, map.len());
            map.drain(a..b);
        }
        Op::Truncate(len) => map.truncate(*len),
        Op::ShiftInsert(i, k, v) => {
            let i = insert_index(*i, map.len(), map.contains_key(k));
            map.shift_insert(i, *k, v.clone());
        }
        Op::MixedBatch(ops) => {
            for (kind, k, v) in ops {
                match kind {
                    0 => {
                        map.insert(*k, v.clone());
                    }
                    1 => {
                        map.shift_remove(k);
                    }
                    _ => {
                        map.swap_remove(k);
                    }
                }
            }
        }
    }
}

fn apply_store(store: &mut Store, op: &Op) -> std::io::Result<()> {
    match op {
        Op::Insert(k, v) => store.insert(*k, v.clone()).map(drop),
        Op::ShiftRemove(k) => store.shift_remove(k).map(drop),
        Op::SwapRemove(k) => store.swap_remove(k).map(drop),
        Op::Modify(k, b) => store.modify(k, |v| v.push(*b)).map(drop),
        Op::Batch(ops) => {
            let mut batch = Batch::new();
            for (insert, k, v) in ops {
                if *insert {
                    batch.insert(*k, v.clone());
                } else {
                    batch.shift_remove(*k);
                }
            }
            store.apply(batch)
        }
        Op::InsertMany(pairs) => store.insert_many(pairs.iter().cloned()),
        Op::Move(a, b) => match store.len() {
            0 => Ok(()),
            n => store.move_index(a % n, b % n),
        },
        Op::Clear => store.clear(),
        Op::Flush => store.flush(),
        Op::Compact => store.compact(),
        Op::Retain(d) => store.retain(|k, v| retain_keep(*k, v, *d)),
        Op::SortKeys => store.sort_keys(),
        Op::SortByLen => store.sort_by(|k1, v1, k2, v2| (v1.len(), k1).cmp(&(v2.len(), k2))),
        Op::Reverse => store.reverse(),
        Op::SwapIndices(a, b) => match store.len() {
            0 => Ok(()),
            n => store.swap_indices(a % n, b % n),
        },
        Op::Drain(a, b) => {
            let (a, b) = drain_range(*a, *b, store.len());
            store.drain(a..b).map(drop)
        }
        Op::Truncate(len) => store.truncate(*len),
        Op::ShiftInsert(i, k, v) => {
            let i = insert_index(*i, store.len(), store.contains_key(k));
            store.shift_insert(i, *k, v.clone()).map(drop)
        }
        Op::MixedBatch(ops) => {
            let mut batch = Batch::new();
            for (kind, k, v) in ops {
                match kind {
                    0 => batch.insert(*k, v.clone()),
                    1 => batch.shift_remove(*k),
                    _ => batch.swap_remove(*k),
                };
            }
            store.apply(batch)
        }
    }
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
            let store = open(&sim, &cfg).unwrap_or_else(|e| {
                panic!("seed {seed} variant {variant} crash at op {crash_at}: reopen failed: {e}")
            });
            let got: Vec<_> = store.iter().map(|(k, v)| (*k, v.clone())).collect();
            let matched = (durable..=issued).rev().find(|&k| {
                states[k].len() == got.len()
                    && states[k]
                        .iter()
                        .zip(&got)
                        .all(|((a, b), (c, d))| a == c && b == d)
            });
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
    assert!(has(|op| matches!(op, Op::SortKeys | Op::SortByLen)));
    assert!(has(|op| matches!(op, Op::Reverse)));
    assert!(has(|op| matches!(op, Op::SwapIndices(..))));
    assert!(has(|op| matches!(op, Op::Drain(..) | Op::Truncate(_))));
    assert!(has(|op| matches!(op, Op::ShiftInsert(..))));
    assert!(has(|op| matches!(op, Op::MixedBatch(_))));
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
