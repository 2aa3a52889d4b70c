//! wal-io's integration tests, one module per subject, in one test binary:
//! one link instead of a dozen, and one run that keeps both cores busy.
//!
//! [`support`] holds the workload generator, the oracle and the observing
//! storage wrapper the crash and fault modules share. The tests that
//! re-execute this binary as a child process (`kill`, `kill_prealloc`)
//! name their child test with its module path.

mod bitflip;
mod callback_errors;
mod crash;
mod deferred_replay;
mod faults;
mod follow;
mod follow_prealloc;
mod group_commit;
mod kill;
mod kill_prealloc;
mod paths;
mod prealloc;
mod protocol_steps;
mod scenarios;
mod seal_note;
mod support;
mod torn;
