//! Opening a store: [`OpenOptions`], replaying the log, and checking its
//! schema record.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{FsStorage, RecoveryMode, RecoveryReport, Storage, Wal, WalOptions};

use crate::codec::{self, Op, OpRef, SchemaRecord};
use crate::config::StoreConfig;
use crate::durability::{Durability, SyncPolicy};
use crate::error::{StoreError, from_wal};
pub(crate) use crate::remove_many::apply_batch;
use crate::schema::{describe, schema_of};
use crate::store::{COMPACT_TMP_SUFFIX, IndexMapStore, log_durably};

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
    pub(crate) storage: Arc<dyn Storage>,
    salvage: bool,
    /// Convert an indexmap_store 0.2.x log ([`OpenOptions::import_legacy`]).
    pub(crate) import_legacy: bool,
    pub(crate) schema_version: u32,
    pub(crate) verify_writes: bool,
    durability: Durability,
    preallocate: Option<u64>,
    /// What a read-only open shows ([`OpenOptions::durable_only`]).
    pub(crate) visibility: wal_io::Visibility,
}

/// What replaying a log gave.
pub(crate) struct Replayed<K, V, S = RandomState> {
    pub(crate) map: IndexMap<K, V, S>,
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
            import_legacy: false,
            schema_version: 0,
            verify_writes: true,
            durability: Durability::OnFlush,
            preallocate: None,
            visibility: wal_io::Visibility::Written,
        }
    }

    /// When mutations become durable (default [`Durability::OnFlush`]);
    /// see [`Durability`] for what each policy can lose and costs.
    /// [`StoreConfig::sync_on_write`] `true` means [`Durability::Always`]
    /// whatever is set here.
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The policy a store opened with these options gets.
    pub(crate) fn effective_durability(&self) -> Durability {
        if self.config.sync_on_write {
            Durability::Always
        } else {
            self.durability
        }
    }

    /// Grows the log file in zero-filled chunks of `chunk` bytes ahead of
    /// the records (`None`, the default: it grows with every write), so
    /// that a sync seldom has to record a new file length: durable writes
    /// ([`Durability::Always`]) cost less on most file systems. A clean
    /// close trims the file back to its records; after a crash, the zeros
    /// past the last record are recognised as preallocated space and kept
    /// (`RecoveryReport::preallocated`), never taken for damage. A log
    /// written with preallocation opens without it (the zeros are then cut
    /// off as a torn tail would be) and the other way round.
    #[must_use]
    pub fn preallocate(mut self, chunk: Option<u64>) -> Self {
        self.preallocate = chunk.filter(|&c| c > 0);
        self
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

    /// Whether every record is checked, before it is logged, to read back
    /// as written (default `true`): it is decoded under the very limit an
    /// open applies and must give the same operations. A write that would
    /// not read back (a key or value type with
    /// `#[serde(skip_serializing_if)]`, which bincode cannot represent, or
    /// a value so large that decoding it would claim more memory than the
    /// reader allows for a record of its size) fails with
    /// [`StoreError::Unreadable`] and writes nothing; without the check it
    /// would be acknowledged, and the next open would refuse the log.
    /// `false` saves one decode per write (see the README for what that
    /// costs) for types you know round-trip.
    #[must_use]
    pub fn verify_writes(mut self, verify: bool) -> Self {
        self.verify_writes = verify;
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
        self.open_with_hasher(path, RandomState::new())
    }

    /// Like [`open`](Self::open), with the map hashing keys by
    /// `hash_builder`, as [`IndexMap::with_hasher`] does: for example
    /// `foldhash::fast::RandomState` or `ahash::RandomState` for speed on
    /// trusted keys. The hasher is not recorded in the log: a store written
    /// under one hasher opens under any other, with the same entries in the
    /// same order. `S: Clone` because a failed open may replay twice.
    ///
    /// ```
    /// use std::hash::{BuildHasherDefault, DefaultHasher};
    /// use indexmap_store::{IndexMapStore, OpenOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("fast.log");
    /// type Fixed = BuildHasherDefault<DefaultHasher>; // any `BuildHasher`
    /// let mut store: IndexMapStore<String, u32, Fixed> =
    ///     OpenOptions::new().open_with_hasher(&path, Fixed::default())?;
    /// store.insert("a".into(), 1)?;
    /// drop(store);
    /// // The same log, under the default hasher.
    /// let store: IndexMapStore<String, u32> = IndexMapStore::open(&path)?;
    /// assert_eq!(store.get("a"), Some(&1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open_with_hasher<K, V, S>(
        &self,
        path: impl AsRef<Path>,
        hash_builder: S,
    ) -> io::Result<IndexMapStore<K, V, S>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
        S: BuildHasher + Clone,
    {
        let path = path.as_ref();
        let schema = self.schema::<K, V>()?;
        let (mut replayed, legacy) =
            match self.replay::<K, V, S>(path, &schema, SchemaCheck::Exact, hash_builder.clone()) {
                Ok(replayed) => (replayed, None),
                Err(e) => {
                    // A log of indexmap_store 0.2.x: refused, or converted.
                    let legacy = self.legacy_fallback::<K, V>(e)?;
                    let replayed = self.replay::<K, V, S>(
                        path,
                        &schema,
                        SchemaCheck::Exact,
                        hash_builder.clone(),
                    )?;
                    (replayed, legacy)
                }
            };
        if replayed.found.is_none() && replayed.wal.stats().records == 0 {
            // A new (or empty) log starts with its schema record, synced. On
            // a full disk the append is refused and cut back, and the log
            // stays as it was: the next compaction writes the record. A
            // failed sync poisons the log: reopen it as the disk has it.
            let op = OpRef::<K, V>::Schema(&schema);
            if log_durably::<K, V, _>(
                &mut replayed.wal,
                None,
                None,
                false,
                &mut SyncPolicy::new(Durability::Always),
                &op,
            )
            .is_err()
                && replayed.wal.poisoned().is_some()
            {
                let report = replayed.report;
                drop(replayed.wal);
                replayed = self.replay::<K, V, S>(
                    path,
                    &schema,
                    SchemaCheck::Exact,
                    hash_builder.clone(),
                )?;
                replayed.report = report;
            }
        }
        let durability = self.effective_durability();
        let config = StoreConfig {
            sync_on_write: durability == Durability::Always,
            ..self.config
        };
        let mut store = IndexMapStore::from_replayed(replayed, schema, config);
        store.verify_writes = self.verify_writes;
        store.legacy = legacy;
        store.sync = SyncPolicy::new(durability);
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
    pub(crate) fn replay<K, V, S>(
        &self,
        path: &Path,
        expected: &SchemaRecord,
        check: SchemaCheck,
        hash_builder: S,
    ) -> io::Result<Replayed<K, V, S>>
    where
        K: Hash + Eq + DeserializeOwned,
        V: DeserializeOwned,
        S: BuildHasher,
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
            preallocate: self.preallocate,
            append_buffer: if self.effective_durability() == Durability::Buffered {
                self.config.buf_capacity
            } else {
                0
            },
            ..WalOptions::default()
        };
        let mut map = IndexMap::with_hasher(hash_builder);
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

/// Applies one logged operation to `map`.
pub(crate) fn replay<K, V, S>(
    map: &mut IndexMap<K, V, S>,
    seq: u64,
    offset: u64,
    op: Op<K, V>,
) -> Result<(), StoreError>
where
    K: Hash + Eq,
    S: BuildHasher,
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
        // Version 3 records: each check says what is wrong, or applies.
        op => {
            let applied = match op {
                Op::RemoveRuns(runs) => runs.apply(map),
                Op::Permute(order) => crate::order::replay_permute(map, &order),
                Op::Reverse(len) => crate::order::replay_reverse(map, len),
                Op::SwapIndices(a, b) => crate::order::replay_swap(map, a, b),
                Op::InsertAt(i, k, v) => crate::positional::replay_insert_at(map, i, k, v),
                Op::ReplaceKey(i, k) => crate::positional::replay_replace_key(map, i, k),
                _ => Ok(()),
            };
            applied.map_err(|detail| StoreError::Inconsistent {
                seq,
                offset,
                detail,
            })?;
        }
    }
    Ok(())
}
