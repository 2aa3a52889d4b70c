//! The verdict on one torn image: recovery truncates to the start of the
//! torn record (or, opened with preallocation, keeps a tail of nothing but
//! zeros), reports it, and the log takes 100 appends that survive a reopen.

use std::path::Path;
use std::sync::Arc;

use crate::support::{Rng, check_open, open_at};
use wal_io::{Storage, Truncation, TruncationReason, WalOptions};

/// Recovers `image` (already planted at `path` of `storage`), checks the
/// truncation, then appends 100 records and checks they survive a reopen.
/// `read` reads the file's current bytes. With `preallocate`, opens with
/// [`WalOptions::preallocate`].
#[expect(
    clippy::too_many_arguments,
    reason = "a test helper; each argument is one aspect of the case"
)]
pub fn check(
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
