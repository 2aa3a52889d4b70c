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

use wal_format::{FileHeader, FrameKind, Record};

use crate::create::read_header;
use crate::error::{BoxError, CallbackError, Context, WalError};
use crate::follow_tail::{QuietTail, judge_tail};
use crate::options::{RecoveryMode, WalOptions};
use crate::reader::{Reader, Stop};
use crate::report::ReplayRecord;
use crate::scan::{Replayed, Vouch};
use crate::sidecar;
use crate::storage::{Storage, StorageFile};
use crate::temp::sibling;

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

/// The file a follower reads, and where it is in it.
#[derive(Debug)]
struct State {
    /// The file and its header; `None` while the path holds an empty file
    /// or a header cut short (a log being created).
    file: Option<(Box<dyn StorageFile>, FileHeader)>,
    pos: Pos,
}

/// Where a follower is in the file it reads.
#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    /// End of the last delivered frame.
    offset: u64,
    /// End of the last delivered frame that holds records.
    records_end: u64,
    /// Sequence number after the last delivered frame.
    next_seq: u64,
    /// Records delivered from this file.
    records: u64,
    /// Bytes after `offset` when last looked.
    pending: u64,
    /// A tail of zeros seen at the last look (see [`crate::follow_tail`]).
    quiet: Option<QuietTail>,
}

/// The frames one scan went over.
struct Scanned {
    end: u64,
    records_end: u64,
    next_seq: u64,
    records: u64,
    stop: Option<Stop>,
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
        let given = path.as_ref();
        let path = storage.resolve(given).context("opening", given)?;
        // A directory or a special file is refused here, as by an open.
        if !storage.file_exists(&path).context("opening", given)? {
            return Err(WalError::io(
                "opening",
                given,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no log at this path (a read-only open never creates one)",
                ),
            )
            .into());
        }
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
        let replaced = match (&self.state.file, &current) {
            (None, None) => return Ok(Polled::default()),
            (Some((_, mine)), Some(now)) => mine != now,
            _ => true,
        };
        let shrunk = match &self.state.file {
            Some((file, _)) => {
                file.len().map_err(|e| self.io("reading", e))? < self.state.pos.offset
            }
            None => false,
        };
        if replaced || shrunk {
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
        self.state.file.as_ref().map(|(_, h)| h)
    }

    /// The sequence number after the last delivered frame.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.state.pos.next_seq
    }

    /// Which records this follower shows.
    #[must_use]
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }

    fn io(&self, op: &'static str, e: std::io::Error) -> WalError {
        WalError::io(op, &self.path, e)
    }

    fn rejected<E>(&self, seq: u64, offset: u64, source: E) -> CallbackError<E> {
        CallbackError::Replay {
            path: self.path.clone(),
            seq,
            offset,
            source,
        }
    }

    /// The header of the file now at the path (`None`: empty, or a header
    /// cut short), checked as an open checks it.
    fn header_at_path(&self) -> Result<Option<FileHeader>, WalError> {
        let file = self
            .storage
            .open_read(&self.path)
            .map_err(|e| self.io("opening", e))?;
        read_header(&*file, &self.path, &self.opts)
    }

    /// How much of the file with `header` was vouched durable: read before
    /// the file's length, so that it never covers bytes not yet seen.
    fn vouch(&self, header: &FileHeader) -> Vouch {
        Vouch::of(
            header,
            sidecar::read(&*self.storage, &self.lock_path),
            &self.lock_path,
        )
    }

    /// Opens the file at the path from scratch and delivers its records.
    fn load<E>(
        &self,
        replay: &mut dyn FnMut(FollowEvent<'_>) -> Result<(), E>,
    ) -> Result<(State, Polled), CallbackError<E>> {
        // A second name is refused as an open refuses it: a writer using
        // the other name would compact to a new file this one never sees.
        let links = self
            .storage
            .link_count(&self.path)
            .map_err(|e| self.io("opening", e))?;
        if links > 1 {
            return Err(WalError::HardLinked {
                path: self.path.clone(),
                links,
            }
            .into());
        }
        let file = self
            .storage
            .open_read(&self.path)
            .map_err(|e| self.io("opening", e))?;
        let Some(header) = read_header(&*file, &self.path, &self.opts)? else {
            let pending = file.len().map_err(|e| self.io("reading", e))?;
            let mut state = State::empty();
            state.pos.pending = pending;
            let polled = Polled {
                pending_bytes: pending,
                ..Polled::default()
            };
            return Ok((state, polled));
        };
        let start = header.encoded_len() as u64;
        let mut pos = Pos {
            offset: start,
            records_end: start,
            next_seq: header.base_seq,
            records: 0,
            pending: 0,
            quiet: None,
        };
        let polled = self.advance_in(&*file, &header, &mut pos, replay)?;
        let state = State {
            file: Some((file, header)),
            pos,
        };
        Ok((state, polled))
    }

    /// Delivers what was appended to the file being followed.
    fn advance<E>(
        &mut self,
        replay: &mut dyn FnMut(FollowEvent<'_>) -> Result<(), E>,
    ) -> Result<Polled, CallbackError<E>> {
        let Some((file, header)) = &self.state.file else {
            return Ok(Polled::default());
        };
        let mut pos = self.state.pos;
        let polled = self.advance_in(&**file, header, &mut pos, replay);
        // Frames delivered before an error stay delivered.
        self.state.pos = pos;
        polled
    }

    /// Delivers the frames after `pos.offset` that this follower shows,
    /// moving `pos` past each frame delivered, then judges what follows.
    fn advance_in<E>(
        &self,
        file: &dyn StorageFile,
        header: &FileHeader,
        pos: &mut Pos,
        replay: &mut dyn FnMut(FollowEvent<'_>) -> Result<(), E>,
    ) -> Result<Polled, CallbackError<E>> {
        let before = pos.records;
        // The claim is read before the file's length (see `vouch`).
        let vouch = self.vouch(header);
        let file_len = file.len().map_err(|e| self.io("reading", e))?;
        let limit = match self.visibility {
            Visibility::Written => u64::MAX,
            Visibility::Durable => self.durable_end(file, file_len, pos, &vouch)?,
        };
        let mut reader = Reader::new(file, file_len, self.opts.buf_capacity);
        let scanned = scan::<CallbackError<E>>(
            &mut reader,
            &self.path,
            &self.opts,
            pos,
            limit,
            &mut |record, offset| {
                for (seq, payload) in (record.seq..).zip(record.payloads()) {
                    let at = ReplayRecord {
                        seq,
                        offset,
                        payload,
                    };
                    replay(FollowEvent::Record(at)).map_err(|source| CallbackError::Replay {
                        path: self.path.clone(),
                        seq,
                        offset,
                        source,
                    })?;
                }
                Ok(())
            },
        );
        let (scanned, failed) = scanned;
        // Frames delivered before a failure stay delivered.
        pos.advance_to(&scanned);
        failed?;
        if limit == u64::MAX {
            // What follows the last valid frame: a frame being written or
            // a torn tail (pending), or damage or a cut an open would
            // refuse.
            let replayed = scanned.replayed();
            judge_tail(
                file,
                file_len,
                &self.path,
                &replayed,
                &vouch,
                &self.opts,
                &mut pos.quiet,
            )?;
        }
        pos.pending = file_len.saturating_sub(pos.offset);
        Ok(Polled {
            reloaded: false,
            records: pos.records - before,
            pending_bytes: pos.pending,
            next_seq: pos.next_seq,
        })
    }

    /// Where the frames known durable end: within the vouched length, or
    /// below the highest synced watermark of the frames after
    /// `pos.offset`. Refuses what an open would refuse.
    fn durable_end(
        &self,
        file: &dyn StorageFile,
        file_len: u64,
        pos: &mut Pos,
        vouch: &Vouch,
    ) -> Result<u64, WalError> {
        let mut watermark = 0;
        let mut ends = Vec::new();
        let mut reader = Reader::new(file, file_len, self.opts.buf_capacity);
        let scanned = scan(
            &mut reader,
            &self.path,
            &self.opts,
            pos,
            u64::MAX,
            &mut |record, offset| {
                watermark = watermark.max(record.synced_upto);
                ends.push((
                    offset + record.frame_len as u64,
                    record.seq + record.seq_count(),
                ));
                Ok::<(), WalError>(())
            },
        );
        let (scanned, failed) = scanned;
        failed?;
        let replayed = scanned.replayed();
        judge_tail(
            file,
            file_len,
            &self.path,
            &replayed,
            vouch,
            &self.opts,
            &mut pos.quiet,
        )?;
        let by_watermark = ends
            .iter()
            .rev()
            .find(|&&(_, next)| next <= watermark)
            .map_or(pos.offset, |&(end, _)| end);
        Ok(by_watermark.max(vouch.len))
    }
}

impl State {
    fn empty() -> Self {
        Self {
            file: None,
            pos: Pos::default(),
        }
    }
}

impl Pos {
    fn advance_to(&mut self, scanned: &Scanned) {
        self.offset = scanned.end;
        self.records_end = scanned.records_end;
        self.next_seq = scanned.next_seq;
        self.records = scanned.records;
    }
}

impl Scanned {
    /// The scan as the recovery's verdict takes it.
    fn replayed(self) -> Replayed {
        Replayed {
            end: self.end,
            records_end: self.records_end,
            next_seq: self.next_seq,
            records: self.records,
            needs_seal: false,
            stop: self.stop,
        }
    }
}

/// Goes over the valid frames after `from.offset` that end within `limit`,
/// calling `each` with every one (seals included) and its offset. Returns
/// the frames done, and the failure of `each` or of a read that ended the
/// scan, if one did.
fn scan<X: From<WalError>>(
    reader: &mut Reader<'_>,
    path: &Path,
    opts: &WalOptions,
    from: &Pos,
    limit: u64,
    each: &mut dyn FnMut(&Record<'_>, u64) -> Result<(), X>,
) -> (Scanned, Result<(), X>) {
    let mut done = Scanned {
        end: from.offset,
        records_end: from.records_end,
        next_seq: from.next_seq,
        records: from.records,
        stop: None,
    };
    let file_len = reader.file_len();
    while done.end < file_len {
        let run = match reader.run(done.end, done.next_seq, opts.max_record_len) {
            Ok(Ok(run)) => run,
            Ok(Err(stop)) => {
                done.stop = Some(stop);
                break;
            }
            Err(e) => return (done, Err(WalError::io("reading", path, e).into())),
        };
        for record in &run {
            let end = done.end + record.frame_len as u64;
            if end > limit {
                return (done, Ok(()));
            }
            if let Err(e) = each(&record, done.end) {
                return (done, Err(e));
            }
            if record.kind != FrameKind::Seal {
                done.records += record.seq_count();
                done.records_end = end;
            }
            done.next_seq = record.seq + record.seq_count();
            done.end = end;
        }
    }
    (done, Ok(()))
}
