//! Golden bytes: the exact encoding of a header and of a few records is
//! committed here, so any change to the byte format fails loudly. The worked
//! example in `FORMAT.md` is checked against the same bytes.
//!
//! The headers of versions 1 and 2, which are still read, are pinned too:
//! they are 44 bytes long, so their first frame starts at byte 44 rather
//! than 60.

use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FIRST_VOUCHED_VERSION, FORMAT_VERSION, FRAME_HEADER_LEN,
    FRAME_OVERHEAD, FileHeader, FrameHeader, FrameKind, HEADER_LEN, MAGIC, MAX_LAG, Packer, Record,
    V2_HEADER_LEN, begin_record, decode_record, encode_record, encode_seal, finish_record,
    header_len,
};

const MAX: u32 = DEFAULT_MAX_RECORD_LEN;

/// The marker bytes FORMAT.md gives (the crate keeps its own private; see
/// `markers_are_pinned`).
const RECORD_MARKER: u8 = 0xA5;
const SEAL_MARKER: u8 = 0x5A;
const BATCH_MARKER: u8 = 0xC3;

/// The example's `file_id`: every byte different, so its byte order shows.
const FILE_ID: u64 = 0x0123_4567_89ab_cdef;
/// The example's `vouched_len`: the header alone, as for a newly created
/// log.
const VOUCHED_LEN: u64 = 60;

/// The header of the worked example (see [`example_header`]).
const HEADER_HEX: &str = concat!(
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
const HEADER_V2_HEX: &str = concat!(
    "8957414c0d0a1a0a",
    "02000000", // version 2
    "6578616d706c65000000000000000000",
    "01000000",
    "0000000000000000",
    "c2cb1044",
);
/// The same header as version 1 wrote it: still read.
const HEADER_V1_HEX: &str = concat!(
    "8957414c0d0a1a0a",
    "01000000", // version 1
    "6578616d706c65000000000000000000",
    "01000000",
    "0000000000000000",
    "7dc30f8d",
);
/// Records 2 and 3 in one batch frame: synced_upto 2, payloads "gamma"
/// and "delta".
const BATCH_HEX: &str = concat!(
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
const ALPHA_HEX: &str = concat!(
    "a5",
    "000000",
    "05000000",
    "00000000",
    "616c706861",
    "71ad682a"
);
/// Record 1: synced_upto 1, payload "beta".
const BETA_HEX: &str = concat!(
    "a5", "000000", "04000000", "01000000", "62657461", "8c30375f"
);
/// Record 2: synced_upto 2, empty payload.
const EMPTY_HEX: &str = concat!("a5", "000000", "00000000", "02000000", "d640e7a6");
/// Record 9: synced_upto 6 (lag 3), payload "gamma".
const LAGGED_HEX: &str = concat!(
    "a5",
    "030000",
    "05000000",
    "09000000",
    "67616d6d61",
    "c346a0bb"
);
/// Record 2^32 + 7: synced_upto 0, so the lag saturates; payload "x".
const SATURATED_HEX: &str = concat!("a5", "ffffff", "01000000", "07000000", "78", "ca2834f1");
const SATURATED_SEQ: u64 = (1 << 32) + 7;
/// A seal as record 3: marker 0x5A, lag 0, empty payload.
const SEAL_HEX: &str = concat!("5a", "000000", "00000000", "03000000", "d6564228");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn record(seq: u64, synced_upto: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = encode_record(&mut out, seq, synced_upto, payload, MAX).unwrap();
    assert_eq!(n, out.len());
    out
}

/// The header of the worked example of `FORMAT.md`: both version 3 fields
/// non-zero.
fn example_header() -> FileHeader {
    FileHeader::new(b"example", 1, 0)
        .with_file_id(FILE_ID)
        .with_vouched_len(VOUCHED_LEN)
}

/// The example's header as an older version wrote it: 44 bytes, without
/// the fields that version lacks.
fn old_header(version: u32) -> FileHeader {
    FileHeader {
        version,
        ..FileHeader::new(b"example", 1, 0)
    }
}

/// The worked example of `FORMAT.md`: the header, records 0 and 1, and
/// records 2 and 3 in a batch frame.
fn example_file() -> Vec<u8> {
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

fn expect_complete(buf: &[u8], seq: u64) -> Record<'_> {
    match decode_record(buf, seq, MAX) {
        Ok(Decoded::Complete(record)) => record,
        other => panic!("record {seq} did not decode: {other:?}"),
    }
}

#[test]
fn header_bytes_are_pinned() {
    let bytes = example_header().encode();
    assert_eq!(hex(&bytes), HEADER_HEX);
    assert_eq!(bytes.len(), HEADER_LEN);
    assert_eq!(HEADER_LEN, 60);
    assert_eq!(example_header().encoded_len(), HEADER_LEN);
    // The field offsets (file_id at 40, vouched_len at 48, crc at 56; crc
    // at 40 in versions 1 and 2) are private to the crate and pinned by its
    // unit test `header::tests::layout_is_derived_and_little_endian`; the
    // hex above pins every byte they place.
    // Versions 1 and 2: 44 bytes, the crc at 40.
    assert_eq!(V2_HEADER_LEN, 44);
    assert_eq!(hex(&old_header(2).encode()), HEADER_V2_HEX);
    assert_eq!(hex(&old_header(1).encode()), HEADER_V1_HEX);
    assert_eq!(
        [1, 2, 3].map(header_len),
        [V2_HEADER_LEN, V2_HEADER_LEN, HEADER_LEN]
    );
    assert_eq!(FIRST_VOUCHED_VERSION, 3);
    // An older version's header drops the fields it lacks, whatever they
    // hold.
    let v2 = FileHeader {
        version: 2,
        ..example_header()
    };
    assert_eq!(v2.encoded_len(), V2_HEADER_LEN);
    assert_eq!(hex(&v2.encode()), HEADER_V2_HEX);
}

#[test]
fn golden_header_decodes() {
    let bytes = unhex(HEADER_HEX);
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&bytes) else {
        panic!("golden header must decode");
    };
    assert_eq!(header.version, 3);
    assert_eq!(header.version, FORMAT_VERSION);
    assert_eq!(header.app_tag_trimmed(), b"example");
    assert_eq!(&header.app_tag, b"example\0\0\0\0\0\0\0\0\0");
    assert_eq!(header.app_version, 1);
    assert_eq!(header.base_seq, 0);
    assert_eq!(header.file_id, 0x0123_4567_89ab_cdef);
    assert_eq!(header.vouched_len, 60);
    assert_eq!(header, example_header());
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(bytes[8..12], FORMAT_VERSION.to_le_bytes());
    // Little-endian: the least significant byte first.
    assert_eq!(
        bytes[40..48],
        [0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]
    );
    assert_eq!(bytes[48..56], [0x3c, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn record_bytes_are_pinned() {
    assert_eq!(FRAME_HEADER_LEN, 12);
    assert_eq!(FRAME_OVERHEAD, 16);
    assert_eq!(hex(&record(0, 0, b"alpha")), ALPHA_HEX);
    assert_eq!(hex(&record(1, 1, b"beta")), BETA_HEX);
    assert_eq!(hex(&record(2, 2, b"")), EMPTY_HEX);
    assert_eq!(hex(&record(9, 6, b"gamma")), LAGGED_HEX);
    assert_eq!(hex(&record(SATURATED_SEQ, 0, b"x")), SATURATED_HEX);
}

#[test]
fn example_file_is_pinned() {
    let file = example_file();
    assert_eq!(
        hex(&file),
        [HEADER_HEX, ALPHA_HEX, BETA_HEX, BATCH_HEX].concat()
    );
    assert_eq!(file.len(), 60 + 21 + 20 + 38);
}

#[test]
fn version_1_headers_are_still_read() {
    let bytes = unhex(HEADER_V1_HEX);
    assert_eq!(bytes.len(), 44);
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&bytes) else {
        panic!("a version 1 header must decode");
    };
    assert_eq!(header, old_header(1));
    assert_eq!((header.file_id, header.vouched_len), (0, 0));
    assert_eq!(header.encoded_len(), 44);
    assert!(!header.allows_batches());
    assert_eq!(hex(&header.encode()), HEADER_V1_HEX);
}

#[test]
fn version_2_headers_are_still_read() {
    let bytes = unhex(HEADER_V2_HEX);
    assert_eq!(bytes.len(), 44);
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&bytes) else {
        panic!("a version 2 header must decode");
    };
    assert_eq!(header, old_header(2));
    // No `file_id`, nothing vouched: the fields a version 2 header lacks
    // decode as 0.
    assert_eq!((header.file_id, header.vouched_len), (0, 0));
    assert_eq!(header.encoded_len(), V2_HEADER_LEN);
    assert!(header.allows_batches());
    assert_eq!(hex(&header.encode()), HEADER_V2_HEX);
}

#[test]
fn version_2_file_has_its_first_frame_at_44() {
    // The example's records behind a version 2 header: the same frames,
    // 16 bytes earlier.
    let file = unhex(&[HEADER_V2_HEX, ALPHA_HEX, BETA_HEX, BATCH_HEX].concat());
    assert_eq!(file.len(), 44 + 21 + 20 + 38);
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&file) else {
        panic!("a version 2 header must decode");
    };
    assert_eq!(header, old_header(2));
    let mut at = header.encoded_len();
    assert_eq!(at, 44);
    // The first frame's marker is at byte 44, where a version 3 header
    // would still be holding its `file_id`.
    assert_eq!(file[44], RECORD_MARKER);
    for (seq, frame_len) in [(0, 21), (1, 20), (2, 38)] {
        let record = expect_complete(&file[at..], header.base_seq + seq);
        assert_eq!(record.frame_len, frame_len, "record {seq}");
        at += record.frame_len;
    }
    assert_eq!(at, file.len());
    assert_eq!(file[44..], example_file()[60..]);
}

#[test]
fn example_file_decodes_field_by_field() {
    let file = unhex(&[HEADER_HEX, ALPHA_HEX, BETA_HEX, BATCH_HEX].concat());
    let Ok(Decoded::Complete(header)) = FileHeader::decode(&file) else {
        panic!("golden header must decode");
    };
    assert_eq!(header, example_header());
    assert_eq!(
        (header.version, header.file_id, header.vouched_len),
        (3, 0x0123_4567_89ab_cdef, 60)
    );

    let mut at = header.encoded_len();
    assert_eq!(at, 60);
    let alpha = expect_complete(&file[at..], header.base_seq);
    assert_eq!(
        alpha,
        Record {
            kind: FrameKind::Record,
            seq: 0,
            synced_upto: 0,
            payload: b"alpha",
            frame_len: 21
        }
    );
    at += alpha.frame_len;
    let beta = expect_complete(&file[at..], header.base_seq + 1);
    assert_eq!(
        beta,
        Record {
            kind: FrameKind::Record,
            seq: 1,
            synced_upto: 1,
            payload: b"beta",
            frame_len: 20
        }
    );
    at += beta.frame_len;
    let batch = expect_complete(&file[at..], header.base_seq + 2);
    assert_eq!(
        (batch.kind, batch.seq, batch.synced_upto, batch.frame_len),
        (FrameKind::Batch, 2, 2, 38)
    );
    assert_eq!(batch.seq_count(), 2);
    assert_eq!(
        batch.payloads().collect::<Vec<_>>(),
        [b"gamma" as &[u8], b"delta"]
    );
    at += batch.frame_len;
    assert_eq!(at, file.len());
    assert_eq!(
        decode_record(&file[at..], 4, MAX),
        Ok(Decoded::Incomplete {
            needed: FRAME_OVERHEAD
        })
    );
}

#[test]
fn golden_frames_peek_to_their_fields() {
    let cases: [(&str, u32, u32, u32, u32); 5] = [
        (ALPHA_HEX, 0, 5, 0, 0x2a68_ad71),
        (BETA_HEX, 0, 4, 1, 0x5f37_308c),
        (EMPTY_HEX, 0, 0, 2, 0xa6e7_40d6),
        (LAGGED_HEX, 3, 5, 9, 0xbba0_46c3),
        (SATURATED_HEX, MAX_LAG, 1, 7, 0xf134_28ca),
    ];
    for (text, lag, len, seq_lo, crc) in cases {
        let bytes = unhex(text);
        assert_eq!(bytes[0], RECORD_MARKER);
        let header = FrameHeader::peek(&bytes).unwrap();
        assert_eq!(
            header,
            FrameHeader {
                kind: FrameKind::Record,
                lag,
                len,
                seq_lo
            },
            "frame {text}"
        );
        assert_eq!(header.frame_len(), bytes.len() as u64, "frame {text}");
        assert_eq!(header.checksums(&bytes), Some((crc, crc)), "frame {text}");
    }
}

#[test]
fn seal_bytes_are_pinned_and_decode() {
    let mut out = Vec::new();
    assert_eq!(encode_seal(&mut out, 3), 16);
    assert_eq!(hex(&out), SEAL_HEX);
    assert_eq!(
        expect_complete(&out, 3),
        Record {
            kind: FrameKind::Seal,
            seq: 3,
            synced_upto: 3,
            payload: b"",
            frame_len: 16
        }
    );
    // The residue holds for seals as for records.
    assert_eq!(reference_crc32(SEED, &out), 0x2144_df1c);
    // Every single-bit flip of any marker is no marker at all.
    for marker in [RECORD_MARKER, SEAL_MARKER, BATCH_MARKER] {
        assert_eq!(RECORD_MARKER ^ SEAL_MARKER, 0xff);
        for bit in 0..8 {
            assert_eq!(FrameKind::from_marker(marker ^ (1 << bit)), None);
        }
    }
}

#[test]
fn golden_empty_payload_decodes() {
    let bytes = unhex(EMPTY_HEX);
    assert_eq!(
        expect_complete(&bytes, 2),
        Record {
            kind: FrameKind::Record,
            seq: 2,
            synced_upto: 2,
            payload: b"",
            frame_len: FRAME_OVERHEAD
        }
    );
}

#[test]
fn golden_lagged_record_decodes() {
    let bytes = unhex(LAGGED_HEX);
    assert_eq!(
        expect_complete(&bytes, 9),
        Record {
            kind: FrameKind::Record,
            seq: 9,
            synced_upto: 6,
            payload: b"gamma",
            frame_len: 21
        }
    );
}

#[test]
fn golden_saturated_lag_declares_nothing_synced() {
    let bytes = unhex(SATURATED_HEX);
    // `seq - MAX_LAG` would claim records below 4_278_190_088 durable, but
    // the writer had synced none: a saturated lag must decode to 0.
    assert_eq!(
        expect_complete(&bytes, SATURATED_SEQ),
        Record {
            kind: FrameKind::Record,
            seq: SATURATED_SEQ,
            synced_upto: 0,
            payload: b"x",
            frame_len: 17
        }
    );
    // Only the low 32 bits are stored: the same bytes are also record 7 of
    // a log, where a lag of MAX_LAG cannot fit.
    assert_eq!(
        decode_record(&bytes, 7, MAX),
        Err(wal_format::FormatError::BadWatermark { lag: MAX_LAG })
    );
}

/// The seeded CRC-32/ISO-HDLC, bit by bit, straight from its definition:
/// reflected polynomial 0xEDB88320, the register starting at `!seed`
/// (0xFFFFFFFF for seed 0, the plain CRC), final xor 0xFFFFFFFF.
fn reference_crc32(seed: u32, bytes: &[u8]) -> u32 {
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
const SEED: u32 = 0x2144_df1c;

fn stored_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[test]
fn checksums_follow_the_documented_definition() {
    assert_eq!(reference_crc32(0, b"123456789"), 0xCBF4_3926);
    assert_eq!(wal_format::checksum::CRC_SEED, SEED);
    let header = unhex(HEADER_HEX);
    assert_eq!(
        stored_u32(&header, 56),
        reference_crc32(SEED, &header[..56])
    );
    // The residue holds for headers too.
    assert_eq!(reference_crc32(SEED, &header), 0x2144_df1c);
    for text in [HEADER_V2_HEX, HEADER_V1_HEX] {
        let old = unhex(text);
        assert_eq!(
            stored_u32(&old, 40),
            reference_crc32(SEED, &old[..40]),
            "{text}"
        );
    }
    for text in [ALPHA_HEX, BETA_HEX, EMPTY_HEX, LAGGED_HEX, SATURATED_HEX] {
        let frame = unhex(text);
        let crc_at = frame.len() - 4;
        assert_eq!(
            stored_u32(&frame, crc_at),
            reference_crc32(SEED, &frame[..crc_at]),
            "{text}"
        );
        // The residue: the whole frame, trailer included, checksums to a
        // constant.
        assert_eq!(reference_crc32(SEED, &frame), 0x2144_df1c, "{text}");
    }
    // The seed is the residue, so frames chain: the records of the example
    // file, back to back, checksum to the residue as well.
    let file = example_file();
    assert_eq!(reference_crc32(SEED, &file[HEADER_LEN..]), 0x2144_df1c);
}

/// The dump format used in `FORMAT.md`: offset, then up to 16 bytes.
fn dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, line)| {
            let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:04x}  {}\n", i * 16, hex.join(" "))
        })
        .collect()
}

#[test]
fn format_md_shows_the_golden_bytes() {
    let doc = include_str!("../FORMAT.md");
    let dump = dump(&example_file());
    assert!(
        doc.contains(&dump),
        "FORMAT.md must contain this dump of the example:\n{dump}"
    );
}

/// The bytes the field-by-field breakdown in `FORMAT.md` shows: every line
/// `0xNN  bytes  field` must show the example's bytes at that offset, the
/// lines must follow each other without gap or overlap, and the last one,
/// with no bytes, must be the end of the file.
#[test]
fn format_md_breakdown_matches_the_example() {
    let doc = include_str!("../FORMAT.md");
    let file = example_file();
    let start = doc
        .find("Field by field")
        .expect("FORMAT.md has a field-by-field breakdown");
    let block = &doc[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let mut at = 0;
    let mut lines = 0;
    for line in block.lines() {
        let Some(rest) = line.strip_prefix("0x") else {
            continue;
        };
        let (offset, rest) = rest.split_once(' ').unwrap();
        let offset = usize::from_str_radix(offset, 16).unwrap();
        assert_eq!(offset, at, "breakdown line {line:?}");
        let bytes: Vec<u8> = rest
            .split_whitespace()
            .take_while(|t| t.len() == 2 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|t| u8::from_str_radix(t, 16).unwrap())
            .collect();
        assert_eq!(
            file.get(at..at + bytes.len()),
            Some(&bytes[..]),
            "breakdown line {line:?}"
        );
        at += bytes.len();
        lines += 1;
        if bytes.is_empty() {
            break;
        }
    }
    assert!(lines > 30, "only {lines} breakdown lines found");
    assert_eq!(at, file.len(), "the breakdown must cover the whole file");
}

/// The sidecar claim `FORMAT.md` shows for the example: `\x89WALclm\n`,
/// version 1, `file_id`, `durable_len` 139 (the example's length), crc.
/// The encoder lives in `wal-io`, which this crate cannot depend on; this
/// pins the documented layout and checks its checksum.
const CLAIM_HEX: &str = concat!(
    "8957414c636c6d0a", // magic
    "01000000",         // version 1
    "efcdab8967452301", // file_id 0x0123456789abcdef
    "8b00000000000000", // durable_len 139
    "f17a45ce",         // crc
);

#[test]
fn format_md_shows_the_sidecar_claim() {
    let claim = unhex(CLAIM_HEX);
    assert_eq!(claim.len(), 32);
    assert_eq!(&claim[..8], b"\x89WALclm\n");
    assert_eq!(stored_u32(&claim, 8), 1);
    assert_eq!(claim[12..20], FILE_ID.to_le_bytes());
    assert_eq!(claim[20..28], (example_file().len() as u64).to_le_bytes());
    assert_eq!(
        stored_u32(&claim, 28),
        wal_format::checksum::checksum(&claim[..28])
    );
    assert_eq!(stored_u32(&claim, 28), reference_crc32(SEED, &claim[..28]));
    assert_eq!(stored_u32(&claim, 28), 0xce45_7af1);
    let doc = include_str!("../FORMAT.md");
    let dump = dump(&claim);
    assert!(
        doc.contains(&dump),
        "FORMAT.md must contain this dump of the claim:\n{dump}"
    );
}

#[test]
fn format_md_checksum_walkthrough_is_right() {
    // The intermediate values quoted in FORMAT.md's worked example.
    let alpha = unhex(ALPHA_HEX);
    let covered = &alpha[..alpha.len() - 4];
    assert_eq!(covered.len(), 17);
    assert_eq!(reference_crc32(0, covered), 0xa283_9947);
    assert_eq!(reference_crc32(SEED, covered), 0x2a68_ad71);
    assert_eq!(wal_format::checksum::checksum(covered), 0x2a68_ad71);
    let header = unhex(HEADER_HEX);
    assert_eq!(reference_crc32(SEED, &header[..56]), 0x4a75_d4ae);
    let v2 = unhex(HEADER_V2_HEX);
    assert_eq!(reference_crc32(SEED, &v2[..40]), 0x4410_cbc2);
    let v1 = unhex(HEADER_V1_HEX);
    assert_eq!(reference_crc32(SEED, &v1[..40]), 0x8d0f_c37d);
    let batch = unhex(BATCH_HEX);
    assert_eq!(reference_crc32(SEED, &batch[..34]), 0x8033_e328);
    assert_eq!(reference_crc32(SEED, &batch), 0x2144_df1c);
    // Seeding is continuing: the seeded CRC of `x` is the plain CRC of some
    // prefix whose CRC is the seed, followed by `x`.
    let mut continued = crc32fast::Hasher::new_with_initial(SEED);
    continued.update(covered);
    assert_eq!(continued.finalize(), 0x2a68_ad71);
}

#[test]
fn framing_overhead_is_as_documented() {
    // FORMAT.md: 16 framing bytes per record, half of a 16-byte record's frame.
    for (payload_len, frame_len) in [(0, 16), (16, 32), (128, 144), (4096, 4112)] {
        assert_eq!(record(5, 5, &vec![7; payload_len]).len(), frame_len);
    }
}

#[test]
fn markers_are_pinned() {
    assert_eq!(
        [FrameKind::Record, FrameKind::Seal, FrameKind::Batch].map(FrameKind::marker),
        [RECORD_MARKER, SEAL_MARKER, BATCH_MARKER]
    );
}
