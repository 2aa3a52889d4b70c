//! `store/insert` and `store/insert_sync`: inserts one call at a time,
//! against encoding, checksumming and writing each record by hand in the
//! same run (target ≥ 0.8 of that), and with `sync_on_write` against the
//! same record written and synced with `fdatasync` (≥ 0.9).

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::StoreConfig;
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, Pairs, fresh_store, remove};
use crate::mirror::encode_frame;
use crate::timed;

/// Single inserts: the store vs `IndexMap::insert` (A) and vs encoding,
/// checksumming and writing each record by hand (B); for reference, A and
/// B interleaved in one loop, which is what a store has to do (each write
/// evicts some of the map from the caches, so this costs more than A + B).
pub(crate) fn insert(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/insert");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);
    let path = fx.path("insert.log");

    g.bench("floor_a_indexmap", |iters| {
        timed(
            iters,
            || fx.data().clone(),
            |data| {
                let mut map = IndexMap::new();
                for (k, v) in data {
                    black_box(map.insert(k, v));
                }
                map
            },
            || {},
        )
    });

    // What writing records by hand starts from: the data, a new file and
    // an encoding buffer.
    let by_hand = || {
        let file = File::create(&path).unwrap();
        (fx.data().clone(), file, Vec::with_capacity(4096))
    };
    g.bench("floor_b_encode_crc_write", |iters| {
        timed(
            iters,
            &by_hand,
            |(data, mut file, mut buf)| {
                for (seq, (k, v)) in data.iter().enumerate() {
                    buf.clear();
                    encode_frame(&mut buf, seq as u64, black_box(k), black_box(v));
                    file.write_all(&buf).unwrap();
                }
                (file, data, buf)
            },
            || remove(&path),
        )
    });

    g.bench("ref_encode_crc_write_indexmap", |iters| {
        timed(
            iters,
            &by_hand,
            |(data, mut file, mut buf)| {
                let mut map = IndexMap::new();
                for (seq, (k, v)) in data.into_iter().enumerate() {
                    buf.clear();
                    encode_frame(&mut buf, seq as u64, black_box(&k), black_box(&v));
                    file.write_all(&buf).unwrap();
                    black_box(map.insert(k, v));
                }
                (file, map, buf)
            },
            || remove(&path),
        )
    });

    for (id, verified) in [("store_insert", true), ("store_insert_unverified", false)] {
        g.bench(id, |iters| {
            timed(
                iters,
                || fx.data_and_store(&path, verified),
                |(data, mut store)| {
                    for (k, v) in data {
                        black_box(store.insert(k, v).unwrap());
                    }
                    store
                },
                || remove(&path),
            )
        });
    }
    g.group.finish();
    let s = "store/insert/store_insert";
    rec.ratio(
        s,
        &["store/insert/store_insert_unverified"],
        Target::Reference,
    );
    let a = "store/insert/floor_a_indexmap";
    let b = "store/insert/floor_b_encode_crc_write";
    rec.ratio(s, &[b], Target::Throughput(0.8));
    rec.ratio(s, &[a], Target::Reference);
    rec.ratio(s, &[a, b], Target::Reference);
    rec.ratio(
        s,
        &["store/insert/ref_encode_crc_write_indexmap"],
        Target::Reference,
    );
}

/// Single inserts with `sync_on_write` vs a hand-encoded record written
/// with `write(2)` and synced with `fdatasync`, in the same directory.
pub(crate) fn insert_sync(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/insert_sync");
    g.group.throughput(Throughput::Elements(1));
    g.sampled(scale, Duration::from_secs(2), Duration::from_secs(3));
    let path = fx.path("insert_sync.log");
    let some = |iters: u64| -> Pairs {
        fx.data()
            .iter()
            .cycle()
            .take(iters as usize)
            .cloned()
            .collect()
    };

    g.bench("floor_encode_write_fdatasync", |iters| {
        let data = some(iters);
        let mut file = File::create(&path).unwrap();
        file.sync_all().unwrap();
        let mut buf = Vec::with_capacity(4096);
        let start = Instant::now();
        for (seq, (k, v)) in data.iter().enumerate() {
            buf.clear();
            encode_frame(&mut buf, seq as u64, black_box(k), black_box(v));
            file.write_all(&buf).unwrap();
            file.sync_data().unwrap();
        }
        let elapsed = start.elapsed();
        drop(file);
        remove(&path);
        elapsed
    });

    g.bench("store_insert_sync", |iters| {
        let data = some(iters);
        let config = StoreConfig {
            sync_on_write: true,
            ..StoreConfig::default()
        };
        let mut store = fresh_store(&path, config);
        let start = Instant::now();
        for (k, v) in data {
            black_box(store.insert(k, v).unwrap());
        }
        let elapsed = start.elapsed();
        drop(store);
        remove(&path);
        elapsed
    });
    g.group.finish();
    rec.ratio(
        "store/insert_sync/store_insert_sync",
        &["store/insert_sync/floor_encode_write_fdatasync"],
        Target::Throughput(0.9),
    );
}
