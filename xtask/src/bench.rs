//! `cargo xtask bench`: runs the three criterion benches, echoing their
//! output, keeps the lines of the `... bench summary` block each one prints
//! at its end (every figure against its floor), and ends with all of them
//! in one table and the path of criterion's HTML report.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::args::BenchArgs;
use crate::cmd;
use crate::table::table;

/// The `bench` lines of the help text.
pub const USAGE: &str = "\
Usage: cargo xtask bench [--quick]
  --quick       BENCH_QUICK=1 (smaller data) and shorter criterion times
";

/// One bench: package, bench target, and the criterion arguments that
/// shorten it under `--quick`.
struct Bench {
    package: &'static str,
    bench: &'static str,
    quick_args: &'static [&'static str],
}

/// Every bench, cheapest first.
const BENCHES: [Bench; 3] = [
    Bench {
        package: "wal-format",
        bench: "frame",
        quick_args: &["--warm-up-time", "1", "--measurement-time", "2"],
    },
    // These two size their data and their slow groups by BENCH_QUICK.
    Bench {
        package: "wal-io",
        bench: "wal",
        quick_args: &[],
    },
    Bench {
        package: "indexmap_store",
        bench: "store",
        quick_args: &[],
    },
];

/// Collects the indented lines after a `... bench summary ...:` heading.
#[derive(Debug, Default)]
struct SummaryReader {
    in_block: bool,
    lines: Vec<String>,
}

impl SummaryReader {
    fn feed(&mut self, line: &str) {
        if line.contains(" bench summary") && line.trim_end().ends_with(':') {
            self.in_block = true;
        } else if self.in_block {
            match line.strip_prefix("  ") {
                Some(entry) if !entry.trim().is_empty() => self.lines.push(entry.trim().to_owned()),
                _ => self.in_block = false,
            }
        }
    }
}

/// A summary line in table form: figure, its time, floor, its time, ratio,
/// target; `None` for a line that compares nothing.
fn parse_line(line: &str) -> Option<[String; 6]> {
    if let Some(rest) = line.strip_prefix("ratio ") {
        // ratio S vs F: Rx what (best samples Bx; median s vs f per iteration; verdict) [notes]
        let (subject, rest) = rest.split_once(" vs ")?;
        let (floors, rest) = rest.split_once(": ")?;
        let (ratio, rest) = rest.split_once(" (")?;
        let (inside, notes) = rest.split_once(')')?;
        let parts: Vec<&str> = inside.split("; ").collect();
        let medians = parts.iter().find_map(|p| p.strip_prefix("median "));
        let (s_time, f_time) = medians
            .and_then(|m| m.trim_end_matches(" per iteration").split_once(" vs "))
            .unwrap_or(("", ""));
        let verdict = parts.last().copied().unwrap_or("");
        let target = verdict
            .strip_prefix("target ")
            .unwrap_or(verdict)
            .replace(": ", " ");
        let group = subject.rsplit_once('/').map_or("", |(g, _)| g);
        let short = |f: &str| {
            let f = f.trim();
            f.strip_prefix(group)
                .and_then(|f| f.strip_prefix('/'))
                .unwrap_or(f)
                .to_owned()
        };
        let floor: Vec<String> = floors.split(" + ").map(short).collect();
        let mark = if notes.trim().is_empty() { "" } else { " *" };
        return Some([
            subject.to_owned(),
            s_time.to_owned(),
            floor.join(" + "),
            f_time.to_owned(),
            format!("{ratio}{mark}"),
            target,
        ]);
    }
    // memory: store X MiB vs IndexMap Y MiB, ratio Z (...)
    let (subject, rest) = line.split_once(" vs ")?;
    let (floor, rest) = rest.split_once(", ratio ")?;
    let ratio = rest.split_whitespace().next()?;
    let (what, amount) = subject
        .rsplit_once(' ')
        .map_or((subject, ""), |(w, u)| (w, u));
    let (what, number) = what.rsplit_once(' ').map_or((what, ""), |(w, n)| (w, n));
    let (floor_what, floor_amount) = floor.split_once(' ').unwrap_or((floor, ""));
    Some([
        what.to_owned(),
        format!("{number} {amount}"),
        floor_what.to_owned(),
        floor_amount.to_owned(),
        ratio.to_owned(),
        String::new(),
    ])
}

/// The whole task; `Ok(false)` when a bench failed.
pub fn run(root: &Path, args: &BenchArgs) -> Result<bool, String> {
    let start = Instant::now();
    let mut rows = Vec::new();
    let mut other = Vec::new();
    let mut failed = Vec::new();
    let mut times = Vec::new();
    for b in &BENCHES {
        let mut bench = Command::new("cargo");
        bench
            .args(["bench", "-p", b.package, "--bench", b.bench])
            .current_dir(root);
        if args.quick {
            bench.env("BENCH_QUICK", "1");
            if !b.quick_args.is_empty() {
                bench.arg("--").args(b.quick_args);
            }
        }
        let mut summary = SummaryReader::default();
        let began = Instant::now();
        let status = cmd::run_with_stderr(&mut bench, |line| {
            eprintln!("{line}");
            summary.feed(line);
        })
        .map_err(|e| format!("could not run cargo bench: {e}"))?;
        times.push(format!(
            "{} {:.0} s",
            b.bench,
            began.elapsed().as_secs_f64()
        ));
        if !status.success() {
            failed.push(format!("{} ({})", b.bench, cmd::describe(status)));
        }
        for line in summary.lines {
            match parse_line(&line) {
                Some(row) => rows.push(row.to_vec()),
                None => other.push(line),
            }
        }
    }

    let headers = ["figure", "time", "floor", "floor time", "ratio", "target"];
    eprintln!(
        "\nbench summary (figure vs floor; ratio of medians):\n{}",
        table(&headers, &rows)
    );
    if rows.iter().any(|r| r[4].ends_with(" *")) {
        eprintln!(
            "* the bench printed a note on how this figure was measured (see its output above)"
        );
    }
    for line in &other {
        eprintln!("{line}");
    }
    let missed = rows.iter().filter(|r| r[5].contains("MISSED")).count();
    let stated = rows
        .iter()
        .filter(|r| r[5].starts_with(">=") || r[5].starts_with("<="))
        .count();
    eprintln!(
        "\ntargets: {} of {stated} met, {missed} missed",
        stated - missed
    );
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), Into::into);
    let report = target_dir
        .join("criterion")
        .join("report")
        .join("index.html");
    if report.exists() {
        eprintln!("criterion's HTML report: {}", report.display());
    } else {
        eprintln!("criterion's HTML report: none at {}", report.display());
    }
    eprintln!(
        "time: {:.0} s ({})",
        start.elapsed().as_secs_f64(),
        times.join(", ")
    );
    if !failed.is_empty() {
        eprintln!("failed: {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_block_is_collected() {
        let mut r = SummaryReader::default();
        for line in [
            "ratio x vs y: 1x",
            "",
            "wal bench summary (Quick):",
            "  ratio a vs b: 2x",
            "  memory: m",
            "",
            "  later",
        ] {
            r.feed(line);
        }
        assert_eq!(r.lines, ["ratio a vs b: 2x", "memory: m"]);
    }

    #[test]
    fn ratio_lines_become_rows() {
        let line = "ratio store/insert/store_insert vs store/insert/floor_a_indexmap + \
                    store/insert/floor_b: 0.912x throughput (best samples 0.950x; median 1.100 µs \
                    vs 1.003 µs per iteration; target >= 0.8: met) [store/insert/floor_b: one run]";
        let row = parse_line(line).unwrap();
        assert_eq!(
            row,
            [
                "store/insert/store_insert",
                "1.100 µs",
                "floor_a_indexmap + floor_b",
                "1.003 µs",
                "0.912x throughput *",
                ">= 0.8 met"
            ]
        );
        let reference = parse_line(
            "ratio frame/16B/decode vs frame/16B/crc_floor: 0.500x throughput (best samples \
             0.6x; median 20.0 ns vs 10.0 ns per iteration; reference)",
        );
        assert_eq!(reference.unwrap()[5], "reference");
    }

    #[test]
    fn memory_lines_become_rows_and_others_do_not() {
        let line = "memory: store 12.5 MiB vs IndexMap 10.0 MiB, ratio 1.250 (100000 entries)";
        let row = parse_line(line).unwrap();
        assert_eq!(
            row,
            [
                "memory: store",
                "12.5 MiB",
                "IndexMap",
                "10.0 MiB",
                "1.250",
                ""
            ]
        );
        assert_eq!(
            parse_line("replay memory: log 8.0 MiB; peak growth 1.0 MiB"),
            None
        );
    }
}
