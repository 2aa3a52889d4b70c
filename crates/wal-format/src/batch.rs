//! A batch frame's payload: its layout, its check, and reading its records
//! back.
//!
//! ```text
//! offset  0               12              16              20             20+len0
//!         +---------------+---------------+---------------+--------------+---------------+-----+-----------+
//!         | frame header  | count         | len0          | payload 0    | len1          | ... | crc       |
//!         | marker 0xC3   | u32 LE        | u32 LE        | len0 bytes   | u32 LE        |     | u32 LE    |
//!         +---------------+---------------+---------------+--------------+---------------+-----+-----------+
//!         |<- FRAME_HEADER_LEN ->|<- COUNT_LEN ->|<- ENTRY_OVERHEAD ->|
//! ```
//!
//! A batch frame is an ordinary frame (see `frame_header.rs`) whose marker
//! is `BATCH_MARKER` and whose payload holds `count` records, each a `u32 LE`
//! length and that many bytes, filling the payload exactly. The frame's
//! `seq_lo` and `lag` are those of its first record; its records take
//! sequence numbers `seq .. seq + count`. One checksum covers them all, so a
//! writer checksums the whole batch in one pass at the checksum's full speed
//! instead of once per record, and four framing bytes per record remain
//! instead of sixteen. A batch frame is all or nothing: damage anywhere in
//! it discards every record it holds.
//!
//! This is the read side; `packer.rs` writes batch frames.

use crate::FormatError;
use crate::bytes::{read_u32, usize_from};
use crate::frame_header::FrameKind;

/// Size of the record count at the start of a batch frame's payload. A
/// batch frame of `n` records holding `p` payload bytes in all is
/// [`FRAME_OVERHEAD`](crate::FRAME_OVERHEAD) `+ COUNT_LEN + n *`
/// [`ENTRY_OVERHEAD`] `+ p` bytes long.
pub const COUNT_LEN: usize = size_of::<u32>();
/// Bytes before each record's payload inside a batch frame: its length.
/// Also the fewest bytes a record can take in a log, which a reader that
/// bounds how many records fit in a span of bytes needs (wal-io's search
/// past damage does).
pub const ENTRY_OVERHEAD: usize = size_of::<u32>();

/// Checks that `payload` (a batch frame's) is a count of at least one
/// followed by exactly that many length-prefixed records, each within
/// `max_len`; returns the count.
pub(crate) fn check_batch(payload: &[u8], max_len: u32) -> Result<u32, FormatError> {
    let bad = |detail| Err(FormatError::BadBatch { detail });
    let Some(count) = read_u32(payload, 0) else {
        return bad("the payload is too short for its record count");
    };
    if count == 0 {
        return bad("it claims to hold no record");
    }
    let mut at = COUNT_LEN;
    for _ in 0..count {
        let Some(len) = read_u32(payload, at) else {
            return bad("a record length runs past the payload");
        };
        if len > max_len {
            return Err(FormatError::TooLarge {
                len: u64::from(len),
                max: max_len,
            });
        }
        at = match (at + ENTRY_OVERHEAD).checked_add(usize_from(len)) {
            Some(end) if end <= payload.len() => end,
            _ => return bad("a record runs past the payload"),
        };
    }
    if at != payload.len() {
        return bad("bytes follow its last record");
    }
    Ok(count)
}

/// The record count of a batch frame's payload, unchecked (see
/// [`check_batch`]): at least 1.
#[inline]
pub(crate) fn batch_count(payload: &[u8]) -> u32 {
    read_u32(payload, 0).unwrap_or(1).max(1)
}

/// The application payloads of a decoded frame, in order; see
/// [`Record::payloads`](crate::Record::payloads).
#[derive(Debug, Clone)]
pub struct Payloads<'a> {
    /// A record frame's payload, not yet returned.
    single: Option<&'a [u8]>,
    /// A batch frame's records not yet returned.
    entries: &'a [u8],
    left: u32,
}

impl<'a> Payloads<'a> {
    pub(crate) fn new(kind: FrameKind, payload: &'a [u8]) -> Self {
        match kind {
            FrameKind::Record => Self {
                single: Some(payload),
                entries: &[],
                left: 1,
            },
            FrameKind::Seal => Self {
                single: None,
                entries: &[],
                left: 0,
            },
            FrameKind::Batch => Self {
                single: None,
                entries: payload.get(COUNT_LEN..).unwrap_or_default(),
                left: batch_count(payload),
            },
        }
    }
}

impl<'a> Iterator for Payloads<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(single) = self.single.take() {
            self.left = 0;
            return Some(single);
        }
        if self.left == 0 {
            return None;
        }
        let (len, rest) = self.entries.split_first_chunk::<ENTRY_OVERHEAD>()?;
        let (payload, rest) = rest.split_at_checked(usize_from(u32::from_le_bytes(*len)))?;
        self.entries = rest;
        self.left -= 1;
        Some(payload)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize_from(self.left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u32 = crate::frame_header::DEFAULT_MAX_RECORD_LEN;

    #[test]
    fn payloads_of_each_kind() {
        let batch = [2, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0];
        let all = |kind, payload| Payloads::new(kind, payload).collect::<Vec<_>>();
        assert_eq!(all(FrameKind::Batch, &batch), [&[9][..], &[]]);
        assert_eq!(all(FrameKind::Record, &batch), [&batch[..]]);
        assert!(all(FrameKind::Seal, &batch).is_empty());
        assert_eq!(batch_count(&batch), 2);
        assert_eq!(batch_count(&[]), 1, "unchecked, the count is at least 1");
    }

    #[test]
    fn malformed_batches_are_named() {
        let ok = |p: &[u8]| check_batch(p, MAX);
        let bad = |detail| Err(FormatError::BadBatch { detail });
        assert_eq!(ok(&[2, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0]), Ok(2));
        assert_eq!(
            ok(&[1, 0, 0]),
            bad("the payload is too short for its record count")
        );
        assert_eq!(ok(&[0, 0, 0, 0]), bad("it claims to hold no record"));
        assert_eq!(
            ok(&[2, 0, 0, 0, 0, 0, 0, 0]),
            bad("a record length runs past the payload")
        );
        assert_eq!(
            ok(&[1, 0, 0, 0, 5, 0, 0, 0, 1]),
            bad("a record runs past the payload")
        );
        assert_eq!(
            ok(&[1, 0, 0, 0, 0, 0, 0, 0, 1]),
            bad("bytes follow its last record")
        );
        assert_eq!(
            check_batch(&[1, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5], 4),
            Err(FormatError::TooLarge { len: 5, max: 4 })
        );
    }
}
