//! Running commands for the tasks. Every command is logged to stderr as
//! `$ program args` before it runs, so a task's output shows exactly what
//! to type to repeat any step of it.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::process::{Command, ExitStatus, Output, Stdio};

/// Quotes `word` for a POSIX shell when it needs it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+:,@%^".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `cmd` as one shell line: the environment it sets, the program, the
/// arguments.
pub fn render(cmd: &Command) -> String {
    let lossy = |s: &OsStr| quote(&s.to_string_lossy());
    let mut words: Vec<String> = cmd
        .get_envs()
        .filter_map(|(key, value)| value.map(|v| format!("{}={}", key.to_string_lossy(), lossy(v))))
        .collect();
    words.push(lossy(cmd.get_program()));
    words.extend(cmd.get_args().map(lossy));
    words.join(" ")
}

/// Logs `cmd` (`$ ...`) to stderr.
pub fn log(cmd: &Command) {
    eprintln!("$ {}", render(cmd));
}

/// Logs `cmd`, then runs it with the terminal's stdin, stdout and stderr.
pub fn run(cmd: &mut Command) -> io::Result<ExitStatus> {
    log(cmd);
    cmd.status()
}

/// Logs `cmd`, then runs it with its stdout and stderr captured (a probe,
/// such as `--version`).
pub fn output(cmd: &mut Command) -> io::Result<Output> {
    log(cmd);
    cmd.stdin(Stdio::null()).output()
}

/// Logs `cmd`, then runs it with stdout passed through and stderr read
/// line by line (invalid UTF-8 replaced, line ends removed) into
/// `on_line`, which decides what of it to show.
pub fn run_with_stderr(cmd: &mut Command, mut on_line: impl FnMut(&str)) -> io::Result<ExitStatus> {
    log(cmd);
    let mut child = cmd.stderr(Stdio::piped()).spawn()?;
    if let Some(stderr) = child.stderr.take() {
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&buf);
            on_line(line.trim_end_matches(['\n', '\r']));
        }
    }
    child.wait()
}

/// Logs and runs `cmd` like [`run`]; a failure to start it or a
/// non-zero exit becomes an error saying `what` failed.
pub fn step(cmd: &mut Command, what: &str) -> Result<(), String> {
    match run(cmd) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({})", describe(status))),
        Err(e) => Err(format!(
            "{what}: could not run {}: {e}",
            cmd.get_program().to_string_lossy()
        )),
    }
}

/// A failed command's exit status in words, for error messages.
pub fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => format!("{status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare_and_others_are_quoted() {
        assert_eq!(quote("-max_total_time=30"), "-max_total_time=30");
        assert_eq!(quote("+nightly"), "+nightly");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn render_shows_environment_program_and_arguments() {
        let mut cmd = Command::new("cargo");
        cmd.args(["bench", "-p", "wal-io"]).env("BENCH_QUICK", "1");
        assert_eq!(render(&cmd), "BENCH_QUICK=1 cargo bench -p wal-io");
    }

    #[test]
    fn a_failed_step_says_what_failed() {
        assert_eq!(step(&mut Command::new("true"), "nothing"), Ok(()));
        let failed = step(&mut Command::new("false"), "lying").unwrap_err();
        assert_eq!(failed, "lying failed (exit code 1)");
        let missing = step(&mut Command::new("no-such-program-xtask"), "a probe");
        assert!(
            missing
                .unwrap_err()
                .starts_with("a probe: could not run no-such-program-xtask")
        );
    }

    #[test]
    fn stderr_arrives_line_by_line() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "printf 'one\\ntwo\\r\\nthree' >&2"]);
        let mut lines = Vec::new();
        let status = run_with_stderr(&mut cmd, |l| lines.push(l.to_owned())).unwrap();
        assert!(status.success());
        assert_eq!(lines, ["one", "two", "three"]);
    }
}
