//! Real processes on loopback, over the HTTP transport: a three-node
//! cluster whose leader is SIGKILLed and restarted on its directory again
//! and again while clients write. Afterwards every acknowledged write is
//! on every node, and the three maps are equal, in the same order, with
//! each client's keys in the order it wrote them; and a client of
//! registers (writes and linearizable reads) leaves a linearizable
//! history.
//!
//! The nodes are this test binary run again ([`node_child`]). The number
//! of leader kills is `PROCESSES_KILLS` (default 50: about 40 s on two
//! busy cores); `PROCESSES_SEED` replays the choice of when to kill.

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indexmap_store_raft::openraft::{BasicNode, Config};
use indexmap_store_raft::{
    HttpClient, HttpNetwork, NodeId, NodeMetrics, RaftStoreError, ReplicatedMap,
    serve_with_shutdown,
};
use test_support::child::{Protocol, Running, nth};

use crate::linearizable::{History, check};
use test_support::rng::{Rng, announced_seed};
use tokio::runtime::Runtime;

const PROTOCOL: Protocol = Protocol::new(
    "processes::node_child",
    "PROCESSES_NODE_DIR",
    "PROCESSES_NODE_ROLE",
);
/// Writers, each writing its own keys one after the other.
const WRITERS: u64 = 4;
/// How long any step (an election, a restart, convergence) may take.
const PATIENCE: Duration = Duration::from_secs(30);

type Client = HttpClient<String, String>;

fn config() -> Arc<Config> {
    Arc::new(
        Config {
            heartbeat_interval: 50,
            election_timeout_min: 100,
            election_timeout_max: 200,
            ..Config::default()
        }
        .validate()
        .unwrap(),
    )
}

/// The child: node `<id>` of role `<id>:<port>` on its directory, serving
/// on `127.0.0.1:<port>` until its standard input closes (the parent's
/// pipe: it closes if the parent dies) or it is killed. Reports
/// `LISTENING <port>` once it serves.
#[test]
fn node_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        return;
    };
    let (id, port) = role.split_once(':').expect("role <id>:<port>");
    let (id, port): (NodeId, u16) = (id.parse().unwrap(), port.parse().unwrap());
    Runtime::new().unwrap().block_on(async {
        let map: ReplicatedMap<String, String> =
            ReplicatedMap::open(id, &dir, config(), HttpNetwork::new())
                .await
                .unwrap();
        // The port was free a moment ago; a socket of the killed process
        // may still hold it briefly.
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => break l,
                Err(e) if Instant::now() > deadline => panic!("binding port {port}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        PROTOCOL.report("LISTENING", u64::from(port));
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = closed_tx.send(());
        });
        serve_with_shutdown(Arc::new(map), listener, async {
            let _ = closed_rx.await;
        })
        .await
        .unwrap();
    });
}

struct Node {
    id: NodeId,
    dir: std::path::PathBuf,
    port: u16,
    process: Running,
}

impl Node {
    fn start(id: NodeId, dir: &std::path::Path, port: u16, ctx: &str) -> Self {
        let mut process = PROTOCOL.spawn(dir, &format!("{id}:{port}"), |c| {
            c.stdin(Stdio::piped());
        });
        process.expect(&ctx, "LISTENING", nth("LISTENING", 1));
        Self {
            id,
            dir: dir.to_path_buf(),
            port,
            process,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A free port below the range the kernel picks clients' ports from, so
/// that no outgoing connection takes it while its node is down.
fn free_port(rng: &mut Rng) -> u16 {
    loop {
        let port = u16::try_from(rng.range(20_000, 32_000)).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Retries `f` every 20 ms for up to [`PATIENCE`], then panics.
///
/// Deliberately repeats `examples/cluster/main.rs`'s `retry` (which returns
/// the error instead): the example stays self-contained for its readers,
/// and a test cannot link an example's code.
async fn retry<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RaftStoreError>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("{what}: still failing: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The node that leads, once every node in `addrs` follows it.
async fn agreed_leader(client: &Client, addrs: &[String]) -> NodeMetrics {
    retry("electing a leader", || async {
        let mut all = Vec::new();
        for addr in addrs {
            all.push(client.metrics(addr).await?);
        }
        match all.iter().find(|m| m.is_leader()) {
            Some(l) if all.iter().all(|m| m.current_leader == Some(l.id)) => Ok(l.clone()),
            _ => Err(RaftStoreError::Raft {
                message: format!("no agreed leader: {all:?}"),
            }),
        }
    })
    .await
}

/// A writer: inserts `w<writer>-<n>` = `<n>` for n = 0, 1, ... until
/// `stop`, retrying each key until it is acknowledged (an insert of the
/// same key and value again changes nothing). Returns how many keys were
/// acknowledged (`0..acked`).
async fn writer(client: Client, w: u64, stop: Arc<AtomicBool>, acks: Arc<AtomicU64>) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        match client.insert(format!("w{w}-{n:06}"), n.to_string()).await {
            Ok(_) => {
                n += 1;
                acks.fetch_add(1, Ordering::SeqCst);
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    n
}

/// A register's value as read: registers hold numbers.
fn register(value: Option<String>) -> Option<u64> {
    value.map(|v| v.parse().expect("registers hold numbers"))
}

/// A client of registers for the linearizability check: writes of unique
/// values and linearizable reads, on keys `r<k>`, each call bounded by the
/// client's timeout. A write that fails may still have been applied: its
/// outcome is recorded as unknown.
async fn register_client(client: Client, history: History, stop: Arc<AtomicBool>, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = history.key(&mut rng);
        let name = format!("r{key}");
        if rng.below(3) == 0 {
            let call = history.tick();
            if let Ok(value) = client.get(&name).await {
                history.returned_read(key, call, register(value));
            }
        } else {
            seq += 1;
            let call = history.tick();
            let done = client.insert(name, seq.to_string()).await;
            history.returned_write(key, seq, call, done.is_ok());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn every_acknowledged_write_survives_repeated_leader_sigkills() {
    let kills: u64 = std::env::var("PROCESSES_KILLS")
        .map(|s| s.parse().expect("PROCESSES_KILLS must be a count"))
        .unwrap_or(50);
    let seed = announced_seed("processes", "PROCESSES_SEED");
    let mut rng = Rng::new(seed);
    let ctx = |what: &str| format!("processes (seed {seed}): {what}");
    let tmp = tempfile::tempdir().unwrap();
    let rt = Runtime::new().unwrap();
    let started = Instant::now();

    let mut nodes: Vec<Node> = (1..=3)
        .map(|id| {
            let port = free_port(&mut rng);
            Node::start(
                id,
                &tmp.path().join(format!("node-{id}")),
                port,
                &ctx("starting"),
            )
        })
        .collect();
    let addrs: Vec<String> = nodes.iter().map(Node::addr).collect();
    let client = Client::new(addrs.clone()).with_timeout(Duration::from_secs(2));
    let members: BTreeMap<NodeId, BasicNode> = nodes
        .iter()
        .map(|n| (n.id, BasicNode::new(n.addr())))
        .collect();
    rt.block_on(client.initialize(&addrs[0], &members)).unwrap();
    rt.block_on(agreed_leader(&client, &addrs));

    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            rt.spawn(writer(
                client.clone(),
                w,
                Arc::clone(&stop),
                Arc::clone(&acks),
            ))
        })
        .collect();
    let history = History::default();
    let registers = rt.spawn(register_client(
        client.clone(),
        history.clone(),
        Arc::clone(&stop),
        seed ^ 0x5EED,
    ));

    for round in 0..kills {
        let leader = rt.block_on(agreed_leader(&client, &addrs));
        // Let the writers run a little under this leader.
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        let at = nodes.iter().position(|n| n.id == leader.id).unwrap();
        nodes[at]
            .process
            .kill(&ctx(&format!("round {round}: killing the leader")));
        let acked_at_kill = acks.load(Ordering::SeqCst);

        // A new leader takes writes; a write racing the kill does not
        // count, so wait for a few.
        let deadline = Instant::now() + PATIENCE;
        while acks.load(Ordering::SeqCst) < acked_at_kill + WRITERS + 1 {
            assert!(
                Instant::now() < deadline,
                "{}",
                ctx(&format!(
                    "round {round}: no write acknowledged after the kill"
                ))
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let (id, dir, port) = (nodes[at].id, nodes[at].dir.clone(), nodes[at].port);
        nodes[at] = Node::start(id, &dir, port, &ctx(&format!("round {round}: restarting")));
    }

    // The writers stop; every node converges to the same map.
    let acked_before_stop = acks.load(Ordering::SeqCst);
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = writers
        .into_iter()
        .map(|w| rt.block_on(w).unwrap())
        .collect();
    rt.block_on(registers).unwrap();
    let total: u64 = acked.iter().sum();
    assert!(total >= acked_before_stop && total >= kills * (WRITERS + 1));
    let maps = rt.block_on(retry("converging", || async {
        let mut maps = Vec::new();
        for addr in &addrs {
            maps.push(client.local_map(addr).await?);
        }
        if maps.iter().all(|m| *m == maps[0]) {
            Ok(maps)
        } else {
            Err(RaftStoreError::Raft {
                message: "the nodes' maps differ".to_owned(),
            })
        }
    }));
    let map = &maps[0];

    // The registers' history, closed by a linearizable read of each,
    // is linearizable.
    for key in history.keys_used() {
        let name = format!("r{key}");
        let call = history.tick();
        let value = rt.block_on(retry("reading a register", || client.get(&name)));
        history.returned_read(key, call, register(value));
    }
    let events = history.events();
    let completed = events.iter().filter(|e| e.ret.is_some()).count();
    assert!(
        completed >= usize::try_from(kills).unwrap_or(usize::MAX),
        "{}",
        ctx(&format!("only {completed} register operations completed"))
    );
    if let Err(e) = check(&events) {
        panic!(
            "{}",
            ctx(&format!(
                "the history of {} register operations is not linearizable: {e}",
                events.len()
            ))
        );
    }

    // Every acknowledged key is there, with its value; each writer's keys
    // are in the order it wrote them, with nothing it did not try.
    let position: HashMap<&str, usize> = map
        .entries
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.as_str(), i))
        .collect();
    for (w, &n) in acked.iter().enumerate() {
        let mut last = None;
        for i in 0..n {
            let key = format!("w{w}-{i:06}");
            let Some(&at) = position.get(key.as_str()) else {
                panic!("{}", ctx(&format!("acknowledged {key} is missing")));
            };
            assert_eq!(map.entries[at].1, i.to_string(), "{}", ctx(&key));
            assert!(
                last < Some(at),
                "{}",
                ctx(&format!("{key} is out of order"))
            );
            last = Some(at);
        }
    }
    for (key, value) in map.entries.iter().filter(|(k, _)| k.starts_with('w')) {
        let (w, n) = key[1..].split_once('-').unwrap();
        let (w, n): (usize, u64) = (w.parse().unwrap(), n.parse().unwrap());
        // At most the one write under way when the writer stopped.
        assert!(
            n <= acked[w],
            "{}",
            ctx(&format!("{key} was never written"))
        );
        assert_eq!(*value, n.to_string());
    }
    // And a linearizable read on the leader sees each writer's last key.
    for (w, &n) in acked.iter().enumerate() {
        if n > 0 {
            let key = format!("w{w}-{:06}", n - 1);
            let got = rt.block_on(retry("reading", || client.get(&key)));
            assert_eq!(got, Some((n - 1).to_string()), "{}", ctx(&key));
        }
    }
    println!(
        "processes: {kills} leader SIGKILLs, {total} acknowledged writes, {} entries on each of 3 nodes, in {:.1} s",
        map.entries.len(),
        started.elapsed().as_secs_f64()
    );
}
