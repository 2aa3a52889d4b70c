//! Every single-bit flip, and seeded bursts, over closed valid logs: recovery never returns a wrong record or panics; damage to a record proven synced (a later record's watermark covers it) is refused as `Corrupt` at that record's offset with the file unchanged; damage in the unsynced tail is truncated to a prefix; damage to the header is refused as `NotALog`/`BadHeader` with the file unchanged.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::support::{LOG, Rng, check_open, open_log};
use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, FrameKind, HEADER_LEN, MAGIC, decode_record,
};
use wal_io::sim::SimStorage;
use wal_io::{RecoveryMode, Storage, Truncation, TruncationReason, WalError, WalOptions};

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

/// What recovery must do with the bytes damaged in `lo..=hi`.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// The header is damaged: `NotALog` if the magic is, else `BadHeader`.
    Header { magic: bool },
    /// Record `i` is damaged and a later intact record vouches for it:
    /// `Corrupt` at its offset, vouched for by the first of `vouchers`.
    Corrupt { i: usize, vouchers: Vec<usize> },
    /// Record `i` is damaged and nothing vouches for it: truncate there.
    Truncate { i: usize },
    /// Record `i` is damaged, no later record vouches for it, but it lies
    /// before the length the header or the sidecar vouched: `Truncated`.
    Lost { i: usize },
}

fn expect(log: &Log, lo: usize, hi: usize) -> Expect {
    if lo < HEADER_LEN {
        return Expect::Header {
            magic: lo < MAGIC.len(),
        };
    }
    let i = log
        .records
        .iter()
        .position(|r| r.offset <= lo && lo < r.end)
        .unwrap_or(log.records.len());
    let seq = log.records[i].seq;
    let vouchers: Vec<usize> = log.records[i + 1..]
        .iter()
        .filter(|r| r.offset > hi && r.synced_upto > seq)
        .map(|r| r.offset)
        .collect();
    if vouchers.is_empty() && log.records[i].offset < log.vouched {
        Expect::Lost { i }
    } else if vouchers.is_empty() {
        Expect::Truncate { i }
    } else {
        Expect::Corrupt { i, vouchers }
    }
}

/// Tallies of a suite.
#[derive(Debug, Default)]
struct Tally {
    flips: u64,
    header: u64,
    corrupt: u64,
    truncated: u64,
    salvaged: u64,
    wrong_records: u64,
    panics: u64,
    failed: u64,
    failures: Vec<String>,
}

/// Plants `damaged` (a copy of `log` with bytes `lo..=hi` changed) and
/// checks what recovery does.
fn check(
    sim: &SimStorage,
    log: &Log,
    damaged: &[u8],
    lo: usize,
    hi: usize,
    salvage: bool,
    t: &mut Tally,
) {
    t.flips += 1;
    let what = expect(log, lo, hi);
    sim.write_file(LOG, damaged).unwrap();
    let opts = WalOptions {
        recovery: if salvage {
            RecoveryMode::Salvage
        } else {
            RecoveryMode::Strict
        },
        // Every other flip is opened with preallocation: no verdict may
        // change (a flip never leaves a tail of zeros to keep).
        preallocate: t.flips.is_multiple_of(2).then_some(4096),
        ..WalOptions::default()
    };
    let storage: Arc<dyn Storage> = Arc::new(sim.clone());
    let Ok(result) = catch_unwind(AssertUnwindSafe(|| open_log(storage, &opts))) else {
        t.panics += 1;
        t.failed += 1;
        t.failures.push(format!(
            "{}: bytes {lo}..={hi}: recovery panicked",
            log.name
        ));
        return;
    };
    let mut problems = Vec::new();
    if let Ok((_, replayed, _)) = &result {
        let wrong = replayed
            .payloads
            .iter()
            .zip(log.payloads())
            .filter(|(got, want)| got != want)
            .count();
        if wrong > 0 || replayed.payloads.len() > log.payloads().count() {
            t.wrong_records += wrong as u64 + 1;
            problems.push(format!("{wrong} wrong records replayed"));
        }
    }
    let unchanged = sim.read_file(LOG).as_deref() == Some(damaged)
        && sim.durable_file(LOG).as_deref() == Some(damaged);
    match (&what, result) {
        (Expect::Header { magic }, Err(e)) => {
            t.header += 1;
            let right = if *magic {
                matches!(e, WalError::NotALog { .. })
            } else {
                matches!(e, WalError::BadHeader { .. })
            };
            if !right || !unchanged {
                problems.push(format!("got {e:?}, file unchanged: {unchanged}"));
            }
        }
        (
            Expect::Corrupt { i, vouchers },
            Err(WalError::Corrupt {
                offset,
                seq,
                vouched_by,
                valid_records,
                ..
            }),
        ) if !salvage => {
            t.corrupt += 1;
            let r = &log.records[*i];
            if offset != r.offset as u64
                || seq != r.seq
                || valid_records != log.replayed_before(*i) as u64
                || Some(vouched_by) != vouchers.first().map(|&v| v as u64)
                || !unchanged
            {
                problems.push(format!(
                    "Corrupt at {offset} (seq {seq}, {valid_records} valid, vouched by {vouched_by}), file unchanged: {unchanged}"
                ));
            }
        }
        (
            Expect::Lost { i },
            Err(WalError::Truncated {
                offset,
                valid_records,
                ..
            }),
        ) if !salvage => {
            t.corrupt += 1;
            let r = &log.records[*i];
            if offset != r.offset as u64
                || valid_records != log.replayed_before(*i) as u64
                || !unchanged
            {
                problems.push(format!(
                    "Truncated at {offset} ({valid_records} valid), file unchanged: {unchanged}"
                ));
            }
        }
        (
            Expect::Corrupt { i, .. } | Expect::Truncate { i } | Expect::Lost { i },
            Ok((wal, replayed, report)),
        ) => {
            let at = log.records[*i].offset;
            let reason_ok = match (&what, &report.truncated) {
                (
                    Expect::Truncate { .. },
                    Some(Truncation {
                        reason: TruncationReason::TornTail,
                        ..
                    }),
                ) => true,
                (
                    Expect::Corrupt { .. } | Expect::Lost { .. },
                    Some(Truncation {
                        reason: TruncationReason::Salvaged { copy },
                        ..
                    }),
                ) if salvage => {
                    t.salvaged += 1;
                    let copy_ok = sim.read_file(copy).as_deref() == Some(&damaged[at..])
                        && sim.durable_file(copy).as_deref() == Some(&damaged[at..]);
                    let _ = sim.remove(copy);
                    copy_ok
                }
                _ => false,
            };
            t.truncated += 1;
            let offset_ok = report.truncated.as_ref().map(|t| t.offset) == Some(at as u64);
            let prefix = replayed.payloads.len() == log.replayed_before(*i);
            let file_ok = sim.read_file(LOG).as_deref() == Some(&damaged[..at])
                && sim.durable_file(LOG).as_deref() == Some(&damaged[..at]);
            if let Err(e) = check_open(&wal, &replayed, &report) {
                problems.push(e);
            }
            if !(reason_ok && offset_ok && prefix && file_ok) {
                problems.push(format!(
                    "opened with {} records, report {:?}, file is the prefix: {file_ok}",
                    replayed.payloads.len(),
                    report.truncated
                ));
            }
        }
        (_, Err(e)) => problems.push(format!("got {e:?}, file unchanged: {unchanged}")),
        (_, Ok((_, replayed, report))) => problems.push(format!(
            "opened with {} records, report {:?}",
            replayed.payloads.len(),
            report.truncated
        )),
    }
    for p in problems {
        t.failed += 1;
        if t.failures.len() < 20 {
            t.failures.push(format!(
                "{}: bytes {lo}..={hi} damaged (salvage: {salvage}), expected {what:?}: {p}",
                log.name
            ));
        }
    }
}

/// Every single-bit flip of `log`, then `bursts` seeded bursts of 2 to 32
/// bits; one damaged synced record in 50 is also salvaged.
fn run(log: &Log, bursts: usize, seed: u64) {
    let start = Instant::now();
    let sim = SimStorage::new(seed);
    let mut t = Tally::default();
    let mut damaged = log.bytes.clone();
    let mut proven = 0;
    for bit in 0..log.bytes.len() * 8 {
        let byte = bit / 8;
        damaged[byte] ^= 1 << (bit % 8);
        let salvage = matches!(expect(log, byte, byte), Expect::Corrupt { .. }) && {
            proven += 1;
            proven % 50 == 0
        };
        check(&sim, log, &damaged, byte, byte, salvage, &mut t);
        damaged[byte] = log.bytes[byte];
    }
    let mut rng = Rng::new(seed);
    for _ in 0..bursts {
        let len = rng.range(2, 33);
        let first = rng.index(log.bytes.len() * 8 - len + 1);
        let mut damaged = log.bytes.clone();
        for k in 0..len {
            // The first and last bits always flip; the rest at random.
            if k == 0 || k == len - 1 || rng.percent(50) {
                let bit = first + k;
                damaged[bit / 8] ^= 1 << (bit % 8);
            }
        }
        let (lo, hi) = (first / 8, (first + len - 1) / 8);
        check(&sim, log, &damaged, lo, hi, false, &mut t);
    }
    eprintln!(
        "{}: {} bytes, {} records: {} flips ({} single-bit), {} header refusals, {} Corrupt, {} truncated ({} salvaged), {} wrong records, {} panics, {:.1?}",
        log.name,
        log.bytes.len(),
        log.records.len(),
        t.flips,
        log.bytes.len() * 8,
        t.header,
        t.corrupt,
        t.truncated,
        t.salvaged,
        t.wrong_records,
        t.panics,
        start.elapsed()
    );
    assert!(
        t.failed == 0,
        "{}: {} problems in {} damaged images:\n{}",
        log.name,
        t.failed,
        t.flips,
        t.failures.join("\n")
    );
    assert_eq!((t.wrong_records, t.panics), (0, 0));
    assert!(
        t.corrupt > 0 && t.truncated > 0 && t.header > 0,
        "{}",
        log.name
    );
}

#[test]
fn mixed_sizes_with_frequent_syncs() {
    run(
        &build("mixed, frequent syncs", 1, 40, mixed, 40, false),
        8000,
        11,
    );
}

#[test]
fn mixed_sizes_with_rare_syncs_after_a_rewrite_and_a_reopen() {
    run(
        &build("mixed, rewrite, reopen", 2, 40, mixed, 10, true),
        8000,
        12,
    );
}

#[test]
fn tiny_records() {
    run(&build("tiny records", 3, 250, tiny, 15, false), 8000, 13);
}

/// The header's own tests: a flip anywhere in it is refused, for a log
/// with records and for a log of only a header.
#[test]
fn every_header_flip_is_refused_untouched() {
    let sim = SimStorage::new(4);
    let header = FileHeader::new(b"wal-io", 0, 123).encode();
    for bit in 0..HEADER_LEN * 8 {
        let mut damaged = header.to_vec();
        damaged[bit / 8] ^= 1 << (bit % 8);
        sim.write_file(LOG, &damaged).unwrap();
        let err = open_log(Arc::new(sim.clone()), &WalOptions::default()).unwrap_err();
        let magic = bit / 8 < MAGIC.len();
        assert!(
            if magic {
                matches!(err, WalError::NotALog { .. })
            } else {
                matches!(err, WalError::BadHeader { .. })
            },
            "bit {bit}: {err:?}"
        );
        assert_eq!(sim.read_file(Path::new(LOG)).as_deref(), Some(&damaged[..]));
    }
}
