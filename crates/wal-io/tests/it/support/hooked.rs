//! The observing storage: a [`SimStorage`] that calls a hook before every
//! operation, with the operation's index, kind and file (renames followed).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use wal_io::sim::{OpKind, SimStorage};
use wal_io::{OpenMode, Storage, StorageFile, StorageLock};

use super::lock;

/// Whether an operation of kind `op` may change what a crash leaves
/// (anything but lookups and reads; taking a lock may create its file).
#[must_use]
pub fn mutates(op: OpKind) -> bool {
    !matches!(
        op,
        OpKind::Open | OpKind::FileExists | OpKind::Len | OpKind::Read
    )
}

/// One storage operation about to run.
#[derive(Debug, Clone)]
pub struct OpInfo {
    /// Its number in the simulation ([`SimStorage::ops`]).
    pub index: u64,
    /// What it is. [`Hooked`] sees the call, not its effect: it reports a
    /// `lock` as [`OpKind::Lock`] whether or not it creates the lock file,
    /// and a `set_len` as [`OpKind::SetLen`] whether or not it grows the
    /// file.
    pub op: OpKind,
    /// The file or directory it acts on.
    pub path: PathBuf,
}

/// A callback run before every storage operation.
pub type Hook = Arc<dyn Fn(&OpInfo) + Send + Sync>;

/// The current name of each open file of a [`Hooked`] storage.
type Names = Arc<Mutex<Vec<Weak<Mutex<PathBuf>>>>>;

/// A [`SimStorage`] that calls a hook before every operation.
#[derive(Clone)]
pub struct Hooked {
    sim: SimStorage,
    hook: Hook,
    names: Names,
}

impl Hooked {
    /// `sim`, observed by `hook`.
    pub fn new(sim: SimStorage, hook: Hook) -> Self {
        Self {
            sim,
            hook,
            names: Arc::default(),
        }
    }

    fn before(&self, op: OpKind, path: &Path) {
        (self.hook)(&OpInfo {
            index: self.sim.ops(),
            op,
            path: path.to_path_buf(),
        });
    }

    /// Open files named `from` are now named `to`.
    fn renamed(&self, from: &Path, to: &Path) {
        let mut names = lock(&self.names);
        names.retain(|n| n.strong_count() > 0);
        for name in names.iter().filter_map(Weak::upgrade) {
            let mut name = lock(&name);
            if *name == from {
                *name = to.to_path_buf();
            }
        }
    }
}

impl fmt::Debug for Hooked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Hooked").field(&self.sim).finish()
    }
}

impl Storage for Hooked {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let op = match mode {
            OpenMode::Existing => OpKind::Open,
            OpenMode::CreateNew => OpKind::CreateNew,
        };
        self.before(op, path);
        let inner = self.sim.open(path, mode)?;
        let name = Arc::new(Mutex::new(path.to_path_buf()));
        lock(&self.names).push(Arc::downgrade(&name));
        Ok(Box::new(HookedFile {
            inner,
            storage: self.clone(),
            name,
        }))
    }

    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        self.before(OpKind::FileExists, path);
        self.sim.file_exists(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.before(OpKind::Rename, from);
        self.sim.rename(from, to)?;
        self.renamed(from, to);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.before(OpKind::Remove, path);
        self.sim.remove(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.before(OpKind::SyncDir, dir);
        self.sim.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>> {
        self.before(OpKind::Lock, path);
        self.sim.lock(path)
    }
}

/// An open file of a [`Hooked`] storage.
struct HookedFile {
    inner: Box<dyn StorageFile>,
    storage: Hooked,
    /// Its current name (renames follow it).
    name: Arc<Mutex<PathBuf>>,
}

impl HookedFile {
    fn before(&self, op: OpKind) {
        let name = lock(&self.name).clone();
        self.storage.before(op, &name);
    }
}

impl fmt::Debug for HookedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HookedFile").field(&self.inner).finish()
    }
}

impl StorageFile for HookedFile {
    fn len(&self) -> io::Result<u64> {
        self.before(OpKind::Len);
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.before(OpKind::Read);
        self.inner.read_at(offset, buf)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.before(OpKind::Write);
        self.inner.write_at(offset, data)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.before(OpKind::SetLen);
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.before(OpKind::SyncData);
        self.inner.sync_data()
    }

    fn allocate(&self, len: u64) -> io::Result<()> {
        self.before(OpKind::Allocate);
        self.inner.allocate(len)
    }
}
