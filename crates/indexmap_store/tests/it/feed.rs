//! The change feed: `subscribe`, as an application in the writing process
//! uses it to keep a copy of the map, on its own thread or not.

use std::thread;
use std::time::Duration;

use indexmap::IndexMap;
use indexmap_store::{Batch, ChangeKind, FeedEvent, IndexMapStore, StoreConfig, Subscription};

type Store = IndexMapStore<String, u64>;
type Map = IndexMap<String, u64>;

fn store(dir: &tempfile::TempDir) -> Store {
    let config = StoreConfig {
        min_compact_bytes: 2048,
        ..StoreConfig::default()
    };
    Store::open_with(dir.path().join("feed.log"), config).unwrap()
}

/// Applies every ready event to `mirror`; returns the lag reported, if any.
fn drain(sub: &Subscription<String, u64>, mirror: &mut Map, last_seq: &mut u64) -> Option<u64> {
    while let Some(event) = sub.try_recv() {
        match event.unwrap() {
            FeedEvent::Change(change) => {
                assert!(change.seq() >= *last_seq, "out of order");
                *last_seq = change.seq() + 1;
                change.apply(mirror).unwrap();
            }
            FeedEvent::Lagged { missed_from } => return Some(missed_from),
            other => panic!("an event this test does not know: {other:?}"),
        }
    }
    None
}

/// Every kind of mutation, a few times.
fn mutate(store: &mut Store, round: u64) {
    for i in 0..20 {
        store.insert(format!("k{i}"), round * 100 + i).unwrap();
    }
    store.shift_remove("k3").unwrap();
    store.swap_remove("k5").unwrap();
    store.modify("k7", |v| *v += 1).unwrap();
    store
        .insert_many([("m1".to_owned(), 1), ("m2".to_owned(), 2)])
        .unwrap();
    let mut batch = Batch::new();
    batch.insert("b".to_owned(), 9);
    batch.shift_remove("m1".to_owned());
    store.apply(batch).unwrap();
    store.move_index(0, 5).unwrap();
    store.retain(|_, v| *v % 3 != 0).unwrap();
    store.sort_keys().unwrap();
    store.reverse().unwrap();
    store.swap_indices(0, 1).unwrap();
    store.shift_insert(2, "at".to_owned(), 5).unwrap();
    store.truncate(12).unwrap();
    store.pop().unwrap();
    if round % 2 == 1 {
        store.clear().unwrap();
    }
}

#[test]
fn a_subscriber_mirrors_every_kind_of_mutation_in_log_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    store.insert("before".into(), 0).unwrap();
    let (mut mirror, mut last_seq) = store.snapshot();
    let sub = store.subscribe();
    for round in 0..6 {
        mutate(&mut store, round);
        assert_eq!(drain(&sub, &mut mirror, &mut last_seq), None);
        assert_eq!(&mirror, store.as_map(), "round {round}");
    }
    // Compactions happened in between, unseen by the feed.
    assert!(store.stats().compactions > 0, "{:?}", store.stats());
}

#[test]
fn events_describe_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let sub = store.subscribe();
    store.insert("a".into(), 1).unwrap();
    store
        .insert_many([("b".to_owned(), 2), ("c".to_owned(), 3)])
        .unwrap();
    store.shift_remove("a").unwrap();
    let mut kinds = Vec::new();
    while let Some(Ok(FeedEvent::Change(change))) = sub.try_recv() {
        let keys: Vec<String> = change.keys().cloned().collect();
        kinds.push(match change.kind() {
            ChangeKind::Insert { key, value } => format!("insert {key} {value}"),
            ChangeKind::Batch { ops } => format!("batch {ops} {keys:?}"),
            ChangeKind::ShiftRemove { key } => format!("remove {key}"),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(kinds, ["insert a 1", r#"batch 2 ["b", "c"]"#, "remove a"]);
}

#[test]
fn a_stalled_subscriber_never_delays_the_writer_and_is_told_it_lagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let (mut mirror, mut last_seq) = store.snapshot();
    let sub = store.subscribe_with_capacity(8);
    // Nobody reads: the writer goes on.
    for i in 0..5000u64 {
        store.insert(format!("k{}", i % 50), i).unwrap();
    }
    assert!(sub.is_lagged());
    // The subscriber takes what was queued, then learns it lagged.
    let missed = drain(&sub, &mut mirror, &mut last_seq).expect("told it lagged");
    assert_eq!(mirror.len(), 8);
    assert_eq!(missed, last_seq);
    // Told once.
    assert!(sub.try_recv().is_none());
    // Resynchronised, it follows exactly again.
    let (snapshot, seq) = store.resync(&sub.handle());
    assert!(!sub.is_lagged());
    let mut mirror = snapshot;
    let mut last_seq = seq;
    store.insert("new".into(), 1).unwrap();
    store.shift_remove("k1").unwrap();
    assert_eq!(drain(&sub, &mut mirror, &mut last_seq), None);
    assert_eq!(&mirror, store.as_map());
}

#[test]
fn a_subscriber_on_another_thread_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let (start, seq) = store.snapshot();
    let sub = store.subscribe_with_capacity(1 << 16);
    let reader = thread::spawn(move || {
        let mut mirror = start;
        let mut last = seq;
        // Until the store is dropped.
        while let Some(event) = sub.recv() {
            let FeedEvent::Change(change) = event.unwrap() else {
                panic!("lagged with a queue larger than the run");
            };
            assert!(change.seq() >= last);
            last = change.seq() + 1;
            change.apply(&mut mirror).unwrap();
        }
        mirror
    });
    for round in 0..50 {
        mutate(&mut store, round);
    }
    let want = store.as_map().clone();
    drop(store);
    assert_eq!(reader.join().unwrap(), want);
}

#[test]
fn a_dropped_subscription_is_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let a = store.subscribe();
    let b = store.subscribe_with_capacity(1);
    assert_eq!(store.subscribers(), 2);
    drop(a);
    assert_eq!(store.subscribers(), 1);
    store.insert("x".into(), 1).unwrap();
    store.insert("y".into(), 2).unwrap();
    assert!(b.is_lagged());
    drop(b);
    store.insert("z".into(), 3).unwrap();
    assert_eq!(store.subscribers(), 0);
    // A subscriber taken with no one listening before sees only later
    // operations.
    let c = store.subscribe();
    assert!(c.recv_timeout(Duration::from_millis(10)).is_none());
    store.insert("w".into(), 4).unwrap();
    let Some(Ok(FeedEvent::Change(change))) = c.try_recv() else {
        panic!("no event");
    };
    assert_eq!(change.keys().next().map(String::as_str), Some("w"));
}

/// A slow subscriber of a fast writer lags, resynchronises, and lags
/// again: it must be told every time, or it waits for ever for events the
/// writer no longer sends it.
#[test]
fn a_subscriber_that_lags_again_after_a_resync_is_told_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let sub = store.subscribe_with_capacity(8);
    let (mut mirror, mut last_seq) = store.snapshot();
    for lag in 0..3u64 {
        for i in 0..20 {
            store.insert(format!("k{i}"), lag * 100 + i).unwrap();
        }
        let missed = drain(&sub, &mut mirror, &mut last_seq);
        assert_eq!(missed, Some(last_seq), "lag {lag}: not told it lagged");
        assert!(sub.try_recv().is_none(), "lag {lag}: told twice");
        (mirror, last_seq) = store.resync(&sub.handle());
    }
    store.insert("last".into(), 1).unwrap();
    assert_eq!(drain(&sub, &mut mirror, &mut last_seq), None);
    assert_eq!(&mirror, store.as_map());
}
