//! [`IndexMapStore`]: opening, logging, compaction and statistics.

use std::hash::Hash;
use std::io;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{FsStorage, RecoveryMode, RecoveryReport, Storage, Wal, WalError, WalOptions};

use crate::codec::{self, BatchOp, Op, OpRef, SchemaRecord};
use crate::compaction::{Compaction, CompactionFailure};
use crate::config::StoreConfig;
use crate::error::{StoreError, from_wal};
use crate::schema::{describe, schema_of};

/// Suffix of the temporary file a compaction writes (`<path>.compact.tmp`).
pub const COMPACT_TMP_SUFFIX: &str = ".compact.tmp";

/// A persistent, insertion-ordered map: an [`IndexMap`] in memory, made
/// durable by an append-only log file.
///
/// Reads are the map's own, at its speed. Every mutation appends one record
/// to the log and hands it to the operating system before it returns (with
/// [`StoreConfig::sync_on_write`], it is also synced), then changes the map.
/// Opening replays the log. See the [crate docs](crate).
pub struct IndexMapStore<K, V> {
    pub(crate) map: IndexMap<K, V>,
    pub(crate) wal: Wal,
    pub(crate) config: StoreConfig,
    pub(crate) report: RecoveryReport,
    pub(crate) compaction: Compaction,
    /// The schema record of `K` and `V`, written first by every compaction.
    pub(crate) schema: SchemaRecord,
    /// Set when memory got ahead of the log; refuses every later write.
    pub(crate) poison: Option<String>,
}

/// Counters describing a store's log, from [`IndexMapStore::stats`].
#[derive(Debug, Clone, PartialEq, Default)]
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
}

/// Options for opening a store beyond [`StoreConfig`]: the storage it runs
/// on, and what to do with damaged synced data.
///
/// ```no_run
/// use indexmap_store::{IndexMapStore, OpenOptions};
/// // Keep the valid records before a damaged one, after copying the rest of
/// // the file to `data.log.corrupt-<offset>`.
/// let store: IndexMapStore<String, u64> = OpenOptions::new().salvage(true).open("data.log")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub(crate) config: StoreConfig,
    storage: Arc<dyn Storage>,
    salvage: bool,
    pub(crate) schema_version: u32,
}

/// What replaying a log gave.
pub(crate) struct Replayed<K, V> {
    pub(crate) map: IndexMap<K, V>,
    pub(crate) wal: Wal,
    pub(crate) report: RecoveryReport,
    /// Mutations replayed (see [`StoreStats::total_records`]).
    pub(crate) mutations: u64,
    /// The log's schema record, if it has one.
    pub(crate) found: Option<SchemaRecord>,
}

/// How a log's schema record is compared with the opener's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaCheck {
    /// Types and user schema version.
    Exact,
    /// Types only (a migration reads any user version).
    TypesOnly,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Default configuration, real files, strict recovery.
    #[must_use]
    pub fn new() -> Self {
        Self {
            config: StoreConfig::default(),
            storage: Arc::new(FsStorage::new()),
            salvage: false,
            schema_version: 0,
        }
    }

    /// The application's own schema version (default 0), recorded in the
    /// log with the shapes of the key and value types and compared on
    /// open: bump it when the meaning of the stored data changes while the
    /// types keep their shape. A store of another version is refused with
    /// [`StoreError::TypeMismatch`]; [`OpenOptions::migrate`] converts it.
    #[must_use]
    pub fn schema_version(mut self, version: u32) -> Self {
        self.schema_version = version;
        self
    }

    /// Uses `config`.
    #[must_use]
    pub fn config(mut self, config: StoreConfig) -> Self {
        self.config = config;
        self
    }

    /// Runs the store on `storage` (for example `wal_io::sim::SimStorage`
    /// in tests).
    #[must_use]
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = storage;
        self
    }

    /// When synced data turns out damaged: with `false` (the default) the
    /// open fails and changes nothing; with `true` every byte from the
    /// damage on is copied to `<path>.corrupt-<offset>` (synced) and the
    /// store opens with the valid records before it.
    #[must_use]
    pub fn salvage(mut self, salvage: bool) -> Self {
        self.salvage = salvage;
        self
    }

    /// Opens (or creates) the store at `path`.
    ///
    /// Fails with [`StoreError::UnsupportedType`] (`InvalidInput`) before
    /// touching the file if `K` or `V` needs a self-describing format, and
    /// with [`StoreError::TypeMismatch`] (`InvalidData`), changing nothing,
    /// if the log records other types or another
    /// [`schema_version`](Self::schema_version). Never fails because of a
    /// compaction: a due compaction that fails is recorded in
    /// [`IndexMapStore::stats`] and retried later.
    pub fn open<K, V>(&self, path: impl AsRef<Path>) -> io::Result<IndexMapStore<K, V>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let path = path.as_ref();
        let schema = self.schema::<K, V>()?;
        let mut replayed = self.replay::<K, V>(path, &schema, SchemaCheck::Exact)?;
        if replayed.found.is_none() && replayed.wal.stats().records == 0 {
            // A new (or empty) log starts with its schema record, synced. On
            // a full disk the append fails and poisons the log: reopen it as
            // it is and let the next compaction write the record.
            let op = OpRef::<K, V>::Schema(&schema);
            if log_durably(&mut replayed.wal, None, true, &op).is_err() {
                let report = replayed.report;
                drop(replayed.wal);
                replayed = self.replay::<K, V>(path, &schema, SchemaCheck::Exact)?;
                replayed.report = report;
            }
        }
        let mut store = IndexMapStore::from_replayed(replayed, schema, self.config);
        store.maybe_compact();
        Ok(store)
    }

    /// The schema record of `K` and `V` at this options' schema version.
    pub(crate) fn schema<K, V>(&self) -> io::Result<SchemaRecord>
    where
        K: DeserializeOwned,
        V: DeserializeOwned,
    {
        schema_of::<K, V>(self.schema_version).map_err(|u| {
            StoreError::UnsupportedType {
                which: u.which,
                detail: u.detail,
            }
            .into()
        })
    }

    /// Opens the log at `path` and replays it as `K` and `V`, checking its
    /// schema record (if any) against `expected`.
    pub(crate) fn replay<K, V>(
        &self,
        path: &Path,
        expected: &SchemaRecord,
        check: SchemaCheck,
    ) -> io::Result<Replayed<K, V>>
    where
        K: Hash + Eq + DeserializeOwned,
        V: DeserializeOwned,
    {
        let opts = WalOptions {
            app_tag: codec::APP_TAG.to_vec(),
            app_version: codec::SCHEMA_VERSION,
            buf_capacity: self.config.buf_capacity,
            recovery: if self.salvage {
                RecoveryMode::Salvage
            } else {
                RecoveryMode::Strict
            },
            temp_suffix: COMPACT_TMP_SUFFIX.to_owned(),
            ..WalOptions::default()
        };
        let mut map = IndexMap::new();
        let mut mutations = 0;
        let mut found = None;
        let (wal, report) = Wal::open(Arc::clone(&self.storage), path, opts, |record| {
            let op = codec::decode(record.payload).map_err(|source| StoreError::Decode {
                seq: record.seq,
                offset: record.offset,
                source,
            })?;
            mutations += op.mutations();
            if let Op::Schema(record) = &op {
                let same = record.fingerprint == expected.fingerprint
                    && (check == SchemaCheck::TypesOnly
                        || record.user_version == expected.user_version);
                found = Some(record.clone());
                if !same {
                    return Err(StoreError::TypeMismatch {
                        path: path.to_path_buf(),
                        expected: describe(expected),
                        found: describe(record),
                    }
                    .into());
                }
            }
            replay(&mut map, record.seq, record.offset, op).map_err(Into::into)
        })
        .map_err(from_wal)?;
        Ok(Replayed {
            map,
            wal,
            report,
            mutations,
            found,
        })
    }
}

/// Appends `op` to `wal` as one record, unless the store is poisoned.
/// A free function so callers can log a key borrowed from the map.
pub(crate) fn log<T: Serialize + ?Sized>(
    wal: &mut Wal,
    poison: Option<&str>,
    op: &T,
) -> io::Result<()> {
    if let Some(first) = poison {
        return Err(StoreError::Poisoned {
            first: first.to_owned(),
        }
        .into());
    }
    let mut batch = wal.batch().map_err(from_wal)?;
    batch
        .push_with(|buf| codec::encode_into(buf, op))
        .map_err(|e| match e {
            WalError::Encode { source } => match source.downcast::<bincode::error::EncodeError>() {
                Ok(e) => StoreError::Encode(*e).into(),
                Err(other) => io::Error::new(io::ErrorKind::InvalidData, other),
            },
            e => from_wal(e),
        })?;
    batch.commit().map_err(from_wal)?;
    Ok(())
}

/// Appends `op` as one record and, with `sync`, syncs it: the whole
/// fallible part of a mutation, done before the map changes.
pub(crate) fn log_durably<T: Serialize + ?Sized>(
    wal: &mut Wal,
    poison: Option<&str>,
    sync: bool,
    op: &T,
) -> io::Result<()> {
    log(wal, poison, op)?;
    if sync {
        wal.sync().map_err(from_wal)?;
    }
    Ok(())
}

/// Applies one logged operation to `map`.
fn replay<K, V>(
    map: &mut IndexMap<K, V>,
    seq: u64,
    offset: u64,
    op: Op<K, V>,
) -> Result<(), StoreError>
where
    K: Hash + Eq,
{
    match op {
        Op::Insert(k, v) => {
            map.insert(k, v);
        }
        Op::ShiftRemove(k) => {
            map.shift_remove(&k);
        }
        Op::SwapRemove(k) => {
            map.swap_remove(&k);
        }
        Op::Clear => map.clear(),
        Op::Move(from, to) => {
            let len = map.len();
            match (usize::try_from(from), usize::try_from(to)) {
                (Ok(from), Ok(to)) if from < len && to < len => map.move_index(from, to),
                _ => {
                    let detail = format!("move from index {from} to {to} in a map of {len}");
                    return Err(StoreError::Inconsistent {
                        seq,
                        offset,
                        detail,
                    });
                }
            }
        }
        Op::Batch(ops) => apply_batch(map, ops),
        Op::Schema(_) => {}
    }
    Ok(())
}

/// Applies the operations of a batch, in order.
pub(crate) fn apply_batch<K: Hash + Eq, V>(map: &mut IndexMap<K, V>, ops: Vec<BatchOp<K, V>>) {
    for op in ops {
        match op {
            BatchOp::Insert(k, v) => {
                map.insert(k, v);
            }
            BatchOp::ShiftRemove(k) => {
                map.shift_remove(&k);
            }
            BatchOp::SwapRemove(k) => {
                map.swap_remove(&k);
            }
        }
    }
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

    /// Makes every mutation so far survive power loss (`fdatasync`).
    /// Mutations already reach the operating system when they return, so
    /// there is nothing else to flush. Cost: one sync, skipped when nothing
    /// changed since the last one.
    pub fn flush(&mut self) -> io::Result<()> {
        self.check_poison()?;
        self.wal.sync().map_err(from_wal)
    }

    /// Closes the store, reporting what dropping it would ignore. When
    /// records were written since the log was last sealed, closing seals
    /// it: everything is synced, then a small seal frame is appended and
    /// synced, which vouches for the last records so that damage to them is
    /// later refused as corruption instead of cut off as a torn tail.
    /// Dropping the store does the same and ignores errors. Cost: up to two
    /// syncs; none when nothing was written since the last seal.
    pub fn close(self) -> io::Result<()> {
        self.check_poison()?;
        self.wal.close().map_err(from_wal)
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
    pub(crate) fn log<T: Serialize + ?Sized>(&mut self, op: &T) -> io::Result<()> {
        log_durably(
            &mut self.wal,
            self.poison.as_deref(),
            self.config.sync_on_write,
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

impl<K, V> IndexMapStore<K, V> {
    /// A store over what [`OpenOptions::replay`] gave.
    pub(crate) fn from_replayed(
        replayed: Replayed<K, V>,
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
        }
    }

    /// What the open found and did: records replayed, any torn tail cut
    /// off, any salvage file, any stale compaction file removed.
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The log file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.wal.path()
    }

    /// The configuration the store was opened with.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for IndexMapStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexMapStore")
            .field("path", &self.wal.path())
            .field("map", &self.map)
            .field("stats", &self.stats())
            .finish()
    }
}
