//! `durable-threads`: `n` inserts shared among `T` threads, each insert
//! acknowledged only once it is durable, so that a store that commits a
//! group of concurrent writers with one sync is seen doing so. Thread `t`
//! inserts entries `t`, `t + T`, `t + 2T`, ... below `n`; the clock runs
//! from the moment all threads are started to the moment the last one ends.
//!
//! Each store in its durable mode, from every thread at once:
//! - `indexmap_store`: a plain store shared the naive way, one
//!   `Mutex<IndexMapStore>` with `sync_on_write: true` (a writer syncs while
//!   holding the lock, so no two syncs overlap);
//! - `indexmap_store-shared`: the `SharedStore` with group commit
//!   ([`indexmap_store_shared_durable`]);
//! - fjall: `Keyspace::insert`, then `Database::persist(PersistMode::SyncData)`;
//! - redb: one write transaction per insert, `Durability::Immediate` (redb
//!   runs one write transaction at a time);
//! - sled: `Db::insert`, then `Db::flush()` (`sync_file_range(2)`, not fsync:
//!   see the report's note on sled's `durable`);
//! - `floor-group`: no store, an ideal group commit of raw records into a
//!   preallocated file, the floor of this workload ([`crate::group_floor`]).

use std::path::Path;
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use crate::data::{ENTRY_LEN, Entry};
use crate::stores::{self, Durability};
use crate::workloads::Outcome;

/// Runs `durable-threads` with `threads` threads on `store`; `None` when
/// this build does not have the store (the hook not filled yet).
pub fn run(store: &str, threads: u32, n: u64, dir: &Path) -> Option<Outcome> {
    let out = match store {
        "indexmap_store-shared" => return indexmap_store_shared_durable(threads, n, dir, None),
        "indexmap_store-prealloc" => {
            let chunk = Some(stores::PREALLOC_CHUNK);
            return indexmap_store_shared_durable(threads, n, dir, chunk);
        }
        "floor-group" => crate::group_floor::run(threads, n, dir),
        "fjall" => {
            let db = fjall::Database::builder(dir.join("fjall"))
                .open()
                .expect("fjall: open");
            let keyspace = db
                .keyspace("kv", fjall::KeyspaceCreateOptions::default)
                .expect("fjall: keyspace");
            drive(threads, n, |e| {
                keyspace.insert(e.key(), e.value()).expect("fjall: insert");
                db.persist(fjall::PersistMode::SyncData)
                    .expect("fjall: persist");
            })
        }
        "redb" => {
            let db = redb::Database::create(dir.join("db.redb")).expect("redb: create");
            let table: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("kv");
            drive(threads, n, |e| {
                let txn = db.begin_write().expect("redb: begin_write");
                {
                    let mut t = txn.open_table(table).expect("redb: open_table");
                    t.insert(e.key(), e.value()).expect("redb: insert");
                }
                txn.commit().expect("redb: commit");
            })
        }
        "sled" => {
            let db = sled::open(dir.join("sled")).expect("sled: open");
            drive(threads, n, |e| {
                db.insert(e.key(), e.value()).expect("sled: insert");
                db.flush().expect("sled: flush");
            })
        }
        // indexmap_store (and any other single-writer store): one store
        // behind a mutex, syncing every write.
        other => {
            let db = stores::open(other, dir, Durability::EveryWrite, n)?;
            let db = Mutex::new(db);
            drive(threads, n, |e| {
                db.lock().expect("no writer panicked").insert(e);
            })
        }
    };
    Some(out)
}

/// indexmap_store's `SharedStore` (issue 16), shared by `threads`
/// threads, each insert durable (`Durability::Always`) before it returns:
/// group commit, one `fdatasync` per round for every writer waiting; with
/// `preallocate`, over a log preallocated in chunks of that many bytes
/// (`indexmap_store-prealloc`).
pub fn indexmap_store_shared_durable(
    threads: u32,
    n: u64,
    dir: &Path,
    preallocate: Option<u64>,
) -> Option<Outcome> {
    let path = dir.join("store.log");
    let store: indexmap_store::SharedStore<String, String> = indexmap_store::OpenOptions::new()
        .durability(indexmap_store::Durability::Always)
        .preallocate(preallocate)
        .open_shared(&path)
        .unwrap_or_else(|e| panic!("indexmap_store: open {}: {e}", path.display()));
    Some(drive(threads, n, |e| {
        store
            .insert(e.key().to_owned(), e.value().to_owned())
            .expect("indexmap_store: shared insert");
    }))
}

/// Runs `insert` on entries `0..n` from `threads` threads (thread `t`
/// takes every `threads`-th entry from `t`), and times them from a common
/// start to the end of the last.
pub fn drive(threads: u32, n: u64, insert: impl Fn(&Entry) + Sync) -> Outcome {
    let threads = u64::from(threads.max(1));
    let barrier = Barrier::new(threads as usize + 1);
    let secs = std::thread::scope(|scope| {
        for t in 0..threads {
            let (barrier, insert) = (&barrier, &insert);
            scope.spawn(move || {
                barrier.wait();
                let mut index = t;
                while index < n {
                    insert(&Entry::new(index, 0));
                    index += threads;
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins every thread before it returns.
        start
    });
    Outcome {
        ops: n,
        secs: secs.elapsed().as_secs_f64(),
        live_bytes: n * ENTRY_LEN,
        check: threads,
        ..Outcome::default()
    }
}
