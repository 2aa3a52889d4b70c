//! [`IndexMapStore`]: the store, its logging step and statistics.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{RecoveryReport, Storage, Wal};

use crate::codec::{self, SchemaRecord};
use crate::compaction::{Compaction, CompactionFailure};
use crate::config::StoreConfig;
use crate::durability::SyncPolicy;
use crate::error::{StoreError, from_callback, from_wal};
use crate::feed::Feed;
use crate::open::Replayed;
use crate::open_options::OpenOptions;
use crate::read_back::{Shape, WriteError, encode_checked};

/// Suffix of the temporary file a compaction writes (`<path>.compact.tmp`).
pub const COMPACT_TMP_SUFFIX: &str = ".compact.tmp";

/// A persistent, insertion-ordered map: an [`IndexMap`] in memory, made
/// durable by an append-only log file.
///
/// Reads are the map's own, at its speed. Every mutation appends one record
/// to the log and hands it to the operating system before it returns (with
/// [`StoreConfig::sync_on_write`], it is also synced), then changes the map.
/// Opening replays the log. See the [crate docs](crate).
///
/// `S` is the map's hasher, as in [`IndexMap`]: the default is the standard
/// library's [`RandomState`]; open with
/// [`OpenOptions::open_with_hasher`] to use another (such as `foldhash` or
/// `ahash`). The hasher never reaches the file: a log written under one
/// hasher opens under any other.
pub struct IndexMapStore<K, V, S = RandomState> {
    pub(crate) map: IndexMap<K, V, S>,
    pub(crate) wal: Wal,
    pub(crate) config: StoreConfig,
    pub(crate) report: RecoveryReport,
    pub(crate) compaction: Compaction,
    /// The schema record of `K` and `V`, written first by every compaction.
    pub(crate) schema: SchemaRecord,
    /// Set when memory got ahead of the log; refuses every later write.
    pub(crate) poison: Option<String>,
    /// Whether every record is checked to read back before it is logged
    /// ([`OpenOptions::verify_writes`]).
    pub(crate) verify_writes: bool,
    /// What the open imported from an indexmap_store 0.2.x log.
    pub(crate) legacy: Option<crate::LegacyImport>,
    /// When mutations are synced ([`OpenOptions::durability`]).
    pub(crate) sync: SyncPolicy,
    /// The change feed's subscribers ([`IndexMapStore::subscribe`]).
    pub(crate) feed: Feed,
}

/// Counters describing a store's log, from [`IndexMapStore::stats`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct StoreStats {
    /// Entries in the map (one record each after a compaction).
    pub live_records: u64,
    /// Mutations in the log: every insert, removal, modification, clear
    /// and move counts one, a batch counts its operations (it is one
    /// record), the schema record none. A compaction resets it to the
    /// number of live entries. The compaction policy uses this count.
    pub total_records: u64,
    /// Size of the log file in bytes.
    pub log_bytes: u64,
    /// Share of the log's mutations that no longer describe a live entry:
    /// `(total - live) / total`, 0 for an empty log.
    pub dead_ratio: f64,
    /// Compactions run by this handle, automatic and manual.
    pub compactions: u64,
    /// Records appended since the last sync (lost on power loss).
    pub unsynced_records: u64,
    /// Compactions that failed in this handle, automatic and manual. A
    /// failed automatic compaction does not fail the mutation that
    /// triggered it; it is retried later (see the crate docs).
    pub failed_compactions: u64,
    /// The last compaction failure of this handle, if any.
    pub last_compaction_error: Option<CompactionFailure>,
    /// The log's durable watermark: every record with a lower sequence
    /// number survives power loss. It reaches [`next_seq`](Self::next_seq)
    /// after a [`flush`](IndexMapStore::flush) (or a sync the
    /// [`Durability`](crate::Durability) policy made).
    pub durable_seq: u64,
    /// The sequence number the next record will get: one more than the
    /// last mutation's record.
    pub next_seq: u64,
    /// Bytes of records in the user-space buffer of
    /// [`Durability::Buffered`](crate::Durability::Buffered), not yet
    /// handed to the operating system (a killed process loses them).
    pub buffered_bytes: u64,
}

/// Appends `op` to `wal` as one record, unless the store is poisoned; with
/// `verify`, first checks that it reads back as `Op<K, V>`
/// ([`encode_checked`]). A free function so callers can log a key
/// borrowed from the map.
pub(crate) fn log<K, V, T>(
    wal: &mut Wal,
    feed: Option<&mut Feed>,
    poison: Option<&str>,
    verify: bool,
    op: &T,
) -> io::Result<u64>
where
    K: DeserializeOwned,
    V: DeserializeOwned,
    T: Serialize + Shape + ?Sized,
{
    if let Some(first) = poison {
        return Err(StoreError::Poisoned {
            first: first.to_owned(),
        }
        .into());
    }
    let mut batch = wal.batch().map_err(from_wal)?;
    // The change feed's copy of the record, taken only if anyone listens.
    let feed = feed.filter(|f| f.active());
    batch
        .push_with_typed(|buf| {
            let start = buf.len();
            encode_checked::<K, V, T>(buf, op, verify).map_err(|e| match e {
                WriteError::Encode(e) => StoreError::Encode(e),
                WriteError::Unreadable(reason) => StoreError::Unreadable { reason },
            })?;
            if let Some(feed) = feed {
                feed.capture(&buf[start..]);
            }
            Ok(())
        })
        .map_err(from_callback)?;
    let seqs = batch.commit().map_err(from_wal)?;
    Ok(seqs.start)
}

/// Appends `op` as one record and syncs it if `sync` says so: the whole
/// fallible part of a mutation, done before the map changes.
/// With `feed`, the operation is then published to its subscribers.
pub(crate) fn log_durably<K, V, T>(
    wal: &mut Wal,
    mut feed: Option<&mut Feed>,
    poison: Option<&str>,
    verify: bool,
    sync: &mut SyncPolicy,
    op: &T,
) -> io::Result<()>
where
    K: DeserializeOwned,
    V: DeserializeOwned,
    T: Serialize + Shape + ?Sized,
{
    let seq = log::<K, V, T>(wal, feed.as_deref_mut(), poison, verify, op)?;
    sync.after_append(wal).map_err(from_wal)?;
    if let Some(feed) = feed
        && feed.active()
    {
        feed.publish(seq);
    }
    Ok(())
}

impl<K, V> IndexMapStore<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Opens the store at `path` with the default [`StoreConfig`], creating
    /// it if missing, and replays its log.
    ///
    /// A torn tail (an interrupted write) is cut off. The open fails,
    /// changing nothing, if the file is not a store, holds records of other
    /// types (`InvalidData`), holds damaged synced data (`InvalidData`; see
    /// [`OpenOptions::salvage`]), or is open in another handle
    /// (`WouldBlock`). Cost: O(log size).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        OpenOptions::new().open(path)
    }

    /// Like [`open`](Self::open), with `config`.
    pub fn open_with(path: impl AsRef<Path>, config: StoreConfig) -> io::Result<Self> {
        OpenOptions::new().config(config).open(path)
    }

    /// Like [`open_with`](Self::open_with), on any [`Storage`].
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        config: StoreConfig,
    ) -> io::Result<Self> {
        OpenOptions::new()
            .config(config)
            .storage(storage)
            .open(path)
    }
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Makes every mutation so far survive power loss (`fdatasync`).
    /// Mutations already reach the operating system when they return, so
    /// there is nothing else to flush. Cost: one sync, skipped when nothing
    /// changed since the last one.
    pub fn flush(&mut self) -> io::Result<()> {
        self.check_poison()?;
        self.wal.sync().map_err(from_wal)?;
        self.sync.synced();
        Ok(())
    }

    /// Closes the store, reporting what dropping it would ignore. When
    /// records were written since the log was last sealed, closing seals
    /// it: everything is synced, then a small seal frame is appended and
    /// synced, which vouches for the last records so that damage to them is
    /// later refused as corruption instead of cut off as a torn tail.
    /// Dropping the store does the same and ignores errors. Cost: up to two
    /// syncs; none when nothing was written since the last seal.
    pub fn close(mut self) -> io::Result<()> {
        self.check_poison()?;
        self.leave_live_note();
        self.wal.seal().map_err(from_wal)
    }

    pub(crate) fn check_poison(&self) -> io::Result<()> {
        match &self.poison {
            Some(first) => Err(StoreError::Poisoned {
                first: first.clone(),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Appends `op` as one record and syncs it if configured; on success
    /// the caller applies `op` to the map, then calls
    /// [`applied`](Self::applied). On failure the map is unchanged.
    pub(crate) fn log<T: Serialize + Shape + ?Sized>(&mut self, op: &T) -> io::Result<()> {
        log_durably::<K, V, T>(
            &mut self.wal,
            Some(&mut self.feed),
            self.poison.as_deref(),
            self.verify_writes,
            &mut self.sync,
            op,
        )
    }

    /// After a logged mutation of `mutations` operations is applied to the
    /// map: count it, then compact if due (never failing).
    pub(crate) fn applied(&mut self, mutations: u64) {
        self.compaction.mutations += mutations;
        self.maybe_compact();
    }

    /// Marks the store as refusing writes because memory is ahead of the log.
    pub(crate) fn poison_with(&mut self, err: io::Error) -> io::Error {
        if self.poison.is_none() {
            self.poison = Some(err.to_string());
        }
        err
    }
}

impl<K, V, S> IndexMapStore<K, V, S> {
    /// A store over what [`OpenOptions::replay`] gave.
    pub(crate) fn from_replayed(
        replayed: Replayed<K, V, S>,
        schema: SchemaRecord,
        config: StoreConfig,
    ) -> Self {
        IndexMapStore {
            map: replayed.map,
            wal: replayed.wal,
            config,
            report: replayed.report,
            compaction: Compaction {
                mutations: replayed.mutations,
                ..Compaction::default()
            },
            schema,
            poison: None,
            verify_writes: true,
            legacy: None,
            sync: SyncPolicy::new(if config.sync_on_write {
                crate::Durability::Always
            } else {
                crate::Durability::OnFlush
            }),
            feed: Feed::default(),
        }
    }

    /// Counters describing the log. Cost: O(1).
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        let wal = self.wal.stats();
        let live = self.map.len() as u64;
        let total = self.compaction.mutations;
        let dead = total.saturating_sub(live);
        StoreStats {
            live_records: live,
            total_records: total,
            log_bytes: wal.bytes,
            dead_ratio: if total == 0 {
                0.0
            } else {
                dead as f64 / total as f64
            },
            compactions: self.compaction.runs,
            unsynced_records: wal.unsynced_records,
            failed_compactions: self.compaction.failed,
            last_compaction_error: self.compaction.last_failure.clone(),
            durable_seq: wal.durable_seq,
            next_seq: wal.next_seq,
            buffered_bytes: wal.buffered_bytes,
        }
    }

    /// What the open found and did: records replayed, any torn tail cut
    /// off, any salvage file, any stale compaction file removed.
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The first failure that made the store refuse writes, if one did
    /// (see the crate docs on failures): drop the store and reopen it to
    /// re-validate from disk. `None` while writes are accepted.
    #[must_use]
    pub fn poisoned(&self) -> Option<&str> {
        self.poison.as_deref().or_else(|| self.wal.poisoned())
    }

    /// The log file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.wal.path()
    }

    /// When mutations become durable ([`OpenOptions::durability`]).
    #[must_use]
    pub fn durability(&self) -> crate::Durability {
        self.sync.durability
    }

    /// The configuration the store was opened with.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }
}

impl<K, V, S> IndexMapStore<K, V, S> {
    /// Has the log's closing seal carry the entry count, so that the next
    /// open sizes the map once (see [`codec::live_note`]).
    fn leave_live_note(&mut self) {
        // Nine bytes: never over the limit.
        let _ = self.wal.set_seal_note(&codec::live_note(self.map.len()));
    }
}

impl<K, V, S> Drop for IndexMapStore<K, V, S> {
    /// Leaves the entry count for the seal the log's drop then writes
    /// (the log is dropped after this, with the other fields).
    fn drop(&mut self) {
        self.leave_live_note();
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug, S> std::fmt::Debug for IndexMapStore<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexMapStore")
            .field("path", &self.wal.path())
            .field("map", &self.map)
            .field("stats", &self.stats())
            .finish()
    }
}
