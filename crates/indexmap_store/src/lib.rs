#![doc = include_str!("../README.md")]

mod backup;
mod batch_apply;
mod change;
mod codec;
mod compaction;
mod config;
mod durability;
mod entry;
mod error;
mod feed;
mod following;
mod group_commit;
mod index_runs;
pub mod inspect;
mod legacy;
mod legacy_files;
mod legacy_format;
mod migrate;
mod mutate;
mod open;
mod open_options;
mod order;
mod positional;
mod read;
mod read_back;
mod read_only;
mod read_only_reads;
mod rebuild;
mod remove_many;
mod schema;
mod shared;
mod splice;
mod store;
mod syncer;
mod trace;

pub use backup::BackupProgress;
pub use change::{Change, ChangeKind};
pub use compaction::CompactionFailure;
pub use config::StoreConfig;
pub use durability::Durability;
pub use entry::{Entry, IndexedEntry, OccupiedEntry, VacantEntry};
pub use error::StoreError;
pub use feed::{DEFAULT_FEED_CAPACITY, FeedEvent, FeedHandle, Snapshot, Subscription};
pub use following::Following;
pub use legacy::{LEGACY_BACKUP_SUFFIX, LegacyImport, LegacyTail};
pub use mutate::Batch;
pub use open_options::OpenOptions;
pub use read_only::{ReadOnlyStore, Refreshed};
pub use shared::SharedStore;
pub use store::{COMPACT_TMP_SUFFIX, IndexMapStore, StoreStats};
/// The deterministic, fault-injecting in-memory file system, to test an
/// application's crash handling (`features = ["sim"]`).
#[cfg(feature = "sim")]
pub use wal_io::sim;
/// The log's errors, reached through [`StoreError::Log`], and what they
/// name.
pub use wal_io::{FormatError, VouchedBy, WalError};
/// The storage a store runs on ([`OpenOptions::storage`]): real files
/// ([`FsStorage`], the default) or your own [`Storage`].
pub use wal_io::{FsStorage, Storage, StorageFile, StorageLock};
/// What an open found and did ([`IndexMapStore::recovery_report`]).
pub use wal_io::{RecoveryReport, Truncation, TruncationReason};
