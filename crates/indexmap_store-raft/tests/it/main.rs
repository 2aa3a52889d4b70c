//! The replicated map's tests, in one binary.
#![expect(
    clippy::result_large_err,
    reason = "openraft's storage suite returns its StorageError, which is large"
)]

mod processes;
mod suite;
