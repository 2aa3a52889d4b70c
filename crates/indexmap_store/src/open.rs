//! Opening a store with [`OpenOptions`] (see [`crate::open_options`]):
//! replaying the log, and checking its schema record.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{RecoveryMode, RecoveryReport, Wal, WalOptions};

pub(crate) use crate::batch_apply::apply_batch;
use crate::codec::{self, Op, OpRef, SchemaRecord};
use crate::config::StoreConfig;
use crate::durability::{Durability, SyncPolicy};
use crate::error::StoreError;
use crate::open_options::OpenOptions;
use crate::rebuild::{OpenFn, Rebuild};
use crate::schema::schema_of;
use crate::store::{COMPACT_TMP_SUFFIX, IndexMapStore, log_durably};

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

impl OpenOptions {
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
        // Version 3 and later records: each check says what is wrong, or applies.
        op => {
            let applied = match op {
                Op::RemoveRuns(runs) => runs.apply(map),
                Op::Permute(order) => crate::order::replay_permute(map, &order),
                Op::Reverse(len) => crate::order::replay_reverse(map, len),
                Op::SwapIndices(a, b) => crate::order::replay_swap(map, a, b),
                Op::InsertAt(i, k, v) => crate::positional::replay_insert_at(map, i, k, v),
                Op::ReplaceKey(i, k) => crate::positional::replay_replace_key(map, i, k),
                Op::Splice(start, end, pairs) => {
                    crate::splice::replay_splice(map, start, end, pairs)
                }
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
