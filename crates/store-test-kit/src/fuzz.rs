//! The bodies of the fuzz targets, shared by `fuzz/` (libFuzzer, nightly)
//! and by the facade's test `fuzz_regressions`, which replays every input kept under
//! `fuzz/regressions/` on stable with a plain `cargo test`, and the seed
//! corpus generator ([`write_seed_corpus`]) that `cargo xtask fuzz` runs
//! through that test before fuzzing.
//!
//! Each function panics when a property fails; bytes from the fuzzer never
//! make the library itself panic.

use std::io;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, StoreConfig};
use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FRAME_OVERHEAD, FileHeader, FrameKind, HEADER_LEN,
    decode_record, encode_frame,
};
use wal_io::sim::{CrashVariant, SimStorage};
use wal_io::{RecoveryMode, Wal, WalOptions};

use crate::small::{Op, Outcome, V, ops_from_bytes};
use crate::{apply_model, apply_store, latest_matching_state};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name, for the replay test and the corpus generator
/// (the names are those of the `[[bin]]`s in `fuzz/Cargo.toml`).
pub const TARGETS: [(&str, Target); 3] = [
    ("frame_decode", frame_decode),
    ("recover", recover),
    ("store_ops", store_ops),
];

/// Arbitrary bytes into the frame and header decoders: no panic; whatever
/// decodes re-encodes to the same bytes; `Incomplete` never asks for more
/// than one frame under the bound.
///
/// Input: 8 bytes of expected sequence number, 1 byte choosing the bound,
/// then the bytes to decode.
pub fn frame_decode(data: &[u8]) {
    let Some((head, bytes)) = data.split_at_checked(9) else {
        return;
    };
    let seq = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
    let max = match head[8] {
        0 => DEFAULT_MAX_RECORD_LEN,
        b => u32::from(b) * 64,
    };
    match decode_record(bytes, seq, max) {
        Ok(Decoded::Complete(record)) => {
            assert_eq!(record.seq, seq);
            // A batch's payloads are exactly its count of records.
            let payloads = record.payloads().count() as u64;
            match record.kind {
                FrameKind::Seal => assert_eq!((payloads, record.seq_count()), (0, 1)),
                _ => assert_eq!(payloads, record.seq_count()),
            }
            let mut again = Vec::new();
            encode_frame(
                &mut again,
                record.kind,
                record.seq,
                record.synced_upto,
                record.payload,
                max,
            )
            .expect("a decoded payload is within the bound");
            assert_eq!(
                again,
                bytes[..record.frame_len],
                "re-encoding changed the frame"
            );
        }
        Ok(Decoded::Incomplete { needed }) => {
            assert!(
                needed > 0
                    && needed
                        <= FRAME_OVERHEAD + max as usize
                            - bytes.len().min(FRAME_OVERHEAD + max as usize)
            );
        }
        Err(_) => {}
    }
    if let Ok(Decoded::Complete(header)) = FileHeader::decode(bytes) {
        // A version 1 or 2 header is shorter than a version 3 one.
        assert_eq!(
            header.encode()[..],
            bytes[..header.encoded_len()],
            "re-encoding changed the header"
        );
    }
}

const LOG: &str = "fuzz.log";

fn open_log(
    sim: &SimStorage,
    opts: &WalOptions,
) -> Result<(Wal, wal_io::RecoveryReport, Vec<Vec<u8>>), wal_io::WalError> {
    let mut records = Vec::new();
    let (wal, report) = Wal::open(Arc::new(sim.clone()), LOG, opts.clone(), |r| {
        records.push(r.payload.to_vec());
        Ok(())
    })?;
    Ok((wal, report, records))
}

/// Arbitrary bytes as a log file: open never panics; it fails leaving the
/// file untouched, or replays a prefix of the file's records and leaves a
/// prefix of its bytes; a second open replays the same and changes nothing.
///
/// Input: a flag byte (bit 0: put a valid header in front, so the bytes
/// after it are read as records; bit 1: salvage mode), then the bytes.
pub fn recover(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let opts = WalOptions {
        recovery: if flags & 2 == 0 {
            RecoveryMode::Strict
        } else {
            RecoveryMode::Salvage
        },
        ..WalOptions::default()
    };
    let mut file = Vec::new();
    if flags & 1 == 1 {
        file.extend_from_slice(&FileHeader::new(&opts.app_tag, 0, u64::from(flags >> 2)).encode());
    }
    file.extend_from_slice(rest);
    let sim = SimStorage::new(u64::from(flags));
    sim.write_file(LOG, &file)
        .expect("the simulation accepts the file");
    let (wal, report, first) = match open_log(&sim, &opts) {
        Ok(opened) => opened,
        Err(_) => {
            assert_eq!(
                sim.read_file(LOG),
                Some(file),
                "a refused open changed the file"
            );
            return;
        }
    };
    assert_eq!(first.len() as u64, report.records);
    let after = sim
        .read_file(LOG)
        .expect("the log exists after a successful open");
    // Closing seals the log if its last frame is a record: one more frame.
    drop(wal);
    let sealed = sim.read_file(LOG).expect("the log exists after closing");
    assert!(
        sealed.starts_with(&after) && [0, FRAME_OVERHEAD].contains(&(sealed.len() - after.len())),
        "closing did more than append a seal"
    );
    if !report.initialized {
        assert!(
            file.starts_with(&after),
            "recovery did more than cut the tail"
        );
        assert_eq!(after.len() as u64, report.bytes);
    }
    if let Some(t) = &report.truncated {
        assert_eq!(t.offset, report.bytes);
        if let wal_io::TruncationReason::Salvaged { copy } = &t.reason {
            let saved = sim.read_file(copy).expect("the salvage copy exists");
            assert_eq!(saved, file[usize::try_from(t.offset).unwrap_or(0)..]);
        }
    }
    let (wal, report2, second) = open_log(&sim, &opts).expect("a recovered log reopens");
    drop(wal);
    assert_eq!(second, first, "a second open replayed something else");
    assert!(
        report2.truncated.is_none(),
        "a second open cut the log again"
    );
    assert_eq!(
        sim.read_file(LOG),
        Some(sealed),
        "a second open changed the log"
    );
}

/// An arbitrary sequence of store operations, reopens and one crash (at an
/// arbitrary storage operation, with an arbitrary variant) over
/// `SimStorage`, checked against a plain `IndexMap`: every result matches,
/// and the store recovered after the crash equals the model after some
/// number of operations between the last durable one and the last issued.
///
/// Input: 2 bytes of crash point (`0xFFFF`: none), 1 byte of variant, 1
/// byte of configuration, then the operations (`ops_from_bytes`).
pub fn store_ops(data: &[u8]) {
    let Some((head, rest)) = data.split_at_checked(4) else {
        return;
    };
    let crash_after = u16::from_le_bytes([head[0], head[1]]);
    let variant = CrashVariant::ALL[usize::from(head[2]) % CrashVariant::ALL.len()];
    let config = StoreConfig {
        sync_on_write: head[3] & 1 == 1,
        min_compact_bytes: u64::from(head[3] >> 1) * 16,
        compact_ratio: 1.5,
        buf_capacity: 256,
    };
    let sim = SimStorage::new(u64::from(head[3]));
    let open = || IndexMapStore::<String, V>::open_with_storage(Arc::new(sim.clone()), LOG, config);
    let mut store = Some(open().expect("a new store opens"));
    if crash_after != u16::MAX {
        sim.crash_at(sim.ops() + u64::from(crash_after));
    }
    let mut model = IndexMap::new();
    let mut states = vec![model.clone()];
    let (mut durable, mut issued) = (0, 0);
    for op in ops_from_bytes(rest).iter().take(200) {
        let Some(current) = store.as_mut() else { break };
        issued += 1;
        let compactions = current.stats().compactions;
        let result = if let Op::Reopen = op {
            drop(store.take());
            open().map(|s| {
                store = Some(s);
                Outcome::Unit
            })
        } else {
            apply_store(current, op)
        };
        let expected = if let Op::Reopen = op {
            Outcome::Unit
        } else {
            apply_model(&mut model, op)
        };
        states.push(model.clone());
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                assert!(sim.is_dead(), "{op:?} failed without a crash: {e}");
                break;
            }
        };
        assert_eq!(outcome, expected, "{op:?}");
        let Some(current) = store.as_ref() else { break };
        let synced = config.sync_on_write
            || matches!(op, Op::Flush | Op::Compact | Op::Reopen)
            || current.stats().compactions > compactions;
        if synced {
            durable = issued;
        }
        let got: Vec<_> = current.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(got, want, "after {op:?}");
    }
    drop(store);
    sim.crash(variant);
    let store = open().expect("the store reopens after a crash");
    let got: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let matched = latest_matching_state(&states, durable, issued.min(states.len() - 1), &got);
    assert!(
        matched.is_some(),
        "after {variant}: the store matches no state between op {durable} and op {issued}"
    );
}

/// One seed input: the target it is for, its file name, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target's name, as in [`TARGETS`].
    pub target: &'static str,
    /// The file name under `<corpus>/<target>/`.
    pub name: String,
    /// The input, framed the way the target reads it.
    pub bytes: Vec<u8>,
}

/// Seed inputs made from real logs: a wal-io log (whole, cut at several
/// points, and each cut with a flipped byte under salvage) and a store's
/// log for `recover`; every record frame of the wal-io log with its
/// sequence number for `frame_decode`; operation sequences with no crash
/// and with early and late crash points for `store_ops`. Deterministic,
/// and no two seeds share a target and a name.
pub fn seed_inputs() -> io::Result<Vec<Seed>> {
    let mut seeds = Vec::new();
    let mut put = |target: &'static str, name: String, bytes: Vec<u8>| {
        seeds.push(Seed {
            target,
            name,
            bytes,
        });
    };

    // A wal-io log of mixed record sizes, with syncs in between.
    let sim = SimStorage::new(1);
    let (mut wal, _) = Wal::open(
        Arc::new(sim.clone()),
        "seed.log",
        WalOptions::default(),
        |_| Ok(()),
    )?;
    for i in 0..12u32 {
        let payload = vec![i as u8; (i as usize * 37) % 300];
        wal.append(&payload)?;
        if i % 4 == 3 {
            wal.sync()?;
        }
    }
    drop(wal);
    let log = sim.read_file("seed.log").unwrap_or_default();
    let mut cuts = vec![
        log.len(),
        log.len().saturating_sub(5),
        log.len() / 2,
        60,
        44,
        20,
    ];
    cuts.retain(|&cut| cut <= log.len());
    for (i, &cut) in cuts.iter().enumerate() {
        if cuts[..i].contains(&cut) {
            // Already seeded (a short log).
            continue;
        }
        let mut input = vec![0u8]; // flags: the log brings its own header
        input.extend_from_slice(&log[..cut]);
        let mut salvage = input.clone();
        salvage[0] = 2;
        if let Some(b) = salvage.get_mut(cut / 2 + 1) {
            *b ^= 0x10;
        }
        put("recover", format!("wal-cut-{cut}"), input);
        put("recover", format!("wal-flip-{cut}"), salvage);
    }
    // Frames for the decoder: each record of the log, with its sequence number.
    let mut offset = HEADER_LEN;
    let mut seq = 0u64;
    while let Some(Ok(Decoded::Complete(r))) = log
        .get(offset..)
        .map(|rest| decode_record(rest, seq, DEFAULT_MAX_RECORD_LEN))
    {
        let mut input = seq.to_le_bytes().to_vec();
        input.push(0);
        input.extend_from_slice(&log[offset..offset + r.frame_len]);
        put("frame_decode", format!("frame-{seq}"), input);
        offset += r.frame_len;
        seq += r.seq_count();
    }

    // A store's log, with compaction: for `recover` under the store's tag it
    // is a foreign log, which exercises the refusal path too.
    let sim = SimStorage::new(2);
    let cfg = StoreConfig {
        min_compact_bytes: 128,
        ..StoreConfig::default()
    };
    let mut store: IndexMapStore<String, u32> =
        IndexMapStore::open_with_storage(Arc::new(sim.clone()), "store.log", cfg)?;
    for i in 0..40u32 {
        store.insert(format!("k{}", i % 7), i)?;
        if i % 9 == 0 {
            store.shift_remove("k3")?;
        }
    }
    drop(store);
    let mut input = vec![0u8];
    input.extend(sim.read_file("store.log").unwrap_or_default());
    put("recover", "store-log".to_owned(), input);

    // Operation sequences for `store_ops`: no crash, and crashes early and late.
    for (i, crash) in [u16::MAX, 3, 17, 60].into_iter().enumerate() {
        let mut input = crash.to_le_bytes().to_vec();
        input.extend_from_slice(&[i as u8, 0x09]);
        input.extend((0..200u32).map(|j| (j * 31 + i as u32 * 7) as u8));
        put("store_ops", format!("ops-{i}"), input);
    }
    Ok(seeds)
}

/// Writes [`seed_inputs`] to `root/<target>/<name>` (creating directories,
/// replacing files of the same name, leaving every other file alone) and
/// returns how many files it wrote.
pub fn write_seed_corpus(root: &Path) -> io::Result<usize> {
    let seeds = seed_inputs()?;
    for seed in &seeds {
        let dir = root.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(&seed.name), &seed.bytes)?;
    }
    Ok(seeds.len())
}
