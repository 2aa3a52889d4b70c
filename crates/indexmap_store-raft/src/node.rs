//! [`ReplicatedMap`]: one node of a replicated map, the API applications
//! use.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{ForwardToLeader, RaftError};
use openraft::{BasicNode, Config, RaftNetworkFactory, TryAsRef};
use wal_io::{FsStorage, Storage};

use crate::damage::is_damage;
use crate::error::RaftStoreError;
use crate::log_store::LogStore;
use crate::state_machine::{ClosedProbe, MapReader, MapState, StateMachine};
use crate::types::{Command, Key, MapConfig, NodeId, Raft, Response, Value};

/// The file of a node's Raft log, in its directory.
pub const LOG_FILE: &str = "raft.log";
/// The file of a node's snapshot, in its directory.
pub const SNAPSHOT_FILE: &str = "snapshot.log";

/// One node of a replicated map.
///
/// Writes ([`insert`](Self::insert), [`write`](Self::write), ...) go
/// through the leader: on another node they fail with
/// [`RaftStoreError::NotLeader`], which names the leader. A write returns
/// once a majority of nodes hold it durably and the leader has applied it.
///
/// Reads come in two kinds:
/// - [`get`](Self::get) is **linearizable**: it confirms with a majority
///   that this node is still the leader, waits until its map has applied
///   everything committed before the call, then reads. It sees every
///   write acknowledged before it was called, on any node.
/// - [`get_local`](Self::get_local) and [`local`](Self::local) read this
///   node's map as applied so far, without asking anyone: fast, on any
///   node, but possibly stale (a follower lags, and a deposed leader may
///   not know yet).
pub struct ReplicatedMap<K: Key, V: Value> {
    id: NodeId,
    raft: Raft<K, V>,
    reader: MapReader<K, V>,
    files: ClosedProbe<K, V>,
}

impl<K: Key, V: Value> std::fmt::Debug for ReplicatedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedMap")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<K: Key, V: Value> ReplicatedMap<K, V> {
    /// Starts node `id` on the files in directory `dir` (created if
    /// missing), talking to its peers through `network`.
    pub async fn open<N>(
        id: NodeId,
        dir: impl AsRef<Path>,
        config: Arc<Config>,
        network: N,
    ) -> Result<Self, RaftStoreError>
    where
        N: RaftNetworkFactory<MapConfig<K, V>>,
    {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| RaftStoreError::Io {
            op: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
        Self::open_on(Arc::new(FsStorage::new()), id, dir, config, network).await
    }

    /// Like [`open`](Self::open), on any [`Storage`] (the simulated one in
    /// tests); `dir` must exist.
    pub async fn open_on<N>(
        storage: Arc<dyn Storage>,
        id: NodeId,
        dir: &Path,
        config: Arc<Config>,
        network: N,
    ) -> Result<Self, RaftStoreError>
    where
        N: RaftNetworkFactory<MapConfig<K, V>>,
    {
        let damaged = |e: RaftStoreError| {
            if is_damage(&e) {
                RaftStoreError::Damaged {
                    node: id,
                    dir: dir.to_path_buf(),
                    source: Box::new(e),
                }
            } else {
                e
            }
        };
        let (log, _) = LogStore::open(Arc::clone(&storage), dir.join(LOG_FILE)).map_err(damaged)?;
        let sm =
            StateMachine::open(storage, dir.join(SNAPSHOT_FILE), Some(&log)).map_err(damaged)?;
        let reader = sm.reader();
        let files = sm.closed_probe();
        let raft = openraft::Raft::new(id, config, network, log, sm)
            .await
            .map_err(|e| RaftStoreError::Stopped {
                message: e.to_string(),
            })?;
        Ok(Self {
            id,
            raft,
            reader,
            files,
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The openraft handle: metrics, membership changes, triggers.
    pub fn raft(&self) -> &Raft<K, V> {
        &self.raft
    }

    /// Makes a new cluster of `members` (call on one node, once).
    pub async fn initialize(
        &self,
        members: BTreeMap<NodeId, BasicNode>,
    ) -> Result<(), RaftStoreError> {
        self.raft.initialize(members).await.map_err(|e| match e {
            RaftError::APIError(api) => RaftStoreError::Raft {
                message: api.to_string(),
            },
            RaftError::Fatal(fatal) => RaftStoreError::Stopped {
                message: fatal.to_string(),
            },
        })
    }

    /// Adds a node that receives the log without voting (on the leader);
    /// returns once it has caught up.
    pub async fn add_learner(&self, id: NodeId, node: BasicNode) -> Result<(), RaftStoreError> {
        self.raft
            .add_learner(id, node, true)
            .await
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Makes `voters` the voting members (on the leader): joint consensus,
    /// then the new membership. A node not in `voters` leaves the cluster
    /// (learners included); add it back with [`add_learner`](Self::add_learner).
    pub async fn change_membership(&self, voters: BTreeSet<NodeId>) -> Result<(), RaftStoreError> {
        self.raft
            .change_membership(voters, false)
            .await
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Applies `command` through the log; see [`Command`].
    pub async fn write(&self, command: Command<K, V>) -> Result<Response<V>, RaftStoreError> {
        self.raft
            .client_write(command)
            .await
            .map(|r| r.data)
            .map_err(|e| self.error(e))
    }

    /// `IndexMap::insert`, replicated; returns the previous value.
    pub async fn insert(&self, key: K, value: V) -> Result<Option<V>, RaftStoreError> {
        self.write_value(Command::Insert { key, value }).await
    }

    /// `IndexMap::shift_remove`, replicated (keeps the order, O(n)).
    pub async fn shift_remove(&self, key: K) -> Result<Option<V>, RaftStoreError> {
        self.write_value(Command::ShiftRemove { key }).await
    }

    /// `IndexMap::swap_remove`, replicated (moves the last entry into the
    /// hole, O(1)).
    pub async fn swap_remove(&self, key: K) -> Result<Option<V>, RaftStoreError> {
        self.write_value(Command::SwapRemove { key }).await
    }

    /// Applies `commands` as one log entry: no node shows a state between
    /// them. Returns one answer per command.
    pub async fn batch(
        &self,
        commands: Vec<Command<K, V>>,
    ) -> Result<Vec<Response<V>>, RaftStoreError> {
        match self.write(Command::Batch(commands)).await? {
            Response::Batch(answers) => Ok(answers),
            other => Err(unexpected(&other)),
        }
    }

    async fn write_value(&self, command: Command<K, V>) -> Result<Option<V>, RaftStoreError> {
        match self.write(command).await? {
            Response::Value(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// Waits until a read of this node's map is linearizable: this node is
    /// the leader (confirmed by a majority) and has applied every write
    /// committed before the call.
    pub async fn ensure_linearizable(&self) -> Result<(), RaftStoreError> {
        self.raft
            .ensure_linearizable()
            .await
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// A linearizable read of `key` (on the leader); see the type's docs.
    pub async fn get<Q>(&self, key: &Q) -> Result<Option<V>, RaftStoreError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.ensure_linearizable().await?;
        Ok(self.get_local(key))
    }

    /// `key`'s value in this node's map as applied so far (may be stale).
    pub fn get_local<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.reader.read().map.get(key).cloned()
    }

    /// This node's state as applied so far (may be stale); hold the guard
    /// briefly: applying waits for it.
    pub fn local(&self) -> std::sync::RwLockReadGuard<'_, MapState<K, V>> {
        self.reader.read()
    }

    /// The leader this node knows of.
    pub fn current_leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// Stops the node and closes its files (they stay; open the node
    /// again to restart it). Returns once the files are closed, so that
    /// the directory can be opened again at once.
    pub async fn shutdown(&self) -> Result<(), RaftStoreError> {
        self.raft
            .shutdown()
            .await
            .map_err(|e| RaftStoreError::Stopped {
                message: e.to_string(),
            })?;
        // openraft drops the log and the state machine as its tasks end,
        // shortly after the core: wait for them (bounded).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.files.is_closed() {
            if Instant::now() > deadline {
                return Err(RaftStoreError::Stopped {
                    message: "the node stopped but its files were still open 10 s later".to_owned(),
                });
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    fn error<E>(&self, e: RaftError<NodeId, E>) -> RaftStoreError
    where
        E: TryAsRef<ForwardToLeader<NodeId, BasicNode>> + std::error::Error,
    {
        RaftStoreError::from_raft(self.id, e)
    }
}

fn unexpected<V>(answer: &Response<V>) -> RaftStoreError {
    let kind = match answer {
        Response::Rejected(why) => {
            return RaftStoreError::Rejected {
                reason: why.clone(),
            };
        }
        Response::Value(_) => "a value",
        Response::Done => "done",
        Response::Batch(_) => "a batch",
    };
    RaftStoreError::Raft {
        message: format!("the state machine answered {kind}, which this call does not expect"),
    }
}
