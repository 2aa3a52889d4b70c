//! Property tests of the record frame and the file header: round trips,
//! missing bytes (every strict prefix is `Incomplete`) versus wrong bytes
//! (bit flips, bursts, zero and `0xFF` runs are errors), the length bound,
//! and multi-record streams.
//!
//! This module holds the layout as `FORMAT.md` gives it, the encoder
//! shortcut and the strategies; the properties are in [`frames`] (one
//! frame's encoding, decoding and bounds), [`damage`] (wrong bytes never
//! decode), [`headers`] (the file header) and [`streams`] (records after
//! records, and runs).
//!
//! proptest keeps the seeds of past failures of `properties/<file>.rs` in
//! `tests/proptest-regressions/properties/<file>.txt` (its default for a
//! test binary with a `main.rs`), and replays them first.

mod damage;
mod frames;
mod headers;
mod streams;

use proptest::collection::vec;
use proptest::prelude::*;
use wal_format::{DEFAULT_MAX_RECORD_LEN, MAX_LAG, encode_record};

// The layout as FORMAT.md gives it, written out here: the crate keeps its
// field offsets private.
/// The first byte of a record's frame.
pub const RECORD_MARKER: u8 = 0xA5;
/// The first byte of a seal's frame.
pub const SEAL_MARKER: u8 = 0x5A;
/// Offset of a frame's lag field.
pub const LAG_OFFSET: usize = 1;
/// Offset of a frame's payload length.
pub const LEN_OFFSET: usize = 4;
/// Offset of a frame's `seq_lo`.
pub const SEQ_OFFSET: usize = 8;
/// Offset of the header's format version.
pub const VERSION_OFFSET: usize = 8;
/// Offset of the header's application tag.
pub const APP_TAG_OFFSET: usize = 12;

/// The low 32 bits of a sequence number, as a frame stores them.
pub fn seq_lo(seq: u64) -> u32 {
    (seq & 0xFFFF_FFFF) as u32
}

pub const MAX: u32 = DEFAULT_MAX_RECORD_LEN;
pub const MAX_LAG_U64: u64 = MAX_LAG as u64;

pub fn frame(seq: u64, synced_upto: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = encode_record(&mut out, seq, synced_upto, payload, MAX).unwrap();
    assert_eq!(n, out.len());
    out
}

/// Sequence numbers, biased towards the edges: small, around the 32-bit
/// wrap of `seq_lo`, around `MAX_LAG`, and near `u64::MAX`.
pub fn seqs() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..64,
        any::<u64>(),
        (1u64..4, 0u64..32).prop_map(|(hi, d)| (hi << 32) - 16 + d),
        (MAX_LAG_U64 - 8)..(MAX_LAG_U64 + 8),
        (u64::MAX - 32)..=u64::MAX,
    ]
}

/// A sequence number and a lag below saturation, so that the watermark
/// round-trips exactly.
pub fn seq_and_exact_lag() -> impl Strategy<Value = (u64, u64)> {
    seqs().prop_flat_map(|seq| {
        let most = seq.min(MAX_LAG_U64 - 1);
        (
            Just(seq),
            prop_oneof![0..=most.min(3), 0..=most, (most.saturating_sub(3))..=most],
        )
    })
}

pub fn payloads(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}
