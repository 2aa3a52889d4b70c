//! Seals with a note: a closing seal may carry a few bytes of application
//! data (its *note*), which the next reader can find from the end of the
//! file before it reads anything else.
//!
//! A seal's payload was always "empty as written, ignored if present" (see
//! FORMAT.md, *Seals*), so a note changes nothing for a reader that does
//! not look for it. A seal with a note is an ordinary seal frame:
//!
//! ```text
//! offset  0        1               4               8               12            12+n       16+n
//!         +--------+---------------+---------------+---------------+-------------+----------+
//!         | 0x5A   | lag = 0       | len = n       | seq_lo        | note        | crc      |
//!         +--------+---------------+---------------+---------------+-------------+----------+
//! ```
//!
//! with `n` at most [`MAX_SEAL_NOTE`]. [`trailing_seal_note`] looks at the
//! last `FRAME_OVERHEAD + MAX_SEAL_NOTE` bytes of a file for a seal frame
//! that ends exactly at the end: a seal marker, a length that puts the
//! frame's start there, a zero lag and a checksum that verifies. It is a
//! hint for sizing, read before the frames are: the frames are still read
//! and judged in order as always, and nothing is decided from the note.

use crate::checksum::verify;
use crate::frame::encode_frame;
use crate::frame_header::{CRC_LEN, FRAME_HEADER_LEN, FRAME_OVERHEAD, FrameHeader, FrameKind};

/// The longest note a seal carries, in bytes.
pub const MAX_SEAL_NOTE: usize = 64;

/// Appends a [seal](FrameKind::Seal) with sequence number `seq` carrying
/// `note` to `out`, declaring every earlier record durable (lag 0): call it
/// only once they are. Returns the bytes appended (`FRAME_OVERHEAD` plus
/// the note's length), or `None`, appending nothing, when the note is
/// longer than [`MAX_SEAL_NOTE`].
pub fn encode_seal_with_note(out: &mut Vec<u8>, seq: u64, note: &[u8]) -> Option<usize> {
    // A seal is a frame like any other; only its marker and lag 0 differ.
    encode_frame(out, FrameKind::Seal, seq, seq, note, MAX_NOTE_LEN).ok()
}

/// [`MAX_SEAL_NOTE`] as a frame's payload bound.
const MAX_NOTE_LEN: u32 = MAX_SEAL_NOTE as u32;

/// The note of the seal that ends exactly at the end of `tail` (the last
/// bytes of a log file; `FRAME_OVERHEAD + MAX_SEAL_NOTE` of them are
/// enough), if there is one with a non-empty note. `None` for anything
/// else: a record, a torn or damaged frame, zeros, a seal without a note.
#[must_use]
pub fn trailing_seal_note(tail: &[u8]) -> Option<&[u8]> {
    (1..=MAX_SEAL_NOTE).find_map(|n| {
        let start = tail.len().checked_sub(FRAME_OVERHEAD + n)?;
        let frame = tail.get(start..)?;
        let header = FrameHeader::peek(frame)?;
        let is_seal = header.kind == FrameKind::Seal && header.lag == 0;
        if !is_seal || usize::try_from(header.len).ok()? != n || !verify(frame) {
            return None;
        }
        frame.get(FRAME_HEADER_LEN..frame.len().checked_sub(CRC_LEN)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_MAX_RECORD_LEN, decode_record, encode_record};

    #[test]
    fn a_note_round_trips_and_decodes_as_an_ordinary_seal() {
        let mut out = Vec::new();
        encode_record(&mut out, 6, 6, b"record", DEFAULT_MAX_RECORD_LEN).unwrap();
        let at = out.len();
        let n = encode_seal_with_note(&mut out, 7, &42u64.to_le_bytes()).unwrap();
        assert_eq!(n, FRAME_OVERHEAD + 8);
        assert_eq!(trailing_seal_note(&out), Some(&42u64.to_le_bytes()[..]));
        let crate::Decoded::Complete(seal) =
            decode_record(&out[at..], 7, DEFAULT_MAX_RECORD_LEN).unwrap()
        else {
            panic!("the seal decodes whole");
        };
        assert_eq!(seal.kind, FrameKind::Seal);
        assert_eq!(seal.synced_upto, 7);
        assert_eq!(seal.payload, 42u64.to_le_bytes());
        assert_eq!(seal.payloads().count(), 0, "a seal holds no records");
    }

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        encode_seal_with_note(&mut out, 0x0102_0304_0506, &[0xAB, 0xCD]).unwrap();
        assert_eq!(
            out[..FRAME_HEADER_LEN + 2],
            [
                0x5A, 0, 0, 0, // marker, lag 0
                2, 0, 0, 0, // len 2
                0x06, 0x05, 0x04, 0x03, // seq_lo
                0xAB, 0xCD, // the note
            ]
        );
        assert_eq!(out.len(), FRAME_OVERHEAD + 2);
    }

    #[test]
    fn only_a_valid_noted_seal_at_the_very_end_is_found() {
        let mut out = Vec::new();
        encode_seal_with_note(&mut out, 3, b"note").unwrap();
        // Not at the very end.
        let mut longer = out.clone();
        longer.push(0);
        assert_eq!(trailing_seal_note(&longer), None);
        // Cut short, damaged, or a seal with no note.
        assert_eq!(trailing_seal_note(&out[..out.len() - 1]), None);
        let mut flipped = out.clone();
        flipped[FRAME_HEADER_LEN] ^= 1;
        assert_eq!(trailing_seal_note(&flipped), None);
        let mut plain = Vec::new();
        crate::encode_seal(&mut plain, 3);
        assert_eq!(trailing_seal_note(&plain), None);
        // A record is not a seal.
        let mut record = Vec::new();
        encode_record(&mut record, 3, 3, b"note", DEFAULT_MAX_RECORD_LEN).unwrap();
        assert_eq!(trailing_seal_note(&record), None);
        // Too long a note is refused, and nothing is appended.
        let mut refused = Vec::new();
        assert_eq!(
            encode_seal_with_note(&mut refused, 3, &[0; MAX_SEAL_NOTE + 1]),
            None
        );
        assert!(refused.is_empty());
        // Zeros and short input.
        assert_eq!(trailing_seal_note(&[0; 200]), None);
        assert_eq!(trailing_seal_note(&[]), None);
    }
}
