//! A torn write at every byte offset of a log's last record, the rest of the record's bytes cut off or filled with zeros, garbage or old bytes: recovery truncates to the start of that record, reports a torn tail, and the log takes 100 more appends that survive a reopen.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::support::{LOG, Rng, check_open, open_at, open_log};
use wal_format::{COUNT_LEN, ENTRY_OVERHEAD, FRAME_OVERHEAD, FileHeader, HEADER_LEN};
use wal_io::sim::SimStorage;
use wal_io::{FsStorage, Storage, Truncation, TruncationReason, Wal, WalOptions};

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

/// Recovers `image` (already planted at `path` of `storage`), checks the
/// truncation, then appends 100 records and checks they survive a reopen.
/// `read` reads the file's current bytes. With `preallocate`, opens with
/// [`WalOptions::preallocate`].
#[expect(
    clippy::too_many_arguments,
    reason = "a test helper; each argument is one aspect of the case"
)]
fn check(
    storage: Arc<dyn Storage>,
    path: &Path,
    image: &[u8],
    prior: &[Vec<u8>],
    start: u64,
    rng: &mut Rng,
    read: &dyn Fn() -> Vec<u8>,
    preallocate: bool,
) -> Result<(), String> {
    let opts = WalOptions {
        preallocate: preallocate.then_some(1024),
        ..WalOptions::default()
    };
    let (mut wal, replayed, report) =
        open_at(storage.clone(), path, &opts).map_err(|e| format!("open failed: {e}"))?;
    check_open(&wal, &replayed, &report)?;
    if replayed.payloads != prior {
        return Err(format!(
            "replayed {} records, expected the {} before the torn one",
            replayed.payloads.len(),
            prior.len()
        ));
    }
    let torn = image.len() as u64 > start;
    // Opened with preallocation, a tail of nothing but zeros (the record
    // torn at its first byte) is preallocated space, kept; anything else
    // is the same torn tail as without.
    let zeros = torn && image[start as usize..].iter().all(|&b| b == 0);
    if preallocate && zeros {
        if report.truncated.is_some()
            || report.preallocated != image.len() as u64 - start
            || read() != image
        {
            return Err(format!(
                "a zero tail opened with preallocation: {report:?}, expected it kept"
            ));
        }
    } else if report.preallocated != 0 {
        return Err(format!("reported preallocated space in {report:?}"));
    }
    match (&report.truncated, torn) {
        (None, false) => {}
        (None, true) if preallocate && zeros => {}
        (
            Some(Truncation {
                offset,
                bytes,
                reason: TruncationReason::TornTail,
                ..
            }),
            true,
        ) if *offset == start && *bytes == image.len() as u64 - start => {}
        (t, _) => {
            return Err(format!(
                "reported {t:?}, expected a torn tail at {start} of {} bytes",
                image.len()
            ));
        }
    }
    if report.bytes != start || (!(preallocate && zeros) && read() != image[..start as usize]) {
        return Err(format!(
            "after recovery the file holds {} bytes (report: {}), expected {start}",
            read().len(),
            report.bytes
        ));
    }
    let mut expected = prior.to_vec();
    for i in 0..100 {
        let mut p = vec![0; rng.index(if i % 10 == 0 { 5000 } else { 200 })];
        rng.fill(&mut p);
        wal.append(&p)
            .map_err(|e| format!("append {i} failed: {e}"))?;
        expected.push(p);
    }
    drop(wal);
    let reopened = open_at(storage, path, &opts).map_err(|e| format!("reopen failed: {e}"))?;
    let (wal, replayed, report) = reopened;
    check_open(&wal, &replayed, &report)?;
    if replayed.payloads != expected || report.truncated.is_some() {
        return Err(format!(
            "after 100 appends the reopen replayed {} records (expected {}), truncation {:?}",
            replayed.payloads.len(),
            expected.len(),
            report.truncated
        ));
    }
    Ok(())
}

/// Every cut of the last record of `shape`, every fill, over `SimStorage`;
/// returns the cases checked.
fn every_cut(index: usize, shape: Shape) -> usize {
    let seed = 1000 + index as u64;
    let (bytes, prior, start, sidecar) = build(shape, seed);
    let old = old_bytes(bytes.len(), seed);
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut cases: usize = 0;
    let sim = SimStorage::new(seed);
    let start_us = usize::try_from(start).unwrap_or(usize::MAX);
    assert!(start_us >= HEADER_LEN, "shape {index}");
    for cut in start_us..bytes.len() {
        for fill in FILLS {
            let image = torn_image(&bytes, cut, fill, &old, &mut rng);
            if image == bytes {
                // The fill rebuilt the record (its last bytes were zeros).
                continue;
            }
            sim.write_file(LOG, &image).unwrap();
            // Each image is a fresh kill of the writer: the sidecar holds
            // what that writer's open recorded, not what the previous
            // check's appends and close did.
            sim.write_file(format!("{LOG}.lock"), &sidecar).unwrap();
            cases += 1;
            let read = || sim.read_file(LOG).unwrap_or_default();
            if let Err(e) = check(
                Arc::new(sim.clone()),
                Path::new(LOG),
                &image,
                &prior,
                start,
                &mut rng,
                &read,
                // Every other image is opened with preallocation: the
                // verdicts must not change.
                cases.is_multiple_of(2),
            ) {
                failures.push(format!(
                    "shape {index} {shape:?} (seed {seed}), record at {start}, torn at byte {cut} (+{}), fill {fill:?}: {e}",
                    cut - start_us
                ));
            }
            if sim.durable_file(LOG) != sim.read_file(LOG) {
                failures.push(format!(
                    "shape {index}, torn at byte {cut}, fill {fill:?}: the recovered log is not durable"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} torn images mishandled:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    cases
}

#[test]
fn every_tear_of_small_last_records() {
    let t = Instant::now();
    let mut cases = 0;
    for (i, shape) in SHAPES.iter().enumerate() {
        if shape.last_len < 1000 {
            cases += every_cut(i, *shape);
        }
    }
    eprintln!("{cases} torn images recovered in {:.1?}", t.elapsed());
}

#[test]
fn every_tear_of_a_record_across_pages() {
    let t = Instant::now();
    let cases = every_cut(5, SHAPES[5]);
    eprintln!("{cases} torn images recovered in {:.1?}", t.elapsed());
}

#[test]
fn every_tear_of_a_large_batched_record_after_a_rewrite() {
    let t = Instant::now();
    let cases = every_cut(7, SHAPES[7]);
    eprintln!("{cases} torn images recovered in {:.1?}", t.elapsed());
}

/// The same over real files, for one shape.
#[test]
fn every_tear_over_real_files() {
    let shape = SHAPES[2];
    let seed = 77;
    let (bytes, prior, start, sidecar) = build(shape, seed);
    let old = old_bytes(bytes.len(), seed);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.log");
    let lock = dir.path().join("torn.log.lock");
    let start_us = usize::try_from(start).unwrap_or(usize::MAX);
    let mut cases = 0;
    for cut in start_us..bytes.len() {
        for fill in FILLS {
            let image = torn_image(&bytes, cut, fill, &old, &mut rng);
            if image == bytes {
                continue;
            }
            std::fs::write(&path, &image).unwrap();
            std::fs::write(&lock, &sidecar).unwrap();
            let read = || std::fs::read(&path).unwrap_or_default();
            let storage: Arc<dyn Storage> = Arc::new(FsStorage::new());
            if let Err(e) = check(
                storage,
                &path,
                &image,
                &prior,
                start,
                &mut rng,
                &read,
                cases % 2 == 1,
            ) {
                panic!(
                    "real file torn at byte {cut} (+{}), fill {fill:?}: {e}",
                    cut - start_us
                );
            }
            cases += 1;
        }
    }
    assert!(cases > 3 * (bytes.len() - start_us));
    // The lock is released: the directory holds the log and its lock file.
    let (wal, _) = Wal::open(
        Arc::new(FsStorage::new()),
        &path,
        WalOptions::default(),
        |_| Ok(()),
    )
    .unwrap();
    assert_eq!(wal.stats().records, prior.len() as u64 + 100);
}
