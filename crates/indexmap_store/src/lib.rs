#![doc = include_str!("../README.md")]

mod codec;
mod compaction;
mod config;
mod durability;
mod entry;
mod error;
mod group_commit;
pub mod inspect;
mod legacy;
mod migrate;
mod mutate;
mod open;
mod order;
mod positional;
mod read;
mod remove_many;
mod schema;
mod shared;
mod store;
mod trace;

pub use compaction::CompactionFailure;
pub use config::StoreConfig;
pub use durability::Durability;
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use error::StoreError;
pub use legacy::{LEGACY_BACKUP_SUFFIX, LegacyImport, LegacyTail};
pub use mutate::Batch;
pub use open::OpenOptions;
pub use shared::SharedStore;
pub use store::{COMPACT_TMP_SUFFIX, IndexMapStore, StoreStats};
pub use wal_io::{RecoveryReport, Truncation, TruncationReason};

/// The storage layer, for [`OpenOptions::storage`] and tests.
pub use wal_io;
