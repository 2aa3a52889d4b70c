//! The file header: what makes a file a log, and which log it is.
//!
//! ```text
//! offset  0        8          12                28            32          40       44
//!         +--------+----------+-----------------+-------------+-----------+--------+
//!         | magic  | version  | app_tag         | app_version | base_seq  | crc    |
//!         | 8 B    | u32 LE   | 16 B            | u32 LE      | u64 LE    | u32 LE |
//!         +--------+----------+-----------------+-------------+-----------+--------+
//! ```
//!
//! `crc` is the [checksum](crate::checksum) of bytes `0..HEADER_CRC_OFFSET`.
//! The offsets below are derived from the field sizes, never typed in.

use crate::checksum::checksum;
use crate::{Decoded, FormatError};

/// The first eight bytes of every log: a high byte (so the file is not
/// mistaken for text), `WAL`, and CR LF SUB LF to catch line-ending and
/// 7-bit transfers, as PNG does.
pub const MAGIC: [u8; 8] = [0x89, b'W', b'A', b'L', b'\r', b'\n', 0x1a, b'\n'];
/// The format version this crate writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;
/// The first format version whose files may hold batch frames (see
/// [`crate::batch`]). Version 1 files hold record and seal frames only,
/// and a writer appending to one must keep it so: a version 1 reader would
/// take a batch frame for damage.
pub const FIRST_BATCH_VERSION: u32 = 2;
/// Size of the application tag.
pub const APP_TAG_LEN: usize = 16;

/// Offset of the magic number.
pub const MAGIC_OFFSET: usize = 0;
/// Offset of the format version.
pub const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// Offset of the application tag.
pub const APP_TAG_OFFSET: usize = VERSION_OFFSET + size_of::<u32>();
/// Offset of the application's own schema version.
pub const APP_VERSION_OFFSET: usize = APP_TAG_OFFSET + APP_TAG_LEN;
/// Offset of the sequence number of the file's first record.
pub const BASE_SEQ_OFFSET: usize = APP_VERSION_OFFSET + size_of::<u32>();
/// Offset of the header checksum.
pub const HEADER_CRC_OFFSET: usize = BASE_SEQ_OFFSET + size_of::<u64>();
/// Total size of the header; the first record frame starts here.
pub const HEADER_LEN: usize = HEADER_CRC_OFFSET + size_of::<u32>();

/// The decoded file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileHeader {
    /// The format version: [`FORMAT_VERSION`] for a new header, the stored
    /// one for a decoded header.
    pub version: u32,
    /// Identifies the application and its payload encoding (for example the
    /// codec), zero-padded. Readers compare it before trusting any payload.
    pub app_tag: [u8; APP_TAG_LEN],
    /// The application's own schema version.
    pub app_version: u32,
    /// Sequence number of the first record in the file.
    pub base_seq: u64,
}

impl FileHeader {
    /// A header for `app_tag` (at most [`APP_TAG_LEN`] bytes, zero-padded;
    /// longer tags are cut), `app_version` and `base_seq`.
    #[must_use]
    pub fn new(app_tag: &[u8], app_version: u32, base_seq: u64) -> Self {
        let mut tag = [0; APP_TAG_LEN];
        let n = app_tag.len().min(APP_TAG_LEN);
        tag[..n].copy_from_slice(&app_tag[..n]);
        Self {
            version: FORMAT_VERSION,
            app_tag: tag,
            app_version,
            base_seq,
        }
    }

    /// Encodes the header, checksum included.
    #[must_use]
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[MAGIC_OFFSET..VERSION_OFFSET].copy_from_slice(&MAGIC);
        out[VERSION_OFFSET..APP_TAG_OFFSET].copy_from_slice(&self.version.to_le_bytes());
        out[APP_TAG_OFFSET..APP_VERSION_OFFSET].copy_from_slice(&self.app_tag);
        out[APP_VERSION_OFFSET..BASE_SEQ_OFFSET].copy_from_slice(&self.app_version.to_le_bytes());
        out[BASE_SEQ_OFFSET..HEADER_CRC_OFFSET].copy_from_slice(&self.base_seq.to_le_bytes());
        let crc = checksum(&out[..HEADER_CRC_OFFSET]);
        out[HEADER_CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a header from the start of `buf`.
    ///
    /// - `Ok(Decoded::Complete(header))`: a valid header.
    /// - `Ok(Decoded::Incomplete { needed })`: `buf` is shorter than a header
    ///   and could be the beginning of one (it is empty, or it starts with the
    ///   magic or a prefix of it, and any version present is one this reader
    ///   knows): a creation that was cut short.
    /// - `Err(FormatError::NotALog)`: the bytes are not a log header at all.
    /// - `Err(..)`: a damaged header, or an unsupported version.
    pub fn decode(buf: &[u8]) -> Result<Decoded<Self>, FormatError> {
        let magic_seen = buf.len().min(MAGIC.len());
        if buf[..magic_seen] != MAGIC[..magic_seen] {
            return Err(FormatError::NotALog);
        }
        if let Some(version) = read_u32(buf, VERSION_OFFSET)
            && (version == 0 || version > FORMAT_VERSION)
        {
            return Err(FormatError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if buf.len() < HEADER_LEN {
            return Ok(Decoded::Incomplete {
                needed: HEADER_LEN - buf.len(),
            });
        }
        let stored = read_u32(buf, HEADER_CRC_OFFSET).unwrap_or_default();
        let computed = checksum(&buf[..HEADER_CRC_OFFSET]);
        if stored != computed {
            return Err(FormatError::HeaderChecksum { stored, computed });
        }
        let mut app_tag = [0; APP_TAG_LEN];
        app_tag.copy_from_slice(&buf[APP_TAG_OFFSET..APP_VERSION_OFFSET]);
        let header = Self {
            version: read_u32(buf, VERSION_OFFSET).unwrap_or_default(),
            app_tag,
            app_version: read_u32(buf, APP_VERSION_OFFSET).unwrap_or_default(),
            base_seq: read_u64(buf, BASE_SEQ_OFFSET).unwrap_or_default(),
        };
        Ok(Decoded::Complete(header))
    }

    /// Whether frames appended to a file with this header may be batch
    /// frames: its version is [`FIRST_BATCH_VERSION`] or later.
    #[must_use]
    pub fn allows_batches(&self) -> bool {
        self.version >= FIRST_BATCH_VERSION
    }

    /// The application tag with its zero padding removed.
    #[must_use]
    pub fn app_tag_trimmed(&self) -> &[u8] {
        let end = self
            .app_tag
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        &self.app_tag[..end]
    }
}

/// Reads a little-endian `u32` at `offset`, if all four bytes are present.
pub(crate) fn read_u32(buf: &[u8], offset: usize) -> Option<u32> {
    let bytes = buf.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads a little-endian `u64` at `offset`, if all eight bytes are present.
pub(crate) fn read_u64(buf: &[u8], offset: usize) -> Option<u64> {
    let bytes = buf.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FileHeader {
        FileHeader::new(b"test/app", 3, 42)
    }

    #[test]
    fn round_trips() {
        let bytes = sample().encode();
        assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(sample())));
        assert_eq!(sample().app_tag_trimmed(), b"test/app");
    }

    #[test]
    fn every_strict_prefix_is_incomplete() {
        let bytes = sample().encode();
        for n in 0..HEADER_LEN {
            assert_eq!(
                FileHeader::decode(&bytes[..n]),
                Ok(Decoded::Incomplete {
                    needed: HEADER_LEN - n
                }),
                "prefix of {n} bytes"
            );
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
        let bytes = sample().encode();
        for bit in 0..HEADER_LEN * 8 {
            let mut damaged = bytes;
            damaged[bit / 8] ^= 1 << (bit % 8);
            let result = FileHeader::decode(&damaged);
            assert!(
                result.is_err(),
                "flip of bit {bit} went unnoticed: {result:?}"
            );
        }
    }

    #[test]
    fn newer_version_is_refused() {
        let mut bytes = sample().encode();
        bytes[VERSION_OFFSET..APP_TAG_OFFSET].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(
            FileHeader::decode(&bytes),
            Err(FormatError::UnsupportedVersion {
                found: 3,
                supported: 2
            })
        );
    }

    #[test]
    fn version_1_files_are_read_and_keep_their_version() {
        let v1 = FileHeader {
            version: 1,
            ..sample()
        };
        let bytes = v1.encode();
        assert_eq!(bytes[VERSION_OFFSET], 1);
        assert_eq!(FileHeader::decode(&bytes), Ok(Decoded::Complete(v1)));
        assert!(!v1.allows_batches());
        assert!(sample().allows_batches());
    }
}
