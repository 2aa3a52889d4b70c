//! Golden bytes: the exact encoding of a header and of a few records is
//! committed here, so any change to the byte format fails loudly. The worked
//! example in `FORMAT.md` is checked against the same bytes.
//!
//! The headers of versions 1 and 2, which are still read, are pinned too:
//! they are 44 bytes long, so their first frame starts at byte 44 rather
//! than 60.
//!
//! This module holds the pinned bytes and the helpers that build and check
//! them; the tests are in [`headers`], [`frames`], [`checksums`] (the CRC as
//! `FORMAT.md` defines it) and [`format_md`] (the document's dumps).

mod checksums;
mod format_md;
mod frames;
mod headers;

use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, Packer, Record, begin_record, decode_record,
    encode_record, finish_record,
};

pub const MAX: u32 = DEFAULT_MAX_RECORD_LEN;

/// The marker bytes FORMAT.md gives (the crate keeps its own private; see
/// `markers_are_pinned`).
pub const RECORD_MARKER: u8 = 0xA5;
pub const SEAL_MARKER: u8 = 0x5A;
pub const BATCH_MARKER: u8 = 0xC3;

/// The example's `file_id`: every byte different, so its byte order shows.
pub const FILE_ID: u64 = 0x0123_4567_89ab_cdef;
/// The example's `vouched_len`: the header alone, as for a newly created
/// log.
pub const VOUCHED_LEN: u64 = 60;

/// The header of the worked example (see [`example_header`]).
pub const HEADER_HEX: &str = concat!(
    "8957414c0d0a1a0a",                 // magic
    "03000000",                         // version 3
    "6578616d706c65000000000000000000", // app_tag "example"
    "01000000",                         // app_version 1
    "0000000000000000",                 // base_seq 0
    "efcdab8967452301",                 // file_id 0x0123456789abcdef
    "3c00000000000000",                 // vouched_len 60
    "aed4754a",                         // crc
);
/// The same header as version 2 wrote it (44 bytes, no `file_id` or
/// `vouched_len`, the crc at 40): still read.
pub const HEADER_V2_HEX: &str = concat!(
    "8957414c0d0a1a0a",
    "02000000", // version 2
    "6578616d706c65000000000000000000",
    "01000000",
    "0000000000000000",
    "c2cb1044",
);
/// The same header as version 1 wrote it: still read.
pub const HEADER_V1_HEX: &str = concat!(
    "8957414c0d0a1a0a",
    "01000000", // version 1
    "6578616d706c65000000000000000000",
    "01000000",
    "0000000000000000",
    "7dc30f8d",
);
/// Records 2 and 3 in one batch frame: synced_upto 2, payloads "gamma"
/// and "delta".
pub const BATCH_HEX: &str = concat!(
    "c3",         // batch marker
    "000000",     // lag 0
    "16000000",   // len 22
    "02000000",   // seq_lo 2
    "02000000",   // count 2
    "05000000",   // len of record 2
    "67616d6d61", // "gamma"
    "05000000",   // len of record 3
    "64656c7461", // "delta"
    "28e33380",   // crc
);
/// Record 0: synced_upto 0, payload "alpha".
pub const ALPHA_HEX: &str = concat!(
    "a5",
    "000000",
    "05000000",
    "00000000",
    "616c706861",
    "71ad682a"
);
/// Record 1: synced_upto 1, payload "beta".
pub const BETA_HEX: &str = concat!(
    "a5", "000000", "04000000", "01000000", "62657461", "8c30375f"
);
/// Record 2: synced_upto 2, empty payload.
pub const EMPTY_HEX: &str = concat!("a5", "000000", "00000000", "02000000", "d640e7a6");
/// Record 9: synced_upto 6 (lag 3), payload "gamma".
pub const LAGGED_HEX: &str = concat!(
    "a5",
    "030000",
    "05000000",
    "09000000",
    "67616d6d61",
    "c346a0bb"
);
/// Record 2^32 + 7: synced_upto 0, so the lag saturates; payload "x".
pub const SATURATED_HEX: &str = concat!("a5", "ffffff", "01000000", "07000000", "78", "ca2834f1");
pub const SATURATED_SEQ: u64 = (1 << 32) + 7;
/// A seal as record 3: marker 0x5A, lag 0, empty payload.
pub const SEAL_HEX: &str = concat!("5a", "000000", "00000000", "03000000", "d6564228");

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

pub fn record(seq: u64, synced_upto: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = encode_record(&mut out, seq, synced_upto, payload, MAX).unwrap();
    assert_eq!(n, out.len());
    out
}

/// The header of the worked example of `FORMAT.md`: both version 3 fields
/// non-zero.
pub fn example_header() -> FileHeader {
    FileHeader::new(b"example", 1, 0)
        .with_file_id(FILE_ID)
        .with_vouched_len(VOUCHED_LEN)
}

/// The example's header as an older version wrote it: 44 bytes, without
/// the fields that version lacks.
pub fn old_header(version: u32) -> FileHeader {
    FileHeader {
        version,
        ..FileHeader::new(b"example", 1, 0)
    }
}

/// The worked example of `FORMAT.md`: the header, records 0 and 1, and
/// records 2 and 3 in a batch frame.
pub fn example_file() -> Vec<u8> {
    let mut out = example_header().encode().to_vec();
    encode_record(&mut out, 0, 0, b"alpha", MAX).unwrap();
    // The in-place path must produce the very same bytes.
    let start = begin_record(&mut out);
    out.extend_from_slice(b"beta");
    finish_record(&mut out, start, 1, 1, MAX).unwrap();
    let mut packer = Packer::new(2, 2, MAX);
    for payload in [b"gamma", b"delta"] {
        let entry = packer.begin(&mut out);
        out.extend_from_slice(payload);
        packer.end(&mut out, entry).unwrap();
    }
    packer.finish(&mut out);
    out
}

pub fn expect_complete(buf: &[u8], seq: u64) -> Record<'_> {
    match decode_record(buf, seq, MAX) {
        Ok(Decoded::Complete(record)) => record,
        other => panic!("record {seq} did not decode: {other:?}"),
    }
}

/// The seeded CRC-32/ISO-HDLC, bit by bit, straight from its definition:
/// reflected polynomial 0xEDB88320, the register starting at `!seed`
/// (0xFFFFFFFF for seed 0, the plain CRC), final xor 0xFFFFFFFF.
pub fn reference_crc32(seed: u32, bytes: &[u8]) -> u32 {
    let mut crc = !seed;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc ^ 0xFFFF_FFFF
}

/// The seed FORMAT.md documents: the residue itself.
pub const SEED: u32 = 0x2144_df1c;

pub fn stored_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}
