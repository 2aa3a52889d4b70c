//! A read-only recovery dry run: what [`Wal::open`](crate::Wal::open)
//! would decide about a log, without taking its lock, creating a file or
//! changing a byte.
//!
//! **Who should use this:** tools that inspect or verify a log (the
//! `imstore` command), and tests that compare a verdict with an open's.
//! [`inspect`] runs the very steps of the open (the header check, the
//! replay, the sidecar's claim and the tail's judgement, in strict and in
//! salvage mode) and stops before the first write, so its verdict cannot
//! drift from the open's.
//!
//! ```
//! use std::sync::Arc;
//! use wal_io::inspect::{ReadOnlyFs, Verdict, inspect};
//! use wal_io::{FsStorage, Wal, WalOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("events.log");
//! let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |_| Ok(()))?;
//! wal.append(b"hello")?;
//! wal.close()?;
//! let found = inspect(&ReadOnlyFs, &path, &WalOptions::default(), |_| Ok(()))?;
//! assert!(matches!(found.verdict, Verdict::Clean));
//! assert_eq!(found.records, 1);
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use wal_format::{FileHeader, FormatError};

use crate::create::{existing, read_header};
use crate::error::{BoxError, CallbackError, Context, VouchedBy, WalError};
use crate::fs::FsStorage;
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::Reader;
use crate::replay::Each;
use crate::report::ReplayRecord;
use crate::scan::{Replayed, Vouch, replay};
use crate::sidecar::{self, Sidecar};
use crate::storage::{OpenMode, Storage, StorageFile, StorageLock};
use crate::tail::{Cut, Verdict as TailVerdict, judge};
use crate::temp::sibling;

/// What [`Wal::open`](crate::Wal::open) would do with the log, in strict
/// mode (the default).
#[derive(Debug)]
#[non_exhaustive]
pub enum Verdict {
    /// Every byte after the header is a valid frame, and nothing vouched
    /// durable is missing: the open changes nothing.
    Clean,
    /// The file is empty or a strict prefix of a header (a creation cut
    /// short): the open would initialise it as a new log.
    Initialize,
    /// A torn tail: the open would cut the file back to `cut_to`, removing
    /// `bytes` bytes that nothing proves were ever synced.
    TornTail {
        /// End of the last valid frame: the file's length after the open.
        cut_to: u64,
        /// Bytes the open would remove.
        bytes: u64,
    },
    /// Nothing but zeros follows the last valid frame, and nothing vouched
    /// durable is missing: space a writer preallocated
    /// ([`WalOptions::preallocate`]). Only when the options preallocate
    /// (an open without preallocation cuts them as a [`Verdict::TornTail`]):
    /// the open keeps them for later appends.
    Preallocated {
        /// End of the last valid frame.
        records_end: u64,
        /// Bytes of zeros after it.
        bytes: u64,
    },
    /// The open would refuse the log, touching no byte: synced data is
    /// damaged ([`WalError::Corrupt`]) or missing ([`WalError::Truncated`]),
    /// or a valid record is longer than the bound
    /// ([`WalError::RecordBeyondBound`]). This is the error it would return.
    Refused(WalError),
}

/// What an open in [`RecoveryMode::Salvage`] would keep and copy aside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SalvagePlan {
    /// The log's length after the salvage: the end of its last valid frame.
    pub keep_to: u64,
    /// Records kept (seals not counted).
    pub records: u64,
    /// The file every byte from `keep_to` on would be copied to first, and
    /// how many bytes; `None` when nothing follows the valid frames (the
    /// file was cut short: nothing is left to copy or cut).
    pub copy: Option<(PathBuf, u64)>,
}

/// What the lock file `<log>.lock` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SidecarState {
    /// There is no lock file.
    Absent,
    /// An empty lock file, or a claim cut short or damaged.
    Empty,
    /// A valid claim: the log whose header has `file_id` was durable up to
    /// byte `durable_len`.
    Claim {
        /// The `file_id` of the log the claim is about.
        file_id: u64,
        /// Bytes of that log, header included, known durable.
        durable_len: u64,
    },
    /// Bytes that are not a claim: another program's file, never written
    /// to by an open.
    Foreign,
}

/// Where replay stopped before the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stop {
    /// Byte offset of the first frame that is not valid.
    pub offset: u64,
    /// The sequence number it would have had.
    pub seq: u64,
    /// What is wrong with it (`None`: the file ends inside it).
    pub cause: Option<FormatError>,
}

/// Everything [`inspect`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspection {
    /// The log's path, symbolic links resolved, as the open would use it.
    pub path: PathBuf,
    /// The file's length in bytes.
    pub file_len: u64,
    /// The header, `None` for an empty file or a header cut short.
    pub header: Option<FileHeader>,
    /// Valid records (seals not counted).
    pub records: u64,
    /// Valid seals.
    pub seals: u64,
    /// End of the last valid frame.
    pub end: u64,
    /// End of the last valid frame that holds records.
    pub records_end: u64,
    /// Sequence number after the last valid frame.
    pub next_seq: u64,
    /// Whether the last valid frame holds records (no seal after them: the
    /// log was not closed).
    pub unsealed: bool,
    /// The length vouched durable before this open: the larger of the
    /// header's `vouched_len` and the sidecar's claim about this file.
    pub vouched_len: u64,
    /// What vouched for `vouched_len`.
    pub vouched_by: VouchedBy,
    /// What the lock file holds.
    pub sidecar: SidecarState,
    /// Where replay stopped before the end of the file, if it did.
    pub stop: Option<Stop>,
    /// What a strict open would do.
    pub verdict: Verdict,
    /// What an open in salvage mode would keep, when a strict open would
    /// refuse for damaged or missing synced data.
    pub salvage: Option<SalvagePlan>,
}

/// Runs the recovery of [`Wal::open`](crate::Wal::open) on the log at
/// `path` without writing: the same header check against `opts`, the same
/// replay through `replay` (front to back, every valid record), the same
/// sidecar claim and the same judgement of the tail. Takes no lock, and
/// opens only existing files, through `storage` (use [`ReadOnlyFs`] for
/// real files, which cannot write at all).
///
/// # Errors
///
/// What the open would fail with before judging the tail: a missing file
/// (which the open would create) as [`WalError::Io`] of kind `NotFound`,
/// [`WalError::NotALog`], [`WalError::BadHeader`], [`WalError::WrongApp`],
/// [`WalError::NewerAppVersion`], [`WalError::HardLinked`],
/// [`WalError::Replay`], or an I/O error. A log the open would refuse for
/// its tail is `Ok` with [`Verdict::Refused`].
///
/// `replay_fn`'s errors are boxed, and come back in [`WalError::Replay`];
/// [`inspect_typed`] hands back your own error type instead.
pub fn inspect<F>(
    storage: &dyn Storage,
    path: impl AsRef<Path>,
    opts: &WalOptions,
    replay_fn: F,
) -> Result<Inspection, WalError>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
{
    inspect_typed(storage, path, opts, replay_fn).map_err(WalError::from)
}

/// Like [`inspect`], with `replay_fn` failing with your own error type
/// `E`, which comes back by value (not boxed) in
/// [`CallbackError::Replay`], with the record's sequence number and
/// offset; every other failure is [`CallbackError::Wal`], the
/// [`WalError`] `inspect` returns.
///
/// # Errors
///
/// As [`inspect`]'s, with the replay's failure as
/// [`CallbackError::Replay`] instead of [`WalError::Replay`].
pub fn inspect_typed<E, F>(
    storage: &dyn Storage,
    path: impl AsRef<Path>,
    opts: &WalOptions,
    replay_fn: F,
) -> Result<Inspection, CallbackError<E>>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), E>,
{
    let path = existing(
        storage,
        path.as_ref(),
        "no such file (an open would create a new log here)",
    )?;
    let links = storage.link_count(&path).context("opening", &path)?;
    if links > 1 {
        return Err(WalError::HardLinked { path, links }.into());
    }
    let file = storage
        .open(&path, OpenMode::Existing)
        .context("opening", &path)?;
    let file_len = file.len().context("reading", &path)?;
    let lock_path = sibling(&path, ".lock");
    let sidecar_state = sidecar_state(storage, &lock_path);
    let side = sidecar::read(storage, &lock_path);
    let Some(header) = read_header(&*file, &path, opts)? else {
        return Ok(Inspection {
            path,
            file_len,
            header: None,
            records: 0,
            seals: 0,
            end: 0,
            records_end: 0,
            next_seq: 0,
            unsealed: false,
            vouched_len: 0,
            vouched_by: VouchedBy::Header,
            sidecar: sidecar_state,
            stop: None,
            verdict: Verdict::Initialize,
            salvage: None,
        });
    };
    let vouch = Vouch::of(&header, side, &lock_path);
    let mut reader = Reader::new(&*file, file_len, opts.buf_capacity);
    let replayed = replay(&mut reader, &path, &header, opts, &mut Each(replay_fn))?;
    let strict = WalOptions {
        recovery: RecoveryMode::Strict,
        ..opts.clone()
    };
    let verdict = match judge(reader, &path, &replayed, &vouch, &strict) {
        Ok(TailVerdict::Clean) => Verdict::Clean,
        Ok(TailVerdict::Cut(Cut::Torn)) => Verdict::TornTail {
            cut_to: replayed.end,
            bytes: file_len - replayed.end,
        },
        Ok(TailVerdict::Preallocated) => Verdict::Preallocated {
            records_end: replayed.end,
            bytes: file_len - replayed.end,
        },
        // Strict judgement never asks for a salvage.
        Ok(TailVerdict::CutShort | TailVerdict::Cut(Cut::Salvage)) => {
            unreachable!("a strict judgement refuses instead of salvaging")
        }
        Err(e) => Verdict::Refused(e),
    };
    let salvage = match &verdict {
        Verdict::Refused(WalError::Corrupt { .. } | WalError::Truncated { .. }) => {
            salvage_plan(&*file, &path, file_len, &replayed, &vouch, opts)?
        }
        _ => None,
    };
    Ok(Inspection {
        path,
        file_len,
        records: replayed.records,
        seals: replayed.next_seq - header.base_seq - replayed.records,
        end: replayed.end,
        records_end: replayed.records_end,
        next_seq: replayed.next_seq,
        unsealed: replayed.needs_seal,
        vouched_len: vouch.len,
        vouched_by: vouch.by.clone(),
        sidecar: sidecar_state,
        stop: replayed.stop.as_ref().map(|s| Stop {
            offset: s.offset,
            seq: s.seq,
            cause: s.cause.clone(),
        }),
        header: Some(header),
        verdict,
        salvage,
    })
}

/// What the open in salvage mode would decide, judged again as it would.
fn salvage_plan(
    file: &dyn StorageFile,
    path: &Path,
    file_len: u64,
    replayed: &Replayed,
    vouch: &Vouch,
    opts: &WalOptions,
) -> Result<Option<SalvagePlan>, WalError> {
    let salvage = WalOptions {
        recovery: RecoveryMode::Salvage,
        ..opts.clone()
    };
    let reader = Reader::new(file, file_len, opts.buf_capacity);
    let copy = match judge(reader, path, replayed, vouch, &salvage) {
        Ok(TailVerdict::Cut(Cut::Salvage)) => Some((
            sibling(path, &format!(".corrupt-{}", replayed.end)),
            file_len - replayed.end,
        )),
        Ok(TailVerdict::CutShort) => None,
        // Anything else is not a salvage.
        _ => return Ok(None),
    };
    Ok(Some(SalvagePlan {
        keep_to: replayed.end,
        records: replayed.records,
        copy,
    }))
}

/// What the lock file at `lock_path` holds, read as the open reads it.
fn sidecar_state(storage: &dyn Storage, lock_path: &Path) -> SidecarState {
    if !storage.file_exists(lock_path).unwrap_or(true) {
        return SidecarState::Absent;
    }
    match sidecar::read(storage, lock_path) {
        Sidecar::Empty => SidecarState::Empty,
        Sidecar::Claim(c) => SidecarState::Claim {
            file_id: c.file_id,
            durable_len: c.durable_len,
        },
        Sidecar::Foreign => SidecarState::Foreign,
    }
}

/// Whether `bytes`, the first bytes of a file (any number, none
/// included), could be the start of a log of this library: they agree
/// with its magic number as far as both go. For a tool that must never
/// touch a file that may be a log, before it takes the file for its own.
///
/// ```
/// use wal_io::inspect::may_be_log;
/// assert!(may_be_log(b""));
/// assert!(may_be_log(b"\x89WAL"));
/// assert!(!may_be_log(b"{\"key\": 1}"));
/// ```
#[must_use]
pub fn may_be_log(bytes: &[u8]) -> bool {
    let n = bytes.len().min(wal_format::MAGIC.len());
    bytes.get(..n) == wal_format::MAGIC.get(..n)
}

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
