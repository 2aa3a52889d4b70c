//! Property tests of the record frame and the file header: round trips,
//! missing bytes (every strict prefix is `Incomplete`) versus wrong bytes
//! (bit flips, bursts, zero and `0xFF` runs are errors), the length bound,
//! and multi-record streams.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use wal_format::checksum::checksum;
use wal_format::{
    APP_TAG_LEN, CRC_LEN, DEFAULT_MAX_RECORD_LEN, Decoded, FORMAT_VERSION, FRAME_HEADER_LEN,
    FRAME_OVERHEAD, FileHeader, FormatError, FrameHeader, FrameKind, HEADER_LEN, MAGIC, MAX_LAG,
    Record, V2_HEADER_LEN, begin_record, decode_record, decode_run, encode_frame, encode_record,
    finish_record, peek_len,
};

// The layout as FORMAT.md gives it, written out here: the crate keeps its
// field offsets private.
/// The first byte of a record's frame.
const RECORD_MARKER: u8 = 0xA5;
/// The first byte of a seal's frame.
const SEAL_MARKER: u8 = 0x5A;
/// Offset of a frame's lag field.
const LAG_OFFSET: usize = 1;
/// Offset of a frame's payload length.
const LEN_OFFSET: usize = 4;
/// Offset of a frame's `seq_lo`.
const SEQ_OFFSET: usize = 8;
/// Offset of the header's format version.
const VERSION_OFFSET: usize = 8;
/// Offset of the header's application tag.
const APP_TAG_OFFSET: usize = 12;

/// The low 32 bits of a sequence number, as a frame stores them.
fn seq_lo(seq: u64) -> u32 {
    (seq & 0xFFFF_FFFF) as u32
}

const MAX: u32 = DEFAULT_MAX_RECORD_LEN;
const MAX_LAG_U64: u64 = MAX_LAG as u64;

fn frame(seq: u64, synced_upto: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = encode_record(&mut out, seq, synced_upto, payload, MAX).unwrap();
    assert_eq!(n, out.len());
    out
}

/// Sequence numbers, biased towards the edges: small, around the 32-bit
/// wrap of `seq_lo`, around `MAX_LAG`, and near `u64::MAX`.
fn seqs() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..64,
        any::<u64>(),
        (1u64..4, 0u64..32).prop_map(|(hi, d)| (hi << 32) - 16 + d),
        (MAX_LAG_U64 - 8)..(MAX_LAG_U64 + 8),
        (u64::MAX - 32)..=u64::MAX,
    ]
}

/// A sequence number and a lag below saturation, so that the watermark
/// round-trips exactly.
fn seq_and_exact_lag() -> impl Strategy<Value = (u64, u64)> {
    seqs().prop_flat_map(|seq| {
        let most = seq.min(MAX_LAG_U64 - 1);
        (
            Just(seq),
            prop_oneof![0..=most.min(3), 0..=most, (most.saturating_sub(3))..=most],
        )
    })
}

fn payloads(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// What a frame with one flipped bit may decode to, by the field the bit
/// is in. Never `Complete`.
fn assert_flip_detected(
    result: &Result<Decoded<Record<'_>>, FormatError>,
    byte: usize,
    seq: u64,
    flipped: &[u8],
) {
    let ok = match byte {
        0 => *result == Err(FormatError::BadMarker { found: flipped[0] }),
        b if b < LEN_OFFSET => matches!(
            result,
            Err(FormatError::BadWatermark { .. } | FormatError::ChecksumMismatch { .. })
        ),
        b if b < SEQ_OFFSET => matches!(
            result,
            Err(FormatError::TooLarge { .. } | FormatError::ChecksumMismatch { .. })
                | Ok(Decoded::Incomplete { .. })
        ),
        b if b < FRAME_HEADER_LEN => {
            let found =
                u32::from_le_bytes(flipped[SEQ_OFFSET..FRAME_HEADER_LEN].try_into().unwrap());
            *result
                == Err(FormatError::SeqMismatch {
                    expected: seq_lo(seq),
                    found,
                })
        }
        _ => matches!(result, Err(FormatError::ChecksumMismatch { .. })),
    };
    assert!(ok, "flip in byte {byte} (seq {seq}) gave {result:?}");
}

/// Flips every bit of the frame at the start of `buf` (which may hold more
/// bytes after it) in turn, and checks that none goes unnoticed.
fn flip_every_bit(buf: &mut [u8], frame_len: usize, seq: u64) {
    for bit in 0..frame_len * 8 {
        buf[bit / 8] ^= 1 << (bit % 8);
        let result = decode_record(buf, seq, MAX);
        assert_flip_detected(&result, bit / 8, seq, buf);
        buf[bit / 8] ^= 1 << (bit % 8);
    }
    // Undamaged again: the flips were all undone.
    assert!(
        matches!(decode_record(buf, seq, MAX), Ok(Decoded::Complete(r)) if r.frame_len == frame_len)
    );
}

#[test]
fn every_single_bit_flip_is_detected_for_payloads_up_to_64_bytes() {
    let cases = [
        (0, 0),
        (1, 0),
        (1000, 990),
        ((1 << 32) + 5, (1 << 32) + 5),
        (MAX_LAG_U64 + 3, 0),
        (u64::MAX, u64::MAX - 1),
    ];
    for len in 0..=64usize {
        let payload: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8).collect();
        for (seq, synced_upto) in cases {
            let original = frame(seq, synced_upto, &payload);
            // Alone: a length flipped upwards runs past the end (Incomplete).
            let mut alone = original.clone();
            flip_every_bit(&mut alone, original.len(), seq);
            // Followed by more bytes: a length flipped upwards now lands on
            // real bytes, and the checksum must catch it.
            let mut stream = original.clone();
            stream.extend(frame(seq.wrapping_add(1), synced_upto, &payload));
            stream.extend(std::iter::repeat_n(0x5a, 1100));
            flip_every_bit(&mut stream, original.len(), seq);
        }
    }
}

#[test]
fn runs_of_zeros_and_ones_are_never_frames_nor_prefixes_of_frames() {
    for fill in [0x00u8, 0xFF] {
        let bytes = vec![fill; 4096];
        for n in 1..=bytes.len() {
            for (seq, max_len) in [(0, MAX), (7, 0), (u64::MAX, u32::MAX)] {
                assert_eq!(
                    decode_record(&bytes[..n], seq, max_len),
                    Err(FormatError::BadMarker { found: fill }),
                    "{n} bytes of {fill:#04x}"
                );
            }
            assert_eq!(FileHeader::decode(&bytes[..n]), Err(FormatError::NotALog));
            assert_eq!(FrameHeader::peek(&bytes[..n]), None);
        }
    }
}

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
    fn single_bit_flips_in_larger_frames_are_detected(
        (seq, lag) in seq_and_exact_lag(),
        payload in vec(any::<u8>(), 65..4096),
        bit in any::<Index>(),
        followed in any::<bool>(),
    ) {
        let mut bytes = frame(seq, seq - lag, &payload);
        let frame_len = bytes.len();
        if followed {
            bytes.extend(frame(seq.wrapping_add(1), seq, &payload));
        }
        let bit = bit.index(frame_len * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let result = decode_record(&bytes, seq, MAX);
        assert_flip_detected(&result, bit / 8, seq, &bytes);
    }

    #[test]
    fn bursts_never_decode_to_a_wrong_record(
        (seq, lag) in seq_and_exact_lag(),
        payload in payloads(1024),
        start in any::<Index>(),
        burst in vec(any::<u8>(), 2..=32),
        followed in any::<bool>(),
    ) {
        let original = frame(seq, seq - lag, &payload);
        let mut bytes = original.clone();
        if followed {
            bytes.extend(frame(seq.wrapping_add(1), seq, &payload));
        }
        let start = start.index(original.len());
        let end = (start + burst.len()).min(original.len());
        bytes[start..end].copy_from_slice(&burst[..end - start]);
        let changed = bytes[start..end] != original[start..end];
        let result = decode_record(&bytes, seq, MAX);
        if changed {
            prop_assert!(
                !matches!(result, Ok(Decoded::Complete(_))),
                "burst at {}..{} went unnoticed: {:?}", start, end, result
            );
        } else {
            let want = Record {
                kind: FrameKind::Record,
                seq,
                synced_upto: seq - lag,
                payload: &payload,
                frame_len: original.len(),
            };
            prop_assert_eq!(result, Ok(Decoded::Complete(want)));
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
    fn random_bytes_never_panic(
        mut bytes in payloads(512),
        seq in seqs(),
        max_len in prop_oneof![Just(MAX), any::<u32>(), 0u32..64],
        marked in any::<bool>(),
    ) {
        if marked && !bytes.is_empty() {
            bytes[0] = if bytes.len() % 2 == 0 { RECORD_MARKER } else { SEAL_MARKER };
        }
        match decode_record(&bytes, seq, max_len) {
            Ok(Decoded::Complete(record)) => {
                // Anything accepted is exactly what the encoder would write.
                prop_assert_eq!(record.seq, seq);
                let mut again = Vec::new();
                encode_frame(&mut again, record.kind, seq, record.synced_upto, record.payload, MAX)
                    .unwrap();
                prop_assert_eq!(&again[..], &bytes[..record.frame_len]);
            }
            Ok(Decoded::Incomplete { needed }) => {
                prop_assert!(needed > 0);
                let first = bytes.first().copied().unwrap_or(RECORD_MARKER);
                prop_assert!(FrameKind::from_marker(first).is_some());
            }
            Err(FormatError::BadMarker { found }) => {
                prop_assert_eq!(Some(found), bytes.first().copied());
                prop_assert!(FrameKind::from_marker(found).is_none());
            }
            Err(_) => prop_assert!(FrameKind::from_marker(bytes[0]).is_some()),
        }
        if let Some(header) = FrameHeader::peek(&bytes) {
            let _ = header.seq_after(seq);
            let _ = header.synced_upto(seq);
            let _ = header.frame_len();
            if let Some((stored, computed)) = header.checksums(&bytes) {
                prop_assert_eq!(stored == computed, wal_format::checksum::verify(
                    &bytes[..usize::try_from(header.frame_len()).unwrap()]
                ));
            }
        }
        match FileHeader::decode(&bytes) {
            Ok(Decoded::Complete(header)) => {
                prop_assert_eq!(&header.encode()[..], &bytes[..header.encoded_len()]);
            }
            Ok(Decoded::Incomplete { needed }) => prop_assert_eq!(needed, header_len_of(&bytes) - bytes.len()),
            Err(_) => {}
        }
        // Also past the magic, where the version and checksum are checked.
        let mut with_magic = MAGIC.to_vec();
        if marked {
            with_magic.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        }
        with_magic.extend_from_slice(&bytes);
        match FileHeader::decode(&with_magic) {
            Ok(Decoded::Complete(header)) => {
                prop_assert_eq!(&header.encode()[..], &with_magic[..header.encoded_len()]);
            }
            Ok(Decoded::Incomplete { needed }) => {
                prop_assert_eq!(needed, header_len_of(&with_magic) - with_magic.len());
            }
            Err(e) => prop_assert!(
                matches!(e, FormatError::UnsupportedVersion { .. } | FormatError::HeaderChecksum { .. }),
                "past the magic, only the version or the checksum can be wrong: {:?}", e
            ),
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

    #[test]
    fn headers_round_trip(
        tag in vec(any::<u8>(), 0..=24),
        app_version in any::<u32>(),
        base_seq in seqs(),
        trailing in payloads(64),
    ) {
        let header = FileHeader::new(&tag, app_version, base_seq);
        let kept = tag.len().min(APP_TAG_LEN);
        prop_assert_eq!(&header.app_tag[..kept], &tag[..kept]);
        prop_assert!(header.app_tag[kept..].iter().all(|&b| b == 0));
        let mut bytes = header.encode().to_vec();
        prop_assert_eq!(bytes.len(), HEADER_LEN);
        prop_assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(header)));
        bytes.extend_from_slice(&trailing);
        prop_assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(header)));
    }

    #[test]
    fn every_strict_prefix_of_a_header_is_incomplete(
        tag in vec(any::<u8>(), 0..=16),
        app_version in any::<u32>(),
        base_seq in any::<u64>(),
    ) {
        let bytes = FileHeader::new(&tag, app_version, base_seq).encode();
        for n in 0..HEADER_LEN {
            // Until the version is present, the shortest known header is
            // the bound.
            let full = if n < APP_TAG_OFFSET { V2_HEADER_LEN } else { HEADER_LEN };
            prop_assert_eq!(
                FileHeader::decode(&bytes[..n]),
                Ok(Decoded::Incomplete { needed: full - n })
            );
        }
    }

    #[test]
    fn every_bit_flip_in_a_header_is_an_error(
        tag in vec(any::<u8>(), 0..=16),
        app_version in any::<u32>(),
        base_seq in any::<u64>(),
    ) {
        let original = FileHeader::new(&tag, app_version, base_seq).encode();
        for bit in 0..HEADER_LEN * 8 {
            let mut bytes = original.clone();
            bytes[bit / 8] ^= 1 << (bit % 8);
            let result = FileHeader::decode(&bytes);
            let ok = match bit / 8 {
                b if b < VERSION_OFFSET => result == Err(FormatError::NotALog),
                // An older known version has a shorter header, whose
                // checksum the version 3 bytes fail.
                b if b < APP_TAG_OFFSET => matches!(
                    result,
                    Err(FormatError::UnsupportedVersion { supported: FORMAT_VERSION, .. }
                        | FormatError::HeaderChecksum { .. })
                ),
                _ => matches!(result, Err(FormatError::HeaderChecksum { .. })),
            };
            prop_assert!(ok, "flip of bit {} gave {:?}", bit, result);
        }
    }

    #[test]
    fn newer_versions_are_refused_whatever_follows(
        version in prop_oneof![(FORMAT_VERSION + 1)..=(FORMAT_VERSION + 4), any::<u32>()],
        rest in payloads(64),
    ) {
        prop_assume!(version > FORMAT_VERSION || version == 0);
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&rest);
        // The version is checked as soon as it is present: before the
        // length (a newer header may be longer or shorter) and the checksum.
        for n in VERSION_OFFSET + 4..=bytes.len() {
            prop_assert_eq!(
                FileHeader::decode(&bytes[..n]),
                Err(FormatError::UnsupportedVersion { found: version, supported: FORMAT_VERSION })
            );
        }
        // Before it is whole, the bytes may still become a valid header.
        for n in MAGIC.len()..VERSION_OFFSET + 4 {
            prop_assert_eq!(
                FileHeader::decode(&bytes[..n]),
                Ok(Decoded::Incomplete { needed: V2_HEADER_LEN - n })
            );
        }
    }

    #[test]
    fn streams_decode_record_after_record(
        base_seq in prop_oneof![0u64..8, (u64::from(u32::MAX) - 8)..(u64::from(u32::MAX) + 8), any::<u64>()],
        records in vec((payloads(200), any::<bool>(), any::<bool>()), 1..40),
        cut in any::<Index>(),
    ) {
        prop_assume!(base_seq.checked_add(records.len() as u64).is_some());
        let mut file = FileHeader::new(b"stream", 2, base_seq).encode().to_vec();
        let mut synced_upto = base_seq;
        let mut expected = Vec::new();
        for (i, (payload, sync_first, in_place)) in records.iter().enumerate() {
            let seq = base_seq + i as u64;
            if *sync_first {
                synced_upto = seq;
            }
            if *in_place {
                let start = begin_record(&mut file);
                file.extend_from_slice(payload);
                finish_record(&mut file, start, seq, synced_upto, MAX).unwrap();
            } else {
                encode_record(&mut file, seq, synced_upto, payload, MAX).unwrap();
            }
            expected.push((seq, synced_upto, payload.as_slice()));
        }

        let Ok(Decoded::Complete(header)) = FileHeader::decode(&file) else {
            panic!("the header must decode");
        };
        prop_assert_eq!(header.base_seq, base_seq);
        let mut at = HEADER_LEN;
        let mut seq = header.base_seq;
        for &(want_seq, want_synced, want_payload) in &expected {
            // The wrong position is noticed.
            let wrong = decode_record(&file[at..], seq.wrapping_add(1), MAX);
            prop_assert!(matches!(wrong, Err(FormatError::SeqMismatch { .. })), "{:?}", wrong);
            let Ok(Decoded::Complete(record)) = decode_record(&file[at..], seq, MAX) else {
                panic!("record {seq} must decode");
            };
            prop_assert_eq!(record.seq, want_seq);
            prop_assert_eq!(record.synced_upto, want_synced);
            prop_assert_eq!(record.payload, want_payload);
            at += record.frame_len;
            seq += 1;
        }
        prop_assert_eq!(at, file.len());
        prop_assert_eq!(
            decode_record(&file[at..], seq, MAX),
            Ok(Decoded::Incomplete { needed: FRAME_OVERHEAD })
        );

        // A torn tail: the records wholly before the cut decode, then the
        // rest is Incomplete, never an error.
        let cut = HEADER_LEN + cut.index(file.len() - HEADER_LEN);
        let torn = &file[..cut];
        let mut at = HEADER_LEN;
        let mut seq = base_seq;
        let mut whole = 0;
        let needed = loop {
            match decode_record(&torn[at..], seq, MAX) {
                Ok(Decoded::Complete(record)) => {
                    at += record.frame_len;
                    seq += 1;
                    whole += 1;
                }
                Ok(Decoded::Incomplete { needed }) => break needed,
                Err(e) => panic!("a torn tail must not look damaged: {e}"),
            }
        };
        let ends: Vec<usize> = expected
            .iter()
            .scan(HEADER_LEN, |end, (_, _, p)| {
                *end += FRAME_OVERHEAD + p.len();
                Some(*end)
            })
            .collect();
        prop_assert_eq!(whole, ends.iter().filter(|&&end| end <= cut).count());
        // `needed` never asks for bytes beyond the cut frame, and is exact
        // once its length is known.
        let cut_frame_end = ends[whole];
        prop_assert!(cut + needed <= cut_frame_end);
        if cut - at >= FRAME_HEADER_LEN {
            prop_assert_eq!(cut + needed, cut_frame_end);
        }
    }
}

/// Every record of `buf` from `seq` on, decoded one frame at a time, and
/// how decoding ended.
fn one_by_one(buf: &[u8], mut seq: u64) -> (Vec<Record<'_>>, Result<usize, FormatError>) {
    let mut at = 0;
    let mut records = Vec::new();
    loop {
        match decode_record(&buf[at..], seq, MAX) {
            Ok(Decoded::Complete(r)) => {
                at += r.frame_len;
                seq = seq.wrapping_add(r.seq_count());
                records.push(r);
            }
            Ok(Decoded::Incomplete { needed }) => return (records, Ok(needed)),
            Err(e) => return (records, Err(e)),
        }
    }
}

/// The same, a run at a time.
fn run_by_run(buf: &[u8], mut seq: u64) -> (Vec<Record<'_>>, Result<usize, FormatError>) {
    let mut at = 0;
    let mut records = Vec::new();
    loop {
        match decode_run(&buf[at..], seq, MAX) {
            Ok(Decoded::Complete(run)) => {
                assert!(!run.is_empty());
                assert_eq!(run.iter().count() as u64, run.len());
                records.extend(run.iter());
                at += run.frame_bytes();
                seq = run.next_seq();
            }
            Ok(Decoded::Incomplete { needed }) => return (records, Ok(needed)),
            Err(e) => return (records, Err(e)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Decoding runs gives exactly what decoding frame by frame gives, on
    /// valid streams and on streams with damage, zeros or a cut anywhere.
    #[test]
    fn runs_decode_exactly_what_single_frames_decode(
        first_seq in seqs(),
        payloads in vec(payloads(300), 0..200),
        damage in vec((any::<Index>(), 1u8..=255), 0..3),
        cut in proptest::option::of(any::<Index>()),
        zeros in proptest::option::of((any::<Index>(), 1usize..64)),
    ) {
        let mut buf = Vec::new();
        let mut seq = first_seq;
        let mut i = 0;
        while i < payloads.len() {
            if i % 7 == 6 {
                // Seals decode like records, in runs too.
                wal_format::encode_seal(&mut buf, seq);
                seq = seq.wrapping_add(1);
                i += 1;
            } else if i % 5 == 4 {
                // Batch frames too: the next few payloads in one frame.
                let n = (payloads[i].len() % 4 + 1).min(payloads.len() - i);
                let mut packer = wal_format::Packer::new(seq, seq.saturating_sub(1), MAX);
                for p in &payloads[i..i + n] {
                    let entry = packer.begin(&mut buf);
                    buf.extend_from_slice(p);
                    packer.end(&mut buf, entry).unwrap();
                }
                packer.finish(&mut buf);
                seq = packer.next_seq();
                i += n;
            } else {
                let p = &payloads[i];
                encode_record(&mut buf, seq, seq.saturating_sub(i as u64 % 3), p, MAX).unwrap();
                seq = seq.wrapping_add(1);
                i += 1;
            }
        }
        if !buf.is_empty() {
            for (at, xor) in &damage {
                let at = at.index(buf.len());
                buf[at] ^= xor;
            }
            if let Some((at, n)) = zeros {
                let at = at.index(buf.len());
                let end = (at + n).min(buf.len());
                buf[at..end].fill(0);
            }
            if let Some(cut) = cut {
                buf.truncate(cut.index(buf.len() + 1));
            }
        }
        let (expected, end) = one_by_one(&buf, first_seq);
        let (got, got_end) = run_by_run(&buf, first_seq);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(got_end, end);
    }
}

/// The length of the header `bytes` begin with, as far as the bytes tell:
/// the shortest known header until the version is present.
fn header_len_of(bytes: &[u8]) -> usize {
    match bytes.get(VERSION_OFFSET..APP_TAG_OFFSET) {
        Some(v) => wal_format::header_len(u32::from_le_bytes(v.try_into().unwrap())),
        None => V2_HEADER_LEN,
    }
}
