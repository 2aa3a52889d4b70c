//! [`StateMachine`]: openraft's `RaftStateMachine`, an `IndexMap` with its
//! last applied log id and membership, snapshotted to a [`SnapshotFile`].
//!
//! The map lives in memory. After a restart it is the last snapshot, and
//! openraft re-applies the committed entries that follow it from the log
//! (a snapshot is durable before the log entries it covers are purged, so
//! nothing is ever in neither).

use std::io::Cursor;
use std::path::Path;
use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageError};
use wal_io::Storage;

use crate::apply::apply_command;
use crate::error::RaftStoreError;
use crate::log_store::{LogStore, WeakLog};
use crate::snapshot::SnapshotFile;
use crate::types::{
    Entry, Key, LogId, MapConfig, Membership, NodeId, Response, SnapshotMeta, Value,
};

/// The replicated state: the map, and how far the log has been applied.
#[derive(Debug, Clone)]
pub struct MapState<K, V> {
    /// The last log entry applied.
    pub last_applied: Option<LogId>,
    /// The membership as of the last applied membership entry.
    pub membership: Membership,
    /// The map.
    pub map: IndexMap<K, V>,
}

impl<K, V> Default for MapState<K, V> {
    fn default() -> Self {
        Self {
            last_applied: None,
            membership: Membership::default(),
            map: IndexMap::new(),
        }
    }
}

/// The snapshot file and the metadata of the snapshot it holds.
#[derive(Debug)]
struct Slot {
    file: SnapshotFile,
    meta: Option<SnapshotMeta>,
}

type State<K, V> = Arc<RwLock<MapState<K, V>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read access to a node's map, shared with its state machine (it holds
/// no file open).
#[derive(Debug)]
pub struct MapReader<K: Key, V: Value> {
    state: State<K, V>,
}

impl<K: Key, V: Value> Clone for MapReader<K, V> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
        }
    }
}

impl<K: Key, V: Value> MapReader<K, V> {
    /// The state as applied on this node (may lag the leader).
    pub fn read(&self) -> RwLockReadGuard<'_, MapState<K, V>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Tells when a state machine's and its log's files are closed.
#[derive(Debug)]
pub(crate) struct ClosedProbe<K: Key, V: Value> {
    slot: Weak<Mutex<Slot>>,
    log: Option<WeakLog<K, V>>,
}

impl<K: Key, V: Value> ClosedProbe<K, V> {
    /// Whether nothing holds the files open any more.
    pub(crate) fn is_closed(&self) -> bool {
        self.slot.strong_count() == 0 && self.log.as_ref().is_none_or(WeakLog::is_closed)
    }
}

/// The state machine of one node.
#[derive(Debug)]
pub struct StateMachine<K: Key, V: Value> {
    state: State<K, V>,
    slot: Arc<Mutex<Slot>>,
    /// The node's log, which an installed snapshot purges.
    log: Option<WeakLog<K, V>>,
}

impl<K: Key, V: Value> StateMachine<K, V> {
    /// Opens the snapshot file at `path` (creating it if missing) and loads
    /// its snapshot. `log`, the node's log, is purged up to a snapshot
    /// installed from the leader before the install returns (the state
    /// machine does not keep the log open).
    pub fn open(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        log: Option<&LogStore<K, V>>,
    ) -> Result<Self, RaftStoreError> {
        let (file, loaded) = SnapshotFile::open::<K, V>(storage, path.as_ref())?;
        let (state, meta) = match loaded {
            Some(loaded) => (
                MapState {
                    last_applied: loaded.meta.last_log_id,
                    membership: loaded.meta.last_membership.clone(),
                    map: loaded.map,
                },
                Some(loaded.meta),
            ),
            None => (MapState::default(), None),
        };
        Ok(Self {
            state: Arc::new(RwLock::new(state)),
            slot: Arc::new(Mutex::new(Slot { file, meta })),
            log: log.map(LogStore::weak),
        })
    }

    /// A handle to read the map while the node runs.
    pub fn reader(&self) -> MapReader<K, V> {
        MapReader {
            state: Arc::clone(&self.state),
        }
    }

    /// A probe that tells when this state machine (and the log it purges)
    /// have been dropped, their files closed.
    pub(crate) fn closed_probe(&self) -> ClosedProbe<K, V> {
        ClosedProbe {
            slot: Arc::downgrade(&self.slot),
            log: self.log.as_ref().map(WeakLog::clone_weak),
        }
    }

    fn write(&self) -> RwLockWriteGuard<'_, MapState<K, V>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds snapshots of a node's state machine.
#[derive(Debug)]
pub struct SnapshotBuilder<K: Key, V: Value> {
    state: State<K, V>,
    slot: Arc<Mutex<Slot>>,
}

impl<K: Key, V: Value> RaftSnapshotBuilder<MapConfig<K, V>> for SnapshotBuilder<K, V> {
    /// Writes the current state as the snapshot (atomically, durable when
    /// this returns). Applying waits while the snapshot is written.
    async fn build_snapshot(&mut self) -> Result<Snapshot<MapConfig<K, V>>, StorageError<NodeId>> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let meta = SnapshotMeta {
            last_log_id: state.last_applied,
            last_membership: state.membership.clone(),
            snapshot_id: match state.last_applied {
                Some(id) => format!("{}-{}-{nanos}", id.leader_id, id.index),
                None => format!("empty-{nanos}"),
            },
        };
        let mut slot = lock(&self.slot);
        slot.file
            .write(&meta, &state.map)
            .map_err(RaftStoreError::into_storage_error)?;
        drop(state);
        slot.meta = Some(meta.clone());
        let bytes = slot
            .file
            .read_bytes()
            .map_err(RaftStoreError::into_storage_error)?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

impl<K: Key, V: Value> RaftStateMachine<MapConfig<K, V>> for StateMachine<K, V> {
    type SnapshotBuilder = SnapshotBuilder<K, V>;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, Membership), StorageError<NodeId>> {
        let state = self.reader().read().clone_applied();
        Ok(state)
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response<V>>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<K, V>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut state = self.write();
        let mut answers = Vec::new();
        for entry in entries {
            state.last_applied = Some(entry.log_id);
            answers.push(match entry.payload {
                EntryPayload::Blank => Response::Done,
                EntryPayload::Normal(command) => apply_command(&mut state.map, command),
                EntryPayload::Membership(membership) => {
                    state.membership = Membership::new(Some(entry.log_id), membership);
                    Response::Done
                }
            });
        }
        Ok(answers)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            state: Arc::clone(&self.state),
            slot: Arc::clone(&self.slot),
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    /// Checks the received snapshot whole, makes it this node's snapshot
    /// (durable), purges the log entries it covers (durable), then
    /// replaces the map.
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let bytes = snapshot.into_inner();
        let mut slot = lock(&self.slot);
        let loaded = slot
            .file
            .decode_received::<K, V>(&bytes)
            .map_err(RaftStoreError::into_storage_error)?;
        if loaded.meta.last_log_id != meta.last_log_id
            || loaded.meta.last_membership != meta.last_membership
        {
            return Err(RaftStoreError::BadSnapshot {
                reason: format!(
                    "its header ({}) does not match the metadata it was sent with ({meta})",
                    loaded.meta
                ),
            }
            .into_storage_error());
        }
        slot.file
            .write(meta, &loaded.map)
            .map_err(RaftStoreError::into_storage_error)?;
        if let (Some(log), Some(last)) = (&self.log, meta.last_log_id) {
            log.purge_for_snapshot(last)
                .map_err(RaftStoreError::into_storage_error)?;
        }
        *self.write() = MapState {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
            map: loaded.map,
        };
        slot.meta = Some(meta.clone());
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<MapConfig<K, V>>>, StorageError<NodeId>> {
        let slot = lock(&self.slot);
        let Some(meta) = slot.meta.clone() else {
            return Ok(None);
        };
        let bytes = slot
            .file
            .read_bytes()
            .map_err(RaftStoreError::into_storage_error)?;
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}

impl<K, V> MapState<K, V> {
    fn clone_applied(&self) -> (Option<LogId>, Membership) {
        (self.last_applied, self.membership.clone())
    }
}
