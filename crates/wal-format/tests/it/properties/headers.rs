//! The file header: round trips, every strict prefix incomplete, every bit
//! flip an error, and newer versions refused whatever follows.

use proptest::collection::vec;
use proptest::prelude::*;
use wal_format::{
    APP_TAG_LEN, Decoded, FORMAT_VERSION, FileHeader, FormatError, HEADER_LEN, MAGIC, V2_HEADER_LEN,
};

use super::{APP_TAG_OFFSET, VERSION_OFFSET, payloads, seqs};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

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
}
