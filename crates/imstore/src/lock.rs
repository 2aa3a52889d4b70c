//! The log's single-writer lock: probing it without taking it, and taking
//! it for a command that writes.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use wal_io::{FsStorage, Storage, StorageLock};

use crate::error::ImstoreError;

/// `<log><suffix>`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The lock file of the log at `path`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    sibling(path, ".lock")
}

/// Whether a writer holds the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// There is no lock file: no writer has the log open.
    NoLockFile,
    /// The lock file exists and nobody holds its lock.
    Free,
    /// A writer (in some process) holds the lock.
    Held,
    /// The lock file could not be probed.
    Unknown(String),
}

impl LockState {
    /// A short description.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::NoLockFile => "no lock file: no writer".to_owned(),
            Self::Free => "free: no writer holds it".to_owned(),
            Self::Held => "HELD by a running writer".to_owned(),
            Self::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// Probes the lock of the log at `path` without creating the lock file:
/// opens it read-only and takes a shared lock, released at once. A writer
/// opening the log in that instant would be refused, so this is never held
/// for longer than the call.
#[must_use]
pub fn probe(path: &Path) -> LockState {
    let lock = lock_path(path);
    let file = match File::open(&lock) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return LockState::NoLockFile,
        Err(e) => return LockState::Unknown(e.to_string()),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            LockState::Free
        }
        Err(TryLockError::WouldBlock) => LockState::Held,
        Err(TryLockError::Error(e)) => LockState::Unknown(e.to_string()),
    }
}

/// The log's lock, held by a command that reads the whole log (a backup);
/// a lock file this created is removed again when it is dropped.
pub(crate) struct Held {
    lock: Option<Box<dyn StorageLock>>,
    created: Option<PathBuf>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(path) = &self.created {
            // Removed while still held, as a refused open does.
            let _ = std::fs::remove_file(path);
        }
        drop(self.lock.take());
    }
}

/// Takes the lock of the log at `path`, or says that a writer holds it.
pub(crate) fn take(path: &Path) -> Result<Held, ImstoreError> {
    let lock = lock_path(path);
    let existed = lock.exists();
    match FsStorage.lock(&lock) {
        Ok(held) => Ok(Held {
            lock: Some(held),
            created: (!existed).then_some(lock),
        }),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(ImstoreError::Locked {
            path: path.to_path_buf(),
            lock,
        }),
        Err(e) => Err(ImstoreError::io("locking", lock, e)),
    }
}
