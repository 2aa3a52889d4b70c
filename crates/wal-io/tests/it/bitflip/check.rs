//! What recovery must do with a log damaged in given bytes ([`Expect`]),
//! and the check that it did, tallied.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::Log;
use crate::support::{LOG, check_open, open_log};
use wal_format::{HEADER_LEN, MAGIC};
use wal_io::sim::SimStorage;
use wal_io::{RecoveryMode, Storage, Truncation, TruncationReason, WalError, WalOptions};

/// What recovery must do with the bytes damaged in `lo..=hi`.
#[derive(Debug, PartialEq, Eq)]
pub enum Expect {
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

pub fn expect(log: &Log, lo: usize, hi: usize) -> Expect {
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
pub struct Tally {
    pub flips: u64,
    pub header: u64,
    pub corrupt: u64,
    pub truncated: u64,
    pub salvaged: u64,
    pub wrong_records: u64,
    pub panics: u64,
    pub failed: u64,
    pub failures: Vec<String>,
}

/// Plants `damaged` (a copy of `log` with bytes `lo..=hi` changed) and
/// checks what recovery does.
pub fn check(
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
