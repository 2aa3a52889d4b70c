//! Crash tests of snapshots over the simulated storage: a power loss after
//! every storage operation of building one snapshot and installing
//! another, under every crash variant. The node must come back with the
//! old snapshot or the new one, whole, and once an install was
//! acknowledged, with the log it covers purged.

use std::sync::Arc;

use indexmap::IndexMap;
use indexmap_store_raft::openraft::storage::{
    RaftLogStorage, RaftLogStorageExt, RaftStateMachine, Snapshot,
};
use indexmap_store_raft::openraft::{
    CommittedLeaderId, EntryPayload, RaftSnapshotBuilder, StorageError,
};
use indexmap_store_raft::wal_io::sim::{CrashVariant, SimStorage};
use indexmap_store_raft::{Command, Entry, LogId, LogStore, MapConfig, NodeId, StateMachine};

use crate::support::block_on;

type Log = LogStore<u64, u64>;
type Sm = StateMachine<u64, u64>;

fn entries(term: u64, indexes: std::ops::RangeInclusive<u64>, salt: u64) -> Vec<Entry<u64, u64>> {
    indexes
        .map(|i| Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, 1), i),
            payload: EntryPayload::Normal(Command::Insert {
                key: i % 17,
                value: i * salt,
            }),
        })
        .collect()
}

fn open(sim: &SimStorage) -> Result<(Log, Sm), StorageError<NodeId>> {
    let storage = Arc::new(sim.clone());
    let (log, _) = Log::open(storage.clone(), "raft.log")?;
    let sm = Sm::open(storage, "snapshot.log", Some(&log))?;
    Ok((log, sm))
}

/// A snapshot built on another node: entries 1..=60 of term 2.
fn foreign_snapshot() -> (Snapshot<MapConfig<u64, u64>>, IndexMap<u64, u64>) {
    block_on(async {
        let (_log, mut sm) = open(&SimStorage::new(99)).expect("open");
        sm.apply(entries(2, 1..=60, 3)).await.expect("apply");
        let map = sm.reader().read().map.clone();
        let snapshot = sm
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .expect("build");
        (snapshot, map)
    })
}

/// How far the workload got: 0, a snapshot built (1), one installed (2).
fn run(sim: &SimStorage, foreign: &Snapshot<MapConfig<u64, u64>>) -> u8 {
    block_on(async {
        let Ok((mut log, mut sm)) = open(sim) else {
            return 0;
        };
        let first = entries(1, 1..=30, 1);
        if log.blocking_append(first.clone()).await.is_err() || sm.apply(first).await.is_err() {
            return 0;
        }
        if sm
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .is_err()
        {
            return 0;
        }
        let more = entries(1, 31..=40, 1);
        if log.blocking_append(more.clone()).await.is_err() || sm.apply(more).await.is_err() {
            return 1;
        }
        let Ok(mut data) = sm.begin_receiving_snapshot().await else {
            return 1;
        };
        *data = (*foreign.snapshot).clone();
        if sm.install_snapshot(&foreign.meta, data).await.is_err() {
            return 1;
        }
        2
    })
}

#[test]
fn after_a_crash_at_any_point_the_snapshot_is_the_old_or_the_new_one_whole() {
    let (foreign, foreign_map) = foreign_snapshot();
    let own_map: IndexMap<u64, u64> = entries(1, 1..=30, 1)
        .into_iter()
        .map(|e| match e.payload {
            EntryPayload::Normal(Command::Insert { key, value }) => (key, value),
            _ => unreachable!("only inserts were made"),
        })
        .collect();
    let own_last = Some(LogId::new(CommittedLeaderId::new(1, 1), 30));
    let total = {
        let sim = SimStorage::new(1);
        assert_eq!(
            run(&sim, &foreign),
            2,
            "the workload runs whole without a crash"
        );
        sim.ops()
    };
    let mut stages = [0; 3];
    for crash_at in 1..=total {
        for (v, variant) in CrashVariant::ALL.into_iter().enumerate() {
            let sim = SimStorage::new(crash_at * 8 + v as u64);
            sim.crash_at(crash_at);
            let stage = run(&sim, &foreign);
            stages[usize::from(stage)] += 1;
            sim.crash(variant);
            block_on(async {
                let (mut log, mut sm) = open(&sim).unwrap_or_else(|e| {
                    panic!("crash at op {crash_at} ({variant:?}): reopen failed: {e}")
                });
                let current = sm.get_current_snapshot().await.expect("read the snapshot");
                let last = current.as_ref().and_then(|s| s.meta.last_log_id);
                let state = sm.reader().read().clone();
                let whole = match last {
                    None => state.map.is_empty(),
                    l if l == own_last => state.map == own_map,
                    l if l == foreign.meta.last_log_id => state.map == foreign_map,
                    other => panic!(
                        "crash at op {crash_at} ({variant:?}): a snapshot ending at {other:?} was never made"
                    ),
                };
                assert!(
                    whole,
                    "crash at op {crash_at} ({variant:?}): the snapshot at {last:?} is not whole"
                );
                let allowed: &[Option<LogId>] = match stage {
                    0 => &[None, own_last],
                    1 => &[own_last, foreign.meta.last_log_id],
                    _ => &[foreign.meta.last_log_id],
                };
                assert!(
                    allowed.contains(&last),
                    "crash at op {crash_at} ({variant:?}) at stage {stage}: snapshot {last:?}, allowed {allowed:?}"
                );
                if stage == 2 {
                    let purged = log
                        .get_log_state()
                        .await
                        .expect("log state")
                        .last_purged_log_id;
                    assert!(
                        purged >= foreign.meta.last_log_id,
                        "crash at op {crash_at} ({variant:?}): an acknowledged install left the log unpurged ({purged:?})"
                    );
                }
            });
        }
    }
    assert!(
        stages.iter().all(|&n| n > 0),
        "every stage was crashed in: {stages:?}"
    );
}
