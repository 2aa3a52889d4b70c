//! A replicated, insertion-ordered key-value map: an `IndexMap` kept the
//! same, in the same order, on every node of a Raft cluster.
//!
//! For services that must survive the loss of a machine, not only of a
//! process: writes are acknowledged once a majority of nodes hold them
//! durably. Consensus is [openraft](https://docs.rs/openraft) (0.9, the
//! `storage-v2` traits); this crate provides what openraft leaves to its
//! users, built on [`wal_io`] and tested the way `indexmap_store` is:
//!
//! - [`LogStore`]: the Raft log in a wal-io log file. Appended entries are
//!   readable at once and reported durable only after the `fdatasync` that
//!   covers them (appends share syncs); the vote, truncations and purges
//!   are durable before their call returns, each all or nothing.
//! - [`StateMachine`]: the map, its last applied log id and membership.
//!   A snapshot is a wal-io log in the compacted format (metadata, then one
//!   insert per entry, in order), replaced atomically; installing one from
//!   the leader purges the log it covers before it returns.
//!
//! - [`http`]: the transport between processes, HTTP/1 over TCP with
//!   bincode bodies (axum and reqwest): each node runs [`serve`] and opens
//!   its map with an [`HttpNetwork`]; applications use an [`HttpClient`],
//!   which finds the leader. `examples/cluster/` runs three node
//!   processes on loopback with it. The in-process [`Router`] is for
//!   tests.
//!
//! Keys and values are any serde types ([`Key`], [`Value`]); each log entry
//! carries one [`Command`] (an `IndexMap` method, or a [`Command::Batch`]
//! of them applied as one) and answers a [`Response`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![expect(
    clippy::result_large_err,
    reason = "openraft's trait signatures fix its error types (StorageError, RPCError), which are large"
)]

mod apply;
mod codec;
pub mod damage;
mod error;
#[cfg(test)]
mod group_commit_tests;
pub mod http;
mod http_client;
mod http_network;
mod http_server;
#[cfg(test)]
mod http_tests;
mod log_core;
mod log_store;
mod node;
mod router;
mod snapshot;
mod state_machine;
mod types;

pub use apply::apply_command;
pub use damage::{set_aside, set_aside_on};
pub use error::RaftStoreError;
pub use http::{LocalMap, NodeMetrics};
pub use http_client::{DEFAULT_TIMEOUT, HttpClient};
pub use http_network::{HttpConnection, HttpNetwork};
pub use http_server::{router, serve, serve_with_shutdown};
pub use log_core::{LOG_APP_TAG, LOG_SCHEMA_VERSION};
pub use log_store::{LogReader, LogStore};
pub use node::{LOG_FILE, ReplicatedMap, SNAPSHOT_FILE};
pub use router::{Router, RouterConnection, RouterNetwork};
pub use snapshot::{SNAPSHOT_APP_TAG, SNAPSHOT_SCHEMA_VERSION};
pub use state_machine::{MapReader, MapState, SnapshotBuilder, StateMachine};
pub use types::{
    Command, Entry, Key, LogId, MapConfig, Membership, NodeId, Raft, Response, SnapshotMeta, Value,
    Vote,
};
pub use {openraft, wal_io};
