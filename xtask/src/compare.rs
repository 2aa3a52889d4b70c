//! `cargo xtask compare`: builds `compare/` (its own cargo workspace, so
//! sled, redb, fjall, pickledb and crates.io indexmap_store 0.2.3 never
//! reach the main one; the first build fetches them from crates.io), runs
//! every workload on every store that [`supports`] it, each (store,
//! workload) in its own processes in
//! a fresh directory under `compare/target/runs/`, prints a Markdown table
//! of the figures (the best of the runs) and their ratios to indexmap_store,
//! and writes `docs/compare/REPORT.md` with one SVG chart per workload
//! ([`runner`] runs the processes, [`figures`] reads them, [`report`],
//! [`svg`] and [`text`] write them up).
//!
//! A reopen is two processes on one directory: one loads and closes, a
//! fresh one opens, so the page cache is warm but no in-process cache is.
//! `churn` is followed the same way by a reopen of what it left. Before
//! each (store, workload), `sync` writes back what earlier ones left dirty
//! in the page cache, so that no run pays for another's writes. The runs
//! go round all (store, workload) pairs once per repetition, so a passing
//! disturbance spoils one repetition, not all three of one figure; each
//! figure is the best of its runs.
//!
//! Besides the stores, three reference "stores" run: the raw floors
//! `floor-append` and `floor-prealloc` run `durable` (one `write` +
//! `fdatasync` per record, no store), and `floor-group` runs
//! `durable-threads` (an ideal group commit of the same records, no store:
//! what group commit can gain on this machine). Two columns are policies of issue 16: `indexmap_store-shared`
//! (`SharedStore`, group commit; `durable-threads` only) and
//! `indexmap_store-buffered` (`Durability::Buffered`; `load-per-call`,
//! `churn`). A store the binary does not have answers `UNAVAILABLE` and
//! the report leaves it out.

mod figures;
mod machine;
mod notes;
mod report;
mod runner;
mod svg;
mod targets;
mod text;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::cmd;
use figures::Value;
pub use runner::Measure;
use runner::{run_job, settle, sync_cost};

/// The `compare` lines of the help text.
pub const USAGE: &str = "\
Usage: cargo xtask compare [--quick] [--runs N] [--stores LIST] [--workloads LIST] [--out DIR]
                           [--n N] [--durable N] [--durable-threads N] [--churn-keys N]
  --quick           small sizes (100k entries): about 3 minutes instead of 15-20
  --runs N          repetitions of each (store, workload); figures are the best (default 3)
  --stores LIST     comma-separated, of: indexmap_store,indexmap_store-buffered,
                    indexmap_store-shared,indexmap_store-prealloc,
                    indexmap_store-0.2.3,sled,redb,fjall,pickledb,
                    floor-append,floor-prealloc,floor-group
  --workloads LIST  comma-separated, of: load-per-call,load-batch,durable,
                    durable-threads,get,reopen,reopen-scan,churn
  --out DIR         where REPORT.md and the charts go (default: docs/compare)
  --n N             entries loaded, read and reopened (default 1000000, --quick 100000)
  --durable N       durable inserts on one thread (default 5000, --quick 1000)
  --durable-threads N  durable inserts shared by 1, 2, 4, ... 32 threads, for each
                    thread count (default 2000, --quick 1000)
  --churn-keys N    keys written 10 times each in churn (default 100000, --quick 20000)
The first run builds compare/ in release mode, fetching its crates from
crates.io (network access, a few minutes on 2 cores).
";

/// The stores, in the report's column order; the first is the baseline.
pub const STORES: [&str; 12] = [
    "indexmap_store",
    "indexmap_store-buffered",
    "indexmap_store-shared",
    "indexmap_store-prealloc",
    "indexmap_store-0.2.3",
    "sled",
    "redb",
    "fjall",
    "pickledb",
    "floor-append",
    "floor-prealloc",
    "floor-group",
];

/// The workloads, in the report's row order.
pub const WORKLOADS: [&str; 8] = [
    "load-per-call",
    "load-batch",
    "durable",
    "durable-threads",
    "get",
    "reopen",
    "reopen-scan",
    "churn",
];

/// The thread counts of `durable-threads`, one process each.
pub const THREADS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// Whether `store` runs `workload`: the floors only write durably (the
/// group floor from many threads), the `SharedStore` hook only runs
/// `durable-threads`, the `Buffered` hook the loads without sync;
/// `durable-threads` is run on indexmap_store (behind a mutex), its
/// `SharedStore`, the stores with a durable write shared by threads (sled,
/// redb, fjall) and the group floor.
pub fn supports(store: &str, workload: &str) -> bool {
    match (store, workload) {
        ("floor-append" | "floor-prealloc", w) => w == "durable",
        ("indexmap_store-shared" | "floor-group", w) => w == "durable-threads",
        ("indexmap_store-buffered", w) => w == "load-per-call" || w == "churn",
        ("indexmap_store-prealloc", w) => w == "durable" || w == "durable-threads",
        (s, "durable-threads") => ["indexmap_store", "sled", "redb", "fjall"].contains(&s),
        _ => true,
    }
}

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Entries loaded, read and reopened.
    pub n: u64,
    /// Writes in `durable`, each synced.
    pub durable: u64,
    /// Writes in `durable-threads` for each thread count, each synced.
    pub durable_threads: u64,
    /// Keys in `churn` (each written 10 times).
    pub churn_keys: u64,
}

/// The default run.
pub const FULL: Sizes = Sizes {
    n: 1_000_000,
    durable: 5_000,
    durable_threads: 2_000,
    churn_keys: 100_000,
};

/// Repetitions without `--runs`.
pub const DEFAULT_RUNS: u32 = 3;

/// `--quick`.
pub const QUICK: Sizes = Sizes {
    n: 100_000,
    durable: 1_000,
    durable_threads: 1_000,
    churn_keys: 20_000,
};

/// The arguments of `cargo xtask compare` (see [`USAGE`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CompareArgs {
    /// `--quick`.
    pub quick: bool,
    /// `--runs N`.
    pub runs: Option<u32>,
    /// `--stores`: the stores to run, in [`STORES`] order (empty: all).
    pub stores: Vec<&'static str>,
    /// `--workloads`: the workloads to run, in [`WORKLOADS`] order (empty: all).
    pub workloads: Vec<&'static str>,
    /// `--out DIR`.
    pub out: Option<PathBuf>,
    /// `--n`, `--durable`, `--durable-threads`, `--churn-keys`: sizes that
    /// replace those of [`FULL`] or [`QUICK`].
    pub n: Option<u64>,
    /// `--durable N`.
    pub durable: Option<u64>,
    /// `--durable-threads N`.
    pub durable_threads: Option<u64>,
    /// `--churn-keys N`.
    pub churn_keys: Option<u64>,
}

impl CompareArgs {
    /// Parses the arguments after `compare` (`--flag VALUE` or `--flag=VALUE`).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = CompareArgs::default();
        let mut args = crate::args::Args::new(args);
        while let Some((arg, flag, inline)) = args.next_arg() {
            let mut value = || args.value(flag, inline.clone());
            match flag {
                "--quick" if inline.is_none() => parsed.quick = true,
                "--runs" => parsed.runs = Some(crate::args::positive(flag, &value()?)?),
                "--stores" => parsed.stores = pick(flag, &value()?, &STORES)?,
                "--workloads" => parsed.workloads = pick(flag, &value()?, &WORKLOADS)?,
                "--out" => parsed.out = Some(PathBuf::from(value()?)),
                "--n" => parsed.n = Some(crate::args::positive(flag, &value()?)?),
                "--durable" => parsed.durable = Some(crate::args::positive(flag, &value()?)?),
                "--durable-threads" => {
                    parsed.durable_threads = Some(crate::args::positive(flag, &value()?)?);
                }
                "--churn-keys" => parsed.churn_keys = Some(crate::args::positive(flag, &value()?)?),
                _ => return Err(format!("unknown argument `{arg}`")),
            }
        }
        Ok(parsed)
    }

    /// The sizes of this run.
    pub fn sizes(&self) -> Sizes {
        let base = if self.quick { QUICK } else { FULL };
        Sizes {
            n: self.n.unwrap_or(base.n),
            durable: self.durable.unwrap_or(base.durable),
            durable_threads: self.durable_threads.unwrap_or(base.durable_threads),
            churn_keys: self.churn_keys.unwrap_or(base.churn_keys),
        }
    }

    /// The flags that change what is measured, as they would be typed
    /// (` --quick --n 5000`), for the report to say how it was made.
    pub fn flags(&self) -> String {
        let mut text = String::new();
        if self.quick {
            text.push_str(" --quick");
        }
        let sizes = [
            ("--runs", self.runs.map(u64::from)),
            ("--n", self.n),
            ("--durable", self.durable),
            ("--durable-threads", self.durable_threads),
            ("--churn-keys", self.churn_keys),
        ];
        for (flag, value) in sizes {
            if let Some(value) = value {
                text.push_str(&format!(" {flag} {value}"));
            }
        }
        text
    }

    /// The stores to run: those asked for, or all.
    pub fn stores(&self) -> Vec<&'static str> {
        if self.stores.is_empty() {
            STORES.to_vec()
        } else {
            self.stores.clone()
        }
    }

    /// The workloads to run: those asked for, or all.
    pub fn workloads(&self) -> Vec<&'static str> {
        if self.workloads.is_empty() {
            WORKLOADS.to_vec()
        } else {
            self.workloads.clone()
        }
    }
}

/// The names of the comma-separated `list` that are in `known`, in
/// `known`'s order, or an error naming `flag` and the first stranger.
fn pick(flag: &str, list: &str, known: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let asked: Vec<&str> = list.split(',').map(str::trim).collect();
    if let Some(bad) = asked.iter().find(|a| !known.contains(a)) {
        return Err(format!(
            "{flag}: unknown name `{bad}` (known: {})",
            known.join(",")
        ));
    }
    Ok(known
        .iter()
        .copied()
        .filter(|k| asked.contains(k))
        .collect())
}

/// What one (store, workload) produced: per run, a [`Measure`] per step;
/// or why it failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Job {
    /// The store.
    pub store: &'static str,
    /// The workload.
    pub workload: &'static str,
    /// The runs that succeeded: one [`Measure`] per step, in order.
    pub runs: Vec<Vec<Measure>>,
    /// The first failure; a job that failed once has no figure.
    pub error: Option<String>,
    /// Why this build cannot run it (a hook not filled): no figure, and the
    /// report leaves out a store none of whose jobs ran.
    pub unavailable: Option<String>,
}

/// What a run of `job` gave (its last run, `measures`), and the best so
/// far of the headline figure.
fn progress(job: &Job, measures: &Result<Vec<Measure>, String>) -> String {
    let measures = match measures {
        Err(e) => return format!("FAILED: {e}"),
        Ok(_) if job.unavailable.is_some() => return "not available in this build".into(),
        Ok(measures) => measures,
    };
    let headline = figures::headline(job.workload);
    let this = Value(
        figures::read(headline, job.workload, measures),
        headline.unit,
    );
    let best = figures::value(headline, job).map(|x| Value(x, headline.unit));
    let peak = figures::timed(job.workload, measures).get("peak_rss_bytes");
    format!(
        "{} {}, peak RSS {}; best of {} run(s): {}",
        figures::format_value(&this),
        headline.label,
        figures::mib(peak),
        job.runs.len(),
        best.map_or("-".into(), |v| figures::format_value(&v))
    )
}

/// The whole task; `Ok(false)` when a store failed a workload.
pub fn run(root: &Path, args: &CompareArgs) -> Result<bool, String> {
    let start = Instant::now();
    let compare = root.join("compare");
    let mut build = Command::new("cargo");
    build
        .args(["build", "--release", "--manifest-path"])
        .arg(compare.join("Cargo.toml"))
        .current_dir(root);
    cmd::step(&mut build, "building compare/")?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(compare.join("target"), Into::into);
    let bin = target.join("release").join("indexmap_store-compare");
    let runs_dir = compare.join("target").join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| format!("create {}: {e}", runs_dir.display()))?;
    let filesystem = machine::filesystem(&runs_dir);
    if filesystem.starts_with("tmpfs") || filesystem.starts_with("ramfs") {
        eprintln!(
            "warning: {} is on {filesystem}: the durable-write figures mean nothing there",
            runs_dir.display()
        );
    }

    settle();
    let sync_costs = sync_cost(&runs_dir)
        .map_err(|e| format!("timing fdatasync in {}: {e}", runs_dir.display()))?;
    eprintln!(
        "write + fdatasync of 130 bytes in {}: {:.3} ms appended, {:.3} ms into a preset length",
        runs_dir.display(),
        sync_costs.0 * 1e3,
        sync_costs.1 * 1e3
    );

    let sizes = args.sizes();
    let runs = args.runs.unwrap_or(DEFAULT_RUNS);
    let (stores, workloads) = (args.stores(), args.workloads());
    let mut jobs: Vec<Job> = workloads
        .iter()
        .flat_map(|&workload| {
            stores
                .iter()
                .filter(move |&&store| supports(store, workload))
                .map(move |&store| Job {
                    store,
                    workload,
                    ..Job::default()
                })
        })
        .collect();
    let total = jobs.len();
    for run in 1..=runs {
        for (i, job) in jobs.iter_mut().enumerate() {
            if job.error.is_some() || job.unavailable.is_some() {
                continue;
            }
            let began = Instant::now();
            let dir = runs_dir.join(format!("{}-{}", job.store, job.workload));
            let result = run_job(&bin, &dir, job.store, job.workload, sizes);
            match &result {
                Ok(runner::Ran::Measures(measures)) => job.runs.push(measures.clone()),
                Ok(runner::Ran::Unavailable(why)) => job.unavailable = Some(why.clone()),
                Err(e) => job.error = Some(e.clone()),
            }
            let result = result.map(|ran| match ran {
                runner::Ran::Measures(m) => m,
                runner::Ran::Unavailable(_) => Vec::new(),
            });
            eprintln!(
                "[run {run}/{runs}, {}/{total}] {} {}: {} ({:.1} s)",
                i + 1,
                job.store,
                job.workload,
                progress(job, &result),
                began.elapsed().as_secs_f64()
            );
        }
    }

    // The columns: the stores asked for that ran at least one job.
    let stores = report::columns(&stores, &jobs);
    let table = report::markdown_table(&stores, &workloads, &jobs);
    println!("\n{table}");
    println!("{}", targets::summary(&jobs));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("docs").join("compare"));
    let context = report::Context {
        root,
        sizes,
        runs,
        flags: args.flags(),
        stores: &stores,
        workloads: &workloads,
        filesystem,
        sync_costs,
        wall_secs: start.elapsed().as_secs_f64(),
    };
    report::write(&out, &context, &jobs)?;
    eprintln!(
        "report: {} ({:.0} s in all)",
        out.join("REPORT.md").display(),
        start.elapsed().as_secs_f64()
    );
    let failed: Vec<String> = jobs
        .iter()
        .filter(|j| j.error.is_some())
        .map(|j| format!("{} {}", j.store, j.workload))
        .collect();
    if !failed.is_empty() {
        eprintln!("failed: {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CompareArgs, String> {
        CompareArgs::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn compare_flags_parse() {
        let none = parse(&[]).unwrap();
        assert_eq!(none, CompareArgs::default());
        assert_eq!(
            (none.stores(), none.workloads()),
            (STORES.to_vec(), WORKLOADS.to_vec())
        );
        assert_eq!(none.sizes(), FULL);
        let all = parse(&[
            "--quick",
            "--stores",
            "redb,indexmap_store",
            "--workloads=get",
            "--out",
            "x",
        ])
        .unwrap();
        assert_eq!((all.sizes(), all.runs), (QUICK, None));
        assert_eq!(parse(&["--runs", "5"]).unwrap().runs, Some(5));
        // Listed in the report's order, whatever the order typed.
        assert_eq!(all.stores, ["indexmap_store", "redb"]);
        assert_eq!(all.workloads, ["get"]);
        assert_eq!(all.out, Some(PathBuf::from("x")));
        let sized = parse(&["--quick", "--durable-threads", "300", "--n=5000"]).unwrap();
        assert_eq!(sized.flags(), " --quick --n 5000 --durable-threads 300");
        assert_eq!(
            sized.sizes(),
            Sizes {
                n: 5_000,
                durable_threads: 300,
                ..QUICK
            }
        );
    }

    #[test]
    fn floors_and_hooks_run_only_their_workloads() {
        assert!(supports("floor-prealloc", "durable"));
        assert!(!supports("floor-append", "load-per-call"));
        assert!(supports("indexmap_store-shared", "durable-threads"));
        assert!(!supports("indexmap_store-shared", "durable"));
        assert!(supports("floor-group", "durable-threads"));
        assert!(!supports("floor-group", "durable"));
        assert!(!supports("floor-prealloc", "durable-threads"));
        assert!(supports("indexmap_store-buffered", "load-per-call"));
        assert!(!supports("indexmap_store-buffered", "durable-threads"));
        assert!(supports("indexmap_store-prealloc", "durable"));
        assert!(supports("indexmap_store-prealloc", "durable-threads"));
        assert!(!supports("indexmap_store-prealloc", "load-per-call"));
        assert!(supports("indexmap_store-0.2.3", "load-per-call"));
        assert!(!supports("indexmap_store-0.2.3", "durable-threads"));
        assert!(!supports("pickledb", "durable-threads"));
        for store in ["indexmap_store", "sled", "redb", "fjall"] {
            assert!(supports(store, "durable-threads"), "{store}");
        }
    }

    #[test]
    fn bad_compare_flags_are_refused() {
        for bad in [
            &["--stores"][..],
            &["--stores", "lmdb"],
            &["--workloads", "get,scan"],
            &["--quick=yes"],
            &["--runs", "0"],
            &["--durable-threads", "0"],
            &["--n", "many"],
            &["--slow"],
            &["get"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
