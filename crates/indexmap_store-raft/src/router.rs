//! [`Router`]: an in-process network for tests and single-process
//! clusters, with partitions.
//!
//! Every node registers its `Raft` handle; an RPC from one node to another
//! is a direct call of the target's handler, unless the router has cut the
//! link (then it fails as an unreachable peer would).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RaftNetwork, RaftNetworkFactory};

use crate::types::{Key, MapConfig, NodeId, Raft, Value};

struct Links<K: Key, V: Value> {
    nodes: BTreeMap<NodeId, Raft<K, V>>,
    /// Directed links that drop every message.
    cut: BTreeSet<(NodeId, NodeId)>,
}

/// The in-process network of a cluster's nodes.
pub struct Router<K: Key, V: Value> {
    links: Arc<Mutex<Links<K, V>>>,
}

impl<K: Key, V: Value> Clone for Router<K, V> {
    fn clone(&self) -> Self {
        Self {
            links: Arc::clone(&self.links),
        }
    }
}

impl<K: Key, V: Value> Default for Router<K, V> {
    fn default() -> Self {
        Self {
            links: Arc::new(Mutex::new(Links {
                nodes: BTreeMap::new(),
                cut: BTreeSet::new(),
            })),
        }
    }
}

impl<K: Key, V: Value> std::fmt::Debug for Router<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links = self.lock();
        f.debug_struct("Router")
            .field("nodes", &links.nodes.keys().collect::<Vec<_>>())
            .field("cut", &links.cut)
            .finish()
    }
}

impl<K: Key, V: Value> Router<K, V> {
    /// An empty network.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Links<K, V>> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The network as node `id` sees it, for [`Raft::new`](openraft::Raft::new).
    #[must_use]
    pub fn network_for(&self, id: NodeId) -> RouterNetwork<K, V> {
        RouterNetwork {
            router: self.clone(),
            from: id,
        }
    }

    /// Makes node `id` reachable through `raft` (again, after a restart).
    pub fn register(&self, id: NodeId, raft: Raft<K, V>) {
        self.lock().nodes.insert(id, raft);
    }

    /// Makes node `id` unreachable, as if its process had died.
    pub fn unregister(&self, id: NodeId) {
        self.lock().nodes.remove(&id);
    }

    /// Cuts every link between `a` and every node of `others`, both ways.
    pub fn cut(&self, a: NodeId, others: &[NodeId]) {
        let mut links = self.lock();
        for &b in others {
            links.cut.insert((a, b));
            links.cut.insert((b, a));
        }
    }

    /// Cuts node `id` off from every other node, both ways.
    pub fn isolate(&self, id: NodeId) {
        let others: Vec<NodeId> = (0..=self.lock().nodes.keys().copied().max().unwrap_or(0))
            .filter(|&n| n != id)
            .collect();
        self.cut(id, &others);
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.lock().cut.clear();
    }

    fn route(&self, from: NodeId, to: NodeId) -> Result<Raft<K, V>, Unreachable> {
        let links = self.lock();
        if links.cut.contains(&(from, to)) {
            return Err(Unreachable::new(&io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("the link from node {from} to node {to} is cut"),
            )));
        }
        links.nodes.get(&to).cloned().ok_or_else(|| {
            Unreachable::new(&io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("node {to} is down"),
            ))
        })
    }
}

/// The network factory of one node on a [`Router`].
#[derive(Debug, Clone)]
pub struct RouterNetwork<K: Key, V: Value> {
    router: Router<K, V>,
    from: NodeId,
}

impl<K: Key, V: Value> RaftNetworkFactory<MapConfig<K, V>> for RouterNetwork<K, V> {
    type Network = RouterConnection<K, V>;

    async fn new_client(&mut self, target: NodeId, _node: &BasicNode) -> Self::Network {
        RouterConnection {
            network: self.clone(),
            target,
        }
    }
}

/// A connection from one node to another on a [`Router`].
#[derive(Debug)]
pub struct RouterConnection<K: Key, V: Value> {
    network: RouterNetwork<K, V>,
    target: NodeId,
}

impl<K: Key, V: Value> RouterConnection<K, V> {
    fn route<E: std::error::Error>(&self) -> Result<Raft<K, V>, RPCError<NodeId, BasicNode, E>> {
        self.network
            .router
            .route(self.network.from, self.target)
            .map_err(RPCError::Unreachable)
    }

    /// The reply, unless the link was cut while the call ran.
    fn reply<T, E: std::error::Error>(
        &self,
        result: Result<T, RaftError<NodeId, E>>,
    ) -> Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>> {
        if let Err(RPCError::Unreachable(u)) = self.route::<RaftError<NodeId, E>>() {
            return Err(RPCError::Network(NetworkError::new(&u)));
        }
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl<K: Key, V: Value> RaftNetwork<MapConfig<K, V>> for RouterConnection<K, V> {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<MapConfig<K, V>>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let raft = self.route()?;
        let result = raft.append_entries(rpc).await;
        self.reply(result)
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<MapConfig<K, V>>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let raft = self.route()?;
        let result = raft.install_snapshot(rpc).await;
        self.reply(result)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let raft = self.route()?;
        let result = raft.vote(rpc).await;
        self.reply(result)
    }
}
