//! Syncing: [`Wal::sync`], and the group-commit primitive it is built on,
//! [`Wal::begin_sync`] / [`SyncTicket::run`] / [`Wal::finish_sync`].
//!
//! A sync costs one `fdatasync`, a disk round trip. Threads that each need
//! their records durable can share one: a *leader* takes a ticket under
//! the lock that guards the [`Wal`], releases the lock, runs the ticket
//! (the `fdatasync`, borrowing nothing), takes the lock again and records
//! the result. Appends from other threads continue while the sync is in
//! flight; the ticket covers exactly the records appended before it was
//! taken, and the next leader's ticket covers the rest.

use std::io;
use std::sync::Arc;

use crate::error::WalError;
use crate::storage::StorageFile;
use crate::wal::Wal;

/// A sync taken by [`Wal::begin_sync`]: it covers every record appended
/// before it was taken. [`run`](SyncTicket::run) it (on any thread,
/// without the [`Wal`]), then hand the result to [`Wal::finish_sync`].
/// Dropping a ticket unrun records nothing.
///
/// Group commit on top of it: threads share the log as
/// `Mutex<Wal>` plus a flag "a sync is in flight" and a `Condvar`. A
/// thread that needs record `seq` durable returns at once if
/// [`Wal::durable_seq`] is above `seq`; otherwise, if no sync is in
/// flight, it becomes the leader: it sets the flag, takes a ticket, unlocks,
/// runs it, locks, finishes it, clears the flag and wakes every waiter;
/// else it waits on the `Condvar` and checks again. One `fdatasync` then
/// serves every record appended before the leader took its ticket, and the
/// next leader's serves those that arrived during it. A finished ticket's
/// error poisons the log: every waiter should then fail.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use wal_io::sim::SimStorage;
/// use wal_io::{Wal, WalOptions};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (wal, _) = Wal::open(Arc::new(SimStorage::new(1)), "jobs.log", WalOptions::default(), |_| Ok(()))?;
/// let wal = Mutex::new(wal);
/// let seq = wal.lock().unwrap().append(b"job 1")?;
/// // The leader: a ticket under the lock, the fdatasync without it.
/// let ticket = wal.lock().unwrap().begin_sync()?;
/// let done = ticket.run();
/// let durable = wal.lock().unwrap().finish_sync(done)?;
/// assert!(seq < durable); // every record below `durable` survives power loss
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a ticket does nothing until it is run and finished"]
pub struct SyncTicket {
    /// The file to sync; `None` when everything it covers was already
    /// durable.
    file: Option<Arc<dyn StorageFile>>,
    /// Records below this sequence number are covered.
    upto: u64,
    /// Bytes of the log (header included) covered.
    len: u64,
    /// The log file's generation (a rewrite starts a new one).
    epoch: u64,
}

/// A [`SyncTicket`] that has run, with its outcome; see [`Wal::finish_sync`].
#[derive(Debug)]
#[must_use = "the sync's outcome must be recorded with Wal::finish_sync"]
pub struct CompletedSync {
    ticket: SyncTicket,
    result: io::Result<()>,
}

impl SyncTicket {
    /// Records with a sequence number below this one are durable once the
    /// ticket has run successfully and been finished.
    #[must_use]
    pub fn upto(&self) -> u64 {
        self.upto
    }

    /// Runs the sync (`fdatasync`; nothing when the ticket covers nothing
    /// new). Blocks for a disk round trip; borrows no [`Wal`].
    pub fn run(self) -> CompletedSync {
        let result = match &self.file {
            Some(file) => file.sync_data(),
            None => Ok(()),
        };
        CompletedSync {
            ticket: self,
            result,
        }
    }
}

impl CompletedSync {
    /// Whether the sync succeeded (it is recorded only by
    /// [`Wal::finish_sync`]).
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.result.is_ok()
    }
}

impl Wal {
    /// Makes every appended record durable (`fdatasync`). On failure the
    /// log is poisoned: the sync is never retried and trusted.
    ///
    /// A failed sync also cuts the file back to its last synced length (best
    /// effort). The operating system may have dropped the unsynced bytes
    /// while still showing them to readers (Linux does); cut, they cannot
    /// be read back by a later open, made durable by its sync and vouched
    /// for by later records. The records appended since the last successful
    /// sync are lost with them, as a power loss would lose them.
    ///
    /// The same as [`begin_sync`](Self::begin_sync), [`SyncTicket::run`]
    /// and [`finish_sync`](Self::finish_sync) in a row.
    pub fn sync(&mut self) -> Result<(), WalError> {
        let ticket = self.begin_sync()?;
        self.finish_sync(ticket.run()).map(drop)
    }

    /// Takes a ticket for a sync covering every record appended so far
    /// (handing any buffered records to the operating system first), for
    /// group commit: run it with [`SyncTicket::run`] without holding the
    /// `Wal` (other threads may keep appending), then record its outcome
    /// with [`finish_sync`](Self::finish_sync). Fails if the log is
    /// poisoned or this is not the process that opened it.
    pub fn begin_sync(&mut self) -> Result<SyncTicket, WalError> {
        self.check_owner()?;
        self.check_poison()?;
        self.flush_buffer()?;
        let file = (self.durable.upto() < self.next_seq).then(|| Arc::clone(&self.file));
        Ok(SyncTicket {
            file,
            upto: self.next_seq,
            len: self.len,
            epoch: self.epoch,
        })
    }

    /// Records the outcome of a ticket's sync; returns the durable
    /// watermark ([`durable_seq`](Self::durable_seq)): every record whose
    /// sequence number is below it is durable.
    ///
    /// Success advances the watermark to what the ticket covered, never
    /// back (tickets may finish in any order). Failure poisons the log
    /// exactly as a failed [`sync`](Self::sync) does, cutting the file
    /// back to its last synced length, and returns the error; so does
    /// finishing any ticket once the log is poisoned, since a sync after a
    /// failed one proves nothing. A ticket taken before a
    /// [`rewrite`](Self::rewrite) covers nothing the rewrite did not
    /// already make durable: its outcome is ignored.
    pub fn finish_sync(&mut self, done: CompletedSync) -> Result<u64, WalError> {
        let CompletedSync { ticket, result } = done;
        self.check_poison()?;
        if ticket.epoch != self.epoch {
            return Ok(self.durable.upto());
        }
        if let Err(e) = result {
            let err = self.poison_with(WalError::io("syncing", &self.path, e));
            self.cut_back();
            return Err(err);
        }
        self.durable.synced(ticket.upto, ticket.len);
        Ok(self.durable.upto())
    }

    /// The durable watermark: every record with a sequence number below it
    /// survives power loss (it was covered by a successful sync, or was in
    /// the file when it was opened).
    #[must_use]
    pub fn durable_seq(&self) -> u64 {
        self.durable.upto()
    }
}
