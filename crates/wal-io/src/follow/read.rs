//! How a [`WalFollower`] reads: the file it follows and its place in it,
//! loading a file from its first frame, delivering the frames appended
//! since the last call, and where the durable ones end.

use std::path::Path;

use wal_format::{FileHeader, FrameKind, Record};

use super::tail::{QuietTail, judge_tail};
use super::{FollowEvent, Polled, Visibility, WalFollower};
use crate::create::read_header;
use crate::error::{CallbackError, WalError};
use crate::options::WalOptions;
use crate::reader::{Reader, Stop};
use crate::report::ReplayRecord;
use crate::scan::{Replayed, Vouch};
use crate::sidecar;
use crate::storage::StorageFile;

/// The file a follower reads, and where it is in it.
#[derive(Debug)]
pub(super) struct State {
    /// The file and its header; `None` while the path holds an empty file
    /// or a header cut short (a log being created).
    file: Option<(Box<dyn StorageFile>, FileHeader)>,
    pos: Pos,
}

/// Where a follower is in the file it reads.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Pos {
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
    /// A tail of zeros seen at the last look (see [`super::tail`]).
    quiet: Option<QuietTail>,
}

/// The frames one scan went over.
pub(super) struct Scanned {
    end: u64,
    records_end: u64,
    next_seq: u64,
    records: u64,
    stop: Option<Stop>,
}

impl WalFollower {
    pub(super) fn io(&self, op: &'static str, e: std::io::Error) -> WalError {
        WalError::io(op, &self.path, e)
    }

    pub(super) fn rejected<E>(&self, seq: u64, offset: u64, source: E) -> CallbackError<E> {
        CallbackError::Replay {
            path: self.path.clone(),
            seq,
            offset,
            source,
        }
    }

    /// Judges what follows the frames `scanned` went over, as an open
    /// would: a refusal is an error, a torn or preallocated tail pending.
    fn judge(
        &self,
        file: &dyn StorageFile,
        file_len: u64,
        scanned: Scanned,
        vouch: &Vouch,
        quiet: &mut Option<QuietTail>,
    ) -> Result<(), WalError> {
        let replayed = scanned.replayed();
        judge_tail(
            file, file_len, &self.path, &replayed, vouch, &self.opts, quiet,
        )
    }

    /// Whether the file now at the path (with header `current`) must be
    /// loaded from scratch: it replaced the one followed (another header,
    /// so another `file_id`), or it is shorter than what was delivered.
    /// `None`: there is still no log to follow.
    pub(super) fn must_reload(
        &self,
        current: Option<&FileHeader>,
    ) -> Result<Option<bool>, WalError> {
        let replaced = match (&self.state.file, current) {
            (None, None) => return Ok(None),
            (Some((_, mine)), Some(now)) => mine != now,
            _ => true,
        };
        let shrunk = match &self.state.file {
            Some((file, _)) => {
                file.len().map_err(|e| self.io("reading", e))? < self.state.pos.offset
            }
            None => false,
        };
        Ok(Some(replaced || shrunk))
    }

    /// The header of the file now at the path (`None`: empty, or a header
    /// cut short), checked as an open checks it.
    pub(super) fn header_at_path(&self) -> Result<Option<FileHeader>, WalError> {
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
    pub(super) fn load<E>(
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
            // Refused as the writer's open refuses it: a log emptied or
            // cut into its header after it had durable records.
            if let Some(refusal) =
                sidecar::emptied(&*self.storage, &self.path, &self.lock_path, pending)
            {
                return Err(refusal.into());
            }
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
    pub(super) fn advance<E>(
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
            self.judge(file, file_len, scanned, &vouch, &mut pos.quiet)?;
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
        self.judge(file, file_len, scanned, vouch, &mut pos.quiet)?;
        let by_watermark = ends
            .iter()
            .rev()
            .find(|&&(_, next)| next <= watermark)
            .map_or(pos.offset, |&(end, _)| end);
        Ok(by_watermark.max(vouch.len))
    }
}

impl State {
    /// The header of the file followed, if it has one yet.
    pub(super) fn header(&self) -> Option<&FileHeader> {
        self.file.as_ref().map(|(_, h)| h)
    }

    /// The sequence number after the last delivered frame.
    pub(super) fn next_seq(&self) -> u64 {
        self.pos.next_seq
    }

    pub(super) fn empty() -> Self {
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
