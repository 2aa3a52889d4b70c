//! `cargo xtask compare`: builds `compare/` (its own cargo workspace, so
//! sled, redb, fjall, pickledb and crates.io indexmap_store 0.2.3 never
//! reach the main one; the first build fetches them from crates.io), runs
//! every workload on every store that [`supports`] it, each (store,
//! workload) in its own processes in
//! a fresh directory under `compare/target/runs/`, prints a Markdown table
//! of the figures (the best of the runs) and their ratios to indexmap_store,
//! and writes `docs/compare/REPORT.md` with one SVG chart per workload
//! ([`args`] reads the command line, [`jobs`] holds the stores, the
//! workloads and which store runs which, [`runner`] runs the processes,
//! [`figures`] reads them, [`report`], [`svg`] and [`text`] write them up).
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

mod args;
mod figures;
mod jobs;
mod machine;
mod notes;
mod report;
mod runner;
mod svg;
mod targets;
mod text;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::cmd;
pub use args::{CompareArgs, DEFAULT_RUNS, Sizes, USAGE};
use figures::Value;
pub use jobs::{Job, STORES, THREADS, supports};
pub use runner::Measure;
use runner::{run_job, settle, sync_cost};

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
