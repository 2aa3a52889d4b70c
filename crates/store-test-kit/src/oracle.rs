//! The step oracle: what every step of a model run must leave true
//! besides the entries (stats, the log's size, the compaction rule).

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, StoreConfig, StoreStats};

use crate::flavor::Flavor;
use crate::op::Op;
use crate::store::StoreUnderTest;

/// The store's entries, in order, owned.
pub fn entries<K: Clone, V: Clone, S>(store: &IndexMapStore<K, V, S>) -> Vec<(K, V)> {
    store.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The latest of `states[lo..=hi]` (models after each operation) whose
/// entries are exactly `got`, order included: what a store recovered after
/// a crash must match, between the last operation known durable (`lo`) and
/// the last one issued (`hi`).
pub fn latest_matching_state<K: PartialEq, V: PartialEq, S>(
    states: &[IndexMap<K, V, S>],
    lo: usize,
    hi: usize,
    got: &[(K, V)],
) -> Option<usize> {
    (lo..=hi).rev().find(|&k| {
        states[k].len() == got.len()
            && states[k]
                .iter()
                .zip(got)
                .all(|((a, b), (c, d))| a == c && b == d)
    })
}

/// The model's entries, in order, owned.
pub fn model_entries<K: Clone, V: Clone, S>(model: &IndexMap<K, V, S>) -> Vec<(K, V)> {
    model.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The compaction rule of the specification, written independently of the
/// store: past `min_compact_bytes`, and `total >= ratio * live`, where no
/// live record at all means an infinite ratio. A log without a dead record
/// (`total <= live`) has nothing to compact, whatever the ratio (else a
/// ratio of at most 1 would compact after every write).
pub fn spec_says_compact(config: &StoreConfig, log_bytes: u64, total: u64, live: u64) -> bool {
    if log_bytes <= config.min_compact_bytes || total <= live {
        return false;
    }
    live == 0 || total as f64 >= config.compact_ratio * live as f64
}

/// Checks everything a step must leave true, besides the entries: stats
/// agree with the model, the log on disk has the size the stats claim, and
/// the log was compacted exactly when the rule says so.
///
/// `before` is the stats before the op, `written` the mutations the op
/// added (from [`Op::mutations`]).
pub fn check_step<F: Flavor>(
    sut: &StoreUnderTest<F>,
    model: &IndexMap<F::K, F::V>,
    op: &Op<F>,
    before: StoreStats,
    written: u64,
) {
    let store = sut.store();
    let stats = store.stats();
    let live = model.len() as u64;
    assert_eq!(entries(store), model_entries(model), "entries after {op:?}");
    assert_eq!(store.len(), model.len(), "len after {op:?}");
    assert_eq!(stats.live_records, live, "live_records after {op:?}");
    let on_disk = std::fs::metadata(sut.path()).expect("log exists").len();
    assert_eq!(
        stats.log_bytes, on_disk,
        "log_bytes vs file size after {op:?}"
    );
    let cfg = sut.config();
    match op {
        Op::Reopen => {
            // Reopening a cleanly closed log replays it. Closing sealed the
            // log if records had been written since it was last sealed: one
            // 25-byte frame (16 bytes of framing and a 9-byte note, the
            // entry count), not counted as a record. The open then compacts
            // if the policy says so for the file it found.
            // Replay counts the mutations the records hold (a batch counts
            // its operations, the schema record none).
            let report = store.recovery_report();
            let sealed = report.bytes - before.log_bytes;
            assert!(
                // (Every log holds a record: its schema record.)
                sealed == 0 || sealed == 25,
                "bytes across reopen: {} then {}",
                before.log_bytes,
                report.bytes
            );
            let due = cfg.should_compact(report.bytes, before.total_records, live);
            assert_eq!(
                stats.compactions,
                u64::from(due),
                "compacted at open iff due"
            );
            let records = if due { live } else { before.total_records };
            assert_eq!(stats.total_records, records, "records across reopen");
            if !due {
                assert_eq!(stats.log_bytes, report.bytes, "bytes across reopen");
            }
            assert_eq!(stats.unsynced_records, 0, "a reopened log is synced");
            assert!(
                report.truncated.is_none(),
                "a clean log has no torn tail: {report:?}"
            );
            assert!(
                report.removed_temp.is_none(),
                "no stale temp file: {report:?}"
            );
            assert!(
                !report.created && !report.initialized,
                "reopened, not created: {report:?}"
            );
        }
        Op::Compact => {
            assert_eq!(stats.compactions, before.compactions + 1, "compact counts");
            assert_eq!(
                stats.total_records, live,
                "one record per live entry after compact"
            );
            assert_eq!(stats.unsynced_records, 0, "a compacted log is synced");
        }
        _ if stats.compactions != before.compactions => {
            assert_eq!(
                stats.compactions,
                before.compactions + 1,
                "one compaction per op"
            );
            assert_eq!(
                stats.total_records, live,
                "automatic compaction after {op:?}"
            );
            assert!(
                written >= 1,
                "{op:?} wrote nothing, yet the log was compacted"
            );
            let total = before.total_records + written;
            // The pre-compaction byte count is unknown here, so only the
            // ratio half of the rule can be checked.
            assert!(
                live == 0 || total as f64 >= cfg.compact_ratio * live as f64,
                "compacted at {total} records for {live} live, ratio {}",
                cfg.compact_ratio
            );
        }
        _ => {
            assert_eq!(
                stats.total_records,
                before.total_records + written,
                "total_records after {op:?}"
            );
        }
    }
    assert!(
        !spec_says_compact(&cfg, stats.log_bytes, stats.total_records, live),
        "left a log the rule says to compact after {op:?}: {stats:?}"
    );
    if cfg.sync_on_write || matches!(op, Op::Flush) {
        assert_eq!(
            stats.unsynced_records, 0,
            "unsynced after {op:?} with {cfg:?}"
        );
    }
}
