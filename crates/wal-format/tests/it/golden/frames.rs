//! The frames' pinned bytes: records (empty, lagged, with a saturated lag),
//! a seal, a batch, the example file they make up decoded field by field,
//! the framing overhead and the markers.

use wal_format::{
    Decoded, FRAME_HEADER_LEN, FRAME_OVERHEAD, FileHeader, FrameHeader, FrameKind, MAX_LAG, Record,
    decode_record, encode_seal,
};

use super::{
    ALPHA_HEX, BATCH_HEX, BATCH_MARKER, BETA_HEX, EMPTY_HEX, HEADER_HEX, LAGGED_HEX, MAX,
    RECORD_MARKER, SATURATED_HEX, SATURATED_SEQ, SEAL_HEX, SEAL_MARKER, SEED, example_file,
    example_header, expect_complete, hex, record, reference_crc32, unhex,
};

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
