//! `store/insert_many`: a bulk load of all N entries against a
//! `BufWriter` writing the same bytes (target ≥ 0.8), against that plus
//! filling an `IndexMap` with the same pairs (≥ 0.8: the whole job's
//! floor), and for reference against the same work done by hand.

use std::cell::OnceCell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::StoreConfig;
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, fresh_store, remove};
use crate::mirror::encode_batch;
use crate::timed;

/// Bulk load: `insert_many` of all N vs a `BufWriter` writing the same
/// bytes (pre-encoded: the store's own log file), and for reference vs the
/// same work done by hand: encoding every pair into one batch record,
/// checksumming it, one `write(2)`, then filling an `IndexMap`.
pub(crate) fn insert_many(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/insert_many");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);
    let path = fx.path("insert_many.log");
    // The store's log after `insert_many`: the bytes the floor writes.
    let bytes: OnceCell<Vec<u8>> = OnceCell::new();
    let bytes = || {
        bytes.get_or_init(|| {
            let mut store = fresh_store(&path, StoreConfig::default());
            store.insert_many(fx.data().iter().cloned()).unwrap();
            // What `insert_many` wrote; closing adds a seal, untimed.
            let bytes = std::fs::read(&path).unwrap();
            drop(store);
            remove(&path);
            bytes
        })
    };

    g.bench("floor_bufwriter", |iters| {
        let bytes = bytes();
        timed(
            iters,
            || File::create(&path).unwrap(),
            |file| {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                for chunk in bytes.chunks(64 << 10) {
                    w.write_all(black_box(chunk)).unwrap();
                }
                w.flush().unwrap();
                w
            },
            || remove(&path),
        )
    });

    // The other half of a bulk load's unavoidable work: filling the map.
    g.bench("floor_indexmap", |iters| {
        timed(
            iters,
            || fx.data().clone(),
            |data| {
                // Sized up front, as `IndexMap::extend` would: the fastest
                // way to fill a map with these pairs.
                let mut map = IndexMap::with_capacity(data.len());
                for (k, v) in data {
                    black_box(map.insert(k, v));
                }
                map
            },
            || {},
        )
    });

    let mut checked = false;
    g.bench("ref_encode_crc_write_indexmap", |iters| {
        if !checked {
            let bytes = bytes();
            assert!(
                bytes.ends_with(&encode_batch(fx.data())),
                "the reference must encode the very bytes the store writes"
            );
            checked = true;
        }
        timed(
            iters,
            || (fx.data().clone(), File::create(&path).unwrap()),
            |(data, mut file)| {
                let buf = encode_batch(black_box(&data));
                file.write_all(&buf).unwrap();
                drop(buf);
                let mut map = IndexMap::new();
                for (k, v) in data {
                    black_box(map.insert(k, v));
                }
                (file, map)
            },
            || remove(&path),
        )
    });

    for (id, verified) in [
        ("store_insert_many", true),
        ("store_insert_many_unverified", false),
    ] {
        g.bench(id, |iters| {
            timed(
                iters,
                || fx.data_and_store(&path, verified),
                |(data, mut store)| {
                    store.insert_many(data).unwrap();
                    store
                },
                || remove(&path),
            )
        });
    }
    g.group.finish();
    let s = "store/insert_many/store_insert_many";
    rec.ratio(
        s,
        &["store/insert_many/store_insert_many_unverified"],
        Target::Reference,
    );
    // The floor, literally: writing the log's bytes alone.
    rec.ratio(
        s,
        &["store/insert_many/floor_bufwriter"],
        Target::Throughput(0.8),
    );
    // The floor of the whole job: the same writes plus filling a plain
    // `IndexMap` with the same pairs (both raw floors, summed).
    rec.ratio(
        s,
        &[
            "store/insert_many/floor_bufwriter",
            "store/insert_many/floor_indexmap",
        ],
        Target::Throughput(0.8),
    );
    rec.ratio(
        s,
        &["store/insert_many/ref_encode_crc_write_indexmap"],
        Target::Reference,
    );
}
