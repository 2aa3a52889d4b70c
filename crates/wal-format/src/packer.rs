//! Writing frames: [`Packer`] packs consecutive records into frames at the
//! end of a buffer, a lone record as a plain record frame, several as batch
//! frames (laid out as `batch.rs` describes) of about [`BATCH_TARGET`]
//! bytes each.

use crate::FormatError;
use crate::batch::{COUNT_LEN, ENTRY_OVERHEAD};
use crate::bytes::{usize_from, write_at};
use crate::frame::trailer;
use crate::frame_header::{CRC_LEN, FRAME_HEADER_LEN, FrameKind, check_len, header_bytes};

/// [`Packer`] starts a new frame once the open one's payload reaches this
/// size: far above the size where the checksum reaches its full speed,
/// small enough that replaying a batch frame needs little memory and that a
/// torn write loses little.
pub const BATCH_TARGET: usize = 64 * 1024;

/// Where a record being packed begins; see [`Packer::begin`].
#[derive(Debug)]
#[must_use = "pass it to Packer::end or Packer::abandon"]
pub struct Entry {
    /// Offset of the record's length field (in a batch frame) or of its
    /// frame (alone).
    at: usize,
    /// Offset of its first payload byte.
    payload_at: usize,
}

/// The frame a [`Packer`] is filling.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: usize,
    first_seq: u64,
    count: u32,
    /// Laid out as a batch frame (count and lengths), else as a record
    /// frame.
    batch: bool,
}

/// Packs consecutive records into frames at the end of a buffer, encoding
/// each payload in place: a lone record becomes a record frame, several
/// become batch frames that close once their payload reaches
/// [`BATCH_TARGET`] bytes. Call [`finish`](Packer::finish) before using the
/// buffer's bytes: until then the last frame is open.
///
/// Every frame declares the same synced watermark, the one given to
/// [`new`](Packer::new).
#[derive(Debug)]
pub struct Packer {
    open: Option<Open>,
    next_seq: u64,
    synced_upto: u64,
    max_len: u32,
    batches: bool,
}

impl Packer {
    /// A packer whose first record gets sequence number `first_seq`, with
    /// payloads of at most `max_len` bytes.
    #[must_use]
    pub fn new(first_seq: u64, synced_upto: u64, max_len: u32) -> Self {
        Self {
            open: None,
            next_seq: first_seq,
            synced_upto,
            max_len,
            batches: true,
        }
    }

    /// Writes one record frame per record, never a batch frame: for a file
    /// of a format version that predates them (see
    /// [`FileHeader::allows_batches`](crate::FileHeader::allows_batches)).
    #[must_use]
    pub fn without_batches(mut self) -> Self {
        self.batches = false;
        self
    }

    /// The sequence number the next record will get.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Packs a record whose payload is `payload`; returns its sequence
    /// number. The same as [`begin`](Packer::begin), appending `payload`
    /// and [`end`](Packer::end), with a shortcut for the common case of a
    /// record joining an open batch frame.
    #[inline]
    pub fn push(&mut self, out: &mut Vec<u8>, payload: &[u8]) -> Result<u64, FormatError> {
        let len = check_len(payload.len(), self.max_len)?;
        if let Some(open) = &mut self.open
            && open.batch
        {
            let payload_len = payload_bytes(out, *open);
            let grown = payload_len + ENTRY_OVERHEAD + payload.len();
            if may_join(open, payload_len, grown, self.max_len) {
                out.reserve(ENTRY_OVERHEAD + payload.len());
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(payload);
                open.count += 1;
                let seq = self.next_seq;
                self.next_seq = seq.wrapping_add(1);
                return Ok(seq);
            }
        }
        let entry = self.begin(out);
        out.extend_from_slice(payload);
        self.end(out, entry)
    }

    /// Starts a record: the caller appends its payload to `out`, then calls
    /// [`end`](Packer::end) (or [`abandon`](Packer::abandon)) with the
    /// returned entry, before anything else touches `out`.
    pub fn begin(&mut self, out: &mut Vec<u8>) -> Entry {
        if let Some(open) = self.open {
            let payload_len = payload_bytes(out, open);
            // Joining must leave room, within the bound, for the layout and
            // at least an empty record.
            let grown = payload_len
                + ENTRY_OVERHEAD
                + if open.batch {
                    0
                } else {
                    COUNT_LEN + ENTRY_OVERHEAD
                };
            if self.batches && may_join(&open, payload_len, grown, self.max_len) {
                if !open.batch {
                    // The second record: lay the first out as a batch entry.
                    let mut prefix = [0; COUNT_LEN + ENTRY_OVERHEAD];
                    // Within the array: its length is the sum of the two.
                    let _ = write_at(&mut prefix, COUNT_LEN, &len_u32(payload_len).to_le_bytes());
                    let at = open.start + FRAME_HEADER_LEN;
                    out.splice(at..at, prefix);
                    self.open = Some(Open {
                        batch: true,
                        ..open
                    });
                }
                let at = out.len();
                out.extend_from_slice(&[0; ENTRY_OVERHEAD]);
                return Entry {
                    at,
                    payload_at: out.len(),
                };
            }
            self.finish(out);
        }
        let start = out.len();
        out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        self.open = Some(Open {
            start,
            first_seq: self.next_seq,
            count: 0,
            batch: false,
        });
        Entry {
            at: start,
            payload_at: out.len(),
        }
    }

    /// Ends the record `entry` began: everything appended since is its
    /// payload. Returns its sequence number. A payload over the bound is
    /// removed from `out` and refused with [`FormatError::TooLarge`].
    ///
    /// # Errors
    ///
    /// [`FormatError::TooLarge`] for a payload over the bound.
    /// [`FormatError::BadBatch`] when `out` lost bytes since
    /// [`begin`](Packer::begin) or no record was begun: a caller's bug.
    pub fn end(&mut self, out: &mut Vec<u8>, entry: Entry) -> Result<u64, FormatError> {
        let Some(payload_len) = out.len().checked_sub(entry.payload_at) else {
            return Err(MISUSED);
        };
        if let Err(e) = check_len(payload_len, self.max_len) {
            self.abandon(out, entry);
            return Err(e);
        }
        let Some(mut open) = self.open else {
            // Not reachable through `begin`, which always leaves a frame
            // open; kept total rather than panicking.
            return Err(FormatError::BadBatch {
                detail: "no record was begun",
            });
        };
        if entry.at != open.start {
            if write_at(out, entry.at, &len_u32(payload_len).to_le_bytes()).is_none() {
                return Err(MISUSED);
            }
            if check_len(payload_bytes(out, open), self.max_len).is_err() {
                // The batch would exceed the bound: close it before this
                // record, which becomes a frame of its own. Its length
                // field gives way to the batch's trailer and its own header.
                let Some(trailer) = close(out, open, entry.at, self.synced_upto) else {
                    return Err(MISUSED);
                };
                let header = header_bytes(
                    FrameKind::Record,
                    self.next_seq,
                    self.synced_upto,
                    len_u32(payload_len),
                );
                out.splice(
                    entry.at..entry.payload_at,
                    trailer.into_iter().chain(header),
                );
                open = Open {
                    start: entry.at + trailer.len(),
                    first_seq: self.next_seq,
                    count: 0,
                    batch: false,
                };
            }
        }
        open.count += 1;
        self.open = Some(open);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        Ok(seq)
    }

    /// Drops the record `entry` began (its encoding failed): `out` is as it
    /// was before [`begin`](Packer::begin), but for a batch's layout.
    pub fn abandon(&mut self, out: &mut Vec<u8>, entry: Entry) {
        out.truncate(entry.at);
        if let Some(open) = self.open
            && open.start == entry.at
        {
            self.open = None;
        }
    }

    /// Closes the open frame, if any: fills its header in and appends its
    /// checksum. Afterwards `out` holds only whole frames. (Should a caller
    /// have cut `out` short of the open frame's header, a bug, what is left
    /// of that frame is removed rather than left as a frame without a
    /// checksum.)
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let Some(open) = self.open.take() {
            let end = out.len();
            match close(out, open, end, self.synced_upto) {
                Some(trailer) => out.extend_from_slice(&trailer),
                None => out.truncate(open.start),
            }
        }
    }
}

/// Whether a record may join the open frame `open`, whose payload holds
/// `payload_len` bytes, growing it to `grown` bytes: the frame is below
/// [`BATCH_TARGET`], its count can grow, and it stays within `max_len`.
#[inline]
fn may_join(open: &Open, payload_len: usize, grown: usize, max_len: u32) -> bool {
    payload_len < BATCH_TARGET && open.count < u32::MAX && grown <= usize_from(max_len)
}

/// What [`Packer::end`] returns when the buffer lost bytes it had given
/// out: a caller's bug.
const MISUSED: FormatError = FormatError::BadBatch {
    detail: "the buffer lost bytes between Packer::begin and Packer::end",
};

/// The payload bytes the open frame `open` holds so far, at the end of
/// `out`.
#[inline]
fn payload_bytes(out: &[u8], open: Open) -> usize {
    out.len().saturating_sub(open.start + FRAME_HEADER_LEN)
}

/// Fills in the header of the frame `open` that ends at `end` and returns
/// its checksum trailer; `None`, a caller's bug, when `out` does not hold
/// the frame's framing.
fn close(out: &mut [u8], open: Open, end: usize, synced_upto: u64) -> Option<[u8; CRC_LEN]> {
    let payload_at = open.start.checked_add(FRAME_HEADER_LEN)?;
    let payload_len = end.checked_sub(payload_at)?;
    let kind = if open.batch {
        write_at(out, payload_at, &open.count.to_le_bytes())?;
        FrameKind::Batch
    } else {
        FrameKind::Record
    };
    let header = header_bytes(kind, open.first_seq, synced_upto, len_u32(payload_len));
    write_at(out, open.start, &header)?;
    Some(trailer(out.get(open.start..end)?))
}

/// A length already checked against a `u32` bound.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
