//! A three-node replicated map over HTTP on loopback, one process per node:
//! writes, the leader SIGKILLed, a new leader elected, every acknowledged
//! write checked, the old leader restarted as a follower that catches up,
//! and the durable write rate with 1, 8 and 64 concurrent clients.
//!
//! ```text
//! cargo run -p indexmap_store-raft --example cluster
//! ```
//!
//! The program plays every part: started plainly, it starts the node
//! processes by running itself again with `--node <id> --dir <dir> --port
//! <port>` (a node serves until its standard input closes), then drives
//! them through an [`HttpClient`]. Their directories are in a temporary
//! directory, removed at the end. `CLUSTER_BENCH_SECS` (default 1) sets how
//! long each rate is measured.

mod node;
mod rate;

use std::collections::BTreeMap;
use std::error::Error;
use std::time::{Duration, Instant};

use indexmap_store_raft::openraft::BasicNode;
use indexmap_store_raft::{HttpClient, NodeId, NodeMetrics, RaftStoreError};

use node::Node;
use rate::{measure, print_rate};

type Client = HttpClient<String, String>;
type AnyResult<T> = Result<T, Box<dyn Error>>;

/// How long any step may take before the example gives up.
const PATIENCE: Duration = Duration::from_secs(20);

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    if args.first().map(String::as_str) == Some("--node") {
        return runtime.block_on(node::node_main(&args));
    }
    runtime.block_on(demo())
}

/// Retries `f` every 20 ms until it succeeds or `what` took too long.
async fn retry<T, F, Fut>(what: &str, mut f: F) -> AnyResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RaftStoreError>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("{what}: still failing after {PATIENCE:?}: {e}").into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Waits until one of `nodes` leads and every other one follows it.
async fn leader_of(client: &Client, nodes: &[&Node]) -> AnyResult<NodeMetrics> {
    retry("electing a leader", || async {
        let mut all = Vec::new();
        for node in nodes {
            all.push(client.metrics(&node.addr()).await?);
        }
        let leader = all.iter().find(|m| m.is_leader());
        match leader {
            Some(l) if all.iter().all(|m| m.current_leader == Some(l.id)) => Ok(l.clone()),
            _ => Err(RaftStoreError::Raft {
                message: "no leader agreed on yet".to_owned(),
            }),
        }
    })
    .await
}

async fn initialize(client: &Client, nodes: &[&Node]) -> AnyResult<NodeMetrics> {
    let members: BTreeMap<NodeId, BasicNode> = nodes
        .iter()
        .map(|n| (n.id, BasicNode::new(n.addr())))
        .collect();
    client.initialize(&nodes[0].addr(), &members).await?;
    leader_of(client, nodes).await
}

// ---------------------------------------------------------------------------
// The demo.

async fn demo() -> AnyResult<()> {
    let started = Instant::now();
    let bench_secs: f64 = std::env::var("CLUSTER_BENCH_SECS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1.0);
    let tmp = tempfile::tempdir()?;
    let mut nodes = Vec::new();
    for id in 1..=3 {
        nodes.push(Node::start(id, &tmp.path().join(format!("node-{id}")), 0)?);
    }
    let addrs: Vec<String> = nodes.iter().map(Node::addr).collect();
    println!("started 3 node processes at {}", addrs.join(", "));
    let client = Client::new(addrs.clone());
    let leader = initialize(&client, &nodes.iter().collect::<Vec<_>>()).await?;
    println!(
        "initialized: node {} leads, term {}",
        leader.id, leader.current_term
    );

    // A few hundred writes, then the rates.
    let mut acked: Vec<(String, String)> = Vec::new();
    for i in 0..300 {
        let (key, value) = (format!("key-{i:03}"), format!("value-{i}"));
        retry("writing", || client.insert(key.clone(), value.clone())).await?;
        acked.push((key, value));
    }
    println!("wrote {} keys through the client", acked.len());
    println!("replicated durable writes (3 nodes, each write on a majority's disk):");
    let mut replicated = Vec::new();
    for clients in [1, 8, 64] {
        let rate = measure(&client, clients, bench_secs, "bench").await?;
        print_rate("3 nodes", &rate);
        replicated.push(rate);
    }

    // SIGKILL the leader; time until a write is acknowledged again.
    let leader = leader_of(&client, &nodes.iter().collect::<Vec<_>>()).await?;
    let old = nodes
        .iter()
        .position(|n| n.id == leader.id)
        .ok_or("the leader is not one of the nodes")?;
    let killed_at = Instant::now();
    nodes[old].kill()?;
    println!("SIGKILLed the leader, node {}", leader.id);
    let key = "after-failover".to_owned();
    retry("writing after the kill", || {
        client.insert(key.clone(), "first".to_owned())
    })
    .await?;
    let failover = killed_at.elapsed();
    acked.push((key, "first".to_owned()));
    let survivors: Vec<&Node> = nodes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != old)
        .map(|(_, n)| n)
        .collect();
    let new_leader = leader_of(&client, &survivors).await?;
    println!(
        "node {} was elected leader in term {}; first write acknowledged {:.0} ms after the kill",
        new_leader.id,
        new_leader.current_term,
        failover.as_secs_f64() * 1e3
    );

    // Every acknowledged write is there: linearizable reads on the new
    // leader for the keys written one by one; the rates' keys in its map
    // as applied after those reads (so it holds everything acknowledged).
    for (key, value) in &acked {
        let got = retry("a linearizable read", || client.get(key)).await?;
        if got.as_ref() != Some(value) {
            return Err(format!("acknowledged {key}={value} reads back as {got:?}").into());
        }
    }
    let leader_addr = client.target();
    let map = client.local_map(&leader_addr).await?;
    let entries: std::collections::HashMap<&String, &String> =
        map.entries.iter().map(|(k, v)| (k, v)).collect();
    let mut bench_writes = 0;
    for (key, value) in replicated.iter().flat_map(|r| &r.acked) {
        if entries.get(key) != Some(&value) {
            return Err(format!("acknowledged {key} is not in the new leader's map").into());
        }
        bench_writes += 1;
    }
    println!(
        "all {} acknowledged writes read back (linearizable), and the {bench_writes} writes of the rates are in the new leader's map",
        acked.len()
    );

    // Restart the old leader on its directory and port.
    let (id, dir, port) = (nodes[old].id, nodes[old].dir.clone(), nodes[old].port);
    let restarted_at = Instant::now();
    nodes[old] = Node::start(id, &dir, port)?;
    for i in 0..20 {
        let key = format!("after-restart-{i}");
        retry("writing after the restart", || {
            client.insert(key.clone(), i.to_string())
        })
        .await?;
    }
    let caught_up = retry("the restarted node catching up", || async {
        let leader = client.target();
        let mine = client.local_map(&nodes[old].addr()).await?;
        let theirs = client.local_map(&leader).await?;
        let m = client.metrics(&nodes[old].addr()).await?;
        if m.state == "Follower" && mine == theirs {
            Ok((m, mine.entries.len()))
        } else {
            Err(RaftStoreError::Raft {
                message: "not caught up yet".to_owned(),
            })
        }
    })
    .await?;
    println!(
        "node {id} restarted on its directory: a follower of node {} after {:.0} ms, its map equal to the leader's ({} entries, same order)",
        caught_up.0.current_leader.unwrap_or(0),
        restarted_at.elapsed().as_secs_f64() * 1e3,
        caught_up.1
    );

    // The single-node rate, for comparison.
    let single = Node::start(1, &tmp.path().join("single"), 0)?;
    let solo = Client::new([single.addr()]);
    initialize(&solo, &[&single]).await?;
    println!("single-node durable writes (a 1-node cluster, over HTTP too):");
    let mut alone = Vec::new();
    for clients in [1, 8, 64] {
        let rate = measure(&solo, clients, bench_secs, "solo").await?;
        print_rate("1 node ", &rate);
        alone.push(rate);
    }

    for node in nodes {
        node.stop()?;
    }
    single.stop()?;
    println!("stopped nodes 1, 2, 3 and the single node: each exited 0 after closing its files");
    println!(
        "summary: failover {:.0} ms; 3 nodes {:.0}/{:.0}/{:.0} writes/s vs 1 node {:.0}/{:.0}/{:.0} with 1/8/64 clients; all acknowledged writes present; {:.1} s in all",
        failover.as_secs_f64() * 1e3,
        replicated[0].per_sec,
        replicated[1].per_sec,
        replicated[2].per_sec,
        alone[0].per_sec,
        alone[1].per_sec,
        alone[2].per_sec,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
