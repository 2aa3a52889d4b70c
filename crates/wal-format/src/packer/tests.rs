//! Tests of the packer: how records are laid out in frames, read back with
//! the decoder.

use super::*;
use crate::bytes::Decoded;
use crate::frame::{Record, decode_record, encode_record};
use crate::frame_header::{DEFAULT_MAX_RECORD_LEN, FRAME_OVERHEAD};

const MAX: u32 = DEFAULT_MAX_RECORD_LEN;

fn pack(first_seq: u64, payloads: &[&[u8]], max_len: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut packer = Packer::new(first_seq, first_seq, max_len);
    for (i, p) in payloads.iter().enumerate() {
        let entry = packer.begin(&mut out);
        out.extend_from_slice(p);
        assert_eq!(packer.end(&mut out, entry), Ok(first_seq + i as u64));
    }
    packer.finish(&mut out);
    out
}

/// Every frame in `bytes`, decoded one by one from `seq`.
fn frames(bytes: &[u8], mut seq: u64, max_len: u32) -> Vec<Record<'_>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        let Ok(Decoded::Complete(r)) = decode_record(&bytes[at..], seq, max_len) else {
            panic!("frame at {at} must decode");
        };
        at += r.frame_len;
        seq += r.seq_count();
        out.push(r);
    }
    out
}

fn all_payloads<'a>(frames: &[Record<'a>]) -> Vec<&'a [u8]> {
    frames.iter().flat_map(Record::payloads).collect()
}

#[test]
fn push_packs_exactly_as_begin_and_end_do() {
    let big = vec![1; BATCH_TARGET];
    let payloads: Vec<&[u8]> = vec![b"a", b"", &big, b"bb", &[9; 70], &big, b"c"];
    for max_len in [MAX, 100, 70] {
        let fits: Vec<&[u8]> = payloads
            .iter()
            .copied()
            .filter(|p| p.len() <= max_len as usize)
            .collect();
        let mut out = Vec::new();
        let mut packer = Packer::new(3, 3, max_len);
        for (i, p) in fits.iter().enumerate() {
            assert_eq!(packer.push(&mut out, p), Ok(3 + i as u64));
        }
        packer.finish(&mut out);
        assert_eq!(out, pack(3, &fits, max_len), "bound {max_len}");
    }
}

#[test]
fn a_lone_record_is_a_record_frame() {
    let bytes = pack(9, &[b"only"], MAX);
    let mut one = Vec::new();
    encode_record(&mut one, 9, 9, b"only", MAX).unwrap();
    assert_eq!(bytes, one);
}

#[test]
fn several_records_share_one_frame_and_come_back_in_order() {
    let payloads: [&[u8]; 4] = [b"a", b"", b"ccc", &[7; 300]];
    let bytes = pack(40, &payloads, MAX);
    let decoded = frames(&bytes, 40, MAX);
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].kind, FrameKind::Batch);
    assert_eq!((decoded[0].seq, decoded[0].seq_count()), (40, 4));
    assert_eq!(all_payloads(&decoded), payloads);
    let framing = FRAME_OVERHEAD + COUNT_LEN + 4 * ENTRY_OVERHEAD;
    assert_eq!(bytes.len(), framing + 304);
}

#[test]
fn frames_close_near_the_target_and_big_records_stand_alone() {
    let small = [3u8; 1000];
    let big = vec![4u8; BATCH_TARGET + 1];
    let mut payloads: Vec<&[u8]> = vec![&small; 150];
    payloads.insert(70, &big);
    let bytes = pack(0, &payloads, MAX);
    let decoded = frames(&bytes, 0, MAX);
    assert_eq!(all_payloads(&decoded), payloads);
    // A frame closes at the first record that starts at or past the
    // target, so it exceeds the target by at most one record.
    for f in &decoded {
        assert!(f.payload.len() < BATCH_TARGET + big.len() + 2 * ENTRY_OVERHEAD + COUNT_LEN);
    }
    assert!(
        decoded.len() >= 150 * 1000 / BATCH_TARGET,
        "{}",
        decoded.len()
    );
}

#[test]
fn abandoned_and_oversized_records_leave_no_trace() {
    let mut out = Vec::new();
    let mut packer = Packer::new(0, 0, 10);
    let e = packer.begin(&mut out);
    out.extend_from_slice(b"first");
    packer.end(&mut out, e).unwrap();
    let e = packer.begin(&mut out);
    out.extend_from_slice(b"half-encoded");
    packer.abandon(&mut out, e);
    let e = packer.begin(&mut out);
    out.extend_from_slice(&[0; 11]);
    assert_eq!(
        packer.end(&mut out, e),
        Err(FormatError::TooLarge { len: 11, max: 10 })
    );
    let e = packer.begin(&mut out);
    out.extend_from_slice(b"second");
    assert_eq!(packer.end(&mut out, e), Ok(1));
    packer.finish(&mut out);
    assert_eq!(
        all_payloads(&frames(&out, 0, 10)),
        [b"first" as &[u8], b"second"]
    );
    // A lone record abandoned leaves nothing at all.
    let mut out = Vec::new();
    let mut packer = Packer::new(0, 0, 10);
    let e = packer.begin(&mut out);
    out.push(1);
    packer.abandon(&mut out, e);
    packer.finish(&mut out);
    assert!(out.is_empty());
}

#[test]
fn a_batch_never_exceeds_the_length_bound() {
    // Bound 100: two 40-byte records fit one batch (8 + 4 + 40 + 4 + 40
    // = 88 payload bytes), a third does not and opens a frame of its own.
    let rec = [5u8; 40];
    let bytes = pack(0, &[&rec, &rec, &rec, &rec], 100);
    let decoded = frames(&bytes, 0, 100);
    let kinds: Vec<_> = decoded.iter().map(|f| (f.kind, f.seq)).collect();
    assert_eq!(
        kinds,
        [(FrameKind::Batch, 0), (FrameKind::Batch, 2)],
        "the third record starts a new frame, which the fourth joins"
    );
    assert_eq!(all_payloads(&decoded), [&rec[..]; 4]);
    // A record that fits the bound alone, after a smaller one.
    let big = [6u8; 100];
    let decoded_bytes = pack(0, &[b"x", &big], 100);
    let decoded = frames(&decoded_bytes, 0, 100);
    assert_eq!(
        decoded.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [FrameKind::Batch, FrameKind::Record]
    );
    assert_eq!(all_payloads(&decoded), [b"x" as &[u8], &big]);
}

#[test]
fn without_batches_every_record_has_its_own_frame() {
    let mut out = Vec::new();
    let mut packer = Packer::new(5, 5, MAX).without_batches();
    for p in [b"a", b"b"] {
        let e = packer.begin(&mut out);
        out.extend_from_slice(p);
        packer.end(&mut out, e).unwrap();
    }
    packer.finish(&mut out);
    let decoded = frames(&out, 5, MAX);
    assert_eq!(
        decoded.iter().map(|f| (f.kind, f.seq)).collect::<Vec<_>>(),
        [(FrameKind::Record, 5), (FrameKind::Record, 6)]
    );
}
