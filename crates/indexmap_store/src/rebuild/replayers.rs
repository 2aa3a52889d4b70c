//! The two replayers an open runs, and the chunks they fill: the
//! sequential one, which decodes a chunk and applies it on the opening
//! thread, and the reading thread's, which decodes chunks and sends them
//! to the opening thread (see the parent module).

use std::hash::{BuildHasher, Hash};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use serde::de::DeserializeOwned;
use wal_io::{Replay, ReplayRecord, WalError};

use super::{CHUNK_BYTES, CHUNK_OPS, Failure, Rebuild};
use crate::codec::{self, Op};
use crate::error::StoreError;

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
pub(super) struct Sequential<'r, 'a, K, V, S> {
    pub(super) rebuild: &'r mut Rebuild<'a, K, V, S>,
    pub(super) chunk: Chunk<K, V>,
    pub(super) failure: Option<Failure>,
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

    fn seal_note(&mut self, note: &[u8]) {
        if let Some(entries) = codec::read_live_note(note) {
            self.rebuild.reserve_for(entries);
        }
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
pub(super) struct Decoded<K, V> {
    pub(super) seq: u64,
    pub(super) offset: u64,
    /// An insert's key hashed by the map's hasher.
    pub(super) hash: Option<u64>,
    pub(super) op: Result<Op<K, V>, StoreError>,
}

/// Decoded records in log order; a decode failure travels in its place.
pub(super) struct Chunk<K, V> {
    pub(super) ops: Vec<Decoded<K, V>>,
    pub(super) bytes: usize,
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
pub(super) struct Decoding<'s, K, V, S> {
    /// `None` once finished.
    pub(super) chunks: Option<SyncSender<Chunk<K, V>>>,
    pub(super) chunk: Chunk<K, V>,
    /// A decode failed, or the opening thread stopped taking chunks.
    pub(super) stopped: bool,
    /// The opening thread's verdict is a failure.
    pub(super) failed: &'s AtomicBool,
    pub(super) file_len: &'s AtomicU64,
    /// The entry count of the seal note, or [`super::NO_NOTE`].
    pub(super) noted: &'s AtomicU64,
    pub(super) verdict: Receiver<Result<(), Failure>>,
    pub(super) hasher: S,
    /// The log's path, to name it if the opening thread stops.
    pub(super) path: &'s Path,
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

    fn seal_note(&mut self, note: &[u8]) {
        if let Some(entries) = codec::read_live_note(note) {
            self.noted.store(entries, Ordering::Relaxed);
        }
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
