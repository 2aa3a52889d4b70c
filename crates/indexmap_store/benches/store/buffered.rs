//! Per-call inserts under [`Durability::Buffered`] (issue 16), against the
//! floor the issue sets, measured in the same run: the raw `BufWriter`
//! floor (the very bytes the store's log holds, one `write_all` per
//! record, through a 1 MiB `BufWriter`) plus `IndexMap::insert` of the same
//! pairs into a map grown from empty, as the store's is. Target: ≥ 0.8× the
//! two floors summed.
//!
//! For reference, the same job written by hand in one loop (encode,
//! checksum, `write_all` into the `BufWriter`, `IndexMap::insert`: what
//! crates.io `indexmap_store` 0.2.3 does, plus the checksum), the same
//! without the checksum and the frame (0.2.3's design), and the store
//! without the read-back check ([`OpenOptions::verify_writes`]`(false)`).
//! Neither side flushes its last, partly filled buffer inside the timing:
//! both have handed the same bytes to the operating system by then, give
//! or take one buffer.

use std::cell::OnceCell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::{Durability, IndexMapStore, OpenOptions};
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, Pairs, remove};
use crate::mirror::encode_op;
use crate::timed;

/// The `BufWriter`'s capacity and the store's `buf_capacity` (its default).
const BUFFER: usize = 1 << 20;

/// A new store at `path` under `Buffered`, with or without the read-back
/// check, and a copy of the pairs to insert.
fn buffered_store(
    fx: &Fixture,
    path: &Path,
    verified: bool,
) -> (Pairs, IndexMapStore<String, String>) {
    remove(path);
    let store = OpenOptions::new()
        .durability(Durability::Buffered)
        .verify_writes(verified)
        .open(path)
        .unwrap();
    (fx.data().clone(), store)
}

/// The frame the store appends for `k, v` as record `seq` while its log is
/// synced up to record 1 (the schema record, synced when the log was
/// created; `Buffered` syncs nothing more until `flush`).
fn encode_frame(buf: &mut Vec<u8>, seq: u64, k: &str, v: &str) {
    let start = wal_format::begin_record(buf);
    encode_op(buf, k, v);
    wal_format::finish_record(buf, start, seq, 1, wal_format::DEFAULT_MAX_RECORD_LEN).unwrap();
}

/// Every pair's record as the store frames it on a new log (record 0 is
/// the schema record, so the pairs are records 1 to N), checked against
/// the store's own file.
fn frames(fx: &Fixture, path: &Path) -> Vec<Vec<u8>> {
    let frames: Vec<Vec<u8>> = fx
        .data()
        .iter()
        .zip(1..)
        .map(|((k, v), seq)| {
            let mut buf = Vec::new();
            encode_frame(&mut buf, seq, k, v);
            buf
        })
        .collect();
    let (data, mut store) = buffered_store(fx, path, true);
    for (k, v) in data {
        store.insert(k, v).unwrap();
    }
    store.flush().unwrap();
    let logged = std::fs::read(path).unwrap();
    drop(store);
    remove(path);
    assert!(
        logged.ends_with(&frames.concat()),
        "the floor must write the very bytes the store logs"
    );
    frames
}

pub(crate) fn insert_buffered(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/insert_buffered");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);
    let path = fx.path("insert_buffered.log");
    let frames: OnceCell<Vec<Vec<u8>>> = OnceCell::new();
    let frames = || frames.get_or_init(|| self::frames(fx, &path));

    g.bench("floor_bufwriter", |iters| {
        let frames = frames();
        timed(
            iters,
            || BufWriter::with_capacity(BUFFER, File::create(&path).unwrap()),
            |mut w| {
                for frame in frames {
                    w.write_all(black_box(frame)).unwrap();
                }
                w
            },
            || remove(&path),
        )
    });

    g.bench("floor_indexmap", |iters| {
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

    g.bench("ref_encode_crc_bufwriter_indexmap", |iters| {
        timed(
            iters,
            || {
                let file = File::create(&path).unwrap();
                (
                    fx.data().clone(),
                    BufWriter::with_capacity(BUFFER, file),
                    Vec::new(),
                )
            },
            |(data, mut w, mut buf)| {
                let mut map = IndexMap::new();
                for ((k, v), seq) in data.into_iter().zip(1..) {
                    buf.clear();
                    encode_frame(&mut buf, seq, black_box(&k), black_box(&v));
                    w.write_all(&buf).unwrap();
                    black_box(map.insert(k, v));
                }
                (w, map, buf)
            },
            || remove(&path),
        )
    });

    // The design of crates.io 0.2.3 (a length prefix and the bincode
    // record, no checksum, no sequence number), by hand: what the
    // checksum and the frame cost is the difference from the row above.
    g.bench("ref_encode_bufwriter_indexmap_no_checksum", |iters| {
        timed(
            iters,
            || {
                let file = File::create(&path).unwrap();
                (
                    fx.data().clone(),
                    BufWriter::with_capacity(BUFFER, file),
                    Vec::new(),
                )
            },
            |(data, mut w, mut buf)| {
                let mut map = IndexMap::new();
                for (k, v) in data {
                    buf.clear();
                    buf.extend_from_slice(&[0; 4]);
                    encode_op(&mut buf, black_box(&k), black_box(&v));
                    let len = u32::try_from(buf.len() - 4).unwrap();
                    buf[..4].copy_from_slice(&len.to_le_bytes());
                    w.write_all(&buf).unwrap();
                    black_box(map.insert(k, v));
                }
                (w, map, buf)
            },
            || remove(&path),
        )
    });

    for (id, verified) in [("store_insert", true), ("store_insert_unverified", false)] {
        g.bench(id, |iters| {
            timed(
                iters,
                || buffered_store(fx, &path, verified),
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
    let s = "store/insert_buffered/store_insert";
    rec.ratio(
        s,
        &[
            "store/insert_buffered/floor_bufwriter",
            "store/insert_buffered/floor_indexmap",
        ],
        Target::Throughput(0.8),
    );
    rec.ratio(
        s,
        &["store/insert_buffered/ref_encode_crc_bufwriter_indexmap"],
        Target::Reference,
    );
    rec.ratio(
        s,
        &["store/insert_buffered/ref_encode_bufwriter_indexmap_no_checksum"],
        Target::Reference,
    );
    rec.ratio(
        s,
        &["store/insert_buffered/store_insert_unverified"],
        Target::Reference,
    );
}
