//! Whole frames: encoding a record or a seal, and decoding one frame after
//! checking every byte of it. The header's layout and the check of its
//! fields are in `frame_header.rs`; a batch's payload in `batch.rs`; packing
//! records into batch frames in `packer.rs`.

use crate::FormatError;
use crate::batch::{Payloads, batch_count, check_batch};
use crate::bytes::{Decoded, read_u32, usize_from, write_at};
use crate::checksum::{checksum, verify};
use crate::frame_header::{
    CRC_LEN, FRAME_HEADER_LEN, FRAME_OVERHEAD, FrameKind, check_len, header_bytes, read_header,
};

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
            FrameKind::Batch => u64::from(batch_count(self.payload)),
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
/// the checksum. Returns the frame's length.
///
/// # Errors
///
/// [`FormatError::TooLarge`] when the payload is over `max_len`: the frame
/// is removed from `out`. [`FormatError::BadBatch`], leaving `out` as it
/// is, when `start` is not an offset [`begin_record`] returned for `out`
/// (fewer than [`FRAME_HEADER_LEN`] bytes follow it): a caller's bug, never
/// reachable from input bytes.
pub fn finish_record(
    out: &mut Vec<u8>,
    start: usize,
    seq: u64,
    synced_upto: u64,
    max_len: u32,
) -> Result<usize, FormatError> {
    let Some(payload_len) = out
        .len()
        .checked_sub(start)
        .and_then(|len| len.checked_sub(FRAME_HEADER_LEN))
    else {
        return Err(FormatError::BadBatch {
            detail: "finish_record was given a start that begin_record did not return",
        });
    };
    let len = match check_len(payload_len, max_len) {
        Ok(len) => len,
        Err(e) => {
            out.truncate(start);
            return Err(e);
        }
    };
    // In bounds: `FRAME_HEADER_LEN` bytes follow `start`, checked above.
    let _ = write_at(
        out,
        start,
        &header_bytes(FrameKind::Record, seq, synced_upto, len),
    );
    Ok(append_checksum(out, start))
}

/// Appends the checksum of the frame that starts at `start` and runs to the
/// end of `out`; returns the whole frame's length.
fn append_checksum(out: &mut Vec<u8>, start: usize) -> usize {
    let crc = trailer(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc);
    out.len().saturating_sub(start)
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
    let (header, synced_upto) = match read_header(buf, expected_seq, max_len)? {
        Decoded::Complete(checked) => checked,
        // No frame is shorter than its framing.
        Decoded::Incomplete { .. } => {
            return Ok(Decoded::Incomplete {
                needed: FRAME_OVERHEAD.saturating_sub(buf.len()),
            });
        }
    };
    let crc_at = FRAME_HEADER_LEN.saturating_add(usize_from(header.len));
    let frame_len = crc_at.saturating_add(CRC_LEN);
    let Some(frame) = buf.get(..frame_len) else {
        return Ok(Decoded::Incomplete {
            needed: frame_len.saturating_sub(buf.len()),
        });
    };
    let (covered, stored) = frame.split_at_checked(crc_at).unwrap_or_default();
    if !verify(frame) {
        return Err(FormatError::ChecksumMismatch {
            stored: read_u32(stored, 0).unwrap_or_default(),
            computed: checksum(covered),
        });
    }
    let payload = covered.get(FRAME_HEADER_LEN..).unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame_header::{DEFAULT_MAX_RECORD_LEN, FrameHeader, MAX_LAG};

    const MAX: u32 = DEFAULT_MAX_RECORD_LEN;

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
    fn finish_record_refuses_a_start_begin_record_did_not_return() {
        let mut out = vec![1, 2, 3];
        assert!(matches!(
            finish_record(&mut out, 1, 0, 0, MAX),
            Err(FormatError::BadBatch { .. })
        ));
        assert!(matches!(
            finish_record(&mut out, 9, 0, 0, MAX),
            Err(FormatError::BadBatch { .. })
        ));
        assert_eq!(out, [1, 2, 3], "nothing is changed");
    }
}
