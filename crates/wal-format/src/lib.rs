//! The on-disk bytes of an append-only log: a checksummed file header and
//! checksummed, length-prefixed record frames. Pure: no I/O, no `unsafe`, no
//! panic on any input.
//!
//! **Who should use this crate:** authors of log readers and writers. To
//! append to and recover a log file you probably want
//! [`wal-io`](https://docs.rs/wal-io); for a persistent insertion-ordered
//! map, [`indexmap_store`](https://docs.rs/indexmap_store).
//!
//! The format's central property is that it tells *missing* bytes from
//! *wrong* bytes. Decoding returns [`Decoded::Incomplete`] for every strict
//! prefix of a valid header or frame (a torn tail candidate) and a
//! [`FormatError`] for bytes that cannot be part of a valid one (damage).
//! Each frame also records its *synced watermark*, so that recovery can prove
//! whether damaged bytes had been made durable (corruption) or not (a torn
//! write).
//!
//! The layout, the checksum and the versioning rule are specified in
//! `FORMAT.md`, included below.
//!
#![doc = include_str!("../FORMAT.md")]

pub mod batch;
pub mod checksum;
mod error;
pub mod frame;
pub mod header;
mod run;

pub use batch::{BATCH_TARGET, Packer, Payloads};
pub use error::FormatError;
pub use frame::{
    CRC_LEN, DEFAULT_MAX_RECORD_LEN, FRAME_HEADER_LEN, FRAME_OVERHEAD, FrameHeader, FrameKind,
    Record, begin_record, decode_record, encode_frame, encode_record, encode_seal, finish_record,
};
pub use header::{FileHeader, HEADER_LEN, V2_HEADER_LEN};
pub use run::{MAX_RUN_BYTES, Run, RunIter, decode_run};

/// The outcome of decoding bytes that were not wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole, valid item.
    Complete(T),
    /// The bytes are a strict prefix of what could be a valid item.
    Incomplete {
        /// How many more bytes are needed at least.
        needed: usize,
    },
}
