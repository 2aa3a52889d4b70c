//! wal-io (docs pending).
#![doc = ""]
mod error;
mod fs;
mod options;
mod reader;
mod recover;
mod rewrite;
#[cfg(feature = "sim")]
pub mod sim;
pub mod storage;
mod wal;

pub use error::{BoxError, WalError};
pub use fs::FsStorage;
pub use options::{RecoveryMode, WalOptions};
pub use recover::{RecoveryReport, ReplayRecord, Truncation, TruncationReason};
pub use rewrite::RewriteWriter;
pub use storage::{OpenMode, Storage, StorageFile, StorageLock};
pub use wal::{Batch, Wal, WalStats};
