//! One `splice`, `extract_if` or `append` of many large entries is one
//! record spanning many pages: crashed (over `SimStorage`) at every
//! storage operation of the call and of the flush after it, under every
//! crash variant, the reopened store holds the state before the call or
//! the state after it, never a part of it; and once the call and the
//! flush returned `Ok`, the state after it.

use std::io;
use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, OpenOptions, StoreConfig};
use wal_io::sim::{CrashVariant, SimStorage};

type Map = IndexMap<u32, Vec<u8>>;
type Store = IndexMapStore<u32, Vec<u8>>;

const PATH: &str = "atomic.log";

/// A value of about 3 KiB, different for each `(key, round)`.
fn big(key: u32, round: u8) -> Vec<u8> {
    (0..3000 + key as usize * 7)
        .map(|i| (i as u32 ^ key) as u8 ^ round)
        .collect()
}

fn open(sim: &SimStorage) -> io::Result<Store> {
    OpenOptions::new()
        .config(StoreConfig {
            // No compaction: the call's record is what the crash hits.
            min_compact_bytes: u64::MAX,
            ..StoreConfig::default()
        })
        .storage(Arc::new(sim.clone()))
        .open(PATH)
}

/// Opens a store on `sim`, fills it with 30 large entries and flushes.
fn filled(sim: &SimStorage) -> io::Result<Store> {
    let mut store = open(sim)?;
    store.insert_many((0..30).map(|k| (k, big(k, 0))))?;
    store.flush()?;
    Ok(store)
}

/// A bulk call, done on the store and on the model alike.
type Call = fn(&mut Store, &mut Map) -> io::Result<()>;

fn splice(store: &mut Store, model: &mut Map) -> io::Result<()> {
    // Ten entries out; fifteen pairs in, three of them keys outside the
    // range (updated in place) and one repeated.
    let with: Vec<(u32, Vec<u8>)> = (0..15)
        .map(|i| {
            let k = [100 + i, 2, 25, 100][(i % 4) as usize];
            (k, big(k, 1))
        })
        .collect();
    drop(model.splice(10..20, with.clone()));
    store.splice(10..20, with).map(drop)
}

fn extract_if(store: &mut Store, model: &mut Map) -> io::Result<()> {
    model.extract_if(3..28, |k, _| k % 3 != 0).for_each(drop);
    store.extract_if(3..28, |k, _| k % 3 != 0).map(drop)
}

fn append(store: &mut Store, model: &mut Map) -> io::Result<()> {
    let other: Map = (20..45).map(|k| (k, big(k, 2))).collect();
    model.append(&mut other.clone());
    let mut other = other;
    store.append(&mut other)
}

/// Crashes `call` at every storage operation of it and of the flush
/// after it; returns how many crash images were checked.
fn check(name: &str, call: Call) -> usize {
    let sim = SimStorage::new(7);
    let mut store = filled(&sim).expect("fill");
    let start = sim.ops();
    let before: Map = store.as_map().clone();
    let mut after = before.clone();
    call(&mut store, &mut after).expect("the call without a crash");
    store.flush().expect("flush");
    assert!(store.as_map().iter().eq(after.iter()), "{name}: the model");
    assert_ne!(before, after, "{name} changes the store");
    let end = sim.ops();
    drop(store);
    let mut checked = 0;
    for crash_at in start..end {
        for (v, variant) in CrashVariant::ALL.into_iter().enumerate() {
            let sim = SimStorage::new((crash_at << 8) ^ v as u64);
            let mut store = filled(&sim).expect("fill");
            sim.crash_at(crash_at);
            let mut scratch = before.clone();
            let done = call(&mut store, &mut scratch).and_then(|()| store.flush());
            drop(store);
            sim.crash(variant);
            let store = open(&sim).unwrap_or_else(|e| {
                panic!("{name}, crash at {crash_at}, {variant}: reopen failed: {e}")
            });
            let got = store.as_map();
            let whole = got.iter().eq(after.iter());
            assert!(
                whole || got.iter().eq(before.iter()),
                "{name}, crash at {crash_at}, {variant}: {} entries, neither before nor after",
                got.len()
            );
            assert!(
                done.is_err() || whole,
                "{name}, crash at {crash_at}, {variant}: flushed, yet lost"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn a_crashed_splice_is_all_there_or_not_at_all() {
    assert!(check("splice", splice) >= CrashVariant::ALL.len());
}

#[test]
fn a_crashed_extract_if_is_all_there_or_not_at_all() {
    assert!(check("extract_if", extract_if) >= CrashVariant::ALL.len());
}

#[test]
fn a_crashed_append_is_all_there_or_not_at_all() {
    assert!(check("append", append) >= CrashVariant::ALL.len());
}
