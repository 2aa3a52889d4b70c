//! Open files and held locks of a [`SimStorage`].

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::SimStorage;
use crate::storage::{StorageFile, StorageLock};

/// An open file of a [`SimStorage`].
pub(super) struct SimFile {
    /// The file system.
    pub(super) sim: SimStorage,
    /// The file's inode.
    pub(super) ino: u64,
    /// The generation it was opened in.
    pub(super) generation: u64,
    /// The name it was opened by, for `Debug`.
    pub(super) path: PathBuf,
}

impl fmt::Debug for SimFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFile")
            .field("path", &self.path)
            .field("ino", &self.ino)
            .field("generation", &self.generation)
            .finish()
    }
}

impl StorageFile for SimFile {
    fn len(&self) -> io::Result<u64> {
        self.sim.with(|st| st.len(self.ino, self.generation))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.sim
            .with(|st| st.read_at(self.ino, self.generation, offset, buf))
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.sim
            .with(|st| st.write_at(self.ino, self.generation, offset, data))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.sim
            .with(|st| st.set_len(self.ino, self.generation, len))
    }

    /// One operation: the zeros are one write ([`FaultKind`](super::FaultKind)s
    /// that need space fail it).
    fn allocate(&self, len: u64) -> io::Result<()> {
        self.sim
            .with(|st| st.allocate(self.ino, self.generation, len))
    }

    /// Two steps, with the state unlocked in between, so that writes from
    /// other threads can land while the sync is in flight: the sync covers
    /// every write made before it began, and maybe some made during it.
    fn sync_data(&self) -> io::Result<()> {
        let covers = self
            .sim
            .with(|st| st.sync_begin(self.ino, self.generation))?;
        std::thread::yield_now();
        self.sim
            .with(|st| st.sync_end(self.ino, self.generation, covers))
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        self.sim.with(|st| st.close(self.ino, self.generation));
    }
}

/// A lock held on a [`SimStorage`].
pub(super) struct SimLock {
    /// The file system.
    pub(super) sim: SimStorage,
    /// The lock's name.
    pub(super) path: PathBuf,
    /// Which taking of the lock this is; a crash or a later taking makes it
    /// stale, and a stale guard releases nothing.
    pub(super) token: u64,
}

impl fmt::Debug for SimLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimLock")
            .field("path", &self.path)
            .field("token", &self.token)
            .finish()
    }
}

impl StorageLock for SimLock {}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.sim.with(|st| st.unlock(&self.path, self.token));
    }
}
