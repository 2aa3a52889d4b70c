//! The file header: what makes a file a log, and which log it is.
//!
//! Version 3 (written by this crate):
//!
//! ```text
//! offset  0        8          12                28            32          40         48            56       60
//!         +--------+----------+-----------------+-------------+-----------+----------+-------------+--------+
//!         | magic  | version  | app_tag         | app_version | base_seq  | file_id  | vouched_len | crc    |
//!         | 8 B    | u32 LE   | 16 B            | u32 LE      | u64 LE    | u64 LE   | u64 LE      | u32 LE |
//!         +--------+----------+-----------------+-------------+-----------+----------+-------------+--------+
//! ```
//!
//! Versions 1 and 2 (still read) end after `base_seq` with the `crc` at 40:
//! a 44-byte header with no `file_id` or `vouched_len`.
//!
//! `crc` is the [checksum](crate::checksum) of every header byte before it.
//! The offsets below are derived from the field sizes, never typed in, and
//! are private: readers outside this crate go through [`FileHeader`].

use crate::FormatError;
use crate::bytes::{Decoded, read_array, read_u32, read_u64};
use crate::checksum::checksum;

/// The first eight bytes of every log: a high byte (so the file is not
/// mistaken for text), `WAL`, and CR LF SUB LF to catch line-ending and
/// 7-bit transfers, as PNG does. Public so that a tool can recognise a log,
/// even one whose header was cut short, by its first bytes.
pub const MAGIC: [u8; 8] = [0x89, b'W', b'A', b'L', b'\r', b'\n', 0x1a, b'\n'];
/// The format version this crate writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 3;
/// The first format version whose files may hold batch frames (see
/// [batch frames](crate#batch-frames)). Version 1 files hold record and seal frames only,
/// and a writer appending to one must keep it so: a version 1 reader would
/// take a batch frame for damage.
pub const FIRST_BATCH_VERSION: u32 = 2;
/// The first format version whose header carries `file_id` and
/// `vouched_len`.
pub const FIRST_VOUCHED_VERSION: u32 = 3;
/// Size of the application tag.
pub const APP_TAG_LEN: usize = 16;

/// Offset of the magic number.
const MAGIC_OFFSET: usize = 0;
/// Offset of the format version.
const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// Offset of the application tag.
const APP_TAG_OFFSET: usize = VERSION_OFFSET + size_of::<u32>();
/// Offset of the application's own schema version.
const APP_VERSION_OFFSET: usize = APP_TAG_OFFSET + APP_TAG_LEN;
/// Offset of the sequence number of the file's first record.
const BASE_SEQ_OFFSET: usize = APP_VERSION_OFFSET + size_of::<u32>();
/// Offset of the file's identity (version 3 on).
const FILE_ID_OFFSET: usize = BASE_SEQ_OFFSET + size_of::<u64>();
/// Offset of the vouched length (version 3 on).
const VOUCHED_LEN_OFFSET: usize = FILE_ID_OFFSET + size_of::<u64>();
/// Offset of the header checksum (version 3 on).
const HEADER_CRC_OFFSET: usize = VOUCHED_LEN_OFFSET + size_of::<u64>();
/// Total size of a version 3 header; the first frame starts here.
pub const HEADER_LEN: usize = HEADER_CRC_OFFSET + size_of::<u32>();
/// Offset of the header checksum in a version 1 or 2 header.
const V2_HEADER_CRC_OFFSET: usize = BASE_SEQ_OFFSET + size_of::<u64>();
/// Total size of a version 1 or 2 header.
pub const V2_HEADER_LEN: usize = V2_HEADER_CRC_OFFSET + size_of::<u32>();

/// The size of the header of a file of format `version` (a known one).
#[must_use]
pub const fn header_len(version: u32) -> usize {
    if version >= FIRST_VOUCHED_VERSION {
        HEADER_LEN
    } else {
        V2_HEADER_LEN
    }
}

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
    /// Identifies this file among all logs: chosen at random when the file
    /// is written from scratch (created or rewritten), so that a record of
    /// what was durable kept elsewhere (a sidecar file) can tell whether it
    /// describes this file. `0` means none (version 1 and 2 files).
    pub file_id: u64,
    /// Where the last frame holding records ends, in bytes from the start
    /// of the file, as its writer wrote and synced it from scratch (a
    /// rewrite's output, before its closing seal; the header's length for
    /// a new, empty log): a reader that finds the valid records ending
    /// before it knows synced records were lost. `0` vouches for nothing
    /// (version 1 and 2 files).
    pub vouched_len: u64,
}

impl FileHeader {
    /// A header of the current version for `app_tag` (at most
    /// [`APP_TAG_LEN`] bytes, zero-padded; longer tags are cut),
    /// `app_version` and `base_seq`, with `file_id` and `vouched_len` 0
    /// (set them with [`with_file_id`](Self::with_file_id) and
    /// [`with_vouched_len`](Self::with_vouched_len)).
    #[must_use]
    pub fn new(app_tag: &[u8], app_version: u32, base_seq: u64) -> Self {
        let mut tag = [0; APP_TAG_LEN];
        for (to, from) in tag.iter_mut().zip(app_tag) {
            *to = *from;
        }
        Self {
            version: FORMAT_VERSION,
            app_tag: tag,
            app_version,
            base_seq,
            file_id: 0,
            vouched_len: 0,
        }
    }

    /// The same header with `file_id`.
    #[must_use]
    pub fn with_file_id(mut self, file_id: u64) -> Self {
        self.file_id = file_id;
        self
    }

    /// The same header with `vouched_len`.
    #[must_use]
    pub fn with_vouched_len(mut self, vouched_len: u64) -> Self {
        self.vouched_len = vouched_len;
        self
    }

    /// The size of this header's encoding: [`HEADER_LEN`] for version 3,
    /// [`V2_HEADER_LEN`] for versions 1 and 2.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        header_len(self.version)
    }

    /// Encodes the header in the layout of its `version`, checksum
    /// included. The fields a version 1 or 2 header lacks are not written.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let crc_at = self.encoded_len() - size_of::<u32>();
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.app_tag);
        out.extend_from_slice(&self.app_version.to_le_bytes());
        out.extend_from_slice(&self.base_seq.to_le_bytes());
        if self.version >= FIRST_VOUCHED_VERSION {
            out.extend_from_slice(&self.file_id.to_le_bytes());
            out.extend_from_slice(&self.vouched_len.to_le_bytes());
        }
        debug_assert_eq!(out.len(), crc_at);
        let crc = checksum(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a header from the start of `buf`.
    ///
    /// - `Ok(Decoded::Complete(header))`: a valid header; it is
    ///   [`encoded_len`](Self::encoded_len) bytes long.
    /// - `Ok(Decoded::Incomplete { needed })`: `buf` is shorter than a header
    ///   and could be the beginning of one (it is empty, or it starts with the
    ///   magic or a prefix of it, and any version present is one this reader
    ///   knows): a creation that was cut short. Until the version is
    ///   present, `needed` counts up to the shortest header a known version
    ///   has.
    /// - `Err(FormatError::NotALog)`: the bytes are not a log header at all.
    /// - `Err(..)`: a damaged header, or an unsupported version.
    pub fn decode(buf: &[u8]) -> Result<Decoded<Self>, FormatError> {
        if buf.iter().zip(&MAGIC).any(|(byte, magic)| byte != magic) {
            return Err(FormatError::NotALog);
        }
        let Some(version) = read_u32(buf, VERSION_OFFSET) else {
            return Ok(Decoded::Incomplete {
                needed: V2_HEADER_LEN.saturating_sub(buf.len()),
            });
        };
        if version == 0 || version > FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let len = header_len(version);
        let Some(head) = buf.get(..len) else {
            return Ok(Decoded::Incomplete {
                needed: len.saturating_sub(buf.len()),
            });
        };
        let (covered, stored) = head.split_last_chunk().map_or((head, 0), |(covered, crc)| {
            (covered, u32::from_le_bytes(*crc))
        });
        let computed = checksum(covered);
        if stored != computed {
            return Err(FormatError::HeaderChecksum { stored, computed });
        }
        let app_tag = read_array(head, APP_TAG_OFFSET).unwrap_or_default();
        let vouched = version >= FIRST_VOUCHED_VERSION;
        let header = Self {
            version,
            app_tag,
            app_version: read_u32(head, APP_VERSION_OFFSET).unwrap_or_default(),
            base_seq: read_u64(head, BASE_SEQ_OFFSET).unwrap_or_default(),
            file_id: if vouched {
                read_u64(head, FILE_ID_OFFSET).unwrap_or_default()
            } else {
                0
            },
            vouched_len: if vouched {
                read_u64(head, VOUCHED_LEN_OFFSET).unwrap_or_default()
            } else {
                0
            },
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
        self.app_tag.get(..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
