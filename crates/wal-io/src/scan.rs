//! Reading a log front to back: [`replay`] hands every valid record to a
//! [`Replay`] and says where the valid frames end ([`Replayed`]), and
//! [`Vouch`] says how much was vouched durable before. Shared by the open,
//! the read-only [`inspect`](crate::inspect) and the follower.

use std::path::Path;

use wal_format::{FileHeader, FrameKind};

use crate::error::{CallbackError, Context, VouchedBy};
use crate::options::WalOptions;
use crate::reader::{Reader, Stop};
use crate::replay::Replay;
use crate::report::ReplayRecord;
use crate::sidecar::Sidecar;

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
/// have, at that record. The replayer's error comes back as it is, in
/// [`CallbackError::Replay`].
pub(crate) fn replay<E, R>(
    reader: &mut Reader<'_>,
    path: &Path,
    header: &FileHeader,
    opts: &WalOptions,
    replayer: &mut R,
) -> Result<Replayed, CallbackError<E>>
where
    R: Replay<E> + ?Sized,
{
    replayer.begin(reader.file_len());
    let read = read_frames(reader, path, header, opts, &mut *replayer);
    match replayer.finish() {
        Ok(()) => read,
        Err(failure) => Err(CallbackError::Replay {
            path: path.to_path_buf(),
            seq: failure.seq,
            offset: failure.offset,
            source: failure.source,
        }),
    }
}

/// The reading loop of [`replay`].
fn read_frames<E>(
    reader: &mut Reader<'_>,
    path: &Path,
    header: &FileHeader,
    opts: &WalOptions,
    replayer: &mut (impl Replay<E> + ?Sized),
) -> Result<Replayed, CallbackError<E>> {
    if let Some(note) = crate::seal::read_note(reader).context("reading", path)? {
        replayer.seal_note(&note);
    }
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
                                .map_err(|source| CallbackError::Replay {
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
