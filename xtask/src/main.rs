//! Contributor tasks for the indexmap_store workspace, run as `cargo xtask <task>`
//! (the alias lives in `.cargo/config.toml`).
//!
//! `cargo xtask ci` runs exactly what CI runs: it executes `.ci/run`, the single
//! list of CI steps, so the two can never drift apart. `cargo xtask fuzz` runs
//! the libFuzzer targets under `fuzz/` (see [`mod@fuzz`]), `cargo xtask bench` the
//! benchmarks with one summary of every ratio (see [`mod@bench`]), `cargo xtask
//! compare` the same workloads on indexmap_store and on sled, redb, fjall and
//! pickledb, writing `docs/compare/REPORT.md` (see [`mod@compare`]).
//!
//! This file is the command line: the tasks, their arguments, the help text,
//! and the text table both `fuzz` and `bench` end with. [`cmd`] runs commands,
//! logging each one (`$ ...`) before it starts.

mod bench;
mod cmd;
mod compare;
mod fuzz;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Exit code for usage errors.
const USAGE_EXIT: u8 = 2;

/// A subcommand of `cargo xtask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    /// Run the CI gate (`.ci/run`).
    Ci,
    /// Run the fuzz targets.
    Fuzz,
    /// Run the benchmarks.
    Bench,
    /// Compare indexmap_store with other embedded stores.
    Compare,
    /// Print the help text.
    Help,
}

impl Task {
    /// Every task, in the order the help text lists them.
    const ALL: [Task; 5] = [Task::Ci, Task::Fuzz, Task::Bench, Task::Compare, Task::Help];

    /// The name typed on the command line.
    fn name(self) -> &'static str {
        match self {
            Task::Ci => "ci",
            Task::Fuzz => "fuzz",
            Task::Bench => "bench",
            Task::Compare => "compare",
            Task::Help => "help",
        }
    }

    /// One line for the help text.
    fn summary(self) -> &'static str {
        match self {
            Task::Ci => {
                "run every CI step (executes .ci/run): fmt, clippy, test, doc, cargo-deny, fuzz smoke"
            }
            Task::Fuzz => "run the fuzz targets (nightly + cargo-fuzz); keep what they find",
            Task::Bench => "run the benchmarks, then print every ratio to its floor in one table",
            Task::Compare => {
                "run our workloads on sled, redb, fjall, pickledb, indexmap_store 0.2.3 too; write docs/compare/"
            }
            Task::Help => "print this help",
        }
    }

    /// Parses a command-line task name (`-h` and `--help` mean `help`).
    fn parse(arg: &str) -> Option<Task> {
        match arg {
            "-h" | "--help" => Some(Task::Help),
            _ => Task::ALL.into_iter().find(|task| task.name() == arg),
        }
    }
}

/// The help text listing every task, and the arguments of those that take some.
fn help_text() -> String {
    let mut text = String::from(
        "Contributor tasks for the indexmap_store workspace.\n\n\
         Usage: cargo xtask <TASK> [ARGS...]\n\nTasks:\n",
    );
    for task in Task::ALL {
        text.push_str(&format!("  {:<9}{}\n", task.name(), task.summary()));
    }
    text.push('\n');
    text.push_str(fuzz::USAGE);
    text.push('\n');
    text.push_str(bench::USAGE);
    text.push('\n');
    text.push_str(compare::USAGE);
    text
}

/// The arguments of `cargo xtask fuzz` (see [`fuzz::USAGE`]).
#[derive(Debug, Default, PartialEq, Eq)]
struct FuzzArgs {
    /// One target, or all of them.
    target: Option<String>,
    /// `--time SECS`.
    time: Option<u64>,
    /// `--jobs N`.
    jobs: Option<u16>,
    /// `--smoke`.
    smoke: bool,
}

impl FuzzArgs {
    /// Parses the arguments after `fuzz` (`--flag VALUE` or `--flag=VALUE`).
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = FuzzArgs::default();
        let mut args = Args::new(args);
        while let Some((arg, flag, inline)) = args.next_arg() {
            let mut value = || args.value(flag, inline.clone());
            match flag {
                "--smoke" if inline.is_none() => parsed.smoke = true,
                "--time" => parsed.time = Some(positive(flag, &value()?)?),
                "--jobs" => parsed.jobs = Some(positive(flag, &value()?)?),
                _ if arg.starts_with('-') => return Err(format!("unknown argument `{arg}`")),
                _ if parsed.target.is_some() => {
                    return Err(format!("one target at most (got a second, `{arg}`)"));
                }
                _ => parsed.target = Some(arg.clone()),
            }
        }
        Ok(parsed)
    }

    /// Seconds of fuzzing per target.
    fn seconds(&self) -> u64 {
        self.time.unwrap_or(if self.smoke {
            fuzz::SMOKE_SECS
        } else {
            fuzz::DEFAULT_SECS
        })
    }
}

/// The arguments of a task, read as `--flag VALUE` or `--flag=VALUE`.
struct Args<'a> {
    rest: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    fn new(args: &'a [String]) -> Self {
        Self { rest: args.iter() }
    }

    /// The next argument, its flag (the part before a `=` for `--flag=…`,
    /// else the whole argument) and its inline value (after the `=`).
    fn next_arg(&mut self) -> Option<(&'a String, &'a str, Option<String>)> {
        let arg = self.rest.next()?;
        Some(match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (arg, flag, Some(value.to_owned())),
            _ => (arg, arg.as_str(), None),
        })
    }

    /// The value of `flag`: its inline value, else the next argument.
    fn value(&mut self, flag: &str, inline: Option<String>) -> Result<String, String> {
        inline
            .or_else(|| self.rest.next().cloned())
            .ok_or(format!("{flag} needs a value"))
    }
}

/// `value` as a whole number > 0, or an error naming `flag`.
fn positive<T: std::str::FromStr + Default + PartialOrd>(
    flag: &str,
    value: &str,
) -> Result<T, String> {
    match value.parse() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(format!("{flag} takes a whole number > 0, not `{value}`")),
    }
}

/// The arguments of `cargo xtask bench` (see [`bench::USAGE`]).
#[derive(Debug, Default, PartialEq, Eq)]
struct BenchArgs {
    /// `--quick`.
    quick: bool,
}

impl BenchArgs {
    /// Parses the arguments after `bench`.
    fn parse(args: &[String]) -> Result<Self, String> {
        match args.iter().find(|arg| *arg != "--quick") {
            Some(arg) => Err(format!("unknown argument `{arg}`")),
            None => Ok(BenchArgs {
                quick: !args.is_empty(),
            }),
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Lays `rows` out under `headers` as a text table: columns separated by
/// ` | `, a rule under the headers, numeric columns right-aligned.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .filter_map(|row| row.get(i))
            .map(|cell| cell.chars().count())
            .chain([headers[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..headers.len()).map(width).collect();
    let numeric: Vec<bool> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .all(|cell| cell.parse::<f64>().is_ok() || cell == "-" || cell.is_empty())
                && !rows.is_empty()
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| match numeric[i] {
                true => format!("{cell:>w$}", w = widths[i]),
                false => format!("{cell:<w$}", w = widths[i]),
            })
            .collect();
        format!("{}\n", padded.join(" | ").trim_end())
    };
    let mut text = line(headers.to_vec());
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    text.push_str(&format!("{}\n", rule.join("-+-")));
    for row in rows {
        let mut cells: Vec<&str> = row.iter().map(String::as_str).collect();
        cells.resize(headers.len(), "");
        text.push_str(&line(cells));
    }
    text
}

/// Runs `.ci/run` with bash, logging the command first, and passes on its exit code.
fn run_ci() -> ExitCode {
    let mut bash = Command::new("bash");
    bash.arg(Path::new(".ci").join("run"))
        .current_dir(workspace_root());
    match cmd::run(&mut bash) {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask ci: .ci/run failed ({status})");
            // A signal leaves no code; report a plain failure then.
            let code = status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .filter(|&c| c != 0);
            ExitCode::from(code.unwrap_or(1))
        }
        Err(err) => {
            eprintln!("xtask ci: could not start bash: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Passes a task's outcome on as the exit code: 1 for an error (printed)
/// or a failed check (a crash, a failed bench), 0 otherwise.
fn finish(task: Task, outcome: Result<bool, String>) -> ExitCode {
    if let Err(err) = &outcome {
        eprintln!("xtask {}: {err}", task.name());
    }
    ExitCode::from(u8::from(outcome != Ok(true)))
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(first) = args.first() else {
        eprint!("{}", help_text());
        return ExitCode::from(USAGE_EXIT);
    };
    let Some(task) = Task::parse(first) else {
        eprintln!("xtask: unknown task `{first}`\n");
        eprint!("{}", help_text());
        return ExitCode::from(USAGE_EXIT);
    };
    let rest = &args[1..];
    if task != Task::Help && rest.iter().any(|a| a == "-h" || a == "--help") {
        print!("{}", help_text());
        return ExitCode::SUCCESS;
    }
    let usage_error = |err: String| {
        eprintln!("xtask {}: {err}\n", task.name());
        eprint!("{}", help_text());
        ExitCode::from(USAGE_EXIT)
    };
    match task {
        Task::Help => {
            print!("{}", help_text());
            ExitCode::SUCCESS
        }
        Task::Ci if !rest.is_empty() => {
            usage_error(format!("takes no arguments (got `{}`)", rest.join(" ")))
        }
        Task::Ci => run_ci(),
        Task::Fuzz => match FuzzArgs::parse(rest) {
            Ok(fuzz_args) => finish(task, fuzz::run(&workspace_root(), &fuzz_args)),
            Err(err) => usage_error(err),
        },
        Task::Bench => match BenchArgs::parse(rest) {
            Ok(bench_args) => finish(task, bench::run(&workspace_root(), &bench_args)),
            Err(err) => usage_error(err),
        },
        Task::Compare => match compare::CompareArgs::parse(rest) {
            Ok(compare_args) => finish(task, compare::run(&workspace_root(), &compare_args)),
            Err(err) => usage_error(err),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_parses_from_its_name() {
        for task in Task::ALL {
            assert_eq!(Task::parse(task.name()), Some(task));
        }
        assert_eq!(Task::parse("--help"), Some(Task::Help));
        assert_eq!(Task::parse("nope"), None);
    }

    #[test]
    fn help_lists_every_task_and_the_fuzz_bench_and_compare_flags() {
        let help = help_text();
        for task in Task::ALL {
            assert!(help.contains(task.name()), "{help}");
        }
        for flag in [
            "--time SECS",
            "--jobs N",
            "--smoke",
            "--quick",
            "--stores",
            "--out DIR",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }

    #[test]
    fn ci_script_runs_the_readme_test_command_and_the_fuzz_smoke_run() {
        let script = std::fs::read_to_string(workspace_root().join(".ci/run")).unwrap();
        assert!(script.contains("cargo test --workspace"));
        assert!(
            script.contains("\nstep 'cargo xtask fuzz --smoke'"),
            "{script}"
        );
    }

    fn parse(args: &[&str]) -> Result<FuzzArgs, String> {
        FuzzArgs::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn fuzz_flags_parse() {
        assert_eq!(parse(&[]).unwrap(), FuzzArgs::default());
        assert_eq!(parse(&[]).unwrap().seconds(), 60);
        let smoke = parse(&["--smoke"]).unwrap();
        assert!(smoke.smoke && smoke.seconds() == 30);
        let all = parse(&["store_ops", "--time", "5", "--jobs=2", "--smoke"]).unwrap();
        assert_eq!(all.target.as_deref(), Some("store_ops"));
        assert_eq!((all.time, all.jobs, all.seconds()), (Some(5), Some(2), 5));
        assert_eq!(parse(&["--time=7"]).unwrap().time, Some(7));
    }

    #[test]
    fn bad_fuzz_flags_are_refused() {
        for bad in [
            &["--time"][..],
            &["--time", "0"],
            &["--time", "soon"],
            &["--jobs", "-1"],
            &["--jobs", "70000"],
            &["--fast"],
            &["a", "b"],
            &["--smoke=yes"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bench_flags_parse() {
        let parse =
            |a: &[&str]| BenchArgs::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(parse(&[]), Ok(BenchArgs { quick: false }));
        assert_eq!(parse(&["--quick"]), Ok(BenchArgs { quick: true }));
        assert!(parse(&["--slow"]).is_err());
    }

    #[test]
    fn table_aligns_columns_and_right_aligns_numbers() {
        let rows = vec![
            vec!["store_ops".to_owned(), "31".to_owned(), "ok".to_owned()],
            vec!["recover".to_owned(), "7".to_owned(), "CRASH".to_owned()],
        ];
        let text = table(&["target", "seconds", "result"], &rows);
        let expected = "\
target    | seconds | result
----------+---------+-------
store_ops |      31 | ok
recover   |       7 | CRASH
";
        assert_eq!(text, expected);
    }

    #[test]
    fn table_pads_short_rows_and_handles_no_rows() {
        let text = table(&["a", "b"], &[vec!["x".to_owned()]]);
        assert_eq!(text, "a | b\n--+--\nx |\n");
        assert_eq!(table(&["a"], &[]), "a\n-\n");
    }
}
