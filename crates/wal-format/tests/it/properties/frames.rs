//! One frame: round trips (the in-place path and the inclusive length bound
//! included), watermarks never overstated, every strict prefix incomplete,
//! the length checked before any payload is needed, and `peek_len` agreeing
//! with the decoder.

use proptest::prelude::*;
use wal_format::checksum::checksum;
use wal_format::{
    CRC_LEN, Decoded, FRAME_HEADER_LEN, FRAME_OVERHEAD, FormatError, FrameHeader, FrameKind,
    Record, begin_record, decode_record, encode_record, finish_record, peek_len,
};

use super::{
    LAG_OFFSET, LEN_OFFSET, MAX, MAX_LAG_U64, RECORD_MARKER, SEQ_OFFSET, frame, payloads,
    seq_and_exact_lag, seq_lo, seqs,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn frames_round_trip(
        (seq, lag) in seq_and_exact_lag(),
        payload in payloads(4096),
        trailing in payloads(64),
    ) {
        let synced_upto = seq - lag;
        let mut bytes = frame(seq, synced_upto, &payload);
        let frame_len = FRAME_OVERHEAD + payload.len();
        prop_assert_eq!(bytes.len(), frame_len);
        let want = Record { kind: FrameKind::Record, seq, synced_upto, payload: &payload, frame_len };
        prop_assert_eq!(decode_record(&bytes, seq, MAX), Ok(Decoded::Complete(want)));

        // The in-place path writes the same bytes.
        let mut in_place = vec![0xEE; 3];
        let start = begin_record(&mut in_place);
        in_place.extend_from_slice(&payload);
        prop_assert_eq!(finish_record(&mut in_place, start, seq, synced_upto, MAX), Ok(frame_len));
        prop_assert_eq!(&in_place[3..], &bytes[..]);

        // The bound is inclusive, for encoding and decoding alike.
        let len = u32::try_from(payload.len()).unwrap();
        prop_assert_eq!(decode_record(&bytes, seq, len), Ok(Decoded::Complete(want)));
        if let Some(below) = len.checked_sub(1) {
            let too_large = FormatError::TooLarge { len: u64::from(len), max: below };
            prop_assert_eq!(decode_record(&bytes, seq, below), Err(too_large.clone()));
            let mut out = vec![1, 2, 3];
            prop_assert_eq!(
                encode_record(&mut out, seq, synced_upto, &payload, below),
                Err(too_large)
            );
            prop_assert_eq!(out, vec![1, 2, 3]);
        }

        // A frame delimits itself: trailing bytes change nothing.
        bytes.extend_from_slice(&trailing);
        prop_assert_eq!(decode_record(&bytes, seq, MAX), Ok(Decoded::Complete(want)));
    }

    #[test]
    fn watermarks_are_never_overstated(seq in seqs(), delta in prop_oneof![
        0u64..4,
        (MAX_LAG_U64 - 2)..(MAX_LAG_U64 + 2),
        any::<u64>(),
    ], above in any::<bool>()) {
        let synced_upto = if above { seq.saturating_add(delta) } else { seq.saturating_sub(delta) };
        let bytes = frame(seq, synced_upto, b"p");
        let Ok(Decoded::Complete(record)) = decode_record(&bytes, seq, MAX) else {
            panic!("a fresh frame must decode");
        };
        let true_watermark = synced_upto.min(seq);
        prop_assert!(record.synced_upto <= true_watermark);
        let lag = seq - true_watermark;
        let want = if lag < MAX_LAG_U64 { true_watermark } else { 0 };
        prop_assert_eq!(record.synced_upto, want);
        let header = FrameHeader::peek(&bytes).unwrap();
        prop_assert_eq!(u64::from(header.lag), lag.min(MAX_LAG_U64));
        prop_assert_eq!(header.synced_upto(seq), Some(want));
    }

    #[test]
    fn every_strict_prefix_of_a_frame_is_incomplete(
        (seq, lag) in seq_and_exact_lag(),
        payload in payloads(600),
    ) {
        let bytes = frame(seq, seq - lag, &payload);
        for n in 0..bytes.len() {
            // Below the framing fields, at least an empty record's worth;
            // from there on, the exact shortfall.
            let needed = if n < FRAME_HEADER_LEN { FRAME_OVERHEAD - n } else { bytes.len() - n };
            prop_assert_eq!(
                decode_record(&bytes[..n], seq, MAX),
                Ok(Decoded::Incomplete { needed }),
                "prefix of {} bytes", n
            );
        }
    }

    #[test]
    fn peek_len_agrees_with_decode_record(
        (seq, lag) in seq_and_exact_lag(),
        payload in payloads(256),
        flip in proptest::option::of(0..FRAME_HEADER_LEN * 8),
        cut in any::<proptest::sample::Index>(),
        max_len in prop_oneof![Just(MAX), 0u32..300],
    ) {
        let mut bytes = frame(seq, seq - lag, &payload);
        if let Some(bit) = flip {
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        let buf = &bytes[..cut.index(bytes.len() + 1)];
        let decoded = decode_record(buf, seq, max_len);
        match peek_len(buf, seq, max_len) {
            // Wrong header bytes: the very error the decoder gives.
            Err(e) => prop_assert_eq!(decoded, Err(e)),
            // A cut header: missing bytes for the decoder too.
            Ok(Decoded::Incomplete { needed }) => {
                prop_assert_eq!(needed, FRAME_HEADER_LEN - buf.len());
                prop_assert_eq!(
                    decoded,
                    Ok(Decoded::Incomplete { needed: FRAME_OVERHEAD - buf.len() })
                );
            }
            // A valid header: the decoder wants exactly that many bytes.
            Ok(Decoded::Complete(len)) => {
                prop_assert!(buf.len() >= FRAME_HEADER_LEN);
                match decoded {
                    Ok(Decoded::Complete(record)) => prop_assert_eq!(record.frame_len, len),
                    Ok(Decoded::Incomplete { needed }) => prop_assert_eq!(buf.len() + needed, len),
                    Err(FormatError::ChecksumMismatch { .. }) => prop_assert!(buf.len() >= len),
                    Err(other) => prop_assert!(false, "header valid, yet {:?}", other),
                }
            }
        }
    }

    #[test]
    fn lengths_are_bounded_before_any_payload_is_needed(
        (seq, lag) in seq_and_exact_lag(),
        len in prop_oneof![any::<u32>(), 0u32..128, (MAX - 2)..=(MAX + 2)],
        max_len in prop_oneof![Just(MAX), any::<u32>(), 0u32..128],
        available in 0usize..192,
    ) {
        // A frame header whose every field is right except, perhaps, the
        // length; then `available` payload bytes.
        let mut bytes = vec![0; FRAME_HEADER_LEN];
        bytes[0] = RECORD_MARKER;
        bytes[LAG_OFFSET..LEN_OFFSET].copy_from_slice(&(lag as u32).to_le_bytes()[..3]);
        bytes[LEN_OFFSET..SEQ_OFFSET].copy_from_slice(&len.to_le_bytes());
        bytes[SEQ_OFFSET..FRAME_HEADER_LEN].copy_from_slice(&seq_lo(seq).to_le_bytes());
        bytes.extend(std::iter::repeat_n(0x33, available));
        let result = decode_record(&bytes, seq, max_len);
        let len_usize = usize::try_from(len).unwrap();
        if len > max_len {
            let too_large = Err(FormatError::TooLarge { len: u64::from(len), max: max_len });
            prop_assert_eq!(&result, &too_large);
            // The bound is the first check after the marker.
            prop_assert_eq!(decode_record(&bytes, seq.wrapping_add(1), max_len), too_large);
        } else if len_usize + CRC_LEN > available {
            // Exactly the shortfall (payload and checksum trailer): the bytes
            // can be read before a buffer for them exists.
            let needed = len_usize + CRC_LEN - available;
            prop_assert_eq!(result, Ok(Decoded::Incomplete { needed }));
        } else {
            let crc_at = FRAME_HEADER_LEN + len_usize;
            let computed = checksum(&bytes[..crc_at]);
            let stored = !computed;
            bytes[crc_at..crc_at + CRC_LEN].copy_from_slice(&stored.to_le_bytes());
            prop_assert_eq!(
                decode_record(&bytes, seq, max_len),
                Err(FormatError::ChecksumMismatch { stored, computed })
            );
            bytes[crc_at..crc_at + CRC_LEN].copy_from_slice(&computed.to_le_bytes());
            let Ok(Decoded::Complete(record)) = decode_record(&bytes, seq, max_len) else {
                panic!("the same frame with its checksum must decode");
            };
            prop_assert_eq!(record.frame_len, FRAME_OVERHEAD + len_usize);
            prop_assert_eq!(record.synced_upto, seq - lag);
        }
    }
}
