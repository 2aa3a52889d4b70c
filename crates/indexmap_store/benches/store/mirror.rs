//! The store's log format, written and read by hand: the floors and
//! references encode and decode the very bytes the store does, without it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, FrameKind, HEADER_LEN, decode_record,
};

use crate::fixture::Pairs;

/// The operation records the store writes, mirrored so the floors encode
/// and decode the very same bytes (bincode identifies variants by index).
#[derive(Serialize)]
pub(crate) enum OpRef<'a> {
    Insert(&'a str, &'a str),
}

/// Decoding side of [`OpRef`]: only inserts occur in these logs.
#[derive(Deserialize)]
pub(crate) enum Op {
    Insert(String, String),
}

/// A batch record's operation, mirrored: `Batch` is variant 5 of the
/// store's operations; the others only hold the indices.
#[derive(Serialize)]
#[expect(dead_code, reason = "only the variant index of `Batch` matters")]
pub(crate) enum BatchRef<'a> {
    Insert(()),
    ShiftRemove(()),
    SwapRemove(()),
    Clear,
    Move(u64, u64),
    Batch(InsertAll<'a>),
}

/// Every pair as a batch insert (variant 0, as [`OpRef::Insert`]).
pub(crate) struct InsertAll<'a>(&'a Pairs);

impl Serialize for InsertAll<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(k, v)| OpRef::Insert(k, v)))
    }
}

/// The frame `insert_many` appends on a new store when it logs `pairs` as
/// one batch record: record 1 (after the synced schema record, record 0),
/// checksum included.
pub(crate) fn encode_batch(pairs: &Pairs) -> Vec<u8> {
    let mut buf = Vec::new();
    let frame = wal_format::begin_record(&mut buf);
    let batch = BatchRef::Batch(InsertAll(pairs));
    bincode::serde::encode_into_std_write(batch, &mut buf, bincode::config::standard()).unwrap();
    wal_format::finish_record(&mut buf, frame, 1, 1, DEFAULT_MAX_RECORD_LEN).unwrap();
    buf
}

/// The variant index of the store's schema record, which starts every log
/// it writes and holds no entry: its payload's first byte (a varint).
const SCHEMA_VARIANT: u8 = 6;

/// The variant index of the entry count a compaction writes ahead of its
/// entries (`Op::Live`, schema version 4), then the count as a varint: the
/// store sizes its map from it, and so does [`reopen_by_hand`].
const LIVE_VARIANT: u8 = 13;

pub(crate) fn encode_op(buf: &mut Vec<u8>, k: &str, v: &str) {
    bincode::serde::encode_into_std_write(OpRef::Insert(k, v), buf, bincode::config::standard())
        .unwrap();
}

/// A frame around `encode_op(k, v)`: bincode, then the frame header with
/// its crc32fast checksum, as one would write it by hand.
pub(crate) fn encode_frame(buf: &mut Vec<u8>, seq: u64, k: &str, v: &str) {
    let start = wal_format::begin_record(buf);
    encode_op(buf, k, v);
    wal_format::finish_record(buf, start, seq, seq, DEFAULT_MAX_RECORD_LEN).unwrap();
}

/// Replays the loaded log by hand: 1 MiB reads, frame checks (checksum
/// included) with `decode_record`, each record of a batch frame, bincode
/// decoding, `IndexMap::insert`.
pub(crate) fn reopen_by_hand(path: &Path) -> IndexMap<String, String> {
    let mut map = IndexMap::new();
    read_by_hand(path, &mut map);
    map
}

/// What [`read_by_hand`] hands the payloads to.
pub(crate) trait Sink {
    /// The compaction's entry count.
    fn sized(&mut self, entries: u64) {
        let _ = entries;
    }
    /// An entry's payload.
    fn payload(&mut self, payload: &[u8]);
}

impl Sink for IndexMap<String, String> {
    fn sized(&mut self, entries: u64) {
        self.reserve(usize::try_from(entries).unwrap());
    }

    fn payload(&mut self, payload: &[u8]) {
        let (k, v) = decode_pair(payload);
        self.insert(k, v);
    }
}

/// Collects the decoded pairs (for the fill floor, untimed).
pub(crate) struct Collect<'a>(pub(crate) &'a mut Vec<(String, String)>);

impl Sink for Collect<'_> {
    fn payload(&mut self, payload: &[u8]) {
        self.0.push(decode_pair(payload));
    }
}

/// A record's `Op::Insert(k, v)`, decoded whole.
pub(crate) fn decode_pair(payload: &[u8]) -> (String, String) {
    // The mirror's `Op` has only `Insert`: anything else fails here.
    let (Op::Insert(k, v), used) =
        bincode::serde::decode_from_slice(payload, bincode::config::standard()).unwrap();
    assert_eq!(used, payload.len());
    (k, v)
}

/// Reads the loaded log by hand (1 MiB reads, frame checks with their
/// checksums, each record of a batch frame) and hands every entry's
/// payload, and the compaction's entry count, to `sink`.
pub(crate) fn read_by_hand(path: &Path, sink: &mut impl Sink) {
    let mut file = File::open(path).unwrap();
    // A version 3 header: what the store writes.
    let mut head = [0; HEADER_LEN];
    file.read_exact(&mut head).unwrap();
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&head) else {
        panic!("not a log");
    };
    let mut seq = header.base_seq;
    let mut buf = vec![0; 1 << 20];
    let (mut pos, mut end) = (0, 0);
    loop {
        loop {
            match decode_record(&buf[pos..end], seq, DEFAULT_MAX_RECORD_LEN) {
                Ok(Decoded::Complete(record)) if record.kind == FrameKind::Seal => {
                    // The seal a rewrite ends with: no data.
                    pos += record.frame_len;
                    seq += 1;
                }
                Ok(Decoded::Complete(record)) => {
                    // A batch frame's records, or a record frame's one.
                    for payload in record.payloads() {
                        match payload.split_first() {
                            Some((&SCHEMA_VARIANT, _)) => continue,
                            Some((&LIVE_VARIANT, count)) => {
                                let (n, _): (u64, usize) = bincode::serde::decode_from_slice(
                                    count,
                                    bincode::config::standard(),
                                )
                                .unwrap();
                                sink.sized(n);
                                continue;
                            }
                            _ => sink.payload(payload),
                        }
                    }
                    pos += record.frame_len;
                    seq += record.seq_count();
                }
                Ok(Decoded::Incomplete { .. }) => break,
                Err(e) => panic!("bad frame: {e}"),
            }
        }
        buf.copy_within(pos..end, 0);
        end -= pos;
        pos = 0;
        let n = file.read(&mut buf[end..]).unwrap();
        if n == 0 {
            assert_eq!(end, 0, "torn tail");
            return;
        }
        end += n;
    }
}
