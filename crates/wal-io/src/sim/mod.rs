//! [`SimStorage`]: a seeded, deterministic, fault-injecting in-memory file
//! system that loses data on a simulated power loss the way real ones do.
//!
//! Every file has a *visible* image (what reads see) and a *durable* image
//! (what survives power loss) plus the writes and `set_len`s made since its
//! last `sync_data`. The namespace likewise has visible and durable name
//! maps plus the creates, renames and removes not yet made durable by
//! `sync_dir` on their directory. [`SimStorage::crash`] replaces everything
//! with an image a power loss could leave ([`CrashVariant`]), and
//! [`SimStorage::inject`] makes chosen operations fail ([`Fault`]).
//!
//! Given the same seed and the same calls, the simulation produces the
//! same results, byte for byte.
//!
//! ```
//! use std::path::Path;
//! use wal_io::sim::{CrashVariant, SimStorage};
//! use wal_io::{OpenMode, Storage};
//!
//! let sim = SimStorage::new(7);
//! let storage: Box<dyn Storage> = Box::new(sim.clone());
//! let mut file = storage.open(Path::new("a.log"), OpenMode::CreateNew)?;
//! file.write_at(0, b"synced")?;
//! file.sync_data()?;
//! storage.sync_dir(Path::new("."))?;
//! file.write_at(6, b" lost")?;
//! sim.crash(CrashVariant::LoseUnsynced);
//! assert_eq!(sim.read_file("a.log"), Some(b"synced".to_vec()));
//! assert!(file.write_at(0, b"x").is_err()); // the handle died with the crash
//! # Ok::<(), std::io::Error>(())
//! ```

mod crash;
mod fault;
mod file;
mod ops;
mod state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_crash;
#[cfg(test)]
mod tests_sync;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use fault::{CrashVariant, Fault, FaultKind, OpKind};

use fault::{Rng, err};
use file::{SimFile, SimLock};
use state::{Inode, State};

use crate::storage::{OpenMode, Storage, StorageFile, StorageLock};

/// A seeded, deterministic in-memory file system with simulated crashes and
/// injected faults.
///
/// A cheap handle: clones share the same file system, so a test keeps one
/// while the code under test owns another. Every [`Storage`] and
/// [`StorageFile`] call counts as one operation ([`SimStorage::ops`]); the
/// inspection helpers (`read_file`, `write_file`, `list`, ...) do not count
/// and are never faulted.
///
/// Paths are compared as given. Only `.` and the directories made with
/// [`SimStorage::create_dir`] exist; a file's directory is its parent, or
/// `.` for a bare name. Files are capped at 1 GiB (`FileTooLarge` beyond).
#[derive(Clone)]
pub struct SimStorage {
    inner: Arc<Mutex<State>>,
}

impl SimStorage {
    /// An empty file system (only `.` exists) whose randomness is seeded
    /// with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::new(seed))),
        }
    }

    /// Runs `f` on the locked state.
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// Creates directory `path` and its ancestors (like `create_dir_all`);
    /// an existing directory is fine. Fails `AlreadyExists` if a file has
    /// one of those names. Not an operation.
    pub fn create_dir(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.with(|st| {
            let new: Vec<&Path> = path
                .ancestors()
                .filter(|a| !a.as_os_str().is_empty() && !st.is_dir(a))
                .collect();
            if new.iter().any(|a| st.visible.contains_key(*a)) {
                return Err(err(io::ErrorKind::AlreadyExists, "a file has this name"));
            }
            st.dirs.extend(new.into_iter().map(Path::to_path_buf));
            Ok(())
        })
    }

    /// The number of operations counted so far: the number the next
    /// operation gets.
    #[must_use]
    pub fn ops(&self) -> u64 {
        self.with(|st| st.ops)
    }

    /// How many crashes (and snapshots) this state has been through;
    /// handles from an older generation are stale.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.with(|st| st.generation)
    }

    /// Adds a fault. Faults survive crashes; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        self.with(|st| st.faults.push(fault));
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.with(|st| st.faults.clear());
    }

    /// Kills the process at operation `op`: it and every later operation
    /// fail with kind `Other` ("simulated crash: process is dead") and have
    /// no effect, until [`SimStorage::crash`] reboots.
    pub fn crash_at(&self, op: u64) {
        self.with(|st| st.crash_at = Some(op));
    }

    /// Whether an operation has been refused because of
    /// [`SimStorage::crash_at`] since the last crash.
    #[must_use]
    pub fn is_dead(&self) -> bool {
        self.with(|st| st.dead)
    }

    /// Simulates a power loss and reboot: the state becomes an image a
    /// crash of kind `variant` could leave, drawn from the seeded
    /// randomness. Afterwards every file is durable as it reads, nothing is
    /// pending, no lock is held, the process is alive and every handle
    /// opened before fails with kind `Other` ("simulated crash: stale
    /// handle"). Injected faults and the operation counter are kept.
    pub fn crash(&self, variant: CrashVariant) {
        self.with(|st| st.crash(variant));
    }

    /// Reseeds the randomness with `seed`, then [`crash`](Self::crash)es:
    /// to explore several images of the same state (on
    /// [`snapshot`](Self::snapshot)s).
    pub fn crash_with_seed(&self, variant: CrashVariant, seed: u64) {
        self.with(|st| {
            st.rng = Rng::new(seed);
            st.crash(variant);
        });
    }

    /// The contents reads of `path` see, if it exists.
    #[must_use]
    pub fn read_file(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        self.with(|st| {
            let ino = st.visible.get(path.as_ref())?;
            st.inodes.get(ino).map(|i| i.visible.clone())
        })
    }

    /// The contents of `path` that would survive a
    /// [`CrashVariant::LoseUnsynced`] crash, if any.
    #[must_use]
    pub fn durable_file(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        self.with(|st| {
            let ino = st.durable.get(path.as_ref())?;
            st.inodes.get(ino).map(|i| i.durable.clone())
        })
    }

    /// Makes `path` a new file holding `bytes`, durably (name and data),
    /// replacing any file there as an atomic rename would: open handles
    /// keep the old file. Its directory must exist. Not an operation.
    pub fn write_file(&self, path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
        let path = path.as_ref();
        self.with(|st| {
            st.check_file_path(path)?;
            let ino = st.add_inode(Inode::durable(bytes.to_vec()));
            st.visible.insert(path.to_path_buf(), ino);
            st.durable.insert(path.to_path_buf(), ino);
            for op in &mut st.pending_ns {
                op.effects.retain(|(p, _)| p != path);
            }
            st.pending_ns.retain(|op| !op.effects.is_empty());
            st.gc();
            Ok(())
        })
    }

    /// The visible file names, sorted.
    #[must_use]
    pub fn list(&self) -> Vec<PathBuf> {
        self.with(|st| st.visible.keys().cloned().collect())
    }

    /// The file names that would survive a [`CrashVariant::LoseUnsynced`]
    /// crash, sorted.
    #[must_use]
    pub fn durable_list(&self) -> Vec<PathBuf> {
        self.with(|st| st.durable.keys().cloned().collect())
    }

    /// Whether the lock named `path` is held.
    #[must_use]
    pub fn is_locked(&self, path: impl AsRef<Path>) -> bool {
        self.with(|st| st.locks.contains_key(path.as_ref()))
    }

    /// A deep, independent copy of the whole state (files, pending changes,
    /// randomness, counters, faults) with nothing locked and a new
    /// generation: handles and locks of `self` do not act on the copy. To
    /// crash a copy while the original workload continues.
    #[must_use]
    pub fn snapshot(&self) -> SimStorage {
        let mut copy = self.with(|st| st.clone());
        copy.locks.clear();
        copy.generation = copy.generation.saturating_add(1);
        for inode in copy.inodes.values_mut() {
            inode.handles = 0;
        }
        copy.gc();
        Self {
            inner: Arc::new(Mutex::new(copy)),
        }
    }
}

impl fmt::Debug for SimStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|st| fmt::Debug::fmt(st, f))
    }
}

impl Storage for SimStorage {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let (ino, generation) = self.with(|st| st.open(path, mode))?;
        Ok(Box::new(SimFile {
            sim: self.clone(),
            ino,
            generation,
            path: path.to_path_buf(),
        }))
    }

    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        self.with(|st| st.file_exists(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.with(|st| st.rename(from, to))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.with(|st| st.remove(path))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.with(|st| st.sync_dir(dir))
    }

    /// Deterministic: the seed and a counter, mixed.
    fn new_file_id(&self) -> u64 {
        self.with(|st| {
            st.file_ids += 1;
            let mut rng = Rng::new(st.seed ^ st.file_ids.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            rng.next_u64().max(1)
        })
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>> {
        let token = self.with(|st| st.lock(path))?;
        Ok(Box::new(SimLock {
            sim: self.clone(),
            path: path.to_path_buf(),
            token,
        }))
    }
}
