//! Opening a log: path checks, locking, header checks, replay and the
//! settling of whatever follows the last valid frame.
//!
//! [`Wal::open`] is a pipeline: refuse what is not ours ([`precheck`]), take
//! the lock, open or create the file, [`replay`] it, [`settle`] the tail
//! (torn, corrupt, or cut short), sync, and record the durable length in
//! the sidecar.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wal_format::{FileHeader, FrameKind};

use crate::create::{create, open_existing, precheck};
use crate::error::{BoxError, Context, VouchedBy, WalError};
use crate::options::WalOptions;
use crate::reader::{Reader, Stop};
use crate::replay::{Each, Replay};
use crate::report::{RecoveryReport, ReplayRecord};
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
    pub fn open_with<R>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        replayer: &mut R,
    ) -> Result<(Wal, RecoveryReport), WalError>
    where
        R: Replay + ?Sized,
    {
        let started = Instant::now();
        let given = path.as_ref();
        // Resolve symbolic links once, so that the lock, the temporary file
        // and rewrites' renames all act on the real file, whatever name it
        // was opened by.
        let path = storage.resolve(given).context("opening", given)?;
        // Refuse a directory, a special file or a stranger's file before
        // a lock file is created beside it.
        if storage.file_exists(&path).context("opening", given)? {
            precheck(&*storage, &path, &opts)?;
        }
        let lock_path = sibling(&path, ".lock");
        let lock_was_there = storage.file_exists(&lock_path).unwrap_or(true);
        let lock = match storage.lock(&lock_path) {
            Ok(lock) => lock,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(WalError::AlreadyOpen { path });
            }
            // The directory is missing: say so about the path given.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(WalError::io("creating", given, e));
            }
            Err(e) => return Err(WalError::io("locking", lock_path, e)),
        };
        match open_locked(&*storage, &path, &lock_path, &opts, replayer) {
            Ok(opened) => {
                let (wal, mut report) = opened.into_wal(storage, path, lock_path, opts, lock);
                report.duration = started.elapsed();
                Ok((wal, report))
            }
            Err(e) => {
                if !lock_was_there {
                    // Removed while still held, so nobody can hold a lock
                    // on the removed file without noticing.
                    let _ = storage.remove(&lock_path);
                }
                drop(lock);
                Err(e)
            }
        }
    }
}

/// What [`open_locked`] hands to the [`Wal`] it becomes.
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
        lock_path: PathBuf,
        opts: WalOptions,
        lock: Box<dyn StorageLock>,
    ) -> (Wal, RecoveryReport) {
        let wal = Wal {
            storage,
            path,
            lock_path,
            sidecar_writable: self.sidecar_writable,
            file: Arc::from(self.file),
            header: self.header,
            len: self.len,
            records: self.records,
            next_seq: self.next_seq,
            synced_upto: self.next_seq,
            synced_len: self.len,
            needs_seal: self.needs_seal,
            buf: Vec::with_capacity(opts.buf_capacity.min(1 << 20)),
            pending: Vec::with_capacity(opts.append_buffer.min(1 << 20)),
            allocated: self.file_len,
            epoch: 0,
            opts,
            poison: None,
            owner: std::process::id(),
            _lock: lock,
        };
        (wal, self.report)
    }
}

/// The open's steps once the lock is held.
fn open_locked<R>(
    storage: &dyn Storage,
    path: &Path,
    lock_path: &Path,
    opts: &WalOptions,
    replayer: &mut R,
) -> Result<Opened, WalError>
where
    R: Replay + ?Sized,
{
    let mut report = RecoveryReport::default();
    let exists = storage.file_exists(path).context("opening", path)?;
    if exists {
        let links = storage.link_count(path).context("opening", path)?;
        if links > 1 {
            return Err(WalError::HardLinked {
                path: path.to_path_buf(),
                links,
            });
        }
    }
    let (file, header) = if exists {
        open_existing(storage, path, opts, &mut report)?
    } else {
        create(storage, path, opts, &mut report)?
    };
    report.created = !exists;
    let side = sidecar::read(storage, lock_path);
    let vouch = Vouch::of(&header, side, lock_path);

    let file_len = file.len().context("reading", path)?;
    let mut reader = Reader::new(&*file, file_len, opts.buf_capacity);
    let replayed = replay(&mut reader, path, &header, opts, replayer)?;
    let end = replayed.end;
    let verdict = judge(reader, path, &replayed, &vouch, opts)?;
    report.preallocated = verdict.preallocated(file_len, end);
    report.truncated = settle(storage, path, &*file, file_len, &replayed, &vouch, verdict)?;

    // Every record now in the file is claimed durable by the records
    // appended after this open, so make it so first.
    file.sync_data().context("syncing", path)?;
    if header.file_id != 0
        && side.writable()
        && side.durable_len_of(header.file_id) != Some(replayed.records_end)
    {
        sidecar::write(
            storage,
            lock_path,
            Claim {
                file_id: header.file_id,
                durable_len: replayed.records_end,
            },
        );
    }
    note_temp(&mut report, clear_temp(storage, path, opts)?);
    report.records = replayed.records;
    report.bytes = end;
    Ok(Opened {
        file,
        header,
        len: end,
        file_len: end + report.preallocated,
        records: replayed.records,
        next_seq: replayed.next_seq,
        needs_seal: replayed.needs_seal,
        sidecar_writable: side.writable(),
        report,
    })
}

/// How much of the log was vouched durable before this open, and by what.
pub(crate) struct Vouch {
    pub(crate) len: u64,
    pub(crate) by: VouchedBy,
}

impl Vouch {
    /// The larger of the header's vouched length and the sidecar's claim
    /// about this file.
    pub(crate) fn of(header: &FileHeader, side: Sidecar, lock_path: &Path) -> Self {
        match side.durable_len_of(header.file_id) {
            Some(len) if len > header.vouched_len => Self {
                len,
                by: VouchedBy::Sidecar {
                    path: lock_path.to_path_buf(),
                },
            },
            _ => Self {
                len: header.vouched_len,
                by: VouchedBy::Header,
            },
        }
    }
}

/// What [`replay`] found.
pub(crate) struct Replayed {
    /// End of the last valid frame.
    pub(crate) end: u64,
    /// End of the last valid frame that holds records (not a seal): what a
    /// claim vouches for.
    pub(crate) records_end: u64,
    /// Sequence number after the last valid frame.
    pub(crate) next_seq: u64,
    /// Application records replayed.
    pub(crate) records: u64,
    /// Whether the last frame is a record rather than a seal: closing must
    /// seal the log then.
    pub(crate) needs_seal: bool,
    /// Why reading stopped before the end of the file, if it did.
    pub(crate) stop: Option<Stop>,
}

/// Replays every valid frame through `replayer`, front to back, then
/// collects its deferred verdict before anything else happens: a failure
/// of a record taken earlier comes first, since reading stopped, or would
/// have, at that record.
pub(crate) fn replay<R>(
    reader: &mut Reader<'_>,
    path: &Path,
    header: &FileHeader,
    opts: &WalOptions,
    replayer: &mut R,
) -> Result<Replayed, WalError>
where
    R: Replay + ?Sized,
{
    replayer.begin(reader.file_len());
    let read = read_frames(reader, path, header, opts, &mut *replayer);
    match replayer.finish() {
        Ok(()) => read,
        Err(failure) => Err(WalError::Replay {
            path: path.to_path_buf(),
            seq: failure.seq,
            offset: failure.offset,
            source: failure.source,
        }),
    }
}

/// The reading loop of [`replay`].
fn read_frames(
    reader: &mut Reader<'_>,
    path: &Path,
    header: &FileHeader,
    opts: &WalOptions,
    replayer: &mut (impl Replay + ?Sized),
) -> Result<Replayed, WalError> {
    let file_len = reader.file_len();
    let mut offset = header.encoded_len() as u64;
    let mut seq = header.base_seq;
    let mut stop = None;
    // Seals met, and the sequence number of the last one.
    let mut seals = 0u64;
    let mut last_seal = None;
    let mut records_end = offset;
    while offset < file_len {
        let read = reader.run(offset, seq, opts.max_record_len);
        match read.context("reading", path)? {
            Ok(run) => {
                for frame in &run {
                    if frame.kind == FrameKind::Seal {
                        seals += 1;
                        last_seal = Some(seq);
                        seq += 1;
                    } else {
                        // A batch frame's records all report its offset.
                        for payload in frame.payloads() {
                            replayer
                                .record(ReplayRecord {
                                    seq,
                                    offset,
                                    payload,
                                })
                                .map_err(|source| WalError::Replay {
                                    path: path.to_path_buf(),
                                    seq,
                                    offset,
                                    source,
                                })?;
                            seq += 1;
                        }
                        records_end = offset + frame.frame_len as u64;
                    }
                    offset += frame.frame_len as u64;
                }
                if replayer.failed() {
                    break;
                }
            }
            Err(s) => {
                stop = Some(s);
                break;
            }
        }
    }
    Ok(Replayed {
        end: offset,
        records_end,
        next_seq: seq,
        records: seq - header.base_seq - seals,
        needs_seal: seq > header.base_seq && last_seal != Some(seq - 1),
        stop,
    })
}
