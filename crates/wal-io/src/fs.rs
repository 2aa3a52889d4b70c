//! [`FsStorage`]: the [`Storage`] trait over real files.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::storage::{OpenMode, Storage, StorageFile, StorageLock};

/// Real files through `std::fs`.
///
/// Writes use positioned `pwrite(2)`, syncs `fdatasync(2)`, and directory
/// syncs `fsync(2)` on the directory. Locks are `flock`-style advisory locks
/// (`File::try_lock`) on a sidecar file, held by this process's open file
/// description: another process, or another open of the same path in this
/// process, cannot take it until the guard is dropped or the process dies.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsStorage;

impl FsStorage {
    /// The real file system.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

/// How often [`FsStorage::lock`] retries when the lock file was replaced
/// under it.
const LOCK_ATTEMPTS: usize = 16;

#[derive(Debug)]
struct FsFile(File);

/// A held lock, and the process that took it.
#[derive(Debug)]
struct FsLock {
    file: File,
    pid: u32,
}

impl Drop for FsLock {
    fn drop(&mut self) {
        // Unlock explicitly rather than relying on close(2): a child forked
        // by another thread may still hold a copy of this descriptor, which
        // would otherwise keep the lock alive. But only in the process that
        // locked: the lock belongs to the open file description, which a
        // forked child shares, and a child dropping its copy must not free
        // its parent's lock. Nothing useful can be done with an unlock
        // failure while dropping; closing follows anyway.
        if std::process::id() == self.pid {
            let _ = self.file.unlock();
        }
    }
}

impl StorageLock for FsLock {}

impl Storage for FsStorage {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        if mode == OpenMode::CreateNew {
            options.create_new(true);
        }
        let file = options.open(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        Ok(Box::new(FsFile(file)))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = open_read_only(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        Ok(Box::new(FsFile(file)))
    }

    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        match std::fs::canonicalize(path) {
            Ok(real) => Ok(real),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A symbolic link to nothing: creating the log would replace
                // the link, not create its target.
                if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        "a symbolic link whose target does not exist; create the target or remove the link",
                    ));
                }
                // A new file: resolve its directory. A missing directory is
                // reported by the open that follows.
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                    return Ok(path.to_path_buf());
                };
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                Ok(
                    std::fs::canonicalize(dir)
                        .map_or_else(|_| path.to_path_buf(), |d| d.join(name)),
                )
            }
            Err(e) => Err(e),
        }
    }

    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "Is a directory",
            )),
            // A FIFO, a socket or a device: opening or replacing it would
            // block, or destroy something that is not ours.
            Ok(m) if !m.is_file() => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, socket or device); a log must be a regular file",
            )),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn link_count(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.nlink())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>> {
        // A lock file removed (by a refused open that had created it) or
        // replaced between our open and our lock locks nothing anybody
        // else will see: check that the name still leads to the file
        // locked, and start again if not.
        for _ in 0..LOCK_ATTEMPTS {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(TryLockError::Error(e)) => return Err(e),
            }
            let held = file.metadata()?;
            match std::fs::metadata(path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(Box::new(FsLock {
                        file,
                        pid: std::process::id(),
                    }));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl StorageFile for FsFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match self.0.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.0.write_all_at(data, offset)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

/// Opens `path` read-only, without updating its access time where the
/// system allows it (`O_NOATIME`, which Linux grants only to the file's
/// owner and to root): a reader leaves every timestamp as it was.
fn open_read_only(path: &Path) -> io::Result<File> {
    #[cfg(all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )
    ))]
    {
        use std::os::unix::fs::OpenOptionsExt;
        /// `O_NOATIME` on these architectures (`asm-generic/fcntl.h`).
        const O_NOATIME: i32 = 0o1_000_000;
        match OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(path)
        {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
            other => return other,
        }
    }
    File::open(path)
}
