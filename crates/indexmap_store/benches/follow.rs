//! Followers and the change feed, against floors measured in the same run.
//!
//! - `follow/refresh`: [`ReadOnlyStore::refresh`] after a writer appended
//!   1,000 inserts, on a store of N entries (1M; 100k with `BENCH_QUICK=1`)
//!   against the same on a store of 1,000 entries: a refresh reads only the
//!   new records, so the ratio should stay near 1 whatever N (target: time
//!   at most 2x). For reference, a whole read-only open of the big store.
//! - `feed/insert`: per-call `insert` with one subscriber against `insert`
//!   with none: a stalled subscriber whose queue holds the whole run (the
//!   writer's own overhead; target: throughput at least 0.9x), and, for
//!   reference, one that a thread drains and decodes (whose work competes
//!   with the writer's for the cores). Also
//!   the three alternated in rounds (fastest round of each), which a
//!   machine whose load changes skews less.
//!
//! Run with `cargo bench -p indexmap_store --bench follow`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use indexmap_store::{IndexMapStore, OpenOptions, ReadOnlyStore, StoreConfig};
use test_support::bench::{Group, Recorder, Scale, Target};

type Store = IndexMapStore<String, String>;
type Reader = ReadOnlyStore<String, String>;

/// No compaction while measuring: a reload is not what is measured.
fn config() -> StoreConfig {
    StoreConfig {
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    }
}

fn key(i: u64) -> String {
    format!("key-{i:012}")
}

fn value(i: u64) -> String {
    format!("{i:0>100}")
}

/// A store of `n` entries (16-byte keys, 100-byte values) and a reader.
fn store_and_reader(path: &Path, n: u64) -> (Store, Reader) {
    let mut store = Store::open_with(path, config()).unwrap();
    let mut i = 0;
    while i < n {
        let end = (i + 100_000).min(n);
        store
            .insert_many((i..end).map(|j| (key(j), value(j))))
            .unwrap();
        i = end;
    }
    let reader = OpenOptions::new().open_read_only(path).unwrap();
    (store, reader)
}

/// The time of `iters` refreshes, each after 1,000 new inserts.
fn refreshes(store: &mut Store, reader: &mut Reader, next: &mut u64, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        for _ in 0..1000 {
            store.insert(key(*next), value(*next)).unwrap();
            *next += 1;
        }
        let start = Instant::now();
        let refreshed = reader.refresh().unwrap();
        total += start.elapsed();
        assert_eq!(refreshed.records, 1000);
    }
    total
}

fn refresh(c: &mut Criterion, rec: &Recorder, dir: &Path, n: u64, scale: Scale) {
    let (mut big, mut big_reader) = store_and_reader(&dir.join("big.log"), n);
    let (mut small, mut small_reader) = store_and_reader(&dir.join("small.log"), 1000);
    let mut g = Group::new(c, rec, "follow/refresh");
    let (mut next_big, mut next_small) = (n, 1000);
    g.bench("floor_small_store", |iters| {
        refreshes(&mut small, &mut small_reader, &mut next_small, iters)
    });
    g.bench("big_store", |iters| {
        refreshes(&mut big, &mut big_reader, &mut next_big, iters)
    });
    drop(g);
    let mut g = Group::new(c, rec, "follow/open");
    g.slow(scale);
    g.bench("reference_whole_open", |iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            let reader: Reader = OpenOptions::new()
                .open_read_only(dir.join("big.log"))
                .unwrap();
            total += start.elapsed();
            black_box(reader.len());
        }
        total
    });
    drop(g);
    rec.ratio(
        "follow/refresh/big_store",
        &["follow/refresh/floor_small_store"],
        Target::Time(2.0),
    );
    rec.ratio(
        "follow/refresh/big_store",
        &["follow/open/reference_whole_open"],
        Target::Reference,
    );
}

/// How a subscriber takes its events in [`inserts`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subscriber {
    None,
    /// Its queue holds the whole run, taken only at the end: every event
    /// stays in memory (the worst case for the writer's caches).
    Stalled,
    /// A thread takes and decodes every event as it comes.
    Thread,
}

/// The time of `iters` runs of `n` inserts into a fresh store.
fn inserts(dir: &Path, n: u64, iters: u64, subscriber: Subscriber) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let path = dir.join("feed.log");
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open_with(&path, config()).unwrap();
        let sub =
            (subscriber != Subscriber::None).then(|| store.subscribe_with_capacity(n as usize + 1));
        let (sub, consumer) = match (subscriber, sub) {
            (Subscriber::Thread, Some(sub)) => (
                None,
                Some(std::thread::spawn(move || {
                    (&sub).filter(|e| e.is_ok()).count()
                })),
            ),
            (_, sub) => (sub, None),
        };
        let start = Instant::now();
        for i in 0..n {
            store.insert(key(i), value(i)).unwrap();
        }
        total += start.elapsed();
        if let Some(sub) = &sub {
            assert!(!sub.is_lagged());
        }
        drop((store, sub));
        if let Some(consumer) = consumer {
            assert_eq!(consumer.join().unwrap() as u64, n);
        }
    }
    total
}

fn feed(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
    let n = scale.pick(100, 20_000, 100_000);
    let mut g = Group::new(c, rec, "feed/insert");
    g.slow(scale);
    g.bench("floor_no_subscriber", |iters| {
        inserts(dir, n, iters, Subscriber::None)
    });
    g.bench("stalled_subscriber", |iters| {
        inserts(dir, n, iters, Subscriber::Stalled)
    });
    g.bench("thread_subscriber", |iters| {
        inserts(dir, n, iters, Subscriber::Thread)
    });
    drop(g);
    rec.ratio(
        "feed/insert/stalled_subscriber",
        &["feed/insert/floor_no_subscriber"],
        Target::Throughput(0.9),
    );
    // The consumer's own work (decoding every event) competes with the
    // writer for the cores: a reference, not the writer's overhead.
    rec.ratio(
        "feed/insert/thread_subscriber",
        &["feed/insert/floor_no_subscriber"],
        Target::Reference,
    );
    if rec.reports() {
        // The groups run one after the other, so a machine whose load
        // changes between them skews their ratios: also alternate the
        // three in rounds and compare the fastest round of each.
        let mut best = [Duration::MAX; 3];
        let kinds = [Subscriber::None, Subscriber::Stalled, Subscriber::Thread];
        for _ in 0..scale.pick(1, 10, 20) {
            for (best, kind) in best.iter_mut().zip(kinds) {
                *best = (*best).min(inserts(dir, n, 1, kind));
            }
        }
        let per_insert = |d: Duration| d.as_secs_f64() * 1e9 / n as f64;
        for (name, time) in [("stalled", best[1]), ("thread", best[2])] {
            rec.say(format!(
                "alternated rounds, fastest of each: {name}_subscriber vs no_subscriber: \
                 {:.3}x throughput ({:.0} ns vs {:.0} ns per insert)",
                best[0].as_secs_f64() / time.as_secs_f64(),
                per_insert(time),
                per_insert(best[0]),
            ));
        }
    }
}

fn main() {
    let scale = Scale::detect();
    let mut c = Criterion::default().configure_from_args();
    let rec = Recorder::new(scale != Scale::Test);
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("a temporary directory");
    let n = scale.pick(2000, 100_000, 1_000_000);
    refresh(&mut c, &rec, dir.path(), n, scale);
    feed(&mut c, &rec, dir.path(), scale);
    c.final_summary();
}
