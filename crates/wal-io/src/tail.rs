//! After replay: what the bytes after the last valid frame are (a torn
//! tail, or damaged or missing synced data) and what to do with them (cut,
//! refuse, or salvage after copying them aside).

use std::path::{Path, PathBuf};

use wal_format::{Decoded, FormatError};

use crate::error::{Context, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::{Reader, Stop};
use crate::report::{Truncation, TruncationReason};
use crate::scan::{Replayed, Vouch};
use crate::storage::{OpenMode, Storage, StorageFile, parent_dir, read_exact_at};
use crate::temp::sibling;

/// What to do with the bytes after the last valid frame.
pub(crate) enum Verdict {
    /// Nothing follows it, and nothing vouched is missing.
    Clean,
    /// The file ends at a frame boundary before the vouched length (salvage
    /// mode only: strict mode refuses).
    CutShort,
    /// Cut the file back to the end of the last valid frame.
    Cut(Cut),
    /// Nothing but zeros follows the last valid frame, no later record
    /// vouches for anything in them and nothing vouched is missing: space
    /// a writer preallocated. Kept (only when the options preallocate).
    Preallocated,
}

impl Verdict {
    /// Bytes of preallocated space the verdict keeps in a file of
    /// `file_len` bytes whose valid frames end at `end`.
    pub(crate) fn preallocated(&self, file_len: u64, end: u64) -> u64 {
        match self {
            Self::Preallocated => file_len - end,
            _ => 0,
        }
    }
}

/// Why a tail may be cut.
pub(crate) enum Cut {
    /// Nothing proves the bytes were ever durable: an interrupted write.
    Torn,
    /// Synced bytes are damaged (salvage mode only): copy them aside first.
    Salvage,
}

/// Decides what the bytes after the last valid frame are: a torn tail, or
/// damaged or missing synced data, refused in strict mode.
pub(crate) fn judge(
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
        .context("reading", path)?;
    match voucher {
        // The same verdict as a torn tail (nothing vouched is damaged or
        // missing), told apart only to keep the space for appends.
        None if !lost_vouched
            && opts.preallocate.is_some()
            && matches!(stop.cause, Some(FormatError::BadMarker { found: 0 }))
            && zeros_to_end(&mut reader, stop.offset).context("reading", path)? =>
        {
            Ok(Verdict::Preallocated)
        }
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

/// Whether every byte of the file from `offset` to its end is zero.
pub(crate) fn zeros_to_end(reader: &mut Reader<'_>, mut offset: u64) -> std::io::Result<bool> {
    const STEP: usize = 1 << 20;
    while offset < reader.file_len() {
        let bytes = reader.get(offset, STEP)?;
        if bytes.is_empty() || bytes.iter().any(|&b| b != 0) {
            return Ok(bytes.is_empty());
        }
        offset += bytes.len() as u64;
    }
    Ok(true)
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
    let bytes = reader.get(offset, want).context("reading", path)?;
    Ok(matches!(
        wal_format::decode_record(bytes, seq, max),
        Ok(Decoded::Complete(_))
    ))
}

/// Carries out `verdict`; returns what was cut.
pub(crate) fn settle(
    storage: &dyn Storage,
    path: &Path,
    file: &dyn StorageFile,
    file_len: u64,
    replayed: &Replayed,
    vouch: &Vouch,
    verdict: Verdict,
) -> Result<Option<Truncation>, WalError> {
    let end = replayed.end;
    let reason = match verdict {
        Verdict::Clean | Verdict::Preallocated => return Ok(None),
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
            copy: salvage(storage, path, file, end, file_len)?,
        },
    };
    file.set_len(end).context("truncating", path)?;
    Ok(Some(Truncation {
        offset: end,
        bytes: file_len - end,
        cause: replayed.stop.as_ref().and_then(|s| s.cause.clone()),
        reason,
    }))
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
    let copy = storage
        .open(&copy_path, OpenMode::CreateNew)
        .context("creating", &copy_path)?;
    let mut buf = vec![0; 1 << 20];
    let mut at = from;
    while at < file_len {
        let n = usize::try_from(file_len - at)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        read_exact_at(file, at, &mut buf[..n]).context("reading", path)?;
        copy.write_at(at - from, &buf[..n])
            .context("writing to", &copy_path)?;
        at += n as u64;
    }
    copy.sync_data().context("syncing", &copy_path)?;
    storage
        .sync_dir(parent_dir(path))
        .context("syncing directory of", &copy_path)?;
    Ok(copy_path)
}
