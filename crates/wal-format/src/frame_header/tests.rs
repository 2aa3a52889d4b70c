//! Tests of the frame header: its layout, its check and `peek_len`.

use super::*;

#[test]
fn layout_is_derived() {
    assert_eq!(
        (LAG_OFFSET, LEN_OFFSET, SEQ_OFFSET, FRAME_HEADER_LEN),
        (1, 4, 8, 12)
    );
    assert_eq!((CRC_LEN, FRAME_OVERHEAD, MAX_LAG), (4, 16, 0xFF_FFFF));
    let header = header_bytes(FrameKind::Batch, 0x1_0000_0007, 0x1_0000_0005, 9);
    assert_eq!(header, [0xC3, 2, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0]);
    assert_eq!(
        FrameHeader::peek(&header),
        Some(FrameHeader {
            kind: FrameKind::Batch,
            lag: 2,
            len: 9,
            seq_lo: 7
        })
    );
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

#[test]
fn markers_are_four_bits_apart() {
    assert_eq!(RECORD_MARKER ^ SEAL_MARKER, 0xff);
    for (a, b) in [(BATCH_MARKER, RECORD_MARKER), (BATCH_MARKER, SEAL_MARKER)] {
        assert_eq!((a ^ b).count_ones(), 4);
    }
}

#[test]
fn check_reports_the_first_wrong_field() {
    let header = FrameHeader {
        kind: FrameKind::Record,
        lag: 9,
        len: 100,
        seq_lo: 7,
    };
    assert_eq!(
        header.check(7, 100),
        Err(FormatError::BadWatermark { lag: 9 })
    );
    assert_eq!(
        header.check(12, 100),
        Err(FormatError::SeqMismatch {
            expected: 12,
            found: 7
        })
    );
    assert_eq!(
        header.check(12, 99),
        Err(FormatError::TooLarge { len: 100, max: 99 })
    );
    assert_eq!(header.check(7 + (1 << 32), 100), Ok((1 << 32) - 2));
}

#[test]
fn peek_len_tells_missing_bytes_from_wrong_ones() {
    let header = header_bytes(FrameKind::Record, 7, 7, 100);
    assert_eq!(peek_len(&header, 7, 100), Ok(Decoded::Complete(116)));
    for n in 0..FRAME_HEADER_LEN {
        assert_eq!(
            peek_len(&header[..n], 7, 100),
            Ok(Decoded::Incomplete {
                needed: FRAME_HEADER_LEN - n
            }),
            "a prefix of {n} bytes"
        );
    }
    assert_eq!(
        peek_len(&header, 7, 99),
        Err(FormatError::TooLarge { len: 100, max: 99 })
    );
    assert_eq!(
        peek_len(&header, 8, 100),
        Err(FormatError::SeqMismatch {
            expected: 8,
            found: 7
        })
    );
    assert_eq!(
        peek_len(&[0, 1], 7, 100),
        Err(FormatError::BadMarker { found: 0 })
    );
}
