//! Decoding many consecutive frames with one checksum pass.
//!
//! The checksum's seed is its residue (see [`crate::checksum`]), so the
//! checksum of valid frames placed back to back is the residue again. A
//! reader that has a buffer of frames can check every frame's fields, then
//! verify all of them at once: one call that `crc32fast` runs with its
//! widest instructions, instead of one short call per frame. Replaying a log
//! of small records is dominated by that difference.
//!
//! The result is exactly what [`decode_record`] gives frame by frame:
//! [`decode_run`] never accepts a frame that `decode_record` would reject.
//! When the run's check fails, it falls back to checking each frame on its
//! own and returns the valid ones before the first damaged frame.

use crate::FormatError;
use crate::batch::{batch_count, check_batch};
use crate::bytes::{Decoded, usize_from};
use crate::checksum::verify;
use crate::frame::{Record, decode_record};
use crate::frame_header::{CRC_LEN, FRAME_HEADER_LEN, FRAME_OVERHEAD, FrameHeader, FrameKind};

/// The most bytes [`decode_run`] verifies with one checksum pass (a single
/// larger frame is still decoded whole). It bounds the extra work of the
/// fallback when a run turns out to hold damage, and is far above the size
/// where the checksum reaches its full speed.
pub(crate) const MAX_RUN_BYTES: usize = 64 * 1024;

/// Consecutive valid frames decoded together, borrowing their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run<'a> {
    bytes: &'a [u8],
    first_seq: u64,
    /// Frames in the run.
    count: u64,
    /// Sequence numbers its frames take.
    seqs: u64,
}

impl<'a> Run<'a> {
    /// The number of frames in the run (at least one).
    #[must_use]
    #[inline]
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Always `false`: a run holds at least one frame.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes the run's frames occupy.
    #[must_use]
    #[inline]
    pub fn frame_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The sequence number of the frame after the run.
    #[must_use]
    #[inline]
    pub fn next_seq(&self) -> u64 {
        self.first_seq.wrapping_add(self.seqs)
    }

    /// The frames, in order.
    #[must_use]
    #[inline]
    pub fn iter(&self) -> RunIter<'a> {
        RunIter {
            rest: self.bytes,
            seq: self.first_seq,
            left: self.count,
        }
    }
}

impl<'a> IntoIterator for &Run<'a> {
    type Item = Record<'a>;
    type IntoIter = RunIter<'a>;

    fn into_iter(self) -> RunIter<'a> {
        self.iter()
    }
}

/// The frames of a [`Run`], in order.
#[derive(Debug, Clone)]
pub struct RunIter<'a> {
    rest: &'a [u8],
    seq: u64,
    left: u64,
}

impl<'a> Iterator for RunIter<'a> {
    type Item = Record<'a>;

    // Inlined into the caller's loop (across crates), so that a record is
    // handed over in registers: returned through memory, its payload slice
    // was stored in two halves and loaded in one, a store-forwarding stall
    // that cost replay a fifth of its speed.
    #[inline]
    fn next(&mut self) -> Option<Record<'a>> {
        if self.left == 0 {
            return None;
        }
        // Every frame was checked when the run was decoded: only the fields
        // the record needs are read again.
        let header = FrameHeader::peek(self.rest)?;
        let frame_len = FRAME_OVERHEAD.saturating_add(usize_from(header.len));
        let (frame, rest) = self.rest.split_at_checked(frame_len)?;
        let (covered, _) = frame.split_last_chunk::<CRC_LEN>()?;
        let record = Record {
            kind: header.kind,
            seq: self.seq,
            synced_upto: header.synced_upto(self.seq)?,
            payload: covered.get(FRAME_HEADER_LEN..)?,
            frame_len,
        };
        self.rest = rest;
        self.seq = self.seq.wrapping_add(record.seq_count());
        self.left -= 1;
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

/// The length of the frame at the start of `buf` as record `seq`, and the
/// sequence numbers it takes, if it is whole and its fields (everything but
/// the checksum, a batch's layout included) are valid.
#[inline]
fn whole_frame(buf: &[u8], seq: u64, max_len: u32) -> Option<(usize, u64)> {
    let header = FrameHeader::peek(buf)?;
    header.check(seq, max_len).ok()?;
    let frame_len = FRAME_OVERHEAD.saturating_add(usize_from(header.len));
    let frame = buf.get(..frame_len)?;
    if header.kind == FrameKind::Batch {
        let (covered, _) = frame.split_last_chunk::<CRC_LEN>()?;
        let payload = covered.get(FRAME_HEADER_LEN..)?;
        check_batch(payload, max_len).ok()?;
        return Some((frame_len, u64::from(batch_count(payload))));
    }
    Some((frame_len, 1))
}

/// Decodes the valid frames at the start of `buf`, the first of which must
/// be record `first_seq`, verifying them with as few checksum passes as
/// possible.
///
/// - `Ok(Decoded::Complete(run))`: one or more valid records, as many as
///   follow each other whole in `buf` (up to about 64 KiB). The
///   next frame, if any, starts at `run.frame_bytes()`: decode from there to
///   learn whether it is incomplete or damaged.
/// - Otherwise exactly what [`decode_record`]`(buf, first_seq, max_len)`
///   returns for the first frame: `Incomplete` or an error.
pub fn decode_run(
    buf: &[u8],
    first_seq: u64,
    max_len: u32,
) -> Result<Decoded<Run<'_>>, FormatError> {
    // The frames whose fields are valid, up to the first that is not (or is
    // cut short) and up to the size limit.
    let mut span = 0;
    let mut count = 0u64;
    let mut seqs = 0u64;
    while let Some((frame_len, n)) = whole_frame(
        buf.get(span..).unwrap_or_default(),
        first_seq.wrapping_add(seqs),
        max_len,
    ) {
        if count > 0 && span + frame_len > MAX_RUN_BYTES {
            break;
        }
        span += frame_len;
        count += 1;
        seqs += n;
    }
    let run = buf.get(..span).unwrap_or_default();
    if count > 1 && verify(run) {
        return Ok(Decoded::Complete(Run {
            bytes: run,
            first_seq,
            count,
            seqs,
        }));
    }
    // Damage somewhere in the run, or a single frame: check frame by frame.
    let mut valid_span = 0;
    let mut valid = 0u64;
    let mut valid_seqs = 0u64;
    while valid < count {
        let rest = buf.get(valid_span..).unwrap_or_default();
        let Some((frame_len, n)) = whole_frame(rest, first_seq.wrapping_add(valid_seqs), max_len)
        else {
            break;
        };
        if !rest.get(..frame_len).is_some_and(verify) {
            break;
        }
        valid_span += frame_len;
        valid += 1;
        valid_seqs += n;
    }
    if valid == 0 {
        return decode_record(buf, first_seq, max_len).map(|decoded| match decoded {
            // Unreachable: a frame that is whole, valid and verified was
            // counted above. Kept total rather than panicking.
            Decoded::Complete(record) => Decoded::Complete(Run {
                bytes: buf.get(..record.frame_len).unwrap_or_default(),
                first_seq,
                count: 1,
                seqs: record.seq_count(),
            }),
            Decoded::Incomplete { needed } => Decoded::Incomplete { needed },
        });
    }
    Ok(Decoded::Complete(Run {
        bytes: buf.get(..valid_span).unwrap_or_default(),
        first_seq,
        count: valid,
        seqs: valid_seqs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{encode_frame, encode_record};
    use crate::frame_header::DEFAULT_MAX_RECORD_LEN;
    use crate::packer::Packer;

    const MAX: u32 = DEFAULT_MAX_RECORD_LEN;

    fn frames(first_seq: u64, payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            encode_record(&mut out, first_seq + i as u64, first_seq, p, MAX).unwrap();
        }
        out
    }

    fn run_of(buf: &[u8], seq: u64) -> Run<'_> {
        match decode_run(buf, seq, MAX) {
            Ok(Decoded::Complete(run)) => run,
            other => panic!("expected a run: {other:?}"),
        }
    }

    #[test]
    fn a_run_yields_what_decode_record_yields() {
        let bytes = frames(40, &[b"a", b"", b"ccc", &[7; 300]]);
        let run = run_of(&bytes, 40);
        assert_eq!(
            (run.len(), run.frame_bytes(), run.next_seq()),
            (4, bytes.len(), 44)
        );
        let mut at = 0;
        for (i, record) in run.iter().enumerate() {
            let Ok(Decoded::Complete(one)) = decode_record(&bytes[at..], 40 + i as u64, MAX) else {
                panic!("frame {i} must decode");
            };
            assert_eq!(record, one);
            at += one.frame_len;
        }
        assert_eq!(at, bytes.len());
    }

    #[test]
    fn damage_ends_the_run_before_the_damaged_frame() {
        let mut bytes = frames(0, &[b"one", b"two", b"three", b"four"]);
        let third = 2 * FRAME_OVERHEAD + 6;
        bytes[third + FRAME_HEADER_LEN] ^= 0x01;
        let run = run_of(&bytes, 0);
        assert_eq!((run.len(), run.frame_bytes()), (2, third));
        assert!(matches!(
            decode_run(&bytes[third..], 2, MAX),
            Err(FormatError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn a_cut_frame_ends_the_run_and_is_incomplete_alone() {
        let bytes = frames(0, &[b"one", b"two"]);
        let cut = &bytes[..bytes.len() - 1];
        let run = run_of(cut, 0);
        assert_eq!(run.len(), 1);
        assert_eq!(
            decode_run(&cut[run.frame_bytes()..], 1, MAX),
            Ok(Decoded::Incomplete { needed: 1 })
        );
        assert_eq!(
            decode_run(&[], 0, MAX),
            Ok(Decoded::Incomplete {
                needed: FRAME_OVERHEAD
            })
        );
    }

    #[test]
    fn runs_stop_near_the_size_limit() {
        let payload = [9; 1000];
        let payloads: Vec<&[u8]> = (0..200).map(|_| &payload[..]).collect();
        let bytes = frames(0, &payloads);
        let run = run_of(&bytes, 0);
        assert!(run.frame_bytes() <= MAX_RUN_BYTES);
        assert_eq!(run.len(), (MAX_RUN_BYTES / (FRAME_OVERHEAD + 1000)) as u64);
        // A single frame above the limit is still decoded whole.
        let big = frames(0, &[&[1; MAX_RUN_BYTES + 10]]);
        assert_eq!(run_of(&big, 0).len(), 1);
    }

    #[test]
    fn a_malformed_batch_with_a_valid_checksum_is_refused() {
        let mut out = Vec::new();
        // A count of 3 over two records, checksummed as a writer would.
        let payload = [3, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0];
        encode_frame(&mut out, FrameKind::Batch, 0, 0, &payload, MAX).unwrap();
        assert_eq!(
            decode_record(&out, 0, MAX),
            Err(FormatError::BadBatch {
                detail: "a record length runs past the payload"
            })
        );
        assert_eq!(
            decode_run(&out, 0, MAX),
            Err(FormatError::BadBatch {
                detail: "a record length runs past the payload"
            })
        );
    }

    #[test]
    fn runs_count_sequence_numbers_not_frames() {
        let mut bytes = Vec::new();
        for (first_seq, payloads) in [
            (10, &[b"a", b"b", b"c"][..]),
            (13, &[b"d"]),
            (14, &[b"e", b"f"]),
        ] {
            let mut packer = Packer::new(first_seq, first_seq, MAX);
            for p in payloads {
                packer.push(&mut bytes, *p).unwrap();
            }
            packer.finish(&mut bytes);
        }
        let Ok(Decoded::Complete(run)) = decode_run(&bytes, 10, MAX) else {
            panic!("a run must decode");
        };
        assert_eq!((run.len(), run.next_seq()), (3, 16));
        let seqs: Vec<_> = run.iter().map(|f| (f.seq, f.seq_count())).collect();
        assert_eq!(seqs, [(10, 3), (13, 1), (14, 2)]);
        let payloads: Vec<_> = run
            .iter()
            .flat_map(|f| f.payloads().collect::<Vec<_>>())
            .collect();
        assert_eq!(payloads, [b"a", b"b", b"c", b"d", b"e", b"f"]);
    }
}
