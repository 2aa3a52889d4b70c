//! The child-process plumbing against real children: this test binary
//! re-executes itself, with `TEST_SUPPORT_ROLE` telling the `child` test
//! what to do (`TEST_SUPPORT_DIR`, its directory, is not used).

use std::io::BufRead;
use std::time::Duration;

use test_support::child::Protocol;

/// A mark other than the default, which the parent must look for.
const PROTOCOL: Protocol = Protocol {
    mark: "%%",
    ..Protocol::new("child", "TEST_SUPPORT_DIR", "TEST_SUPPORT_ROLE")
};

/// The child side of every test in this file; passes at once when not run
/// as a child.
#[test]
fn child() {
    let Some((_, role)) = PROTOCOL.task() else {
        return;
    };
    match role.as_str() {
        "count" => {
            println!("a line that is not progress");
            println!("@@STEP 99 has the default mark, not this protocol's");
            for n in 1..=3 {
                PROTOCOL.report("STEP", n);
            }
            PROTOCOL.report("DONE", 3);
            PROTOCOL.idle(3);
        }
        // Ends the test, and so the process, without being killed.
        "exit" => PROTOCOL.report("STEP", 1),
        "read" => {
            PROTOCOL.report("READING", 0);
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).expect("stdin");
            PROTOCOL.report("READ", line.len() as u64);
            PROTOCOL.idle(0);
        }
        other => panic!("unknown role {other:?}"),
    }
}

#[test]
fn progress_arrives_in_order_and_the_kill_is_what_ends_the_child() {
    let ctx = "[count]";
    let mut child = PROTOCOL.spawn(&std::env::temp_dir(), "count", |_| {});
    child.expect(&ctx, "IDLE", |m| m.tag == "IDLE");
    assert!(child.has_opened());
    child.kill(&ctx);
    let tags: Vec<&str> = child.seen().iter().map(|m| m.tag.as_str()).collect();
    assert_eq!(tags, ["STEP", "STEP", "STEP", "DONE", "IDLE"]);
    assert_eq!(child.count("STEP"), 3);
    assert_eq!(child.last(&["STEP"]), Some(3));
    assert_eq!(child.last(&["STEP", "DONE"]), Some(3));
    assert_eq!(child.last(&["NONE"]), None);
}

#[test]
#[should_panic(expected = "[exit]: the child exited on its own")]
fn a_child_that_exits_on_its_own_fails_the_wait() {
    let mut child = PROTOCOL.spawn(&std::env::temp_dir(), "exit", |_| {});
    child.expect(&"[exit]", "DONE", |m| m.tag == "DONE");
}

#[test]
fn a_piped_stdin_is_held_open_so_a_reading_child_blocks() {
    let ctx = "[read]";
    let mut child = PROTOCOL.spawn(&std::env::temp_dir(), "read", |c| {
        c.stdin(std::process::Stdio::piped());
    });
    child.expect(&ctx, "READING", |m| m.tag == "READING");
    let read = child.wait_for(&ctx, Duration::from_millis(200), |m| m.tag == "READ");
    assert!(!read, "the child read from a standard input held open");
    child.kill(&ctx);
}
