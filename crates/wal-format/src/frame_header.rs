//! The fixed-size header at the start of every frame: its layout, reading
//! it, and the one check of its fields that every reader uses.
//!
//! ```text
//! offset  0        1               4               8               12            12+len       16+len
//!         +--------+---------------+---------------+---------------+-------------+------------+
//!         | marker | lag           | len           | seq_lo        | payload ... | crc        |
//!         | 0xA5   | u24 LE        | u32 LE        | u32 LE        | len bytes   | u32 LE     |
//!         +--------+---------------+---------------+---------------+-------------+------------+
//!         |<------------------- FRAME_HEADER_LEN ----------------->|             |<- CRC_LEN ->|
//! ```
//!
//! - `marker`: [`RECORD_MARKER`] for a record, [`SEAL_MARKER`] for a seal,
//!   [`BATCH_MARKER`] for a batch (see [`FrameKind`]). A frame can never
//!   start with a zero or `0xFF` byte, so no run of zeros (a file system's
//!   hole after a crash) is ever a frame, nor the beginning of one.
//! - `lag`: how many records before this one had *not* been made durable when
//!   this one was written: the record's *synced watermark* is `seq - lag`.
//!   Saturates at [`MAX_LAG`], which is read as "unknown" and declares no
//!   record synced (watermark 0): a saturated value only ever understates
//!   the watermark, never overstates it.
//! - `len`: payload length in bytes.
//! - `seq_lo`: the low 32 bits of the record's sequence number. The full
//!   number is implied by the record's position (the header's `base_seq`
//!   plus the records before it); storing the low bits lets a reader check
//!   the position and lets recovery recognise records beyond damaged bytes.
//! - `crc`, a trailer: the [checksum](crate::checksum) of every byte before
//!   it, `0..FRAME_HEADER_LEN + len`: every frame field and every payload
//!   byte. Placing it last makes the frame one contiguous run that a reader
//!   verifies with a single checksum pass (the CRC's residue property), the
//!   same work as checksumming the frame's bytes and nothing more.
//!
//! The offsets below are derived from the field sizes, never typed in, and
//! are private: readers outside this crate go through [`FrameHeader`].

use crate::FormatError;
use crate::bytes::{Decoded, read_u24, read_u32, usize_from, write_at};
use crate::checksum::checksum;

/// The first byte of a record's frame.
const RECORD_MARKER: u8 = 0xA5;
/// The first byte of a seal's frame: every bit the opposite of
/// [`RECORD_MARKER`]'s, so no damage short of all eight bits turns one kind
/// into the other without the checksum noticing.
const SEAL_MARKER: u8 = 0x5A;
/// The first byte of a batch frame. It differs from both [`RECORD_MARKER`]
/// and [`SEAL_MARKER`] in four bits, so no single-bit flip turns one kind
/// into another.
const BATCH_MARKER: u8 = 0xC3;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An application record: its payload is the application's.
    Record,
    /// A seal: no application data, only its synced watermark. A writer
    /// appends one (with lag 0) after making every earlier record durable,
    /// typically when it closes the log, so that the last records are
    /// vouched for: without a later frame, damage to them could not be told
    /// from a torn tail. Seals take a sequence number like records. Their
    /// payload is empty as written by this version, and ignored by readers.
    Seal,
    /// Several application records, each a length and its bytes, behind
    /// one header and one checksum (see [batch frames](crate#batch-frames)).
    /// The frame's sequence number is its first record's.
    Batch,
}

impl FrameKind {
    /// The marker byte of this kind of frame: `0xA5` for a record, `0x5A`
    /// for a seal, `0xC3` for a batch.
    #[must_use]
    pub const fn marker(self) -> u8 {
        match self {
            FrameKind::Record => RECORD_MARKER,
            FrameKind::Seal => SEAL_MARKER,
            FrameKind::Batch => BATCH_MARKER,
        }
    }

    /// The kind of frame `marker` starts, if it is a marker.
    #[must_use]
    #[inline]
    pub const fn from_marker(marker: u8) -> Option<Self> {
        match marker {
            RECORD_MARKER => Some(FrameKind::Record),
            SEAL_MARKER => Some(FrameKind::Seal),
            BATCH_MARKER => Some(FrameKind::Batch),
            _ => None,
        }
    }
}

/// Size of the lag field.
const LAG_LEN: usize = 3;
/// The largest storable lag. The field saturates here, and a stored
/// `MAX_LAG` means "at least `MAX_LAG`": such a frame declares no record
/// synced (see [`FrameHeader::synced_upto`]).
pub const MAX_LAG: u32 = (1 << (8 * LAG_LEN)) - 1;

/// Offset of the marker byte.
const MARKER_OFFSET: usize = 0;
/// Offset of the lag field.
const LAG_OFFSET: usize = MARKER_OFFSET + size_of::<u8>();
/// Offset of the payload length.
const LEN_OFFSET: usize = LAG_OFFSET + LAG_LEN;
/// Offset of the low 32 bits of the sequence number.
const SEQ_OFFSET: usize = LEN_OFFSET + size_of::<u32>();
/// Framing bytes before each payload (the payload's offset in its frame).
pub const FRAME_HEADER_LEN: usize = SEQ_OFFSET + size_of::<u32>();
/// Size of the checksum trailer after each payload.
pub const CRC_LEN: usize = size_of::<u32>();
/// Framing bytes per record: header and trailer. A frame is
/// `FRAME_OVERHEAD + len` bytes long.
pub const FRAME_OVERHEAD: usize = FRAME_HEADER_LEN + CRC_LEN;

/// The default bound on a payload's length: 1 GiB, inclusive.
pub const DEFAULT_MAX_RECORD_LEN: u32 = 1 << 30;

/// The fixed-size part of a frame before its payload, read without
/// checking the checksum.
///
/// Recovery uses it to look for valid records beyond damaged bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// A record or a seal.
    pub kind: FrameKind,
    /// Records before this one not yet durable when it was written.
    pub lag: u32,
    /// Payload length.
    pub len: u32,
    /// Low 32 bits of the sequence number.
    pub seq_lo: u32,
}

impl FrameHeader {
    /// Reads the framing at the start of `buf`: `None` when `buf` is shorter
    /// than [`FRAME_HEADER_LEN`] or does not start with a marker.
    #[must_use]
    #[inline]
    pub fn peek(buf: &[u8]) -> Option<Self> {
        let head: &[u8; FRAME_HEADER_LEN] = buf.first_chunk()?;
        let [marker, ..] = *head;
        Some(Self {
            kind: FrameKind::from_marker(marker)?,
            lag: read_u24(head, LAG_OFFSET)?,
            len: read_u32(head, LEN_OFFSET)?,
            seq_lo: read_u32(head, SEQ_OFFSET)?,
        })
    }

    /// The length of the whole frame, framing included:
    /// [`FRAME_OVERHEAD`] plus the payload length. A `u64`, so that no
    /// stored length can overflow it.
    #[must_use]
    #[inline]
    pub fn frame_len(&self) -> u64 {
        FRAME_OVERHEAD as u64 + u64::from(self.len)
    }

    /// The smallest sequence number above `after` whose low 32 bits are
    /// `seq_lo`, or `None` on overflow.
    #[must_use]
    pub fn seq_after(&self, after: u64) -> Option<u64> {
        let candidate = (after & !u64::from(u32::MAX)) | u64::from(self.seq_lo);
        if candidate > after {
            Some(candidate)
        } else {
            candidate.checked_add(1 << 32)
        }
    }

    /// The synced watermark this frame declares if it is record `seq`:
    /// `seq - lag`, or 0 when the lag is saturated at [`MAX_LAG`] (the true
    /// lag may be larger, so the frame vouches for nothing). `None` when the
    /// lag exceeds `seq`, which no writer produces.
    #[must_use]
    #[inline]
    pub fn synced_upto(&self, seq: u64) -> Option<u64> {
        let synced_upto = seq.checked_sub(u64::from(self.lag))?;
        Some(if self.lag == MAX_LAG { 0 } else { synced_upto })
    }

    /// Checks every field that can be checked without the payload, for a
    /// frame that must be record `seq` with a payload of at most `max_len`
    /// bytes; returns the synced watermark it declares.
    ///
    /// The checks run in this order, and the first that fails is the error:
    /// the length bound ([`FormatError::TooLarge`]), the sequence number
    /// ([`FormatError::SeqMismatch`]), the watermark
    /// ([`FormatError::BadWatermark`]). Every reader of frames uses this one
    /// check, so they all agree on which headers are wrong.
    #[inline]
    pub fn check(&self, seq: u64, max_len: u32) -> Result<u64, FormatError> {
        if self.len > max_len {
            return Err(FormatError::TooLarge {
                len: u64::from(self.len),
                max: max_len,
            });
        }
        let expected = seq_lo(seq);
        if self.seq_lo != expected {
            return Err(FormatError::SeqMismatch {
                expected,
                found: self.seq_lo,
            });
        }
        self.synced_upto(seq)
            .ok_or(FormatError::BadWatermark { lag: self.lag })
    }

    /// The checksum stored in this frame's trailer and the one computed over
    /// its bytes, as `(stored, computed)`. `frame` starts at the marker;
    /// `None` when it is shorter than the whole frame.
    #[must_use]
    pub fn checksums(&self, frame: &[u8]) -> Option<(u32, u32)> {
        let crc_at = FRAME_HEADER_LEN.checked_add(usize::try_from(self.len).ok()?)?;
        let stored = read_u32(frame, crc_at)?;
        Some((stored, checksum(frame.get(..crc_at)?)))
    }
}

/// Reads the header at the start of `buf` and [checks](FrameHeader::check)
/// it as record `seq`: the header and the watermark it declares, or
/// `Incomplete` when `buf` is a strict prefix of a header (`needed` counts
/// up to [`FRAME_HEADER_LEN`]), or the error that makes it wrong.
#[inline]
pub(crate) fn read_header(
    buf: &[u8],
    seq: u64,
    max_len: u32,
) -> Result<Decoded<(FrameHeader, u64)>, FormatError> {
    if let Some(&marker) = buf.first()
        && FrameKind::from_marker(marker).is_none()
    {
        return Err(FormatError::BadMarker { found: marker });
    }
    let Some(header) = FrameHeader::peek(buf) else {
        return Ok(Decoded::Incomplete {
            needed: FRAME_HEADER_LEN.saturating_sub(buf.len()),
        });
    };
    let synced_upto = header.check(seq, max_len)?;
    Ok(Decoded::Complete((header, synced_upto)))
}

/// The total length of the frame at the start of `buf`, framing included,
/// learned from its header alone, if it is to be record `seq` with a
/// payload of at most `max_len` bytes: how many bytes a reader must have to
/// decode it, known before any of them is allocated.
///
/// - `Ok(Decoded::Complete(len))`: the header is whole and its fields are
///   valid; the frame is `len` bytes long (more than `buf` may hold). Its
///   checksum is not verified: [`decode_record`](crate::decode_record) on
///   `len` bytes does that.
/// - `Ok(Decoded::Incomplete { needed })`: `buf` is a strict prefix of a
///   header that could be valid (missing bytes); `needed` more bytes
///   complete the header.
/// - `Err(..)`: the header is wrong, exactly as `decode_record` would say:
///   not a marker, or a field that fails [`FrameHeader::check`].
pub fn peek_len(buf: &[u8], seq: u64, max_len: u32) -> Result<Decoded<usize>, FormatError> {
    Ok(match read_header(buf, seq, max_len)? {
        Decoded::Complete((header, _)) => {
            Decoded::Complete(FRAME_OVERHEAD.saturating_add(usize_from(header.len)))
        }
        Decoded::Incomplete { needed } => Decoded::Incomplete { needed },
    })
}

/// The framing bytes before a payload of `len` bytes.
pub(crate) fn header_bytes(
    kind: FrameKind,
    seq: u64,
    synced_upto: u64,
    len: u32,
) -> [u8; FRAME_HEADER_LEN] {
    let lag = seq.saturating_sub(synced_upto).min(u64::from(MAX_LAG));
    let [lag0, lag1, lag2, _] = u32::try_from(lag).unwrap_or(MAX_LAG).to_le_bytes();
    let mut header = [0; FRAME_HEADER_LEN];
    header[MARKER_OFFSET] = kind.marker();
    // The offsets are constants within the array: these writes cannot miss.
    let _ = write_at(&mut header, LAG_OFFSET, &[lag0, lag1, lag2]);
    let _ = write_at(&mut header, LEN_OFFSET, &len.to_le_bytes());
    let _ = write_at(&mut header, SEQ_OFFSET, &seq_lo(seq).to_le_bytes());
    header
}

/// The low 32 bits of a sequence number, as stored.
#[must_use]
pub(crate) const fn seq_lo(seq: u64) -> u32 {
    (seq & 0xFFFF_FFFF) as u32
}

/// A payload length of `len` bytes as stored, if it is within `max_len`.
pub(crate) fn check_len(len: usize, max_len: u32) -> Result<u32, FormatError> {
    match u32::try_from(len) {
        Ok(len) if len <= max_len => Ok(len),
        _ => Err(FormatError::TooLarge {
            len: len as u64,
            max: max_len,
        }),
    }
}

#[cfg(test)]
mod tests;
