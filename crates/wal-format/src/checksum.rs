//! The checksum shared by the header and the record frames.
//!
//! CRC-32/ISO-HDLC (the zlib/Ethernet CRC computed by `crc32fast`: reflected
//! polynomial `0xEDB88320`, final xor `0xFFFFFFFF`), *seeded*: computed as
//! if it continued a CRC whose value was [`CRC_SEED`], the way
//! `crc32fast::Hasher::new_with_initial(CRC_SEED)` and zlib's
//! `crc32(CRC_SEED, ..)` do. The seed makes the checksum of every run of
//! zero bytes non-zero, so a zeroed range with a zeroed checksum never
//! passes.
//!
//! The checksum is stored little-endian right after the bytes it covers.
//! That gives CRC-32's *residue* property: the checksum of covered bytes
//! followed by their stored checksum is always [`CRC_RESIDUE`], whatever the
//! bytes and the seed. A reader verifies a frame with one pass over all of
//! its bytes ([`verify`]) and never has to split off the trailer.
//!
//! The seed *is* the residue. So after one valid frame the checksum is back
//! where it started, and the checksum of any number of valid frames back to
//! back is the residue too: a reader can verify a whole run of frames with
//! one pass ([`crate::decode_run`]), which the CRC computes at the speed of
//! its widest instructions instead of frame by frame. Damage confined to one
//! frame is caught by the run's check exactly when it would be caught by the
//! frame's own (see `FORMAT.md`).

use std::sync::LazyLock;

/// The checksum of any bytes followed by their own stored checksum
/// (CRC-32's residue, independent of the seed).
pub const CRC_RESIDUE: u32 = 0x2144_DF1C;

/// The CRC value the checksum starts from: the residue, so that valid
/// frames chain (see the module docs).
pub const CRC_SEED: u32 = CRC_RESIDUE;

/// A hasher made once. `crc32fast::Hasher::new_with_initial` detects the
/// CPU's features on every call, which costs about as much as checksumming
/// a 16-byte payload; cloning this one does not.
static HASHER: LazyLock<crc32fast::Hasher> =
    LazyLock::new(|| crc32fast::Hasher::new_with_initial(CRC_SEED));

/// The checksum of `bytes`, as stored.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut hasher = HASHER.clone();
    hasher.update(bytes);
    hasher.finalize()
}

/// Whether `bytes` ends with the little-endian checksum of everything before
/// it. `false` for fewer than four bytes.
#[must_use]
pub fn verify(bytes: &[u8]) -> bool {
    bytes.len() >= size_of::<u32>() && checksum(bytes) == CRC_RESIDUE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_crc() {
        // CRC-32/ISO-HDLC check value for "123456789" is 0xCBF43926; seeded
        // with 0, the checksum is exactly that CRC.
        let mut plain = crc32fast::Hasher::new_with_initial(0);
        plain.update(b"123456789");
        assert_eq!(plain.finalize(), 0xCBF4_3926);
        // Seeded, it is the CRC continued from the seed.
        let mut continued = crc32fast::Hasher::new_with_initial(CRC_SEED);
        continued.update(b"123456789");
        assert_eq!(checksum(b"123456789"), continued.finalize());
        assert_ne!(checksum(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn residue_holds_for_any_bytes() {
        for len in 0..64_u8 {
            let mut bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ len).collect();
            let crc = checksum(&bytes);
            bytes.extend_from_slice(&crc.to_le_bytes());
            assert!(verify(&bytes), "length {len}");
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            assert!(!verify(&bytes), "length {len}, flipped");
        }
        assert!(!verify(&[]));
        assert!(!verify(&[0x1c, 0xdf, 0x44]));
    }

    #[test]
    fn valid_frames_chain() {
        let mut run = Vec::new();
        for len in 0..40_u8 {
            let start = run.len();
            run.extend((0..len).map(|i| i ^ 0x5a));
            let crc = checksum(&run[start..]);
            run.extend_from_slice(&crc.to_le_bytes());
            assert!(verify(&run), "{len} frames");
        }
        run[100] ^= 0x10;
        assert!(!verify(&run));
    }

    #[test]
    fn zero_runs_never_verify() {
        for len in 0..=4096 {
            assert_ne!(checksum(&vec![0; len]), 0, "{len} zero bytes");
        }
    }
}
