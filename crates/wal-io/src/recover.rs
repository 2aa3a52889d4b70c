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

use wal_format::{Decoded, FileHeader, FormatError, FrameKind, HEADER_LEN};

use crate::error::{BoxError, VouchedBy, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::{Reader, Stop};
use crate::report::{RecoveryReport, ReplayRecord, Truncation, TruncationReason};
use crate::sidecar::{self, Claim, Sidecar};
use crate::storage::{OpenMode, Storage, StorageFile, StorageLock, parent_dir, read_exact_at};
use crate::temp::{clear_temp, note_temp, sibling};
use crate::wal::Wal;

impl Wal {
    /// Opens the log at `path`, creating it if missing, and replays every
    /// valid record through `replay`, in order, before returning.
    ///
    /// See the [crate docs](crate) for what recovery does with each kind
    /// of damage. If `replay` fails, or the file is not this application's
    /// log, or it holds damaged or missing synced data (in
    /// [`RecoveryMode::Strict`]), the open fails and no byte of the file is
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
        let given = path.as_ref();
        // Resolve symbolic links once, so that the lock, the temporary file
        // and rewrites' renames all act on the real file, whatever name it
        // was opened by.
        let path = storage
            .resolve(given)
            .map_err(|e| WalError::io("opening", given, e))?;
        // Refuse a directory, a special file or a stranger's file before
        // a lock file is created beside it.
        if storage
            .file_exists(&path)
            .map_err(|e| WalError::io("opening", given, e))?
        {
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
        match open_locked(&*storage, &path, &lock_path, &opts, replay) {
            Ok(opened) => Ok(opened.into_wal(storage, path, lock_path, opts, lock)),
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
            file: self.file,
            header: self.header,
            len: self.len,
            records: self.records,
            next_seq: self.next_seq,
            synced_upto: self.next_seq,
            synced_len: self.len,
            needs_seal: self.needs_seal,
            buf: Vec::with_capacity(opts.buf_capacity.min(1 << 20)),
            opts,
            poison: None,
            owner: std::process::id(),
            _lock: lock,
        };
        (wal, self.report)
    }
}

/// The open's steps once the lock is held.
fn open_locked<F>(
    storage: &dyn Storage,
    path: &Path,
    lock_path: &Path,
    opts: &WalOptions,
    replay_fn: F,
) -> Result<Opened, WalError>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
{
    let mut report = RecoveryReport::default();
    let exists = storage
        .file_exists(path)
        .map_err(|e| WalError::io("opening", path, e))?;
    if exists {
        let links = storage
            .link_count(path)
            .map_err(|e| WalError::io("opening", path, e))?;
        if links > 1 {
            return Err(WalError::HardLinked {
                path: path.to_path_buf(),
                links,
            });
        }
    }
    let (mut file, header) = if exists {
        open_existing(storage, path, opts, &mut report)?
    } else {
        create(storage, path, opts, &mut report)?
    };
    report.created = !exists;
    let side = sidecar::read(storage, lock_path);
    let vouch = Vouch::of(&header, side, lock_path);

    let file_len = file.len().map_err(|e| WalError::io("reading", path, e))?;
    let mut reader = Reader::new(&*file, file_len, opts.buf_capacity);
    let replayed = replay(&mut reader, path, &header, opts, replay_fn)?;
    let end = replayed.end;
    let verdict = judge(reader, path, &replayed, &vouch, opts)?;
    report.truncated = settle(
        storage, path, &mut *file, file_len, &replayed, &vouch, verdict,
    )?;

    // Every record now in the file is claimed durable by the records
    // appended after this open, so make it so first.
    file.sync_data()
        .map_err(|e| WalError::io("syncing", path, e))?;
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
        records: replayed.records,
        next_seq: replayed.next_seq,
        needs_seal: replayed.needs_seal,
        sidecar_writable: side.writable(),
        report,
    })
}

/// How much of the log was vouched durable before this open, and by what.
struct Vouch {
    len: u64,
    by: VouchedBy,
}

impl Vouch {
    /// The larger of the header's vouched length and the sidecar's claim
    /// about this file.
    fn of(header: &FileHeader, side: Sidecar, lock_path: &Path) -> Self {
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
struct Replayed {
    /// End of the last valid frame.
    end: u64,
    /// End of the last valid frame that holds records (not a seal): what a
    /// claim vouches for.
    records_end: u64,
    /// Sequence number after the last valid frame.
    next_seq: u64,
    /// Application records replayed.
    records: u64,
    /// Whether the last frame is a record rather than a seal: closing must
    /// seal the log then.
    needs_seal: bool,
    /// Why reading stopped before the end of the file, if it did.
    stop: Option<Stop>,
}

/// Replays every valid frame through `replay_fn`, front to back.
fn replay<F>(
    reader: &mut Reader<'_>,
    path: &Path,
    header: &FileHeader,
    opts: &WalOptions,
    mut replay_fn: F,
) -> Result<Replayed, WalError>
where
    F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
{
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
        match read.map_err(|e| WalError::io("reading", path, e))? {
            Ok(run) => {
                for frame in &run {
                    if frame.kind == FrameKind::Seal {
                        seals += 1;
                        last_seal = Some(seq);
                        seq += 1;
                    } else {
                        // A batch frame's records all report its offset.
                        for payload in frame.payloads() {
                            replay_fn(ReplayRecord {
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

/// What to do with the bytes after the last valid frame.
enum Verdict {
    /// Nothing follows it, and nothing vouched is missing.
    Clean,
    /// The file ends at a frame boundary before the vouched length (salvage
    /// mode only: strict mode refuses).
    CutShort,
    /// Cut the file back to the end of the last valid frame.
    Cut(Cut),
}

/// Why a tail may be cut.
enum Cut {
    /// Nothing proves the bytes were ever durable: an interrupted write.
    Torn,
    /// Synced bytes are damaged (salvage mode only): copy them aside first.
    Salvage,
}

/// Decides what the bytes after the last valid frame are: a torn tail, or
/// damaged or missing synced data, refused in strict mode.
fn judge(
    mut reader: Reader<'_>,
    path: &Path,
    replayed: &Replayed,
    vouch: &Vouch,
    opts: &WalOptions,
) -> Result<Verdict, WalError> {
    let strict = opts.recovery == RecoveryMode::Strict;
    let file_len = reader.file_len();
    let end = replayed.end;
    // The records before `vouch.len` were durable before this open: if the
    // valid records end before it, synced records are damaged or missing
    // (a seal after them is not a record: its loss loses nothing).
    let lost_vouched = replayed.records_end < vouch.len;
    let truncated = |cause| WalError::Truncated {
        path: path.to_path_buf(),
        offset: end,
        file_len,
        vouched_len: vouch.len,
        by: vouch.by.clone(),
        valid_records: replayed.records,
        source: cause,
    };
    if let Some(Stop {
        offset,
        seq,
        cause: Some(FormatError::TooLarge { len, max }),
    }) = replayed.stop
        && whole_valid_frame(&mut reader, offset, seq, len, path)?
    {
        // Not damage: a record the writer's larger bound allowed.
        return Err(WalError::RecordBeyondBound {
            path: path.to_path_buf(),
            offset,
            len,
            max,
        });
    }
    let Some(stop) = &replayed.stop else {
        return match (lost_vouched, strict) {
            (false, _) => Ok(Verdict::Clean),
            (true, true) => Err(truncated(None)),
            (true, false) => Ok(Verdict::CutShort),
        };
    };
    let voucher = reader
        .find_voucher(stop, opts.max_record_len)
        .map_err(|e| WalError::io("reading", path, e))?;
    match voucher {
        None if !lost_vouched => Ok(Verdict::Cut(Cut::Torn)),
        Some(vouched_by) if strict => Err(WalError::Corrupt {
            path: path.to_path_buf(),
            offset: stop.offset,
            seq: stop.seq,
            vouched_by,
            valid_records: replayed.records,
            source: stop.cause.clone(),
        }),
        None if strict => Err(truncated(stop.cause.clone())),
        _ => Ok(Verdict::Cut(Cut::Salvage)),
    }
}

/// Whether a complete frame with a valid checksum, holding a record of
/// `len` bytes, starts at `offset`.
fn whole_valid_frame(
    reader: &mut Reader<'_>,
    offset: u64,
    seq: u64,
    len: u64,
    path: &Path,
) -> Result<bool, WalError> {
    let (Ok(max), Some(frame_len)) = (
        u32::try_from(len),
        len.checked_add(wal_format::FRAME_OVERHEAD as u64),
    ) else {
        return Ok(false);
    };
    if offset.saturating_add(frame_len) > reader.file_len() {
        return Ok(false);
    }
    let want = usize::try_from(frame_len).unwrap_or(usize::MAX);
    let bytes = reader
        .get(offset, want)
        .map_err(|e| WalError::io("reading", path, e))?;
    Ok(matches!(
        wal_format::decode_record(bytes, seq, max),
        Ok(Decoded::Complete(_))
    ))
}

/// Carries out `verdict`; returns what was cut.
fn settle(
    storage: &dyn Storage,
    path: &Path,
    file: &mut dyn StorageFile,
    file_len: u64,
    replayed: &Replayed,
    vouch: &Vouch,
    verdict: Verdict,
) -> Result<Option<Truncation>, WalError> {
    let end = replayed.end;
    let reason = match verdict {
        Verdict::Clean => return Ok(None),
        Verdict::CutShort => {
            return Ok(Some(Truncation {
                offset: end,
                bytes: 0,
                cause: None,
                reason: TruncationReason::CutShort {
                    vouched_len: vouch.len,
                },
            }));
        }
        Verdict::Cut(Cut::Torn) => TruncationReason::TornTail,
        Verdict::Cut(Cut::Salvage) => TruncationReason::Salvaged {
            copy: salvage(storage, path, &*file, end, file_len)?,
        },
    };
    file.set_len(end)
        .map_err(|e| WalError::io("truncating", path, e))?;
    Ok(Some(Truncation {
        offset: end,
        bytes: file_len - end,
        cause: replayed.stop.as_ref().and_then(|s| s.cause.clone()),
        reason,
    }))
}

/// Creates a new log at `path` holding only its header, durably and
/// atomically: the header is written and synced in the temporary file,
/// which is then renamed over `path` (missing, or empty / a header prefix)
/// and the directory synced. A crash at any point leaves `path` as it was
/// or a complete log, never a file a later open would refuse.
fn create(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
    report: &mut RecoveryReport,
) -> Result<(Box<dyn StorageFile>, FileHeader), WalError> {
    let tmp = sibling(path, &opts.temp_suffix);
    note_temp(report, clear_temp(storage, path, opts)?);
    let mut file = storage
        .open(&tmp, OpenMode::CreateNew)
        .map_err(|e| WalError::io("creating", &tmp, e))?;
    let header = FileHeader::new(&opts.app_tag, opts.app_version, 0)
        .with_file_id(storage.new_file_id())
        .with_vouched_len(wal_format::HEADER_LEN as u64);
    let written = file
        .write_at(0, &header.encode())
        .map_err(|e| WalError::io("writing to", &tmp, e))
        .and_then(|()| {
            file.sync_data()
                .map_err(|e| WalError::io("syncing", &tmp, e))
        })
        .and_then(|()| {
            storage
                .rename(&tmp, path)
                .map_err(|e| WalError::io("renaming over", path, e))
        });
    if let Err(e) = written {
        // Best effort: leave nothing behind (a later open removes it else).
        drop(file);
        let _ = storage.remove(&tmp);
        return Err(e);
    }
    storage
        .sync_dir(parent_dir(path))
        .map_err(|e| WalError::io("syncing directory of", path, e))?;
    Ok((file, header))
}

/// Opens an existing file and checks that it is this application's log.
fn open_existing(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
    report: &mut RecoveryReport,
) -> Result<(Box<dyn StorageFile>, FileHeader), WalError> {
    let file = storage
        .open(path, OpenMode::Existing)
        .map_err(|e| WalError::io("opening", path, e))?;
    match read_header(&*file, path, opts)? {
        Some(header) => Ok((file, header)),
        None => {
            // Empty, or a creation cut short: a new log.
            drop(file);
            report.initialized = true;
            create(storage, path, opts, report)
        }
    }
}

/// Reads and checks the header of `file`: `None` for an empty file or a
/// strict prefix of a header (a creation cut short); an error, touching
/// nothing, for anything that is not this application's log.
fn read_header(
    file: &dyn StorageFile,
    path: &Path,
    opts: &WalOptions,
) -> Result<Option<FileHeader>, WalError> {
    let len = file.len().map_err(|e| WalError::io("reading", path, e))?;
    let mut head = vec![0; usize::try_from(len).unwrap_or(HEADER_LEN).min(HEADER_LEN)];
    read_exact_at(file, 0, &mut head).map_err(|e| WalError::io("reading", path, e))?;
    match FileHeader::decode(&head) {
        Ok(Decoded::Complete(header)) => {
            let expected = FileHeader::new(&opts.app_tag, 0, 0);
            if header.app_tag != expected.app_tag {
                return Err(WalError::WrongApp {
                    expected: String::from_utf8_lossy(expected.app_tag_trimmed()).into_owned(),
                    found: String::from_utf8_lossy(header.app_tag_trimmed()).into_owned(),
                    path: path.to_path_buf(),
                });
            }
            if header.app_version > opts.app_version {
                return Err(WalError::NewerAppVersion {
                    found: header.app_version,
                    supported: opts.app_version,
                    path: path.to_path_buf(),
                });
            }
            Ok(Some(header))
        }
        Ok(Decoded::Incomplete { .. }) => Ok(None),
        Err(FormatError::NotALog) => Err(WalError::NotALog {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(WalError::BadHeader {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Refuses, before anything is created beside it, a file at `path` that is
/// not this application's log. The check is repeated under the lock.
fn precheck(storage: &dyn Storage, path: &Path, opts: &WalOptions) -> Result<(), WalError> {
    let file = storage
        .open(path, OpenMode::Existing)
        .map_err(|e| WalError::io("opening", path, e))?;
    read_header(&*file, path, opts).map(drop)
}

/// Copies every byte from the damage to the end of the log into
/// `<log>.corrupt-<offset>`, durably, and returns that path.
fn salvage(
    storage: &dyn Storage,
    path: &Path,
    file: &dyn StorageFile,
    from: u64,
    file_len: u64,
) -> Result<PathBuf, WalError> {
    let copy_path = sibling(path, &format!(".corrupt-{from}"));
    let mut copy = storage
        .open(&copy_path, OpenMode::CreateNew)
        .map_err(|e| WalError::io("creating", &copy_path, e))?;
    let mut buf = vec![0; 1 << 20];
    let mut at = from;
    while at < file_len {
        let n = usize::try_from(file_len - at)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        read_exact_at(file, at, &mut buf[..n]).map_err(|e| WalError::io("reading", path, e))?;
        copy.write_at(at - from, &buf[..n])
            .map_err(|e| WalError::io("writing to", &copy_path, e))?;
        at += n as u64;
    }
    copy.sync_data()
        .map_err(|e| WalError::io("syncing", &copy_path, e))?;
    storage
        .sync_dir(parent_dir(path))
        .map_err(|e| WalError::io("syncing directory of", &copy_path, e))?;
    Ok(copy_path)
}
