//! The files a 0.2.x import reads and writes beside the log: the old log
//! read whole, its backup (`<path>.v0-backup`), and what an interrupted
//! import left at its temporary path, each synced before it is relied on;
//! and the errors that name them.

use std::io;
use std::path::{Path, PathBuf};

use wal_io::inspect::may_be_log;
use wal_io::storage::{parent_dir, read_exact_at};
use wal_io::{OpenMode, Storage, WalError};

use crate::error::StoreError;

/// Reads the whole file at `path`.
pub(crate) fn read_all(storage: &dyn Storage, path: &Path) -> io::Result<Vec<u8>> {
    let file = storage.open(path, OpenMode::Existing)?;
    let len = usize::try_from(file.len()?)
        .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "file too large to read"))?;
    let mut bytes = vec![0; len];
    read_exact_at(&*file, 0, &mut bytes)?;
    Ok(bytes)
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Wraps an I/O error with what was being done to which file.
pub(crate) fn io_err(op: &'static str, path: &Path, e: io::Error) -> io::Error {
    StoreError::Log(WalError::Io {
        op,
        path: path.to_path_buf(),
        source: e,
    })
    .into()
}

/// Copies `bytes` to `backup`, synced, its directory synced; `true` if it
/// created the file. An existing backup is kept if it holds exactly
/// `bytes` (an import interrupted earlier), and refused otherwise.
pub(crate) fn write_backup(storage: &dyn Storage, backup: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = parent_dir(backup);
    let created = match storage.open(backup, OpenMode::CreateNew) {
        Ok(file) => {
            let written = file.write_at(0, bytes).and_then(|()| file.sync_data());
            if let Err(e) = written {
                drop(file);
                // A partial backup would block the next attempt.
                let _ = storage.remove(backup);
                return Err(io_err("writing", backup, e));
            }
            true
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let existing = read_all(storage, backup).map_err(|e| io_err("reading", backup, e))?;
            if existing != bytes {
                return Err(StoreError::LegacyBackupExists {
                    backup: backup.to_path_buf(),
                }
                .into());
            }
            // Left by an interrupted import, perhaps before its sync.
            storage
                .open(backup, OpenMode::Existing)
                .and_then(|file| file.sync_data())
                .map_err(|e| io_err("syncing", backup, e))?;
            false
        }
        Err(e) => return Err(io_err("creating", backup, e)),
    };
    storage
        .sync_dir(dir)
        .map_err(|e| io_err("syncing directory of", backup, e))?;
    Ok(created)
}

/// Removes what an interrupted import left at `tmp` (a log of ours, or an
/// empty file, and its lock file); refuses to remove anything else.
pub(crate) fn clear_import_tmp(storage: &dyn Storage, path: &Path, tmp: &Path) -> io::Result<()> {
    let exists = storage
        .file_exists(tmp)
        .map_err(|e| io_err("checking for", tmp, e))?;
    if exists {
        let bytes = read_all(storage, tmp).map_err(|e| io_err("reading", tmp, e))?;
        if !may_be_log(&bytes) {
            return Err(StoreError::LegacyImport {
                path: path.to_path_buf(),
                reason: format!(
                    "{} is in the way and is not a log of this library; move it away",
                    tmp.display()
                ),
            }
            .into());
        }
        storage
            .remove(tmp)
            .map_err(|e| io_err("removing", tmp, e))?;
    }
    let tmp_lock = sibling(tmp, ".lock");
    if storage.file_exists(&tmp_lock).unwrap_or(false) {
        storage
            .remove(&tmp_lock)
            .map_err(|e| io_err("removing", &tmp_lock, e))?;
    }
    Ok(())
}
