//! Running the compare binary for `cargo xtask compare`: the processes of
//! each (store, workload) ([`steps`]), each in a fresh directory; reading
//! their result lines ([`Measure`]); and the probes around them (`sync`
//! between runs, the cost of one `fdatasync`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::{Sizes, figures};
use crate::cmd;

/// One result line of the compare binary: its `key=value` fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measure(pub BTreeMap<String, String>);

impl Measure {
    /// Reads the `RESULT\tkey=value\t...` line of a child's stdout.
    pub fn parse(stdout: &str) -> Option<Measure> {
        let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT\t"))?;
        let fields = line
            .split('\t')
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Measure(fields))
    }

    /// Field `key` as a number (NaN when missing).
    pub fn get(&self, key: &str) -> f64 {
        self.0
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// What running one (store, workload) gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Ran {
    /// One [`Measure`] per step.
    Measures(Vec<Measure>),
    /// The binary does not have this store yet (a hook not filled): why.
    Unavailable(String),
}

/// The processes that make up one (store, workload): the child workload,
/// its `--n` and its `--threads`, in order, all on one directory except
/// those of `durable-threads`, one fresh directory per thread count.
pub fn steps(workload: &str, sizes: Sizes) -> Vec<(&'static str, u64, u32)> {
    match workload {
        "reopen" => vec![("setup", sizes.n, 1), ("reopen", sizes.n, 1)],
        "reopen-scan" => vec![("setup", sizes.n, 1), ("reopen-scan", sizes.n, 1)],
        "churn" => vec![
            ("churn", sizes.churn_keys, 1),
            ("reopen", sizes.churn_keys, 1),
        ],
        "durable" => vec![("durable", sizes.durable, 1)],
        "durable-threads" => super::THREADS
            .iter()
            .map(|&t| ("durable-threads", sizes.durable_threads, t))
            .collect(),
        "load-per-call" => vec![("load-per-call", sizes.n, 1)],
        "load-batch" => vec![("load-batch", sizes.n, 1)],
        _ => vec![("get", sizes.n, 1)],
    }
}

/// `write` + `fdatasync` pairs timed by [`sync_cost`].
const SYNC_PROBES: usize = 1_000;

/// What one `write` of a 130-byte record plus `fdatasync` costs in `dir`,
/// in seconds (median of [`SYNC_PROBES`]): appended to a growing file, and
/// written into a file whose length was set beforehand (as fjall sets its
/// journal's), so that the sync need not record a new length.
pub fn sync_cost(dir: &Path) -> std::io::Result<(f64, f64)> {
    use std::io::Write;
    let path = dir.join("sync-probe");
    let mut medians = [f64::NAN; 2];
    for (median, preset) in medians.iter_mut().zip([false, true]) {
        let mut file = std::fs::File::options()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)?;
        if preset {
            file.set_len(130 * SYNC_PROBES as u64)?;
            file.sync_all()?;
        }
        let mut times = Vec::with_capacity(SYNC_PROBES);
        for _ in 0..SYNC_PROBES {
            let began = Instant::now();
            file.write_all(&[b'x'; 130])?;
            file.sync_data()?;
            times.push(began.elapsed().as_secs_f64());
        }
        *median = figures::median(times).unwrap_or(f64::NAN);
    }
    std::fs::remove_file(&path)?;
    Ok((medians[0], medians[1]))
}

/// Runs `sync`, so that what earlier runs left dirty in the page cache is
/// written back before the next run is timed.
pub fn settle() {
    match cmd::output(&mut Command::new("sync")) {
        Ok(out) if out.status.success() => {}
        _ => eprintln!("warning: `sync` failed; a run may pay for an earlier one's writes"),
    }
}

/// Runs the steps of one (store, workload) in `dir` (created fresh, removed
/// afterwards).
pub fn run_job(
    bin: &Path,
    dir: &Path,
    store: &str,
    workload: &str,
    sizes: Sizes,
) -> Result<Ran, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("remove {}: {e}", dir.display()))?;
    }
    settle();
    let mut measures = Vec::new();
    let mut outcome = Ok(());
    let mut missing = None;
    for (step, n, threads) in steps(workload, sizes) {
        let step_dir = match step {
            "durable-threads" => dir.join(format!("threads-{threads}")),
            _ => dir.to_path_buf(),
        };
        if step == "durable-threads" {
            settle();
        }
        let mut child = Command::new(bin);
        child
            .args(["run", "--store", store, "--workload", step, "--n"])
            .arg(n.to_string())
            .arg("--threads")
            .arg(threads.to_string())
            .arg("--dir")
            .arg(&step_dir);
        let out = match cmd::output(&mut child) {
            Ok(out) => out,
            Err(e) => {
                outcome = Err(format!("could not run {}: {e}", bin.display()));
                break;
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let unavailable = stdout.lines().find_map(|l| l.strip_prefix("UNAVAILABLE\t"));
        if let Some(why) = unavailable.filter(|_| out.status.success()) {
            missing = Some(why.to_owned());
            break;
        }
        match Measure::parse(&stdout) {
            Some(m) if out.status.success() => measures.push(m),
            _ => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let mut last: Vec<&str> = stderr.lines().rev().take(5).collect();
                last.reverse();
                outcome = Err(format!(
                    "{step} failed ({}): {}",
                    cmd::describe(out.status),
                    last.join(" / ")
                ));
                break;
            }
        }
    }
    if let Err(e) = std::fs::remove_dir_all(dir) {
        eprintln!("warning: could not remove {}: {e}", dir.display());
    }
    outcome.map(|()| match missing {
        Some(why) => Ran::Unavailable(why),
        None => Ran::Measures(measures),
    })
}

#[cfg(test)]
mod tests {
    use super::super::args::{FULL, QUICK};
    use super::super::jobs::WORKLOADS;
    use super::*;

    #[test]
    fn result_lines_parse_and_reopens_take_two_processes() {
        let m = Measure::parse("noise\nRESULT\tstore=sled\tsecs=1.5\tops=3\n").unwrap();
        assert_eq!(m.0["store"], "sled");
        assert_eq!((m.get("secs"), m.get("ops")), (1.5, 3.0));
        assert!(m.get("missing").is_nan());
        assert_eq!(Measure::parse("no result"), None);
        assert_eq!(
            steps("reopen", QUICK),
            [("setup", 100_000, 1), ("reopen", 100_000, 1)]
        );
        assert_eq!(
            steps("churn", FULL),
            [("churn", 100_000, 1), ("reopen", 100_000, 1)]
        );
        assert_eq!(steps("durable", FULL), [("durable", 5_000, 1)]);
        let threads: Vec<u32> = steps("durable-threads", QUICK)
            .iter()
            .map(|&(w, n, t)| {
                assert_eq!((w, n), ("durable-threads", QUICK.durable_threads));
                t
            })
            .collect();
        assert_eq!(threads, [1, 2, 4, 8, 16, 32]);
        for workload in WORKLOADS {
            assert!(!steps(workload, FULL).is_empty());
        }
    }
}
