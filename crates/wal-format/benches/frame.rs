//! Frame throughput: encoding, decoding with verification, and the floor
//! they are measured against, `crc32fast::hash` over the same frame bytes.
//! One group per payload size, so the ratios come from the same run.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wal_format::{DEFAULT_MAX_RECORD_LEN, Decoded, decode_record, encode_record};

const SIZES: [(&str, usize); 3] = [("16B", 16), ("128B", 128), ("4KiB", 4096)];
const SEQ: u64 = 1_000_003;
const SYNCED_UPTO: u64 = 1_000_000;

fn frames(c: &mut Criterion) {
    for (name, size) in SIZES {
        let payload: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let mut frame = Vec::new();
        encode_record(
            &mut frame,
            SEQ,
            SYNCED_UPTO,
            &payload,
            DEFAULT_MAX_RECORD_LEN,
        )
        .unwrap();

        let mut group = c.benchmark_group(format!("frame/{name}"));
        // Every variant is charged for the whole frame, so their throughputs
        // compare directly.
        group.throughput(Throughput::Bytes(frame.len() as u64));

        let mut out = Vec::with_capacity(frame.len());
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                encode_record(
                    &mut out,
                    black_box(SEQ),
                    black_box(SYNCED_UPTO),
                    black_box(&payload),
                    DEFAULT_MAX_RECORD_LEN,
                )
                .unwrap();
                black_box(&out);
            });
        });

        group.bench_function("decode", |b| {
            b.iter(|| {
                match decode_record(black_box(&frame), black_box(SEQ), DEFAULT_MAX_RECORD_LEN) {
                    Ok(Decoded::Complete(record)) => black_box(record),
                    other => panic!("the benchmark frame must decode: {other:?}"),
                };
            });
        });

        group.bench_function("crc_floor", |b| {
            b.iter(|| black_box(crc32fast::hash(black_box(&frame))));
        });

        group.finish();
    }
}

criterion_group!(benches, frames);
criterion_main!(benches);
