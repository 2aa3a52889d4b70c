//! The stores under comparison behind one small trait, [`Store`], each used
//! the way its documentation shows: indexmap_store, crates.io
//! indexmap_store 0.2.3 ([`crate::legacy`]), sled 0.34, redb 4, fjall 3 and
//! pickledb 0.5, and the raw `write` + `fdatasync` floors
//! ([`crate::floor`]; `floor-group`, the floor of `durable-threads`, is
//! [`crate::group_floor`]).
//!
//! [`Durability`] says what a write must survive before it returns. The
//! report (`cargo xtask compare`) states what each store does for each
//! setting; the summary is on each `impl`. A store that fails here panics:
//! this is a test tool, and the panic message names the store and call.

use std::path::Path;

use crate::data::Entry;

/// When writes become durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Each write made durable only by a later [`Store::sync`] (a bulk load
    /// ends with one).
    OnSync,
    /// Each write durable (synced to the disk) before it returns.
    EveryWrite,
}

/// One store under test. Keys and values are ASCII (see [`crate::data`]).
/// `Send`, so that `durable-threads` can share one behind a `Mutex`.
pub trait Store: Send {
    /// Writes one entry (one call, or one transaction, per entry).
    fn insert(&mut self, entry: &Entry);
    /// Writes `entries` through the store's batch path: one batch, one
    /// transaction or one record for all of them.
    fn insert_batch(&mut self, entries: &[Entry]);
    /// Makes everything written so far durable (the store's own flush).
    fn sync(&mut self);
    /// The length of the value stored under `key`, if any.
    fn value_len(&mut self, key: &str) -> Option<usize>;
    /// Reads every entry: their count and the sum of key and value lengths.
    fn scan(&mut self) -> (u64, u64);
}

/// The names `--store` takes, in the report's column order.
/// The stores of [`THREADS_ONLY`] run `durable-threads` only (see
/// [`crate::threads`]); `floor-append` and `floor-prealloc` run `durable`
/// only; `indexmap_store-prealloc` runs both (see
/// [`indexmap_store_prealloc`]).
pub const NAMES: [&str; 12] = [
    "indexmap_store",
    "indexmap_store-buffered",
    "indexmap_store-shared",
    "indexmap_store-prealloc",
    "indexmap_store-0.2.3",
    "sled",
    "redb",
    "fjall",
    "pickledb",
    "floor-append",
    "floor-prealloc",
    "floor-group",
];

/// The stores that have no single-threaded [`Store`] and run
/// `durable-threads` only: the binary refuses them any other workload.
pub const THREADS_ONLY: [&str; 2] = ["indexmap_store-shared", "floor-group"];

/// Opens (or creates) store `name` in the directory `dir`, for a workload
/// of `n` entries (the preallocated floor's file is `n` records long);
/// `None` when this build does not have that store (a hook not filled).
pub fn open(name: &str, dir: &Path, durability: Durability, n: u64) -> Option<Box<dyn Store>> {
    Some(match name {
        "indexmap_store" => Box::new(Ours::open(dir, durability)),
        "indexmap_store-buffered" => return indexmap_store_buffered(dir, durability),
        "indexmap_store-prealloc" => return indexmap_store_prealloc(dir, durability),
        "indexmap_store-0.2.3" => Box::new(crate::legacy::Legacy::open(dir, durability)),
        "sled" => Box::new(Sled::open(dir, durability)),
        "redb" => Box::new(Redb::open(dir, durability)),
        "fjall" => Box::new(Fjall::open(dir, durability)),
        "pickledb" => Box::new(Pickle::open(dir, durability)),
        "floor-append" => Box::new(crate::floor::Floor::open(dir, durability, false, n)),
        "floor-prealloc" => Box::new(crate::floor::Floor::open(dir, durability, true, n)),
        other => panic!(
            "store `{other}` has no single-threaded Store (known: {})",
            NAMES.join(", ")
        ),
    })
}

/// The preallocation chunk of `indexmap_store-prealloc`: what fjall
/// sets its journal's length to.
pub const PREALLOC_CHUNK: u64 = 64 << 20;

/// indexmap_store with a preallocated log (`OpenOptions::preallocate`,
/// [`PREALLOC_CHUNK`]; issue 16), so that a durable write does not change
/// the file's length, as `floor-prealloc`'s and fjall's do not: the
/// configuration issue 16's one-thread target is about. Off by default in
/// the store (a preallocated log is longer than its records until it is
/// closed), so a column of its own. Runs `durable` (one thread,
/// `sync_on_write`) and, through a `SharedStore`, `durable-threads`.
fn indexmap_store_prealloc(dir: &Path, durability: Durability) -> Option<Box<dyn Store>> {
    let config = indexmap_store::StoreConfig {
        sync_on_write: durability == Durability::EveryWrite,
        ..Default::default()
    };
    let options = indexmap_store::OpenOptions::new()
        .config(config)
        .preallocate(Some(PREALLOC_CHUNK));
    Some(Box::new(Ours::open_with(dir, &options)))
}

/// indexmap_store with the `Buffered` durability policy (issue 16):
/// records gather in a `buf_capacity` (1 MiB) user-space buffer, as
/// crates.io 0.2.3's `BufWriter` does; a killed process loses the buffer.
/// `durability` is [`Durability::OnSync`] in every workload this store
/// runs (`load-per-call`, `churn`; see `xtask/src/compare.rs`, `supports`).
fn indexmap_store_buffered(dir: &Path, durability: Durability) -> Option<Box<dyn Store>> {
    let _ = durability;
    let options =
        indexmap_store::OpenOptions::new().durability(indexmap_store::Durability::Buffered);
    Some(Box::new(Ours::open_with(dir, &options)))
}

/// indexmap_store with `StoreConfig::default()` (auto-compaction on), or
/// `sync_on_write: true` for [`Durability::EveryWrite`] (`fdatasync` per
/// write). Every write reaches the OS (one `write(2)`) before it returns;
/// `sync` is `flush()` (`fdatasync`). Batches are `insert_many` (one record).
struct Ours(indexmap_store::IndexMapStore<String, String>);

impl Ours {
    fn open(dir: &Path, durability: Durability) -> Self {
        let config = indexmap_store::StoreConfig {
            sync_on_write: durability == Durability::EveryWrite,
            ..Default::default()
        };
        Self::open_with(dir, &indexmap_store::OpenOptions::new().config(config))
    }

    /// The store at `dir/store.log`, opened with `options`, decoding on a
    /// second thread (`open_threaded`, `recovery_threads` 2: what measures
    /// best on two cores; the sequential `open` takes about 1.3 times
    /// as long).
    fn open_with(dir: &Path, options: &indexmap_store::OpenOptions) -> Self {
        let path = dir.join("store.log");
        let store = options
            .open_threaded(&path)
            .unwrap_or_else(|e| panic!("indexmap_store: open {}: {e}", path.display()));
        Ours(store)
    }
}

impl Store for Ours {
    fn insert(&mut self, e: &Entry) {
        let (key, value) = (e.key().to_owned(), e.value().to_owned());
        self.0.insert(key, value).expect("indexmap_store: insert");
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        let pairs = entries
            .iter()
            .map(|e| (e.key().to_owned(), e.value().to_owned()));
        self.0
            .insert_many(pairs)
            .expect("indexmap_store: insert_many");
    }
    fn sync(&mut self) {
        self.0.flush().expect("indexmap_store: flush");
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        self.0.get(key).map(String::len)
    }
    fn scan(&mut self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(n, bytes), (k, v)| {
            (n + 1, bytes + (k.len() + v.len()) as u64)
        })
    }
}

/// sled 0.34 with its default config (1 GiB cache, a background flush
/// every 500 ms). [`Durability::EveryWrite`]: `insert` then `flush()`
/// (fsync). `sync` is `flush()`; batches are `apply_batch`.
struct Sled {
    db: sled::Db,
    flush_each: bool,
}

impl Sled {
    fn open(dir: &Path, durability: Durability) -> Self {
        let db = sled::open(dir.join("sled")).expect("sled: open");
        Sled {
            db,
            flush_each: durability == Durability::EveryWrite,
        }
    }
}

impl Store for Sled {
    fn insert(&mut self, e: &Entry) {
        self.db.insert(e.key(), e.value()).expect("sled: insert");
        if self.flush_each {
            self.db.flush().expect("sled: flush");
        }
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        let mut batch = sled::Batch::default();
        for e in entries {
            batch.insert(e.key(), e.value());
        }
        self.db.apply_batch(batch).expect("sled: apply_batch");
    }
    fn sync(&mut self) {
        self.db.flush().expect("sled: flush");
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        self.db.get(key).expect("sled: get").map(|v| v.len())
    }
    fn scan(&mut self) -> (u64, u64) {
        self.db.iter().fold((0, 0), |(n, bytes), kv| {
            let (k, v) = kv.expect("sled: iter");
            (n + 1, bytes + (k.len() + v.len()) as u64)
        })
    }
}

/// The one redb table.
const REDB_TABLE: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("kv");

/// redb 4 with its default config. Every write is a write transaction:
/// [`Durability::OnSync`] commits with `Durability::None` (not persisted
/// until a later durable commit), [`Durability::EveryWrite`] with the
/// default `Durability::Immediate`. `sync` commits an empty transaction
/// with `Immediate` durability; a batch is one `None` transaction. Reads
/// share one read transaction, opened at the first read after a write.
struct Redb {
    db: redb::Database,
    durability: redb::Durability,
    read: Option<redb::ReadOnlyTable<&'static str, &'static str>>,
}

impl Redb {
    fn open(dir: &Path, durability: Durability) -> Self {
        let db = redb::Database::create(dir.join("db.redb")).expect("redb: create");
        let durability = match durability {
            Durability::OnSync => redb::Durability::None,
            Durability::EveryWrite => redb::Durability::Immediate,
        };
        // The table is created by the first write transaction.
        Redb {
            db,
            durability,
            read: None,
        }
    }

    fn write(&mut self, durability: redb::Durability, entries: &[Entry]) {
        self.read = None;
        let mut txn = self.db.begin_write().expect("redb: begin_write");
        txn.set_durability(durability)
            .expect("redb: set_durability");
        {
            let mut table = txn.open_table(REDB_TABLE).expect("redb: open_table");
            for e in entries {
                table.insert(e.key(), e.value()).expect("redb: insert");
            }
        }
        txn.commit().expect("redb: commit");
    }

    fn table(&mut self) -> &redb::ReadOnlyTable<&'static str, &'static str> {
        use redb::ReadableDatabase;
        self.read.get_or_insert_with(|| {
            let txn = self.db.begin_read().expect("redb: begin_read");
            txn.open_table(REDB_TABLE).expect("redb: open_table")
        })
    }
}

impl Store for Redb {
    fn insert(&mut self, e: &Entry) {
        self.write(self.durability, std::slice::from_ref(e));
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        self.write(self.durability, entries);
    }
    fn sync(&mut self) {
        self.write(redb::Durability::Immediate, &[]);
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        let got = self.table().get(key).expect("redb: get");
        got.map(|v| v.value().len())
    }
    fn scan(&mut self) -> (u64, u64) {
        use redb::ReadableTable;
        let iter = self.table().iter().expect("redb: iter");
        iter.fold((0, 0), |(n, bytes), kv| {
            let (k, v) = kv.expect("redb: iter");
            (n + 1, bytes + (k.value().len() + v.value().len()) as u64)
        })
    }
}

/// fjall 3 with its default config: one keyspace; each write goes to the
/// journal and is flushed to the OS (`PersistMode::Buffer`) before it
/// returns. [`Durability::EveryWrite`]: `insert` then
/// `persist(PersistMode::SyncData)` (`fdatasync`, like ours). `sync` is
/// `persist(SyncData)`; batches are a `WriteBatch`.
struct Fjall {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
    sync_each: bool,
}

impl Fjall {
    fn open(dir: &Path, durability: Durability) -> Self {
        let db = fjall::Database::builder(dir.join("fjall"))
            .open()
            .expect("fjall: open");
        let keyspace = db
            .keyspace("kv", fjall::KeyspaceCreateOptions::default)
            .expect("fjall: keyspace");
        Fjall {
            db,
            keyspace,
            sync_each: durability == Durability::EveryWrite,
        }
    }
}

impl Store for Fjall {
    fn insert(&mut self, e: &Entry) {
        self.keyspace
            .insert(e.key(), e.value())
            .expect("fjall: insert");
        if self.sync_each {
            self.sync();
        }
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        let mut batch = self.db.batch();
        for e in entries {
            batch.insert(&self.keyspace, e.key(), e.value());
        }
        batch.commit().expect("fjall: batch commit");
    }
    fn sync(&mut self) {
        self.db
            .persist(fjall::PersistMode::SyncData)
            .expect("fjall: persist");
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        let got = self.keyspace.get(key).expect("fjall: get");
        got.map(|v| v.len())
    }
    fn scan(&mut self) -> (u64, u64) {
        self.keyspace.iter().fold((0, 0), |(n, bytes), guard| {
            let (k, v) = guard.into_inner().expect("fjall: iter");
            (n + 1, bytes + (k.len() + v.len()) as u64)
        })
    }
}

/// pickledb 0.5, bincode serialization (the codec indexmap_store uses). It
/// holds everything in a `HashMap` and "dumps" by serializing the whole map
/// to a temporary file and renaming it over the old one, with no fsync.
/// [`Durability::OnSync`]: `DumpUponRequest`, `sync` is `dump()`;
/// [`Durability::EveryWrite`]: `AutoDump` (every `set` rewrites the whole
/// file). It has no batch API for key-value pairs: a batch is one `set`
/// per entry.
struct Pickle(pickledb::PickleDb);

impl Pickle {
    fn open(dir: &Path, durability: Durability) -> Self {
        use pickledb::{PickleDb, PickleDbDumpPolicy, SerializationMethod};
        let policy = || match durability {
            Durability::OnSync => PickleDbDumpPolicy::DumpUponRequest,
            Durability::EveryWrite => PickleDbDumpPolicy::AutoDump,
        };
        let path = dir.join("db.pickle");
        if path.exists() {
            let db = PickleDb::load(&path, policy(), SerializationMethod::Bin)
                .unwrap_or_else(|e| panic!("pickledb: load {}: {e}", path.display()));
            Pickle(db)
        } else {
            Pickle(PickleDb::new(&path, policy(), SerializationMethod::Bin))
        }
    }
}

impl Store for Pickle {
    fn insert(&mut self, e: &Entry) {
        self.0.set(e.key(), &e.value()).expect("pickledb: set");
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        for e in entries {
            self.insert(e);
        }
    }
    fn sync(&mut self) {
        self.0.dump().expect("pickledb: dump");
    }
    fn value_len(&mut self, key: &str) -> Option<usize> {
        self.0.get::<String>(key).map(|v| v.len())
    }
    fn scan(&mut self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(n, bytes), kv| {
            let value: String = kv.get_value().expect("pickledb: decode value");
            (n + 1, bytes + (kv.get_key().len() + value.len()) as u64)
        })
    }
}
