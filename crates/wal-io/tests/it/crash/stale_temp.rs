//! The temporary file of an interrupted rewrite or creation: a stale one is
//! removed if recognisably ours and set aside otherwise, and one torn to
//! garbage by a power loss neither blocks later rewrites nor the open.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::{Hook, Hooked, LOG, OpInfo, TMP, lock, open_log};
use wal_io::sim::{CrashVariant, OpKind, SimStorage};
use wal_io::{RecoveryReport, Storage, Wal, WalOptions};

/// A stale temporary file of an interrupted rewrite is removed on open if
/// it is recognisably ours (empty, starting with the log magic's first byte,
/// or zeros); any other file of that name is renamed aside, bytes intact,
/// so it can never block the log.
#[test]
fn stale_temp_file_is_removed_and_foreign_one_left_alone() {
    let opts = WalOptions::default();
    let magic = wal_format::MAGIC;
    let header = wal_format::FileHeader::new(&opts.app_tag, 0, 7).encode();
    let mut with_records = header.to_vec();
    wal_format::encode_record(&mut with_records, 7, 7, b"partial", 1 << 20).unwrap();
    with_records.truncate(with_records.len() - 3);
    let ours: [&[u8]; 6] = [b"", &magic[..3], &magic, &header, &with_records, &[0; 700]];
    for (i, tmp) in ours.iter().enumerate() {
        let (sim, wal, report) =
            reopen_beside_stale_temp(i as u64, tmp, &opts, &format!("case {i}"));
        assert_eq!(
            report.removed_temp.as_deref(),
            Some(Path::new(TMP)),
            "case {i}"
        );
        assert_eq!(sim.read_file(TMP), None, "case {i}: removed");
        assert_eq!(sim.durable_file(TMP), None, "case {i}: durably removed");
        rewrite_and_reopen(&sim, wal, &opts, &format!("case {i}"));
    }
    let foreign: [&[u8]; 3] = [b"my notes", b"\0\0\0not zeros", &[b'W'; 600]];
    let aside = format!("{TMP}.unrecognized");
    for (i, tmp) in foreign.iter().enumerate() {
        let case = format!("foreign {i}");
        let (sim, wal, report) = reopen_beside_stale_temp(i as u64, tmp, &opts, &case);
        assert_eq!(report.removed_temp, None, "foreign {i}");
        assert_eq!(
            report.set_aside_temp.as_deref(),
            Some(Path::new(&aside)),
            "foreign {i}"
        );
        assert_eq!(sim.read_file(TMP), None, "foreign {i}: moved away");
        assert_eq!(
            sim.durable_file(&aside).as_deref(),
            Some(*tmp),
            "foreign {i}: bytes kept"
        );
        rewrite_and_reopen(&sim, wal, &opts, &case);
        assert_eq!(sim.read_file(&aside).as_deref(), Some(*tmp), "foreign {i}");
    }
}

/// A log on a new simulation (`seed`) holding the record "kept", closed,
/// then `tmp` written as a stale temporary file beside it, and the log
/// reopened: the simulation, the log and the open's report. Asserts that
/// the open replayed just "kept".
fn reopen_beside_stale_temp(
    seed: u64,
    tmp: &[u8],
    opts: &WalOptions,
    case: &str,
) -> (SimStorage, Wal, RecoveryReport) {
    let sim = SimStorage::new(seed);
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), opts).unwrap();
    wal.append(b"kept").unwrap();
    drop(wal);
    sim.write_file(TMP, tmp).unwrap();
    let (wal, replayed, report) = open_log(Arc::new(sim.clone()), opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"kept".to_vec()], "{case}");
    (sim, wal, report)
}

/// Rewrites `wal` to hold just "new", closes it, and asserts that a reopen
/// replays just that: the temporary file no longer blocks a rewrite.
fn rewrite_and_reopen(sim: &SimStorage, mut wal: Wal, opts: &WalOptions, case: &str) {
    wal.rewrite(|w| w.push(b"new")).unwrap();
    drop(wal);
    let (_, replayed, _) = open_log(Arc::new(sim.clone()), opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"new".to_vec()], "{case}");
}

/// The simulation just before the first operation `pred` accepts, while
/// `run` works on storage that observes it; with that operation's index.
fn state_before(
    seed: u64,
    pred: impl FnMut(&OpInfo) -> bool + Send + 'static,
    run: impl FnOnce(Arc<dyn Storage>),
) -> (u64, SimStorage) {
    let sim = SimStorage::new(seed);
    let found: Arc<Mutex<Option<(u64, SimStorage)>>> = Arc::default();
    let hook: Hook = {
        let (sim, found) = (sim.clone(), found.clone());
        let pred = Mutex::new(pred);
        Arc::new(move |info: &OpInfo| {
            let mut found = lock(&found);
            if found.is_none() && (lock(&pred))(info) {
                *found = Some((info.index, sim.snapshot()));
            }
        })
    };
    run(Arc::new(Hooked::new(sim, hook)));
    let found = lock(&found).take();
    found.expect("the operation was reached")
}

/// Accepts the `sync_data` of the temporary file created `nth` (from 0).
/// (New logs are created through the temporary file too.)
fn temp_sync(nth: usize) -> impl FnMut(&OpInfo) -> bool + Send + 'static {
    let mut created = 0;
    move |info| {
        if info.op == OpKind::CreateNew && info.path == Path::new(TMP) {
            created += 1;
        }
        info.op == OpKind::SyncData && created == nth + 1
    }
}

/// A power loss while a rewrite's temporary file is unsynced, tearing its
/// first write at byte 0 and filling the sector with garbage, must not leave
/// a file that blocks every later rewrite.
#[test]
fn garbage_torn_temp_of_an_interrupted_rewrite_is_not_left_behind() {
    let opts = WalOptions::default();
    let mut failures = Vec::new();
    for seed in 0..512 {
        let (op, snap) = state_before(seed, temp_sync(1), |storage| {
            let (mut wal, _, _) = crate::support::open_at(storage, Path::new(LOG), &opts).unwrap();
            wal.append(b"synced").unwrap();
            wal.sync().unwrap();
            wal.rewrite(|_| Ok(())).unwrap();
        });
        snap.crash(CrashVariant::TornSectorGarbage);
        let tmp = snap.read_file(TMP);
        let (mut wal, replayed, _) = open_log(Arc::new(snap.clone()), &opts).unwrap();
        assert_eq!(replayed.payloads, vec![b"synced".to_vec()], "seed {seed}");
        drop(replayed);
        if let Err(e) = wal.rewrite(|w| w.push(b"compacted")) {
            failures.push(format!(
                "seed {seed}, crash at op {op} ({TMP} sync_data), torn-sector-garbage: the temporary file ({:?} B, starting {:02x?}) survives the open and the next rewrite fails: {e}",
                tmp.as_ref().map(Vec::len),
                tmp.as_ref().map(|t| &t[..t.len().min(8)])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same tear during the creation of a new log (its header goes through
/// the temporary file) must not make the next open fail.
#[test]
fn garbage_torn_temp_of_an_interrupted_creation_does_not_brick_the_open() {
    let opts = WalOptions::default();
    let mut failures = Vec::new();
    for seed in 0..512 {
        let (op, snap) = state_before(seed, temp_sync(0), |storage| {
            drop(crate::support::open_at(storage, Path::new(LOG), &opts).unwrap());
        });
        snap.crash(CrashVariant::TornSectorGarbage);
        let tmp = snap.read_file(TMP);
        match open_log(Arc::new(snap.clone()), &opts) {
            Ok((_, replayed, _)) => assert!(replayed.payloads.is_empty(), "seed {seed}"),
            Err(e) => failures.push(format!(
                "seed {seed}, crash at op {op} ({TMP} sync_data of the creation), torn-sector-garbage: the log {} exist, the temporary file ({:?} B, starting {:02x?}) does, and open fails: {e}",
                if snap.read_file(LOG).is_some() { "does" } else { "does not" },
                tmp.as_ref().map(Vec::len),
                tmp.as_ref().map(|t| &t[..t.len().min(8)])
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
