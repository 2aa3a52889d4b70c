//! Every single-bit flip, and seeded bursts, over closed valid logs: recovery never returns a wrong record or panics; damage to a record proven synced (a later record's watermark covers it) is refused as `Corrupt` at that record's offset with the file unchanged; damage in the unsynced tail is truncated to a prefix; damage to the header is refused as `NotALog`/`BadHeader` with the file unchanged.
//!
//! [`check`] says what recovery must do with a damaged log and checks that
//! it did; [`every_flip`] runs every flip and the bursts over each test log.
//! This module holds the test logs: built with `Wal`, decoded by hand.

mod check;
mod every_flip;

use std::sync::Arc;

use crate::support::{LOG, Rng, open_log};
use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, FrameKind, HEADER_LEN, decode_record,
};
use wal_io::WalOptions;
use wal_io::sim::SimStorage;

/// One frame of a test log, as decoded from its bytes.
#[derive(Debug, Clone)]
struct Rec {
    offset: usize,
    end: usize,
    /// The sequence number of its (first) record.
    seq: u64,
    synced_upto: u64,
    /// Its records' payloads: one for a record frame, several for a batch
    /// frame, none for a seal (a frame the log writes for itself).
    payloads: Vec<Vec<u8>>,
}

/// A closed, valid log and its records.
struct Log {
    name: &'static str,
    bytes: Vec<u8>,
    records: Vec<Rec>,
    /// Where the records that the header or the sidecar vouch durable end.
    vouched: usize,
}

impl Log {
    /// The application records (seals left out), as replay yields them.
    fn payloads(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.records.iter().flat_map(|r| &r.payloads)
    }

    /// How many application records precede frame `i`.
    fn replayed_before(&self, i: usize) -> usize {
        self.records[..i].iter().map(|r| r.payloads.len()).sum()
    }
}

/// Decodes every record of a valid log.
fn decode_all(bytes: &[u8]) -> Vec<Rec> {
    let Ok(Decoded::Complete(header)) = FileHeader::decode(bytes) else {
        panic!("not a valid log");
    };
    let mut at = HEADER_LEN;
    let mut seq = header.base_seq;
    let mut records = Vec::new();
    while at < bytes.len() {
        let Ok(Decoded::Complete(r)) = decode_record(&bytes[at..], seq, DEFAULT_MAX_RECORD_LEN)
        else {
            panic!("damaged test log at {at}");
        };
        records.push(Rec {
            offset: at,
            end: at + r.frame_len,
            seq,
            synced_upto: r.synced_upto,
            payloads: r.payloads().map(<[u8]>::to_vec).collect(),
        });
        assert_eq!(r.kind == FrameKind::Seal, r.payloads().count() == 0);
        at += r.frame_len;
        seq += r.seq_count();
    }
    records
}

/// Builds a log with `Wal`: `n` records of sizes from `size`, a sync after
/// each with probability `sync_pct`, optionally starting with a rewrite and
/// with a reopen in the middle.
fn build(
    name: &'static str,
    seed: u64,
    n: usize,
    size: fn(&mut Rng) -> usize,
    sync_pct: usize,
    rewrite: bool,
) -> Log {
    let mut rng = Rng::new(seed);
    let sim = SimStorage::new(seed);
    let opts = WalOptions::default();
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
    let payload = |rng: &mut Rng| {
        let mut p = vec![0; size(rng)];
        rng.fill(&mut p);
        p
    };
    if rewrite {
        for _ in 0..9 {
            wal.append(&payload(&mut rng)).unwrap();
        }
        let kept: Vec<Vec<u8>> = (0..4).map(|_| payload(&mut rng)).collect();
        wal.rewrite(|w| kept.iter().try_for_each(|p| w.push(p)))
            .unwrap();
    }
    for i in 0..n {
        if i % 8 == 7 && rng.percent(50) {
            wal.append_many([payload(&mut rng).as_slice(), &payload(&mut rng)])
                .unwrap();
        } else {
            wal.append(&payload(&mut rng)).unwrap();
        }
        if rng.percent(sync_pct) {
            wal.sync().unwrap();
        }
        if i == n / 2 && rewrite {
            drop(wal);
            wal = open_log(Arc::new(sim.clone()), &opts).unwrap().0;
        }
    }
    drop(wal);
    let bytes = sim.read_file(LOG).unwrap();
    let records = decode_all(&bytes);
    let vouched = vouched_len(&bytes, &sim.read_file(format!("{LOG}.lock")).unwrap());
    Log {
        name,
        bytes,
        records,
        vouched,
    }
}

/// The larger of the header's `vouched_len` and the sidecar claim's
/// `durable_len` when the claim names the log's `file_id`, read by hand
/// from the layouts in FORMAT.md.
fn vouched_len(log: &[u8], sidecar: &[u8]) -> usize {
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (file_id, header_vouched) = (u64_at(log, 40), u64_at(log, 48));
    assert_eq!(sidecar.len(), 32, "a closed log's sidecar holds a claim");
    assert_eq!(&sidecar[..8], b"\x89WALclm\n");
    let claim = if u64_at(sidecar, 12) == file_id {
        u64_at(sidecar, 20)
    } else {
        0
    };
    usize::try_from(header_vouched.max(claim)).unwrap()
}

fn mixed(rng: &mut Rng) -> usize {
    match rng.index(10) {
        0 => 0,
        1 => rng.range(1000, 2500),
        _ => rng.index(300),
    }
}

fn tiny(rng: &mut Rng) -> usize {
    rng.index(6)
}
