//! A failed automatic compaction (a full disk) never turns a successful
//! mutation into an error and never makes the store unopenable, over
//! `SimStorage` with injected ENOSPC faults.
//!
//! Assertions marked "wal-io: rewrite failures before the rename do not
//! poison" hold once `Wal::rewrite` leaves the log usable when creating,
//! writing or syncing its temporary file fails; before that change such a
//! failure poisons the log and the store refuses later writes.

use std::io;
use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, StoreConfig};
use wal_io::sim::{Fault, FaultKind, SimStorage};

type Store = IndexMapStore<u16, Vec<u8>>;

const PATH: &str = "db.log";

fn config(sync_on_write: bool) -> StoreConfig {
    StoreConfig {
        sync_on_write,
        min_compact_bytes: 512,
        compact_ratio: 1.5,
        buf_capacity: 256,
    }
}

fn open(sim: &SimStorage, cfg: StoreConfig) -> io::Result<Store> {
    IndexMapStore::open_with_storage(Arc::new(sim.clone()), PATH, cfg)
}

fn entries(store: &Store) -> Vec<(u16, Vec<u8>)> {
    store.iter().map(|(k, v)| (*k, v.clone())).collect()
}

/// Overwrites key `i % 4` until the store compacts; returns the number of
/// the storage operation at which the compacting insert started, and `i`.
fn first_compaction(cfg: StoreConfig) -> (u64, u16) {
    let sim = SimStorage::new(7);
    let mut store = open(&sim, cfg).expect("open");
    for i in 0..1000u16 {
        let before = sim.ops();
        store.insert(i % 4, vec![i as u8; 60]).expect("insert");
        if store.stats().compactions > 0 {
            return (before, i);
        }
    }
    panic!("no compaction")
}

/// A store on `sim` whose first automatic compaction (as
/// [`first_compaction`] finds it) failed for lack of space, and the model
/// of its entries: the inserts up to the compacting one all succeeded.
fn failed_first_compaction(
    sim: &SimStorage,
    cfg: StoreConfig,
) -> io::Result<(Store, IndexMap<u16, Vec<u8>>)> {
    let (start, last) = first_compaction(cfg);
    let mut store = open(sim, cfg)?;
    // Ops of the compacting insert: its append (start), then the rewrite:
    // a probe for a stale temp file (start + 1), creating it (start + 2).
    sim.inject(Fault::once(start + 2, FaultKind::Enospc));
    let mut model = IndexMap::new();
    for i in 0..=last {
        store.insert(i % 4, vec![i as u8; 60])?;
        model.insert(i % 4, vec![i as u8; 60]);
    }
    Ok((store, model))
}

#[test]
fn enospc_in_an_automatic_compaction_leaves_the_insert_ok() -> io::Result<()> {
    let cfg = config(false);
    let sim = SimStorage::new(7);
    let (store, model) = failed_first_compaction(&sim, cfg)?;
    let stats = store.stats();
    assert_eq!(stats.compactions, 0, "{stats:?}");
    assert_eq!(stats.failed_compactions, 1, "{stats:?}");
    let failure = stats
        .last_compaction_error
        .expect("the failure is reported");
    assert_eq!(failure.kind, io::ErrorKind::StorageFull, "{failure:?}");
    assert!(failure.message.contains("compact.tmp"), "{failure:?}");
    assert!(failure.at <= std::time::SystemTime::now());
    assert_eq!(
        entries(&store),
        model.clone().into_iter().collect::<Vec<_>>()
    );
    drop(store);
    // The insert that triggered it is there after a reopen, which succeeds.
    let store = open(&sim, cfg)?;
    assert_eq!(entries(&store), model.into_iter().collect::<Vec<_>>());
    Ok(())
}

#[test]
fn after_a_failed_automatic_compaction_the_store_accepts_writes() -> io::Result<()> {
    let cfg = config(false);
    let sim = SimStorage::new(7);
    let (mut store, mut model) = failed_first_compaction(&sim, cfg)?;
    assert_eq!(store.stats().failed_compactions, 1);
    // The store keeps accepting writes, and the retry waits: no rewrite
    // is attempted on each of the next mutations.
    for i in 0..20u16 {
        store.insert(i % 4, vec![i as u8; 60])?;
        model.insert(i % 4, vec![i as u8; 60]);
    }
    let stats = store.stats();
    assert_eq!((stats.compactions, stats.failed_compactions), (0, 1));
    // With the fault gone, a compaction succeeds.
    store.compact()?;
    assert_eq!(store.stats().compactions, 1);
    drop(store);
    let store = open(&sim, cfg)?;
    assert_eq!(entries(&store), model.into_iter().collect::<Vec<_>>());
    Ok(())
}

#[test]
fn open_succeeds_when_its_compaction_hits_a_full_disk() -> io::Result<()> {
    let sim = SimStorage::new(3);
    let never = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..config(false)
    };
    let mut store = open(&sim, never)?;
    for i in 0..200u16 {
        store.insert(i % 3, vec![i as u8; 50])?;
    }
    let expected = entries(&store);
    store.close()?;
    // The operations an open takes before it would compact (on a copy).
    let replay_ops = {
        let copy = sim.snapshot();
        let base = copy.ops();
        drop(open(&copy, never)?);
        copy.ops() - base
    };
    // The disk is full from the rewrite's temporary file on: a probe for a
    // stale one (base + replay_ops), then creating it.
    sim.inject(Fault::persistent(
        sim.ops() + replay_ops + 1,
        FaultKind::Enospc,
    ));
    let store = open(&sim, config(false))?;
    assert_eq!(entries(&store), expected);
    let stats = store.stats();
    assert_eq!((stats.compactions, stats.failed_compactions), (0, 1));
    assert_eq!(
        stats.last_compaction_error.map(|f| f.kind),
        Some(io::ErrorKind::StorageFull)
    );
    drop(store);
    sim.clear_faults();
    let store = open(&sim, config(false))?;
    assert_eq!(entries(&store), expected);
    assert_eq!(store.stats().compactions, 1, "compacted once space is back");
    Ok(())
}

/// Step `i` of the sweep's workload: overwrites, removals, batches and
/// modifications of a few keys, so that compaction runs often.
fn step(store: &mut Store, model: &mut IndexMap<u16, Vec<u8>>, i: u16) -> io::Result<()> {
    let key = i % 5;
    let value = vec![i as u8; 30 + usize::from(i % 3) * 20];
    match i % 9 {
        7 => {
            store.shift_remove(&key)?;
            model.shift_remove(&key);
        }
        8 => {
            let pairs: Vec<_> = (0..3).map(|j| ((key + j) % 5, value.clone())).collect();
            store.insert_many(pairs.clone())?;
            model.extend(pairs);
        }
        6 => {
            if store.modify(&key, |v| v.push(1))?.is_some() {
                model.get_mut(&key).expect("present").push(1);
            }
        }
        _ => {
            store.insert(key, value.clone())?;
            model.insert(key, value);
        }
    }
    Ok(())
}

const STEPS: u16 = 80;

/// A disk that fills up at any storage operation of a workload with
/// frequent automatic compactions: the reopened store holds the mutations
/// that returned Ok (all of them with `sync_on_write`; else at least those
/// synced), in order, and none that returned an error; once space returns
/// an unpoisoned store takes writes at once, the reopen always succeeds
/// and the reopened store takes writes.
#[test]
fn a_persistent_full_disk_at_any_point_loses_no_acknowledged_mutation() {
    for sync_on_write in [false, true] {
        let cfg = config(sync_on_write);
        let total = {
            let sim = SimStorage::new(1);
            let mut store = open(&sim, cfg).expect("open");
            let base = sim.ops();
            let mut model = IndexMap::new();
            for i in 0..STEPS {
                step(&mut store, &mut model, i).expect("no fault");
            }
            assert!(store.stats().compactions >= 3, "the workload must compact");
            sim.ops() - base
        };
        for at in 0..=total {
            let ctx = format!("sync_on_write {sync_on_write}, ENOSPC from op {at}");
            let sim = SimStorage::new(at);
            let mut store = open(&sim, cfg).expect("open");
            sim.inject(Fault::persistent(sim.ops() + at, FaultKind::Enospc));
            // The states after each mutation that returned Ok, and the
            // first of them that may be lost: the one after the last sync.
            // (A failed fsync cuts the log back to what the last sync made
            // durable, as a power loss would; with sync_on_write every
            // acknowledged mutation is synced.)
            let mut model = IndexMap::new();
            let mut states = vec![model.clone()];
            let mut durable = 0;
            let mut failed = false;
            for i in 0..STEPS {
                let mut next = model.clone();
                let ok = step(&mut store, &mut next, i).is_ok();
                if ok {
                    model = next;
                    states.push(model.clone());
                } else {
                    failed = true;
                }
                if !failed {
                    assert_eq!(
                        entries(&store),
                        model.clone().into_iter().collect::<Vec<_>>(),
                        "{ctx}: step {i}"
                    );
                }
                // With sync_on_write an Ok means synced (a no-op writes
                // nothing); else only a sync (or a compaction) does.
                if (sync_on_write && ok) || store.stats().unsynced_records == 0 {
                    durable = states.len() - 1;
                }
            }
            // Space returns: a store the failures did not poison takes
            // writes again at once.
            sim.clear_faults();
            if store.poisoned().is_none() {
                store
                    .insert(999, vec![9])
                    .unwrap_or_else(|e| panic!("{ctx}: a write once space returned: {e}"));
                model.insert(999, vec![9]);
                states.push(model.clone());
                if sync_on_write || store.stats().unsynced_records == 0 {
                    durable = states.len() - 1;
                }
            }
            drop(store);
            let mut store = open(&sim, cfg).unwrap_or_else(|e| panic!("{ctx}: reopen: {e}"));
            let got = entries(&store);
            assert!(
                states[durable..]
                    .iter()
                    .any(|s| s.clone().into_iter().collect::<Vec<_>>() == got),
                "{ctx}: the reopened store ({} entries) is not the state after any \
                 acknowledged mutation from the last synced one ({durable} of {})",
                got.len(),
                states.len() - 1
            );
            store
                .insert(1000, vec![1])
                .unwrap_or_else(|e| panic!("{ctx}: a write after the reopen: {e}"));
        }
    }
}
