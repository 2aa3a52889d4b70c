//! Issue 16's performance targets, read off the figures of the run: one
//! thread durable against the raw floor and fjall, group commit against
//! fjall and redb at each thread count, and per-call loads against
//! crates.io indexmap_store 0.2.3. They are reported, as ratios, never
//! asserted: the figures come from a shared machine.

use std::fmt::Write as _;

use super::figures::{METRICS, Unit, Value, format_value, sig3, value};
use super::{Job, THREADS};

/// The best figure `label` of `store` in `workload`, if it ran.
fn figure(jobs: &[Job], store: &str, workload: &str, label: &str) -> Option<f64> {
    let metric = METRICS
        .iter()
        .find(|m| m.workload == workload && m.label == label)?;
    let job = jobs
        .iter()
        .find(|j| j.store == store && j.workload == workload)?;
    value(metric, job)
}

/// A rate, or `-`.
fn rate(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format_value(&Value(x, Unit::PerSec)))
}

/// One row of the targets table: `ours` against `want` times `peer`.
fn row(
    text: &mut String,
    target: &str,
    ours: (&str, Option<f64>),
    peer: (&str, Option<f64>),
    want: f64,
) {
    let (verdict, ratio) = match (ours.1, peer.1) {
        (Some(a), Some(b)) if b > 0.0 => {
            let met = if a / b >= want { "met" } else { "not met" };
            (met.to_owned(), sig3(a / b))
        }
        _ => ("not measured".to_owned(), "-".to_owned()),
    };
    let _ = writeln!(
        text,
        "| {target} | {} {} | {} {} | {ratio} (want ≥ {want}) | {verdict} |",
        ours.0,
        rate(ours.1),
        peer.0,
        rate(peer.1)
    );
}

/// The section of `REPORT.md` (also printed after the table).
pub fn section(jobs: &[Job]) -> String {
    let mut text = String::from(
        "\n## Issue 16's targets in this run\n\n\
         Ratios of the best runs above; a target is a ratio to another figure of the same \
         run, never an absolute rate. `not measured` means a side did not run (left out \
         with `--stores`/`--workloads`, or a hook not filled yet).\n\n\
         | target | indexmap_store | against | ratio | |\n|---|---|---|---|---|\n",
    );
    let durable = |store| figure(jobs, store, "durable", "durable inserts/s");
    let ours = ("indexmap_store", durable("indexmap_store"));
    row(
        &mut text,
        "one thread, durable: ≥ 0.95 x the raw floor",
        ours,
        ("floor-prealloc", durable("floor-prealloc")),
        0.95,
    );
    row(
        &mut text,
        "one thread, durable: ≥ fjall",
        ours,
        ("fjall", durable("fjall")),
        1.0,
    );
    let load = |store| figure(jobs, store, "load-per-call", "inserts/s");
    let old = ("0.2.3", load("indexmap_store-0.2.3"));
    row(
        &mut text,
        "`Buffered` per-call load: ≥ 0.2.3 at its defaults",
        ("buffered", load("indexmap_store-buffered")),
        old,
        1.0,
    );
    row(
        &mut text,
        "(today's default policy, for reference)",
        ("default", load("indexmap_store")),
        old,
        1.0,
    );
    let threads = |store, t: u32| {
        let label = format!(
            "{t} thread{}: durable inserts/s",
            if t > 1 { "s" } else { "" }
        );
        figure(jobs, store, "durable-threads", &label)
    };
    for t in THREADS {
        let shared = threads("indexmap_store-shared", t);
        let ours = match shared {
            Some(_) => ("shared", shared),
            None => ("mutex", threads("indexmap_store", t)),
        };
        for peer in ["fjall", "redb"] {
            row(
                &mut text,
                &format!("group commit, {t} thread(s): ≥ {peer}"),
                ours,
                (peer, threads(peer, t)),
                1.0,
            );
        }
    }
    // Group commit's own gain: 8 writers against 1, the same store and
    // workload in the same run.
    let shared = |t| threads("indexmap_store-shared", t);
    row(
        &mut text,
        "group commit, 8 threads: ≥ 5 x 1 thread",
        ("shared, 8 threads", shared(8)),
        ("shared, 1 thread", shared(1)),
        5.0,
    );
    text.push_str(
        "\nThe group-commit rows use the `SharedStore` (`shared`) when it ran, else a \
         `Mutex<IndexMapStore>` (`mutex`); the `Buffered` rows need `indexmap_store-buffered` \
         and `indexmap_store-0.2.3` in the run (`load-per-call`).\n",
    );
    text
}

/// Printed after the table: the targets.
pub fn summary(jobs: &[Job]) -> String {
    section(jobs)
}

/// A paragraph naming the (store, workload) pairs this build could not
/// run, with why; empty when there are none.
pub fn unavailable(jobs: &[Job]) -> String {
    let missing: Vec<String> = jobs
        .iter()
        .filter_map(|j| {
            let why = j.unavailable.as_ref()?;
            Some(format!("`{}` ({}): {why}", j.store, j.workload))
        })
        .collect();
    if missing.is_empty() {
        return String::new();
    }
    format!(
        "\nNot in this build, so not in the tables: {}.\n\n",
        missing.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::super::Measure;
    use super::*;

    fn job(store: &'static str, workload: &'static str, fields: &[&str]) -> Job {
        let runs = fields
            .iter()
            .map(|f| Measure::parse(&format!("RESULT\t{}", f.replace(' ', "\t"))).unwrap())
            .collect();
        Job {
            store,
            workload,
            runs: vec![runs],
            ..Job::default()
        }
    }

    #[test]
    fn targets_are_ratios_of_the_same_run() {
        let jobs = [
            job("indexmap_store", "durable", &["ops_per_sec=960"]),
            job("floor-prealloc", "durable", &["ops_per_sec=1000"]),
            job("fjall", "durable", &["ops_per_sec=1200"]),
            job(
                "indexmap_store",
                "durable-threads",
                &["threads=1 ops_per_sec=500", "threads=2 ops_per_sec=600"],
            ),
            job("redb", "durable-threads", &["threads=2 ops_per_sec=300"]),
            Job {
                store: "indexmap_store-shared",
                workload: "durable-threads",
                unavailable: Some("hook".into()),
                ..Job::default()
            },
        ];
        let text = section(&jobs);
        assert!(
            text.contains("| one thread, durable: ≥ 0.95 x the raw floor | indexmap_store 960 /s | floor-prealloc 1.00 k/s | 0.96 (want ≥ 0.95) | met |"),
            "{text}"
        );
        assert!(text.contains("| 0.80 (want ≥ 1) | not met |"), "{text}");
        assert!(
            text.contains("| group commit, 2 thread(s): ≥ redb | mutex 600 /s | redb 300 /s | 2.00 (want ≥ 1) | met |"),
            "{text}"
        );
        assert!(text.contains("| group commit, 4 thread(s): ≥ fjall | mutex - | fjall - | - (want ≥ 1) | not measured |"), "{text}");
        assert_eq!(
            unavailable(&jobs),
            "\nNot in this build, so not in the tables: `indexmap_store-shared` (durable-threads): hook.\n\n"
        );
    }
}
