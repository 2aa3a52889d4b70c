//! The Raft log on wal-io, synchronous: records for the vote, entries,
//! truncations, purges and the committed id, replayed into memory on open.
//!
//! Every change is one wal-io record (or one atomic batch of them), so a
//! crash keeps it whole or not at all. This module only writes; making the
//! writes durable (one `fdatasync` shared by several appends) is
//! [`crate::log_store`]'s job, through [`LogCore::wal`].

use std::collections::BTreeMap;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::RaftLogId;
use wal_io::{RecoveryReport, Storage, Wal, WalOptions};

use crate::codec::{decode_whole, encode_tagged, split_tag};
use crate::error::RaftStoreError;
use crate::types::{Entry, Key, LogId, Value, Vote};

/// The log file's application tag: this crate's Raft log, bincode 2.
pub const LOG_APP_TAG: &[u8] = b"imsraft/log-bc2";
/// The log's record schema version.
pub const LOG_SCHEMA_VERSION: u32 = 1;

const TAG_VOTE: u8 = 1;
const TAG_ENTRY: u8 = 2;
const TAG_TRUNCATE: u8 = 3;
const TAG_PURGE: u8 = 4;
const TAG_COMMITTED: u8 = 5;

/// A rewrite drops purged entries' bytes once the file is this large and
/// at least [`REWRITE_RATIO`] times what the live records need.
const REWRITE_MIN_BYTES: u64 = 8 << 20;
const REWRITE_RATIO: u64 = 4;

/// What the log holds, as replayed.
#[derive(Debug)]
pub(crate) struct LogState<K: Key, V: Value> {
    pub vote: Option<Vote>,
    pub committed: Option<LogId>,
    pub last_purged: Option<LogId>,
    /// Entries by index, each with its record's size in bytes.
    pub entries: BTreeMap<u64, (Entry<K, V>, u64)>,
    /// Bytes of the entries' records.
    pub live_bytes: u64,
}

impl<K: Key, V: Value> Default for LogState<K, V> {
    fn default() -> Self {
        Self {
            vote: None,
            committed: None,
            last_purged: None,
            entries: BTreeMap::new(),
            live_bytes: 0,
        }
    }
}

impl<K: Key, V: Value> LogState<K, V> {
    fn insert(&mut self, entry: Entry<K, V>, size: u64) {
        self.live_bytes += size;
        if let Some((_, old)) = self.entries.insert(entry.log_id.index, (entry, size)) {
            self.live_bytes -= old;
        }
    }

    /// Removes every entry with index `since` or above.
    fn truncate(&mut self, since: u64) {
        for (_, (_, size)) in self.entries.split_off(&since) {
            self.live_bytes -= size;
        }
    }

    /// Removes every entry up to `upto.index` and remembers `upto`.
    fn purge(&mut self, upto: LogId) {
        let kept = self.entries.split_off(&(upto.index + 1));
        for (_, (_, size)) in std::mem::replace(&mut self.entries, kept) {
            self.live_bytes -= size;
        }
        if self.last_purged.is_none_or(|p| p < upto) {
            self.last_purged = Some(upto);
        }
    }

    /// The last log id: the last entry's, or the last purged one's.
    pub fn last_log_id(&self) -> Option<LogId> {
        self.entries
            .last_key_value()
            .map(|(_, (e, _))| *e.get_log_id())
            .or(self.last_purged)
    }

    /// Clones of the entries whose index is in `range`.
    pub fn entries_in(&self, range: impl RangeBounds<u64>) -> Vec<Entry<K, V>> {
        self.entries
            .range(range)
            .map(|(_, (e, _))| e.clone())
            .collect()
    }
}

/// The Raft log file and its state in memory.
#[derive(Debug)]
pub(crate) struct LogCore<K: Key, V: Value> {
    wal: Wal,
    path: PathBuf,
    pub state: LogState<K, V>,
}

/// The wal-io options of a Raft log.
pub(crate) fn log_options() -> WalOptions {
    WalOptions {
        app_tag: LOG_APP_TAG.to_vec(),
        app_version: LOG_SCHEMA_VERSION,
        ..WalOptions::default()
    }
}

impl<K: Key, V: Value> LogCore<K, V> {
    /// Opens (or creates) the log at `path` and replays it. Recovery is
    /// wal-io's: a torn tail (writes that were never acknowledged) is cut,
    /// damaged synced data refuses the open, touching nothing.
    pub fn open(
        storage: Arc<dyn Storage>,
        path: &Path,
    ) -> Result<(Self, RecoveryReport), RaftStoreError> {
        let mut state = LogState::default();
        let (wal, report) = Wal::open_typed(storage, path, log_options(), |record| {
            replay(&mut state, record.payload).map_err(|(what, reason)| RaftStoreError::Decode {
                path: path.to_path_buf(),
                seq: record.seq,
                what,
                reason,
            })
        })
        .map_err(|e| e.into_callback().unwrap_or_else(RaftStoreError::from))?;
        Ok((
            Self {
                wal,
                path: path.to_path_buf(),
                state,
            },
            report,
        ))
    }

    /// The log file, for syncing.
    pub fn wal(&mut self) -> &mut Wal {
        &mut self.wal
    }

    /// Appends `entries` as one atomic write (not yet durable) and makes
    /// them readable; returns the sequence number a sync must cover.
    pub fn append(&mut self, entries: Vec<Entry<K, V>>) -> Result<u64, RaftStoreError> {
        let mut payloads = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut buf = Vec::new();
            encode_tagged(&mut buf, TAG_ENTRY, entry)?;
            payloads.push(buf);
        }
        let seqs = self.wal.append_many(payloads.iter().map(Vec::as_slice))?;
        for (entry, payload) in entries.into_iter().zip(&payloads) {
            self.state.insert(entry, payload.len() as u64);
        }
        Ok(seqs.end)
    }

    /// Logs the vote (not yet durable).
    pub fn save_vote(&mut self, vote: &Vote) -> Result<u64, RaftStoreError> {
        let seq = self.write(TAG_VOTE, vote)?;
        self.state.vote = Some(*vote);
        Ok(seq)
    }

    /// Logs the committed id (not yet durable; openraft accepts an older
    /// one after a crash and re-applies from it).
    pub fn save_committed(&mut self, committed: Option<LogId>) -> Result<u64, RaftStoreError> {
        let seq = self.write(TAG_COMMITTED, &committed)?;
        self.state.committed = committed;
        Ok(seq)
    }

    /// Deletes every entry from index `since` on (not yet durable).
    pub fn truncate(&mut self, since: u64) -> Result<u64, RaftStoreError> {
        let seq = self.write(TAG_TRUNCATE, &since)?;
        self.state.truncate(since);
        Ok(seq)
    }

    /// Deletes every entry up to `upto` (not yet durable).
    pub fn purge(&mut self, upto: LogId) -> Result<u64, RaftStoreError> {
        let seq = self.write(TAG_PURGE, &upto)?;
        self.state.purge(upto);
        Ok(seq)
    }

    /// What installing a snapshot that ends at `last` does to the log, as
    /// one atomic write: entries up to `last` are purged, and if the log
    /// held a different entry at `last`'s index, every later entry is
    /// deleted too (they conflict with the snapshot). Not yet durable.
    pub fn purge_for_snapshot(&mut self, last: LogId) -> Result<u64, RaftStoreError> {
        let conflict = self
            .state
            .entries
            .get(&last.index)
            .is_some_and(|(e, _)| *e.get_log_id() != last);
        let mut payloads = Vec::new();
        if conflict {
            let mut buf = Vec::new();
            encode_tagged(&mut buf, TAG_TRUNCATE, &last.index)?;
            payloads.push(buf);
        }
        let mut buf = Vec::new();
        encode_tagged(&mut buf, TAG_PURGE, &last)?;
        payloads.push(buf);
        let seqs = self.wal.append_many(payloads.iter().map(Vec::as_slice))?;
        if conflict {
            self.state.truncate(last.index);
        }
        self.state.purge(last);
        Ok(seqs.end)
    }

    fn write<T: serde::Serialize>(&mut self, tag: u8, value: &T) -> Result<u64, RaftStoreError> {
        let mut buf = Vec::new();
        encode_tagged(&mut buf, tag, value)?;
        Ok(self.wal.append(&buf)? + 1)
    }

    /// Rewrites the log with only what it holds now, if purged entries
    /// take most of the file: atomic (wal-io's rewrite: temporary file,
    /// sync, rename, directory sync) and durable when it returns.
    pub fn maybe_rewrite(&mut self) -> Result<bool, RaftStoreError> {
        let bytes = self.wal.stats().bytes;
        if bytes < REWRITE_MIN_BYTES || bytes < REWRITE_RATIO.saturating_mul(self.state.live_bytes)
        {
            return Ok(false);
        }
        self.rewrite()?;
        Ok(true)
    }

    /// Rewrites the log with only what it holds now; see [`Self::maybe_rewrite`].
    pub fn rewrite(&mut self) -> Result<(), RaftStoreError> {
        let state = &self.state;
        let mut failure = None;
        let result = self.wal.rewrite(|w| {
            let mut push = |tag: u8, value: &dyn erased::Encode| {
                w.push_with(|buf| {
                    value.encode(buf, tag).map_err(|e| {
                        let message = e.to_string();
                        failure = Some(e);
                        message
                    })
                })
            };
            if let Some(vote) = &state.vote {
                push(TAG_VOTE, vote)?;
            }
            if let Some(purged) = &state.last_purged {
                push(TAG_PURGE, purged)?;
            }
            for (entry, _) in state.entries.values() {
                push(TAG_ENTRY, entry)?;
            }
            push(TAG_COMMITTED, &state.committed)?;
            Ok(())
        });
        match (result, failure) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
        }
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Object-safe encoding, so that [`LogCore::rewrite`] pushes records of
/// several types through one closure.
mod erased {
    use crate::codec::encode_tagged;
    use crate::error::RaftStoreError;

    pub(super) trait Encode {
        fn encode(&self, buf: &mut Vec<u8>, tag: u8) -> Result<(), RaftStoreError>;
    }

    impl<T: serde::Serialize> Encode for T {
        fn encode(&self, buf: &mut Vec<u8>, tag: u8) -> Result<(), RaftStoreError> {
            encode_tagged(buf, tag, self)
        }
    }
}

/// Applies one record to the state; `Err((what it should be, why not))`.
fn replay<K: Key, V: Value>(
    state: &mut LogState<K, V>,
    payload: &[u8],
) -> Result<(), (&'static str, String)> {
    let (tag, body) = split_tag(payload).ok_or(("log record", "an empty record".to_owned()))?;
    match tag {
        TAG_VOTE => state.vote = Some(decode_whole(body).map_err(|e| ("vote", e))?),
        TAG_ENTRY => {
            let entry: Entry<K, V> = decode_whole(body).map_err(|e| ("log entry", e))?;
            state.insert(entry, payload.len() as u64);
        }
        TAG_TRUNCATE => state.truncate(decode_whole(body).map_err(|e| ("truncation", e))?),
        TAG_PURGE => state.purge(decode_whole(body).map_err(|e| ("purge", e))?),
        TAG_COMMITTED => state.committed = decode_whole(body).map_err(|e| ("committed id", e))?,
        other => {
            return Err((
                "log record",
                format!("unknown record tag {other} (written by a newer version?)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use wal_io::FsStorage;

    use super::*;

    /// A record that passes its checksum but does not decode fails the
    /// open with the decoder's reason, naming the record, and changes no
    /// byte of the log.
    #[test]
    fn a_record_that_does_not_decode_fails_the_open_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raft.log");
        let storage: Arc<dyn Storage> = Arc::new(FsStorage::new());
        let (mut core, _) = LogCore::<String, String>::open(Arc::clone(&storage), &path).unwrap();
        core.save_committed(None).unwrap();
        let bad = core.wal().append(&[0xee]).unwrap();
        drop(core);
        let before = std::fs::read(&path).unwrap();

        let Err(err) = LogCore::<String, String>::open(storage, &path) else {
            panic!("a record that does not decode must fail the open");
        };
        match &err {
            RaftStoreError::Decode {
                path: named,
                seq,
                what,
                reason,
            } => {
                assert_eq!(named, &path);
                assert_eq!(*seq, bad);
                assert_eq!(*what, "log record");
                assert_eq!(
                    reason,
                    "unknown record tag 238 (written by a newer version?)"
                );
            }
            other => panic!("expected a decode error, got {other}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
