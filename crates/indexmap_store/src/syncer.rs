//! The background syncer of a [`SharedStore`](crate::SharedStore) under
//! `Interval` or `Bytes`: starting it, its loop, and stopping it when the
//! last handle goes.

use std::sync::{Arc, PoisonError, Weak};

use crate::durability::Durability;
use crate::group_commit::Mailbox;
use crate::shared::Inner;

/// Starts the syncer of `inner`. Without the thread (it could not be
/// spawned) the window holds only while writes continue; the store still
/// works.
pub(crate) fn start<K, V, S>(inner: &Arc<Inner<K, V, S>>)
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: Send + Sync + 'static,
{
    let weak = Arc::downgrade(inner);
    let mailbox = Arc::clone(&inner.mailbox);
    let durability = inner.durability;
    let handle = std::thread::Builder::new()
        .name("indexmap_store-sync".into())
        .spawn(move || run_syncer(&weak, &mailbox, durability));
    if let Ok(handle) = handle {
        *inner.syncer.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
    }
}

impl<K, V, S> Inner<K, V, S> {
    /// Once the last handle is gone (closed or dropped): stops the
    /// background syncer and waits for it, and for any other handle that
    /// is still letting go (a concurrent `close` or drop), to drop its
    /// reference, so that the caller's is the only one and the store is
    /// closed by the caller, before it returns, not a moment later on
    /// another thread (where a reopen of the path would find it still
    /// locked).
    pub(crate) fn last_handle_gone(self: &Arc<Self>) {
        self.mailbox.stop();
        let syncer = self
            .syncer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = syncer {
            // It exits after any sync it is running.
            let _ = handle.join();
        }
        // No handle is left to make a new reference, and the syncer is
        // gone: the other references are dropped within moments.
        while Arc::strong_count(self) > 1 {
            std::thread::yield_now();
        }
    }
}

/// The background syncer of an `Interval` or `Bytes` store: sleeps until
/// the window of the oldest unsynced write is half over (`Interval`), a
/// writer crossed the byte window, or writes stopped for
/// [`Durability::IDLE_SYNC`] (`Bytes`), then leads a group-commit round.
/// Holds the store only while syncing; ends when told to stop, when the
/// store is gone, or after a failed sync (the store is poisoned then).
fn run_syncer<K, V, S>(weak: &Weak<Inner<K, V, S>>, mailbox: &Mailbox, durability: Durability) {
    let mut pending = mailbox.lock();
    loop {
        if pending.stop {
            return;
        }
        let deadline = match durability {
            Durability::Interval(d) => pending.dirty_since.map(|t| t + d / 2),
            _ => pending
                .dirty_since
                .and(pending.last_write)
                .map(|t| t + Durability::IDLE_SYNC),
        };
        let now = std::time::Instant::now();
        let due = pending.nudged || deadline.is_some_and(|t| t <= now);
        if !due {
            pending = match deadline {
                Some(t) => {
                    mailbox
                        .wake
                        .wait_timeout(pending, t - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => mailbox
                    .wake
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            continue;
        }
        // Cleared before the ticket is taken: a write from now on marks
        // the log dirty again, and this sync covers at least up to here.
        pending.nudged = false;
        pending.dirty_since = None;
        pending.last_write = None;
        drop(pending);
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let target = inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .wal
            .stats()
            .next_seq;
        let synced = inner.commit.wait_durable(&inner.store, target);
        drop(inner);
        if synced.is_err() {
            return;
        }
        pending = mailbox.lock();
    }
}
