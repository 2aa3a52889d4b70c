//! I/O failures under the store, over `SimStorage`: an error (EIO, ENOSPC,
//! a short write, an fsync EIO with Linux's semantics) injected at every
//! storage operation of a workload with `sync_on_write` and frequent
//! automatic compaction. The README promises: the failing call returns the
//! error, every later write is refused (naming the first failure), reads
//! keep working, and a reopen gives a store equal to the model after some
//! number of operations between the last durable one and the last issued.
//! A failed automatic compaction fails no call (see compaction_failures.rs);
//! when it leaves the log poisoned, the next write is the failing call.

use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, StoreConfig};
use wal_io::sim::{Fault, FaultKind, SimStorage};

type Store = IndexMapStore<u16, Vec<u8>>;

const PATH: &str = "db.log";

fn config() -> StoreConfig {
    StoreConfig {
        sync_on_write: true,
        min_compact_bytes: 512,
        compact_ratio: 1.5,
        buf_capacity: 256,
    }
}

fn open(sim: &SimStorage) -> std::io::Result<Store> {
    IndexMapStore::open_with_storage(Arc::new(sim.clone()), PATH, config())
}

/// Operation `i` of the workload on the model: overwrites of a few keys (so
/// compaction runs often) and some removals.
fn step_model(model: &mut IndexMap<u16, Vec<u8>>, i: u16) {
    let key = i % 5;
    if i % 7 == 6 {
        model.shift_remove(&key);
    } else {
        model.insert(key, vec![i as u8; 40 + usize::from(i % 3) * 30]);
    }
}

/// The same operation on the store.
fn step(store: &mut Store, i: u16) -> std::io::Result<()> {
    let key = i % 5;
    if i % 7 == 6 {
        store.shift_remove(&key).map(drop)
    } else {
        store
            .insert(key, vec![i as u8; 40 + usize::from(i % 3) * 30])
            .map(drop)
    }
}

const STEPS: u16 = 60;

fn entries(store: &Store) -> Vec<(u16, Vec<u8>)> {
    store.iter().map(|(k, v)| (*k, v.clone())).collect()
}

#[test]
fn a_failed_write_sync_or_compaction_refuses_every_later_write() {
    // How many storage operations the workload takes without faults.
    let total = {
        let sim = SimStorage::new(1);
        let mut store = open(&sim).unwrap();
        let base = sim.ops();
        for i in 0..STEPS {
            step(&mut store, i).unwrap();
        }
        assert!(store.stats().compactions > 0, "the workload must compact");
        sim.ops() - base
    };
    let mut failures = 0;
    for kind in FaultKind::ALL {
        for at in 0..total {
            let sim = SimStorage::new(at);
            let mut store = open(&sim).unwrap();
            sim.inject(Fault::once(sim.ops() + at, kind));
            let mut model = IndexMap::new();
            // States after each acknowledged step; with sync_on_write every
            // acknowledged step is durable.
            let mut states = vec![model.clone()];
            let mut failed_at = None;
            for i in 0..STEPS {
                let mut next = model.clone();
                step_model(&mut next, i);
                match step(&mut store, i) {
                    Ok(()) => {
                        model = next;
                        states.push(model.clone());
                    }
                    Err(_) => {
                        failed_at = Some((i, next));
                        break;
                    }
                }
            }
            let ctx = format!("{kind:?} at op {at}");
            let Some((i, in_flight)) = failed_at else {
                // The fault hit an operation whose failure is harmless (a
                // probe for a leftover temporary file): nothing to refuse.
                assert_eq!(
                    entries(&store),
                    model.into_iter().collect::<Vec<_>>(),
                    "{ctx}"
                );
                continue;
            };
            failures += 1;
            let acked: Vec<_> = states[usize::from(i)].clone().into_iter().collect();
            if store.poisoned().is_none() {
                // A failure that left no trace (a write refused for lack of
                // space, cut back): the store equals the acknowledged steps
                // and keeps working.
                assert!(
                    matches!(kind, FaultKind::Enospc | FaultKind::ShortWriteEnospc),
                    "{ctx}: not poisoned"
                );
                assert_eq!(
                    entries(&store),
                    acked,
                    "{ctx}: the failed step left a trace"
                );
                store
                    .insert(99, vec![1])
                    .unwrap_or_else(|e| panic!("{ctx}: write after: {e}"));
                store.shift_remove(&99).unwrap();
            } else {
                // Every later write is refused and names the first failure...
                let err = store.insert(99, vec![1]).unwrap_err();
                assert!(err.to_string().contains("earlier failure"), "{ctx}: {err}");
                assert!(store.flush().is_err(), "{ctx}: flush after a failure");
                assert!(store.compact().is_err(), "{ctx}: compact after a failure");
            }
            // ...while reads keep working.
            assert_eq!(store.len(), store.iter().count(), "{ctx}");
            drop(store);
            // A reopen re-validates from disk: the acknowledged steps are
            // all there; the failed one is there whole or not at all.
            sim.clear_faults();
            let reopened = open(&sim).unwrap_or_else(|e| panic!("{ctx}: reopen failed: {e}"));
            let got = entries(&reopened);
            let with_failed: Vec<_> = in_flight.into_iter().collect();
            assert!(
                got == acked || got == with_failed,
                "{ctx}: step {i} failed; the reopened store holds {} entries, matching neither \
                 the {} acknowledged steps nor those plus the failed one",
                got.len(),
                i
            );
        }
    }
    assert!(
        failures > 100,
        "only {failures} injected faults made a call fail"
    );
}
