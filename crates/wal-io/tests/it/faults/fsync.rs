//! An fsync failure, end to end: the log is poisoned and cut back to what
//! the last successful sync made durable, and no later record vouches for
//! the records the failure lost.

use std::sync::Arc;

use crate::support::{LOG, open_log};
use wal_io::sim::{CrashVariant, Fault, FaultKind, SimStorage};
use wal_io::{WalError, WalOptions};

/// An fsync failure is never retried and trusted: the log is poisoned and
/// cut back to its last synced length, so the records the failed sync
/// covered are gone from the page cache as well as from the disk.
#[test]
fn fsync_failure_poisons_and_loses_only_unsynced_records() {
    let sim = SimStorage::new(5);
    let opts = WalOptions::default();
    let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
    wal.append(b"synced").unwrap();
    wal.sync().unwrap();
    let synced = sim.durable_file(LOG).unwrap();
    wal.append(b"unsynced").unwrap();
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    let err = wal.sync().unwrap_err();
    assert!(matches!(err, WalError::Io { .. }), "{err}");
    assert!(matches!(wal.sync(), Err(WalError::Poisoned { .. })));
    assert!(matches!(
        wal.append(b"more"),
        Err(WalError::Poisoned { .. })
    ));
    // A poisoned log is not sealed.
    assert!(matches!(wal.close(), Err(WalError::Poisoned { .. })));
    assert_eq!(
        sim.read_file(LOG).unwrap(),
        synced,
        "the log is cut back to what the last successful sync made durable"
    );
    let crashed = sim.snapshot();
    crashed.crash(CrashVariant::LoseUnsynced);
    let (_, replayed, _) = open_log(Arc::new(crashed), &opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"synced".to_vec()]);
    let (_, replayed, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
    assert_eq!(replayed.payloads, vec![b"synced".to_vec()]);
}

/// Linux's fsyncgate, end to end: after an fsync failure the unsynced
/// records would stay readable but never reach the disk. Were they kept, a
/// reopen without a crash would replay them and sync "successfully", and
/// later records would vouch for data that is not durable: a crash
/// afterwards would turn into a `Corrupt` refusal. Cut at the failure, they
/// are never replayed, and after any crash recovery returns exactly the
/// records that were made durable.
#[test]
fn fsync_failure_then_clean_reopen_never_vouches_for_lost_records() {
    let opts = WalOptions::default();
    for v in CrashVariant::ALL {
        for seed in 0..16 {
            let sim = SimStorage::new(seed);
            let (mut wal, _, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
            wal.append(b"synced").unwrap();
            wal.sync().unwrap();
            wal.append(b"lost by fsync").unwrap();
            sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
            assert!(wal.sync().is_err());
            drop(wal);
            let (mut wal, replayed, _) = open_log(Arc::new(sim.clone()), &opts).unwrap();
            assert_eq!(
                replayed.payloads,
                vec![b"synced".to_vec()],
                "the failed sync's record was cut"
            );
            wal.append(b"after").unwrap();
            wal.sync().unwrap();
            wal.close().unwrap();
            sim.crash(v);
            let (_, replayed, report) = open_log(Arc::new(sim.clone()), &opts)
                .unwrap_or_else(|e| panic!("{v} seed {seed}: {e}"));
            assert_eq!(
                replayed.payloads,
                vec![b"synced".to_vec(), b"after".to_vec()],
                "{v} seed {seed}: every synced record, nothing else"
            );
            assert_eq!(
                report.truncated, None,
                "{v} seed {seed}: all of it was durable"
            );
        }
    }
}
