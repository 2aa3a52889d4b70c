//! [`ReadOnlyFs`]: real files through a [`Storage`] that cannot write, for
//! [`inspect`](crate::inspect::inspect) and other tools that must change
//! nothing. Re-exported by [`crate::inspect`].

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::fs::FsStorage;
use crate::storage::{OpenMode, Storage, StorageFile, StorageLock};

/// Real files, read-only: a [`Storage`] whose files are opened for reading
/// only and whose every write, rename, removal, sync and lock fails with
/// `PermissionDenied`, so that nothing run over it can change or create a
/// file. Paths are resolved and checked as [`FsStorage`] does.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnlyFs;

/// A file opened for reading only.
#[derive(Debug)]
struct ReadOnlyFile(File);

fn refused(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{what} refused: this storage is read-only"),
    )
}

impl Storage for ReadOnlyFs {
    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        FsStorage.resolve(path)
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        if mode == OpenMode::CreateNew {
            return Err(refused("creating a file"));
        }
        let file = File::open(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        Ok(Box::new(ReadOnlyFile(file)))
    }

    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        FsStorage.file_exists(path)
    }

    fn rename(&self, _from: &Path, _to: &Path) -> io::Result<()> {
        Err(refused("renaming"))
    }

    fn remove(&self, _path: &Path) -> io::Result<()> {
        Err(refused("removing"))
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Err(refused("syncing a directory"))
    }

    fn lock(&self, _path: &Path) -> io::Result<Box<dyn StorageLock>> {
        Err(refused("locking"))
    }

    fn link_count(&self, path: &Path) -> io::Result<u64> {
        FsStorage.link_count(path)
    }
}

impl StorageFile for ReadOnlyFile {
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

    fn write_at(&self, _offset: u64, _data: &[u8]) -> io::Result<()> {
        Err(refused("writing"))
    }

    fn set_len(&self, _len: u64) -> io::Result<()> {
        Err(refused("truncating"))
    }

    fn sync_data(&self) -> io::Result<()> {
        Err(refused("syncing"))
    }

    fn allocate(&self, _len: u64) -> io::Result<()> {
        Err(refused("allocating"))
    }
}
