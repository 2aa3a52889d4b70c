//! `cargo xtask fuzz`: checks the nightly toolchain and cargo-fuzz
//! (installing cargo-fuzz when missing), writes the seed corpus, builds the
//! targets once, then fuzzes each for a fixed time, showing progress and
//! ending with a table. A crash's input is copied into
//! `fuzz/regressions/<target>/`, where `cargo test` replays it on stable.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::args::FuzzArgs;
use crate::cmd;
use crate::table::table;

/// The `fuzz` lines of the help text.
pub const USAGE: &str = "\
Usage: cargo xtask fuzz [TARGET] [--time SECS] [--jobs N] [--smoke]
  TARGET        one fuzz target (a [[bin]] of fuzz/Cargo.toml); default: all
  --time SECS   seconds of fuzzing per target (default 60)
  --jobs N      fuzzing processes per target (libFuzzer -fork=N)
  --smoke       the CI run: 30 s per target unless --time is given
";

/// Seconds per target without `--time`.
pub const DEFAULT_SECS: u64 = 60;
/// Seconds per target with `--smoke` and without `--time`.
pub const SMOKE_SECS: u64 = 30;
/// The least time between two progress lines.
const PROGRESS_EVERY_SECS: f64 = 2.0;

/// `cargo +nightly <args>`, run from the workspace root.
fn nightly(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").args(args).current_dir(root);
    c
}

/// Whether a probe command starts and succeeds.
fn probe(mut c: Command) -> bool {
    cmd::output(&mut c).is_ok_and(|out| out.status.success())
}

/// Checks for the nightly toolchain and cargo-fuzz, installing cargo-fuzz
/// when it is missing.
fn check_tools(root: &Path) -> Result<(), String> {
    if !probe(nightly(root, &["--version"])) {
        return Err(
            "the nightly toolchain is missing; libFuzzer builds need it. Install it \
             with `rustup toolchain install nightly` and run this again."
                .into(),
        );
    }
    if probe(nightly(root, &["fuzz", "--version"])) {
        return Ok(());
    }
    eprintln!("cargo-fuzz is not installed; installing it (cargo install --locked cargo-fuzz)...");
    let mut install = Command::new("cargo");
    install.args(["install", "--locked", "cargo-fuzz"]);
    cmd::step(&mut install, "installing cargo-fuzz")?;
    match probe(nightly(root, &["fuzz", "--version"])) {
        true => Ok(()),
        false => Err("cargo-fuzz was installed but `cargo +nightly fuzz` still fails".into()),
    }
}

/// The `name`s of the `[[bin]]` sections of a `Cargo.toml`, in order.
fn bin_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && in_bin
            && let Some(value) = value.strip_prefix('=')
        {
            names.push(value.trim().trim_matches('"').to_owned());
            in_bin = false;
        }
    }
    names
}

/// Every fuzz target: the `[[bin]]`s of `fuzz/Cargo.toml`, else what
/// `cargo fuzz list` says.
fn all_targets(root: &Path) -> Result<Vec<String>, String> {
    let manifest = root.join("fuzz").join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let names = bin_names(&text);
    if !names.is_empty() {
        return Ok(names);
    }
    let out = cmd::output(&mut nightly(root, &["fuzz", "list"]))
        .map_err(|e| format!("cargo fuzz list: {e}"))?;
    let listed = String::from_utf8_lossy(&out.stdout);
    Ok(listed.split_whitespace().map(str::to_owned).collect())
}

/// What one status line of libFuzzer says: executions so far, coverage,
/// executions per second. Both `#N\tNEW cov: C ... exec/s: E` and the
/// `-fork` form `#N: cov: C ... exec/s E` are read, and `Done N runs`.
fn parse_status(line: &str) -> Option<(u64, Option<u64>, Option<u64>)> {
    let number_after = |key: &str| {
        let at = line.find(key)? + key.len();
        let rest = line[at..].trim_start_matches(':').trim_start();
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    };
    if let Some(rest) = line.strip_prefix('#') {
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        let execs = rest[..end].parse().ok()?;
        return Some((execs, number_after("cov"), number_after("exec/s")));
    }
    let runs = line
        .strip_prefix("Done ")?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    Some((runs, None, None))
}

/// The state of one target's run, fed libFuzzer's stderr a line at a time.
#[derive(Debug, Default)]
struct Progress {
    target: String,
    /// When the last progress line was shown, in seconds since the start.
    shown_at: Option<f64>,
    execs: Option<u64>,
    cov: Option<u64>,
    /// Every `Test unit written to <path>` path.
    units: Vec<String>,
    /// The panic message (`... panicked at ...` and the lines after it).
    panic: Vec<String>,
    /// Whether the lines coming are still the panic message.
    in_panic: bool,
    /// Entries of libFuzzer's recommended dictionary, while it prints one.
    dictionary: Option<usize>,
}

impl Progress {
    /// Takes one line, `secs` after the start; returns what to show of it:
    /// a status line shortened and at most every [`PROGRESS_EVERY_SECS`],
    /// any other line whole, except the noise: new-function lines and the
    /// recommended dictionary (counted instead).
    fn feed(&mut self, line: &str, secs: f64) -> Option<String> {
        if let Some(path) = line.split("Test unit written to ").nth(1) {
            self.units.push(path.trim().to_owned());
        }
        if line.contains("panicked at") {
            self.panic = vec![line.trim().to_owned()];
            self.in_panic = true;
        } else if self.in_panic {
            // The message ends at a blank line, the backtrace note or
            // libFuzzer's report.
            let end = line.trim().is_empty() || line.starts_with("note:") || line.starts_with("==");
            self.in_panic = !end && self.panic.len() < 8;
            if !end {
                self.panic.push(line.trim_end().to_owned());
            }
        }
        if line.starts_with("###### Recommended dictionary") {
            self.dictionary = Some(0);
            return None;
        }
        if let Some(n) = self.dictionary {
            if !line.starts_with("###### End of recommended dictionary") {
                self.dictionary = Some(n + 1);
                return None;
            }
            self.dictionary = None;
            return Some(format!(
                "(libFuzzer's recommended dictionary: {n} entries, not shown)"
            ));
        }
        let Some((execs, cov, rate)) = parse_status(line) else {
            return (!line.starts_with("\tNEW_FUNC")).then(|| line.to_owned());
        };
        self.execs = Some(execs);
        self.cov = cov.or(self.cov);
        if self
            .shown_at
            .is_some_and(|t| secs - t < PROGRESS_EVERY_SECS)
        {
            return None;
        }
        self.shown_at = Some(secs);
        let mut shown = format!("[{secs:>3.0}s] {}: #{execs}", self.target);
        if let Some(c) = self.cov {
            shown.push_str(&format!(" cov: {c}"));
        }
        if let Some(r) = rate {
            shown.push_str(&format!(" exec/s: {r}"));
        }
        Some(shown)
    }

    /// The input libFuzzer saved for a failure (not a mere slow unit).
    fn reproducer(&self) -> Option<&str> {
        let slow = |p: &&str| p.contains("/slow-unit-") || p.starts_with("slow-unit-");
        self.units
            .iter()
            .map(String::as_str)
            .rev()
            .find(|p| !slow(p))
    }
}

/// The end of one target's run.
struct Outcome {
    progress: Progress,
    secs: u64,
    /// `ok`, `CRASH` or `FAILED (...)`.
    result: String,
    /// The saved input and its copy under `fuzz/regressions/`.
    kept: Option<(PathBuf, PathBuf)>,
}

/// Fuzzes `target` for `args.seconds()`.
fn fuzz_one(root: &Path, target: &str, args: &FuzzArgs) -> Result<Outcome, String> {
    let mut run = nightly(root, &["fuzz", "run", target]);
    if let Some(jobs) = args.jobs {
        run.arg("--jobs").arg(jobs.to_string());
    }
    run.arg("--")
        .arg(format!("-max_total_time={}", args.seconds()));
    let start = Instant::now();
    let mut progress = Progress {
        target: target.to_owned(),
        ..Progress::default()
    };
    let status = cmd::run_with_stderr(&mut run, |line| {
        if let Some(shown) = progress.feed(line, start.elapsed().as_secs_f64()) {
            eprintln!("{shown}");
        }
    })
    .map_err(|e| format!("could not run cargo fuzz: {e}"))?;
    let secs = start.elapsed().as_secs();
    let unit = progress.reproducer().map(|u| root.join(u));
    let (result, kept) = match unit {
        _ if status.success() => ("ok".to_owned(), None),
        None => (format!("FAILED ({})", cmd::describe(status)), None),
        Some(unit) => {
            // Kept where `cargo test` replays it (fuzz_regressions.rs).
            let dir = root.join("fuzz").join("regressions").join(target);
            let copy = dir.join(unit.file_name().unwrap_or(target.as_ref()));
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::copy(&unit, &copy))
                .map_err(|e| format!("copying {} to {}: {e}", unit.display(), copy.display()))?;
            ("CRASH".to_owned(), Some((unit, copy)))
        }
    };
    Ok(Outcome {
        progress,
        secs,
        result,
        kept,
    })
}

/// The whole task; `Ok(false)` when a target failed.
pub fn run(root: &Path, args: &FuzzArgs) -> Result<bool, String> {
    check_tools(root)?;
    let all = all_targets(root)?;
    let targets = match &args.target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => {
            return Err(format!(
                "no fuzz target `{t}` (targets: {})",
                all.join(", ")
            ));
        }
        None => all,
    };

    let mut seed = Command::new("cargo");
    seed.args(["test", "-p", "indexmap_store", "--test", "it"])
        .args(["fuzz_regressions::seed_corpus_is_written", "--", "--exact"])
        .env("FUZZ_CORPUS_DIR", root.join("fuzz").join("corpus"))
        .current_dir(root);
    cmd::step(&mut seed, "writing the seed corpus")?;
    cmd::step(
        &mut nightly(root, &["fuzz", "build"]),
        "building the fuzz targets",
    )?;

    let mut outcomes = Vec::new();
    for target in &targets {
        eprintln!("\n== fuzzing {target} for {} s", args.seconds());
        outcomes.push(fuzz_one(root, target, args)?);
    }

    let rows: Vec<Vec<String>> = outcomes.iter().map(row).collect();
    let headers = ["target", "seconds", "executions", "coverage", "result"];
    eprintln!(
        "\nfuzz summary ({} s per target):\n{}",
        args.seconds(),
        table(&headers, &rows)
    );
    for o in outcomes.iter().filter(|o| o.result != "ok") {
        eprintln!("{}: {}", o.progress.target, o.result);
        for line in &o.progress.panic {
            eprintln!("    {line}");
        }
        if let Some((unit, copy)) = &o.kept {
            eprintln!("  input:     {}", unit.display());
            eprintln!("  kept as:   {} (cargo test replays it)", copy.display());
            eprintln!(
                "  reproduce: cargo +nightly fuzz run {} {}",
                o.progress.target,
                unit.display()
            );
        }
    }
    Ok(outcomes.iter().all(|o| o.result == "ok"))
}

/// One line of the summary table.
fn row(o: &Outcome) -> Vec<String> {
    let num = |n: Option<u64>| n.map_or("-".to_owned(), |n| n.to_string());
    vec![
        o.progress.target.clone(),
        o.secs.to_string(),
        num(o.progress.execs),
        num(o.progress.cov),
        o.result.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_names_come_from_the_manifest() {
        let toml = "[package]\nname = \"fuzz\"\n\n[[bin]]\nname = \"a\"\npath = \"x\"\n\n\
                    [dependencies]\nname = \"no\"\n[[bin]]\npath = \"y\"\nname = \"b\"\n";
        assert_eq!(bin_names(toml), ["a", "b"]);
        let ours = std::fs::read_to_string(crate::workspace_root().join("fuzz/Cargo.toml"));
        assert_eq!(
            bin_names(&ours.unwrap()),
            ["frame_decode", "recover", "store_ops"]
        );
    }

    #[test]
    fn status_lines_parse_in_both_forms() {
        let plain = "#123456\tpulse  cov: 812 ft: 2000 corp: 90/2Kb exec/s: 10000 rss: 60Mb";
        assert_eq!(parse_status(plain), Some((123456, Some(812), Some(10000))));
        let fork = "#5000: cov: 40 ft: 50 corp: 9 exec/s 250 oom/timeout/crash: 0/0/0 time: 3s";
        assert_eq!(parse_status(fork), Some((5000, Some(40), Some(250))));
        assert_eq!(
            parse_status("Done 77 runs in 30 second(s)"),
            Some((77, None, None))
        );
        assert_eq!(parse_status("INFO: Seed: 42"), None);
    }

    #[test]
    fn progress_is_throttled_and_a_crash_is_remembered() {
        let mut p = Progress {
            target: "t".into(),
            ..Progress::default()
        };
        let shown = p.feed("#10\tINITED cov: 5 ft: 5 corp: 1/1b exec/s: 0", 0.4);
        assert_eq!(shown.as_deref(), Some("[  0s] t: #10 cov: 5 exec/s: 0"));
        assert_eq!(p.feed("#20\tNEW cov: 6 ft: 7", 1.0), None);
        assert_eq!(
            p.feed("#30\tpulse cov: 7 exec/s: 9", 12.0).unwrap(),
            "[ 12s] t: #30 cov: 7 exec/s: 9"
        );
        assert_eq!(p.feed("INFO: a", 12.1).as_deref(), Some("INFO: a"));
        assert_eq!(p.feed("\tNEW_FUNC[1/1]: 0x55 in f", 12.1), None);
        assert_eq!(p.feed("###### Recommended dictionary. ######", 12.2), None);
        assert_eq!(p.feed("\"ab\" # Uses: 3", 12.2), None);
        let end = p.feed("###### End of recommended dictionary. ######", 12.2);
        assert_eq!(
            end.unwrap(),
            "(libFuzzer's recommended dictionary: 1 entries, not shown)"
        );
        p.feed("thread '<unnamed>' panicked at src/x.rs:1:2:", 13.0);
        p.feed("assertion failed: ok", 13.0);
        p.feed("==1== ERROR: libFuzzer: deadly signal", 13.0);
        p.feed("Test unit written to /w/fuzz/artifacts/t/slow-unit-1", 13.0);
        p.feed("Test unit written to /w/fuzz/artifacts/t/crash-abc", 13.0);
        assert_eq!(
            p.panic,
            [
                "thread '<unnamed>' panicked at src/x.rs:1:2:",
                "assertion failed: ok"
            ]
        );
        assert_eq!(p.reproducer(), Some("/w/fuzz/artifacts/t/crash-abc"));
        assert_eq!((p.execs, p.cov), (Some(30), Some(7)));
    }
}
