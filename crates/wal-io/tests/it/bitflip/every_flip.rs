//! Every single-bit flip and seeded bursts over each test log (mixed sizes
//! with frequent or rare syncs, after a rewrite and a reopen, tiny
//! records), and every flip of a lone header.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::check::{Expect, Tally, check, expect};
use super::{Log, build, mixed, tiny};
use crate::support::{LOG, Rng, open_log};
use wal_format::{FileHeader, HEADER_LEN, MAGIC};
use wal_io::sim::SimStorage;
use wal_io::{WalError, WalOptions};

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
