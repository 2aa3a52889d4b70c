//! Online backup: [`IndexMapStore::backup_to`] writes a compacted copy of
//! the current state while the store stays open.

use std::hash::Hash;
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{RewriteWriter, WalError};

use crate::IndexMapStore;
use crate::codec::{self, OpRef, SchemaRecord};
use crate::error::from_wal;

/// How far a backup has got, as [`IndexMapStore::backup_with`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupProgress {
    /// Entries written so far.
    pub entries_written: u64,
    /// Entries the backup holds when done.
    pub entries_total: u64,
}

/// Entries between two progress reports.
const PROGRESS_EVERY: u64 = 64 * 1024;

/// Writes what a compaction writes: the schema record, the number of
/// entries (so that an open sizes the map once), then one insert per
/// entry, in order; calls `progress` with the entries written every
/// [`PROGRESS_EVERY`] entries.
pub(crate) fn write_live<K: Serialize, V: Serialize, S>(
    w: &mut RewriteWriter<'_>,
    map: &IndexMap<K, V, S>,
    schema: &SchemaRecord,
    progress: &mut dyn FnMut(u64),
) -> Result<(), WalError> {
    w.push_with(|buf| codec::encode_into(buf, &OpRef::<K, V>::Schema(schema)))?;
    let live = map.len() as u64;
    w.push_with(|buf| codec::encode_into(buf, &OpRef::<K, V>::Live(live)))?;
    for (i, (k, v)) in (1..).zip(map) {
        w.push_with(|buf| codec::encode_into(buf, &OpRef::Insert(k, v)))?;
        if i % PROGRESS_EVERY == 0 {
            progress(i);
        }
    }
    Ok(())
}

impl<K, V> IndexMapStore<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Writes a consistent, compacted copy of the store's current state to
    /// `path`, an ordinary store log that [`open`](Self::open) accepts,
    /// while the store stays open. Refuses (`AlreadyExists`, writing
    /// nothing) if `path` exists; see [`backup_with`](Self::backup_with).
    /// Returns the entries written. Cost: O(n), as a compaction.
    pub fn backup_to(&self, path: impl AsRef<Path>) -> io::Result<u64> {
        self.backup_with(path, false, |_| {})
    }

    /// Like [`backup_to`](Self::backup_to), replacing an existing file at
    /// `path` if `overwrite` (never the store's own log, nor a log a
    /// writer has open: `WouldBlock`), and calling `progress` every 65,536
    /// entries and once at the end.
    ///
    /// Written as a compaction writes: to `<path>.copy.tmp`, synced,
    /// renamed to `path`, the directory synced. A crash at any point leaves
    /// no backup (or the file it was replacing) or a complete one; a
    /// failure removes the temporary file. The store's own log is not
    /// touched. The backup gets its own lock file (`<path>.lock`) only
    /// when it replaces a file.
    pub fn backup_with(
        &self,
        path: impl AsRef<Path>,
        overwrite: bool,
        mut progress: impl FnMut(BackupProgress),
    ) -> io::Result<u64> {
        self.check_poison()?;
        let total = self.map.len() as u64;
        let mut report = |entries_written| {
            progress(BackupProgress {
                entries_written,
                entries_total: total,
            });
        };
        let (map, schema) = (&self.map, &self.schema);
        self.wal
            .write_copy(path, overwrite, |w| write_live(w, map, schema, &mut report))
            .map_err(from_wal)?;
        report(total);
        Ok(total)
    }
}
