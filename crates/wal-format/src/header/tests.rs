//! Tests of the file header: round trips, layout, and missing versus wrong
//! bytes.

use super::*;

fn sample() -> FileHeader {
    FileHeader::new(b"test/app", 3, 42)
        .with_file_id(0x0123_4567_89ab_cdef)
        .with_vouched_len(4096)
}

/// The sample header, and the same as a version 2 header.
fn sample_and_v2() -> [FileHeader; 2] {
    [
        sample(),
        FileHeader {
            version: 2,
            ..sample()
        },
    ]
}

#[test]
fn round_trips() {
    let bytes = sample().encode();
    assert_eq!(bytes.len(), HEADER_LEN);
    assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(sample())));
    assert_eq!(sample().app_tag_trimmed(), b"test/app");
}

#[test]
fn layout_is_derived_and_little_endian() {
    let bytes = sample().encode();
    assert_eq!(HEADER_LEN, 60);
    assert_eq!(V2_HEADER_LEN, 44);
    assert_eq!(
        (
            VERSION_OFFSET,
            APP_TAG_OFFSET,
            APP_VERSION_OFFSET,
            BASE_SEQ_OFFSET
        ),
        (8, 12, 28, 32)
    );
    // The offsets FORMAT.md gives.
    assert_eq!(
        (FILE_ID_OFFSET, VOUCHED_LEN_OFFSET, HEADER_CRC_OFFSET),
        (40, 48, 56)
    );
    assert_eq!(V2_HEADER_CRC_OFFSET, 40);
    assert_eq!(
        bytes[FILE_ID_OFFSET..VOUCHED_LEN_OFFSET],
        0x0123_4567_89ab_cdef_u64.to_le_bytes()
    );
    assert_eq!(
        bytes[VOUCHED_LEN_OFFSET..HEADER_CRC_OFFSET],
        4096u64.to_le_bytes()
    );
}

#[test]
fn every_strict_prefix_is_incomplete() {
    for header in sample_and_v2() {
        let bytes = header.encode();
        for n in 0..bytes.len() {
            // Before the version is present, the shortest known header
            // is the bound.
            let full = if n < APP_TAG_OFFSET {
                V2_HEADER_LEN
            } else {
                bytes.len()
            };
            assert_eq!(
                FileHeader::decode(&bytes[..n]),
                Ok(Decoded::Incomplete { needed: full - n }),
                "prefix of {n} bytes of a version {} header",
                header.version
            );
        }
    }
}

#[test]
fn foreign_bytes_are_not_a_log() {
    assert_eq!(
        FileHeader::decode(b"hello world"),
        Err(FormatError::NotALog)
    );
    assert_eq!(
        FileHeader::decode(&[0; HEADER_LEN]),
        Err(FormatError::NotALog)
    );
    assert_eq!(
        FileHeader::decode(&[0x89, b'W', b'X']),
        Err(FormatError::NotALog)
    );
}

#[test]
fn every_bit_flip_is_an_error() {
    for header in sample_and_v2() {
        let bytes = header.encode();
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let result = FileHeader::decode(&damaged);
            // A flip in a version 2 header's version byte can make it
            // claim version 3 and so a longer header: then it is only
            // incomplete, and the bytes that follow decide.
            let grew = matches!(result, Ok(Decoded::Incomplete { .. }));
            assert!(
                result.is_err() || (grew && header.version == 2),
                "flip of bit {bit} went unnoticed: {result:?}"
            );
        }
    }
}

#[test]
fn newer_version_is_refused() {
    let mut bytes = sample().encode();
    bytes[VERSION_OFFSET..APP_TAG_OFFSET].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(
        FileHeader::decode(&bytes),
        Err(FormatError::UnsupportedVersion {
            found: 4,
            supported: 3
        })
    );
}

#[test]
fn versions_1_and_2_are_read_and_keep_their_layout() {
    for version in [1, 2] {
        let old = FileHeader {
            version,
            file_id: 0,
            vouched_len: 0,
            ..sample()
        };
        let bytes = old.encode();
        assert_eq!(bytes.len(), V2_HEADER_LEN);
        assert_eq!(bytes[VERSION_OFFSET], version as u8);
        assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(old)));
        // Bytes after a short header are the first frame's, not the
        // header's.
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0xa5; 32]);
        assert_eq!(FileHeader::decode(&longer), Ok(Decoded::Complete(old)));
    }
    // The fields a short header lacks are not written.
    let v2 = FileHeader {
        version: 2,
        ..sample()
    };
    let Ok(Decoded::Complete(read)) = FileHeader::decode(&v2.encode()) else {
        panic!("a version 2 header must decode");
    };
    assert_eq!((read.file_id, read.vouched_len), (0, 0));
    assert!(!FileHeader { version: 1, ..v2 }.allows_batches());
    assert!(v2.allows_batches() && sample().allows_batches());
}
