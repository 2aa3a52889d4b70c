//! `wal/append_many` (128 B, 1 KiB and 4 KiB payloads): 1000 records per
//! `Wal::append_many`, packed into batch frames, against a `BufWriter<File>`
//! writing the same bytes, pre-encoded (target ≥ 0.9 of its throughput),
//! and packing the frames by hand and writing them, for reference.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use test_support::bench::{Group, Recorder, Scale, Target};
use wal_format::{
    COUNT_LEN, CRC_LEN, DEFAULT_MAX_RECORD_LEN, ENTRY_OVERHEAD, FRAME_HEADER_LEN, FrameHeader,
    FrameKind, Packer,
};

use crate::{PAYLOAD, open_wal, payload, timed};

/// Records per `append_many` call.
const MANY: usize = 1000;

/// `payloads` packed as `Wal::append_many` writes them (batch frames of
/// about 64 KiB): all the bytes, and the same bytes cut into one piece per
/// record (its length and payload, in its own allocation, as an
/// application holds its records) plus each frame's header and trailer.
fn encode_batch(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut all = Vec::new();
    pack(&mut all, 0, payloads);
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(h) = FrameHeader::peek(&all[at..]) {
        let end = at + usize::try_from(h.frame_len()).unwrap();
        let mut entry = at + FRAME_HEADER_LEN;
        if h.kind == FrameKind::Batch {
            entry += COUNT_LEN;
        }
        pieces.push(all[at..entry].to_vec());
        while entry < end - CRC_LEN {
            let len = u32::from_le_bytes(all[entry..entry + 4].try_into().unwrap()) as usize;
            pieces.push(all[entry..entry + ENTRY_OVERHEAD + len].to_vec());
            entry += ENTRY_OVERHEAD + len;
        }
        pieces.push(all[entry..end].to_vec());
        at = end;
    }
    assert_eq!(at, all.len());
    assert_eq!(pieces.concat(), all);
    (all, pieces)
}

/// Appends `payloads` to `out` as records from `first_seq` on, packed as
/// the log packs them.
fn pack(out: &mut Vec<u8>, first_seq: u64, payloads: &[Vec<u8>]) {
    let mut packer = Packer::new(first_seq, first_seq, DEFAULT_MAX_RECORD_LEN);
    for p in payloads {
        packer.push(out, black_box(p)).unwrap();
    }
    packer.finish(out);
}

/// Payload sizes of the `append_many` groups beside [`PAYLOAD`], with their
/// group names: the floor does no checksumming, so the share of the
/// checksum in the log's work, and the ratio, depend on the record size.
pub(crate) const MANY_SIZES: [(usize, &str); 3] = [
    (PAYLOAD, "wal/append_many"),
    (1024, "wal/append_many_1KiB"),
    (4096, "wal/append_many_4KiB"),
];

/// [`MANY`] records of `payload_len` bytes per call: `Wal::append_many` vs
/// a `BufWriter<File>` (1 MiB, flushed at the end of each call) writing
/// the same bytes, pre-encoded: each frame's header, each record's length
/// and payload from its own allocation (as the log reads them), each
/// frame's trailer.
pub(crate) fn append_many(
    c: &mut Criterion,
    rec: &Recorder,
    dir: &Path,
    scale: Scale,
    (payload_len, name): (usize, &str),
) {
    let payloads: Vec<Vec<u8>> = (0..MANY as u64).map(|i| payload(i, payload_len)).collect();
    let (all, frames) = encode_batch(&payloads);
    let path = dir.join("append_many.log");

    let mut g = Group::new(c, rec, name);
    g.group.throughput(Throughput::Bytes(all.len() as u64));
    g.sampled(scale, Duration::from_secs(1), Duration::from_secs(1));

    g.bench("floor_bufwriter", |iters| {
        let w = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
        timed(&path, w, |w| {
            for _ in 0..iters {
                for frame in &frames {
                    w.write_all(black_box(frame)).unwrap();
                }
                w.flush().unwrap();
            }
        })
    });

    g.bench("wal_append_many", |iters| {
        timed(&path, open_wal(&path), |wal| {
            for _ in 0..iters {
                let seqs = wal
                    .append_many(payloads.iter().map(|p| black_box(p.as_slice())))
                    .unwrap();
                black_box(seqs);
            }
        })
    });

    g.bench("ref_encode_write_all", |iters| {
        let subject = (File::create(&path).unwrap(), Vec::with_capacity(all.len()));
        timed(&path, subject, |(file, buf)| {
            let mut seq = 0;
            for _ in 0..iters {
                buf.clear();
                pack(buf, seq, &payloads);
                seq += payloads.len() as u64;
                file.write_all(buf).unwrap();
            }
        })
    });
    g.group.finish();
    rec.ratio(
        &format!("{name}/wal_append_many"),
        &[&format!("{name}/floor_bufwriter")],
        Target::Throughput(0.9),
    );
    rec.ratio(
        &format!("{name}/wal_append_many"),
        &[&format!("{name}/ref_encode_write_all")],
        Target::Reference,
    );
}
