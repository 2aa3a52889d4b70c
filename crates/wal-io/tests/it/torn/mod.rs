//! A torn write at every byte offset of a log's last record, the rest of the record's bytes cut off or filled with zeros, garbage or old bytes: recovery truncates to the start of that record, reports a torn tail, and the log takes 100 more appends that survive a reopen.
//!
//! [`check`] recovers one torn image and checks the verdict, [`sim`] runs
//! every tear of every shape over `SimStorage`, [`real_files`] one shape
//! over real files. This module holds what they share: the shapes of the
//! logs, the fills, and the building of the torn images.

mod check;
mod real_files;
mod sim;

use std::sync::Arc;

use crate::support::{LOG, Rng, open_log};
use wal_format::{COUNT_LEN, ENTRY_OVERHEAD, FRAME_OVERHEAD, FileHeader};
use wal_io::WalOptions;
use wal_io::sim::SimStorage;

/// What fills the bytes of the torn record after the tear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Nothing: the file ends at the tear.
    Cut,
    /// Zeros up to the file's original length.
    Zeros,
    /// Seeded random bytes up to the original length.
    Garbage,
    /// What an older file held there: frames of another log, not aligned
    /// with this one's.
    Old,
}

const FILLS: [Fill; 4] = [Fill::Cut, Fill::Zeros, Fill::Garbage, Fill::Old];

/// How a test log is built before its last record.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Records before the last one.
    prior: usize,
    /// Sync after every this many prior records (0: never).
    sync_every: usize,
    /// Start with a rewrite, so the header's base sequence number is not 0.
    rewritten: bool,
    /// The last record's payload length.
    last_len: usize,
    /// Append the last record in a batch with one other record: they share
    /// a batch frame, which is torn (and lost) as a whole.
    batched: bool,
}

const SHAPES: [Shape; 8] = [
    Shape {
        prior: 0,
        sync_every: 0,
        rewritten: false,
        last_len: 50,
        batched: false,
    },
    Shape {
        prior: 3,
        sync_every: 1,
        rewritten: false,
        last_len: 0,
        batched: false,
    },
    Shape {
        prior: 5,
        sync_every: 2,
        rewritten: false,
        last_len: 1,
        batched: false,
    },
    Shape {
        prior: 4,
        sync_every: 0,
        rewritten: false,
        last_len: 100,
        batched: false,
    },
    Shape {
        prior: 6,
        sync_every: 1,
        rewritten: false,
        last_len: 700,
        batched: true,
    },
    Shape {
        prior: 2,
        sync_every: 1,
        rewritten: false,
        last_len: 5000,
        batched: false,
    },
    Shape {
        prior: 3,
        sync_every: 3,
        rewritten: true,
        last_len: 300,
        batched: false,
    },
    Shape {
        prior: 7,
        sync_every: 4,
        rewritten: true,
        last_len: 4200,
        batched: true,
    },
];

/// A log of `shape` as a killed writer leaves it after appending its last
/// record: its bytes, the payloads before the last record, the offset where
/// the last record starts, and the sidecar (lock file) as it was then.
fn build(shape: Shape, seed: u64) -> (Vec<u8>, Vec<Vec<u8>>, u64, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let sim = SimStorage::new(seed);
    let opts = WalOptions::default();
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
    let payload = |rng: &mut Rng, len: usize| {
        let mut p = vec![0; len];
        rng.fill(&mut p);
        p
    };
    if shape.rewritten {
        for _ in 0..5 {
            wal.append(&payload(&mut rng, 20)).unwrap();
        }
        wal.rewrite(|_| Ok(())).unwrap();
    }
    let mut prior = Vec::new();
    let n = if shape.batched {
        shape.prior - 1
    } else {
        shape.prior
    };
    for i in 0..n {
        let len = rng.index(900);
        let p = payload(&mut rng, len);
        wal.append(&p).unwrap();
        prior.push(p);
        if shape.sync_every > 0 && (i + 1) % shape.sync_every == 0 {
            wal.sync().unwrap();
        }
    }
    let last = payload(&mut rng, shape.last_len);
    let start = wal.stats().bytes;
    if shape.batched {
        let other = payload(&mut rng, 200);
        wal.append_many([other.as_slice(), last.as_slice()])
            .unwrap();
    } else {
        wal.append(&last).unwrap();
    }
    let bytes = sim.read_file(LOG).unwrap();
    let sidecar = sim.read_file(format!("{LOG}.lock")).unwrap();
    drop(wal);
    let framing = if shape.batched {
        FRAME_OVERHEAD + COUNT_LEN + 2 * ENTRY_OVERHEAD + 200
    } else {
        FRAME_OVERHEAD
    };
    assert_eq!(
        bytes.len() as u64,
        start + (framing + shape.last_len) as u64
    );
    (bytes, prior, start, sidecar)
}

/// Bytes of another log (watermark 0, unrelated sequence numbers) to play
/// the old contents of the file, at least `len` long.
fn old_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x01D);
    let mut bytes = FileHeader::new(b"wal-io", 0, 1 << 40).encode().to_vec();
    let mut seq = 1 << 40;
    while bytes.len() < len {
        let mut p = vec![0; rng.index(300)];
        rng.fill(&mut p);
        wal_format::encode_record(&mut bytes, seq, 0, &p, 1 << 20).unwrap();
        seq += 1;
    }
    bytes
}

/// The image of a write of the last record torn at `cut`, with the rest of
/// the original length filled per `fill`.
fn torn_image(bytes: &[u8], cut: usize, fill: Fill, old: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut image = bytes[..cut].to_vec();
    match fill {
        Fill::Cut => {}
        Fill::Zeros => image.resize(bytes.len(), 0),
        Fill::Garbage => {
            let mut rest = vec![0; bytes.len() - cut];
            rng.fill(&mut rest);
            image.extend_from_slice(&rest);
        }
        Fill::Old => image.extend_from_slice(&old[cut..bytes.len()]),
    }
    image
}
