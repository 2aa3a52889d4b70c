//! Reads through [`SharedStore`] (issue 16), against `IndexMap::get` in the
//! same run:
//!
//! - `store/shared_get`: every key looked up once, in a shuffled order,
//!   each lookup taking the read lock (`shared.read().get(k)`), with no
//!   writer: target ≤ 1.3× `IndexMap::get` of the same keys. Also
//!   `get_cloned`, which clones the value under the lock, against
//!   `IndexMap::get` plus the same clone (a reference).
//! - With one thread inserting at full speed (overwrites of existing keys,
//!   `OnFlush`, so the writer never waits for a disk), the lookups per
//!   second of 1, 2 and 4 reader threads and the writer's inserts per
//!   second, for a fixed time each: reported, not a target (the machine
//!   has two cores, so four readers and a writer share them).

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::{OpenOptions, SharedStore, StoreConfig};
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, remove, shuffled_keys, time_lookups, value};

type Shared = SharedStore<String, String>;

/// The fixture's entries in a shared store (no automatic compaction while
/// the writer overwrites: a compaction is `store/compact`'s cost).
fn shared_store(fx: &Fixture, name: &str) -> Shared {
    let path = fx.path(name);
    remove(&path);
    let shared: Shared = OpenOptions::new()
        .config(StoreConfig {
            min_compact_bytes: u64::MAX,
            ..StoreConfig::default()
        })
        .open_shared(&path)
        .expect("open the shared store");
    shared
        .insert_many(fx.data().clone())
        .expect("load the shared store");
    shared
}

/// Lookups with no writer: the lock's cost on top of the map's.
pub(crate) fn get(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/shared_get");
    g.group.throughput(Throughput::Elements(fx.n));
    g.sampled(scale, Duration::from_secs(2), Duration::from_secs(3));
    let keys: OnceCell<Vec<String>> = OnceCell::new();
    let keys = || keys.get_or_init(|| shuffled_keys(fx.data()));
    let map: OnceCell<IndexMap<String, String>> = OnceCell::new();
    let map = || map.get_or_init(|| fx.data().iter().cloned().collect());
    let shared: OnceCell<Shared> = OnceCell::new();
    let shared = || shared.get_or_init(|| shared_store(fx, "shared-get.log"));

    g.bench("floor_indexmap_get", |iters| {
        let (map, keys) = (map(), keys());
        time_lookups(iters, keys, |k| map.get(k).map(String::len))
    });
    g.bench("shared_read_get", |iters| {
        let (shared, keys) = (shared(), keys());
        time_lookups(iters, keys, |k| shared.read().get(k).map(String::len))
    });
    g.bench("floor_indexmap_get_clone", |iters| {
        let (map, keys) = (map(), keys());
        time_lookups(iters, keys, |k| map.get(k).cloned())
    });
    g.bench("shared_get_cloned", |iters| {
        let (shared, keys) = (shared(), keys());
        time_lookups(iters, keys, |k| shared.get_cloned(k))
    });
    g.group.finish();
    rec.ratio(
        "store/shared_get/shared_read_get",
        &["store/shared_get/floor_indexmap_get"],
        Target::Time(1.3),
    );
    rec.ratio(
        "store/shared_get/shared_get_cloned",
        &["store/shared_get/floor_indexmap_get_clone"],
        Target::Reference,
    );
    if rec.reports() && test_support::bench::selected("store/shared_get/under_writer") {
        under_writer(rec, fx, shared(), keys(), scale);
    }
}

/// Lookups per second of 1, 2 and 4 reader threads while one thread
/// overwrites entries as fast as it can, each for `scale`'s time.
fn under_writer(rec: &Recorder, fx: &Fixture, shared: &Shared, keys: &[String], scale: Scale) {
    let span = scale.pick(
        Duration::from_millis(10),
        Duration::from_millis(500),
        Duration::from_secs(2),
    );
    let n = fx.n;
    for readers in [1usize, 2, 4] {
        let stop = Arc::new(AtomicBool::new(false));
        let lookups = Arc::new(AtomicU64::new(0));
        let (writes, elapsed) = thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let k = crate::fixture::key(i % n);
                    shared.insert(k, value(i)).expect("overwrite");
                    i += 1;
                }
                i
            });
            for r in 0..readers {
                let (stop, lookups) = (&stop, &lookups);
                s.spawn(move || {
                    let mut done = 0u64;
                    // Each reader starts at another place in the keys.
                    let mut at = r * keys.len() / readers;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1024 {
                            let k = &keys[at % keys.len()];
                            black_box(shared.read().get(k.as_str()).map(String::len));
                            at += 1;
                        }
                        done += 1024;
                    }
                    lookups.fetch_add(done, Ordering::Relaxed);
                });
            }
            let start = Instant::now();
            thread::sleep(span);
            stop.store(true, Ordering::Relaxed);
            let writes = writer.join().expect("the writer");
            (writes, start.elapsed())
        });
        let secs = elapsed.as_secs_f64();
        rec.say(format!(
            "store/shared_get/under_writer: {readers} reader thread(s) and 1 writer: \
             {:.2} M lookups/s in all, {:.0} k inserts/s",
            lookups.load(Ordering::Relaxed) as f64 / secs / 1e6,
            writes as f64 / secs / 1e3,
        ));
    }
}
