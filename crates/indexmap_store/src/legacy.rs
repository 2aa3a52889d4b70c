//! Logs written by indexmap_store 0.2.x, the crates.io crate this one
//! replaces: recognising them on open, and converting them
//! ([`OpenOptions::import_legacy`]).
//!
//! That crate's log (read from its 0.2.3 source) has no header and no
//! checksum. It is a sequence of records, each a `u32` little-endian length
//! of what follows, then that many bytes: a tag (0 insert, 1 remove) and
//! the bincode 1 encoding (`bincode::serialize`: fixed-width little-endian
//! integers, `u64` lengths) of `(K, V)` or `K`. Its open replays records
//! front to back into an `IndexMap` (`insert`; a remove is `shift_remove`)
//! and stops at the first record that is short, has length 0, an unknown
//! tag, or does not decode, cutting the file there. Its compaction writes
//! one insert per live entry in order, in the same format. Nothing else is
//! ever logged (its `modify` logs an insert).
//!
//! The import replays with those rules, but stricter in three places, all
//! about bytes that crate never wrote with the types given: a record must
//! decode whole (bincode 1 allowed leftover bytes); if the *first* record
//! does not decode, the import fails (other types) instead of importing
//! nothing; and if records that decode follow the one it stops at (other
//! than one cut short), it fails instead of dropping them. The files it
//! writes beside the log are in [`crate::legacy_files`], the format's
//! parser in [`crate::legacy_format`].

use std::hash::Hash;
use std::io;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::WalError;
use wal_io::inspect::may_be_log;
use wal_io::storage::parent_dir;

use crate::IndexMapStore;
use crate::error::StoreError;
use crate::legacy_files::{clear_import_tmp, io_err, read_all, sibling, write_backup};
use crate::legacy_format::{parse, would_drop};
use crate::open_options::OpenOptions;

/// Suffix of the copy of a 0.2.x log an import keeps (`<path>.v0-backup`).
pub const LEGACY_BACKUP_SUFFIX: &str = ".v0-backup";

/// Suffix of the new log an import writes before renaming it over the old
/// one.
const IMPORT_TMP_SUFFIX: &str = ".v0-import.tmp";

/// What [`OpenOptions::import_legacy`] imported from an indexmap_store
/// 0.2.x log, from [`IndexMapStore::legacy_import`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacyImport {
    /// Records of the old log replayed.
    pub records: u64,
    /// Entries the store holds after the import.
    pub entries: u64,
    /// Bytes at the end of the old log that were not imported, because
    /// indexmap_store 0.2.x would have cut them off too (see `tail`).
    pub ignored_bytes: u64,
    /// Why the replay stopped before the end of the old log, if it did.
    pub tail: Option<LegacyTail>,
    /// Where the old log's bytes were kept, unchanged.
    pub backup: PathBuf,
}

/// Why the replay of a 0.2.x log stopped before its end: each ends the log
/// for indexmap_store 0.2.x too, which cut the file there on its next open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegacyTail {
    /// A record cut short: an interrupted write.
    Incomplete,
    /// A record of length 0 (zeros left by a power loss).
    ZeroLength,
    /// A record whose tag is neither insert (0) nor remove (1).
    UnknownTag(u8),
    /// A complete record that does not decode as the key and value types.
    Undecodable,
}

impl OpenOptions {
    /// Whether to convert a log written by indexmap_store 0.2.x (the
    /// crates.io crate this one replaces) when [`open`](Self::open) finds
    /// one (default `false`: such a log is refused with
    /// [`StoreError::LegacyLog`], untouched).
    ///
    /// With `true`, the old log is replayed with that crate's own rules (a
    /// record cut short, or one that does not decode, ends it, as that
    /// crate's open cut it there), then:
    ///
    /// 1. its bytes are copied to `<path>.v0-backup`, synced, and the
    ///    directory synced (an existing backup that holds other bytes fails
    ///    the import with [`StoreError::LegacyBackupExists`]: it is never
    ///    overwritten);
    /// 2. the new log, holding the schema record and one insert per entry
    ///    in order, is written to `<path>.v0-import.tmp`, synced, checked to
    ///    replay, renamed over `path`, and the directory synced.
    ///
    /// A crash at any point leaves the old log (and perhaps its backup) or
    /// the new log; opening again finishes or skips the import. What was
    /// imported is in [`IndexMapStore::legacy_import`]. A log of this
    /// library opens as usual. If the old log's first record does not
    /// decode as `(K, V)` (other types), the import fails with
    /// [`StoreError::LegacyImport`] and changes nothing.
    ///
    /// Cost: one read of the old log, one write of the backup and one of
    /// the new log, and one replay of the new log.
    ///
    /// ```no_run
    /// use indexmap_store::{IndexMapStore, OpenOptions};
    /// let store: IndexMapStore<String, u64> =
    ///     OpenOptions::new().import_legacy(true).open("users.log")?;
    /// if let Some(import) = store.legacy_import() {
    ///     println!("imported {} entries; the old log is {}", import.entries, import.backup.display());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn import_legacy(mut self, import: bool) -> Self {
        self.import_legacy = import;
        self
    }

    /// After the log at the opener's path was refused with `err`: if it is
    /// a 0.2.x log (a [`WalError::NotALog`] file that replays at least one
    /// record as `K` and `V`), refuse it with [`StoreError::LegacyLog`], or
    /// with [`import_legacy`](Self::import_legacy) convert it. Any other
    /// error is returned as it is.
    pub(crate) fn legacy_fallback<K, V>(&self, err: io::Error) -> io::Result<Option<LegacyImport>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let path = match err.get_ref().and_then(|e| e.downcast_ref::<StoreError>()) {
            Some(StoreError::Log(WalError::NotALog { path })) => path.clone(),
            _ => return Err(err),
        };
        if self.import_legacy {
            return self.import::<K, V>(&path, err);
        }
        Err(self.legacy_refusal::<K, V>(err))
    }

    /// `err`, a refusal of the log at the opener's path, as
    /// [`StoreError::LegacyLog`] if the file is a 0.2.x log (a
    /// [`WalError::NotALog`] file that replays at least one record as `K`
    /// and `V`); otherwise `err` itself. Reads the file, changes nothing.
    pub(crate) fn legacy_refusal<K, V>(&self, err: io::Error) -> io::Error
    where
        K: Hash + Eq + DeserializeOwned,
        V: DeserializeOwned,
    {
        let path = match err.get_ref().and_then(|e| e.downcast_ref::<StoreError>()) {
            Some(StoreError::Log(WalError::NotALog { path })) => path.clone(),
            _ => return err,
        };
        let Ok(bytes) = read_all(&*self.storage, &path) else {
            return err;
        };
        let parsed = parse::<K, V>(&bytes);
        if parsed.records == 0 {
            return err;
        }
        StoreError::LegacyLog {
            path,
            records: parsed.records,
        }
        .into()
    }

    /// Converts the 0.2.x log at `path` (see
    /// [`import_legacy`](Self::import_legacy)), holding its lock; `None`
    /// if it turned out to be a log of ours meanwhile.
    fn import<K, V>(&self, path: &Path, not_a_log: io::Error) -> io::Result<Option<LegacyImport>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let storage = &*self.storage;
        let lock_path = sibling(path, ".lock");
        let lock_was_there = storage.file_exists(&lock_path).unwrap_or(true);
        let lock = match storage.lock(&lock_path) {
            Ok(lock) => lock,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(StoreError::Log(WalError::AlreadyOpen {
                    path: path.to_path_buf(),
                })
                .into());
            }
            Err(e) => return Err(io_err("locking", &lock_path, e)),
        };
        let result = self.import_locked::<K, V>(path, not_a_log);
        if result.is_err() && !lock_was_there {
            let _ = storage.remove(&lock_path);
        }
        drop(lock);
        result
    }

    fn import_locked<K, V>(
        &self,
        path: &Path,
        not_a_log: io::Error,
    ) -> io::Result<Option<LegacyImport>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let storage = &*self.storage;
        let dir = parent_dir(path);
        let bytes = read_all(storage, path).map_err(|e| io_err("reading", path, e))?;
        if may_be_log(&bytes) {
            // Converted by another handle since the refusal.
            return Ok(None);
        }
        let parsed = parse::<K, V>(&bytes);
        if parsed.records == 0 {
            return match (parsed.tail, parsed.decode_error) {
                (Some(LegacyTail::Undecodable), Some(detail)) => Err(StoreError::LegacyImport {
                    path: path.to_path_buf(),
                    reason: format!(
                        "its first record does not decode as the key and value types ({detail}): it was written with other types, or is not a 0.2.x log"
                    ),
                }
                .into()),
                // No complete record, but what there is could be the start
                // of 0.2.x's first record (always an insert, tag 0): a
                // first write cut short, which 0.2.x would have opened
                // empty. Said so, rather than "not a log".
                (Some(LegacyTail::Incomplete), _) if bytes.get(4).is_none_or(|&tag| tag == 0) => {
                    Err(StoreError::LegacyImport {
                        path: path.to_path_buf(),
                        reason: format!(
                            "its {} bytes hold no complete 0.2.x record (its first record is cut short: a first write interrupted by a crash, which 0.2.x would have opened as an empty store), so there is nothing to import: if that is what it is, delete it or move it away, and open again",
                            bytes.len()
                        ),
                    }
                    .into())
                }
                _ => Err(not_a_log),
            };
        }

        if let Some(reason) = would_drop(&bytes, &parsed) {
            return Err(StoreError::LegacyImport {
                path: path.to_path_buf(),
                reason,
            }
            .into());
        }

        // What an interrupted import left, cleared (or refused) before
        // anything is written.
        let tmp = sibling(path, IMPORT_TMP_SUFFIX);
        clear_import_tmp(storage, path, &tmp)?;

        // 1. The backup, durable before the log is replaced.
        let backup = sibling(path, LEGACY_BACKUP_SUFFIX);
        let created = write_backup(storage, &backup, &bytes)?;

        // 2. The new log beside it, then renamed over the old one.
        let entries = parsed.map.len() as u64;
        let written = self.write_new_log::<K, V>(&tmp, parsed.map);
        let written = written.and_then(|()| {
            // The new log must replay before it replaces the old one.
            let check: IndexMapStore<K, V> = self.plain().open(&tmp)?;
            if check.len() as u64 != entries {
                return Err(StoreError::LegacyImport {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the converted log reads back {} entries, not {entries}: the key or value type does not round-trip through bincode",
                        check.len()
                    ),
                }
                .into());
            }
            check.close()
        });
        let written = written.and_then(|()| {
            storage
                .rename(&tmp, path)
                .map_err(|e| io_err("renaming over", path, e))
        });
        if let Err(e) = written {
            // The old log is as it was: so is the directory, as the error
            // says ("Nothing was changed"), but for a backup of an earlier
            // attempt, which the next one reuses.
            let _ = storage.remove(&tmp);
            let _ = storage.remove(&sibling(&tmp, ".lock"));
            if created {
                let _ = storage.remove(&backup);
            }
            let _ = storage.sync_dir(dir);
            return Err(e);
        }
        storage
            .sync_dir(dir)
            .map_err(|e| io_err("syncing directory of", path, e))?;
        if storage.remove(&sibling(&tmp, ".lock")).is_ok() {
            let _ = storage.sync_dir(dir);
        }
        Ok(Some(LegacyImport {
            records: parsed.records,
            entries,
            ignored_bytes: (bytes.len() - parsed.valid_len) as u64,
            tail: parsed.tail,
            backup,
        }))
    }

    /// These options without the import.
    fn plain(&self) -> Self {
        let mut plain = self.clone();
        plain.import_legacy = false;
        plain
    }

    /// Writes a new log at `tmp` holding the schema record and `map`'s
    /// entries in order, synced and sealed.
    fn write_new_log<K, V>(&self, tmp: &Path, map: IndexMap<K, V>) -> io::Result<()>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let mut store: IndexMapStore<K, V> = self.plain().open(tmp)?;
        store.map = map;
        store.compact()?;
        store.close()
    }
}

impl<K, V> IndexMapStore<K, V> {
    /// What this open imported from an indexmap_store 0.2.x log (see
    /// [`OpenOptions::import_legacy`]); `None` if it opened a log of this
    /// library.
    #[must_use]
    pub fn legacy_import(&self) -> Option<&LegacyImport> {
        self.legacy.as_ref()
    }
}
