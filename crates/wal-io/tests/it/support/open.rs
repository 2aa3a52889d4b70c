//! Opening a log (on a given storage, on real files, or [`LOG`] in a
//! simulation) while collecting what it replays, and checking what a
//! successful open reports against what it replayed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wal_io::{FsStorage, RecoveryReport, Storage, Wal, WalError, WalOptions};

use super::LOG;

/// What a recovery replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Sequence number of each record.
    pub seqs: Vec<u64>,
    /// Payload of each record.
    pub payloads: Vec<Vec<u8>>,
}

/// Opens the log at `path`, collecting the replayed records.
pub fn open_at(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &WalOptions,
) -> Result<(Wal, Replayed, RecoveryReport), WalError> {
    let mut replayed = Replayed::default();
    let (wal, report) = Wal::open(storage, path, opts.clone(), |r| {
        replayed.seqs.push(r.seq);
        replayed.payloads.push(r.payload.to_vec());
        Ok(())
    })?;
    Ok((wal, replayed, report))
}

/// Opens the log at `path` on real files; returns the replayed payloads.
pub fn open_fs_with(path: &Path, opts: WalOptions) -> Result<(Wal, Vec<Vec<u8>>), WalError> {
    let (wal, replayed, _) = open_at(Arc::new(FsStorage::new()), path, &opts)?;
    Ok((wal, replayed.payloads))
}

/// [`open_fs_with`] with the default options.
pub fn open_fs(path: &Path) -> Result<(Wal, Vec<Vec<u8>>), WalError> {
    open_fs_with(path, WalOptions::default())
}

/// A new, empty log `events.log` in a fresh temporary directory, on real
/// files: the directory (which removes itself when dropped), the log's
/// path, and the log.
pub fn new_fs_log() -> (tempfile::TempDir, PathBuf, Wal) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (wal, _) = open_fs(&path).unwrap();
    (dir, path, wal)
}

/// Opens [`LOG`], collecting the replayed records.
pub fn open_log(
    storage: Arc<dyn Storage>,
    opts: &WalOptions,
) -> Result<(Wal, Replayed, RecoveryReport), WalError> {
    open_at(storage, Path::new(LOG), opts)
}

/// Checks what a successful open reports against what it replayed:
/// consecutive sequence numbers from the header's base, counts, stats.
pub fn check_open(wal: &Wal, replayed: &Replayed, report: &RecoveryReport) -> Result<(), String> {
    let base = wal.header().base_seq;
    // Sequence numbers follow the file's frames: consecutive, except that a
    // seal (never two in a row, never first) takes one between records.
    let mut expected = base;
    for (i, &seq) in replayed.seqs.iter().enumerate() {
        if !(seq == expected || (i > 0 && seq == expected + 1)) {
            return Err(format!(
                "record {i} replayed with seq {seq}, expected {expected} (or one more after a seal)"
            ));
        }
        expected = seq + 1;
    }
    let n = replayed.payloads.len() as u64;
    let stats = wal.stats();
    if report.records != n || stats.records != n || stats.unsynced_records != 0 {
        return Err(format!(
            "{n} records replayed but report says {} and stats {stats:?}",
            report.records
        ));
    }
    let sealed_end = n > 0 && stats.next_seq == expected + 1;
    if !(stats.next_seq == expected || sealed_end) || report.bytes != stats.bytes {
        return Err(format!(
            "after replaying {n} records from base {base}: stats {stats:?}, report {report:?}"
        ));
    }
    Ok(())
}
