//! Three nodes on the in-process router, each on a simulated disk: leaders
//! lose power and come back, links are cut and healed, while clients
//! write and read; every acknowledged write must survive, the nodes must
//! converge to one map in one order, and the history must be
//! linearizable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indexmap_store_raft::RaftStoreError;
use indexmap_store_raft::wal_io::sim::CrashVariant;

use crate::cluster_kit::{Cluster, Nodes};
use crate::linearizable::{History, check};
use crate::support::Rng;

const SECONDS: Duration = Duration::from_secs(1);

/// What the clients share: the history and the signal to stop.
#[derive(Clone, Default)]
struct Shared {
    history: History,
    stop: Arc<AtomicBool>,
}

/// A client: writes (unique values) and linearizable reads on whichever
/// node says it is the leader, each call bounded by a timeout. A write
/// that fails or times out may still have been applied: its outcome is
/// recorded as unknown.
async fn client(id: u64, nodes: Nodes, shared: Shared) -> u64 {
    let mut rng = Rng::new(100 + id);
    let mut acknowledged = 0;
    let mut seq = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let Some(node) = nodes.leader() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let key = shared.history.key(&mut rng);
        if rng.below(3) == 0 {
            let call = shared.history.tick();
            if let Ok(Ok(value)) = tokio::time::timeout(SECONDS, node.get(&key)).await {
                shared.history.returned_read(key, call, value);
            }
        } else {
            seq += 1;
            let value = id * 1_000_000 + seq;
            let call = shared.history.tick();
            let done = tokio::time::timeout(SECONDS, node.insert(key, value)).await;
            let ok = matches!(done, Ok(Ok(_)));
            shared.history.returned_write(key, value, call, ok);
            acknowledged += u64::from(ok);
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    acknowledged
}

fn rounds() -> u64 {
    std::env::var("RAFT_CLUSTER_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
}

/// `RAFT_CLUSTER_ROUNDS` (default 50) rounds, each either a power loss of
/// the leader (every crash variant in turn) and its restart, or the
/// leader cut off from the others and healed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_leader_power_losses_and_partitions() {
    let mut cluster = Cluster::new(&[1, 2, 3]).await;
    cluster.leader(10 * SECONDS).await;
    let shared = Shared::default();
    let clients: Vec<_> = (0..3)
        .map(|id| tokio::spawn(client(id, cluster.nodes.clone(), shared.clone())))
        .collect();
    let mut rng = Rng::new(7);
    let (mut losses, mut partitions) = (0, 0);
    for round in 0..rounds() {
        let leader = cluster.leader(20 * SECONDS).await.id();
        if round % 4 == 3 {
            cluster.router.isolate(leader);
            tokio::time::sleep(Duration::from_millis(200 + rng.below(200))).await;
            cluster.router.heal();
            partitions += 1;
        } else {
            let variant = CrashVariant::ALL[(losses % CrashVariant::ALL.len() as u64) as usize];
            cluster.power_loss(leader, variant).await;
            tokio::time::sleep(Duration::from_millis(100 + rng.below(200))).await;
            cluster.start(leader).await;
            losses += 1;
        }
        tokio::time::sleep(Duration::from_millis(50 + rng.below(100))).await;
    }
    shared.stop.store(true, Ordering::SeqCst);
    let mut acknowledged = 0;
    for c in clients {
        acknowledged += c.await.expect("a client task");
    }
    let map = cluster.converged(30 * SECONDS).await;

    // A last linearizable read of every key used closes the history: an
    // acknowledged write that was lost shows here at the latest.
    let leader = cluster.leader(10 * SECONDS).await;
    for key in shared.history.keys_used() {
        let call = shared.history.tick();
        let value = leader
            .get(&key)
            .await
            .expect("a read once the cluster is healthy");
        shared.history.returned_read(key, call, value);
        assert_eq!(
            value,
            map.iter().find(|(k, _)| *k == key).map(|(_, v)| *v),
            "key {key}: the leader's read and the converged map differ"
        );
    }
    let history = shared.history.events();
    if let Err(e) = check(&history) {
        panic!(
            "the history of {} operations is not linearizable: {e}",
            history.len()
        );
    }
    assert!(
        losses >= 1 && partitions >= 1,
        "{losses} power losses, {partitions} partitions"
    );
    assert!(
        acknowledged >= rounds(),
        "only {acknowledged} writes were acknowledged in {} rounds",
        rounds()
    );
}

/// Writes `keys` through the leader, each acknowledged (retrying while
/// leadership moves, for up to ten seconds per key).
async fn write_keys(cluster: &Cluster, keys: std::ops::Range<u64>) {
    for key in keys {
        let deadline = std::time::Instant::now() + 10 * SECONDS;
        loop {
            let leader = cluster.leader(10 * SECONDS).await;
            match leader.insert(key, key * 10).await {
                Ok(_) => break,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!(
                        "write of key {key} on node {} failed, retrying: {e}",
                        leader.id()
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("no write of key {key} within ten seconds: {e}"),
            }
        }
    }
}

/// Asserts that the nodes converge to keys `0..n`, each holding ten times
/// the key, as [`write_keys`] writes them.
async fn assert_converged_to_keys(cluster: &Cluster, n: u64) {
    let map = cluster.converged(30 * SECONDS).await;
    assert_eq!(map, (0..n).map(|k| (k, k * 10)).collect::<Vec<_>>());
}

/// A node that does not lead now.
async fn a_follower(cluster: &Cluster) -> u64 {
    let leader = cluster.leader(10 * SECONDS).await;
    [1, 2, 3]
        .into_iter()
        .find(|&id| id != leader.id())
        .unwrap_or(3)
}

/// openraft purges nothing a follower's replication still needs, so a
/// follower that is merely down holds the leader's log back. One that was
/// removed while down and comes back with its old disk has fallen behind
/// a purge: it must install the leader's snapshot over its stale log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_fell_behind_past_a_purge_catches_up_by_snapshot() {
    let mut cluster = Cluster::new(&[1, 2, 3]).await;
    write_keys(&cluster, 0..20).await;
    let behind = a_follower(&cluster).await;
    cluster.stop(behind).await;
    cluster.remove(behind).await;
    write_keys(&cluster, 20..150).await;
    let leader = cluster.leader(10 * SECONDS).await;
    let purged = leader.raft().metrics().borrow().purged;
    assert!(
        purged.is_some(),
        "the leader purged its log after a snapshot"
    );
    cluster.start(behind).await;
    cluster.rejoin(behind).await;
    assert_converged_to_keys(&cluster, 150).await;
    let installed = cluster.node(behind).raft().metrics().borrow().snapshot;
    assert!(
        installed.map(|s| s.index) >= purged.map(|p| p.index),
        "node {behind} caught up past the purge ({purged:?}), so from a snapshot (has {installed:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_lost_its_disk_rejoins_as_a_learner_and_catches_up() {
    let mut cluster = Cluster::new(&[1, 2, 3]).await;
    write_keys(&cluster, 0..100).await;
    let lost = cluster.leader(10 * SECONDS).await.id() % 3 + 1;
    cluster.stop(lost).await;
    cluster.remove(lost).await;
    cluster.wipe(lost);
    cluster.start(lost).await;
    cluster.rejoin(lost).await;
    write_keys(&cluster, 100..120).await;
    assert_converged_to_keys(&cluster, 120).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_loss_of_every_node_keeps_every_acknowledged_write() {
    let mut cluster = Cluster::new(&[1, 2, 3]).await;
    write_keys(&cluster, 0..60).await;
    for (id, variant) in [
        (1, CrashVariant::TornPrefix),
        (2, CrashVariant::Pages),
        (3, CrashVariant::LoseUnsynced),
    ] {
        cluster.power_loss(id, variant).await;
    }
    for id in [1, 2, 3] {
        cluster.start(id).await;
    }
    write_keys(&cluster, 60..70).await;
    assert_converged_to_keys(&cluster, 70).await;
}

/// A follower whose synced log is damaged refuses to start, naming the
/// way back; set aside (kept byte for byte), it rejoins as a fresh learner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_damaged_log_refuses_to_start_and_rejoins_as_a_fresh_learner() {
    let mut cluster = Cluster::new(&[1, 2, 3]).await;
    write_keys(&cluster, 0..30).await;
    let damaged = a_follower(&cluster).await;
    cluster.converged(30 * SECONDS).await;
    cluster.stop(damaged).await;
    let disk = cluster.disk(damaged);
    let mut bytes = disk.read_file("raft.log").expect("the node's log");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    disk.write_file("raft.log", &bytes).expect("damage the log");

    let err = cluster
        .try_start(damaged)
        .await
        .expect_err("a damaged node must not start");
    assert!(
        matches!(err, RaftStoreError::Damaged { node, .. } if node == damaged),
        "{err:?}"
    );
    let message = err.to_string();
    for step in ["change_membership", "set_aside", "add_learner"] {
        assert!(
            message.contains(step),
            "the message names the step {step}: {message}"
        );
    }
    assert_eq!(
        disk.read_file("raft.log").as_deref(),
        Some(&bytes[..]),
        "a refused open changes nothing"
    );

    cluster.remove(damaged).await;
    let moved =
        indexmap_store_raft::set_aside_on(&disk, std::path::Path::new("")).expect("set aside");
    let kept = moved
        .iter()
        .find(|p| p.to_string_lossy().starts_with("raft.log.damaged-"))
        .expect("the log was set aside");
    assert_eq!(
        disk.read_file(kept).as_deref(),
        Some(&bytes[..]),
        "set aside byte for byte"
    );
    cluster.start(damaged).await;
    cluster.rejoin(damaged).await;
    write_keys(&cluster, 30..40).await;
    assert_converged_to_keys(&cluster, 40).await;
}
