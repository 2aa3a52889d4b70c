//! Opening a log: path checks, locking, header checks, replay and the
//! settling of whatever follows the last valid frame.
//!
//! [`Wal::open`] is a pipeline of named steps: [`resolve`] the path and
//! refuse what is not ours, take the [`lock`], then under it
//! ([`Opening::run`]) open or create the file, [`replay`] it, settle the
//! tail (torn, corrupt, cut short or preallocated), and finish: sync,
//! record the durable length in the sidecar, clear a stale temporary file.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wal_format::FileHeader;

use crate::create::{create, open_existing, precheck};
use crate::durable::Durable;
use crate::error::{BoxError, CallbackError, Context, WalError};
use crate::options::WalOptions;
use crate::reader::Reader;
use crate::replay::{Each, Replay};
use crate::report::{RecoveryReport, ReplayRecord};
use crate::scan::{Replayed, Vouch, replay};
use crate::sidecar::{self, Claim, Sidecar};
use crate::storage::{Storage, StorageFile, StorageLock};
use crate::tail::{judge, settle};
use crate::temp::{clear_temp, note_temp, sibling};
use crate::wal::Wal;

impl Wal {
    /// Opens the log at `path`, creating it if missing, and replays every
    /// valid record through `replay`, in order, before returning.
    ///
    /// See the [crate docs](crate) for what recovery does with each kind
    /// of damage. If `replay` fails, or the file is not this application's
    /// log, or it holds damaged or missing synced data (in
    /// [`RecoveryMode::Strict`](crate::RecoveryMode::Strict)), the open fails and no byte of the file is
    /// changed; a refused open leaves no new file behind either.
    ///
    /// `replay`'s errors are boxed, and come back in
    /// [`WalError::Replay`]. To get your own error type back by value
    /// instead, open with [`open_typed`](Self::open_typed).
    pub fn open<F>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        replay: F,
    ) -> Result<(Wal, RecoveryReport), WalError>
    where
        F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
    {
        Self::open_with(storage, path, opts, &mut Each(replay))
    }

    /// Like [`open`](Self::open), replaying through a [`Replay`], which may
    /// process records on other threads while the log is read: every
    /// verdict is the one `open` gives, and a failure it reports from
    /// [`Replay::finish`] fails the open at its record, before any byte of
    /// the file is changed.
    ///
    /// The replayer's errors are boxed, and come back in
    /// [`WalError::Replay`]; [`open_with_typed`](Self::open_with_typed)
    /// hands back a `Replay<E>`'s own error type instead.
    pub fn open_with<R>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        replayer: &mut R,
    ) -> Result<(Wal, RecoveryReport), WalError>
    where
        R: Replay + ?Sized,
    {
        Self::open_with_typed(storage, path, opts, replayer).map_err(WalError::from)
    }

    /// Like [`open`](Self::open), with `replay` failing with your own
    /// error type `E`, which comes back by value (not boxed) in
    /// [`CallbackError::Replay`], with the record's sequence number and
    /// offset; every other failure is [`CallbackError::Wal`], the
    /// [`WalError`] `open` returns. Use this when the caller needs its own
    /// error back, to match on or to return, without downcasting a
    /// [`BoxError`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wal_io::{CallbackError, FsStorage, Wal, WalOptions};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("events.log");
    /// let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |_| Ok(()))?;
    /// wal.append(b"")?;
    /// drop(wal);
    ///
    /// let opened = Wal::open_typed(Arc::new(FsStorage::new()), &path, WalOptions::default(), |r| {
    ///     if r.payload.is_empty() { Err(std::fmt::Error) } else { Ok(()) }
    /// });
    /// let Err(CallbackError::Replay { seq: 0, source: std::fmt::Error, .. }) = opened else {
    ///     panic!("expected the callback's own error");
    /// };
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_typed<E, F>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        replay: F,
    ) -> Result<(Wal, RecoveryReport), CallbackError<E>>
    where
        F: FnMut(ReplayRecord<'_>) -> Result<(), E>,
    {
        Self::open_with_typed(storage, path, opts, &mut Each(replay))
    }

    /// Like [`open_with`](Self::open_with), replaying through a
    /// [`Replay<E>`] whose errors (from [`Replay::record`] or, in a
    /// [`ReplayFailure<E>`](crate::ReplayFailure), from [`Replay::finish`]) come back by value in
    /// [`CallbackError::Replay`], as [`open_typed`](Self::open_typed)'s do.
    pub fn open_with_typed<E, R>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        replayer: &mut R,
    ) -> Result<(Wal, RecoveryReport), CallbackError<E>>
    where
        R: Replay<E> + ?Sized,
    {
        let started = Instant::now();
        let given = path.as_ref();
        let path = resolve(&*storage, given, &opts)?;
        let lock = lock(&*storage, &path, given)?;
        let opening = Opening {
            storage: &*storage,
            path: &path,
            lock_path: &lock.path,
            opts: &opts,
        };
        let opened = match opening.run(replayer) {
            Ok(opened) => opened,
            Err(e) => {
                lock.give_up(&*storage);
                return Err(e);
            }
        };
        let (wal, mut report) = opened.into_wal(storage, path, lock, opts);
        report.duration = started.elapsed();
        Ok((wal, report))
    }
}

/// The path to open, symbolic links resolved once (so that the lock, the
/// temporary file and rewrites' renames all act on the real file, whatever
/// name it was opened by), after refusing a directory, a special file or a
/// stranger's file there before a lock file is created beside it.
fn resolve(storage: &dyn Storage, given: &Path, opts: &WalOptions) -> Result<PathBuf, WalError> {
    let path = storage.resolve(given).context("opening", given)?;
    if storage.file_exists(&path).context("opening", given)? {
        precheck(storage, &path, opts)?;
    }
    Ok(path)
}

/// The lock on a log being opened.
struct Locked {
    lock: Box<dyn StorageLock>,
    /// The lock file, `<log>.lock`, which also holds the sidecar's claim.
    path: PathBuf,
    /// Whether the lock file was there before this open.
    was_there: bool,
}

/// Takes the lock on the log at `path` (`given`: the name it was opened
/// by), creating the lock file if needed.
fn lock(storage: &dyn Storage, path: &Path, given: &Path) -> Result<Locked, WalError> {
    let lock_path = sibling(path, ".lock");
    let was_there = storage.file_exists(&lock_path).unwrap_or(true);
    match storage.lock(&lock_path) {
        Ok(lock) => Ok(Locked {
            lock,
            path: lock_path,
            was_there,
        }),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(WalError::AlreadyOpen {
            path: path.to_path_buf(),
        }),
        // The directory is missing: say so about the path given.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(WalError::io("creating", given, e)),
        Err(e) => Err(WalError::io("locking", lock_path, e)),
    }
}

impl Locked {
    /// After a failed open: removes the lock file if this open created it,
    /// then releases the lock.
    fn give_up(self, storage: &dyn Storage) {
        if !self.was_there {
            // Removed while still held, so nobody can hold a lock on the
            // removed file without noticing.
            let _ = storage.remove(&self.path);
        }
        drop(self.lock);
    }
}

/// What [`Opening::run`] hands to the [`Wal`] it becomes.
struct Opened {
    file: Box<dyn StorageFile>,
    header: FileHeader,
    len: u64,
    /// The file's length: `len` plus the preallocated space kept.
    file_len: u64,
    records: u64,
    next_seq: u64,
    needs_seal: bool,
    sidecar_writable: bool,
    report: RecoveryReport,
}

impl Opened {
    fn into_wal(
        self,
        storage: Arc<dyn Storage>,
        path: PathBuf,
        lock: Locked,
        opts: WalOptions,
    ) -> (Wal, RecoveryReport) {
        let wal = Wal {
            storage,
            path,
            lock_path: lock.path,
            sidecar_writable: self.sidecar_writable,
            file: Arc::from(self.file),
            header: self.header,
            len: self.len,
            records: self.records,
            next_seq: self.next_seq,
            // The open synced every record it kept.
            durable: Durable::new(self.next_seq, self.len),
            needs_seal: self.needs_seal,
            seal_note: Vec::new(),
            buf: Vec::with_capacity(opts.buf_capacity.min(1 << 20)),
            pending: Vec::with_capacity(opts.append_buffer.min(1 << 20)),
            allocated: self.file_len,
            prealloc_refused: 0,
            epoch: 0,
            opts,
            poison: None,
            owner: std::process::id(),
            _lock: lock.lock,
        };
        (wal, self.report)
    }
}

/// The open's steps once the lock is held, and what they work on.
struct Opening<'a> {
    storage: &'a dyn Storage,
    path: &'a Path,
    lock_path: &'a Path,
    opts: &'a WalOptions,
}

impl Opening<'_> {
    /// Opens or creates the file, replays it, settles its tail and
    /// finishes: the pipeline of [`Wal::open`] under the lock.
    fn run<E, R>(&self, replayer: &mut R) -> Result<Opened, CallbackError<E>>
    where
        R: Replay<E> + ?Sized,
    {
        let mut report = RecoveryReport::default();
        let (file, header) = self.open_or_create(&mut report)?;
        let side = sidecar::read(self.storage, self.lock_path);
        let vouch = Vouch::of(&header, side, self.lock_path);
        let file_len = file.len().context("reading", self.path)?;
        let mut reader = Reader::new(&*file, file_len, self.opts.buf_capacity);
        let replayed = replay(&mut reader, self.path, &header, self.opts, replayer)?;
        self.settle_tail(&*file, reader, &replayed, &vouch, &mut report)?;
        Ok(self.finish(file, header, side, &replayed, report)?)
    }

    /// Opens the log file and checks its header, or creates a new log;
    /// refuses a file with more than one name.
    fn open_or_create(
        &self,
        report: &mut RecoveryReport,
    ) -> Result<(Box<dyn StorageFile>, FileHeader), WalError> {
        let (storage, path, opts) = (self.storage, self.path, self.opts);
        let exists = storage.file_exists(path).context("opening", path)?;
        let opened = if exists {
            let links = storage.link_count(path).context("opening", path)?;
            if links > 1 {
                return Err(WalError::HardLinked {
                    path: path.to_path_buf(),
                    links,
                });
            }
            open_existing(storage, path, self.lock_path, opts, report)?
        } else {
            create(storage, path, opts, report)?
        };
        report.created = !exists;
        Ok(opened)
    }

    /// Judges what follows the last valid frame (torn, corrupt, cut short,
    /// preallocated) and acts on it: refuses, cuts, or salvages.
    fn settle_tail(
        &self,
        file: &dyn StorageFile,
        reader: Reader<'_>,
        replayed: &Replayed,
        vouch: &Vouch,
        report: &mut RecoveryReport,
    ) -> Result<(), WalError> {
        let file_len = reader.file_len();
        let verdict = judge(reader, self.path, replayed, vouch, self.opts)?;
        report.preallocated = verdict.preallocated(file_len, replayed.end);
        report.truncated = settle(
            self.storage,
            self.path,
            file,
            file_len,
            replayed,
            vouch,
            verdict,
        )?;
        Ok(())
    }

    /// Syncs what the log now holds, records its durable length in the
    /// sidecar, clears a stale temporary file and completes the report.
    fn finish(
        &self,
        file: Box<dyn StorageFile>,
        header: FileHeader,
        side: Sidecar,
        replayed: &Replayed,
        mut report: RecoveryReport,
    ) -> Result<Opened, WalError> {
        // Every record now in the file is claimed durable by the records
        // appended after this open, so make it so first.
        file.sync_data().context("syncing", self.path)?;
        if header.file_id != 0
            && side.writable()
            && side.durable_len_of(header.file_id) != Some(replayed.records_end)
        {
            sidecar::write(
                self.storage,
                self.lock_path,
                Claim {
                    file_id: header.file_id,
                    durable_len: replayed.records_end,
                },
            );
        }
        note_temp(&mut report, clear_temp(self.storage, self.path, self.opts)?);
        report.records = replayed.records;
        report.bytes = replayed.end;
        Ok(Opened {
            file,
            header,
            len: replayed.end,
            file_len: replayed.end + report.preallocated,
            records: replayed.records,
            next_seq: replayed.next_seq,
            needs_seal: replayed.needs_seal,
            sidecar_writable: side.writable(),
            report,
        })
    }
}
