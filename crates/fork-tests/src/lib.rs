//! `fork(2)` for the workspace's tests, in the only crate allowed `unsafe`.
//!
//! The tests in `tests/` check what a forked child may do with a log its
//! parent opened: nothing that changes the parent's lock or file.

/// Forks; the child runs `child` and exits with the code it returns,
/// without running destructors of the parent's other state or atexit
/// handlers (`_exit`). The parent waits and returns the child's exit code.
///
/// # Panics
///
/// If `fork` or `waitpid` fails, or the child does not exit normally.
pub fn in_child(child: impl FnOnce() -> i32) -> i32 {
    let status = wait_status(fork_running(child));
    assert!(libc::WIFEXITED(status), "the child did not exit: {status}");
    libc::WEXITSTATUS(status)
}

/// Forks a child that sleeps `millis` milliseconds, keeping copies of every
/// open file description, then exits. Returns its pid; reap it with
/// [`wait`].
pub fn sleeping_child(millis: u64) -> i32 {
    fork_running(|| {
        std::thread::sleep(std::time::Duration::from_millis(millis));
        0
    })
}

/// Waits for the child `pid`.
pub fn wait(pid: i32) {
    wait_status(pid);
}

/// Forks; the child runs `child` (101 if it panics) and `_exit`s with that
/// code, never returning into the caller. Returns the child's pid.
fn fork_running(child: impl FnOnce() -> i32) -> i32 {
    #[allow(
        unsafe_code,
        reason = "std has no fork; the child only runs `child` and `_exit`s"
    )]
    // SAFETY: the child runs `child` and then `_exit`s, never returning into
    // the test harness. The tests that call this run one at a time (they take
    // a lock), and what `child` does (drop a log, write, close files, sleep)
    // is what a daemon does after fork; glibc's malloc is fork-safe.
    unsafe {
        match libc::fork() {
            -1 => panic!("fork failed: {}", std::io::Error::last_os_error()),
            0 => {
                let code =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
                libc::_exit(code)
            }
            pid => pid,
        }
    }
}

/// Waits for the child `pid`; returns its wait status.
fn wait_status(pid: i32) -> i32 {
    let mut status = 0;
    #[allow(unsafe_code, reason = "waitpid on our own child")]
    // SAFETY: plain waitpid on a pid this process forked.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(got, pid, "waitpid");
    status
}
