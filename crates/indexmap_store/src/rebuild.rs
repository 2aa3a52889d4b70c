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
//! reading thread reports it through [`Replay::finish`](wal_io::Replay::finish) before the log's
//! tail is settled, so the file is left untouched and the error names the
//! same record, in the same words, as the sequential open's.

use std::hash::{BuildHasher, Hash};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use indexmap::IndexMap;
use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use serde::de::DeserializeOwned;
use wal_io::{RecoveryReport, ReplayFailure, Storage, Wal, WalOptions};

use crate::codec::{Op, SchemaRecord};
use crate::error::{StoreError, from_callback};
use crate::open::SchemaCheck;
use crate::schema::describe;

mod replayers;

use replayers::{Chunk, Decoded, Decoding, Sequential};

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
/// No entry count from the seal note (a count this large is never
/// believed anyway).
const NO_NOTE: u64 = u64::MAX;

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
        // Saturating: a record that cannot apply (a splice or a run ending
        // near `u64::MAX`) is refused below, after it was counted.
        self.mutations = self.mutations.saturating_add(op.mutations());
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
            &Op::Live(entries) => self.reserve_for(entries),
            _ => {}
        }
        crate::open::replay(&mut self.map, seq, offset, op)
    }

    /// Sizes the map for `entries` entries in all, from [`Op::Live`] or
    /// the seal note ([`crate::codec::read_live_note`]). Every entry takes more
    /// than two bytes of log: a count above that is not believed (it sizes
    /// nothing, and fails nothing).
    fn reserve_for(&mut self, entries: u64) {
        if entries > self.file_len / 2 {
            return;
        }
        let more = usize::try_from(entries)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.map.len());
        // Memory only: a refused reservation leaves the map to grow.
        let _ = self.map.try_reserve_exact(more);
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
        let noted = AtomicU64::new(NO_NOTE);
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
                    noted: &noted,
                    verdict: verdict_rx,
                    hasher,
                    path,
                };
                Wal::open_with_typed(storage, path, opts, &mut decoding).map_err(from_callback)
            });
            let verdict = self.apply_chunks(incoming, &file_len, &noted);
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
        noted: &AtomicU64,
    ) -> Result<(), Failure> {
        let mut first = true;
        for chunk in incoming {
            // Set before the first chunk was sent.
            self.file_len = file_len.load(Ordering::Relaxed);
            if std::mem::take(&mut first) {
                match noted.load(Ordering::Relaxed) {
                    NO_NOTE => {}
                    entries => self.reserve_for(entries),
                }
            }
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
