//! [`ReadOnlyStore`]: a store opened read-only, by any number of
//! processes, while a writer has it open or not, following what the writer
//! logs.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wal_io::{FollowEvent, Polled, ReplayRecord, Visibility, WalFollower, WalOptions};

use crate::change::Change;
use crate::codec::{self, Op, SchemaRecord};
use crate::error::{StoreError, from_callback, from_wal};
use crate::open_options::OpenOptions;
use crate::schema::describe;
use crate::store::COMPACT_TMP_SUFFIX;

/// A store opened read-only with [`OpenOptions::open_read_only`]: the
/// map's read API, no mutators, and [`refresh`](Self::refresh) to follow
/// the writer.
///
/// Opening takes no lock and changes nothing: no byte, no timestamp, no
/// new file (not even `<path>.lock`), so any number of readers may open a
/// store whether or not a writer has it open, on a read-only file or file
/// system too. It refuses what the writer's open refuses (damaged or
/// missing synced data, other key and value types), with the same errors;
/// where the writer's open would cut a torn tail, a reader leaves it and
/// shows the records before it ([`pending_bytes`](Self::pending_bytes)).
///
/// Every state a reader shows is the writer's state after some prefix of
/// its operations, and a later refresh never shows an earlier prefix
/// (unless the writer itself lost records: a failed `fsync`, or a salvage).
/// The reads are [`IndexMapStore`](crate::IndexMapStore)'s, at the map's
/// speed. `S` is the map's hasher, as for `IndexMapStore`
/// ([`OpenOptions::open_read_only_with_hasher`]); it is not recorded in
/// the log, so a reader may hash with another than the writer's.
pub struct ReadOnlyStore<K, V, S = RandomState> {
    pub(crate) map: IndexMap<K, V, S>,
    follower: WalFollower,
    expected: SchemaRecord,
    last: Polled,
}

/// What [`ReadOnlyStore::refresh`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Refreshed {
    /// Operations applied by this refresh (records of the log, a batch
    /// counting one).
    pub records: u64,
    /// The log had been replaced (a compaction, or a new log) and the map
    /// was reloaded from it whole.
    pub reloaded: bool,
    /// Bytes of the log after the last record shown: a record being
    /// written, records not yet durable (with
    /// [`OpenOptions::durable_only`]), or the torn tail of a killed writer,
    /// which its next open cuts.
    pub pending_bytes: u64,
    /// The sequence number after the last record shown.
    pub next_seq: u64,
}

impl Refreshed {
    /// Whether the map may have changed.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.records > 0 || self.reloaded
    }
}

impl OpenOptions {
    /// With `true`, a read-only open ([`open_read_only`](Self::open_read_only))
    /// shows only what is durable: the operations that a later record's
    /// synced watermark, a seal (written on close) or a compaction vouches
    /// were synced. The default, `false`, shows everything the writer has
    /// logged: what its next open recovers after it is killed. Has no
    /// effect on a writer's open.
    #[must_use]
    pub fn durable_only(mut self, durable: bool) -> Self {
        self.visibility = if durable {
            Visibility::Durable
        } else {
            Visibility::Written
        };
        self
    }

    /// Opens the store at `path` read-only: see [`ReadOnlyStore`].
    ///
    /// Fails with `NotFound` if there is no file (nothing is created), and
    /// as [`open`](Self::open) would on a file that open refuses, changing
    /// nothing: a log of other types ([`StoreError::TypeMismatch`]), damaged
    /// or missing synced data, a file that is not a store. Salvage and
    /// import options are ignored: a reader repairs nothing. Cost: O(log
    /// size), as an open.
    pub fn open_read_only<K, V>(&self, path: impl AsRef<Path>) -> io::Result<ReadOnlyStore<K, V>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.open_read_only_with_hasher(path, RandomState::new())
    }

    /// Like [`open_read_only`](Self::open_read_only), with the map hashing
    /// keys by `hash_builder`, as
    /// [`open_with_hasher`](Self::open_with_hasher) does for a writer. The
    /// hasher is not recorded in the log: a reader may use another than
    /// the writer's. `S: Clone` because a reload after a compaction builds
    /// a new map with the same hasher.
    pub fn open_read_only_with_hasher<K, V, S>(
        &self,
        path: impl AsRef<Path>,
        hash_builder: S,
    ) -> io::Result<ReadOnlyStore<K, V, S>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
        S: BuildHasher + Clone,
    {
        let path = path.as_ref();
        let expected = self.schema::<K, V>()?;
        let opts = WalOptions {
            app_tag: codec::APP_TAG.to_vec(),
            app_version: codec::SCHEMA_VERSION,
            buf_capacity: self.config.buf_capacity,
            temp_suffix: COMPACT_TMP_SUFFIX.to_owned(),
            ..WalOptions::default()
        };
        let mut map = IndexMap::with_hasher(hash_builder);
        // A log closed cleanly tells in its seal how many entries it holds:
        // size the map once, as the writer's open does. A missing file is
        // left to the follower's open to report.
        match wal_io::read_seal_note(&*self.storage, path) {
            Ok(note) => {
                // Every entry takes more than two bytes of log: a larger
                // count (a forged file's) is not believed, as by a writer.
                let file_len = self.storage.open_read(path).and_then(|f| f.len());
                let file_len = file_len.map_err(|e| {
                    io::Error::new(e.kind(), format!("reading {}: {e}", path.display()))
                })?;
                if let Some(entries) = note.as_deref().and_then(codec::read_live_note)
                    && entries <= file_len / 2
                {
                    reserve_announced(&mut map, entries);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(from_wal(e)),
        }
        let opened = WalFollower::open_typed(
            Arc::clone(&self.storage),
            path,
            opts,
            self.visibility,
            |record| apply(&mut map, path, &expected, record, &mut |_| {}),
        );
        match opened.map_err(from_callback) {
            Ok((follower, last)) => Ok(ReadOnlyStore {
                map,
                follower,
                expected,
                last,
            }),
            Err(e) => {
                // A log of indexmap_store 0.2.x is named as such, as by an
                // open, and never imported.
                let mut plain = self.clone();
                plain.import_legacy = false;
                Err(plain
                    .legacy_fallback::<K, V>(e)
                    .err()
                    .unwrap_or_else(|| io::Error::other("a read-only open converts no legacy log")))
            }
        }
    }
}

/// Sizes an empty map for `entries` entries, announced by the log (a
/// compaction's [`Op::Live`] or a seal note). Fallible and capped, since
/// the count comes from the file (memory reserved and never written
/// costs no RSS).
fn reserve_announced<K, V, S>(map: &mut IndexMap<K, V, S>, entries: u64)
where
    K: Hash + Eq,
    S: BuildHasher,
{
    let wanted = usize::try_from(entries).unwrap_or(usize::MAX).min(1 << 26);
    let _ = map.try_reserve_exact(wanted);
}

/// Decodes `record`, checks a schema record against `expected`, shows it
/// to `on_change` and applies it to `map`.
fn apply<K, V, S>(
    map: &mut IndexMap<K, V, S>,
    path: &Path,
    expected: &SchemaRecord,
    record: ReplayRecord<'_>,
    on_change: &mut dyn FnMut(&Change<K, V>),
) -> Result<(), StoreError>
where
    K: Hash + Eq + DeserializeOwned,
    V: DeserializeOwned,
    S: BuildHasher,
{
    let op = codec::decode(record.payload).map_err(|source| StoreError::Decode {
        seq: record.seq,
        offset: record.offset,
        source,
    })?;
    if let Op::Schema(found) = &op
        && (found.fingerprint != expected.fingerprint
            || found.user_version != expected.user_version)
    {
        return Err(StoreError::TypeMismatch {
            path: path.to_path_buf(),
            expected: describe(expected),
            found: describe(found),
        });
    }
    // A compacted log announces its entry count: size the map once, as the
    // writer's open does. Fallible and capped, since the count comes from
    // the file (memory reserved and never written costs no RSS).
    if let Op::Live(entries) = &op
        && map.is_empty()
    {
        reserve_announced(map, *entries);
    }
    let change = Change {
        seq: record.seq,
        op,
    };
    on_change(&change);
    crate::open::replay(map, record.seq, record.offset, change.op)
}

impl<K, V, S> ReadOnlyStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher + Clone,
{
    /// Applies the operations the writer logged since the last refresh (or
    /// the open), in order, reading only them: O(new records), never a
    /// rescan of the log. When the log was replaced by a compaction (or
    /// created anew), reloads it whole (`reloaded`). An operation still
    /// being written is left for a later refresh (`pending_bytes`).
    ///
    /// Fails, changing nothing, on what an open would refuse; the store
    /// then still shows the state before the failing operation.
    pub fn refresh(&mut self) -> io::Result<Refreshed> {
        self.refresh_with(|_| {})
    }

    /// Like [`refresh`](Self::refresh), showing each operation to
    /// `on_change` before it is applied. After a reload (`reloaded`), the
    /// map was rebuilt from the new log and `on_change` was not called for
    /// it: compare with a copy of the map if you need the difference.
    pub fn refresh_with(
        &mut self,
        mut on_change: impl FnMut(&Change<K, V>),
    ) -> io::Result<Refreshed> {
        let path = self.follower.path().to_path_buf();
        let (map, expected) = (&mut self.map, &self.expected);
        // A reload is built aside and shown only once it is whole.
        let mut reload: Option<IndexMap<K, V, S>> = None;
        let polled = self.follower.poll_typed(|event| match event {
            FollowEvent::Reset => {
                reload = Some(IndexMap::with_hasher(map.hasher().clone()));
                Ok(())
            }
            FollowEvent::Record(record) => match &mut reload {
                Some(fresh) => apply(fresh, &path, expected, record, &mut |_| {}),
                None => apply(map, &path, expected, record, &mut on_change),
            },
        });
        let polled = polled.map_err(from_callback)?;
        if let Some(fresh) = reload {
            self.map = fresh;
        }
        self.last = polled;
        Ok(Refreshed {
            records: polled.records,
            reloaded: polled.reloaded,
            pending_bytes: polled.pending_bytes,
            next_seq: polled.next_seq,
        })
    }
}

impl<K, V, S> ReadOnlyStore<K, V, S> {
    /// The log file's path (symbolic links resolved).
    #[must_use]
    pub fn path(&self) -> &Path {
        self.follower.path()
    }

    /// The sequence number after the last operation shown: with
    /// [`IndexMapStore::next_seq`](crate::IndexMapStore::next_seq), tells
    /// how far behind the writer this reader is.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.follower.next_seq()
    }

    /// Bytes of the log after the last operation shown, at the last open
    /// or refresh (see [`Refreshed::pending_bytes`]).
    #[must_use]
    pub fn pending_bytes(&self) -> u64 {
        self.last.pending_bytes
    }

    /// Whether only durable operations are shown
    /// ([`OpenOptions::durable_only`]).
    #[must_use]
    pub fn durable_only(&self) -> bool {
        self.follower.visibility() == Visibility::Durable
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug, S> std::fmt::Debug for ReadOnlyStore<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyStore")
            .field("path", &self.follower.path())
            .field("map", &self.map)
            .field("next_seq", &self.follower.next_seq())
            .finish()
    }
}
