//! An in-process cluster for tests: nodes on the [`Router`], each on its
//! own simulated disk, which a power loss can hit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indexmap_store_raft::openraft::{BasicNode, Config, ServerState, SnapshotPolicy};
use indexmap_store_raft::wal_io::sim::{CrashVariant, SimStorage};
use indexmap_store_raft::{NodeId, RaftStoreError, ReplicatedMap, Router};

pub type Node = Arc<ReplicatedMap<u64, u64>>;

/// The nodes that are up, shared with client tasks.
#[derive(Clone, Default)]
pub struct Nodes(Arc<Mutex<BTreeMap<NodeId, Node>>>);

impl Nodes {
    pub fn get(&self, id: NodeId) -> Option<Node> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    pub fn all(&self) -> Vec<Node> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    fn put(&self, id: NodeId, node: Option<Node>) -> Option<Node> {
        let mut nodes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match node {
            Some(node) => nodes.insert(id, node),
            None => nodes.remove(&id),
        }
    }

    /// A node that says it is the leader, if any is up.
    pub fn leader(&self) -> Option<Node> {
        self.all()
            .into_iter()
            .find(|n| n.raft().metrics().borrow().state == ServerState::Leader)
    }
}

/// Timeouts short enough for many failovers in a test, and snapshots
/// (with purges) every few dozen entries, so that restarted nodes catch up
/// by snapshot as well as by log.
pub fn test_config() -> Arc<Config> {
    Arc::new(
        Config {
            cluster_name: "test".into(),
            heartbeat_interval: 40,
            election_timeout_min: 150,
            election_timeout_max: 300,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(40),
            max_in_snapshot_log_to_keep: 5,
            purge_batch_size: 1,
            ..Config::default()
        }
        .validate()
        .expect("a valid raft config"),
    )
}

pub struct Cluster {
    pub router: Router<u64, u64>,
    pub nodes: Nodes,
    disks: BTreeMap<NodeId, SimStorage>,
    config: Arc<Config>,
}

impl Cluster {
    /// Starts nodes `ids` on empty disks and makes them a cluster.
    pub async fn new(ids: &[NodeId]) -> Self {
        let mut cluster = Self {
            router: Router::new(),
            nodes: Nodes::default(),
            disks: BTreeMap::new(),
            config: test_config(),
        };
        for &id in ids {
            cluster.disks.insert(id, SimStorage::new(id));
            cluster.start(id).await;
        }
        let members: BTreeMap<NodeId, BasicNode> = ids
            .iter()
            .map(|&id| (id, BasicNode::new(format!("node-{id}"))))
            .collect();
        cluster
            .node(ids[0])
            .initialize(members)
            .await
            .expect("initialize");
        cluster
    }

    pub fn node(&self, id: NodeId) -> Node {
        self.nodes
            .get(id)
            .unwrap_or_else(|| panic!("node {id} is down"))
    }

    /// Starts node `id` on its disk (as a crash left it).
    pub async fn start(&mut self, id: NodeId) {
        self.try_start(id)
            .await
            .unwrap_or_else(|e| panic!("node {id} must restart after any crash: {e}"));
    }

    /// Starts node `id` on its disk, or says why it cannot.
    pub async fn try_start(&mut self, id: NodeId) -> Result<(), RaftStoreError> {
        let node = ReplicatedMap::open_on(
            Arc::new(self.disk(id)),
            id,
            Path::new(""),
            Arc::clone(&self.config),
            self.router.network_for(id),
        )
        .await?;
        self.router.register(id, node.raft().clone());
        self.nodes.put(id, Some(Arc::new(node)));
        Ok(())
    }

    /// Node `id`'s disk.
    pub fn disk(&mut self, id: NodeId) -> SimStorage {
        self.disks
            .entry(id)
            .or_insert_with(|| SimStorage::new(id))
            .clone()
    }

    /// Stops node `id` (no more messages, no more I/O).
    pub async fn stop(&mut self, id: NodeId) {
        self.router.unregister(id);
        if let Some(node) = self.nodes.put(id, None) {
            let _ = node.shutdown().await;
        }
    }

    /// A power loss on node `id`: it stops, and its disk keeps only what a
    /// crash of kind `variant` could leave.
    pub async fn power_loss(&mut self, id: NodeId, variant: CrashVariant) {
        self.stop(id).await;
        self.disks[&id].crash(variant);
    }

    /// Replaces node `id`'s disk with an empty one (a node that lost its
    /// data, or a new machine with the same id).
    pub fn wipe(&mut self, id: NodeId) {
        self.disks.insert(id, SimStorage::new(1000 + id));
    }

    /// Removes node `id` from the cluster (on the leader), as one does
    /// before it comes back empty or after a long absence.
    pub async fn remove(&self, id: NodeId) {
        let voters = self
            .leader(Duration::from_secs(10))
            .await
            .raft()
            .metrics()
            .borrow()
            .membership_config
            .voter_ids()
            .filter(|&v| v != id)
            .collect();
        self.leader(Duration::from_secs(10))
            .await
            .change_membership(voters)
            .await
            .unwrap_or_else(|e| panic!("the majority removes node {id}: {e}"));
    }

    /// Adds node `id` (up) back: as a learner, which returns once it has
    /// caught up, then as a voter.
    pub async fn rejoin(&self, id: NodeId) {
        let leader = self.leader(Duration::from_secs(10)).await;
        leader
            .add_learner(id, BasicNode::new(format!("node-{id}")))
            .await
            .unwrap_or_else(|e| panic!("node {id} rejoins as a learner: {e}"));
        let mut voters: BTreeSet<NodeId> = leader
            .raft()
            .metrics()
            .borrow()
            .membership_config
            .voter_ids()
            .collect();
        voters.insert(id);
        leader
            .change_membership(voters)
            .await
            .unwrap_or_else(|e| panic!("node {id} becomes a voter again: {e}"));
    }

    /// Waits for a leader among the nodes that are up.
    pub async fn leader(&self, within: Duration) -> Node {
        let deadline = Instant::now() + within;
        loop {
            if let Some(leader) = self.nodes.leader() {
                return leader;
            }
            assert!(Instant::now() < deadline, "no leader within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every node that is up has applied the same entries and
    /// holds the same map, in the same order; returns it.
    pub async fn converged(&self, within: Duration) -> Vec<(u64, u64)> {
        let deadline = Instant::now() + within;
        loop {
            let nodes = self.nodes.all();
            let states: BTreeSet<_> = nodes
                .iter()
                .map(|n| {
                    let state = n.local();
                    (
                        state.last_applied,
                        state.map.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
                    )
                })
                .collect();
            let distinct = states.len();
            if distinct == 1 {
                let (applied, map) = states.into_iter().next().unwrap_or_default();
                let leader_applied = self
                    .nodes
                    .leader()
                    .and_then(|l| l.raft().metrics().borrow().last_applied);
                if leader_applied.is_some() && leader_applied == applied {
                    return map;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the nodes did not converge within {within:?}: {distinct} different states"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
