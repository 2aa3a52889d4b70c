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
// No panic on any input: every read of the bytes goes through `get` or a
// checked helper and returns a typed error (or `Incomplete`) instead.
// Tests may index and unwrap.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

// The modules in layers, from the ground floor up; each uses only the
// layers below it, so data flows bytes -> frames -> records with no arrow
// back up:
//   bytes, error, checksum  `Decoded`, integers from bytes, the error, the CRC
//   header                  the file header
//   frame_header            a frame's header: its layout and its one check
//   batch                   a batch frame's payload, read side
//   frame                   whole frames: encoding, decoding one
//   run                     consecutive frames verified in one pass
//   packer                  packing records into frames, write side
//   seal                    seals with a note, and finding one at a file's end
mod batch;
mod bytes;
pub mod checksum;
mod error;
mod frame;
mod frame_header;
mod header;
mod packer;
mod run;
mod seal;

pub use batch::{COUNT_LEN, ENTRY_OVERHEAD, Payloads};
pub use bytes::Decoded;
pub use error::FormatError;
pub use frame::{
    Record, begin_record, decode_record, encode_frame, encode_record, encode_seal, finish_record,
};
pub use frame_header::{
    CRC_LEN, DEFAULT_MAX_RECORD_LEN, FRAME_HEADER_LEN, FRAME_OVERHEAD, FrameHeader, FrameKind,
    MAX_LAG, peek_len,
};
pub use header::{
    APP_TAG_LEN, FIRST_BATCH_VERSION, FIRST_VOUCHED_VERSION, FORMAT_VERSION, FileHeader,
    HEADER_LEN, MAGIC, V2_HEADER_LEN, header_len,
};
pub use packer::{BATCH_TARGET, Entry, Packer};
pub use run::{Run, RunIter, decode_run};
pub use seal::{MAX_SEAL_NOTE, encode_seal_with_note, trailing_seal_note};
