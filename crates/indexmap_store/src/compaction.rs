//! Compaction: the rewrite itself, the automatic policy, and what a failed
//! compaction leaves behind.
//!
//! The policy counts *mutations*, not records: a batch of `n` operations is
//! one record but `n` mutations, so a log rewritten by batches is compacted
//! as one rewritten by single inserts would be. The count starts from what
//! replay found and is reset to the number of entries a compaction writes.
//!
//! An automatic compaction (after a mutation, or at open) never fails the
//! call that triggered it: the mutation is already logged and applied. Its
//! error is recorded ([`StoreStats::failed_compactions`],
//! [`StoreStats::last_compaction_error`]) and the next automatic attempt
//! waits until the log has grown by `max(live entries, 1024)` mutations,
//! doubled after each consecutive failure (up to 2^16 times): a full disk
//! costs one rewrite attempt per that many mutations, amortized O(1) per
//! mutation, instead of one per mutation.
//!
//! [`StoreStats::failed_compactions`]: crate::StoreStats::failed_compactions
//! [`StoreStats::last_compaction_error`]: crate::StoreStats::last_compaction_error

use std::hash::{BuildHasher, Hash};
use std::io;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::error::from_wal;

/// A compaction that failed, as [`StoreStats::last_compaction_error`]
/// reports it.
///
/// [`StoreStats::last_compaction_error`]: crate::StoreStats::last_compaction_error
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionFailure {
    /// The error's kind (`StorageFull` for a full disk).
    pub kind: io::ErrorKind,
    /// The error's message.
    pub message: String,
    /// When it failed.
    pub at: SystemTime,
}

/// Smallest number of mutations between a failed automatic compaction and
/// the next attempt.
const RETRY_MIN_GAP: u64 = 1024;
/// The gap doubles per consecutive failure, at most this many times.
const RETRY_MAX_DOUBLINGS: u32 = 16;

/// A store's compaction bookkeeping.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compaction {
    /// Mutations the log holds (see the module docs).
    pub(crate) mutations: u64,
    /// Compactions that succeeded.
    pub(crate) runs: u64,
    /// Compactions that failed, automatic or not.
    pub(crate) failed: u64,
    /// Failures since the last success.
    pub(crate) consecutive: u32,
    /// The last failure.
    pub(crate) last_failure: Option<CompactionFailure>,
    /// No automatic attempt before the log holds this many mutations.
    pub(crate) retry_at: u64,
}

impl Compaction {
    /// Records a failure at `live` entries and sets the backoff.
    fn failed(&mut self, err: &io::Error, live: u64) {
        self.failed += 1;
        self.last_failure = Some(CompactionFailure {
            kind: err.kind(),
            message: err.to_string(),
            at: SystemTime::now(),
        });
        let gap = live.max(RETRY_MIN_GAP) << self.consecutive.min(RETRY_MAX_DOUBLINGS);
        self.consecutive = self.consecutive.saturating_add(1);
        self.retry_at = self.mutations.saturating_add(gap);
    }

    /// Records a success that wrote `live` entries.
    fn succeeded(&mut self, live: u64) {
        self.runs += 1;
        self.consecutive = 0;
        self.retry_at = 0;
        self.mutations = live;
    }
}

impl<K, V, S> IndexMapStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
    S: BuildHasher,
{
    /// Rewrites the log to its schema record and one record per live
    /// entry, in order, atomically (temporary file `<path>.compact.tmp`,
    /// sync, rename, directory sync). The map and its order are unchanged.
    /// Cost: O(n) encoding and one sequential write of the live data.
    ///
    /// Unlike the automatic compaction, a failure is returned (and also
    /// counted in [`stats`](Self::stats)). Whether the store still accepts
    /// writes afterwards depends on where the rewrite failed: a failure
    /// that leaves the log in doubt refuses later writes.
    pub fn compact(&mut self) -> io::Result<()> {
        self.check_poison()?;
        // A log poisoned earlier refuses the rewrite: that is no new
        // compaction failure.
        let was_poisoned = self.wal.poisoned().is_some();
        let result = self.rewrite_log();
        let live = self.map.len() as u64;
        match &result {
            Ok(()) => self.compaction.succeeded(live),
            Err(e) if !was_poisoned => self.compaction.failed(e, live),
            Err(_) => {}
        }
        result
    }

    /// The rewrite of [`compact`](Self::compact), without bookkeeping.
    fn rewrite_log(&mut self) -> io::Result<()> {
        let (map, schema) = (&self.map, &self.schema);
        self.wal
            .rewrite(|w| crate::backup::write_live(w, map, schema, &mut |_| {}))
            .map_err(from_wal)?;
        Ok(())
    }

    /// Compacts if the policy in [`StoreConfig`](crate::StoreConfig) says
    /// so and no recent failure asks to wait; a failure is recorded, never
    /// returned (see the module docs).
    pub(crate) fn maybe_compact(&mut self) {
        if self.poison.is_some() || self.wal.poisoned().is_some() {
            return;
        }
        let c = &self.compaction;
        let live = self.map.len() as u64;
        if c.mutations < c.retry_at
            || !self
                .config
                .should_compact(self.wal.stats().bytes, c.mutations, live)
        {
            return;
        }
        let _ = self.compact();
    }
}
