//! Concurrent writers crashed at random points, and a failed sync with many
//! waiters, through `SharedStore`.
//!
//! The concurrent oracle: every write through the handle records the
//! sequence number its record got (its place in the log). After a crash the
//! reopened store must equal the model after some prefix of the log order,
//! and under `Durability::Always` that prefix includes every acknowledged
//! write.

use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Duration;

use super::{PATH, Shared, options, strictest};
use indexmap::IndexMap;
use indexmap_store::{Durability, IndexMapStore, StoreError};
use test_support::rng::{Rng, announced_seed, mix};
use wal_io::sim::{CrashVariant, Fault, FaultKind, SimStorage};

type Map = IndexMap<u32, u64>;

#[derive(Debug, Clone, Copy)]
enum Op {
    Insert(u32, u64),
    SwapRemove(u32),
}

/// A write that reached the log: its record's sequence number, and
/// whether the caller was told it succeeded.
#[derive(Debug, Clone, Copy)]
struct Logged {
    seq: u64,
    op: Op,
    acked: bool,
}

/// Applies `op` through the handle; returns where its record went (if it
/// wrote one) and whether the write was acknowledged.
fn write(store: &Shared, op: Op) -> (Option<u64>, bool) {
    let mut at = None;
    let result = store.write(|s| {
        let before = s.stats().next_seq;
        match op {
            Op::Insert(k, v) => drop(s.insert(k, v)?),
            Op::SwapRemove(k) => drop(s.swap_remove(&k)?),
        }
        if s.stats().next_seq > before {
            at = Some(before);
        }
        Ok(())
    });
    (at, result.is_ok())
}

/// `threads` writers doing `ops` random writes each, stopping at their
/// first error; every write that reached the log.
fn run_writers(store: &Shared, seed: u64, threads: u64, ops: usize) -> Vec<Logged> {
    let logged = Mutex::new(Vec::new());
    let start = Barrier::new(threads as usize);
    thread::scope(|scope| {
        for t in 0..threads {
            let (logged, start) = (&logged, &start);
            scope.spawn(move || {
                let mut rng = Rng::new(mix(seed, t));
                start.wait();
                for _ in 0..ops {
                    let key = rng.below(12) as u32;
                    let op = if rng.percent(75) {
                        Op::Insert(key, rng.next_u64() % 1000)
                    } else {
                        Op::SwapRemove(key)
                    };
                    let (at, acked) = write(store, op);
                    if let Some(seq) = at {
                        logged.lock().unwrap().push(Logged { seq, op, acked });
                    }
                    if !acked {
                        return;
                    }
                }
            });
        }
    });
    let mut logged = logged.into_inner().unwrap();
    logged.sort_by_key(|l| l.seq);
    logged
}

/// The model after each prefix of `logged` (in log order).
fn states(logged: &[Logged]) -> Vec<Map> {
    let mut states = vec![Map::new()];
    for l in logged {
        let mut next = states.last().cloned().unwrap_or_default();
        match l.op {
            Op::Insert(k, v) => drop(next.insert(k, v)),
            Op::SwapRemove(k) => drop(next.swap_remove(&k)),
        }
        states.push(next);
    }
    states
}

/// Asserts the reopened `got` is the model after a prefix of `logged` of
/// at least `min` writes.
fn assert_prefix(ctx: &str, got: &IndexMapStore<u32, u64>, logged: &[Logged], min: usize) {
    let got: Vec<(u32, u64)> = got.iter().map(|(k, v)| (*k, *v)).collect();
    let states = states(logged);
    let found = (min..states.len()).rev().find(|&p| {
        states[p].len() == got.len() && states[p].iter().zip(&got).all(|(a, b)| (*a.0, *a.1) == *b)
    });
    assert!(
        found.is_some(),
        "{ctx}: recovered {got:?} matches no prefix of the {} logged writes of at least {min}",
        logged.len()
    );
}

/// How many acknowledged writes the recovered state must hold: all of them
/// under `Always` (the prefix up to the last acknowledged one).
fn must_hold(logged: &[Logged], durability: Durability) -> usize {
    match durability {
        Durability::Always => logged.iter().rposition(|l| l.acked).map_or(0, |i| i + 1),
        _ => 0,
    }
}

/// Runs crashed rounds; returns how many crashed while writers ran.
fn crash_round(seed: u64, durability: Durability, prealloc: bool) -> usize {
    let threads = 4;
    let ops = 40;
    // A first run without a crash tells how many storage operations the
    // workload takes (it varies with the interleaving: roughly).
    let total = {
        let sim = SimStorage::new(seed);
        let store: Shared = options(&sim, durability, prealloc)
            .open_shared(PATH)
            .unwrap();
        run_writers(&store, seed, threads, ops);
        sim.ops()
    };
    let mut rng = Rng::new(seed);
    let mut interrupted = 0;
    for round in 0..20 {
        let sim = SimStorage::new(mix(seed, round));
        let crash_at = rng.below(total + total / 4);
        sim.crash_at(crash_at);
        let ctx = format!(
            "seed {seed} round {round} {durability:?} prealloc {prealloc} crash at op {crash_at}"
        );
        let Ok(store) = options(&sim, durability, prealloc).open_shared::<u32, u64>(PATH) else {
            continue;
        };
        let logged = run_writers(&store, mix(seed, round), threads, ops);
        interrupted += usize::from(logged.iter().any(|l| !l.acked) || sim.is_dead());
        let variant = CrashVariant::ALL[rng.index(CrashVariant::ALL.len())];
        sim.crash(variant);
        drop(store);
        let reopened: IndexMapStore<u32, u64> = options(&sim, Durability::OnFlush, prealloc)
            .open(PATH)
            .unwrap_or_else(|e| panic!("{ctx}: reopen failed: {e}"));
        assert_prefix(&ctx, &reopened, &logged, must_hold(&logged, durability));
    }
    interrupted
}

#[test]
fn concurrent_writers_crashed_at_random_recover_a_prefix_with_every_durable_write() {
    let seed = announced_seed("shared crash", "SHARED_SEED");
    let mut interrupted = 0;
    for i in 0..6 {
        interrupted += crash_round(mix(seed, i), Durability::Always, i % 2 == 1);
    }
    assert!(
        interrupted > 20,
        "only {interrupted} rounds crashed mid-workload"
    );
    for (i, durability) in [
        Durability::OnFlush,
        Durability::Bytes(200),
        Durability::Interval(Duration::from_millis(1)),
        Durability::Buffered,
    ]
    .into_iter()
    .enumerate()
    {
        crash_round(mix(seed, 100 + i as u64), durability, i % 2 == 0);
    }
}

#[test]
fn a_failed_sync_fails_every_waiter_and_every_later_write() {
    let seed = announced_seed("shared failed sync", "SHARED_SEED");
    for prealloc in [false, true] {
        let sim = SimStorage::new(seed);
        let store: Shared = options(&sim, Durability::Always, prealloc)
            .open_shared(PATH)
            .unwrap();
        for k in 0..5 {
            store.insert(k, 1).unwrap();
        }
        // Every sync from here on fails.
        sim.inject(Fault::persistent(sim.ops(), FaultKind::FsyncEio));
        let outcomes = Mutex::new(Vec::new());
        let logged = Mutex::new(Vec::new());
        thread::scope(|scope| {
            for t in 0..8u32 {
                let (store, outcomes, logged) = (&store, &outcomes, &logged);
                scope.spawn(move || {
                    for i in 0..4u32 {
                        let op = Op::Insert(100 + t * 10 + i, u64::from(i));
                        let (at, acked) = write(store, op);
                        if let Some(seq) = at {
                            logged.lock().unwrap().push(Logged { seq, op, acked });
                        }
                        outcomes.lock().unwrap().push(acked);
                    }
                });
            }
        });
        let outcomes = outcomes.into_inner().unwrap();
        assert!(
            outcomes.iter().all(|acked| !acked),
            "prealloc {prealloc}: a write was acknowledged though no sync could succeed: \
             {outcomes:?}"
        );
        let err = store.insert(999, 9).expect_err("the store is poisoned");
        // Refused by the store or by its log, both for the failed sync.
        let store_error = err.get_ref().and_then(|e| e.downcast_ref::<StoreError>());
        assert!(
            matches!(store_error, Some(StoreError::Poisoned { .. }))
                || err
                    .to_string()
                    .contains("refuses writes since an earlier failure"),
            "prealloc {prealloc}: {err}"
        );
        assert!(store.read().poisoned().is_some());
        sim.clear_faults();
        sim.crash(strictest());
        drop(store);
        let mut logged = logged.into_inner().unwrap();
        logged.sort_by_key(|l| l.seq);
        let reopened: IndexMapStore<u32, u64> = options(&sim, Durability::OnFlush, prealloc)
            .open(PATH)
            .unwrap();
        let before: Vec<Logged> = (0..5)
            .map(|k| Logged {
                seq: 0,
                op: Op::Insert(k, 1),
                acked: true,
            })
            .collect();
        let all: Vec<Logged> = before.iter().chain(&logged).copied().collect();
        assert_prefix(
            &format!("prealloc {prealloc}"),
            &reopened,
            &all,
            before.len(),
        );
    }
}
