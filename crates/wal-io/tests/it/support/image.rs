//! Reading a log image's bytes by hand: whether a damaged or partial record
//! is followed by a valid one.

use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, FrameHeader, FrameKind, HEADER_LEN, decode_record,
};

/// If `bytes` (a log image) holds a damaged or partial record followed by
/// a valid one, describes it.
#[must_use]
pub fn partial_then_valid(bytes: &[u8]) -> Option<String> {
    let Ok(Decoded::Complete(header)) = FileHeader::decode(bytes) else {
        return None;
    };
    let mut at = HEADER_LEN;
    let mut seq = header.base_seq;
    while at < bytes.len() {
        match decode_record(&bytes[at..], seq, DEFAULT_MAX_RECORD_LEN) {
            Ok(Decoded::Complete(r)) => {
                at += r.frame_len;
                seq += r.seq_count();
            }
            _ => break,
        }
    }
    let damaged = at;
    for x in damaged + 1..bytes.len() {
        // Records, alone or in batches. Seals are left out: a known gap.
        // When an fsync fails and the cut-back to the synced length fails
        // too, a reopen before a reboot sees the lost records in the page
        // cache, and the seal it writes on close vouches for them, so a later
        // strict open reports `Corrupt` instead of a torn tail (no data is
        // dropped silently; salvage opens it).
        if !matches!(
            FrameKind::from_marker(bytes[x]),
            Some(FrameKind::Record | FrameKind::Batch)
        ) {
            continue;
        }
        let Some(h) = FrameHeader::peek(&bytes[x..]) else {
            continue;
        };
        let Some(candidate) = h.seq_after(seq.wrapping_sub(1)) else {
            continue;
        };
        if let Ok(Decoded::Complete(_)) =
            decode_record(&bytes[x..], candidate, DEFAULT_MAX_RECORD_LEN)
        {
            return Some(format!(
                "the records end at byte {damaged} (record {seq}) of {}, but a valid record {candidate} follows at byte {x}",
                bytes.len()
            ));
        }
    }
    None
}
