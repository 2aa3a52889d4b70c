//! Re-executing the running test binary as a child process, reading its
//! progress lines, and killing it with `SIGKILL`.
//!
//! The child is one `#[test]` function of the same binary,
//! [`Protocol::child_test`], which the parent runs alone (`--exact`) with
//! two environment variables set: [`Protocol::dir_env`] to the directory
//! it works in, which also tells it that it is the child, and
//! [`Protocol::role_env`] to what it does there; the test may set more
//! in [`Protocol::spawn`]'s `configure`. The child reads them with
//! [`Protocol::task`] and reports progress with [`Protocol::report`]: a
//! line `<mark><tag> <n>` on its standard output. The parent reads those
//! lines on a thread through a pipe, which keeps every line the child
//! finished writing even after it is killed; a line cut short by the kill
//! is dropped, as the child never completed it.
//!
//! [`Running`] is the parent's handle: it waits for progress with a
//! timeout, kills the child, reaps it and checks that the kill is what
//! ended it. Dropped, it kills and reaps a child still running, so a
//! failing test leaves no process behind.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const SIGKILL: i32 = 9;

/// How a parent test and the children it spawns talk to each other.
#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    /// The `#[test]` function that plays the child.
    pub child_test: &'static str,
    /// The environment variable set, only in a child, to the directory it
    /// works in.
    pub dir_env: &'static str,
    /// The environment variable set, only in a child, to the role it plays
    /// (the tests choose the roles).
    pub role_env: &'static str,
    /// The prefix of every progress line, so that the test harness's own
    /// output on the same stream is ignored.
    pub mark: &'static str,
    /// How long [`Running::expect`] waits for a child's progress line
    /// before failing.
    pub patience: Duration,
}

/// One progress line of a child: `<mark><tag> <n>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What happened (`ACK`, `DO`, ...; the tests choose).
    pub tag: String,
    /// A count that goes with it.
    pub n: u64,
}

impl Protocol {
    /// The protocol for a child played by the `#[test]` function
    /// `child_test` and told its directory and role in the environment
    /// variables `dir_env` and `role_env`, with progress lines marked `@@`
    /// and a patience of 30 s; set the fields for others.
    pub const fn new(
        child_test: &'static str,
        dir_env: &'static str,
        role_env: &'static str,
    ) -> Self {
        Self {
            child_test,
            dir_env,
            role_env,
            mark: "@@",
            patience: Duration::from_secs(30),
        }
    }

    /// The child side: the directory and the role that the parent gave
    /// this process, or `None` if it is not a child (the test harness runs
    /// the child test on its own too).
    ///
    /// # Panics
    ///
    /// If the directory is set but the role is not.
    #[track_caller]
    pub fn task(&self) -> Option<(PathBuf, String)> {
        let dir = std::env::var_os(self.dir_env)?;
        let role = std::env::var(self.role_env)
            .unwrap_or_else(|e| panic!("{} is set but {}: {e}", self.dir_env, self.role_env));
        Some((PathBuf::from(dir), role))
    }

    /// The child side: reports progress to the parent.
    pub fn report(&self, tag: &str, n: u64) {
        // `println!` on a pipe is line-buffered: the line is written (one
        // `write(2)`) before this returns.
        println!("{}{tag} {n}", self.mark);
    }

    /// The child side, once its work is done: reports `IDLE <n>` and
    /// sleeps, holding whatever the caller holds until it is killed. It
    /// gives up after two minutes, so that a parent that died cannot leave
    /// the child behind forever.
    pub fn idle(&self, n: u64) {
        self.report("IDLE", n);
        thread::sleep(Duration::from_secs(120));
    }

    /// The parent side: starts the running test binary as a child that
    /// runs only [`child_test`](Self::child_test), to play `role` in `dir`,
    /// after `configure` has set the rest of its environment.
    ///
    /// The child's standard error goes to the parent's, so that a failing
    /// child's panic message shows in the test output; its standard input
    /// is `/dev/null` unless `configure` asks for a pipe, which [`Running`]
    /// then keeps open (without writing to it), so that a child reading
    /// its standard input blocks until killed.
    ///
    /// # Panics
    ///
    /// If the child cannot be started.
    #[track_caller]
    pub fn spawn(&self, dir: &Path, role: &str, configure: impl FnOnce(&mut Command)) -> Running {
        // The running binary itself, even if a concurrent build has
        // replaced the file at its path since this process started.
        let exe = match Path::new("/proc/self/exe") {
            proc if proc.exists() => proc.to_path_buf(),
            _ => std::env::current_exe().expect("current_exe"),
        };
        let mut command = Command::new(&exe);
        command
            .args([
                "--exact",
                self.child_test,
                "--nocapture",
                "--test-threads=1",
            ])
            .env(self.dir_env, dir)
            .env(self.role_env, role)
            .stdin(Stdio::null());
        configure(&mut command);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning the child {exe:?} failed: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        let protocol = *self;
        let reader = thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match stdout.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    // A line cut short by the kill was never reported.
                    Ok(_) if line.last() != Some(&b'\n') => return,
                    Ok(_) => {}
                }
                if let Some(progress) = protocol.parse(&line)
                    && tx.send(progress).is_err()
                {
                    return;
                }
            }
        });
        Running {
            child,
            rx,
            reader: Some(reader),
            _stdin: stdin,
            patience: self.patience,
            seen: Vec::new(),
            reaped: false,
        }
    }

    /// The progress a line of the child's output reports, if any.
    ///
    /// # Panics
    ///
    /// If the count after a tag is not a `u64`.
    fn parse(&self, line: &[u8]) -> Option<Progress> {
        let text = String::from_utf8_lossy(line);
        // The harness may print "test <child_test> ... " on the same line.
        let at = text.find(self.mark)?;
        let mut words = text[at + self.mark.len()..].split_whitespace();
        let (Some(tag), Some(n)) = (words.next(), words.next()) else {
            return None;
        };
        Some(Progress {
            tag: tag.to_owned(),
            n: n.parse().expect("progress count"),
        })
    }
}

/// A predicate for [`Running::wait_for`] and [`Running::expect`] that
/// accepts the `n`-th line tagged `tag` it is shown (`n > 0`).
pub fn nth(tag: &str, n: u64) -> impl FnMut(&Progress) -> bool + '_ {
    let mut seen = 0;
    move |m| {
        seen += u64::from(m.tag == tag);
        seen >= n
    }
}

/// The child side: the value of the environment variable `name`, which
/// the parent set to a `u64`.
///
/// # Panics
///
/// If `name` is not set or not a `u64`.
#[track_caller]
pub fn env_u64(name: &str) -> u64 {
    let text = std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    text.parse()
        .unwrap_or_else(|e| panic!("{name}={text:?}: {e}"))
}

/// A running child; killed (if still running) when dropped, so a failing
/// parent leaves no process behind.
///
/// Every method that takes a `ctx` starts its failure messages with it:
/// it should say where the test was and how to reproduce the failure
/// (the seed).
#[derive(Debug)]
pub struct Running {
    child: Child,
    rx: Receiver<Progress>,
    reader: Option<JoinHandle<()>>,
    /// Kept open so a child reading its standard input blocks.
    _stdin: Option<ChildStdin>,
    patience: Duration,
    seen: Vec<Progress>,
    reaped: bool,
}

impl Running {
    /// Reads progress lines until `pred` accepts one (`true`) or `timeout`
    /// passes (`false`).
    ///
    /// # Panics
    ///
    /// If the child exits on its own.
    #[track_caller]
    pub fn wait_for(
        &mut self,
        ctx: &dyn fmt::Display,
        timeout: Duration,
        mut pred: impl FnMut(&Progress) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(msg) => {
                    let hit = pred(&msg);
                    self.seen.push(msg);
                    if hit {
                        return true;
                    }
                }
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    self.reaped = true;
                    panic!(
                        "{ctx}: the child exited on its own ({status:?}) before it was killed; \
                         its standard error is above; last progress: {:?}",
                        self.seen.last()
                    );
                }
            }
        }
    }

    /// Like [`wait_for`](Self::wait_for) for the protocol's
    /// [`patience`](Protocol::patience), failing on timeout; `what` names
    /// the awaited progress in the failure message.
    ///
    /// # Panics
    ///
    /// If the child exits on its own or `pred` accepts no line in time.
    #[track_caller]
    pub fn expect(
        &mut self,
        ctx: &dyn fmt::Display,
        what: &str,
        pred: impl FnMut(&Progress) -> bool,
    ) {
        let patience = self.patience;
        assert!(
            self.wait_for(ctx, patience, pred),
            "{ctx}: no {what} from the child within {patience:?}; last progress: {:?}",
            self.seen.last()
        );
    }

    /// Whether the child has reported anything yet (a child that reports
    /// only once it has opened its files then holds their lock).
    pub fn has_opened(&mut self) -> bool {
        while let Ok(msg) = self.rx.try_recv() {
            self.seen.push(msg);
        }
        !self.seen.is_empty()
    }

    /// Kills the child with `SIGKILL`, reaps it, checks that the kill is
    /// what ended it, and collects every line it completed.
    ///
    /// # Panics
    ///
    /// If the child was not ended by the kill (it exited before it).
    #[track_caller]
    pub fn kill(&mut self, ctx: &dyn fmt::Display) {
        self.child.kill().expect("kill");
        let status = self.child.wait().expect("wait");
        self.reaped = true;
        assert_eq!(
            status.signal(),
            Some(SIGKILL),
            "{ctx}: the child was not ended by the kill but {status}; its standard error is above"
        );
        if let Some(reader) = self.reader.take() {
            reader.join().expect("reader thread");
        }
        while let Ok(msg) = self.rx.try_recv() {
            self.seen.push(msg);
        }
    }

    /// Every progress line collected so far, in order.
    pub fn seen(&self) -> &[Progress] {
        &self.seen
    }

    /// The count of the last line collected that is tagged with one of
    /// `tags`.
    pub fn last(&self, tags: &[&str]) -> Option<u64> {
        self.seen
            .iter()
            .rev()
            .find(|m| tags.contains(&m.tag.as_str()))
            .map(|m| m.n)
    }

    /// How many of the lines collected are tagged `tag`.
    pub fn count(&self, tag: &str) -> u64 {
        self.seen.iter().filter(|m| m.tag == tag).count() as u64
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOL: Protocol = Protocol::new("child", "DIR", "ROLE");

    fn parse(line: &str) -> Option<Progress> {
        PROTOCOL.parse(line.as_bytes())
    }

    #[test]
    fn progress_lines_are_found_after_the_harness_output() {
        let ack = Some(Progress {
            tag: "ACK".to_owned(),
            n: 12,
        });
        assert_eq!(parse("@@ACK 12\n"), ack);
        assert_eq!(parse("test child ... @@ACK 12\n"), ack);
        assert_eq!(parse("running 1 test\n"), None);
        assert_eq!(parse("@@ACK\n"), None);
    }

    #[test]
    fn nth_counts_only_its_tag() {
        let line = |tag: &str| Progress {
            tag: tag.to_owned(),
            n: 0,
        };
        let mut third_ack = nth("ACK", 3);
        let hits: Vec<bool> = ["ACK", "DO", "ACK", "DO", "ACK", "ACK"]
            .map(|tag| third_ack(&line(tag)))
            .to_vec();
        assert_eq!(hits, [false, false, false, false, true, true]);
    }
}
