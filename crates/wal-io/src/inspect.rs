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

use std::path::Path;

use crate::create::{existing, read_header};
use crate::error::{BoxError, CallbackError, Context, VouchedBy, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::Reader;
use crate::replay::Each;
use crate::report::ReplayRecord;
use crate::scan::{Replayed, Vouch, replay};
use crate::sidecar::{self, Sidecar};
use crate::storage::{OpenMode, Storage, StorageFile};
use crate::tail::{Cut, Verdict as TailVerdict, judge};
use crate::temp::sibling;

pub use crate::inspection::{Inspection, SalvagePlan, SidecarState, Stop, Verdict};
pub use crate::read_only_fs::ReadOnlyFs;

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
        // What the open does with an empty file or a header prefix: create
        // a new log, or refuse one that had durable records.
        let (verdict, vouched_len, vouched_by) =
            match sidecar::emptied(storage, &path, &lock_path, file_len) {
                Some(refusal @ WalError::Truncated { vouched_len, .. }) => (
                    Verdict::Refused(refusal),
                    vouched_len,
                    VouchedBy::Sidecar {
                        path: lock_path.clone(),
                    },
                ),
                _ => (Verdict::Initialize, 0, VouchedBy::Header),
            };
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
            vouched_len,
            vouched_by,
            sidecar: sidecar_state,
            stop: None,
            verdict,
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
