//! [`LogStore`]: openraft's `RaftLogStorage` on [`LogCore`], with group
//! commit.
//!
//! What is durable when:
//! - `append` writes the entries (readable at once) and returns; a flusher
//!   thread calls openraft's callback only after an `fdatasync` that covers
//!   them. Appends that arrive while a sync runs share the next one.
//! - `save_vote`, `truncate` and `purge` are durable before they return
//!   (a vote that could be lost would let a node vote twice in a term).
//! - `save_committed` is written but not synced: openraft accepts an older
//!   committed id after a crash and re-applies from it.

use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader, StorageError};
use wal_io::{RecoveryReport, Storage};

use crate::error::RaftStoreError;
use crate::log_core::LogCore;
use crate::types::{Entry, Key, LogId, MapConfig, NodeId, Value, Vote};

type Core<K, V> = Arc<Mutex<LogCore<K, V>>>;

fn lock<K: Key, V: Value>(core: &Mutex<LogCore<K, V>>) -> MutexGuard<'_, LogCore<K, V>> {
    // A panic while holding the lock leaves the state as of the last whole
    // call (every call updates memory only after its write succeeded).
    core.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes every record below `seq` durable, sharing the `fdatasync` with
/// whoever else needs one: the sync runs without the lock, so appends and
/// reads continue meanwhile.
fn sync_covering<K: Key, V: Value>(
    core: &Mutex<LogCore<K, V>>,
    seq: u64,
) -> Result<(), RaftStoreError> {
    let ticket = {
        let mut guard = lock(core);
        if guard.wal().durable_seq() >= seq {
            return Ok(());
        }
        guard.wal().begin_sync()?
    };
    let done = ticket.run();
    lock(core).wal().finish_sync(done)?;
    Ok(())
}

/// What an append calls once the sync that covers it has run (openraft's
/// `LogFlushed` callback, or a test's probe).
pub(crate) type Done = Box<dyn FnOnce(io::Result<()>) + Send>;

/// An append waiting for its sync.
struct Pending {
    seq: u64,
    done: Done,
}

/// The flusher thread: takes every pending append, syncs once for all of
/// them, then completes their callbacks.
fn flusher<K: Key, V: Value>(core: Core<K, V>, rx: Receiver<Pending>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let upto = batch.iter().map(|p| p.seq).max().unwrap_or(0);
        let result = sync_covering(&core, upto);
        for pending in batch {
            (pending.done)(
                result
                    .as_ref()
                    .map(drop)
                    .map_err(|e| io::Error::other(e.to_string())),
            );
        }
    }
}

/// The Raft log of one node: a wal-io log file replayed into memory.
pub struct LogStore<K: Key, V: Value> {
    core: Core<K, V>,
    flush_tx: Option<Sender<Pending>>,
    flusher: Option<JoinHandle<()>>,
}

impl<K: Key, V: Value> Debug for LogStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore")
            .field("path", &lock(&self.core).path())
            .finish()
    }
}

impl<K: Key, V: Value> LogStore<K, V> {
    /// Opens (or creates) the log at `path`, replaying it, and starts its
    /// flusher thread.
    pub fn open(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
    ) -> Result<(Self, RecoveryReport), RaftStoreError> {
        let (core, report) = LogCore::open(storage, path.as_ref())?;
        let core = Arc::new(Mutex::new(core));
        let (tx, rx) = channel();
        let flusher = {
            let core = Arc::clone(&core);
            std::thread::Builder::new()
                .name("raft-log-flusher".into())
                .spawn(move || flusher(core, rx))
                .map_err(|e| RaftStoreError::Stopped {
                    message: format!("could not start the log's flusher thread: {e}"),
                })?
        };
        Ok((
            Self {
                core,
                flush_tx: Some(tx),
                flusher: Some(flusher),
            },
            report,
        ))
    }

    /// The vote, as logged.
    pub fn vote(&self) -> Option<Vote> {
        lock(&self.core).state.vote
    }

    /// The committed id, as logged.
    pub fn committed(&self) -> Option<LogId> {
        lock(&self.core).state.committed
    }

    /// The last purged id and every entry the log holds, in index order.
    pub fn contents(&self) -> (Option<LogId>, Vec<Entry<K, V>>) {
        let core = lock(&self.core);
        (core.state.last_purged, core.state.entries_in(..))
    }

    /// Rewrites the log file now with only what it holds (the vote, the
    /// last purged id, the entries, the committed id): atomic, and durable
    /// when it returns. The log also does this by itself after a purge
    /// once purged entries take most of the file.
    pub fn compact(&self) -> Result<(), RaftStoreError> {
        lock(&self.core).rewrite()
    }

    /// A handle for the state machine, which purges the log when it
    /// installs a snapshot; it does not keep the log open.
    pub(crate) fn weak(&self) -> WeakLog<K, V> {
        WeakLog(Arc::downgrade(&self.core))
    }

    /// Writes `entries` (readable at once) and hands `done` to the flusher,
    /// which calls it after the sync that covers them: appends queued while
    /// a sync runs share the next one.
    pub(crate) fn append_then(
        &mut self,
        entries: Vec<Entry<K, V>>,
        done: Done,
    ) -> Result<(), RaftStoreError> {
        let seq = lock(&self.core).append(entries)?;
        let pending = Pending { seq, done };
        match &self.flush_tx {
            Some(tx) => {
                if let Err(unsent) = tx.send(pending) {
                    (unsent.0.done)(Err(io::Error::other(
                        "the log's flusher thread has stopped; restart the node",
                    )));
                }
            }
            None => (pending.done)(Err(io::Error::other("the log is closed"))),
        }
        Ok(())
    }

    /// Runs `f`, then syncs what it wrote: durable when this returns.
    fn durable(
        &mut self,
        f: impl FnOnce(&mut LogCore<K, V>) -> Result<u64, RaftStoreError>,
    ) -> Result<(), RaftStoreError> {
        let seq = f(&mut lock(&self.core))?;
        sync_covering(&self.core, seq)
    }
}

impl<K: Key, V: Value> Drop for LogStore<K, V> {
    fn drop(&mut self) {
        // Closing the channel ends the flusher once it has synced and
        // answered what is pending.
        self.flush_tx.take();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

/// Reads entries while the log is written (openraft's replication tasks).
#[derive(Debug)]
pub struct LogReader<K: Key, V: Value> {
    core: Core<K, V>,
}

impl<K: Key, V: Value> Clone for LogReader<K, V> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
        }
    }
}

/// The log as the state machine holds it: without keeping it open.
#[derive(Debug)]
pub(crate) struct WeakLog<K: Key, V: Value>(Weak<Mutex<LogCore<K, V>>>);

impl<K: Key, V: Value> WeakLog<K, V> {
    /// What installing a snapshot ending at `last` does to the log; durable
    /// when it returns. See [`LogCore::purge_for_snapshot`].
    pub(crate) fn purge_for_snapshot(&self, last: LogId) -> Result<(), RaftStoreError> {
        let core = self.0.upgrade().ok_or_else(|| RaftStoreError::Stopped {
            message: "the node's log is closed".to_owned(),
        })?;
        let seq = lock(&core).purge_for_snapshot(last)?;
        sync_covering(&core, seq)?;
        lock(&core).maybe_rewrite()?;
        Ok(())
    }

    pub(crate) fn clone_weak(&self) -> Self {
        Self(Weak::clone(&self.0))
    }

    /// Whether the log file is closed (nothing holds it any more).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl<K: Key, V: Value> RaftLogReader<MapConfig<K, V>> for LogReader<K, V> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<K, V>>, StorageError<NodeId>> {
        Ok(lock(&self.core).state.entries_in(range))
    }
}

impl<K: Key, V: Value> RaftLogReader<MapConfig<K, V>> for LogStore<K, V> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<K, V>>, StorageError<NodeId>> {
        Ok(lock(&self.core).state.entries_in(range))
    }
}

impl<K: Key, V: Value> RaftLogStorage<MapConfig<K, V>> for LogStore<K, V> {
    type LogReader = LogReader<K, V>;

    async fn get_log_state(&mut self) -> Result<LogState<MapConfig<K, V>>, StorageError<NodeId>> {
        let core = lock(&self.core);
        Ok(LogState {
            last_purged_log_id: core.state.last_purged,
            last_log_id: core.state.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        LogReader {
            core: Arc::clone(&self.core),
        }
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError<NodeId>> {
        self.durable(|core| core.save_vote(vote))
            .map_err(Into::into)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError<NodeId>> {
        Ok(lock(&self.core).state.vote)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId>,
    ) -> Result<(), StorageError<NodeId>> {
        lock(&self.core)
            .save_committed(committed)
            .map(drop)
            .map_err(RaftStoreError::into_storage_error)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError<NodeId>> {
        Ok(lock(&self.core).state.committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<MapConfig<K, V>>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<K, V>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let done: Done = Box::new(move |result| callback.log_io_completed(result));
        self.append_then(entries, done)
            .map_err(RaftStoreError::into_storage_error)
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        self.durable(|core| core.truncate(log_id.index))
            .map_err(Into::into)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        self.durable(|core| core.purge(log_id))?;
        lock(&self.core)
            .maybe_rewrite()
            .map(drop)
            .map_err(RaftStoreError::into_storage_error)
    }
}
