//! [`WalFollower`]: reading a log that a writer (in this process or
//! another) may have open, without changing anything, and following what
//! it appends.
//!
//! A follower takes no lock and never writes, truncates, creates or
//! removes a file: it opens the log read-only ([`Storage::open_read`]),
//! so it works on a read-only file or file system. It scans frames with
//! the recovery's reader and judges what follows the last valid frame with
//! the recovery's verdict ([`crate::tail::judge`]), without its write
//! steps: where an open would cut a torn tail, a follower reports the bytes
//! as pending (a frame being written, or the leftover of a killed writer
//! that its next open will cut); what an open would refuse (damaged synced
//! data, synced data cut off, a record beyond the bound), a follower
//! refuses with the same [`WalError`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wal_format::FileHeader;

use crate::create::existing;
use crate::error::{BoxError, CallbackError, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::report::ReplayRecord;
use crate::storage::Storage;
use crate::temp::sibling;

use read::State;

mod read;
mod tail;

/// Which records a [`WalFollower`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Every record the writer has written (handed to the operating
    /// system): what a killed writer's next open recovers.
    #[default]
    Written,
    /// Only records known durable: below the synced watermark that later
    /// records carry, or within the length the header or the sidecar claim
    /// vouches for (see `FORMAT.md`). The last records synced by a writer
    /// still running show once a later record, a seal (on close) or a
    /// compaction vouches for them.
    Durable,
}

/// What a [`WalFollower`] hands to its callback while polling.
#[derive(Debug, Clone, Copy)]
pub enum FollowEvent<'a> {
    /// The log was replaced (compacted, rewritten, or created anew) or cut
    /// below what was delivered: forget every record delivered so far; the
    /// new file's records follow from its first.
    Reset,
    /// The next record, in log order.
    Record(ReplayRecord<'a>),
}

/// What a poll (or the open) of a [`WalFollower`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Polled {
    /// The log was replaced, and its records delivered from the first,
    /// after a [`FollowEvent::Reset`].
    pub reloaded: bool,
    /// Records delivered by this call.
    pub records: u64,
    /// Bytes after the last delivered frame: a frame still being written,
    /// records not yet known durable ([`Visibility::Durable`]), or the torn
    /// tail of a killed writer, which its next open cuts.
    pub pending_bytes: u64,
    /// The sequence number after the last delivered frame.
    pub next_seq: u64,
}

/// A read-only view of a log that follows its writer.
///
/// [`open`](Self::open) replays every valid record, like
/// [`Wal::open`](crate::Wal::open) but changing nothing;
/// [`poll`](Self::poll) then delivers the records appended since, in
/// O(new records), and starts over (after a [`FollowEvent::Reset`]) when
/// the log was replaced by a compaction. Every call delivers whole frames:
/// a state made of the records delivered so far is always the writer's
/// state after some prefix of its appends.
#[derive(Debug)]
pub struct WalFollower {
    storage: Arc<dyn Storage>,
    path: PathBuf,
    lock_path: PathBuf,
    opts: WalOptions,
    visibility: Visibility,
    state: State,
}

impl WalFollower {
    /// Opens the log at `path` read-only and replays every record
    /// `visibility` shows through `replay`, in order.
    ///
    /// Takes no lock and changes nothing: no byte, no timestamp, no new
    /// file. Fails as [`Wal::open`](crate::Wal::open) would, with the same
    /// errors, on what it would refuse (not a log, another application, a
    /// file with a second name ([`WalError::HardLinked`]),
    /// damaged or missing synced data, a record beyond the bound); a
    /// missing file is an error (`NotFound`), not created. A torn tail is
    /// reported in [`Polled::pending_bytes`], not cut. An empty file, or a
    /// header cut short, is an empty log.
    ///
    /// `replay`'s errors are boxed, and come back in
    /// [`WalError::Replay`]; [`open_typed`](Self::open_typed) hands back
    /// your own error type instead.
    pub fn open<F>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        visibility: Visibility,
        replay: F,
    ) -> Result<(Self, Polled), WalError>
    where
        F: FnMut(ReplayRecord<'_>) -> Result<(), BoxError>,
    {
        Self::open_typed(storage, path, opts, visibility, replay).map_err(WalError::from)
    }

    /// Like [`open`](Self::open), with `replay` failing with your own
    /// error type `E`, which comes back by value (not boxed) in
    /// [`CallbackError::Replay`], with the record's sequence number and
    /// offset; every other failure is [`CallbackError::Wal`], the
    /// [`WalError`] `open` returns.
    pub fn open_typed<E, F>(
        storage: Arc<dyn Storage>,
        path: impl AsRef<Path>,
        opts: WalOptions,
        visibility: Visibility,
        mut replay: F,
    ) -> Result<(Self, Polled), CallbackError<E>>
    where
        F: FnMut(ReplayRecord<'_>) -> Result<(), E>,
    {
        let path = existing(
            &*storage,
            path.as_ref(),
            "no log at this path (a read-only open never creates one)",
        )?;
        let lock_path = sibling(&path, ".lock");
        let opts = WalOptions {
            recovery: RecoveryMode::Strict,
            ..opts
        };
        let mut follower = Self {
            storage,
            path,
            lock_path,
            opts,
            visibility,
            state: State::empty(),
        };
        let (state, polled) = follower.load(&mut |event| match event {
            FollowEvent::Record(record) => replay(record),
            FollowEvent::Reset => Ok(()),
        })?;
        follower.state = state;
        Ok((follower, polled))
    }

    /// Delivers, in order, the records appended since the last call
    /// (those `visibility` shows), reading only them; or, when the log was
    /// replaced (its header's `file_id` changed) or cut below what was
    /// delivered, a [`FollowEvent::Reset`] and then every record of the
    /// file now at the path.
    ///
    /// On error nothing is lost: the follower stays where it was, and the
    /// records delivered before the error were whole frames (if a
    /// `Reset` was delivered, the caller should discard what followed it).
    ///
    /// `replay`'s errors are boxed, and come back in
    /// [`WalError::Replay`]; [`poll_typed`](Self::poll_typed) hands back
    /// your own error type instead.
    pub fn poll<F>(&mut self, replay: F) -> Result<Polled, WalError>
    where
        F: FnMut(FollowEvent<'_>) -> Result<(), BoxError>,
    {
        self.poll_typed(replay).map_err(WalError::from)
    }

    /// Like [`poll`](Self::poll), with `replay` failing with your own
    /// error type `E`, which comes back by value (not boxed) in
    /// [`CallbackError::Replay`], with the record's sequence number and
    /// offset (both 0 for a failure on [`FollowEvent::Reset`]); every
    /// other failure is [`CallbackError::Wal`], the [`WalError`] `poll`
    /// returns.
    pub fn poll_typed<E, F>(&mut self, mut replay: F) -> Result<Polled, CallbackError<E>>
    where
        F: FnMut(FollowEvent<'_>) -> Result<(), E>,
    {
        let current = self.header_at_path()?;
        let Some(reload) = self.must_reload(current.as_ref())? else {
            return Ok(Polled::default());
        };
        if reload {
            replay(FollowEvent::Reset).map_err(|source| self.rejected(0, 0, source))?;
            let (state, mut polled) = self.load(&mut replay)?;
            self.state = state;
            polled.reloaded = true;
            return Ok(polled);
        }
        self.advance(&mut replay)
    }

    /// The log's path (symbolic links resolved).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header of the file being followed; `None` while the path holds
    /// an empty file or a header cut short.
    #[must_use]
    pub fn header(&self) -> Option<&FileHeader> {
        self.state.header()
    }

    /// The sequence number after the last delivered frame.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.state.next_seq()
    }

    /// Which records this follower shows.
    #[must_use]
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }
}
