//! When writes become durable: the [`Durability`] policies, and the step
//! every mutation takes after appending its record.

use std::time::{Duration, Instant};

use wal_io::{Wal, WalError};

/// When a store's mutations become durable against power loss, set with
/// [`OpenOptions::durability`](crate::OpenOptions::durability). Whatever
/// the policy, a mutation is logged before the map changes, and a crash
/// leaves a prefix of the mutations; the policies differ in how long a
/// suffix a crash can take away.
///
/// | Policy | A killed process loses | Power loss loses | Cost per mutation |
/// |---|---|---|---|
/// | `Always` | nothing acknowledged | nothing acknowledged | one `fdatasync` (shared by concurrent writers through [`SharedStore`](crate::SharedStore)) |
/// | `OnFlush` (default) | nothing acknowledged | what came after the last `flush` | one `write(2)` |
/// | `Interval(d)` | nothing acknowledged | at most the last `d` of mutations | one `write(2)`, one `fdatasync` per `d` |
/// | `Bytes(n)` | nothing acknowledged | at most the last `n` bytes of records | one `write(2)`, one `fdatasync` per `n` bytes |
/// | `Buffered` | at most `buf_capacity` bytes of records | what came after the last `flush` | a copy into a buffer |
///
/// `Interval` and `Bytes` sync on the mutation that reaches the window.
/// With a [`SharedStore`](crate::SharedStore) a background thread also
/// syncs when writes stop (after `d`, or [`Durability::IDLE_SYNC`] for
/// `Bytes`), so the window holds for an idle store too; a plain
/// [`IndexMapStore`](crate::IndexMapStore) cannot act between calls, so
/// when it is idle its unsynced tail waits for the next mutation, `flush`,
/// `close` or drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every mutation is synced (`fdatasync`) before it returns; the
    /// spec's `sync_on_write: true`.
    Always,
    /// Every mutation reaches the operating system before it returns
    /// (a killed process loses nothing) and is durable at the next
    /// [`flush`](crate::IndexMapStore::flush).
    #[default]
    OnFlush,
    /// As `OnFlush`, and synced at most this long after it was written.
    Interval(Duration),
    /// As `OnFlush`, and synced once this many bytes of records are
    /// unsynced.
    Bytes(u64),
    /// Records gather in a user-space buffer of
    /// [`StoreConfig::buf_capacity`](crate::StoreConfig::buf_capacity)
    /// bytes and reach the operating system when it fills or at `flush`:
    /// the fastest bulk load, and a killed process loses what is in the
    /// buffer. The spec's "buffered writes".
    Buffered,
}

impl Durability {
    /// How long a [`SharedStore`](crate::SharedStore) under
    /// [`Durability::Bytes`] waits after the last write before it syncs an
    /// unsynced tail smaller than the window.
    pub const IDLE_SYNC: Duration = Duration::from_millis(100);
}

/// A store's policy and the state it needs: when the log was last synced,
/// and whether a [`SharedStore`](crate::SharedStore) syncs instead.
#[derive(Debug, Clone)]
pub(crate) struct SyncPolicy {
    pub(crate) durability: Durability,
    last_sync: Instant,
    /// Set by a shared handle, which syncs outside the store's lock.
    pub(crate) deferred: bool,
}

impl SyncPolicy {
    pub(crate) fn new(durability: Durability) -> Self {
        Self {
            durability,
            last_sync: Instant::now(),
            deferred: false,
        }
    }

    /// Whether the log is due a sync now that a record was appended.
    pub(crate) fn due(&self, wal: &Wal) -> bool {
        match self.durability {
            Durability::Always => true,
            Durability::Interval(d) => self.last_sync.elapsed() >= d,
            Durability::Bytes(n) => wal.stats().unsynced_bytes >= n,
            Durability::OnFlush | Durability::Buffered => false,
        }
    }

    /// After a record was appended: syncs if the policy says so (unless a
    /// shared handle does that).
    pub(crate) fn after_append(&mut self, wal: &mut Wal) -> Result<(), WalError> {
        if !self.deferred && self.due(wal) {
            wal.sync()?;
            self.synced();
        }
        Ok(())
    }

    /// Notes a successful sync.
    pub(crate) fn synced(&mut self) {
        self.last_sync = Instant::now();
    }
}
