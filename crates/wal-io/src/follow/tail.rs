//! A follower's verdict on the bytes after the last valid frame, without
//! reading a preallocated tail on every poll.
//!
//! A writer that preallocates leaves up to a chunk of zeros after its last
//! record (64 MiB with a 64 MiB chunk). The recovery's verdict
//! ([`judge`]) reads all of them, looking for a later frame that would
//! prove damage: done on every poll, a follower of an idle store read the
//! whole chunk each time (96 ms per poll at 64 MiB, against 9 µs without
//! preallocation).
//!
//! A follower remembers instead that, at its last look, every byte from
//! the stop to the end of a file of that length was zero ([`QuietTail`]).
//! The writer appends in order, so while the first byte at the stop is
//! still zero (no frame begun there) and the file has the same length, no
//! byte after the stop has changed since: nothing there can prove damage,
//! and the verdict is judged on a view of the file that ends a page after
//! the stop. A file that changed length (a new chunk, a cut) is looked at
//! whole again. A verdict that refuses is always given on the whole file,
//! so its error names the file's real length.

use std::path::Path;

use wal_format::FormatError;

use crate::error::{Context, WalError};
use crate::options::WalOptions;
use crate::reader::Reader;
use crate::scan::{Replayed, Vouch};
use crate::storage::StorageFile;
use crate::tail::{judge, zeros_to_end};

/// How much of a quiet tail a follower reads: the frame header at the stop
/// and more.
const QUIET_VIEW: u64 = 4096;

/// At the follower's last look, every byte from `from` to the end of the
/// file, then `file_len` long, was zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuietTail {
    from: u64,
    file_len: u64,
}

/// Judges what follows the last valid frame of `replayed` as an open
/// would (a refusal is an error; a torn or preallocated tail is pending),
/// reading only a page of a tail that `quiet` shows unchanged, and keeps
/// `quiet` up to date.
pub(crate) fn judge_tail(
    file: &dyn StorageFile,
    file_len: u64,
    path: &Path,
    replayed: &Replayed,
    vouch: &Vouch,
    opts: &WalOptions,
    quiet: &mut Option<QuietTail>,
) -> Result<(), WalError> {
    let Some(stop) = &replayed.stop else {
        *quiet = None;
        let reader = Reader::new(file, file_len, opts.buf_capacity);
        return judge(reader, path, replayed, vouch, opts).map(drop);
    };
    let at = stop.offset;
    let unbegun = matches!(stop.cause, Some(FormatError::BadMarker { found: 0 }));
    let still_quiet =
        unbegun && matches!(*quiet, Some(q) if q.file_len == file_len && at >= q.from);
    let zeros = still_quiet || {
        let mut reader = Reader::new(file, file_len, opts.buf_capacity);
        unbegun && zeros_to_end(&mut reader, at).context("reading", path)?
    };
    if zeros {
        let view = Reader::new(
            file,
            at.saturating_add(QUIET_VIEW).min(file_len),
            opts.buf_capacity,
        );
        if judge(view, path, replayed, vouch, opts).is_ok() {
            *quiet = Some(QuietTail { from: at, file_len });
            return Ok(());
        }
    }
    *quiet = None;
    let reader = Reader::new(file, file_len, opts.buf_capacity);
    judge(reader, path, replayed, vouch, opts).map(drop)
}
