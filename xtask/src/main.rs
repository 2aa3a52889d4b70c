//! Contributor tasks for the indexmap_store workspace, run as `cargo xtask <task>`
//! (the alias lives in `.cargo/config.toml`).
//!
//! `cargo xtask ci` runs exactly what CI runs: it executes `.ci/run`, the single
//! list of CI steps, so the two can never drift apart.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Exit code for usage errors and for reserved, not yet implemented tasks.
const USAGE_EXIT: u8 = 2;

/// A subcommand of `cargo xtask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    /// Run the CI gate (`.ci/run`).
    Ci,
    /// Run the fuzz targets (reserved).
    Fuzz,
    /// Run the benchmarks (reserved).
    Bench,
    /// Compare benchmark results (reserved).
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
            Task::Ci => "run every CI step (executes .ci/run): fmt, clippy, test, doc, cargo-deny",
            Task::Fuzz => "run the fuzz targets (not yet implemented)",
            Task::Bench => "run the benchmarks (not yet implemented)",
            Task::Compare => "compare benchmark results (not yet implemented)",
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

/// The help text listing every task.
fn help_text() -> String {
    let mut text = String::from(
        "Contributor tasks for the indexmap_store workspace.\n\n\
         Usage: cargo xtask <TASK> [ARGS...]\n\nTasks:\n",
    );
    for task in Task::ALL {
        text.push_str(&format!("  {:<9}{}\n", task.name(), task.summary()));
    }
    text
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Runs `.ci/run` with bash, logging the command first, and passes on its exit code.
fn run_ci() -> ExitCode {
    let root = workspace_root();
    let script = Path::new(".ci").join("run");
    eprintln!("$ bash {}    # in {}", script.display(), root.display());
    match Command::new("bash")
        .arg(&script)
        .current_dir(&root)
        .status()
    {
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
    match task {
        Task::Help => {
            print!("{}", help_text());
            ExitCode::SUCCESS
        }
        Task::Ci if args.len() > 1 => {
            eprintln!(
                "xtask ci: takes no arguments (got `{}`)",
                args[1..].join(" ")
            );
            ExitCode::from(USAGE_EXIT)
        }
        Task::Ci => run_ci(),
        // Reserved names, so later additions do not change the interface.
        Task::Fuzz | Task::Bench | Task::Compare => {
            eprintln!("xtask {}: not yet implemented", task.name());
            ExitCode::from(USAGE_EXIT)
        }
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
    fn help_lists_every_task() {
        let help = help_text();
        for task in Task::ALL {
            assert!(help.contains(task.name()), "{help}");
        }
    }

    #[test]
    fn ci_script_exists_and_runs_the_readme_test_command() {
        let script = std::fs::read_to_string(workspace_root().join(".ci/run")).unwrap();
        assert!(script.contains("cargo test --workspace"));
    }
}
