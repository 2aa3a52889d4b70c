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
//!
//! This file is the command line: the tasks, the help text, and handing
//! each task its parsed arguments ([`args`]). [`mod@table`] lays out the text
//! table both `fuzz` and `bench` end with. [`cmd`] runs commands, logging
//! each one (`$ ...`) before it starts.

mod args;
mod bench;
mod cmd;
mod compare;
mod fuzz;
mod table;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use args::{BenchArgs, FuzzArgs};

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

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
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
}
