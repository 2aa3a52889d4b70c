//! [`OpenOptions`]: how a store is opened (storage, durability policy,
//! recovery threads, preallocation, schema version, salvage, the
//! read-back check). The opening itself is in [`crate::open`].

use std::sync::Arc;

use wal_io::{FsStorage, Storage};

use crate::config::StoreConfig;
use crate::durability::Durability;

/// Options for opening a store beyond [`StoreConfig`]: the storage it runs
/// on, and what to do with damaged synced data.
///
/// ```no_run
/// use indexmap_store::{IndexMapStore, OpenOptions};
/// // Keep the valid records before a damaged one, after copying the rest of
/// // the file to `data.log.corrupt-<offset>`.
/// let store: IndexMapStore<String, u64> = OpenOptions::new().salvage(true).open("data.log")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub(crate) config: StoreConfig,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) salvage: bool,
    /// Convert an indexmap_store 0.2.x log ([`OpenOptions::import_legacy`]).
    pub(crate) import_legacy: bool,
    pub(crate) schema_version: u32,
    pub(crate) verify_writes: bool,
    pub(crate) durability: Durability,
    pub(crate) preallocate: Option<u64>,
    /// What a read-only open shows ([`OpenOptions::durable_only`]).
    pub(crate) visibility: wal_io::Visibility,
    pub(crate) recovery_threads: usize,
}

/// [`OpenOptions::recovery_threads`]' default: 2 on a machine with more
/// than one core.
fn default_recovery_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Default configuration, real files, strict recovery.
    #[must_use]
    pub fn new() -> Self {
        Self {
            config: StoreConfig::default(),
            storage: Arc::new(FsStorage::new()),
            salvage: false,
            import_legacy: false,
            schema_version: 0,
            verify_writes: true,
            durability: Durability::OnFlush,
            preallocate: None,
            visibility: wal_io::Visibility::Written,
            recovery_threads: default_recovery_threads(),
        }
    }

    /// Threads [`open_threaded`](Self::open_threaded) and
    /// [`open_shared`](Self::open_shared) replay the log with (default: 2
    /// where the machine has two cores or more, else 1; [`open`](Self::open),
    /// whose bounds do not ask for `Send`, always uses 1). With 1, the
    /// opening thread reads, checks and decodes a chunk of records, then
    /// applies it; with 2 or more, a second thread reads, checks checksums in
    /// file order, decodes and hashes inserted keys, while the opening
    /// thread applies the decoded records to the map in log order. The
    /// resulting map, its order and every recovery verdict (torn tail,
    /// corruption, salvage, the record a failure names and its message)
    /// are the same either way; on two cores the open takes about three
    /// quarters of the time (0.30 s instead of 0.39 s for 1M entries).
    /// Values above 2 use 2 threads for now: applying in log order on one
    /// thread is the part left to split. `0` means 1.
    #[must_use]
    pub fn recovery_threads(mut self, threads: usize) -> Self {
        self.recovery_threads = threads.max(1);
        self
    }

    /// When mutations become durable (default [`Durability::OnFlush`]);
    /// see [`Durability`] for what each policy can lose and costs.
    /// [`StoreConfig::sync_on_write`] `true` means [`Durability::Always`]
    /// whatever is set here.
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The policy a store opened with these options gets.
    pub(crate) fn effective_durability(&self) -> Durability {
        if self.config.sync_on_write {
            Durability::Always
        } else {
            self.durability
        }
    }

    /// Grows the log file in zero-filled chunks of `chunk` bytes ahead of
    /// the records (`None`, the default: it grows with every write), so
    /// that a sync seldom has to record a new file length: durable writes
    /// ([`Durability::Always`]) cost less on most file systems. A clean
    /// close trims the file back to its records; after a crash, the zeros
    /// past the last record are recognised as preallocated space and kept
    /// (`RecoveryReport::preallocated`), never taken for damage. A log
    /// written with preallocation opens without it (the zeros are then cut
    /// off as a torn tail would be) and the other way round. On a disk
    /// without room for a whole chunk, writes go on without one, as far as
    /// the space goes.
    #[must_use]
    pub fn preallocate(mut self, chunk: Option<u64>) -> Self {
        self.preallocate = chunk.filter(|&c| c > 0);
        self
    }

    /// The application's own schema version (default 0), recorded in the
    /// log with the shapes of the key and value types and compared on
    /// open: bump it when the meaning of the stored data changes while the
    /// types keep their shape. A store of another version is refused with
    /// [`StoreError::TypeMismatch`](crate::StoreError::TypeMismatch); [`OpenOptions::migrate`] converts it.
    #[must_use]
    pub fn schema_version(mut self, version: u32) -> Self {
        self.schema_version = version;
        self
    }

    /// Uses `config`.
    #[must_use]
    pub fn config(mut self, config: StoreConfig) -> Self {
        self.config = config;
        self
    }

    /// Runs the store on `storage` (for example `sim::SimStorage` in tests,
    /// with the `sim` feature).
    #[must_use]
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = storage;
        self
    }

    /// When synced data turns out damaged: with `false` (the default) the
    /// open fails and changes nothing; with `true` every byte from the
    /// damage on is copied to `<path>.corrupt-<offset>` (synced) and the
    /// store opens with the valid records before it.
    #[must_use]
    pub fn salvage(mut self, salvage: bool) -> Self {
        self.salvage = salvage;
        self
    }

    /// Whether every record is checked, before it is logged, to read back
    /// as written (default `true`): it is decoded under the very limit an
    /// open applies and must give the same operations. A write that would
    /// not read back (a key or value type with
    /// `#[serde(skip_serializing_if)]`, which bincode cannot represent, or
    /// a value so large that decoding it would claim more memory than the
    /// reader allows for a record of its size) fails with
    /// [`StoreError::Unreadable`](crate::StoreError::Unreadable) and writes nothing; without the check it
    /// would be acknowledged, and the next open would refuse the log.
    /// `false` saves one decode per write (see the README for what that
    /// costs) for types you know round-trip. When the key and the value
    /// are each a `String`, `Vec<u8>`, `Box<str>`, `Box<[u8]>`, integer,
    /// float, `bool`, `char` or `()`, the decode cannot fail and is skipped
    /// even with `true`.
    #[must_use]
    pub fn verify_writes(mut self, verify: bool) -> Self {
        self.verify_writes = verify;
        self
    }
}
