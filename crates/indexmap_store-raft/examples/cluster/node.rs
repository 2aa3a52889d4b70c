//! A node process (`--node <id> --dir <dir> --port <port>`), and the
//! demo's handle on one.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indexmap_store_raft::openraft::Config;
use indexmap_store_raft::{HttpNetwork, NodeId, ReplicatedMap, serve_with_shutdown};

use crate::{AnyResult, PATIENCE};

fn arg<'a>(args: &'a [String], name: &str) -> AnyResult<&'a str> {
    let at = args
        .iter()
        .position(|a| a == name)
        .ok_or_else(|| format!("missing {name}: run as --node <id> --dir <dir> --port <port>"))?;
    Ok(args
        .get(at + 1)
        .ok_or_else(|| format!("{name} needs a value"))?)
}

/// Short timeouts for loopback: a heartbeat every 50 ms, an election after
/// 150 to 300 ms without one. A follower waits out the old leader's lease
/// (the maximum election timeout) before its own timeout, so a failover
/// takes about 450 to 600 ms, more when the first election splits.
fn config() -> AnyResult<Arc<Config>> {
    Ok(Arc::new(
        Config {
            cluster_name: "cluster-example".to_owned(),
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            ..Config::default()
        }
        .validate()?,
    ))
}

/// Serves node `--node` on `--dir` at `127.0.0.1:--port` (0: any port),
/// prints `LISTENING <port>`, and stops cleanly when standard input closes.
pub(crate) async fn node_main(args: &[String]) -> AnyResult<()> {
    let id: NodeId = arg(args, "--node")?.parse()?;
    let dir = PathBuf::from(arg(args, "--dir")?);
    let port: u16 = arg(args, "--port")?.parse()?;
    let map: ReplicatedMap<String, String> =
        ReplicatedMap::open(id, &dir, config()?, HttpNetwork::new()).await?;
    let map = Arc::new(map);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("LISTENING {}", listener.local_addr()?.port());
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        // Standard input closes when the parent closes it, or dies.
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = closed_tx.send(());
    });
    serve_with_shutdown(Arc::clone(&map), listener, async {
        let _ = closed_rx.await;
    })
    .await?;
    map.shutdown().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The node processes, seen from the demo.

pub(crate) struct Node {
    pub(crate) id: NodeId,
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Node {
    /// Starts node `id` on `dir`, listening on `port` (0: any), and waits
    /// until it listens.
    pub(crate) fn start(id: NodeId, dir: &Path, port: u16) -> AnyResult<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--node", &id.to_string(), "--dir"])
            .arg(dir)
            .args(["--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(port) = line.strip_prefix("LISTENING ") {
                    let _ = tx.send(port.trim().parse::<u16>());
                }
            }
        });
        let port = match rx.recv_timeout(PATIENCE) {
            Ok(Ok(port)) => port,
            other => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(format!(
                    "node {id} did not start listening ({other:?}, exit {status}); its errors are above"
                )
                .into());
            }
        };
        Ok(Self {
            id,
            dir: dir.to_path_buf(),
            port,
            stdin: child.stdin.take(),
            child,
        })
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the process ends at once, with no chance to clean up.
    pub(crate) fn kill(&mut self) -> AnyResult<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Closes its standard input and waits for it to exit with success.
    pub(crate) fn stop(mut self) -> AnyResult<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "node {} stopped with {status}; its errors are above",
                        self.id
                    )
                    .into())
                };
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                return Err(format!("node {} did not stop within {PATIENCE:?}", self.id).into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
