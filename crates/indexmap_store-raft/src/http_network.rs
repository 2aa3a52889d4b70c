//! [`HttpNetwork`]: how a node calls its peers' Raft RPCs over HTTP (see
//! [the transport](crate::http)).

use std::io;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RaftNetwork, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::http::{decode_body, encode_body, route};
use crate::types::{Key, MapConfig, NodeId, Value};

/// The HTTP client every transport of this crate uses: HTTP/1, no proxy
/// (the nodes talk directly, whatever `HTTP_PROXY` says), no delay on
/// small writes.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        // Building fails only on a TLS backend or a system resolver
        // configuration, and this build has neither.
        .expect("an HTTP client without TLS always builds")
}

/// The network of a node whose peers are reached over HTTP: give it to
/// [`ReplicatedMap::open`](crate::ReplicatedMap::open). Each peer is
/// called at the address it has in the membership ([`BasicNode::addr`],
/// `host:port`), where it runs [`serve`](crate::serve).
///
/// One pool of connections is shared by all the peers' connections; cloning
/// shares it too.
#[derive(Debug, Clone)]
pub struct HttpNetwork {
    http: reqwest::Client,
}

impl Default for HttpNetwork {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpNetwork {
    /// A network with its own pool of connections.
    #[must_use]
    pub fn new() -> Self {
        Self {
            http: http_client(),
        }
    }
}

impl<K: Key, V: Value> RaftNetworkFactory<MapConfig<K, V>> for HttpNetwork {
    type Network = HttpConnection;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> HttpConnection {
        HttpConnection {
            http: self.http.clone(),
            target,
            node: node.clone(),
        }
    }
}

/// The connection of a node to one peer over HTTP.
#[derive(Debug)]
pub struct HttpConnection {
    http: reqwest::Client,
    target: NodeId,
    node: BasicNode,
}

type RpcResult<T, E> = Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>;

impl HttpConnection {
    /// Calls `path` on the peer with `request`, giving up after `ttl`.
    ///
    /// A connection that cannot be made is [`Unreachable`] (openraft backs
    /// off before it tries that peer again); a request that got no answer
    /// or an answer that does not decode is a [`NetworkError`]; the peer's
    /// own `RaftError` is a [`RemoteError`].
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        request: &Req,
        ttl: Duration,
    ) -> RpcResult<Resp, E>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let addr = &self.node.addr;
        let network =
            |message: String| RPCError::Network(NetworkError::new(&io::Error::other(message)));
        let body = encode_body(request).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let sent = self
            .http
            .post(format!("http://{addr}{path}"))
            .timeout(ttl)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(e) => return Err(RPCError::Network(NetworkError::new(&e))),
        };
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        if !status.is_success() {
            return Err(network(format!(
                "node {} at {addr} answered {path} with HTTP {status}: {}",
                self.target,
                String::from_utf8_lossy(&bytes)
            )));
        }
        match decode_body::<Result<Resp, RaftError<NodeId, E>>>(&bytes) {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                e,
            ))),
            Err(reason) => Err(network(format!(
                "the answer of node {} at {addr} to {path} does not decode: {reason}",
                self.target
            ))),
        }
    }
}

impl<K: Key, V: Value> RaftNetwork<MapConfig<K, V>> for HttpConnection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<MapConfig<K, V>>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>, openraft::error::Infallible> {
        self.call(route::APPEND, &rpc, option.hard_ttl()).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<MapConfig<K, V>>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        self.call(route::SNAPSHOT, &rpc, option.hard_ttl()).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>, openraft::error::Infallible> {
        self.call(route::VOTE, &rpc, option.hard_ttl()).await
    }
}
