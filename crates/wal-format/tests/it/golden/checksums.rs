//! The checksums against the CRC `FORMAT.md` defines, computed bit by bit
//! ([`reference_crc32`]): the stored values, the residue, and the
//! intermediate values the document quotes.

use super::{
    ALPHA_HEX, BATCH_HEX, BETA_HEX, EMPTY_HEX, HEADER_HEX, HEADER_V1_HEX, HEADER_V2_HEX,
    LAGGED_HEX, SATURATED_HEX, SEED, example_file, reference_crc32, stored_u32, unhex,
};
use wal_format::HEADER_LEN;

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
