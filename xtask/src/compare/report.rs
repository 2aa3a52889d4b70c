//! What `cargo xtask compare` writes: the Markdown tables of the figures
//! ([`super::figures`]) with their ratios to indexmap_store, the machine
//! description and `REPORT.md` itself (the charts are [`super::svg`]'s, the
//! prose [`super::text`]'s).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::figures::{
    METRICS, Metric, PEAK_RSS, Unit, Value, format_value, headline, mib, sig3, value,
};
use super::{Job, Sizes, svg};
use crate::cmd;

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

/// One Markdown row per metric of `workloads`, one column per store.
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
                    format!("{}{note}", cell(*v, baseline, i == 0))
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

/// The first line of `path` that starts with `key`, after the `:`.
fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The file system `path` is on (`ext4 (/dev/vda on /)`), from
/// `/proc/mounts`: the mount with the longest matching mount point.
pub fn filesystem(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && path.starts_with(f[1])).then(|| (f[1].len(), f))
        })
        .max_by_key(|(len, _)| *len)
        .map_or("unknown".into(), |(_, f)| {
            format!("{} ({} on {}, {})", f[2], f[0], f[1], f[3])
        })
}

/// `name = "version"` of every package in a `Cargo.lock`.
pub fn lock_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        let value = |l: &str| {
            l.split_once('=')
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        };
        if line.starts_with("name = ") {
            name = value(line);
        } else if line.starts_with("version = ")
            && let (Some(n), Some(v)) = (name.take(), value(line))
        {
            out.push((n, v));
        }
    }
    out
}

/// A civil UTC date and time from seconds since the Unix epoch.
pub fn utc(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m) = (secs % 86_400 / 3600, secs % 3600 / 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02} UTC")
}

/// The trimmed stdout of a probe command, or `unknown`.
fn probe(program: &str, args: &[&str], dir: &Path) -> String {
    let out = cmd::output(Command::new(program).args(args).current_dir(dir));
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => "unknown".into(),
    }
}

/// What the report says about the run besides the figures.
pub struct Context<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// The sizes used.
    pub sizes: Sizes,
    /// Repetitions of each (store, workload).
    pub runs: u32,
    /// Whether this was `--quick`.
    pub quick: bool,
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
    let date = now();
    let mut md = String::from("# indexmap_store compared with sled, redb, fjall and pickledb\n\n");
    md.push_str(&super::text::intro(cx));
    md.push_str(&machine(cx, &date));
    md.push_str("\n## Results\n\n");
    md.push_str(super::text::LEGEND);
    md.push_str(&markdown_table(cx.stores, cx.workloads, jobs));
    md.push_str("\n## Charts\n\n");
    for workload in cx.workloads {
        let subtitle = format!(
            "{}; best of {} run(s); {}; cargo xtask compare{}",
            super::text::size_of(workload, cx.sizes),
            cx.runs,
            &date[..10],
            if cx.quick { " --quick" } else { "" }
        );
        let chart = svg::workload_chart(workload, &subtitle, cx.stores, jobs);
        let path = out.join(format!("{workload}.svg"));
        std::fs::write(&path, chart).map_err(|e| format!("write {}: {e}", path.display()))?;
        let _ = writeln!(md, "![{workload}]({workload}.svg)\n");
    }
    md.push_str(super::text::WHAT_EACH_STORE_DID);
    md.push_str(super::text::CAVEATS);
    md.push_str(&raw_results(jobs));
    let path = out.join("REPORT.md");
    std::fs::write(&path, md).map_err(|e| format!("write {}: {e}", path.display()))
}

/// The date and time now, in UTC.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// The machine, toolchain and crate versions.
fn machine(cx: &Context, date: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let cpu = proc_field("/proc/cpuinfo", "model name").unwrap_or("unknown".into());
    let ram = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/version").unwrap_or("unknown".into());
    let rustc = probe("rustc", &["--version"], cx.root);
    let git = probe("git", &["describe", "--always", "--dirty"], cx.root);
    let lock =
        std::fs::read_to_string(cx.root.join("compare").join("Cargo.lock")).unwrap_or_default();
    let versions = lock_versions(&lock);
    let mut text = String::from("## Machine and versions\n\n");
    let _ = writeln!(text, "- Date: {date}");
    let _ = writeln!(text, "- CPU: {cpu}, {cores} cores; RAM: {ram}");
    let _ = writeln!(text, "- Kernel: {}", kernel.trim());
    let _ = writeln!(text, "- Stores' directories on: {}", cx.filesystem);
    let _ = writeln!(
        text,
        "- One `write` of 130 bytes + `fdatasync` there, timed before the runs (median of \
         1,000): {} appended to a growing file, {} into a file whose length was set \
         beforehand",
        format_value(&Value(cx.sync_costs.0, Unit::Secs)),
        format_value(&Value(cx.sync_costs.1, Unit::Secs)),
    );
    let _ = writeln!(
        text,
        "- Toolchain: {rustc}; release profile (`opt-level = 3`)"
    );
    for store in super::STORES {
        let version = versions.iter().find(|(n, _)| n == store);
        let version = version.map_or("(not in compare/Cargo.lock)", |(_, v)| v.as_str());
        match store {
            "indexmap_store" => writeln!(
                text,
                "- indexmap_store {version}: this repository at `{git}` (`-dirty`: with \
                 uncommitted changes)"
            ),
            _ => writeln!(text, "- {store} {version} (from `compare/Cargo.lock`)"),
        }
        .expect("writing to a String");
    }
    let _ = writeln!(
        text,
        "- Wall time of the runs: {:.0} s ({} stores x {} workloads x {} runs)",
        cx.wall_secs,
        cx.stores.len(),
        cx.workloads.len(),
        cx.runs
    );
    text
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
            error: None,
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
        ];
        let table = markdown_table(&["indexmap_store", "sled", "redb"], &["get"], &jobs);
        let expected = "\
| workload | figure | better | indexmap_store | sled | redb |
|---|---|---|---:|---:|---:|
| get | gets/s | higher | 2.00 M/s | 500 k/s (0.25x) | failed |

Peak resident memory of the timed process:

| workload | figure | better | indexmap_store | sled | redb |
|---|---|---|---:|---:|---:|
| get | peak RSS | lower | 1.00 MiB | 4.00 MiB (4.00x) | failed |
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
            error: None,
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

    #[test]
    fn lock_versions_and_dates_are_read() {
        let lock = "[[package]]\nname = \"sled\"\nversion = \"0.34.7\"\nsource = \"x\"\n\n\
                    [[package]]\nname = \"redb\"\nversion = \"4.6.0\"\n";
        let versions = lock_versions(lock);
        assert_eq!(versions[0], ("sled".to_owned(), "0.34.7".to_owned()));
        assert_eq!(versions[1], ("redb".to_owned(), "4.6.0".to_owned()));
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(utc(1_767_225_599), "2025-12-31 23:59 UTC");
    }
}
