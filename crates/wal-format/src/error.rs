//! The one error type of this crate.

/// Why a run of bytes is not a valid header or record frame.
///
/// Every variant means the bytes are *wrong* (damaged, or not this format).
/// Bytes that are merely *missing* are not an error: decoding reports them
/// as [`Decoded::Incomplete`](crate::Decoded::Incomplete).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes do not begin with this format's magic number.
    #[error("not a log file: it does not start with the log's magic bytes; check the path")]
    NotALog,
    /// The header's stored checksum does not match its contents.
    #[error(
        "log header is damaged (checksum {stored:#010x}, computed {computed:#010x}); restore the file from a backup"
    )]
    HeaderChecksum {
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum computed over the header's bytes.
        computed: u32,
    },
    /// The header names a format version this reader does not know.
    #[error(
        "log format version {found} is not supported by this reader (it reads versions 1 to {supported}); upgrade the library"
    )]
    UnsupportedVersion {
        /// The version found in the header.
        found: u32,
        /// The newest version this reader supports.
        supported: u32,
    },
    /// The first byte of a record frame is not the record marker.
    #[error(
        "record frame starts with byte {found:#04x}, not the record marker: the bytes are damaged"
    )]
    BadMarker {
        /// The byte found where the marker belongs.
        found: u8,
    },
    /// A record's length is larger than the configured bound.
    #[error(
        "record length {len} exceeds the limit of {max} bytes; the frame is damaged, or raise the limit if records this large are intended"
    )]
    TooLarge {
        /// The length the frame claims, or the payload's length when encoding.
        len: u64,
        /// The bound in force.
        max: u32,
    },
    /// A record's sequence number is not the one its position calls for.
    #[error(
        "record sequence number mismatch (expected low bits {expected:#010x}, found {found:#010x}): the bytes are stale or damaged"
    )]
    SeqMismatch {
        /// The low 32 bits of the expected sequence number.
        expected: u32,
        /// The low 32 bits stored in the frame.
        found: u32,
    },
    /// A record's synced watermark lies beyond the record itself.
    #[error("record claims more synced records ({lag} back) than precede it: the frame is damaged")]
    BadWatermark {
        /// The stored lag between the record and its watermark.
        lag: u32,
    },
    /// A record's stored checksum does not match its contents.
    #[error(
        "record checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the bytes are damaged"
    )]
    ChecksumMismatch {
        /// The checksum stored in the frame.
        stored: u32,
        /// The checksum computed over the frame's bytes.
        computed: u32,
    },
    /// A batch frame whose checksum is valid but whose records do not fill
    /// its payload exactly: written by a faulty writer, since damage would
    /// have failed the checksum.
    #[error(
        "batch frame is malformed ({detail}) although its checksum matches: the log was written by a faulty writer; salvage the records before it"
    )]
    BadBatch {
        /// What is wrong with it.
        detail: &'static str,
    },
}
