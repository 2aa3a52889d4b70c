//! Rebuilding the map from replayed records, on the opening thread or with
//! decoding on a second one: the schema check, the count of mutations and
//! the size hint, applied in log order either way.
//!
//! With [`OpenOptions::recovery_threads`](crate::OpenOptions::recovery_threads)
//! above 1, a scoped thread runs [`Wal::open_with_typed`] (reading, checking
//! checksums in file order, decoding each payload and hashing each
//! inserted key) and hands the decoded operations in chunks to the opening
//! thread, which applies them to the map in log order. Every failure, a decode error on the reading
//! thread or a record that cannot apply on the opening one, travels in log
//! order to the opening thread, whose first failure is the open's: the
//! reading thread reports it through [`Replay::finish`] before the log's
//! tail is settled, so the file is left untouched and the error names the
//! same record, in the same words, as the sequential open's.

use std::hash::{BuildHasher, Hash};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use indexmap::IndexMap;
use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use serde::de::DeserializeOwned;
use wal_io::{
    RecoveryReport, Replay, ReplayFailure, ReplayRecord, Storage, Wal, WalError, WalOptions,
};

use crate::codec::{self, Op, SchemaRecord};
use crate::error::{StoreError, from_callback};
use crate::open::SchemaCheck;
use crate::schema::describe;

/// How an open replays: [`Rebuild::open_sequential`] or
/// [`Rebuild::open_threaded`]. A record that fails fails the open with the
/// `StoreError` it failed with, which wal-io hands back by value.
pub(crate) type OpenFn<K, V, S> =
    for<'a, 'r> fn(&'r mut Rebuild<'a, K, V, S>, Arc<dyn Storage>, WalOptions, usize) -> Opened;

/// What an [`OpenFn`] returns.
pub(crate) type Opened = io::Result<(Wal, RecoveryReport)>;

/// A record whose replay failed, with the store's error.
type Failure = ReplayFailure<StoreError>;

/// Decoded operations per chunk handed between the threads, at most.
const CHUNK_OPS: usize = 1024;
/// Payload bytes per chunk, at most (a record larger than this is a chunk
/// of its own): bounds the memory in flight with large values.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks in flight between the threads.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The map being rebuilt and what the replay learns on the way.
pub(crate) struct Rebuild<'a, K, V, S> {
    pub(crate) map: IndexMap<K, V, S>,
    /// Mutations replayed (see [`crate::StoreStats::total_records`]).
    pub(crate) mutations: u64,
    /// The log's schema record, if it has one.
    pub(crate) found: Option<SchemaRecord>,
    path: &'a Path,
    expected: &'a SchemaRecord,
    check: SchemaCheck,
    /// The log file's length: no size hint above what it could hold is
    /// believed.
    file_len: u64,
}

impl<'a, K, V, S> Rebuild<'a, K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    pub(crate) fn new(
        hash_builder: S,
        path: &'a Path,
        expected: &'a SchemaRecord,
        check: SchemaCheck,
    ) -> Self {
        Self {
            map: IndexMap::with_hasher(hash_builder),
            mutations: 0,
            found: None,
            path,
            expected,
            check,
            file_len: 0,
        }
    }

    /// Checks and applies one decoded operation.
    fn apply(&mut self, seq: u64, offset: u64, op: Op<K, V>) -> Result<(), StoreError> {
        self.mutations += op.mutations();
        match &op {
            Op::Schema(record) => {
                let same = record.fingerprint == self.expected.fingerprint
                    && (self.check == SchemaCheck::TypesOnly
                        || record.user_version == self.expected.user_version);
                self.found = Some(record.clone());
                if !same {
                    return Err(StoreError::TypeMismatch {
                        path: self.path.to_path_buf(),
                        expected: describe(self.expected),
                        found: describe(record),
                    });
                }
            }
            // Every entry takes more than two bytes of log: a count above
            // that is not believed (it sizes nothing, and fails nothing).
            &Op::Live(entries) if entries <= self.file_len / 2 => {
                let more = usize::try_from(entries)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(self.map.len());
                // Memory only: a refused reservation leaves the map to grow.
                let _ = self.map.try_reserve_exact(more);
            }
            _ => {}
        }
        crate::open::replay(&mut self.map, seq, offset, op)
    }

    /// Opens the log and replays it into the map on this thread (an
    /// [`OpenFn`]: `threads` is ignored).
    pub(crate) fn open_sequential(
        &mut self,
        storage: Arc<dyn Storage>,
        opts: WalOptions,
        _threads: usize,
    ) -> Opened
    where
        K: DeserializeOwned,
        V: DeserializeOwned,
    {
        let path = self.path;
        let mut sequential = Sequential {
            rebuild: self,
            chunk: Chunk::default(),
            failure: None,
        };
        Wal::open_with_typed(storage, path, opts, &mut sequential).map_err(from_callback)
    }

    /// Opens the log and replays it into the map: on this thread with
    /// `threads` 1, else with reading and decoding on a second one.
    pub(crate) fn open_threaded(
        &mut self,
        storage: Arc<dyn Storage>,
        opts: WalOptions,
        threads: usize,
    ) -> Opened
    where
        K: DeserializeOwned + Send,
        V: DeserializeOwned + Send,
        S: Clone + Send,
    {
        if threads <= 1 {
            return self.open_sequential(storage, opts, threads);
        }
        self.open_pipelined(storage, opts)
    }

    /// The pipelined open (see the module docs).
    fn open_pipelined(&mut self, storage: Arc<dyn Storage>, opts: WalOptions) -> Opened
    where
        K: DeserializeOwned + Send,
        V: DeserializeOwned + Send,
        S: Clone + Send,
    {
        // A clone hashes as the map does (the callers' hasher is
        // `RandomState`, whose clones share its keys).
        let hasher = self.map.hasher().clone();
        let failed = AtomicBool::new(false);
        let file_len = AtomicU64::new(0);
        let path = self.path;
        std::thread::scope(|scope| {
            // Made here, so that a panic on this thread drops both ends it
            // holds before the scope waits for the reading thread: that
            // thread's sends and its wait for the verdict then fail
            // instead of blocking forever.
            let (chunks, incoming) = sync_channel::<Chunk<K, V>>(CHUNKS_IN_FLIGHT);
            let (verdict_tx, verdict_rx) = sync_channel(1);
            let reading = scope.spawn(|| {
                let mut decoding = Decoding {
                    chunks: Some(chunks),
                    chunk: Chunk::default(),
                    stopped: false,
                    failed: &failed,
                    file_len: &file_len,
                    verdict: verdict_rx,
                    hasher,
                    path,
                };
                Wal::open_with_typed(storage, path, opts, &mut decoding).map_err(from_callback)
            });
            let verdict = self.apply_chunks(incoming, &file_len);
            if verdict.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            // The reading thread may have stopped waiting (it failed on
            // its own): nobody to tell then.
            let _ = verdict_tx.send(verdict);
            match reading.join() {
                Ok(opened) => opened,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// The opening thread's part: applies the chunks in order until they
    /// end or one fails. Returning drops `incoming`, which stops the
    /// reading thread's sends.
    fn apply_chunks(
        &mut self,
        incoming: Receiver<Chunk<K, V>>,
        file_len: &AtomicU64,
    ) -> Result<(), Failure> {
        for chunk in incoming {
            self.file_len = file_len.load(Ordering::Relaxed);
            self.apply_chunk(chunk)?;
        }
        Ok(())
    }

    /// Applies a chunk's records in order, up to the first that fails.
    fn apply_chunk(&mut self, chunk: Chunk<K, V>) -> Result<(), Failure> {
        for Decoded {
            seq,
            offset,
            hash,
            op,
        } in chunk.ops
        {
            let applied = match (op, hash) {
                (Ok(Op::Insert(key, value)), Some(hash)) => {
                    self.insert_hashed(hash, key, value);
                    Ok(())
                }
                (op, _) => op.and_then(|op| self.apply(seq, offset, op)),
            };
            applied.map_err(|source| Failure {
                seq,
                offset,
                source,
            })?;
        }
        Ok(())
    }

    /// Applies `Op::Insert(key, value)` as `IndexMap::insert` does (an
    /// existing key keeps its place and takes the value), with the key's
    /// hash computed on the reading thread.
    fn insert_hashed(&mut self, hash: u64, key: K, value: V) {
        self.mutations += 1;
        match self
            .map
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, &key)
        {
            RawEntryMut::Occupied(mut entry) => {
                entry.insert(value);
            }
            RawEntryMut::Vacant(entry) => {
                entry.insert_hashed_nocheck(hash, key, value);
            }
        }
    }
}

/// Decodes a record's payload, naming the record on failure.
fn decode<K: DeserializeOwned, V: DeserializeOwned>(
    record: ReplayRecord<'_>,
) -> Result<Op<K, V>, StoreError> {
    codec::decode(record.payload).map_err(|source| StoreError::Decode {
        seq: record.seq,
        offset: record.offset,
        source,
    })
}

/// The sequential replay, on the opening thread: records are decoded (and
/// inserted keys hashed) a chunk at a time, then the chunk is applied, so
/// that decoding and building the map each keep their own data in the
/// caches (measured: a third of the time at 10M entries). A failure is
/// reported through [`Replay::finish`], at its record, as the threaded
/// open reports it.
struct Sequential<'r, 'a, K, V, S> {
    rebuild: &'r mut Rebuild<'a, K, V, S>,
    chunk: Chunk<K, V>,
    failure: Option<Failure>,
}

impl<K, V, S> Sequential<'_, '_, K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    /// Applies the records gathered so far, unless one has failed.
    fn flush(&mut self) {
        if self.failure.is_some() || self.chunk.ops.is_empty() {
            return;
        }
        let chunk = std::mem::take(&mut self.chunk);
        self.failure = self.rebuild.apply_chunk(chunk).err();
    }
}

impl<K, V, S> Replay<StoreError> for Sequential<'_, '_, K, V, S>
where
    K: Hash + Eq + DeserializeOwned,
    V: DeserializeOwned,
    S: BuildHasher,
{
    fn begin(&mut self, file_len: u64) {
        self.rebuild.file_len = file_len;
    }

    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), StoreError> {
        if self.failure.is_some() {
            return Ok(());
        }
        let hasher = self.rebuild.map.hasher();
        if self.chunk.push(record, |key| hasher.hash_one(key)) {
            self.flush();
        }
        Ok(())
    }

    fn failed(&self) -> bool {
        self.failure.is_some()
    }

    fn finish(&mut self) -> Result<(), Failure> {
        self.flush();
        self.failure.take().map_or(Ok(()), Err)
    }
}

/// A record, decoded (or why it did not decode).
struct Decoded<K, V> {
    seq: u64,
    offset: u64,
    /// An insert's key hashed by the map's hasher.
    hash: Option<u64>,
    op: Result<Op<K, V>, StoreError>,
}

/// Decoded records in log order; a decode failure travels in its place.
struct Chunk<K, V> {
    ops: Vec<Decoded<K, V>>,
    bytes: usize,
}

impl<K: DeserializeOwned, V: DeserializeOwned> Chunk<K, V> {
    /// Decodes `record` into the chunk, hashing an inserted key with
    /// `hash`; returns whether the chunk should go now: it is full, or the
    /// record did not decode (nothing after it is taken).
    fn push(&mut self, record: ReplayRecord<'_>, hash: impl Fn(&K) -> u64) -> bool {
        let op = decode(record);
        let bad = op.is_err();
        let hash = match &op {
            Ok(Op::Insert(key, _)) => Some(hash(key)),
            _ => None,
        };
        self.bytes += record.payload.len();
        self.ops.push(Decoded {
            seq: record.seq,
            offset: record.offset,
            hash,
            op,
        });
        bad || self.ops.len() >= CHUNK_OPS || self.bytes >= CHUNK_BYTES
    }
}

impl<K, V> Default for Chunk<K, V> {
    fn default() -> Self {
        Self {
            ops: Vec::with_capacity(CHUNK_OPS),
            bytes: 0,
        }
    }
}

/// The reading thread's replayer: decodes each record, hashes an insert's
/// key, and sends them on in chunks.
struct Decoding<'s, K, V, S> {
    /// `None` once finished.
    chunks: Option<SyncSender<Chunk<K, V>>>,
    chunk: Chunk<K, V>,
    /// A decode failed, or the opening thread stopped taking chunks.
    stopped: bool,
    /// The opening thread's verdict is a failure.
    failed: &'s AtomicBool,
    file_len: &'s AtomicU64,
    verdict: Receiver<Result<(), Failure>>,
    hasher: S,
    /// The log's path, to name it if the opening thread stops.
    path: &'s Path,
}

impl<K, V, S> Decoding<'_, K, V, S> {
    /// Sends the chunk gathered so far.
    fn send(&mut self) {
        if self.chunk.ops.is_empty() {
            return;
        }
        let chunk = std::mem::take(&mut self.chunk);
        let sent = self.chunks.as_ref().is_some_and(|c| c.send(chunk).is_ok());
        if !sent {
            self.stopped = true;
        }
    }
}

impl<K, V, S> Replay<StoreError> for Decoding<'_, K, V, S>
where
    K: Hash + DeserializeOwned,
    V: DeserializeOwned,
    S: BuildHasher,
{
    fn begin(&mut self, file_len: u64) {
        self.file_len.store(file_len, Ordering::Relaxed);
    }

    fn record(&mut self, record: ReplayRecord<'_>) -> Result<(), StoreError> {
        if self.stopped {
            return Ok(());
        }
        let hasher = &self.hasher;
        if self.chunk.push(record, |key| hasher.hash_one(key)) {
            // Nothing after a record that failed to decode is read.
            self.stopped |= self.chunk.ops.last().is_some_and(|d| d.op.is_err());
            self.send();
        }
        Ok(())
    }

    fn failed(&self) -> bool {
        self.stopped || self.failed.load(Ordering::Relaxed)
    }

    fn finish(&mut self) -> Result<(), Failure> {
        self.send();
        // Ends the opening thread's loop once it has applied every chunk.
        self.chunks = None;
        // No verdict: the opening thread panicked, and its panic, not
        // this error, is what the open ends with.
        self.verdict.recv().unwrap_or_else(|_| {
            Err(Failure {
                seq: 0,
                offset: 0,
                source: StoreError::Log(WalError::Io {
                    op: "replaying",
                    path: self.path.to_path_buf(),
                    source: std::io::Error::other(
                        "the thread applying the replayed records stopped",
                    ),
                }),
            })
        })
    }
}
