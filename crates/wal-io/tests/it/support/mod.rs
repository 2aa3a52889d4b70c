//! Shared support of the crash and fault suites: the seeded generator (re-exported from `test-support`), a deterministic workload generator, the one oracle, and a storage wrapper that observes every storage operation.
//!
//! The crash, fault, bit-flip, torn-write and protocol-step modules use it.
//! Each part is a module of its own, re-exported here: [`workload`] (the
//! steps and their generator), [`oracle`] (the [`Model`]), [`open`] (opening
//! a log and checking what the open reports), [`driver`] (running steps
//! against a log and the model), [`hooked`] (the observing storage) and
//! [`image`] (reading a log image's bytes).

mod driver;
mod hooked;
mod image;
mod open;
mod oracle;
mod workload;

use std::sync::{Mutex, PoisonError};

pub use driver::{Driver, StepError};
pub use hooked::{Hook, Hooked, OpInfo, mutates};
pub use image::partial_then_valid;
pub use open::{check_open, new_fs_log, open_at, open_fs, open_fs_with, open_log};
pub use oracle::Model;
pub use workload::{Step, WorkloadShape, workload};

/// The log every suite writes.
pub const LOG: &str = "wal.log";
/// The temporary file of its rewrites (default suffix).
pub const TMP: &str = "wal.log.rewrite.tmp";
/// The lock file beside [`LOG`], which also holds the sidecar's claim.
pub const LOCK: &str = "wal.log.lock";

pub use test_support::rng::Rng;

/// Locks a mutex, ignoring poisoning (a failed check already panicked).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
