//! The transport between processes: HTTP/1 over TCP, bodies in bincode.
//!
//! For a cluster whose nodes are separate processes (on one machine or
//! several): each node runs [`serve`](crate::serve) on a TCP listener,
//! which answers its peers' Raft RPCs and the applications' requests, and
//! opens its [`ReplicatedMap`](crate::ReplicatedMap) with an
//! [`HttpNetwork`](crate::HttpNetwork), which calls its peers at the
//! address each one has in the membership ([`BasicNode::addr`],
//! `host:port`). Applications use an [`HttpClient`](crate::HttpClient),
//! which follows the cluster's answers to the leader.
//!
//! ```no_run
//! # async fn node() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use indexmap_store_raft::{HttpNetwork, ReplicatedMap, serve};
//!
//! let config = Arc::new(indexmap_store_raft::openraft::Config::default().validate()?);
//! let map: ReplicatedMap<String, String> =
//!     ReplicatedMap::open(1, "node-1", config, HttpNetwork::new()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7001").await?;
//! serve(Arc::new(map), listener).await?;
//! # Ok(()) }
//! ```
//!
//! Every route takes a `POST` whose body is a version byte
//! ([`WIRE_VERSION`]) then the bincode (serde, `config::standard()`) of
//! its argument, and answers `200 OK` with the same encoding of a
//! `Result`: openraft's own `Result` for the Raft RPCs, so that the caller
//! gets the remote node's `RaftError` as a `RemoteError`; a
//! [`RaftStoreError`] in transit for the rest. A
//! body that does not decode answers `400 Bad Request` with the reason as
//! text.
//!
//! There is no authentication and no encryption: anyone who can reach the
//! port can write to the map and change the membership. Run the nodes on
//! a trusted network, or behind a proxy that adds both.

use std::collections::{BTreeMap, BTreeSet};

use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec::{decode_whole, encode_tagged, split_tag};
use crate::error::RaftStoreError;
use crate::types::{LogId, NodeId};

/// The first byte of every request and response body: the version of
/// this encoding. A node refuses a body of another version.
pub const WIRE_VERSION: u8 = 1;

/// The largest request body a node accepts (256 MiB): far above an
/// `AppendEntries` of openraft's default 300 entries of ordinary sizes, or
/// a snapshot chunk (3 MiB by default).
pub const MAX_BODY: usize = 256 << 20;

/// The routes, each a `POST`.
pub(crate) mod route {
    /// openraft's `AppendEntries`.
    pub(crate) const APPEND: &str = "/raft/append";
    /// openraft's `InstallSnapshot` (one chunk).
    pub(crate) const SNAPSHOT: &str = "/raft/snapshot";
    /// openraft's `Vote`.
    pub(crate) const VOTE: &str = "/raft/vote";
    /// A [`Command`](crate::Command), through the log (leader only).
    pub(crate) const WRITE: &str = "/api/write";
    /// A linearizable read of a key (leader only).
    pub(crate) const READ: &str = "/api/read";
    /// A read of a key in this node's map as applied (any node).
    pub(crate) const READ_LOCAL: &str = "/api/read-local";
    /// This node's whole map as applied, in order (any node).
    pub(crate) const LOCAL_MAP: &str = "/api/local-map";
    /// This node's [`NodeMetrics`](super::NodeMetrics).
    pub(crate) const METRICS: &str = "/api/metrics";
    /// Makes a new cluster (once, on one node).
    pub(crate) const INIT: &str = "/api/init";
    /// Adds a learner (leader only).
    pub(crate) const ADD_LEARNER: &str = "/api/add-learner";
    /// Changes the voters (leader only).
    pub(crate) const CHANGE_MEMBERSHIP: &str = "/api/change-membership";
}

/// What a node reports about itself: its role, term, leader and progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeMetrics {
    /// The node's id.
    pub id: NodeId,
    /// Its role: `Leader`, `Follower`, `Candidate`, `Learner` or
    /// `Shutdown`.
    pub state: String,
    /// Its current term.
    pub current_term: u64,
    /// The leader it knows of.
    pub current_leader: Option<NodeId>,
    /// The index of the last entry in its log.
    pub last_log_index: Option<u64>,
    /// The last entry its map has applied.
    pub last_applied: Option<LogId>,
    /// The voters of the membership it has applied.
    pub voters: BTreeSet<NodeId>,
    /// Its learners (non-voting members).
    pub learners: BTreeSet<NodeId>,
}

impl NodeMetrics {
    /// Whether the node considers itself the leader.
    pub fn is_leader(&self) -> bool {
        self.current_leader == Some(self.id) && self.state == "Leader"
    }
}

/// A node's whole map as applied so far, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LocalMap<K, V> {
    /// The last log entry applied to it.
    pub last_applied: Option<LogId>,
    /// Its entries, in the map's order.
    pub entries: Vec<(K, V)>,
}

/// A [`RaftStoreError`] in transit from a node to a client.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireError {
    NotLeader {
        node: NodeId,
        leader_id: Option<NodeId>,
        leader_node: Option<BasicNode>,
    },
    Rejected {
        reason: String,
    },
    Raft {
        message: String,
    },
    Stopped {
        message: String,
    },
    /// Any other error, as its message.
    Failed {
        message: String,
    },
}

impl From<RaftStoreError> for WireError {
    fn from(e: RaftStoreError) -> Self {
        match e {
            RaftStoreError::NotLeader {
                node,
                leader_id,
                leader_node,
            } => Self::NotLeader {
                node,
                leader_id,
                leader_node,
            },
            RaftStoreError::Rejected { reason } => Self::Rejected { reason },
            RaftStoreError::Raft { message } => Self::Raft { message },
            RaftStoreError::Stopped { message } => Self::Stopped { message },
            other => Self::Failed {
                message: other.to_string(),
            },
        }
    }
}

impl WireError {
    /// The error as the client reports it; `addr` is the node that
    /// answered.
    pub(crate) fn into_error(self, addr: &str) -> RaftStoreError {
        match self {
            Self::NotLeader {
                node,
                leader_id,
                leader_node,
            } => RaftStoreError::NotLeader {
                node,
                leader_id,
                leader_node,
            },
            Self::Rejected { reason } => RaftStoreError::Rejected { reason },
            Self::Raft { message } => RaftStoreError::Raft { message },
            Self::Stopped { message } => RaftStoreError::Stopped { message },
            Self::Failed { message } => RaftStoreError::Remote {
                addr: addr.to_owned(),
                message,
            },
        }
    }
}

/// The members of a new cluster, as [`route::INIT`] takes them.
pub(crate) type Members = BTreeMap<NodeId, BasicNode>;

/// A body: [`WIRE_VERSION`], then `value` in bincode.
pub(crate) fn encode_body<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, RaftStoreError> {
    let mut body = Vec::new();
    encode_tagged(&mut body, WIRE_VERSION, value)?;
    Ok(body)
}

/// Decodes a whole body made by [`encode_body`].
pub(crate) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    match split_tag(body) {
        None => Err("the body is empty".to_owned()),
        Some((WIRE_VERSION, rest)) => decode_whole(rest),
        Some((version, _)) => Err(format!(
            "the body is of wire version {version}, this node speaks version {WIRE_VERSION}: \
             run the same version of indexmap_store-raft on every node and client"
        )),
    }
}

#[cfg(test)]
mod tests {
    use openraft::error::{ForwardToLeader, RaftError};
    use openraft::raft::AppendEntriesResponse;

    use super::*;

    #[test]
    fn a_raft_error_crosses_the_wire_whole() {
        let err: RaftError<NodeId, openraft::error::ClientWriteError<NodeId, BasicNode>> =
            RaftError::APIError(openraft::error::ClientWriteError::ForwardToLeader(
                ForwardToLeader::new(2, BasicNode::new("127.0.0.1:7002")),
            ));
        let sent: Result<AppendEntriesResponse<NodeId>, _> = Err(err.clone());
        let body = encode_body(&sent).unwrap();
        let back: Result<AppendEntriesResponse<NodeId>, _> = decode_body(&body).unwrap();
        assert_eq!(back, Err(err));
    }

    #[test]
    fn a_body_of_another_version_or_with_leftovers_is_refused() {
        let mut body = encode_body(&7_u64).unwrap();
        assert_eq!(decode_body::<u64>(&body), Ok(7));
        body.push(0);
        assert!(decode_body::<u64>(&body).unwrap_err().contains("left over"));
        body[0] = WIRE_VERSION + 1;
        let err = decode_body::<u64>(&body).unwrap_err();
        assert!(err.contains("wire version"), "{err}");
        assert!(decode_body::<u64>(&[]).unwrap_err().contains("empty"));
    }

    #[test]
    fn store_errors_keep_their_kind_across_the_wire() {
        let not_leader = RaftStoreError::NotLeader {
            node: 1,
            leader_id: Some(2),
            leader_node: Some(BasicNode::new("127.0.0.1:7002")),
        };
        let wire = encode_body(&WireError::from(not_leader)).unwrap();
        let back = decode_body::<WireError>(&wire).unwrap().into_error("a:1");
        let RaftStoreError::NotLeader {
            node, leader_node, ..
        } = back
        else {
            panic!("{back:?} is not NotLeader");
        };
        assert_eq!(node, 1);
        assert_eq!(leader_node.unwrap().addr, "127.0.0.1:7002");

        let io = RaftStoreError::Io {
            op: "opening",
            path: "x".into(),
            source: std::io::Error::other("disk gone"),
        };
        let back = WireError::from(io).into_error("a:1");
        assert!(
            matches!(&back, RaftStoreError::Remote { addr, message } if addr == "a:1" && message.contains("disk gone")),
            "{back:?}"
        );
    }
}
