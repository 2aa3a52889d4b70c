//! Record frames: the framing around each payload.
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
//! - `marker`: [`RECORD_MARKER`] for a record, [`SEAL_MARKER`] for a seal
//!   (see [`FrameKind`]). A frame can never start with a zero or `0xFF`
//!   byte, so no run of zeros (a file system's hole after a crash) is ever a
//!   frame, nor the beginning of one.
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

use crate::batch::{Payloads, check_batch};
use crate::checksum::{checksum, verify};
use crate::header::read_u32;
use crate::{Decoded, FormatError};

/// The first byte of a record's frame.
pub const RECORD_MARKER: u8 = 0xA5;
/// The first byte of a seal's frame: every bit the opposite of
/// [`RECORD_MARKER`]'s, so no damage short of all eight bits turns one kind
/// into the other without the checksum noticing.
pub const SEAL_MARKER: u8 = 0x5A;
pub use crate::batch::BATCH_MARKER;

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
    /// one header and one checksum (see [`crate::batch`]). The frame's
    /// sequence number is its first record's.
    Batch,
}

impl FrameKind {
    /// The marker byte of this kind of frame.
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
pub const LAG_LEN: usize = 3;
/// The largest storable lag. The field saturates here, and a stored
/// `MAX_LAG` means "at least `MAX_LAG`": such a frame declares no record
/// synced (see [`FrameHeader::synced_upto`]).
pub const MAX_LAG: u32 = (1 << (8 * LAG_LEN)) - 1;

/// Offset of the marker byte.
pub const MARKER_OFFSET: usize = 0;
/// Offset of the lag field.
pub const LAG_OFFSET: usize = MARKER_OFFSET + size_of::<u8>();
/// Offset of the payload length.
pub const LEN_OFFSET: usize = LAG_OFFSET + LAG_LEN;
/// Offset of the low 32 bits of the sequence number.
pub const SEQ_OFFSET: usize = LEN_OFFSET + size_of::<u32>();
/// Framing bytes before each payload (the payload's offset in its frame).
pub const FRAME_HEADER_LEN: usize = SEQ_OFFSET + size_of::<u32>();
/// Size of the checksum trailer after each payload.
pub const CRC_LEN: usize = size_of::<u32>();
/// Framing bytes per record: header and trailer. A frame is
/// `FRAME_OVERHEAD + len` bytes long.
pub const FRAME_OVERHEAD: usize = FRAME_HEADER_LEN + CRC_LEN;

/// The default bound on a payload's length: 1 GiB, inclusive.
pub const DEFAULT_MAX_RECORD_LEN: u32 = 1 << 30;

/// A decoded frame (a record, a seal or a batch of records), borrowing its
/// payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// A record or a seal.
    pub kind: FrameKind,
    /// The record's sequence number (a batch's first record's).
    pub seq: u64,
    /// Records with a sequence number below this one were durable when this
    /// record was written. Never more than the writer knew; 0 when the lag
    /// saturated.
    pub synced_upto: u64,
    /// The payload bytes (a batch's records, with their count and
    /// lengths: see [`payloads`](Record::payloads)).
    pub payload: &'a [u8],
    /// Bytes the frame occupies, framing included.
    pub frame_len: usize,
}

impl<'a> Record<'a> {
    /// How many sequence numbers the frame takes: a batch's record count,
    /// else 1 (a seal takes one too). The next frame's is `seq` plus this.
    #[must_use]
    #[inline]
    pub fn seq_count(&self) -> u64 {
        match self.kind {
            FrameKind::Batch => u64::from(crate::batch::batch_count(self.payload)),
            FrameKind::Record | FrameKind::Seal => 1,
        }
    }

    /// The application payloads the frame holds, in sequence order: a
    /// record's payload, every record of a batch, nothing for a seal.
    #[must_use]
    #[inline]
    pub fn payloads(&self) -> Payloads<'a> {
        Payloads::new(self.kind, self.payload)
    }
}

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
        let kind = FrameKind::from_marker(head[MARKER_OFFSET])?;
        let u32_at =
            |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        Some(Self {
            kind,
            lag: u32::from_le_bytes([
                head[LAG_OFFSET],
                head[LAG_OFFSET + 1],
                head[LAG_OFFSET + 2],
                0,
            ]),
            len: u32_at(LEN_OFFSET),
            seq_lo: u32_at(SEQ_OFFSET),
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

    /// The checksum stored in this frame's trailer and the one computed over
    /// its bytes, as `(stored, computed)`. `frame` starts at the marker;
    /// `None` when it is shorter than the whole frame.
    #[must_use]
    pub fn checksums(&self, frame: &[u8]) -> Option<(u32, u32)> {
        let crc_at = FRAME_HEADER_LEN.checked_add(usize::try_from(self.len).ok()?)?;
        let stored = read_u32(frame, crc_at)?;
        Some((stored, checksum(&frame[..crc_at])))
    }
}

/// Appends the frame of `payload`, sequence number `seq` and synced
/// watermark `synced_upto` to `out`. Returns the bytes appended.
///
/// `synced_upto` above `seq` is treated as `seq`. Fails, appending nothing,
/// when the payload is longer than `max_len`.
pub fn encode_record(
    out: &mut Vec<u8>,
    seq: u64,
    synced_upto: u64,
    payload: &[u8],
    max_len: u32,
) -> Result<usize, FormatError> {
    encode_frame(out, FrameKind::Record, seq, synced_upto, payload, max_len)
}

/// Appends a [seal](FrameKind::Seal) with sequence number `seq` to `out`,
/// declaring every earlier record durable (lag 0): call it only once they
/// are. Returns the bytes appended ([`FRAME_OVERHEAD`]).
pub fn encode_seal(out: &mut Vec<u8>, seq: u64) -> usize {
    let start = out.len();
    out.extend_from_slice(&header_bytes(FrameKind::Seal, seq, seq, 0));
    append_checksum(out, start)
}

/// Appends a frame of any kind; see [`encode_record`].
pub fn encode_frame(
    out: &mut Vec<u8>,
    kind: FrameKind,
    seq: u64,
    synced_upto: u64,
    payload: &[u8],
    max_len: u32,
) -> Result<usize, FormatError> {
    let len = check_len(payload.len(), max_len)?;
    out.reserve(FRAME_OVERHEAD + payload.len());
    let start = out.len();
    out.extend_from_slice(&header_bytes(kind, seq, synced_upto, len));
    out.extend_from_slice(payload);
    Ok(append_checksum(out, start))
}

/// Starts a frame at the end of `out` by reserving its framing bytes; the
/// caller then appends the payload directly to `out` and calls
/// [`finish_record`] with the returned start offset. This lets a codec
/// serialise straight into the output buffer.
pub fn begin_record(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    start
}

/// Completes the frame started at `start` by [`begin_record`]: everything
/// after its framing bytes is the payload. Fills the framing in and appends
/// the checksum. Returns the frame's length. On error (payload over
/// `max_len`) the frame is removed from `out`.
///
/// # Panics
///
/// When `start` is not an offset [`begin_record`] returned for `out` (fewer
/// than [`FRAME_HEADER_LEN`] bytes follow it): a caller's bug, never
/// reachable from input bytes.
pub fn finish_record(
    out: &mut Vec<u8>,
    start: usize,
    seq: u64,
    synced_upto: u64,
    max_len: u32,
) -> Result<usize, FormatError> {
    let payload_len = (out.len() - start)
        .checked_sub(FRAME_HEADER_LEN)
        .expect("finish_record: `start` must come from begin_record on this buffer");
    let len = match check_len(payload_len, max_len) {
        Ok(len) => len,
        Err(e) => {
            out.truncate(start);
            return Err(e);
        }
    };
    out[start..start + FRAME_HEADER_LEN].copy_from_slice(&header_bytes(
        FrameKind::Record,
        seq,
        synced_upto,
        len,
    ));
    Ok(append_checksum(out, start))
}

/// The framing bytes before a payload of `len` bytes.
pub(crate) fn header_bytes(
    kind: FrameKind,
    seq: u64,
    synced_upto: u64,
    len: u32,
) -> [u8; FRAME_HEADER_LEN] {
    let lag = seq.saturating_sub(synced_upto).min(u64::from(MAX_LAG));
    let lag_bytes = u32::try_from(lag).unwrap_or(MAX_LAG).to_le_bytes();
    let mut header = [0; FRAME_HEADER_LEN];
    header[MARKER_OFFSET] = kind.marker();
    header[LAG_OFFSET..LEN_OFFSET].copy_from_slice(&lag_bytes[..LAG_LEN]);
    header[LEN_OFFSET..SEQ_OFFSET].copy_from_slice(&len.to_le_bytes());
    header[SEQ_OFFSET..FRAME_HEADER_LEN].copy_from_slice(&seq_lo(seq).to_le_bytes());
    header
}

/// Appends the checksum of the frame that starts at `start` and runs to the
/// end of `out`; returns the whole frame's length.
fn append_checksum(out: &mut Vec<u8>, start: usize) -> usize {
    let crc = trailer(&out[start..]);
    out.extend_from_slice(&crc);
    out.len() - start
}

/// The checksum trailer of a frame whose bytes before the trailer are
/// `covered`.
pub(crate) fn trailer(covered: &[u8]) -> [u8; CRC_LEN] {
    checksum(covered).to_le_bytes()
}

/// Decodes the frame at the start of `buf`, which must hold record
/// `expected_seq`.
///
/// - `Ok(Decoded::Complete(record))`: a valid record.
/// - `Ok(Decoded::Incomplete { needed })`: `buf` is a strict prefix of a
///   frame that could still be valid: `needed` more bytes are required.
///   This is what a torn tail looks like. A length that runs past the end of
///   `buf` is reported here, before anything is allocated.
/// - `Err(..)`: the bytes are wrong: damaged, stale, or not a frame.
///
/// Checks run from the cheapest: the marker, the length bound, the sequence
/// number and the watermark, then the checksum (the trailer).
pub fn decode_record(
    buf: &[u8],
    expected_seq: u64,
    max_len: u32,
) -> Result<Decoded<Record<'_>>, FormatError> {
    let Some(&marker) = buf.first() else {
        return Ok(Decoded::Incomplete {
            needed: FRAME_OVERHEAD,
        });
    };
    if FrameKind::from_marker(marker).is_none() {
        return Err(FormatError::BadMarker { found: marker });
    }
    let Some(header) = FrameHeader::peek(buf) else {
        return Ok(Decoded::Incomplete {
            needed: FRAME_OVERHEAD - buf.len(),
        });
    };
    if header.len > max_len {
        return Err(FormatError::TooLarge {
            len: u64::from(header.len),
            max: max_len,
        });
    }
    let expected = seq_lo(expected_seq);
    if header.seq_lo != expected {
        return Err(FormatError::SeqMismatch {
            expected,
            found: header.seq_lo,
        });
    }
    let Some(synced_upto) = header.synced_upto(expected_seq) else {
        return Err(FormatError::BadWatermark { lag: header.lag });
    };
    // `len <= max_len <= u32::MAX`, which fits `usize` on every supported target.
    let crc_at = FRAME_HEADER_LEN.saturating_add(header.len as usize);
    let frame_len = crc_at.saturating_add(CRC_LEN);
    let Some(frame) = buf.get(..frame_len) else {
        return Ok(Decoded::Incomplete {
            needed: frame_len - buf.len(),
        });
    };
    if !verify(frame) {
        let (covered, trailer) = frame.split_at(crc_at);
        return Err(FormatError::ChecksumMismatch {
            stored: u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]),
            computed: checksum(covered),
        });
    }
    let payload = &frame[FRAME_HEADER_LEN..crc_at];
    if header.kind == FrameKind::Batch {
        check_batch(payload, max_len)?;
    }
    Ok(Decoded::Complete(Record {
        kind: header.kind,
        seq: expected_seq,
        synced_upto,
        payload,
        frame_len,
    }))
}

/// The low 32 bits of a sequence number, as stored.
#[must_use]
pub const fn seq_lo(seq: u64) -> u32 {
    (seq & 0xFFFF_FFFF) as u32
}

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
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut out = Vec::new();
        let n = encode_record(&mut out, 7, 5, b"hello", DEFAULT_MAX_RECORD_LEN).unwrap();
        assert_eq!(n, FRAME_OVERHEAD + 5);
        let decoded = decode_record(&out, 7, DEFAULT_MAX_RECORD_LEN).unwrap();
        assert_eq!(
            decoded,
            Decoded::Complete(Record {
                kind: FrameKind::Record,
                seq: 7,
                synced_upto: 5,
                payload: b"hello",
                frame_len: n
            })
        );
    }

    #[test]
    fn wrong_position_is_rejected() {
        let mut out = Vec::new();
        encode_record(&mut out, 7, 7, b"x", DEFAULT_MAX_RECORD_LEN).unwrap();
        let err = decode_record(&out, 8, DEFAULT_MAX_RECORD_LEN).unwrap_err();
        assert_eq!(
            err,
            FormatError::SeqMismatch {
                expected: 8,
                found: 7
            }
        );
    }

    #[test]
    fn oversized_payload_is_refused_before_reading_it() {
        let mut out = Vec::new();
        encode_record(&mut out, 0, 0, &[1; 100], DEFAULT_MAX_RECORD_LEN).unwrap();
        let err = decode_record(&out[..FRAME_HEADER_LEN], 0, 99).unwrap_err();
        assert_eq!(err, FormatError::TooLarge { len: 100, max: 99 });
        let err = encode_record(&mut out, 1, 0, &[1; 100], 99).unwrap_err();
        assert_eq!(err, FormatError::TooLarge { len: 100, max: 99 });
        assert_eq!(
            out.len(),
            FRAME_OVERHEAD + 100,
            "a refused frame leaves no bytes behind"
        );
    }

    #[test]
    fn lag_saturates_and_understates() {
        let mut out = Vec::new();
        let seq = u64::from(MAX_LAG) + 10;
        encode_record(&mut out, seq, 0, b"", DEFAULT_MAX_RECORD_LEN).unwrap();
        let Decoded::Complete(rec) = decode_record(&out, seq, DEFAULT_MAX_RECORD_LEN).unwrap()
        else {
            panic!("a whole frame must decode");
        };
        // The true watermark is 0; `seq - MAX_LAG` = 10 would overstate it.
        assert_eq!(rec.synced_upto, 0);
        let h = FrameHeader::peek(&out).unwrap();
        assert_eq!(h.lag, MAX_LAG);
        assert_eq!(h.synced_upto(seq), Some(0));
        // One below saturation is still exact.
        assert_eq!(
            FrameHeader {
                lag: MAX_LAG - 1,
                ..h
            }
            .synced_upto(seq),
            Some(11)
        );
        assert_eq!(FrameHeader { lag: 5, ..h }.synced_upto(4), None);
    }

    #[test]
    fn seq_after_finds_the_next_match() {
        let h = FrameHeader {
            kind: FrameKind::Record,
            lag: 0,
            len: 0,
            seq_lo: 5,
        };
        assert_eq!(h.seq_after(3), Some(5));
        assert_eq!(h.seq_after(5), Some(5 + (1 << 32)));
        assert_eq!(h.seq_after((1 << 32) + 2), Some((1 << 32) + 5));
    }
}
