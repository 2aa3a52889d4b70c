//! The Raft type configuration: what a log entry carries ([`Command`]) and
//! what applying it returns ([`Response`]), for keys `K` and values `V`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a key of the replicated map must be: hashed and compared like an
/// `IndexMap` key, encoded with serde (bincode) in the log and on the wire.
pub trait Key:
    Serialize + DeserializeOwned + Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static
{
}

impl<T> Key for T where
    T: Serialize + DeserializeOwned + Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static
{
}

/// What a value of the replicated map must be.
pub trait Value: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {}

impl<T> Value for T where
    T: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
}

/// A change to the replicated map: the payload of one Raft log entry.
///
/// Applied in log order on every node, each with the `IndexMap` method of
/// the same name, so every node holds the same entries in the same order.
/// A command whose index is out of range changes nothing and answers
/// [`Response::Rejected`], on every node alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Command<K, V> {
    /// `IndexMap::insert`: a new key goes last, an existing key keeps its
    /// place. Answers [`Response::Value`] with the previous value.
    Insert {
        /// The key.
        key: K,
        /// The value.
        value: V,
    },
    /// `IndexMap::shift_remove`: removes the key, keeping the others'
    /// order (O(n)). Answers [`Response::Value`] with the removed value.
    ShiftRemove {
        /// The key.
        key: K,
    },
    /// `IndexMap::swap_remove`: removes the key, moving the last entry into
    /// its place (O(1)). Answers [`Response::Value`].
    SwapRemove {
        /// The key.
        key: K,
    },
    /// `IndexMap::shift_insert`: inserts (or moves) the key to `index`.
    /// Answers [`Response::Value`] with the previous value.
    ShiftInsert {
        /// Where the entry goes (at most the map's length).
        index: usize,
        /// The key.
        key: K,
        /// The value.
        value: V,
    },
    /// `IndexMap::move_index`.
    MoveIndex {
        /// The entry's index.
        from: usize,
        /// Its new index.
        to: usize,
    },
    /// `IndexMap::swap_indices`.
    SwapIndices {
        /// One index.
        a: usize,
        /// The other.
        b: usize,
    },
    /// `IndexMap::truncate`: keeps the first `len` entries.
    Truncate {
        /// Entries kept.
        len: usize,
    },
    /// `IndexMap::reverse`.
    Reverse,
    /// `IndexMap::clear`.
    Clear,
    /// Several commands applied as one log entry: no node ever shows a
    /// state between them. Answers [`Response::Batch`], one answer each.
    Batch(Vec<Command<K, V>>),
}

/// What applying a [`Command`] answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response<V> {
    /// The value an insert replaced or a remove removed (`None`: there was
    /// none).
    Value(Option<V>),
    /// The command was applied and returns nothing.
    Done,
    /// The command was not applied (an index out of range); nothing changed.
    Rejected(String),
    /// A batch's answers, in order.
    Batch(Vec<Response<V>>),
}

/// The openraft type configuration of a replicated map with keys `K` and
/// values `V`: node ids are `u64`, nodes carry an address
/// ([`openraft::BasicNode`]), snapshots travel as bytes.
pub struct MapConfig<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> fmt::Debug for MapConfig<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MapConfig")
    }
}

impl<K, V> Clone for MapConfig<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for MapConfig<K, V> {}

impl<K, V> Default for MapConfig<K, V> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<K, V> PartialEq for MapConfig<K, V> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<K, V> Eq for MapConfig<K, V> {}

impl<K, V> PartialOrd for MapConfig<K, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K, V> Ord for MapConfig<K, V> {
    fn cmp(&self, _: &Self) -> Ordering {
        Ordering::Equal
    }
}

impl<K: Key, V: Value> openraft::RaftTypeConfig for MapConfig<K, V> {
    type D = Command<K, V>;
    type R = Response<V>;
    type NodeId = NodeId;
    type Node = openraft::BasicNode;
    type Entry = openraft::Entry<Self>;
    type SnapshotData = std::io::Cursor<Vec<u8>>;
    type AsyncRuntime = openraft::TokioRuntime;
    type Responder = openraft::impls::OneshotResponder<Self>;
}

/// A node's id in the cluster.
pub type NodeId = u64;
/// A Raft log id (term, leader and index).
pub type LogId = openraft::LogId<NodeId>;
/// A Raft vote.
pub type Vote = openraft::Vote<NodeId>;
/// A log entry of the replicated map.
pub type Entry<K, V> = openraft::Entry<MapConfig<K, V>>;
/// The membership a state machine or snapshot holds.
pub type Membership = openraft::StoredMembership<NodeId, openraft::BasicNode>;
/// A snapshot's metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;
/// The openraft handle of a replicated map's node.
pub type Raft<K, V> = openraft::Raft<MapConfig<K, V>>;
