//! The HTTP transport in one process on loopback: a cluster driven by an
//! [`HttpClient`] that knows only a follower, and how transport failures
//! map to openraft's and this crate's errors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use openraft::error::RPCError;
use openraft::network::RPCOption;
use openraft::raft::VoteRequest;
use openraft::{BasicNode, Config, RaftNetwork, RaftNetworkFactory};
use tokio::net::TcpListener;

use crate::error::RaftStoreError;
use crate::http::LocalMap;
use crate::http_client::HttpClient;
use crate::http_network::HttpNetwork;
use crate::http_server::serve;
use crate::node::ReplicatedMap;
use crate::types::{MapConfig, NodeId, Vote};

type Map = ReplicatedMap<String, String>;
type Client = HttpClient<String, String>;

fn config() -> Arc<Config> {
    Arc::new(
        Config {
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            ..Config::default()
        }
        .validate()
        .unwrap(),
    )
}

/// Node `id` on `dir`, served on a loopback port; returns it and its
/// address.
async fn start(id: NodeId, dir: &std::path::Path) -> (Arc<Map>, String) {
    start_with(id, dir, config()).await
}

async fn start_with(id: NodeId, dir: &std::path::Path, config: Arc<Config>) -> (Arc<Map>, String) {
    let map = Arc::new(
        Map::open(id, dir.join(id.to_string()), config, HttpNetwork::new())
            .await
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(Arc::clone(&map), listener));
    (map, addr)
}

/// Retries `f` every 20 ms for up to 20 s.
/// Waits until the node at `addr` has applied at least what `theirs` had.
async fn caught_up(
    client: &Client,
    what: &str,
    addr: &str,
    theirs: &LocalMap<String, String>,
) -> LocalMap<String, String> {
    eventually(what, || async {
        let mine = client.local_map(addr).await?;
        if mine.last_applied >= theirs.last_applied {
            Ok(mine)
        } else {
            Err(RaftStoreError::Raft {
                message: "behind".to_owned(),
            })
        }
    })
    .await
}

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RaftStoreError>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A port on which nothing listens (it was free a moment ago).
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_knows_a_follower_reaches_the_leader_and_a_learner_joins() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = Vec::new();
    for id in 1..=3 {
        nodes.push(start(id, dir.path()).await);
    }
    let members: BTreeMap<NodeId, BasicNode> = nodes
        .iter()
        .map(|(m, addr)| (m.id(), BasicNode::new(addr.clone())))
        .collect();
    let admin = Client::new([nodes[0].1.clone()]);
    admin.initialize(&nodes[0].1, &members).await.unwrap();
    let leader = eventually("electing", || async {
        let m = admin.metrics(&nodes[0].1).await?;
        m.current_leader.ok_or(RaftStoreError::Raft {
            message: "no leader yet".to_owned(),
        })
    })
    .await;
    let (follower, leader_addr) = {
        let f = nodes.iter().find(|(m, _)| m.id() != leader).unwrap();
        let l = nodes.iter().find(|(m, _)| m.id() == leader).unwrap();
        (f.1.clone(), l.1.clone())
    };

    // The follower names the leader; the client goes there and stays.
    let client = Client::new([follower.clone()]);
    let previous = eventually("writing", || client.insert("a".into(), "1".into())).await;
    assert_eq!(previous, None);
    assert_eq!(client.target(), leader_addr);
    assert_eq!(
        client.insert("a".into(), "2".into()).await.unwrap(),
        Some("1".to_owned())
    );
    assert_eq!(client.get(&"a".to_owned()).await.unwrap(), Some("2".into()));
    let on_follower = eventually("the follower applying", || async {
        match client.get_local(&follower, &"a".to_owned()).await? {
            Some(v) if v == "2" => Ok(v),
            other => Err(RaftStoreError::Raft {
                message: format!("still {other:?}"),
            }),
        }
    })
    .await;
    assert_eq!(on_follower, "2");

    // A fourth node joins as a learner, then replaces a voter.
    let (fourth, fourth_addr) = start(4, dir.path()).await;
    client
        .add_learner(4, BasicNode::new(fourth_addr.clone()))
        .await
        .unwrap();
    let follower_id = nodes.iter().find(|(_, a)| *a == follower).unwrap().0.id();
    let voters = BTreeSet::from([leader, follower_id, 4]);
    client.change_membership(&voters).await.unwrap();
    eventually("the new voter applying its membership", || async {
        let m = client.metrics(&fourth_addr).await?;
        if m.voters == voters {
            Ok(())
        } else {
            Err(RaftStoreError::Raft {
                message: format!("{m:?}"),
            })
        }
    })
    .await;
    let theirs = client.local_map(&leader_addr).await.unwrap();
    let mine = caught_up(&client, "the new voter catching up", &fourth_addr, &theirs).await;
    assert_eq!(mine.entries, vec![("a".to_owned(), "2".to_owned())]);
    for (map, _) in nodes.iter().chain([&(fourth, fourth_addr)]) {
        map.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_joins_after_a_purge_gets_the_snapshot_over_http() {
    let dir = tempfile::tempdir().unwrap();
    // A snapshot every 50 entries, and the log it covers purged at once.
    let config = Arc::new(
        Config {
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(50),
            max_in_snapshot_log_to_keep: 0,
            ..(*self::config()).clone()
        }
        .validate()
        .unwrap(),
    );
    let (first, first_addr) = start_with(1, dir.path(), Arc::clone(&config)).await;
    let client = Client::new([first_addr.clone()]);
    let members = BTreeMap::from([(1, BasicNode::new(first_addr.clone()))]);
    client.initialize(&first_addr, &members).await.unwrap();
    for i in 0..200 {
        eventually("writing", || client.insert(format!("k{i}"), i.to_string())).await;
    }
    let purged = eventually("purging", || async {
        first
            .raft()
            .metrics()
            .borrow()
            .purged
            .ok_or(RaftStoreError::Raft {
                message: "nothing purged yet".to_owned(),
            })
    })
    .await;
    assert!(purged.index > 0, "{purged:?}");

    // The log before `purged` is gone: only a snapshot can bring the
    // newcomer up to date.
    let (second, second_addr) = start_with(2, dir.path(), config).await;
    client
        .add_learner(2, BasicNode::new(second_addr.clone()))
        .await
        .unwrap();
    let theirs = client.local_map(&first_addr).await.unwrap();
    let mine = caught_up(&client, "the learner catching up", &second_addr, &theirs).await;
    assert_eq!(mine.entries, theirs.entries);
    assert_eq!(mine.entries.len(), 200);
    let installed = second.raft().metrics().borrow().snapshot;
    assert!(
        installed.is_some_and(|s| s.index >= purged.index),
        "the learner installed {installed:?}, the leader purged up to {purged:?}"
    );
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_peer_that_is_down_is_unreachable_and_a_slow_one_times_out() {
    let mut network = HttpNetwork::new();
    let vote = || VoteRequest::new(Vote::new(1, 1), None);
    let option = || RPCOption::new(Duration::from_millis(200));

    let down = closed_port().await;
    let mut conn = <HttpNetwork as RaftNetworkFactory<MapConfig<String, String>>>::new_client(
        &mut network,
        2,
        &BasicNode::new(down.clone()),
    )
    .await;
    let err = RaftNetwork::<MapConfig<String, String>>::vote(&mut conn, vote(), option())
        .await
        .unwrap_err();
    assert!(matches!(err, RPCError::Unreachable(_)), "{err:?}");
    let client = Client::new([down.clone()]);
    let err = client.get(&"k".to_owned()).await.unwrap_err();
    assert!(
        matches!(&err, RaftStoreError::Unreachable { addr, .. } if *addr == down),
        "{err:?}"
    );

    // A server that never answers in time: the RPC gives up at its
    // deadline, as a network error (the request was sent).
    let slow = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_addr = slow.local_addr().unwrap().to_string();
    let app = axum::Router::new().route(
        "/raft/vote",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "late"
        }),
    );
    tokio::spawn(async move { axum::serve(slow, app).await });
    let mut conn = <HttpNetwork as RaftNetworkFactory<MapConfig<String, String>>>::new_client(
        &mut network,
        3,
        &BasicNode::new(slow_addr),
    )
    .await;
    let started = Instant::now();
    let err = RaftNetwork::<MapConfig<String, String>>::vote(&mut conn, vote(), option())
        .await
        .unwrap_err();
    assert!(matches!(err, RPCError::Network(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_answer_that_does_not_decode_is_an_error_not_a_panic() {
    let junk = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = junk.local_addr().unwrap().to_string();
    let app = axum::Router::new()
        .route("/raft/vote", post(|| async { vec![1_u8, 0xFF, 0xFF] }))
        .route("/api/read", post(|| async { "not bincode" }));
    tokio::spawn(async move { axum::serve(junk, app).await });

    let mut network = HttpNetwork::new();
    let mut conn = <HttpNetwork as RaftNetworkFactory<MapConfig<String, String>>>::new_client(
        &mut network,
        2,
        &BasicNode::new(addr.clone()),
    )
    .await;
    let err = RaftNetwork::<MapConfig<String, String>>::vote(
        &mut conn,
        VoteRequest::new(Vote::new(1, 1), None),
        RPCOption::new(Duration::from_secs(2)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RPCError::Network(e) if e.to_string().contains("does not decode")),
        "{err:?}"
    );
    let err = Client::new([addr.clone()])
        .get(&"k".to_owned())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RaftStoreError::Remote { message, .. } if message.contains("does not decode")),
        "{err:?}"
    );
}
