//! A crash-safe append-only log file: append, sync, recovery, atomic rewrite
//! and single-writer locking, over a pluggable [`Storage`].
//!
//! **Who should use this crate:** anyone who needs a durable append-only log
//! on its own: an audit log, a job queue's journal, a Raft log. For a
//! persistent insertion-ordered map you probably want
//! [`indexmap_store`](https://docs.rs/indexmap_store), which is built on it.
//! The bytes on disk are specified by
//! [`wal-format`](https://docs.rs/wal-format).
//!
//! # The promise
//!
//! After any crash, recovery yields exactly a prefix of what was appended,
//! containing every record covered by a successful [`Wal::sync`]. Synced data
//! that is damaged is never dropped silently. A torn tail never bricks the
//! log. Every [`Wal::append`] hands its bytes to the operating system (one
//! positioned write) before it returns, so a killed process loses nothing
//! an append acknowledged (unless you opt into an
//! [append buffer](WalOptions::append_buffer)).
//!
//! ```
//! use std::sync::Arc;
//! use wal_io::{FsStorage, Wal, WalOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::env::temp_dir().join(format!("events-{}.log", std::process::id()));
//! let (mut wal, _report) =
//!     Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |_| Ok(()))?;
//! wal.append(b"user signed up")?;
//! wal.append_many([&b"order placed"[..], b"order paid"])?;
//! wal.sync()?; // durable against power loss
//! drop(wal);
//!
//! let mut events = Vec::new();
//! let (_wal, report) = Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |r| {
//!     events.push(r.payload.to_vec());
//!     Ok(())
//! })?;
//! assert_eq!(report.records, 3);
//! assert_eq!(events[2], b"order paid");
//! # drop(_wal);
//! # std::fs::remove_file(&path)?;
//! # std::fs::remove_file(format!("{}.lock", path.display()))?;
//! # Ok(())
//! # }
//! ```
//!
//! # Recovery
//!
//! [`Wal::open`] replays records front to back with memory bounded by the
//! read buffer and the largest frame: a record, or records appended
//! together in one batch frame of about 64 KiB (plus its last record).
//! Every record carries a *synced
//! watermark*: the number of records that were durable when it was written.
//! Where the valid records end before the end of the file, recovery looks
//! past the damage for a valid record whose watermark covers the damaged one.
//!
//! | What open finds | What it does | What you should do |
//! |---|---|---|
//! | No file, an empty file, or a strict prefix of a header | Creates a new log (syncing the directory); but an empty file or header prefix whose `<log>.lock` claims durable records is a log emptied or cut short (a new log is created whole, never partly): refuses with [`WalError::Truncated`], touching no byte | Nothing; for a log emptied on purpose, delete `<log>.lock` (or reopen with [`RecoveryMode::Salvage`]) |
//! | A torn tail: damaged or missing bytes that no later valid record proves were synced | Truncates to the last good record boundary, syncs, reports it in [`RecoveryReport::truncated`] | Nothing: those appends had not been synced |
//! | Zeros after the last record, to the end of the file, that no later record vouches for, with nothing vouched missing: space a writer with [`WalOptions::preallocate`] left (its process was killed, or the machine lost power) | With `preallocate` set: keeps them for later appends and reports them in [`RecoveryReport::preallocated`]; without: cuts them off as a torn tail | Nothing |
//! | Corruption of synced data: a later valid record proves the damaged one was synced | Refuses with [`WalError::Corrupt`] naming the offset, touching no byte | Restore from a backup, or reopen with [`RecoveryMode::Salvage`]: every byte from the damage on is first copied to `<log>.corrupt-<offset>` (synced), then the valid prefix is kept |
//! | Valid records that end before the length the header (of a rewritten log) or the sidecar `<log>.lock` vouched durable: the log was cut short, or its last synced records damaged | Refuses with [`WalError::Truncated`], touching no byte | Restore from a backup, or reopen with [`RecoveryMode::Salvage`] to keep the valid prefix; if you put an older copy of the log there on purpose, delete `<log>.lock` first |
//! | A FIFO, socket, device, directory or dangling symbolic link at the path | Refuses, touching nothing and creating nothing | Check the path |
//! | A file without a valid header (not a log, damaged header, newer version) | Refuses ([`WalError::NotALog`], [`WalError::BadHeader`]), touching no byte | Check the path; upgrade the library for a newer version |
//! | A log of another application ([`WalOptions::app_tag`]) | Refuses ([`WalError::WrongApp`]), touching no byte | Open it with the right application |
//! | A stale temporary file of an interrupted rewrite | Removes it if it is recognisably ours (empty, zeros, or starting with the log's magic byte); renames anything else to `<temp>.unrecognized`, bytes intact ([`RecoveryReport::set_aside_temp`]) | Nothing; inspect and delete a set-aside file |
//! | The log locked by another handle | Refuses ([`WalError::AlreadyOpen`]) | Close the other handle |
//!
//! If the replay callback fails, the open fails and no byte changes.
//!
//! ## Seals: protecting the last records
//!
//! The last records of a log have no later record to vouch for them, and a
//! damaged last record looks exactly like an interrupted write. So closing
//! the log ([`Wal::close`], or dropping it) *seals* it when records were
//! appended since the last seal: it syncs every record, then appends and
//! syncs a seal, a frame with no application data that vouches for all of
//! them. A rewrite ends its new file with one too. Damage to the last
//! records of a sealed log is corruption, refused as above. A log that was
//! not closed (its process was killed, or the machine lost power) has no
//! seal after its last records, and damage there is treated as a torn tail:
//! nothing can tell the two apart. Seals take a sequence number each (so
//! sequence numbers increase but are not always consecutive), are never
//! replayed, and are not counted in [`WalStats::records`] or
//! [`RecoveryReport::records`].
//!
//! A seal may carry a *note* of up to [`MAX_SEAL_NOTE`] bytes of yours
//! ([`Wal::set_seal_note`]): the next open hands it to
//! [`Replay::seal_note`] before the first record, while the file still
//! ends with that seal, so that the replayer can size what the records
//! will fill (indexmap_store notes its entry count). It is a hint: a log
//! that was not closed has none, and nothing is judged by it.
//! [`Wal::seal`] seals without closing. A reader about to follow the log
//! with a [`WalFollower`] reads it with [`read_seal_note`].
//!
//! ## Vouched lengths: protecting a closed log against truncation
//!
//! A log cut short at a frame boundary, or cut inside its last frame after
//! its seal was lost too, would look like a torn tail. So the lock file
//! `<log>.lock` also holds a small *claim*, written (and synced) after each
//! open, seal and rewrite, once the bytes it covers are synced: "the log
//! with this `file_id` holds durable records up to byte N". A rewritten
//! log's header carries the same for its own records. Recovery refuses a
//! log whose valid records end before either ([`WalError::Truncated`]).
//! Claims never overstate, a torn claim fails its checksum and is ignored,
//! and a lock file holding anything but a claim is never written to. A log
//! copied without its lock file keeps only its header's protection.
//! `FORMAT.md` in `wal-format` says exactly what is detected where.
//!
//! # Many threads, group commit, preallocation, buffering
//!
//! A [`Wal`] is `Send` and `Sync`: share it behind a `Mutex` or `RwLock`.
//! A sync costs one `fdatasync`; threads that each need their records
//! durable can share one (*group commit*): a leader takes a
//! [`SyncTicket`] with [`Wal::begin_sync`] under the lock, runs it
//! ([`SyncTicket::run`]) without the lock while other threads keep
//! appending, and records the outcome with [`Wal::finish_sync`], which
//! returns the durable watermark ([`Wal::durable_seq`],
//! [`WalStats::durable_seq`]): every record numbered below it is durable,
//! so the leader can wake every waiter whose record is. [`Wal::sync`] is
//! the three in a row. A failed ticket poisons the log as a failed sync
//! does.
//!
//! [`WalOptions::preallocate`] grows the file in zero-filled chunks ahead
//! of the records, so that most syncs need not record a new file length:
//! on this project's ext4 machine a `write` + `fdatasync` into zero-filled
//! space took about 30 % less time than one appending to the file. A clean close cuts the unused space off; what a killed writer
//! leaves is recognised on open (table above). A rewrite's output is not
//! preallocated (it is written whole, then synced); appends after it
//! preallocate again.
//!
//! [`WalOptions::append_buffer`] gathers appends in user space until the
//! buffer fills, [`Wal::flush`], a sync or close: fewer system calls, at
//! the price of losing the buffered records (up to the buffer's size,
//! [`WalStats::buffered_bytes`]) if the process is killed, not only on
//! power loss. Dropping the log flushes and seals it, best effort.
//!
//! # Readers beside the writer, and copies
//!
//! [`WalFollower`] opens a log read-only, by any number of processes and
//! whether a writer has it open or not: it takes no lock and changes
//! nothing (not a byte, not a timestamp, no new file). It replays what
//! [`Wal::open`] would (refusing the same damage with the same errors, but
//! leaving a torn tail in place, reported as pending), then
//! [`WalFollower::poll`] delivers only the frames appended since, and
//! starts over after a [`FollowEvent::Reset`] when the log was replaced by
//! a rewrite. [`Visibility::Durable`] shows only the records a watermark,
//! the header or the sidecar claim vouches were synced.
//!
//! [`Wal::write_copy`] writes a new log elsewhere (a backup) as a rewrite
//! writes its file, atomically, while the log stays open.
//!
//! # Failures while running
//!
//! After a failed write, sync or rewrite the log is *poisoned*: every
//! later write fails with [`WalError::Poisoned`], which names the first
//! failure. Two failures leave the log exactly as it was and usable
//! instead: a write refused for lack of space (`ENOSPC`, quota, file size
//! limit), once whatever part of it landed is cut off again; and a
//! [`Wal::rewrite`] that fails before its rename (its temporary file is
//! removed). A failed `fsync` is never retried and trusted (after one, Linux
//! may drop the unsynced pages and report the next `fsync` as a success).
//! It also cuts the file back to its last synced length (best effort), so
//! that the records the failed sync covered, which may never reach the disk
//! although the page cache still shows them, cannot be read back by a later
//! open and then vouched for as durable: they are lost, as a power loss
//! would lose them. Reads are unaffected; reopening re-validates from disk.
//!
//! # Errors from your code
//!
//! An open replays the records through your code, and
//! [`Batch::push_with`] lets your encoder write a record in place. Each
//! such entry point comes in two forms, which fail at the same record,
//! change the same bytes (none) and say the same thing:
//!
//! | Your code fails with | Use | Its failure comes back as |
//! |---|---|---|
//! | any error, boxed ([`BoxError`]) | [`Wal::open`], [`Wal::open_with`], [`WalFollower::open`], [`WalFollower::poll`], [`inspect::inspect`], [`Batch::push_with`] | [`WalError::Replay`], [`WalError::Encode`]: boxed |
//! | your own type `E` | [`Wal::open_typed`], [`Wal::open_with_typed`] (a [`Replay<E>`]), [`WalFollower::open_typed`], [`WalFollower::poll_typed`], [`inspect::inspect_typed`], [`Batch::push_with_typed`] | [`CallbackError::Replay`] (with the record's sequence number and offset), [`CallbackError::Encode`]: your `E`, by value; the log's own failures as [`CallbackError::Wal`] |
//!
//! The boxed forms suit code that only reports the error. The typed forms
//! suit code that must get its own error back, to match on it or to return
//! it as its own type, without downcasting a [`BoxError`]; `WalError::from`
//! boxes a [`CallbackError`] into the boxed form's error.
//! ([`RewriteWriter::push_with`] has the boxed form only: a rewrite's
//! `fill` returns a [`WalError`].)
//!
//! # Testing with `SimStorage`
//!
//! With the `sim` feature, `sim::SimStorage` is a deterministic in-memory
//! file system that can crash (losing, tearing or zeroing unsynced data in
//! every way a power loss can) and inject I/O errors at any operation. This
//! crate's own crash tests use it; so can yours.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback_error;
mod copy;
mod create;
mod durable;
mod error;
mod follow;
mod fs;
pub mod inspect;
mod inspection;
mod options;
mod read_only_fs;
mod reader;
mod recover;
mod replay;
mod report;
mod rewrite;
mod scan;
mod seal;
mod sidecar;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
pub mod storage;
mod sync;
mod tail;
mod temp;
mod wal;
mod write;

pub use copy::COPY_TMP_SUFFIX;
pub use error::{BoxError, CallbackError, VouchedBy, WalError};
pub use follow::{FollowEvent, Polled, Visibility, WalFollower};
pub use fs::FsStorage;
pub use options::{RecoveryMode, WalOptions};
pub use replay::{Replay, ReplayFailure};
pub use report::{RecoveryReport, ReplayRecord, Truncation, TruncationReason};
pub use rewrite::RewriteWriter;
pub use seal::read_seal_note;
pub use storage::{OpenMode, Storage, StorageFile, StorageLock};
pub use sync::{CompletedSync, SyncTicket};
pub use wal::{Batch, Wal, WalStats};
/// What is wrong with bytes that should be a log's, as [`WalError`] and
/// [`Truncation`] name it.
pub use wal_format::FormatError;
/// The longest note a seal carries ([`Wal::set_seal_note`]), in bytes.
pub use wal_format::MAX_SEAL_NOTE;
