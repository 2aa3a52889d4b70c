#![doc = include_str!("../README.md")]

mod backup;
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
pub mod inspect;
mod legacy;
mod migrate;
mod mutate;
mod open;
mod order;
mod positional;
mod read;
mod read_only;
mod read_only_reads;
mod rebuild;
mod remove_many;
mod schema;
mod shared;
mod store;
mod trace;

pub use backup::BackupProgress;
pub use change::{Change, ChangeKind};
pub use compaction::CompactionFailure;
pub use config::StoreConfig;
pub use durability::Durability;
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use error::StoreError;
pub use feed::{DEFAULT_FEED_CAPACITY, FeedEvent, FeedHandle, Snapshot, Subscription};
pub use following::Following;
pub use legacy::{LEGACY_BACKUP_SUFFIX, LegacyImport, LegacyTail};
pub use mutate::Batch;
pub use open::OpenOptions;
pub use read_only::{ReadOnlyStore, Refreshed};
pub use shared::SharedStore;
pub use store::{COMPACT_TMP_SUFFIX, IndexMapStore, StoreStats};
pub use wal_io::{RecoveryReport, Truncation, TruncationReason};

/// The storage layer, for [`OpenOptions::storage`] and tests.
pub use wal_io;
