//! Opening a log: locking, header checks, replay and recovery.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wal_format::{Decoded, FileHeader, FormatError, FrameKind, HEADER_LEN};

use crate::error::{BoxError, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::{Reader, Stop};
use crate::storage::{OpenMode, Storage, StorageFile, parent_dir, read_exact_at};
use crate::wal::Wal;

/// One record handed to the replay callback of [`Wal::open`].
#[derive(Debug, Clone, Copy)]
pub struct ReplayRecord<'a> {
    /// The record's sequence number.
    pub seq: u64,
    /// Byte offset of the record's frame in the file.
    pub offset: u64,
    /// The payload.
    pub payload: &'a [u8],
}

/// What [`Wal::open`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The file did not exist and was created.
    pub created: bool,
    /// The file was empty or held only part of a header (a creation cut
    /// short) and was initialised as a new log.
    pub initialized: bool,
    /// Records replayed (seals, which hold no application data, are not
    /// counted).
    pub records: u64,
    /// Bytes of valid log after recovery, header included.
    pub bytes: u64,
    /// A damaged or incomplete tail that was cut off.
    pub truncated: Option<Truncation>,
    /// A stale temporary file of an interrupted rewrite that was removed.
    pub removed_temp: Option<PathBuf>,
    /// A file at the temporary path that was not recognisably a leftover of
    /// this log: renamed to this path, its bytes intact, so that it cannot
    /// block rewrites. Inspect it, then delete it.
    pub set_aside_temp: Option<PathBuf>,
}

/// A tail cut off by recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Offset the file was truncated to: the end of the last valid record.
    pub offset: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// What was wrong with the first removed bytes (`None`: they ended
    /// inside a frame).
    pub cause: Option<FormatError>,
    /// Why it was safe to cut.
    pub reason: TruncationReason,
}

/// Why recovery cut a tail off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TruncationReason {
    /// No later valid record proves the cut bytes were ever synced: they
    /// are an interrupted write.
    TornTail,
    /// The bytes were synced and damaged; in salvage mode they were first
    /// copied into this file.
    Salvaged {
        /// The sibling file holding every byte from the damage to the end.
        copy: PathBuf,
    },
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Wal {
    /// Opens the log at `path`, creating it if missing, and replays every
    /// valid record through `replay`, in order, before returning.
    ///
    /// See the [crate docs](crate) for what recovery does with each kind
    /// of damage. If `replay` fails, or the file is not this application's
    /// log, or it holds damaged synced data (in [`RecoveryMode::Strict`]),
    /// the open fails and no byte of the file is changed.
    pub fn open<F>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        mut replay: F,
    ) -> Result<(Wal, RecoveryReport), WalError>
    where
        F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
    {
        // Resolve symbolic links once, so that the lock, the temporary file
        // and rewrites' renames all act on the real file, whatever name it
        // was opened by.
        let path = storage
            .resolve(path.as_ref())
            .map_err(|e| WalError::io("resolving", path.as_ref(), e))?;
        // Fail early on a directory, before a lock file is created beside it.
        storage
            .file_exists(&path)
            .map_err(|e| WalError::io("opening", &path, e))?;
        let lock_path = sibling(&path, ".lock");
        let lock = match storage.lock(&lock_path) {
            Ok(lock) => lock,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(WalError::AlreadyOpen { path });
            }
            Err(e) => return Err(WalError::io("locking", lock_path, e)),
        };
        let mut report = RecoveryReport::default();
        let exists = storage
            .file_exists(&path)
            .map_err(|e| WalError::io("opening", &path, e))?;
        let (mut file, header) = if exists {
            open_existing(&*storage, &path, &opts, &mut report)?
        } else {
            create(&*storage, &path, &opts, &mut report)?
        };
        report.created = !exists;

        // Replay, and find where the valid records end.
        let file_len = file.len().map_err(|e| WalError::io("reading", &path, e))?;
        let mut reader = Reader::new(&*file, file_len, opts.buf_capacity);
        let mut offset = HEADER_LEN as u64;
        let mut seq = header.base_seq;
        let mut stop = None;
        // Seals met, and the sequence number of the last one.
        let mut seals = 0u64;
        let mut last_seal = None;
        while offset < file_len {
            let read = reader.run(offset, seq, opts.max_record_len);
            match read.map_err(|e| WalError::io("reading", &path, e))? {
                Ok(run) => {
                    for frame in &run {
                        if frame.kind == FrameKind::Seal {
                            seals += 1;
                            last_seal = Some(seq);
                            seq += 1;
                        } else {
                            // A batch frame's records all report its offset.
                            for payload in frame.payloads() {
                                replay(ReplayRecord {
                                    seq,
                                    offset,
                                    payload,
                                })
                                .map_err(|source| {
                                    WalError::Replay {
                                        path: path.clone(),
                                        seq,
                                        offset,
                                        source,
                                    }
                                })?;
                                seq += 1;
                            }
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

        // Application records replayed, and whether the last frame is one
        // (rather than a seal): closing must seal the log then.
        let records = seq - header.base_seq - seals;
        let needs_seal = seq > header.base_seq && last_seal != Some(seq - 1);
        if let Some(stop) = stop {
            let voucher = reader
                .find_voucher(&stop, opts.max_record_len)
                .map_err(|e| WalError::io("reading", &path, e))?;
            drop(reader);
            let reason = match voucher {
                None => TruncationReason::TornTail,
                Some(vouched_by) if opts.recovery == RecoveryMode::Strict => {
                    return Err(WalError::Corrupt {
                        path,
                        offset: stop.offset,
                        seq: stop.seq,
                        vouched_by,
                        valid_records: records,
                        source: stop.cause,
                    });
                }
                Some(_) => TruncationReason::Salvaged {
                    copy: salvage(&*storage, &path, &*file, &stop, file_len)?,
                },
            };
            file.set_len(stop.offset)
                .map_err(|e| WalError::io("truncating", &path, e))?;
            report.truncated = Some(Truncation {
                offset: stop.offset,
                bytes: file_len - stop.offset,
                cause: stop.cause,
                reason,
            });
        } else {
            drop(reader);
        }

        // Every record now in the file is claimed durable by the records
        // appended after this open, so make it so first.
        file.sync_data()
            .map_err(|e| WalError::io("syncing", &path, e))?;
        note_temp(&mut report, clear_temp(&*storage, &path, &opts)?);
        report.records = records;
        report.bytes = offset;
        let wal = Wal {
            storage,
            path,
            file,
            header,
            len: offset,
            records,
            next_seq: seq,
            synced_upto: seq,
            synced_len: offset,
            needs_seal,
            buf: Vec::with_capacity(opts.buf_capacity.min(1 << 20)),
            opts,
            poison: None,
            _lock: lock,
        };
        Ok((wal, report))
    }
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
    let header = FileHeader::new(&opts.app_tag, opts.app_version, 0);
    file.write_at(0, &header.encode())
        .map_err(|e| WalError::io("writing to", &tmp, e))?;
    file.sync_data()
        .map_err(|e| WalError::io("syncing", &tmp, e))?;
    storage
        .rename(&tmp, path)
        .map_err(|e| WalError::io("renaming over", path, e))?;
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
    let len = file.len().map_err(|e| WalError::io("reading", path, e))?;
    let mut head = vec![0; usize::try_from(len).unwrap_or(HEADER_LEN).min(HEADER_LEN)];
    read_exact_at(&*file, 0, &mut head).map_err(|e| WalError::io("reading", path, e))?;
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
            Ok((file, header))
        }
        Ok(Decoded::Incomplete { .. }) => {
            // Empty, or a creation cut short: a new log.
            drop(file);
            report.initialized = true;
            create(storage, path, opts, report)
        }
        Err(FormatError::NotALog) => Err(WalError::NotALog {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(WalError::BadHeader {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Copies every byte from the damage to the end of the log into
/// `<log>.corrupt-<offset>`, durably, and returns that path.
fn salvage(
    storage: &dyn Storage,
    path: &Path,
    file: &dyn StorageFile,
    stop: &Stop,
    file_len: u64,
) -> Result<PathBuf, WalError> {
    let copy_path = sibling(path, &format!(".corrupt-{}", stop.offset));
    let mut copy = storage
        .open(&copy_path, OpenMode::CreateNew)
        .map_err(|e| WalError::io("creating", &copy_path, e))?;
    let mut buf = vec![0; 1 << 20];
    let mut at = stop.offset;
    while at < file_len {
        let n = usize::try_from(file_len - at)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        read_exact_at(file, at, &mut buf[..n]).map_err(|e| WalError::io("reading", path, e))?;
        copy.write_at(at - stop.offset, &buf[..n])
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

/// Records in `report` what [`clear_temp`] did.
fn note_temp(report: &mut RecoveryReport, cleared: TempCleared) {
    match cleared {
        TempCleared::Absent => {}
        TempCleared::Removed(tmp) => report.removed_temp = Some(tmp),
        TempCleared::SetAside(aside) => report.set_aside_temp = Some(aside),
    }
}

/// What [`clear_temp`] did.
#[derive(Debug)]
pub(crate) enum TempCleared {
    /// There was no temporary file.
    Absent,
    /// A leftover of an interrupted rewrite or creation was removed.
    Removed(PathBuf),
    /// A file not recognisably ours was renamed to this path, bytes intact.
    SetAside(PathBuf),
}

/// Clears the temporary path of the log at `path` for a rewrite or
/// creation: a leftover of ours (see [`temp_is_ours`]) is removed; any
/// other file is renamed to `<tmp>.unrecognized[-N]`, keeping its bytes, so
/// neither a crash artifact nor a stranger's file can block the log.
pub(crate) fn clear_temp(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
) -> Result<TempCleared, WalError> {
    let tmp = sibling(path, &opts.temp_suffix);
    if !storage
        .file_exists(&tmp)
        .map_err(|e| WalError::io("checking for", &tmp, e))?
    {
        return Ok(TempCleared::Absent);
    }
    let dir = parent_dir(path);
    let cleared = if temp_is_ours(storage, &tmp)? {
        storage
            .remove(&tmp)
            .map_err(|e| WalError::io("removing", &tmp, e))?;
        TempCleared::Removed(tmp)
    } else {
        let mut aside = sibling(&tmp, ".unrecognized");
        let mut n = 0u64;
        while storage
            .file_exists(&aside)
            .map_err(|e| WalError::io("opening", &aside, e))?
        {
            n += 1;
            aside = sibling(&tmp, &format!(".unrecognized-{n}"));
        }
        storage
            .rename(&tmp, &aside)
            .map_err(|e| WalError::io("renaming", &tmp, e))?;
        TempCleared::SetAside(aside)
    };
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("syncing directory of", path, e))?;
    Ok(cleared)
}

/// Bytes of a temporary file examined to decide whether it is ours.
const TEMP_PROBE_LEN: usize = 512;

/// Whether the file at `tmp` is what an interrupted rewrite can leave: empty,
/// starting with the log's first magic byte (a header, or one torn after its
/// first byte), or zeros (a crash that kept the length but not the data).
fn temp_is_ours(storage: &dyn Storage, tmp: &Path) -> Result<bool, WalError> {
    let file = storage
        .open(tmp, OpenMode::Existing)
        .map_err(|e| WalError::io("opening", tmp, e))?;
    let len = file.len().map_err(|e| WalError::io("reading", tmp, e))?;
    let mut head = vec![
        0;
        usize::try_from(len)
            .unwrap_or(TEMP_PROBE_LEN)
            .min(TEMP_PROBE_LEN)
    ];
    read_exact_at(&*file, 0, &mut head).map_err(|e| WalError::io("reading", tmp, e))?;
    Ok(match head.first() {
        None => true,
        Some(&first) => first == wal_format::header::MAGIC[0] || head.iter().all(|&b| b == 0),
    })
}
