//! Opening a store: [`OpenOptions`], replaying the log, and checking its
//! schema record.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{FsStorage, RecoveryMode, RecoveryReport, Storage, Wal, WalOptions};

pub(crate) use crate::batch_apply::apply_batch;
use crate::codec::{self, Op, OpRef, SchemaRecord};
use crate::config::StoreConfig;
use crate::durability::{Durability, SyncPolicy};
use crate::error::StoreError;
use crate::rebuild::{OpenFn, Rebuild};
use crate::schema::schema_of;
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
    recovery_threads: usize,
}

/// [`OpenOptions::recovery_threads`]' default: 2 on a machine with more
/// than one core.
fn default_recovery_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// What replaying a log gave.
pub(crate) struct Replayed<K, V, S = RandomState> {
    pub(crate) map: IndexMap<K, V, S>,
    pub(crate) wal: Wal,
    pub(crate) report: RecoveryReport,
    /// Mutations replayed (see [`crate::StoreStats::total_records`]).
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
            recovery_threads: default_recovery_threads(),
        }
    }

    /// Threads [`open_threaded`](Self::open_threaded) and
    /// [`open_shared`](Self::open_shared) replay the log with (default: 2
    /// where the machine has two cores or more, else 1; [`open`](Self::open),
    /// whose bounds do not ask for `Send`, always uses 1). With 1, the
    /// opening thread reads, checks and decodes a chunk of records, then
    /// applies it; with 2 or more, a second thread reads, checks checksums in
    /// file order, decodes and hashes inserted keys, while the opening
    /// thread applies the decoded records to the map in log order. The
    /// resulting map, its order and every recovery verdict (torn tail,
    /// corruption, salvage, the record a failure names and its message)
    /// are the same either way; on two cores the open takes about three
    /// quarters of the time (0.30 s instead of 0.39 s for 1M entries).
    /// Values above 2 use 2 threads for now: applying in log order on one
    /// thread is the part left to split. `0` means 1.
    #[must_use]
    pub fn recovery_threads(mut self, threads: usize) -> Self {
        self.recovery_threads = threads.max(1);
        self
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

    /// Runs the store on `storage` (for example `sim::SimStorage` in tests,
    /// with the `sim` feature).
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
    /// costs) for types you know round-trip. When the key and the value
    /// are each a `String`, `Vec<u8>`, `Box<str>`, `Box<[u8]>`, integer,
    /// float, `bool`, `char` or `()`, the decode cannot fail and is skipped
    /// even with `true`.
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
        self.open_via(path.as_ref(), hash_builder, |r, st, o, t| {
            r.open_sequential(st, o, t)
        })
    }

    /// Like [`open`](Self::open), replaying the log with
    /// [`recovery_threads`](Self::recovery_threads) threads: about three
    /// quarters of the time on two cores. The key and value types must be
    /// `Send`, since they are decoded on one thread and put in the map on
    /// another (which is why [`open`](Self::open), whose bounds do not ask for
    /// `Send`, replays on the opening thread). Every verdict, error and
    /// resulting map is the one `open` gives.
    ///
    /// ```
    /// use indexmap_store::{IndexMapStore, OpenOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("big.log");
    /// let store: IndexMapStore<String, String> =
    ///     OpenOptions::new().recovery_threads(2).open_threaded(&path)?;
    /// println!("opened in {:?}", store.recovery_report().duration);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open_threaded<K, V>(&self, path: impl AsRef<Path>) -> io::Result<IndexMapStore<K, V>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned + Send,
        V: Serialize + DeserializeOwned + Send,
    {
        self.open_via(path.as_ref(), RandomState::new(), |r, st, o, t| {
            r.open_threaded(st, o, t)
        })
    }

    /// The open, replaying by `how`.
    fn open_via<K, V, S>(
        &self,
        path: &Path,
        hash_builder: S,
        how: OpenFn<K, V, S>,
    ) -> io::Result<IndexMapStore<K, V, S>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
        S: BuildHasher + Clone,
    {
        let started = Instant::now();
        let schema = self.schema::<K, V>()?;
        let (mut replayed, legacy) =
            match self.replay_via(path, &schema, SchemaCheck::Exact, hash_builder.clone(), how) {
                Ok(replayed) => (replayed, None),
                Err(e) => {
                    // A log of indexmap_store 0.2.x: refused, or converted.
                    let legacy = self.legacy_fallback::<K, V>(e)?;
                    let replayed = self.replay_via(
                        path,
                        &schema,
                        SchemaCheck::Exact,
                        hash_builder.clone(),
                        how,
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
                replayed =
                    self.replay_via(path, &schema, SchemaCheck::Exact, hash_builder.clone(), how)?;
                replayed.report = report;
            }
        }
        let durability = self.effective_durability();
        let config = StoreConfig {
            sync_on_write: durability == Durability::Always,
            ..self.config
        };
        replayed.report.duration = started.elapsed();
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
        self.replay_via(path, expected, check, hash_builder, |r, st, o, t| {
            r.open_sequential(st, o, t)
        })
    }

    /// Like [`replay`](Self::replay), replaying by `how`.
    pub(crate) fn replay_via<K, V, S>(
        &self,
        path: &Path,
        expected: &SchemaRecord,
        check: SchemaCheck,
        hash_builder: S,
        how: OpenFn<K, V, S>,
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
        let mut rebuild = Rebuild::new(hash_builder, path, expected, check);
        let (wal, report) = how(
            &mut rebuild,
            Arc::clone(&self.storage),
            opts,
            self.recovery_threads,
        )?;
        let Rebuild {
            map,
            mutations,
            found,
            ..
        } = rebuild;
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
        Op::Schema(_) | Op::Live(_) => {}
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
