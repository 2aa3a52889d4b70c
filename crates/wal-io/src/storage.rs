//! The `Storage` trait: the only code that touches a file system.
//!
//! [`Wal`](crate::Wal) does all of its I/O through these traits, so the same
//! logic runs over real files ([`FsStorage`](crate::FsStorage)) and over the
//! deterministic, fault-injecting simulation (`SimStorage`, behind the `sim`
//! feature) that the crash tests use.
//!
//! Implementations report failures as `io::Error`; they never retry. A
//! caller that sees an error from a write, `set_len` or `sync_data` must
//! assume nothing about what reached the disk.

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};

/// How [`Storage::open`] treats a missing or existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing file; `NotFound` if there is none.
    Existing,
    /// Create a new, empty file; `AlreadyExists` if the path is taken.
    CreateNew,
}

/// A file system, as far as a log needs one.
///
/// Namespace changes (`open` with [`OpenMode::CreateNew`], `rename`,
/// `remove`) are durable only after [`sync_dir`](Storage::sync_dir) on the
/// parent directory returns: a crash before that may undo them.
pub trait Storage: Send + Sync + Debug {
    /// The canonical path of `path`: symbolic links resolved, so that two
    /// names for one file give one path. A missing file resolves through
    /// its parent directory. The default returns `path` unchanged.
    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        Ok(path.to_path_buf())
    }

    /// Opens `path` for reading and writing. Opening a directory fails.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>>;

    /// Whether a file (not a directory) exists at `path`. A directory at
    /// `path` is an error of kind `IsADirectory`; a missing parent
    /// directory is `Ok(false)`.
    fn file_exists(&self, path: &Path) -> io::Result<bool>;

    /// Atomically replaces `to` with `from` (POSIX `rename(2)`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file at `path`; `NotFound` if there is none.
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Makes every completed create, rename and remove in directory `dir`
    /// durable (`fsync` on the directory).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Takes an exclusive lock named by `path` (creating the lock file if
    /// needed), without waiting: if another holder, in this process or any
    /// other, has it, fails with kind `WouldBlock`. The lock is held until
    /// the returned guard is dropped or the holding process dies.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>>;

    /// How many names (hard links) the file at `path` has. A log with more
    /// than one is refused: a second name would let a second writer in
    /// (the lock is named after the path), and a rewrite's rename would
    /// leave the other name on the old file. The default reports 1.
    fn link_count(&self, path: &Path) -> io::Result<u64> {
        let _ = path;
        Ok(1)
    }

    /// Opens an existing file for reading only, as a reader that must not
    /// change anything needs it ([`WalFollower`](crate::WalFollower)): it
    /// works on a read-only file or file system. Writing through the
    /// returned file may fail. The default opens it with
    /// [`open`](Storage::open) in [`OpenMode::Existing`].
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        self.open(path, OpenMode::Existing)
    }

    /// A new identity for a log file written from scratch (see
    /// `FileHeader::file_id`): never 0, and unlikely ever to repeat. The
    /// default mixes the standard library's per-process random keys with
    /// the time and a counter.
    fn new_file_id(&self) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hasher.write_u128(now.as_nanos());
        hasher.write_u32(std::process::id());
        hasher.finish().max(1)
    }
}

/// An open file.
///
/// Writes become visible to reads at once; they are durable only after
/// [`sync_data`](StorageFile::sync_data) returns `Ok`.
///
/// Every method takes `&self` and the file is `Sync`, so that one thread
/// can run `sync_data` (the group commit of
/// [`Wal::begin_sync`](crate::Wal::begin_sync)) while another writes.
/// A `sync_data` that runs concurrently with writes makes durable at least
/// every write that completed before it began; writes that overlap it may
/// or may not be covered.
pub trait StorageFile: Send + Sync + Debug {
    /// The file's current length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns fewer only at the
    /// end of the file (0 at or past it).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `data` at `offset`, extending the file as needed, with
    /// one system call where the platform allows. On error, any prefix of
    /// `data` may have been written.
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()>;

    /// Truncates or extends (with zeros) the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// Extends the file to `len` bytes with zeros that take real space on
    /// disk, if it is shorter; never shortens it. A log preallocated this
    /// way grows in chunks, so that most syncs need not record a new length
    /// (see [`WalOptions::preallocate`](crate::WalOptions::preallocate)).
    /// On error, the file may have been extended by any number of zeros.
    ///
    /// The default writes the zeros (1 MiB per write): on ext4 here a
    /// `write` + `fdatasync` into zero-filled space was faster than into
    /// space reserved by `fallocate(2)`, whose extents stay *unwritten*
    /// until written, so that every sync into them still has metadata to
    /// commit, and than into a hole left by `set_len`.
    fn allocate(&self, len: u64) -> io::Result<()> {
        let mut at = self.len()?;
        let mut zeros = Vec::new();
        while at < len {
            let n = usize::try_from(len - at).unwrap_or(usize::MAX).min(1 << 20);
            zeros.resize(n, 0);
            let piece = &zeros[..n];
            self.write_at(at, piece)?;
            at += n as u64;
        }
        Ok(())
    }

    /// Makes the file's data and length durable (`fdatasync`). After an
    /// error, the unsynced writes may be lost even if they stay readable,
    /// and a later call may report success without making them durable
    /// (Linux's behaviour): never retry and trust it.
    fn sync_data(&self) -> io::Result<()>;
}

/// A held exclusive lock; dropping it releases the lock.
pub trait StorageLock: Send + Sync + Debug {}

/// Reads exactly `buf.len()` bytes at `offset`, or fails with
/// `UnexpectedEof`.
pub fn read_exact_at(
    file: &dyn StorageFile,
    mut offset: u64,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        match file.read_at(offset, buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                offset += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The directory holding `path`, for [`Storage::sync_dir`]: its parent, or
/// `.` for a bare file name.
#[must_use]
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
