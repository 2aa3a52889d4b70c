//! [`serve`]: a node's HTTP server, which answers its peers' Raft RPCs
//! and the applications' requests (see [the transport](crate::http)).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

use crate::error::RaftStoreError;
use crate::http::{
    LocalMap, MAX_BODY, Members, NodeMetrics, WireError, decode_body, encode_body, route,
};
use crate::node::ReplicatedMap;
use crate::types::{Command, Key, MapConfig, NodeId, Value};

type Map<K, V> = State<Arc<ReplicatedMap<K, V>>>;

/// Serves node `map` on `listener` until the listener fails; see
/// [the transport](crate::http) for the routes.
///
/// `map` should have been opened with an
/// [`HttpNetwork`](crate::HttpNetwork), and `listener` bound to the address
/// this node has in the cluster's membership.
pub async fn serve<K: Key, V: Value>(
    map: Arc<ReplicatedMap<K, V>>,
    listener: TcpListener,
) -> std::io::Result<()> {
    axum::serve(listener, router(map)).await
}

/// Like [`serve`], until `shutdown` completes; then it stops accepting
/// connections, lets the requests under way finish and returns. It does
/// not stop the node: call [`ReplicatedMap::shutdown`] after it.
pub async fn serve_with_shutdown<K: Key, V: Value>(
    map: Arc<ReplicatedMap<K, V>>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(map))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes of node `map`, to serve with axum alongside others.
pub fn router<K: Key, V: Value>(map: Arc<ReplicatedMap<K, V>>) -> Router {
    Router::new()
        .route(route::APPEND, post(append::<K, V>))
        .route(route::SNAPSHOT, post(snapshot::<K, V>))
        .route(route::VOTE, post(vote::<K, V>))
        .route(route::WRITE, post(write::<K, V>))
        .route(route::READ, post(read::<K, V>))
        .route(route::READ_LOCAL, post(read_local::<K, V>))
        .route(route::LOCAL_MAP, post(local_map::<K, V>))
        .route(route::METRICS, post(metrics::<K, V>))
        .route(route::INIT, post(init::<K, V>))
        .route(route::ADD_LEARNER, post(add_learner::<K, V>))
        .route(route::CHANGE_MEMBERSHIP, post(change_membership::<K, V>))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(map)
}

/// `200 OK` with `value` encoded, or `500` if it does not encode.
fn answer<T: Serialize>(value: &T) -> HttpResponse {
    match encode_body(value) {
        Ok(body) => (StatusCode::OK, body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The request's argument, or `400 Bad Request` saying why it does not
/// decode.
#[expect(
    clippy::result_large_err,
    reason = "the error is the response itself, returned at once"
)]
fn argument<T: DeserializeOwned>(body: &Bytes) -> Result<T, HttpResponse> {
    decode_body(body).map_err(|reason| {
        (
            StatusCode::BAD_REQUEST,
            format!("the request body does not decode: {reason}"),
        )
            .into_response()
    })
}

/// A call's result in transit.
fn result<T: Serialize>(r: Result<T, RaftStoreError>) -> HttpResponse {
    answer(&r.map_err(WireError::from))
}

async fn append<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<AppendEntriesRequest<MapConfig<K, V>>>(&body) {
        Ok(rpc) => answer(&map.raft().append_entries(rpc).await),
        Err(bad) => bad,
    }
}

async fn snapshot<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<InstallSnapshotRequest<MapConfig<K, V>>>(&body) {
        Ok(rpc) => answer(&map.raft().install_snapshot(rpc).await),
        Err(bad) => bad,
    }
}

async fn vote<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<VoteRequest<NodeId>>(&body) {
        Ok(rpc) => answer(&map.raft().vote(rpc).await),
        Err(bad) => bad,
    }
}

async fn write<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<Command<K, V>>(&body) {
        Ok(command) => result(map.write(command).await),
        Err(bad) => bad,
    }
}

async fn read<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<K>(&body) {
        Ok(key) => result(map.get(&key).await),
        Err(bad) => bad,
    }
}

async fn read_local<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<K>(&body) {
        Ok(key) => result(Ok(map.get_local(&key))),
        Err(bad) => bad,
    }
}

async fn local_map<K: Key, V: Value>(State(map): Map<K, V>) -> HttpResponse {
    let snapshot = {
        let state = map.local();
        LocalMap {
            last_applied: state.last_applied,
            entries: state
                .map
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    };
    result(Ok(snapshot))
}

async fn metrics<K: Key, V: Value>(State(map): Map<K, V>) -> HttpResponse {
    let m = map.raft().metrics().borrow().clone();
    let membership = m.membership_config.membership();
    result(Ok(NodeMetrics {
        id: m.id,
        state: format!("{:?}", m.state),
        current_term: m.current_term,
        current_leader: m.current_leader,
        last_log_index: m.last_log_index,
        last_applied: m.last_applied,
        voters: membership.voter_ids().collect(),
        learners: membership.learner_ids().collect(),
    }))
}

async fn init<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<Members>(&body) {
        Ok(members) => result(map.initialize(members).await),
        Err(bad) => bad,
    }
}

async fn add_learner<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<(NodeId, openraft::BasicNode)>(&body) {
        Ok((id, node)) => result(map.add_learner(id, node).await),
        Err(bad) => bad,
    }
}

async fn change_membership<K: Key, V: Value>(State(map): Map<K, V>, body: Bytes) -> HttpResponse {
    match argument::<std::collections::BTreeSet<NodeId>>(&body) {
        Ok(voters) => result(map.change_membership(voters).await),
        Err(bad) => bad,
    }
}
