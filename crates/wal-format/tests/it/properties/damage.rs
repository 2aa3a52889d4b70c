//! Wrong bytes never decode as a right frame: every single-bit flip (all of
//! them up to 64-byte payloads, sampled beyond), bursts, runs of zeros and
//! `0xFF`, and random bytes, which never panic either.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use wal_format::{
    Decoded, FORMAT_VERSION, FRAME_HEADER_LEN, FileHeader, FormatError, FrameHeader, FrameKind,
    MAGIC, Record, V2_HEADER_LEN, decode_record, encode_frame,
};

use super::{
    APP_TAG_OFFSET, LEN_OFFSET, MAX, MAX_LAG_U64, RECORD_MARKER, SEAL_MARKER, SEQ_OFFSET,
    VERSION_OFFSET, frame, payloads, seq_and_exact_lag, seq_lo, seqs,
};

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
}

/// The length of the header `bytes` begin with, as far as the bytes tell:
/// the shortest known header until the version is present.
fn header_len_of(bytes: &[u8]) -> usize {
    match bytes.get(VERSION_OFFSET..APP_TAG_OFFSET) {
        Some(v) => wal_format::header_len(u32::from_le_bytes(v.try_into().unwrap())),
        None => V2_HEADER_LEN,
    }
}
