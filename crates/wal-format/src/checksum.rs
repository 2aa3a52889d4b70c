//! The checksum shared by the header and the record frames.
//!
//! CRC-32/ISO-HDLC (the zlib/Ethernet CRC computed by `crc32fast`: reflected
//! polynomial `0xEDB88320`, initial value `0xFFFFFFFF`, final xor
//! `0xFFFFFFFF`), then *masked* the way LevelDB masks its CRCs: rotated right by
//! 15 bits and offset by [`CRC_MASK_DELTA`]. Masking keeps a checksum computed
//! over bytes that themselves contain checksums from being trivially related
//! to them, and makes the stored value of an all-zero input non-zero.

use std::sync::LazyLock;

/// The constant added after rotation when masking a CRC (LevelDB's value).
pub const CRC_MASK_DELTA: u32 = 0xa282_ead8;

/// Masks a raw CRC-32 for storage.
#[must_use]
pub const fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(CRC_MASK_DELTA)
}

/// Inverts [`mask`].
#[must_use]
pub const fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(CRC_MASK_DELTA).rotate_left(15)
}

/// A hasher made once. `crc32fast::Hasher::new` detects the CPU's features
/// on every call, which costs about as much as checksumming a 16-byte
/// payload; cloning this one does not.
static HASHER: LazyLock<crc32fast::Hasher> = LazyLock::new(crc32fast::Hasher::new);

/// The masked checksum of the concatenation of `parts`.
#[must_use]
pub fn masked_crc(parts: &[&[u8]]) -> u32 {
    let mut hasher = HASHER.clone();
    for part in parts {
        hasher.update(part);
    }
    mask(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_round_trips() {
        for crc in [0, 1, 0xdead_beef, u32::MAX, CRC_MASK_DELTA] {
            assert_eq!(unmask(mask(crc)), crc);
        }
    }

    #[test]
    fn matches_the_documented_crc() {
        // CRC-32/ISO-HDLC check value for "123456789" is 0xCBF43926.
        assert_eq!(unmask(masked_crc(&[b"1234", b"56789"])), 0xCBF4_3926);
    }
}
