//! `floor-group`: the raw floor of `durable-threads`, an ideal group commit
//! with no store behind it. Issue 16 asks a store's group commit for
//! durable inserts from 8 threads at 5 times its one-thread rate; this is
//! what group commit itself gives on this disk, measured in the same run,
//! so that the target can be judged against what the machine allows.
//!
//! The `T` threads of [`crate::threads::drive`] share one file, created by
//! [`crate::floor::create`] as `floor-prealloc`'s: `n` records long,
//! filled with zeros and synced before the clock starts, so a sync records
//! no new length or block. Each insert:
//!
//! 1. claims the next record's offset (an atomic counter: records are laid
//!    out in the order claimed) and writes the record there with one
//!    `pwrite(2)` (the same 124 bytes per entry as the one-thread floors);
//! 2. takes a ticket under the mutex once that write has returned: the
//!    tickets count completed writes, whatever their offsets' order;
//! 3. returns once a sync that began after it took its ticket has ended.
//!    The classic leader/follower protocol: a writer whose ticket is not
//!    yet durable, seeing no sync in flight, becomes the leader: it
//!    releases the lock, notes the last ticket issued, calls
//!    `fdatasync(2)`, re-takes the lock, publishes that ticket as durable
//!    and wakes every waiter; the others wait on the condition variable
//!    and look again. While one sync runs, the writers that finish their
//!    writes queue up, and the next sync covers all of them. Before it
//!    notes the last ticket, the leader yields while writers are between
//!    claiming an offset and taking a ticket (a bounded number of times),
//!    as `SharedStore`'s leader does: a floor must have every trick of the
//!    group commit it bounds (without it, 8 writers here averaged about 4
//!    records per sync instead of 5, 16 about 8 instead of 10 to 15).
//!
//! Nothing else is done: no encoding beyond the record's bytes, no index,
//! no checksum, no copy through a shared buffer; the writes run in
//! parallel, and a writer waits at most for the sync in flight when it
//! took its ticket and the one after it. A store's group commit does this
//! and more, so its rate at `T` threads is not above this one's. Its gain
//! from 1 to 8 threads can exceed the floor's only if it is slower than
//! the floor at one thread: if the floor's 8-thread rate is under 5 times
//! its 1-thread rate, a store reaches issue 16's 5 times only with a
//! 1-thread rate under a fifth of the floor's 8-thread rate, where issue
//! 16 asks it for 0.95 times the floor's 1-thread rate.
//!
//! The result's `check` is the number of `fdatasync` calls, so `n /
//! check` is the mean group a sync covered.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::data::Entry;
use crate::floor::{RECORD_LEN, create, record};
use crate::threads::drive;
use crate::workloads::Outcome;

/// What the writers share under the mutex.
#[derive(Default)]
struct Commit {
    /// Tickets issued: writes that have returned.
    written: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A leader is in `fdatasync` now.
    syncing: bool,
    /// A sync failed: no ticket can become durable any more.
    failed: bool,
    /// `fdatasync` calls made.
    syncs: u64,
}

/// The file and the group commit over it.
struct GroupFloor {
    file: File,
    /// The next record's index.
    next: AtomicU64,
    commit: Mutex<Commit>,
    synced: Condvar,
    /// Writers between claiming an offset and taking their ticket.
    appending: AtomicU64,
}

/// How many times a new leader yields, at most, for writers appending
/// (as many as `SharedStore`'s leader).
const MAX_YIELDS: u32 = 64;

impl GroupFloor {
    fn lock(&self) -> MutexGuard<'_, Commit> {
        self.commit
            .lock()
            .expect("floor-group: no writer panics holding the lock")
    }

    /// Yields while a writer is appending (at most [`MAX_YIELDS`] times),
    /// as `SharedStore`'s leader does: the writers the last sync released
    /// are writing their next records just then, and a sync begun at once
    /// would leave them to the next one.
    fn let_appenders_finish(&self) {
        std::thread::yield_now();
        for _ in 0..MAX_YIELDS {
            if self.appending.load(Ordering::Acquire) == 0 {
                return;
            }
            std::thread::yield_now();
        }
    }

    /// Writes `e`'s record and returns once a sync that began after the
    /// write returned has ended.
    fn insert(&self, e: &Entry) {
        self.appending.fetch_add(1, Ordering::AcqRel);
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        self.file
            .write_all_at(&record(e), index * RECORD_LEN)
            .expect("floor-group: write");
        let mut commit = self.lock();
        commit.written += 1;
        let ticket = commit.written;
        self.appending.fetch_sub(1, Ordering::AcqRel);
        while commit.durable < ticket {
            assert!(
                !commit.failed,
                "floor-group: another writer's fdatasync failed"
            );
            if commit.syncing {
                commit = self
                    .synced
                    .wait(commit)
                    .expect("floor-group: no writer panics holding the lock");
                continue;
            }
            // The leader: it lets the writers appending now take their
            // tickets, then syncs every ticket issued by then, all of
            // whose writes have returned.
            commit.syncing = true;
            commit.syncs += 1;
            drop(commit);
            self.let_appenders_finish();
            let mark = self.lock().written;
            let synced = self.file.sync_data();
            commit = self.lock();
            commit.syncing = false;
            match synced {
                Ok(()) => commit.durable = commit.durable.max(mark),
                Err(_) => commit.failed = true,
            }
            // Woken after the unlock, as `SharedStore`'s waiters are, so
            // that they do not queue for a lock still held.
            drop(commit);
            self.synced.notify_all();
            if let Err(e) = synced {
                panic!("floor-group: fdatasync: {e}");
            }
            commit = self.lock();
        }
    }
}

/// Runs `durable-threads` on the floor: `n` durable inserts from
/// `threads` threads into `dir/floor.dat`.
pub fn run(threads: u32, n: u64, dir: &Path) -> Outcome {
    let floor = GroupFloor {
        file: create(dir, true, n),
        next: AtomicU64::new(0),
        commit: Mutex::new(Commit::default()),
        synced: Condvar::new(),
        appending: AtomicU64::new(0),
    };
    let mut out = drive(threads, n, |e| floor.insert(e));
    let commit = floor.lock();
    assert_eq!(
        (
            floor.next.load(Ordering::Relaxed),
            commit.written,
            commit.durable
        ),
        (n, n, n),
        "floor-group: every record written once, and durable"
    );
    out.check = commit.syncs;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_lands_in_its_slot_and_is_synced() {
        let dir = std::env::temp_dir().join(format!("floor-group-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let n = 200;
        let out = run(8, n, &dir);
        assert_eq!(out.ops, n);
        assert!((1..=n).contains(&out.check), "{} syncs", out.check);
        let bytes = std::fs::read(dir.join("floor.dat")).unwrap();
        assert_eq!(bytes.len() as u64, n * RECORD_LEN);
        let mut found: Vec<Vec<u8>> = bytes
            .chunks(RECORD_LEN as usize)
            .map(<[u8]>::to_vec)
            .collect();
        let mut want: Vec<Vec<u8>> = (0..n).map(|i| record(&Entry::new(i, 0)).to_vec()).collect();
        found.sort();
        want.sort();
        assert_eq!(found, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
