//! [`SharedStore`]: one open store used from many threads, with group
//! commit and a background syncer.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use indexmap::Equivalent;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durability::Durability;
use crate::group_commit::{Commit, Mailbox, write_lock};
use crate::syncer;
use crate::{Batch, IndexMapStore, OpenOptions, StoreStats};

/// One open store shared by many threads: `Clone + Send + Sync`, each
/// clone a handle to the same store.
///
/// - **Reads** ([`read`](Self::read), [`get_cloned`](Self::get_cloned), …)
///   run concurrently with each other and never wait for an `fdatasync`:
///   they wait only while a writer changes the map (or compacts the log).
/// - **Writes** are serialised in log order, each through the store's own
///   method ([`write`](Self::write) runs any of them).
/// - Under [`Durability::Always`] a write returns once an `fdatasync` that
///   began after its record was written has succeeded. While one sync is
///   in flight later writers append, and the next sync covers all of them
///   (group commit): N concurrent durable writers cost about one sync per
///   round, not N.
/// - Under [`Durability::Interval`] and [`Durability::Bytes`] a background
///   thread syncs within the window, also when writes stop; it ends when
///   the last handle is dropped or closed. A write that finds the window
///   exceeded (writers that never pause outran the thread, or a sync was
///   slow) waits for a sync covering it, as a plain store's write syncs.
/// - Dropping the last handle, like [`close`](Self::close), closes the
///   store (synced and sealed, its lock released) before it returns, so
///   the path can be opened again at once.
/// - A failed sync is an error for every writer waiting on it and poisons
///   the store: every later write fails; reopen it.
///
/// ```
/// use indexmap_store::{Durability, OpenOptions, SharedStore};
/// # let dir = tempfile::tempdir()?;
/// let store: SharedStore<String, u64> = OpenOptions::new()
///     .durability(Durability::Always)
///     .open_shared(dir.path().join("counts.log"))?;
/// let writers: Vec<_> = (0..4u64)
///     .map(|t| {
///         let store = store.clone();
///         std::thread::spawn(move || store.insert(format!("thread-{t}"), t))
///     })
///     .collect();
/// for w in writers {
///     w.join().unwrap()?; // durable once it returns
/// }
/// assert_eq!(store.read().len(), 4);
/// assert_eq!(store.get_cloned("thread-2"), Some(2));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SharedStore<K, V, S = RandomState> {
    inner: Arc<Inner<K, V, S>>,
    /// [`close`](SharedStore::close) already gave up this handle's count.
    released: bool,
}

pub(crate) struct Inner<K, V, S> {
    pub(crate) store: RwLock<IndexMapStore<K, V, S>>,
    pub(crate) durability: Durability,
    pub(crate) commit: Commit,
    pub(crate) mailbox: Arc<Mailbox>,
    pub(crate) syncer: Mutex<Option<JoinHandle<()>>>,
    /// User handles (clones of [`SharedStore`]); the background thread
    /// holds none.
    pub(crate) handles: AtomicUsize,
}

impl OpenOptions {
    /// Opens (or creates) the store at `path`, as
    /// [`open_threaded`](Self::open_threaded) (replaying with
    /// [`recovery_threads`](Self::recovery_threads) threads), behind a
    /// [`SharedStore`] for use from many threads.
    pub fn open_shared<K, V>(&self, path: impl AsRef<Path>) -> io::Result<SharedStore<K, V>>
    where
        K: Hash + Eq + Serialize + DeserializeOwned + Send + Sync + 'static,
        V: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.open_threaded(path).map(SharedStore::new)
    }
}

impl<K, V, S> SharedStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Shares `store`, keeping its [`Durability`] policy; starts the
    /// background syncer for `Interval` and `Bytes`.
    pub fn new(mut store: IndexMapStore<K, V, S>) -> Self {
        let durability = store.durability();
        store.sync.deferred = true;
        let durable = store.wal.durable_seq();
        let inner = Arc::new(Inner {
            store: RwLock::new(store),
            durability,
            commit: Commit::starting_at(durable),
            mailbox: Arc::new(Mailbox::default()),
            syncer: Mutex::new(None),
            handles: AtomicUsize::new(1),
        });
        if matches!(durability, Durability::Interval(_) | Durability::Bytes(_)) {
            syncer::start(&inner);
        }
        Self {
            inner,
            released: false,
        }
    }

    /// Read access to the store, shared with other readers: every read
    /// method of [`IndexMapStore`] (`get`, `iter`, `as_map`, `stats`, …).
    /// Waits only while a writer changes the map. Do not hold the guard
    /// across a write from the same thread: that would deadlock.
    pub fn read(&self) -> RwLockReadGuard<'_, IndexMapStore<K, V, S>> {
        self.inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the store under the write lock (any mutating method,
    /// or several: each is its own record), then makes what it wrote as
    /// durable as the policy says: under [`Durability::Always`] it returns
    /// once a sync covering every record `f` wrote has succeeded (group
    /// commit), without holding the lock during the sync. Under
    /// [`Durability::Bytes`] and [`Durability::Interval`] it returns at
    /// once while the window holds, and otherwise (`n` bytes unsynced, or
    /// a write unsynced for `d`: the background syncer fell behind) waits
    /// for a sync covering its records, as a plain store's write syncs.
    /// If `f` returns
    /// an error or panics after some of its mutations were logged, those
    /// stay logged and applied (each is its own record), the background
    /// syncer of `Interval` and `Bytes` still covers them, and the error
    /// is returned (the panic resumed) without waiting for a sync.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut IndexMapStore<K, V, S>) -> io::Result<R>,
    ) -> io::Result<R> {
        let (outcome, target, unsynced, wrote) = {
            let _appending = self.inner.commit.appending();
            let mut store = write_lock(&self.inner.store);
            let before = store.wal.stats().next_seq;
            // `f` may log records and then fail or panic: they are in the
            // map and the log all the same, and the syncer must hear of
            // them, or an idle store would keep them unsynced for good.
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| f(&mut store)));
            let stats = store.wal.stats();
            (
                outcome,
                stats.next_seq,
                stats.unsynced_bytes,
                stats.next_seq > before,
            )
        };
        let overdue = wrote
            && match self.inner.durability {
                Durability::Bytes(n) => {
                    self.inner.mailbox.wrote(unsynced >= n);
                    unsynced >= n
                }
                Durability::Interval(d) => self.inner.mailbox.wrote(false).elapsed() >= d,
                _ => false,
            };
        let result = match outcome {
            Ok(result) => result?,
            Err(payload) => panic::resume_unwind(payload),
        };
        // Under `Bytes` and `Interval` a write past the window waits as a
        // plain store's would, or writers that never pause would outrun the
        // syncer without bound.
        if self.inner.durability == Durability::Always || overdue {
            self.inner.commit.wait_durable(&self.inner.store, target)?;
        }
        Ok(result)
    }

    /// [`IndexMapStore::insert`] through the shared handle.
    pub fn insert(&self, key: K, value: V) -> io::Result<Option<V>> {
        self.write(|s| s.insert(key, value))
    }

    /// [`IndexMapStore::insert_many`]: one atomic record.
    pub fn insert_many(&self, pairs: impl IntoIterator<Item = (K, V)>) -> io::Result<()> {
        self.write(|s| s.insert_many(pairs))
    }

    /// [`IndexMapStore::apply`]: one atomic record.
    pub fn apply(&self, batch: Batch<K, V>) -> io::Result<()> {
        self.write(|s| s.apply(batch))
    }

    /// [`IndexMapStore::shift_remove`] (order kept, O(n)).
    pub fn shift_remove<Q>(&self, key: &Q) -> io::Result<Option<V>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.write(|s| s.shift_remove(key))
    }

    /// [`IndexMapStore::swap_remove`] (the last entry moves in, O(1)).
    pub fn swap_remove<Q>(&self, key: &Q) -> io::Result<Option<V>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.write(|s| s.swap_remove(key))
    }

    /// [`IndexMapStore::modify`].
    pub fn modify<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> io::Result<Option<R>>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.write(|s| s.modify(key, f))
    }

    /// [`IndexMapStore::clear`].
    pub fn clear(&self) -> io::Result<()> {
        self.write(IndexMapStore::clear)
    }

    /// A clone of the value of `key`. Cost: O(1) plus the clone, under
    /// the read lock.
    #[must_use]
    pub fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
        V: Clone,
    {
        self.read().get(key).cloned()
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.read().contains_key(key)
    }

    /// Entries in the store.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Makes every mutation so far durable, sharing the sync with any
    /// concurrent writer; returns the durable watermark (every record
    /// below it survives power loss). Under [`Durability::Buffered`] it
    /// first hands the buffer to the operating system.
    pub fn flush(&self) -> io::Result<u64> {
        let target = self.read().wal.stats().next_seq;
        self.inner.commit.wait_durable(&self.inner.store, target)
    }

    /// [`IndexMapStore::stats`].
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        self.read().stats()
    }

    /// The store's policy.
    #[must_use]
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Closes this handle, reporting errors a drop would ignore. The last
    /// handle stops the background syncer and closes the store
    /// ([`IndexMapStore::close`]: synced and sealed, its lock released
    /// before `close` returns); any other makes everything so far durable
    /// ([`flush`](Self::flush)) and leaves the store open for the
    /// remaining handles. When handles close concurrently, exactly one is
    /// the last.
    pub fn close(mut self) -> io::Result<()> {
        // A handle that is not the last flushes while it still counts, so
        // that the last one, which waits for every other holder of the
        // store to let go, waits for no sync.
        let flushed =
            (self.inner.handles.load(Ordering::Acquire) > 1).then(|| self.flush().map(drop));
        self.released = true;
        if self.inner.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            // A clone made after the count was read: flush all the same.
            return flushed.unwrap_or_else(|| self.flush().map(drop));
        }
        self.inner.last_handle_gone();
        let inner = Arc::clone(&self.inner);
        drop(self);
        match Arc::try_unwrap(inner) {
            Ok(inner) => {
                let store = inner
                    .store
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                flushed.unwrap_or(Ok(())).and(store.close())
            }
            // Not expected: `last_handle_gone` waited for every other
            // reference. Whoever holds one closes the store on its drop.
            Err(inner) => {
                let target = write_lock(&inner.store).wal.stats().next_seq;
                inner.commit.wait_durable(&inner.store, target).map(drop)
            }
        }
    }
}

impl<K, V, S> Clone for SharedStore<K, V, S> {
    fn clone(&self) -> Self {
        self.inner.handles.fetch_add(1, Ordering::AcqRel);
        Self {
            inner: Arc::clone(&self.inner),
            released: false,
        }
    }
}

impl<K, V, S> Drop for SharedStore<K, V, S> {
    /// Dropping the last handle closes the store (as
    /// [`IndexMapStore`]'s drop: synced and sealed, errors ignored) before
    /// it returns.
    fn drop(&mut self) {
        if !self.released && self.inner.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.last_handle_gone();
        }
    }
}

impl<K, V, S> std::fmt::Debug for SharedStore<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("durability", &self.inner.durability)
            .field("durable_seq", &self.inner.commit.durable())
            .field("handles", &self.inner.handles.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
