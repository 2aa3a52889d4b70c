//! The replicated map's tests, in one binary.
#![expect(
    clippy::result_large_err,
    reason = "openraft's storage suite returns its StorageError, which is large"
)]

mod cluster;
mod cluster_kit;
mod linearizable;
mod log_crash;
mod processes;
mod snapshot_crash;
mod suite;
mod support;
