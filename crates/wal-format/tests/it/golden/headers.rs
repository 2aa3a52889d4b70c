//! The file header's pinned bytes: version 3 (60 bytes) as written today,
//! and versions 1 and 2 (44 bytes), still read, with their first frame at
//! byte 44.

use wal_format::{
    Decoded, FIRST_VOUCHED_VERSION, FORMAT_VERSION, FileHeader, HEADER_LEN, MAGIC, V2_HEADER_LEN,
    header_len,
};

use super::{
    ALPHA_HEX, BATCH_HEX, BETA_HEX, HEADER_HEX, HEADER_V1_HEX, HEADER_V2_HEX, RECORD_MARKER,
    example_file, example_header, expect_complete, hex, old_header, unhex,
};

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
