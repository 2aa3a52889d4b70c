//! [`HttpClient`]: an application's handle on a replicated map whose nodes
//! run [`serve`](crate::serve) (see [the transport](crate::http)).

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use openraft::BasicNode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RaftStoreError;
use crate::http::{LocalMap, NodeMetrics, WireError, decode_body, encode_body, route};
use crate::http_network::http_client;
use crate::types::{Command, Key, NodeId, Response, Value};

/// How long a request waits for its answer unless
/// [`HttpClient::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client of a replicated map over HTTP.
///
/// It knows the addresses of some of the cluster's nodes and sends writes,
/// linearizable reads and membership changes to the one it believes is the
/// leader. A node that is not the leader answers which node is
/// ([`RaftStoreError::NotLeader`]); the client then sends the request
/// there and remembers it. A node that cannot be reached
/// ([`RaftStoreError::Unreachable`]: nothing was sent) is skipped for the
/// next known node.
///
/// It does not retry on its own beyond that: a call fails with
/// [`RaftStoreError::NotLeader`] without a leader while the cluster
/// elects one (retry shortly), and with [`RaftStoreError::NoAnswer`] when
/// the request was sent but no answer came, for which only the caller
/// knows whether sending it again is safe (a write may have been applied
/// by then).
pub struct HttpClient<K, V> {
    http: reqwest::Client,
    nodes: Vec<String>,
    /// Where requests for the leader go first.
    target: Mutex<String>,
    timeout: Duration,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> std::fmt::Debug for HttpClient<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("nodes", &self.nodes)
            .field("target", &self.target())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<K, V> Clone for HttpClient<K, V> {
    fn clone(&self) -> Self {
        Self {
            http: self.http.clone(),
            nodes: self.nodes.clone(),
            target: Mutex::new(self.target()),
            timeout: self.timeout,
            types: PhantomData,
        }
    }
}

impl<K, V> HttpClient<K, V> {
    /// The node that requests for the leader go to first.
    pub fn target(&self) -> String {
        self.target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_target(&self, addr: &str) {
        addr.clone_into(&mut self.target.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The known node after `addr`, in the order given to [`new`](Self::new).
    fn next_after(&self, addr: &str) -> String {
        let at = self.nodes.iter().position(|n| n == addr);
        let next = at.map_or(0, |i| (i + 1) % self.nodes.len());
        self.nodes[next].clone()
    }
}

impl<K: Key, V: Value> HttpClient<K, V> {
    /// A client of the cluster whose nodes listen at `nodes` (`host:port`
    /// each; one is enough, more let it skip nodes that are down). Requests
    /// for the leader go to the first until a node names another.
    ///
    /// # Panics
    ///
    /// If `nodes` is empty.
    #[track_caller]
    pub fn new(nodes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        assert!(!nodes.is_empty(), "an HttpClient needs a node's address");
        Self {
            http: http_client(),
            target: Mutex::new(nodes[0].clone()),
            nodes,
            timeout: DEFAULT_TIMEOUT,
            types: PhantomData,
        }
    }

    /// Makes every request wait at most `timeout` for its answer (a write
    /// waits for a majority to hold it durably).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Applies `command` through the leader; see [`Command`].
    pub async fn write(&self, command: &Command<K, V>) -> Result<Response<V>, RaftStoreError> {
        self.on_leader(route::WRITE, command).await
    }

    /// `IndexMap::insert` through the leader; returns the previous value.
    pub async fn insert(&self, key: K, value: V) -> Result<Option<V>, RaftStoreError> {
        match self.write(&Command::Insert { key, value }).await? {
            Response::Value(previous) => Ok(previous),
            other => Err(unexpected(&other)),
        }
    }

    /// A linearizable read of `key` on the leader: it sees every write
    /// acknowledged before the call, whichever client made it.
    pub async fn get(&self, key: &K) -> Result<Option<V>, RaftStoreError> {
        self.on_leader(route::READ, key).await
    }

    /// `key`'s value in the map of the node at `addr`, as applied there so
    /// far, without asking any other node: possibly stale.
    pub async fn get_local(&self, addr: &str, key: &K) -> Result<Option<V>, RaftStoreError> {
        self.call(addr, route::READ_LOCAL, key).await
    }

    /// The whole map of the node at `addr`, as applied there so far, in
    /// order (for tests and tools: it copies every entry).
    pub async fn local_map(&self, addr: &str) -> Result<LocalMap<K, V>, RaftStoreError> {
        self.call(addr, route::LOCAL_MAP, &()).await
    }

    /// What the node at `addr` reports about itself.
    pub async fn metrics(&self, addr: &str) -> Result<NodeMetrics, RaftStoreError> {
        self.call(addr, route::METRICS, &()).await
    }

    /// Makes a new cluster of `members` on the node at `addr` (once, on one
    /// of them).
    pub async fn initialize(
        &self,
        addr: &str,
        members: &BTreeMap<NodeId, BasicNode>,
    ) -> Result<(), RaftStoreError> {
        self.call(addr, route::INIT, members).await
    }

    /// Adds node `id`, listening at `node.addr`, as a learner; returns once
    /// it has caught up.
    pub async fn add_learner(&self, id: NodeId, node: BasicNode) -> Result<(), RaftStoreError> {
        self.on_leader(route::ADD_LEARNER, &(id, node)).await
    }

    /// Makes `voters` the voting members.
    pub async fn change_membership(&self, voters: &BTreeSet<NodeId>) -> Result<(), RaftStoreError> {
        self.on_leader(route::CHANGE_MEMBERSHIP, voters).await
    }

    /// Calls `path` on the leader, following `NotLeader` answers and
    /// skipping unreachable nodes.
    async fn on_leader<Req, Resp>(&self, path: &str, request: &Req) -> Result<Resp, RaftStoreError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let mut addr = self.target();
        // Each known node once, and a few redirections.
        let mut tries = self.nodes.len() + 3;
        loop {
            tries -= 1;
            let err = match self.call(&addr, path, request).await {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            let next = match &err {
                RaftStoreError::NotLeader {
                    leader_node: Some(leader),
                    ..
                } if leader.addr != addr => leader.addr.clone(),
                RaftStoreError::Unreachable { .. } => self.next_after(&addr),
                RaftStoreError::NoAnswer { .. } => {
                    self.set_target(&self.next_after(&addr));
                    return Err(err);
                }
                _ => return Err(err),
            };
            if tries == 0 || next == addr {
                return Err(err);
            }
            self.set_target(&next);
            addr = next;
        }
    }

    /// Calls `path` on the node at `addr`.
    async fn call<Req, Resp>(
        &self,
        addr: &str,
        path: &str,
        request: &Req,
    ) -> Result<Resp, RaftStoreError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = encode_body(request)?;
        let sent = self
            .http
            .post(format!("http://{addr}{path}"))
            .timeout(self.timeout)
            .body(body)
            .send()
            .await;
        let response = sent.map_err(|e| transport_error(addr, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(addr, &e))?;
        let remote = |message: String| RaftStoreError::Remote {
            addr: addr.to_owned(),
            message,
        };
        if !status.is_success() {
            return Err(remote(format!(
                "HTTP {status} to {path}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        match decode_body::<Result<Resp, WireError>>(&bytes) {
            Ok(answer) => answer.map_err(|e| e.into_error(addr)),
            Err(reason) => Err(remote(format!(
                "an answer to {path} that does not decode ({reason})"
            ))),
        }
    }
}

/// A transport failure: unreachable if no connection was made, else no
/// answer (the request may have been carried out).
fn transport_error(addr: &str, e: &reqwest::Error) -> RaftStoreError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_connect() {
        RaftStoreError::Unreachable {
            addr: addr.to_owned(),
            reason,
        }
    } else {
        RaftStoreError::NoAnswer {
            addr: addr.to_owned(),
            reason,
        }
    }
}

fn unexpected<V>(answer: &Response<V>) -> RaftStoreError {
    match answer {
        Response::Rejected(reason) => RaftStoreError::Rejected {
            reason: reason.clone(),
        },
        _ => RaftStoreError::Raft {
            message: "the state machine answered an insert with something other than a value"
                .to_owned(),
        },
    }
}
