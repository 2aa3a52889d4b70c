//! Every tear of the last record of every shape, with every fill, over
//! `SimStorage`: the small records in one test, the record across pages and
//! the large batched one after a rewrite in one test each.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::check::check;
use super::{FILLS, SHAPES, Shape, build, old_bytes, torn_image};
use crate::support::{LOG, Rng};
use wal_format::HEADER_LEN;
use wal_io::sim::SimStorage;

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
