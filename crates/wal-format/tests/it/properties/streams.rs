//! Streams of frames: a file decoded record after record (a torn tail is
//! `Incomplete`, never an error), and runs decoding exactly what single
//! frames decode.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use wal_format::{
    Decoded, FRAME_HEADER_LEN, FRAME_OVERHEAD, FileHeader, FormatError, HEADER_LEN, Record,
    begin_record, decode_record, decode_run, encode_record, finish_record,
};

use super::{MAX, payloads, seqs};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn streams_decode_record_after_record(
        base_seq in prop_oneof![0u64..8, (u64::from(u32::MAX) - 8)..(u64::from(u32::MAX) + 8), any::<u64>()],
        records in vec((payloads(200), any::<bool>(), any::<bool>()), 1..40),
        cut in any::<Index>(),
    ) {
        prop_assume!(base_seq.checked_add(records.len() as u64).is_some());
        let mut file = FileHeader::new(b"stream", 2, base_seq).encode().to_vec();
        let mut synced_upto = base_seq;
        let mut expected = Vec::new();
        for (i, (payload, sync_first, in_place)) in records.iter().enumerate() {
            let seq = base_seq + i as u64;
            if *sync_first {
                synced_upto = seq;
            }
            if *in_place {
                let start = begin_record(&mut file);
                file.extend_from_slice(payload);
                finish_record(&mut file, start, seq, synced_upto, MAX).unwrap();
            } else {
                encode_record(&mut file, seq, synced_upto, payload, MAX).unwrap();
            }
            expected.push((seq, synced_upto, payload.as_slice()));
        }

        let Ok(Decoded::Complete(header)) = FileHeader::decode(&file) else {
            panic!("the header must decode");
        };
        prop_assert_eq!(header.base_seq, base_seq);
        let mut at = HEADER_LEN;
        let mut seq = header.base_seq;
        for &(want_seq, want_synced, want_payload) in &expected {
            // The wrong position is noticed.
            let wrong = decode_record(&file[at..], seq.wrapping_add(1), MAX);
            prop_assert!(matches!(wrong, Err(FormatError::SeqMismatch { .. })), "{:?}", wrong);
            let Ok(Decoded::Complete(record)) = decode_record(&file[at..], seq, MAX) else {
                panic!("record {seq} must decode");
            };
            prop_assert_eq!(record.seq, want_seq);
            prop_assert_eq!(record.synced_upto, want_synced);
            prop_assert_eq!(record.payload, want_payload);
            at += record.frame_len;
            seq += 1;
        }
        prop_assert_eq!(at, file.len());
        prop_assert_eq!(
            decode_record(&file[at..], seq, MAX),
            Ok(Decoded::Incomplete { needed: FRAME_OVERHEAD })
        );

        // A torn tail: the records wholly before the cut decode, then the
        // rest is Incomplete, never an error.
        let cut = HEADER_LEN + cut.index(file.len() - HEADER_LEN);
        let torn = &file[..cut];
        let mut at = HEADER_LEN;
        let mut seq = base_seq;
        let mut whole = 0;
        let needed = loop {
            match decode_record(&torn[at..], seq, MAX) {
                Ok(Decoded::Complete(record)) => {
                    at += record.frame_len;
                    seq += 1;
                    whole += 1;
                }
                Ok(Decoded::Incomplete { needed }) => break needed,
                Err(e) => panic!("a torn tail must not look damaged: {e}"),
            }
        };
        let ends: Vec<usize> = expected
            .iter()
            .scan(HEADER_LEN, |end, (_, _, p)| {
                *end += FRAME_OVERHEAD + p.len();
                Some(*end)
            })
            .collect();
        prop_assert_eq!(whole, ends.iter().filter(|&&end| end <= cut).count());
        // `needed` never asks for bytes beyond the cut frame, and is exact
        // once its length is known.
        let cut_frame_end = ends[whole];
        prop_assert!(cut + needed <= cut_frame_end);
        if cut - at >= FRAME_HEADER_LEN {
            prop_assert_eq!(cut + needed, cut_frame_end);
        }
    }
}

/// Every record of `buf` from `seq` on, decoded one frame at a time, and
/// how decoding ended.
fn one_by_one(buf: &[u8], mut seq: u64) -> (Vec<Record<'_>>, Result<usize, FormatError>) {
    let mut at = 0;
    let mut records = Vec::new();
    loop {
        match decode_record(&buf[at..], seq, MAX) {
            Ok(Decoded::Complete(r)) => {
                at += r.frame_len;
                seq = seq.wrapping_add(r.seq_count());
                records.push(r);
            }
            Ok(Decoded::Incomplete { needed }) => return (records, Ok(needed)),
            Err(e) => return (records, Err(e)),
        }
    }
}

/// The same, a run at a time.
fn run_by_run(buf: &[u8], mut seq: u64) -> (Vec<Record<'_>>, Result<usize, FormatError>) {
    let mut at = 0;
    let mut records = Vec::new();
    loop {
        match decode_run(&buf[at..], seq, MAX) {
            Ok(Decoded::Complete(run)) => {
                assert!(!run.is_empty());
                assert_eq!(run.iter().count() as u64, run.len());
                records.extend(run.iter());
                at += run.frame_bytes();
                seq = run.next_seq();
            }
            Ok(Decoded::Incomplete { needed }) => return (records, Ok(needed)),
            Err(e) => return (records, Err(e)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Decoding runs gives exactly what decoding frame by frame gives, on
    /// valid streams and on streams with damage, zeros or a cut anywhere.
    #[test]
    fn runs_decode_exactly_what_single_frames_decode(
        first_seq in seqs(),
        payloads in vec(payloads(300), 0..200),
        damage in vec((any::<Index>(), 1u8..=255), 0..3),
        cut in proptest::option::of(any::<Index>()),
        zeros in proptest::option::of((any::<Index>(), 1usize..64)),
    ) {
        let mut buf = Vec::new();
        let mut seq = first_seq;
        let mut i = 0;
        while i < payloads.len() {
            if i % 7 == 6 {
                // Seals decode like records, in runs too.
                wal_format::encode_seal(&mut buf, seq);
                seq = seq.wrapping_add(1);
                i += 1;
            } else if i % 5 == 4 {
                // Batch frames too: the next few payloads in one frame.
                let n = (payloads[i].len() % 4 + 1).min(payloads.len() - i);
                let mut packer = wal_format::Packer::new(seq, seq.saturating_sub(1), MAX);
                for p in &payloads[i..i + n] {
                    let entry = packer.begin(&mut buf);
                    buf.extend_from_slice(p);
                    packer.end(&mut buf, entry).unwrap();
                }
                packer.finish(&mut buf);
                seq = packer.next_seq();
                i += n;
            } else {
                let p = &payloads[i];
                encode_record(&mut buf, seq, seq.saturating_sub(i as u64 % 3), p, MAX).unwrap();
                seq = seq.wrapping_add(1);
                i += 1;
            }
        }
        if !buf.is_empty() {
            for (at, xor) in &damage {
                let at = at.index(buf.len());
                buf[at] ^= xor;
            }
            if let Some((at, n)) = zeros {
                let at = at.index(buf.len());
                let end = (at + n).min(buf.len());
                buf[at..end].fill(0);
            }
            if let Some(cut) = cut {
                buf.truncate(cut.index(buf.len() + 1));
            }
        }
        let (expected, end) = one_by_one(&buf, first_seq);
        let (got, got_end) = run_by_run(&buf, first_seq);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(got_end, end);
    }
}
