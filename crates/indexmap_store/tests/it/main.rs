//! The facade's integration tests, one module per subject, in one test
//! binary: one link instead of two dozen, and one run that keeps both
//! cores busy.
//!
//! The operation vocabulary, its model and the step oracle come from
//! `store-test-kit`; [`common`] holds the hand parser of the log format
//! (a second oracle, on purpose) and file helpers. The tests that
//! re-execute this binary as a child process (`kill`, `followers`,
//! `shared_kill`) name their child test with its module path.

mod backup;
mod bad_input;
mod common;
mod compaction;
mod compaction_failures;
mod crash;
mod crash_atomic;
mod durability_kill;
mod faults;
mod feed;
mod followers;
mod fuzz_regressions;
mod hasher;
mod kill;
mod model;
mod mutation_errors;
mod paths;
mod read_back;
mod read_only;
mod records_v3;
mod records_v5;
mod scenarios;
mod seal_note;
mod shared;
mod shared_kill;
mod threaded_open;
mod threads;
mod types;
mod use_cases;
