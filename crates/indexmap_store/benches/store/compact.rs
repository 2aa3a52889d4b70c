//! `store/compact`: compacting N live entries against writing the
//! compacted log's bytes through a `BufWriter`, syncing them and renaming
//! the file over the log as a compaction must (target ≥ 0.7), and for
//! reference the same with the encoding done by hand.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use indexmap_store::StoreConfig;
use test_support::bench::{Group, Recorder, Scale, Target};
use wal_format::{DEFAULT_MAX_RECORD_LEN, FileHeader, Packer};

use crate::fixture::{Fixture, Store, fresh_store};
use crate::mirror::encode_op;

/// `compact` of N live entries vs writing the same bytes (the compacted
/// log, pre-encoded) through a `BufWriter` into a temporary file, syncing
/// it, renaming it over the log and syncing the directory, as a compaction
/// must; and for reference the same with the encoding done by hand.
pub(crate) fn compact(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/compact");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);
    let (tmp, floor_log) = (fx.path("compact.tmp"), fx.path("compact_floor.log"));
    let write_and_replace = |fill: &mut dyn FnMut(&mut BufWriter<File>)| {
        let mut w = BufWriter::with_capacity(1 << 20, File::create_new(&tmp).unwrap());
        fill(&mut w);
        let file = w.into_inner().unwrap();
        file.sync_data().unwrap();
        drop(file);
        std::fs::rename(&tmp, &floor_log).unwrap();
        File::open(fx.dir.path()).unwrap().sync_all().unwrap();
    };

    g.bench("floor_bufwriter_sync", |iters| {
        let bytes = std::fs::read(fx.loaded()).unwrap();
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            write_and_replace(&mut |w| {
                for chunk in bytes.chunks(64 << 10) {
                    w.write_all(black_box(chunk)).unwrap();
                }
            });
            total += start.elapsed();
        }
        total
    });

    g.bench("ref_encode_crc_bufwriter_sync", |iters| {
        let data = fx.data();
        let mut total = Duration::ZERO;
        let mut buf = Vec::with_capacity(2 << 20);
        for _ in 0..iters {
            let start = Instant::now();
            write_and_replace(&mut |w| {
                w.write_all(&FileHeader::new(b"ims/bincode2-std", 1, 0).encode())
                    .unwrap();
                // Batch frames, encoded in place, written 1 MiB at a time,
                // as a compaction writes them.
                let mut packer = Packer::new(0, u64::MAX, DEFAULT_MAX_RECORD_LEN);
                for (k, v) in data {
                    let entry = packer.begin(&mut buf);
                    encode_op(&mut buf, black_box(k), black_box(v));
                    packer.end(&mut buf, entry).unwrap();
                    if buf.len() >= 1 << 20 {
                        packer.finish(&mut buf);
                        w.write_all(&buf).unwrap();
                        buf.clear();
                    }
                }
                packer.finish(&mut buf);
                w.write_all(&buf).unwrap();
                buf.clear();
            });
            total += start.elapsed();
        }
        total
    });

    let mut store: Option<Store> = None;
    g.bench("store_compact", |iters| {
        let store = store.get_or_insert_with(|| {
            let mut store = fresh_store(&fx.path("compact_store.log"), StoreConfig::default());
            store.insert_many(fx.data().clone()).unwrap();
            store.compact().unwrap();
            store
        });
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            store.compact().unwrap();
            total += start.elapsed();
        }
        total
    });
    g.group.finish();
    drop(store);
    rec.ratio(
        "store/compact/store_compact",
        &["store/compact/floor_bufwriter_sync"],
        Target::Throughput(0.7),
    );
    rec.ratio(
        "store/compact/store_compact",
        &["store/compact/ref_encode_crc_bufwriter_sync"],
        Target::Reference,
    );
}
