//! Walking a file frame by frame, for display: a log (header, then
//! frames) or raw bytes without a header (a `<log>.corrupt-<offset>` copy),
//! reporting and skipping what cannot be read.
//!
//! This is not recovery: it shows what is there. The verdict on a log
//! (what an open keeps, cuts or refuses) is `wal_io::inspect`'s.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FRAME_HEADER_LEN, FileHeader, FormatError, FrameHeader,
    FrameKind, HEADER_LEN, decode_record,
};

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// A window over a read-only file.
pub(crate) struct Source {
    file: File,
    len: u64,
    buf: Vec<u8>,
    start: u64,
}

impl Source {
    /// Opens `path` for reading only.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Self {
            len: meta.len(),
            file,
            buf: Vec::new(),
            start: 0,
        })
    }

    /// The file's length when it was opened (or last refreshed).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Re-reads the file's length (a writer may have appended).
    pub(crate) fn refresh(&mut self) -> io::Result<u64> {
        self.len = self.file.metadata()?.len();
        self.buf.clear();
        Ok(self.len)
    }

    /// Up to `want` bytes at `at` (fewer only at the end of the file).
    pub(crate) fn get(&mut self, at: u64, want: usize) -> io::Result<&[u8]> {
        let avail = usize::try_from(self.len.saturating_sub(at)).unwrap_or(usize::MAX);
        let want = want.min(avail);
        let end = at + want as u64;
        if at < self.start || end > self.start + self.buf.len() as u64 {
            let n = want.max(CHUNK).min(avail);
            self.buf.resize(n, 0);
            let mut done = 0;
            while done < n {
                match self.file.read_at(&mut self.buf[done..], at + done as u64) {
                    Ok(0) => break,
                    Ok(k) => done += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.buf.truncate(done);
            self.start = at;
        }
        let from = usize::try_from(at - self.start).unwrap_or(usize::MAX);
        let to = (from + want).min(self.buf.len());
        Ok(&self.buf[from.min(to)..to])
    }
}

/// One valid frame.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Byte offset of its marker.
    pub offset: u64,
    /// Its (first record's) sequence number; in a file without a header,
    /// only its low 32 bits are known.
    pub seq: u64,
    /// Record, seal or batch.
    pub kind: FrameKind,
    /// Its synced watermark: records below it were durable when it was
    /// written.
    pub synced_upto: u64,
    /// Payload length in bytes.
    pub len: u32,
    /// Whole frame length.
    pub frame_len: u64,
    /// The stored checksum.
    pub crc: u32,
    /// The records' payloads (none for a seal).
    pub payloads: Vec<Vec<u8>>,
}

/// What the walk meets.
#[derive(Debug)]
pub(crate) enum Item {
    /// The file header.
    Header(FileHeader),
    /// The file has no log header: raw frames are looked for from byte 0.
    NoHeader {
        /// Why the header was not read.
        why: String,
    },
    /// A valid frame.
    Frame(Frame),
    /// Bytes that are no valid frame, skipped up to the next one.
    Damage {
        /// Where they start.
        offset: u64,
        /// How many were skipped.
        bytes: u64,
        /// What is wrong with the first of them.
        cause: String,
    },
    /// Zeros from here to the end of the file: space a preallocating
    /// writer reserved, or a tail a crash left unwritten. No frame.
    Zeros {
        /// Where they start.
        offset: u64,
        /// How many.
        bytes: u64,
    },
    /// The file ends inside a frame (a torn or still-being-written tail).
    Torn {
        /// Where the incomplete frame starts.
        offset: u64,
        /// Its bytes present.
        bytes: u64,
    },
}

/// Where a walk starts: the header is read from a fresh file, or a
/// follower resumes at a known frame boundary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resume {
    /// Offset of the next frame.
    pub offset: u64,
    /// Its expected sequence number (`None`: unknown, use the frame's own).
    pub seq: Option<u64>,
}

/// Reads the header at the start of `src`: the walk's start, after
/// emitting a header item (or none for a file that ends inside its header).
pub(crate) fn start(src: &mut Source, emit: &mut dyn FnMut(Item)) -> io::Result<Option<Resume>> {
    let head = src.get(0, HEADER_LEN)?;
    match FileHeader::decode(head) {
        Ok(Decoded::Complete(h)) => {
            let resume = Resume {
                offset: h.encoded_len() as u64,
                seq: Some(h.base_seq),
            };
            emit(Item::Header(h));
            Ok(Some(resume))
        }
        Ok(Decoded::Incomplete { .. }) if src.len() > 0 => {
            emit(Item::Torn {
                offset: 0,
                bytes: src.len(),
            });
            Ok(None)
        }
        Ok(Decoded::Incomplete { .. }) => Ok(None),
        Err(e) => {
            emit(Item::NoHeader { why: e.to_string() });
            Ok(Some(Resume {
                offset: 0,
                seq: None,
            }))
        }
    }
}

/// Walks the frames from `from` to the end of the file; returns where the
/// walk ended (the end of the last valid frame, or the start of a torn
/// one) and the sequence number expected there.
pub(crate) fn walk(
    src: &mut Source,
    from: Resume,
    emit: &mut dyn FnMut(Item),
) -> io::Result<Resume> {
    let mut at = from.offset;
    let mut seq = from.seq;
    while at < src.len() {
        if zeros_to_end(src, at)? {
            emit(Item::Zeros {
                offset: at,
                bytes: src.len() - at,
            });
            return Ok(Resume { offset: at, seq });
        }
        match frame_at(src, at, seq)? {
            Step::Frame(frame) => {
                at += frame.frame_len;
                seq = Some(frame.seq + (frame.payloads.len() as u64).max(1));
                emit(Item::Frame(frame));
            }
            Step::Torn => {
                emit(Item::Torn {
                    offset: at,
                    bytes: src.len() - at,
                });
                return Ok(Resume { offset: at, seq });
            }
            Step::Bad(cause) => {
                let next = resync(src, at + 1, seq)?;
                let to = next.map_or(src.len(), |(o, _)| o);
                emit(Item::Damage {
                    offset: at,
                    bytes: to - at,
                    cause: cause.to_string(),
                });
                at = to;
                seq = next.map(|(_, s)| s);
            }
        }
    }
    Ok(Resume { offset: at, seq })
}

/// Whether every byte from `at` to the end of the file is zero (read in
/// chunks; a frame's first byte is never zero, so this stops at once on a
/// frame).
fn zeros_to_end(src: &mut Source, mut at: u64) -> io::Result<bool> {
    if src.get(at, 1)?.first().is_some_and(|&b| b != 0) {
        return Ok(false);
    }
    while at < src.len() {
        let chunk = src.get(at, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += chunk.len() as u64;
    }
    Ok(true)
}

enum Step {
    Frame(Frame),
    Torn,
    Bad(FormatError),
}

/// The sequence number a frame with this header has: the expected one, or
/// where unknown its stored low bits.
fn seq_for(h: &FrameHeader, seq: Option<u64>) -> u64 {
    seq.unwrap_or(u64::from(h.seq_lo))
}

/// Decodes the frame at `at`.
fn frame_at(src: &mut Source, at: u64, seq: Option<u64>) -> io::Result<Step> {
    let head = src.get(at, FRAME_HEADER_LEN)?;
    let Some(h) = FrameHeader::peek(head) else {
        return Ok(
            if head.len() < FRAME_HEADER_LEN
                && head
                    .first()
                    .is_some_and(|&b| FrameKind::from_marker(b).is_some())
            {
                Step::Torn
            } else {
                match decode_record(head, seq.unwrap_or(0), DEFAULT_MAX_RECORD_LEN) {
                    Err(e) => Step::Bad(e),
                    Ok(_) => Step::Torn,
                }
            },
        );
    };
    let s = seq_for(&h, seq);
    let want = usize::try_from(h.frame_len()).unwrap_or(usize::MAX);
    let bytes = src.get(at, want)?;
    Ok(match decode_record(bytes, s, DEFAULT_MAX_RECORD_LEN) {
        Ok(Decoded::Complete(rec)) => Step::Frame(Frame {
            offset: at,
            seq: rec.seq,
            kind: rec.kind,
            synced_upto: rec.synced_upto,
            len: h.len,
            frame_len: rec.frame_len as u64,
            crc: h.checksums(bytes).map_or(0, |(stored, _)| stored),
            payloads: if rec.kind == FrameKind::Seal {
                Vec::new()
            } else {
                rec.payloads().map(<[u8]>::to_vec).collect()
            },
        }),
        Ok(Decoded::Incomplete { .. }) => Step::Torn,
        Err(e) => Step::Bad(e),
    })
}

/// The next offset from `from` on where a valid frame starts, and its
/// sequence number (at or after `seq` when that is known).
fn resync(src: &mut Source, from: u64, seq: Option<u64>) -> io::Result<Option<(u64, u64)>> {
    let mut at = from;
    while at + FRAME_HEADER_LEN as u64 <= src.len() {
        let window = src.get(at, CHUNK)?;
        let Some(pos) = window
            .iter()
            .position(|&b| FrameKind::from_marker(b).is_some())
        else {
            at += window.len().max(1) as u64;
            continue;
        };
        let cand = at + pos as u64;
        let head = src.get(cand, FRAME_HEADER_LEN)?;
        if let Some(h) = FrameHeader::peek(head) {
            let s = match seq {
                Some(s) if u64::from(h.seq_lo) == s & u64::from(u32::MAX) => s,
                Some(s) => h.seq_after(s).unwrap_or(s),
                None => u64::from(h.seq_lo),
            };
            if h.len <= DEFAULT_MAX_RECORD_LEN && cand + h.frame_len() <= src.len() {
                let want = usize::try_from(h.frame_len()).unwrap_or(usize::MAX);
                let bytes = src.get(cand, want)?;
                if let Ok(Decoded::Complete(_)) = decode_record(bytes, s, DEFAULT_MAX_RECORD_LEN) {
                    return Ok(Some((cand, s)));
                }
            }
        }
        at = cand + 1;
    }
    Ok(None)
}
