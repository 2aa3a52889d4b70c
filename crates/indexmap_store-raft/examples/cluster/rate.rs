//! The durable write rate with concurrent clients, and its latencies.

use std::time::{Duration, Instant};

use crate::{AnyResult, Client};

/// One measurement.
pub(crate) struct Rate {
    pub(crate) clients: usize,
    /// Attempts that failed (and were retried), usually none.
    pub(crate) failed: usize,
    /// The keys written and acknowledged, with their values.
    pub(crate) acked: Vec<(String, String)>,
    pub(crate) writes: usize,
    pub(crate) per_sec: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

/// Durable writes per second with `clients` concurrent clients for
/// `secs`, each waiting for its write before the next.
pub(crate) async fn measure(
    client: &Client,
    clients: usize,
    secs: f64,
    tag: &str,
) -> AnyResult<Rate> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let tag = format!("{tag}-{clients}-{c}");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0_usize;
            let mut n = 0_u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                // A key is retried until acknowledged (inserting the same
                // key and value again changes nothing).
                match client
                    .insert(format!("{tag}-{n}"), format!("{n:0>100}"))
                    .await
                {
                    Ok(_) => {
                        latencies.push(t.elapsed());
                        n += 1;
                    }
                    Err(_) => {
                        failed += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            (latencies, failed, tag, n)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    let mut acked = Vec::new();
    for task in tasks {
        let (mine, f, tag, n) = task.await?;
        latencies.extend(mine);
        failed += f;
        acked.extend((0..n).map(|i| (format!("{tag}-{i}"), format!("{i:0>100}"))));
    }
    if latencies.is_empty() {
        return Err(format!("no write was acknowledged in {secs} s ({failed} failed)").into());
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok(Rate {
        clients,
        failed,
        acked,
        writes: latencies.len(),
        per_sec: latencies.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
    })
}

pub(crate) fn print_rate(what: &str, r: &Rate) {
    println!(
        "  {what}, {:>2} client(s): {:>6.0} writes/s ({} writes), p50 {:>6.2} ms, p99 {:>6.2} ms",
        r.clients,
        r.per_sec,
        r.writes,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3
    );
    if r.failed > 0 {
        println!("    ({} attempts failed and were retried)", r.failed);
    }
}
