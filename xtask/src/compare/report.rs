//! What `cargo xtask compare` writes: the Markdown tables of the figures
//! ([`super::figures`]) with their ratios to indexmap_store, and
//! `REPORT.md` itself (the machine description is [`super::machine`]'s, the
//! charts [`super::svg`]'s, the prose [`super::text`]'s).

use std::fmt::Write as _;
use std::path::Path;

use super::figures::{
    METRICS, Metric, PEAK_RSS, Unit, Value, format_value, headline, mib, sig3, value,
};
use super::{Job, Sizes, machine, svg};

/// A store's cell: its figure, and its ratio to the baseline's when there
/// is one (`0.203x` means 0.203 times indexmap_store's figure).
pub fn cell(v: Option<Value>, baseline: Option<f64>, is_baseline: bool) -> String {
    match (v, baseline) {
        (None, _) => "failed".into(),
        (Some(v), Some(b)) if !is_baseline && b != 0.0 => {
            format!("{} ({}x)", format_value(&v), sig3(v.0 / b))
        }
        (Some(v), _) => format_value(&v),
    }
}

/// The footnote mark (` [1]`) of a (store, workload) whose figure needs
/// one, else nothing.
pub fn mark(store: &str, workload: &str) -> String {
    let found = super::text::NOTES
        .iter()
        .position(|(s, w, _, _)| *s == store && *w == workload);
    found.map_or(String::new(), |i| format!(" [{}]", i + 1))
}

/// The footnotes of the table, for the (store, workload) pairs it shows.
fn footnotes(stores: &[&str], workloads: &[&str]) -> String {
    let mut text = String::new();
    for (i, (store, workload, _, note)) in super::text::NOTES.iter().enumerate() {
        if stores.contains(store) && workloads.contains(workload) {
            let _ = writeln!(text, "[{}] {store}, {workload}: {note}\n", i + 1);
        }
    }
    text
}

/// The stores of `asked` (in its order) with at least one job that ran or
/// failed: a store whose every job was unavailable (a hook not filled) or
/// unsupported gets no column.
pub fn columns(asked: &[&'static str], jobs: &[Job]) -> Vec<&'static str> {
    asked
        .iter()
        .copied()
        .filter(|s| {
            jobs.iter()
                .any(|j| j.store == *s && j.unavailable.is_none())
        })
        .collect()
}

/// One Markdown row per metric of `workloads`, one column per store
/// (`n/a` where the store does not run the workload).
fn rows(stores: &[&str], workloads: &[&str], jobs: &[Job], metrics: &[&Metric]) -> String {
    let mut text = format!("| workload | figure | better | {} |\n", stores.join(" | "));
    text.push_str(&format!("|---|---|---|{}\n", "---:|".repeat(stores.len())));
    for workload in workloads {
        for metric in metrics
            .iter()
            .filter(|m| m.workload.is_empty() || m.workload == *workload)
        {
            let job = |store: &str| {
                jobs.iter()
                    .find(|j| j.store == store && j.workload == *workload)
            };
            let values: Vec<Option<Value>> = stores
                .iter()
                .map(|s| {
                    job(s)
                        .and_then(|j| value(metric, j))
                        .map(|x| Value(x, metric.unit))
                })
                .collect();
            let baseline = (stores.first() == Some(&"indexmap_store"))
                .then(|| values[0].map(|v| v.0))
                .flatten();
            let cells: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let marked = metric.label == headline(workload).label;
                    let note = if marked {
                        mark(stores[i], workload)
                    } else {
                        String::new()
                    };
                    match job(stores[i]) {
                        None => "n/a".to_owned(),
                        Some(j) if j.unavailable.is_some() => "n/a".to_owned(),
                        Some(_) => format!("{}{note}", cell(*v, baseline, i == 0)),
                    }
                })
                .collect();
            let better = if metric.higher_is_better {
                "higher"
            } else {
                "lower"
            };
            let _ = writeln!(
                text,
                "| {workload} | {} | {better} | {} |",
                metric.label,
                cells.join(" | ")
            );
        }
    }
    text
}

/// The table of every figure with its footnotes, then the table of peak
/// memory.
pub fn markdown_table(stores: &[&str], workloads: &[&str], jobs: &[Job]) -> String {
    let figures: Vec<&Metric> = METRICS.iter().collect();
    format!(
        "{}\n{}Peak resident memory of the timed process:\n\n{}",
        rows(stores, workloads, jobs, &figures),
        footnotes(stores, workloads),
        rows(stores, workloads, jobs, &[&PEAK_RSS])
    )
}

/// What the report says about the run besides the figures.
pub struct Context<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// The sizes used.
    pub sizes: Sizes,
    /// Repetitions of each (store, workload).
    pub runs: u32,
    /// The flags of this run that change what was measured (`--quick`,
    /// sizes, `--runs`), as typed after `cargo xtask compare`.
    pub flags: String,
    /// The stores run.
    pub stores: &'a [&'static str],
    /// The workloads run.
    pub workloads: &'a [&'static str],
    /// The file system the stores' directories were on.
    pub filesystem: String,
    /// Seconds per `write` + `fdatasync` there: appended, and into a file
    /// of preset length.
    pub sync_costs: (f64, f64),
    /// Seconds the runs took.
    pub wall_secs: f64,
}

/// Writes `REPORT.md` and one chart per workload into `out`.
pub fn write(out: &Path, cx: &Context, jobs: &[Job]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let date = machine::now();
    let mut md = String::from(
        "# indexmap_store compared with crates.io indexmap_store 0.2.3, sled, redb, fjall and \
         pickledb\n\n",
    );
    md.push_str(&super::text::intro(cx));
    md.push_str(&machine::describe(cx, &date));
    md.push_str("\n## Results\n\n");
    md.push_str(super::text::LEGEND);
    md.push_str(&markdown_table(cx.stores, cx.workloads, jobs));
    md.push_str(&super::targets::section(jobs));
    md.push_str(&super::targets::unavailable(jobs));
    md.push_str("\n## Charts\n\n");
    for workload in cx.workloads {
        let subtitle = format!(
            "{}; best of {} run(s); {}; cargo xtask compare{}",
            super::text::size_of(workload, cx.sizes),
            cx.runs,
            &date[..10],
            cx.flags
        );
        let chart = match *workload {
            "durable-threads" => svg::threads_chart(&subtitle, cx.stores, jobs),
            _ => {
                let stores: Vec<&str> = cx
                    .stores
                    .iter()
                    .copied()
                    .filter(|s| super::supports(s, workload))
                    .collect();
                svg::workload_chart(workload, &subtitle, &stores, jobs)
            }
        };
        let path = out.join(format!("{workload}.svg"));
        std::fs::write(&path, chart).map_err(|e| format!("write {}: {e}", path.display()))?;
        let _ = writeln!(md, "![{workload}]({workload}.svg)\n");
    }
    md.push_str(super::text::WHAT_EACH_STORE_DID);
    md.push_str(super::notes::LEGACY_AND_FLOORS);
    md.push_str(super::text::CAVEATS);
    md.push_str(&raw_results(jobs));
    let path = out.join("REPORT.md");
    std::fs::write(&path, md).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Every process's result line as a table.
fn raw_results(jobs: &[Job]) -> String {
    let mut text = String::from(
        "\n## Every process\n\nOne row per process (`secs` is the timed part; `disk` is the sum \
         of the file sizes in the store's directory after it closed, `allocated` the blocks \
         allocated to them, as `du` counts).\n\n\
         | store | workload | run | process | n | secs | ops/s | close secs | peak RSS | disk | allocated | check |\n\
         |---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for job in jobs {
        if let Some(why) = &job.unavailable {
            let why = why.replace('|', "/");
            let _ = writeln!(
                text,
                "| {} | {} | not available: {why} | | | | | | | | | |",
                job.store, job.workload
            );
        }
        if let Some(error) = &job.error {
            let error = error.replace('|', "/");
            let _ = writeln!(
                text,
                "| {} | {} | failed: {error} | | | | | | | | | |",
                job.store, job.workload
            );
        }
        for (run, measures) in job.runs.iter().enumerate() {
            for m in measures {
                let f = |k: &str| m.0.get(k).cloned().unwrap_or_default();
                let _ = writeln!(
                    text,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    job.store,
                    job.workload,
                    run + 1,
                    f("workload"),
                    f("n"),
                    format_value(&Value(m.get("secs"), Unit::Secs)),
                    format_value(&Value(m.get("ops_per_sec"), Unit::PerSec)),
                    format_value(&Value(m.get("close_secs"), Unit::Secs)),
                    mib(m.get("peak_rss_bytes")),
                    mib(m.get("disk_bytes")),
                    mib(m.get("alloc_bytes")),
                    f("check"),
                );
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::Measure;
    use super::super::figures::median;
    use super::*;

    fn job(store: &'static str, workload: &'static str, fields: &str) -> Job {
        let m = Measure::parse(&format!("RESULT\t{}", fields.replace(' ', "\t"))).unwrap();
        Job {
            store,
            workload,
            runs: vec![vec![m]],
            ..Job::default()
        }
    }

    #[test]
    fn cells_carry_the_ratio_to_the_baseline() {
        let v = Some(Value(150_000.0, Unit::PerSec));
        assert_eq!(cell(v, Some(600_000.0), false), "150 k/s (0.25x)");
        assert_eq!(cell(v, Some(600_000.0), true), "150 k/s");
        assert_eq!(cell(v, None, false), "150 k/s");
        assert_eq!(cell(None, Some(1.0), false), "failed");
    }

    #[test]
    fn the_table_has_a_row_per_figure_and_a_column_per_store() {
        let jobs = [
            job(
                "indexmap_store",
                "get",
                "ops_per_sec=2000000 peak_rss_bytes=1048576",
            ),
            job("sled", "get", "ops_per_sec=500000 peak_rss_bytes=4194304"),
            Job {
                store: "redb",
                workload: "get",
                error: Some("boom".into()),
                ..Job::default()
            },
            Job {
                store: "fjall",
                workload: "get",
                unavailable: Some("hook".into()),
                ..Job::default()
            },
        ];
        // pickledb has no job (it does not run the workload), fjall's is
        // unavailable: both are n/a, and fjall gets no column at all.
        let asked = ["indexmap_store", "sled", "redb", "fjall", "pickledb"];
        assert_eq!(columns(&asked, &jobs), ["indexmap_store", "sled", "redb"]);
        let stores = ["indexmap_store", "sled", "redb", "fjall", "pickledb"];
        let table = markdown_table(&stores, &["get"], &jobs);
        let expected = "\
| workload | figure | better | indexmap_store | sled | redb | fjall | pickledb |
|---|---|---|---:|---:|---:|---:|---:|
| get | gets/s | higher | 2.00 M/s | 500 k/s (0.25x) | failed | n/a | n/a |

Peak resident memory of the timed process:

| workload | figure | better | indexmap_store | sled | redb | fjall | pickledb |
|---|---|---|---:|---:|---:|---:|---:|
| get | peak RSS | lower | 1.00 MiB | 4.00 MiB (4.00x) | failed | n/a | n/a |
";
        assert_eq!(table, expected);
    }

    #[test]
    fn figures_are_the_best_runs_and_notes_are_marked() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, f64::NAN, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        let m = |ops: &str| Measure::parse(&format!("RESULT\tops_per_sec={ops}")).unwrap();
        let runs = vec![vec![m("30")], vec![m("10")], vec![m("20")]];
        let sled = Job {
            store: "sled",
            workload: "durable",
            runs,
            ..Job::default()
        };
        assert_eq!(value(headline("durable"), &sled), Some(30.0));
        let secs = |x: &str| Measure::parse(&format!("RESULT\tsecs={x}")).unwrap();
        let reopen = Job {
            workload: "reopen",
            runs: vec![vec![secs("3")], vec![secs("1")], vec![secs("2")]],
            ..sled.clone()
        };
        assert_eq!(value(headline("reopen"), &reopen), Some(1.0));
        let table = markdown_table(&["sled"], &["durable"], &[sled]);
        assert!(
            table.contains("| durable | durable inserts/s | higher | 30.0 /s [1] |"),
            "{table}"
        );
        assert!(
            table.contains("\n[1] sled, durable: sled 0.34's `flush()`"),
            "{table}"
        );
        assert!(!table.contains("[2]"), "{table}");
        assert_eq!(super::super::text::thousands(1_234_567), "1,234,567");
        assert_eq!(super::super::text::thousands(100), "100");
    }
}
