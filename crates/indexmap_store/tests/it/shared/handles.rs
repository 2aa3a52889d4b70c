//! `SharedStore` handles: readers running beside a writer see whole
//! writes, closing the last handle seals the store, and dropping it closes
//! the store before the drop returns, and a panicking `modify` poisons
//! every handle with an error that says what to do.

use std::thread;
use std::time::Duration;

use super::{PATH, Shared, options, strictest};
use indexmap_store::{Durability, IndexMapStore, OpenOptions};
use wal_io::sim::SimStorage;

#[test]
fn readers_run_while_a_writer_writes_and_see_whole_writes() {
    let sim = SimStorage::new(9);
    let store: Shared = options(&sim, Durability::Always, false)
        .open_shared(PATH)
        .unwrap();
    thread::scope(|scope| {
        let writer = store.clone();
        scope.spawn(move || {
            for k in 0..200u32 {
                // Pairs written together: a reader sees both or neither.
                writer
                    .insert_many([(2 * k, u64::from(k)), (2 * k + 1, u64::from(k))])
                    .unwrap();
            }
        });
        for _ in 0..2 {
            let reader = store.clone();
            scope.spawn(move || {
                for _ in 0..500 {
                    let guard = reader.read();
                    assert_eq!(guard.len() % 2, 0, "a reader saw half a write");
                }
            });
        }
    });
    assert_eq!(store.len(), 400);
    store.close().unwrap();
}

#[test]
fn close_of_the_last_handle_seals_the_store() {
    let sim = SimStorage::new(11);
    let store: Shared = options(&sim, Durability::Interval(Duration::from_millis(5)), false)
        .open_shared(PATH)
        .unwrap();
    let other = store.clone();
    store.insert(1, 1).unwrap();
    other.close().unwrap();
    // The remaining handle still writes.
    store.insert(2, 2).unwrap();
    store.close().unwrap();
    assert!(
        !sim.is_locked(format!("{PATH}.lock")),
        "closed: lock released"
    );
    sim.crash(strictest());
    let reopened: IndexMapStore<u32, u64> = options(&sim, Durability::OnFlush, false)
        .open(PATH)
        .unwrap();
    assert_eq!(reopened.len(), 2);
    assert!(reopened.recovery_report().truncated.is_none());
}

/// An application that drops its last handle and opens the store again
/// (a restart inside the process, a test's next case) must find it
/// closed: dropping the last handle closes the store. The background
/// syncer of `Interval` and `Bytes` used to hold the store while it
/// synced, so a drop during its sync left the store open on that thread
/// for a moment: in a throwaway program, 221 reopens in 2,000 were
/// refused with "already open by another writer ... close that handle
/// first".
#[test]
fn dropping_the_last_handle_closes_the_store_before_the_drop_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopened.log");
    for durability in [
        Durability::Interval(Duration::from_micros(100)),
        Durability::Bytes(1),
    ] {
        for round in 0..300u32 {
            let store: Shared = OpenOptions::new()
                .durability(durability)
                .open_shared(&path)
                .unwrap_or_else(|e| panic!("{durability:?}, round {round}: {e}"));
            store.insert(round, u64::from(round)).unwrap();
            let clone = store.clone();
            // The last handle goes on another thread, at varying moments
            // of the syncer's work.
            thread::sleep(Duration::from_micros(u64::from(round % 7) * 40));
            drop(store);
            thread::spawn(move || drop(clone)).join().unwrap();
        }
    }
    let reopened: IndexMapStore<u32, u64> = IndexMapStore::open(&path).unwrap();
    assert_eq!(reopened.len(), 300);
}

/// A panic in a `modify` closure on one thread poisons the store for every
/// handle (the map may be ahead of its log); the other threads' writes
/// fail with an error that says what to do with a shared store: drop
/// every handle, not just one, and reopen. The reopened store has the
/// value from before the closure. The error used to say "drop it and
/// reopen", and dropping the one handle changed nothing.
#[test]
fn a_panicking_modify_on_one_thread_poisons_every_handle_with_a_clear_error() {
    let sim = SimStorage::new(17);
    let store: Shared = options(&sim, Durability::Always, false)
        .open_shared(PATH)
        .unwrap();
    store.insert(1, 10).unwrap();
    let other = store.clone();
    let panicked = thread::spawn(move || {
        other.modify(&1, |v| {
            *v += 1;
            panic!("a bug in the application's closure");
        })
    })
    .join();
    assert!(panicked.is_err(), "the panic reaches the caller");
    let err = store.insert(2, 20).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("modify closure") && message.contains("every handle"),
        "{message}"
    );
    assert!(store.read().poisoned().is_some());
    assert!(store.close().is_err(), "close reports the poison");
    let reopened: IndexMapStore<u32, u64> = options(&sim, Durability::OnFlush, false)
        .open(PATH)
        .unwrap();
    assert_eq!(
        reopened.get(&1),
        Some(&10),
        "the log never had the half-made value"
    );
    assert_eq!(reopened.len(), 1);
}
