//! `wal/append_one`: one 128-byte record per `Wal::append` against one
//! `write(2)` per pre-encoded frame (target ≥ 0.9 of its throughput), and
//! encoding each frame by hand and writing it, for reference.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use test_support::bench::{Group, Recorder, Scale, Target};
use wal_format::{DEFAULT_MAX_RECORD_LEN, encode_record};

use crate::{PAYLOAD, encode_frames, open_wal, payload, timed};

/// One record per call: `Wal::append` vs one `write(2)` per pre-encoded
/// frame, and (for reference) encoding the frame and writing it.
pub(crate) fn append_one(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
    let payloads: Vec<Vec<u8>> = (0..1024).map(|i| payload(i, PAYLOAD)).collect();
    let (_, frames) = encode_frames(&payloads);
    let frame_len = frames[0].len();
    let path = dir.join("append_one.log");

    let mut g = Group::new(c, rec, "wal/append_one");
    g.group.throughput(Throughput::Bytes(frame_len as u64));
    g.sampled(scale, Duration::from_secs(1), Duration::from_secs(2));

    g.bench("floor_write_all", |iters| {
        timed(&path, File::create(&path).unwrap(), |file| {
            for i in 0..iters as usize {
                file.write_all(black_box(&frames[i % frames.len()]))
                    .unwrap();
            }
        })
    });

    g.bench("wal_append", |iters| {
        timed(&path, open_wal(&path), |wal| {
            for i in 0..iters as usize {
                black_box(
                    wal.append(black_box(&payloads[i % payloads.len()]))
                        .unwrap(),
                );
            }
        })
    });

    g.bench("ref_encode_write_all", |iters| {
        let subject = (File::create(&path).unwrap(), Vec::with_capacity(frame_len));
        timed(&path, subject, |(file, buf)| {
            for i in 0..iters {
                buf.clear();
                let p = &payloads[i as usize % payloads.len()];
                encode_record(buf, i, i, black_box(p), DEFAULT_MAX_RECORD_LEN).unwrap();
                file.write_all(buf).unwrap();
            }
        })
    });
    g.group.finish();
    rec.ratio(
        "wal/append_one/wal_append",
        &["wal/append_one/floor_write_all"],
        Target::Throughput(0.9),
    );
    rec.ratio(
        "wal/append_one/wal_append",
        &["wal/append_one/ref_encode_write_all"],
        Target::Reference,
    );
}
