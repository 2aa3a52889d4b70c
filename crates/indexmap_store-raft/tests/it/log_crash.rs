//! Crash tests of the Raft log over the simulated storage: a power loss
//! after every storage operation of a workload, under every crash variant.
//!
//! After recovery the log must be the one after the acknowledged calls, or
//! after those and the call in flight, whole: the vote is never older than
//! one acknowledged, no entry acknowledged as flushed is missing, and a
//! truncation, purge or compaction is all or nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap_store_raft::openraft::storage::{RaftLogStorage, RaftLogStorageExt};
use indexmap_store_raft::openraft::{CommittedLeaderId, EntryPayload, StorageError};
use indexmap_store_raft::wal_io::sim::{CrashVariant, SimStorage};
use indexmap_store_raft::{Command, Entry, LogId, LogStore, NodeId, Vote};

use crate::support::{Rng, block_on};

type Log = LogStore<u64, u64>;

/// A call on the log store.
#[derive(Debug, Clone)]
enum Op {
    Vote(Vote),
    Append(Vec<(LogId, u64)>),
    Truncate(LogId),
    Purge(LogId),
    Committed(Option<LogId>),
    Compact,
}

fn log_id(term: u64, index: u64) -> LogId {
    LogId::new(CommittedLeaderId::new(term, 1), index)
}

fn entry(id: LogId, value: u64) -> Entry<u64, u64> {
    Entry {
        log_id: id,
        payload: EntryPayload::Normal(Command::Insert {
            key: id.index,
            value,
        }),
    }
}

/// What the log holds, as a model sees it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    vote: Option<Vote>,
    last_purged: Option<LogId>,
    entries: Vec<(LogId, u64)>,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Vote(v) => self.vote = Some(*v),
            Op::Append(es) => self.entries.extend(es.iter().copied()),
            Op::Truncate(id) => self.entries.retain(|(e, _)| e.index < id.index),
            Op::Purge(id) => {
                self.entries.retain(|(e, _)| e.index > id.index);
                self.last_purged = self.last_purged.max(Some(*id));
            }
            Op::Committed(_) | Op::Compact => {}
        }
    }
}

/// A Raft-like sequence of calls: contiguous appends, truncations of the
/// tail by a new leader, purges of the head, votes of rising terms.
fn workload(seed: u64, calls: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed);
    let mut term = 1;
    let mut ops = vec![Op::Vote(Vote::new(1, 1))];
    let mut ids: BTreeMap<u64, LogId> = BTreeMap::new();
    let mut purged = 0;
    let mut value = 0;
    for _ in 0..calls {
        let last = ids.keys().next_back().copied().unwrap_or(purged);
        match rng.below(12) {
            0 => {
                term += 1;
                ops.push(Op::Vote(Vote::new_committed(term, rng.below(3) + 1)));
            }
            1 if last > purged + 1 => {
                let since = purged + 1 + rng.below(last - purged);
                ops.push(Op::Truncate(ids[&since]));
                ids.split_off(&since);
                term += 1;
            }
            2 if last > purged => {
                let upto = purged + 1 + rng.below(last - purged);
                ops.push(Op::Purge(ids[&upto]));
                ids = ids.split_off(&(upto + 1));
                purged = upto;
            }
            3 if last > purged => {
                let at = purged + 1 + rng.below(last - purged);
                ops.push(Op::Committed(Some(ids[&at])));
            }
            4 => ops.push(Op::Compact),
            _ => {
                let n = 1 + rng.below(4);
                let batch: Vec<(LogId, u64)> = (1..=n)
                    .map(|i| {
                        value += 1;
                        (log_id(term, last + i), value)
                    })
                    .collect();
                for (id, _) in &batch {
                    ids.insert(id.index, *id);
                }
                ops.push(Op::Append(batch));
            }
        }
    }
    ops
}

async fn call(log: &mut Log, op: &Op) -> Result<(), StorageError<NodeId>> {
    match op {
        Op::Vote(v) => log.save_vote(v).await,
        Op::Append(es) => {
            log.blocking_append(es.iter().map(|(id, v)| entry(*id, *v)))
                .await
        }
        Op::Truncate(id) => log.truncate(*id).await,
        Op::Purge(id) => log.purge(*id).await,
        Op::Committed(c) => log.save_committed(*c).await,
        Op::Compact => log.compact().map_err(Into::into),
    }
}

/// Runs `ops` on `sim` until one fails; returns how many were acknowledged.
fn run(sim: &SimStorage, ops: &[Op]) -> usize {
    block_on(async {
        let Ok((mut log, _)) = Log::open(Arc::new(sim.clone()), "raft.log") else {
            return 0;
        };
        for (done, op) in ops.iter().enumerate() {
            if call(&mut log, op).await.is_err() {
                return done;
            }
        }
        ops.len()
    })
}

fn recovered(sim: &SimStorage) -> (Model, Option<LogId>) {
    let (log, _) = Log::open(Arc::new(sim.clone()), "raft.log")
        .unwrap_or_else(|e| panic!("the log must open after any crash: {e}"));
    let (last_purged, entries) = log.contents();
    let entries = entries
        .iter()
        .map(|e| match &e.payload {
            EntryPayload::Normal(Command::Insert { value, .. }) => (e.log_id, *value),
            other => panic!("an entry changed its payload: {other:?}"),
        })
        .collect();
    (
        Model {
            vote: log.vote(),
            last_purged,
            entries,
        },
        log.committed(),
    )
}

#[test]
fn after_a_crash_at_any_point_the_log_holds_what_was_acknowledged() {
    let ops = workload(11, 40);
    let total = {
        let sim = SimStorage::new(1);
        assert_eq!(
            run(&sim, &ops),
            ops.len(),
            "the workload runs whole without a crash"
        );
        sim.ops()
    };
    let mut models = vec![Model::default()];
    for op in &ops {
        let mut next = models.last().cloned().unwrap_or_default();
        next.apply(op);
        models.push(next);
    }
    let committed_ever: Vec<Option<LogId>> = std::iter::once(None)
        .chain(ops.iter().filter_map(|op| match op {
            Op::Committed(c) => Some(*c),
            _ => None,
        }))
        .collect();
    let mut checked = 0;
    for crash_at in 1..=total {
        for (v, variant) in CrashVariant::ALL.into_iter().enumerate() {
            let sim = SimStorage::new(crash_at * 8 + v as u64);
            sim.crash_at(crash_at);
            let acked = run(&sim, &ops);
            sim.crash(variant);
            let (got, committed) = recovered(&sim);
            let acknowledged = &models[acked];
            let in_flight = models.get(acked + 1);
            assert!(
                got == *acknowledged || Some(&got) == in_flight,
                "crash at op {crash_at} ({variant:?}) after {acked} acknowledged calls \
                 (in flight: {:?}):\n got {got:?}\nwant {acknowledged:?}\n  or {in_flight:?}",
                ops.get(acked)
            );
            assert!(
                got.vote >= acknowledged.vote,
                "crash at op {crash_at} ({variant:?}): an acknowledged vote was lost"
            );
            assert!(
                committed_ever.contains(&committed),
                "crash at op {crash_at} ({variant:?}): committed {committed:?} was never saved"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 7 * 100,
        "only {checked} crash points were checked"
    );
}

#[test]
fn a_log_reopened_after_a_clean_run_is_the_model() {
    for seed in 0..8 {
        let ops = workload(seed, 60);
        let sim = SimStorage::new(seed);
        assert_eq!(run(&sim, &ops), ops.len());
        let mut model = Model::default();
        for op in &ops {
            model.apply(op);
        }
        let last_committed = ops.iter().rev().find_map(|op| match op {
            Op::Committed(c) => Some(*c),
            _ => None,
        });
        let (got, committed) = recovered(&sim);
        assert_eq!(got, model, "seed {seed}");
        assert_eq!(committed, last_committed.flatten(), "seed {seed}");
    }
}

/// Purged entries do not stay on disk: once they take most of a large log
/// file, a purge rewrites it (atomically) with what is live.
#[test]
fn a_purge_rewrites_a_log_that_purged_entries_dominate() {
    let sim = SimStorage::new(5);
    let big = |id: LogId| Entry::<u64, u64> {
        log_id: id,
        payload: EntryPayload::Normal(Command::Batch(
            (0..2048)
                .map(|k| Command::Insert {
                    key: k,
                    value: id.index,
                })
                .collect(),
        )),
    };
    block_on(async {
        let (mut log, _) = Log::open(Arc::new(sim.clone()), "raft.log").expect("open");
        for index in 1..=800 {
            log.blocking_append([big(log_id(1, index))])
                .await
                .expect("append");
        }
        let before = sim.read_file("raft.log").map_or(0, |b| b.len());
        assert!(
            before > 8 << 20,
            "the log is large enough to be rewritten: {before} bytes"
        );
        log.purge(log_id(1, 790)).await.expect("purge");
        let after = sim.read_file("raft.log").map_or(0, |b| b.len());
        assert!(
            after < before / 10,
            "a purge of most entries shrinks the file: {before} -> {after} bytes"
        );
        let (purged, entries) = log.contents();
        assert_eq!(purged, Some(log_id(1, 790)));
        assert_eq!(entries.len(), 10);
    });
    // And the rewritten file reopens to the same log.
    let (got, _) = recovered_entries(&sim);
    assert_eq!(got, (791..=800).collect::<Vec<_>>());
}

fn recovered_entries(sim: &SimStorage) -> (Vec<u64>, Option<LogId>) {
    let (log, _) = Log::open(Arc::new(sim.clone()), "raft.log").expect("reopen");
    let (purged, entries) = log.contents();
    (entries.iter().map(|e| e.log_id.index).collect(), purged)
}
