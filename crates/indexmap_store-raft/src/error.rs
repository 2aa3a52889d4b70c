//! [`RaftStoreError`]: everything this crate reports, with what to do.

use std::path::PathBuf;

use openraft::error::{ForwardToLeader, RaftError};
use openraft::{AnyError, BasicNode, StorageError, StorageIOError, TryAsRef};

use crate::types::NodeId;

/// An error of the replicated map's storage or of a call to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RaftStoreError {
    /// The Raft log or the snapshot file failed (I/O, damage, lock).
    #[error("{source}")]
    Wal {
        /// The log's error, which names the file and what to do.
        #[from]
        source: wal_io::WalError,
    },
    /// Reading or writing a file of the node failed.
    #[error("{op} {path}: {source}; check the disk and the directory's permissions")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A record that passed its checksum did not decode: the file was
    /// written by another version of this crate, or for other key or
    /// value types.
    #[error(
        "{path}: record {seq} does not decode as this node's {what} ({reason}); it was written by \
         another version or for other key/value types: open it with those, or start this node \
         with an empty directory so that it catches up from the cluster"
    )]
    Decode {
        /// The file.
        path: PathBuf,
        /// The record's sequence number.
        seq: u64,
        /// What the record should have been.
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A key, value or log entry could not be encoded by serde.
    #[error(
        "encoding a record failed: {source}; check the Serialize implementations of the key and value types"
    )]
    Encode {
        /// The encoder's error.
        source: bincode::error::EncodeError,
    },
    /// The node's log or snapshot is damaged: the node refuses to start
    /// rather than keep a salvaged prefix (see [`crate::damage`]).
    #[error(
        "node {node}: {source}. A Raft node never keeps a salvaged prefix (it could forget entries it \
         acknowledged or the vote it cast). Bring it back as a fresh learner: on the leader, \
         change_membership without node {node}; set its files aside with \
         indexmap_store_raft::set_aside(\"{}\"); start it again (empty); then, on the leader, \
         add_learner and change_membership with it",
        dir.display()
    )]
    Damaged {
        /// The node.
        node: NodeId,
        /// Its directory.
        dir: PathBuf,
        /// What was found.
        source: Box<RaftStoreError>,
    },
    /// A snapshot received from the leader is not a whole snapshot.
    #[error("the snapshot received is invalid: {reason}; the leader will send it again")]
    BadSnapshot {
        /// What is wrong with it.
        reason: String,
    },
    /// The call was made on a node that is not the leader.
    #[error(
        "node {node} is not the leader; send the request to {}",
        match (leader_id, leader_node) {
            (Some(id), Some(n)) => format!("node {id} at {}", n.addr),
            (Some(id), None) => format!("node {id}"),
            _ => "the leader once one is elected (retry shortly)".to_owned(),
        }
    )]
    NotLeader {
        /// This node.
        node: NodeId,
        /// The leader, if known.
        leader_id: Option<NodeId>,
        /// Its address, if known.
        leader_node: Option<BasicNode>,
    },
    /// The command was not applied (an index out of range); nothing
    /// changed, on any node.
    #[error("the command was rejected: {reason}")]
    Rejected {
        /// Why.
        reason: String,
    },
    /// Raft refused or could not complete the call (no quorum reached in
    /// time, the node is shutting down, a membership change in progress).
    #[error("raft: {message}; retry, or check the cluster's health (metrics)")]
    Raft {
        /// openraft's message.
        message: String,
    },
    /// The node stopped on a storage failure or was shut down.
    #[error("the raft node has stopped: {message}; restart it (its data directory is kept)")]
    Stopped {
        /// Why.
        message: String,
    },
    /// No connection could be made to a node (HTTP transport): the
    /// request was not sent, so nothing was applied.
    #[error(
        "node at {addr} could not be reached: {reason}; check that it runs and listens there \
         (it may be restarting), or send the request to another node"
    )]
    Unreachable {
        /// The node's address.
        addr: String,
        /// The transport's error.
        reason: String,
    },
    /// A request was sent but no answer came (timed out, connection
    /// reset): a write may or may not have been applied.
    #[error(
        "no answer from node at {addr}: {reason}; a write may or may not have been applied: \
         read it back (linearizable) before retrying it unless it is idempotent"
    )]
    NoAnswer {
        /// The node's address.
        addr: String,
        /// The transport's error.
        reason: String,
    },
    /// A node answered with an error of its own, or with a body this
    /// client cannot decode (another version, other key or value types).
    #[error(
        "node at {addr} answered: {message}; check its log, and that it runs the same version \
         with the same key and value types"
    )]
    Remote {
        /// The node's address.
        addr: String,
        /// What it answered.
        message: String,
    },
}

impl RaftStoreError {
    /// This error as openraft's storage error, which the storage traits
    /// return (its message is kept).
    pub fn into_storage_error(self) -> StorageError<NodeId> {
        StorageIOError::write(AnyError::new(&self)).into()
    }

    /// An openraft error of a call on node `node`.
    pub(crate) fn from_raft<E>(node: NodeId, e: RaftError<NodeId, E>) -> Self
    where
        E: TryAsRef<ForwardToLeader<NodeId, BasicNode>> + std::error::Error,
    {
        if let Some(f) = e.forward_to_leader::<BasicNode>() {
            return Self::NotLeader {
                node,
                leader_id: f.leader_id,
                leader_node: f.leader_node.clone(),
            };
        }
        match e {
            RaftError::APIError(api) => Self::Raft {
                message: api.to_string(),
            },
            RaftError::Fatal(fatal) => Self::Stopped {
                message: fatal.to_string(),
            },
        }
    }
}

impl From<RaftStoreError> for StorageError<NodeId> {
    fn from(e: RaftStoreError) -> Self {
        e.into_storage_error()
    }
}
