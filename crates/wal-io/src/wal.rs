//! [`Wal`]: an open log, its appends, syncs and statistics.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wal_format::{FileHeader, FormatError, Packer};

use crate::durable::Durable;
use crate::error::{BoxError, CallbackError, WalError};
use crate::options::WalOptions;
use crate::sidecar::{self, Claim};
use crate::storage::{Storage, StorageFile, StorageLock};

/// An open, exclusively locked log file.
///
/// Every append hands its bytes to the operating system before it returns
/// (one positioned write per call), so a killed process loses nothing an
/// append acknowledged; [`sync`](Wal::sync) makes them survive power loss.
/// See the [crate docs](crate) for recovery.
///
/// Closing the log ([`close`](Wal::close), or dropping it) *seals* it when
/// records were appended since the last seal: every record is synced, then a
/// seal frame is appended and synced, which vouches for the last records so
/// that damage to them is later reported as corruption rather than cut off
/// as a torn tail. Dropping ignores errors; `close` reports them.
#[derive(Debug)]
pub struct Wal {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) path: PathBuf,
    /// The lock file, which also holds the sidecar's claim.
    pub(crate) lock_path: PathBuf,
    /// Whether claims may be written into the lock file (it is empty or
    /// already holds one).
    pub(crate) sidecar_writable: bool,
    /// The log file, shared with the [`SyncTicket`]s in flight.
    pub(crate) file: Arc<dyn StorageFile>,
    pub(crate) header: FileHeader,
    pub(crate) opts: WalOptions,
    /// Bytes of valid log (header included): where the next frame goes.
    pub(crate) len: u64,
    /// Records in the file.
    pub(crate) records: u64,
    /// Sequence number of the next record.
    pub(crate) next_seq: u64,
    /// What is known durable; changed only by its own methods.
    pub(crate) durable: Durable,
    /// The last frame is a record, which no later frame vouches for: closing
    /// should seal the log.
    pub(crate) needs_seal: bool,
    /// What the next seal carries ([`Wal::set_seal_note`]).
    pub(crate) seal_note: Vec<u8>,
    pub(crate) buf: Vec<u8>,
    /// Frames appended but not yet handed to the operating system (with
    /// [`WalOptions::append_buffer`]); they end at `len`.
    pub(crate) pending: Vec<u8>,
    /// The file's length as this writer made it: `len` minus the pending
    /// bytes, plus the zeros of [`WalOptions::preallocate`] not yet written
    /// over.
    pub(crate) allocated: u64,
    /// The last chunk [`WalOptions::preallocate`] could not allocate for
    /// lack of space (its end; 0 if none): appends ending before it are
    /// written without preallocating.
    pub(crate) prealloc_refused: u64,
    /// The log file's generation: a rewrite replaces the file and starts a
    /// new one, so that a [`SyncTicket`](crate::SyncTicket) taken before
    /// it is not taken for one about the new file.
    pub(crate) epoch: u64,
    pub(crate) poison: Option<String>,
    /// The process that opened the log: the only one that may write to it
    /// or seal it (a forked child shares the file, not the ownership).
    pub(crate) owner: u32,
    // Declared last so the lock is released after the file is closed.
    pub(crate) _lock: Box<dyn StorageLock>,
}

/// A log's size and durability, as [`Wal::stats`] reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WalStats {
    /// Bytes of log, header included: where the next frame goes. The
    /// file may be longer (space [preallocated](WalOptions::preallocate)
    /// ahead of the frames) or, with an
    /// [append buffer](WalOptions::append_buffer), shorter by
    /// [`buffered_bytes`](Self::buffered_bytes).
    pub bytes: u64,
    /// Records in the file (seals, which hold no application data, are
    /// not counted).
    pub records: u64,
    /// Records appended since the last successful sync.
    pub unsynced_records: u64,
    /// Bytes appended since the last successful sync (frames, buffered
    /// ones included).
    pub unsynced_bytes: u64,
    /// Sequence number the next record will get.
    pub next_seq: u64,
    /// The durable watermark: every record with a sequence number below
    /// it survives power loss ([`Wal::durable_seq`]).
    pub durable_seq: u64,
    /// Bytes appended but still in the append buffer
    /// ([`WalOptions::append_buffer`]): a killed process loses them.
    pub buffered_bytes: u64,
}

/// Records gathered for one write; see [`Wal::batch`].
#[derive(Debug)]
pub struct Batch<'w> {
    wal: &'w mut Wal,
    first_seq: u64,
    packer: Packer,
}

impl Wal {
    /// The log's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file header (application tag and version, base sequence number).
    #[must_use]
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// The options the log was opened with.
    #[must_use]
    pub fn options(&self) -> &WalOptions {
        &self.opts
    }

    /// Current size and durability.
    #[must_use]
    pub fn stats(&self) -> WalStats {
        WalStats {
            bytes: self.len,
            records: self.records,
            unsynced_records: self.next_seq - self.durable.upto(),
            unsynced_bytes: self.len.saturating_sub(self.durable.len()),
            next_seq: self.next_seq,
            durable_seq: self.durable.upto(),
            buffered_bytes: self.pending.len() as u64,
        }
    }

    /// The first failure that poisoned the log, if any.
    #[must_use]
    pub fn poisoned(&self) -> Option<&str> {
        self.poison.as_deref()
    }

    /// Appends one record in one write; returns its sequence number.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        let mut batch = self.batch()?;
        batch.push(payload)?;
        Ok(batch.commit()?.start)
    }

    /// Appends every payload in one write; returns their sequence numbers.
    ///
    /// The records share batch frames (one checksum per frame of about
    /// [`BATCH_TARGET`](wal_format::BATCH_TARGET) bytes, four framing bytes
    /// per record), so this costs little more than writing the payloads.
    /// A crash may keep any prefix of the frames, so any prefix of the
    /// records: for all-or-nothing, put them in one record.
    pub fn append_many<'p>(
        &mut self,
        payloads: impl IntoIterator<Item = &'p [u8]>,
    ) -> Result<Range<u64>, WalError> {
        let mut batch = self.batch()?;
        for payload in payloads {
            batch.push(payload)?;
        }
        batch.commit()
    }

    /// Starts gathering records to append in one write with
    /// [`Batch::commit`]. Fails if the log is poisoned.
    pub fn batch(&mut self) -> Result<Batch<'_>, WalError> {
        self.check_poison()?;
        self.buf.clear();
        let first_seq = self.next_seq;
        let packer = self.packer(first_seq, self.durable.upto());
        Ok(Batch {
            wal: self,
            first_seq,
            packer,
        })
    }

    /// Hands the records gathered in the append buffer
    /// ([`WalOptions::append_buffer`]) to the operating system, so that a
    /// killed process no longer loses them; without a buffer, appends
    /// already did, and this only checks for poisoning.
    pub fn flush(&mut self) -> Result<(), WalError> {
        self.check_poison()?;
        self.flush_buffer()
    }

    /// Seals the log if records were appended since it was last sealed
    /// (see [`Wal`]), then closes it. A poisoned log is closed unsealed
    /// and the poisoning reported.
    pub fn close(mut self) -> Result<(), WalError> {
        self.seal()
    }

    /// Records in the sidecar that the log's records are durable up to
    /// byte `records_end` (best effort; see [`crate::sidecar`]). The caller
    /// has synced them.
    pub(crate) fn write_claim(&self, records_end: u64) {
        if self.sidecar_writable && self.header.file_id != 0 {
            sidecar::write(
                &*self.storage,
                &self.lock_path,
                Claim {
                    file_id: self.header.file_id,
                    durable_len: records_end,
                },
            );
        }
    }

    /// Refuses a process other than the one that opened the log (a forked
    /// child). Called by the rare operations (sync, seal, close, drop,
    /// rewrite), not by appends: `getpid` is a system call, about 120 ns
    /// here, a tenth of an insert.
    pub(crate) fn check_owner(&self) -> Result<(), WalError> {
        let current = std::process::id();
        if current != self.owner {
            return Err(WalError::WrongProcess {
                path: self.path.clone(),
                owner: self.owner,
                current,
            });
        }
        Ok(())
    }

    pub(crate) fn check_poison(&self) -> Result<(), WalError> {
        match &self.poison {
            Some(first) => Err(WalError::Poisoned {
                first: first.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Records `err` as the first failure (if none yet) and returns it.
    pub(crate) fn poison_with(&mut self, err: WalError) -> WalError {
        if self.poison.is_none() {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            self.poison = Some(text);
        }
        err
    }

    /// A packer for records from `first_seq` on that declare `synced_upto`,
    /// writing batch frames only if the file's format version has them.
    pub(crate) fn packer(&self, first_seq: u64, synced_upto: u64) -> Packer {
        let packer = Packer::new(first_seq, synced_upto, self.opts.max_record_len);
        if self.header.allows_batches() {
            packer
        } else {
            packer.without_batches()
        }
    }
}

impl Drop for Wal {
    /// Seals the log (see [`Wal`]); errors are ignored: use
    /// [`Wal::close`] to see them.
    fn drop(&mut self) {
        let _ = self.seal();
    }
}

/// Packs one record into `buf` whose payload `encode` writes in place. On
/// error the record leaves no bytes behind; `encode`'s error comes back as
/// it is, in [`CallbackError::Encode`].
pub(crate) fn pack_with_typed<E>(
    packer: &mut Packer,
    buf: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), CallbackError<E>> {
    let entry = packer.begin(buf);
    if let Err(source) = encode(buf) {
        packer.abandon(buf, entry);
        return Err(CallbackError::Encode { source });
    }
    match packer.end(buf, entry) {
        Ok(_) => Ok(()),
        Err(e) => Err(pack_error(e).into()),
    }
}

/// [`pack_with_typed`], with `encode`'s error boxed in
/// [`WalError::Encode`].
pub(crate) fn pack_with<E: Into<BoxError>>(
    packer: &mut Packer,
    buf: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), WalError> {
    pack_with_typed(packer, buf, encode).map_err(WalError::from)
}

/// The error of a record the packer refused.
pub(crate) fn pack_error(e: FormatError) -> WalError {
    match e {
        FormatError::TooLarge { len, max } => WalError::RecordTooLarge { len, max },
        e => WalError::Encode {
            source: Box::new(e),
        },
    }
}

impl Batch<'_> {
    /// Adds a record with `payload`.
    #[inline]
    pub fn push(&mut self, payload: &[u8]) -> Result<(), WalError> {
        match self.packer.push(&mut self.wal.buf, payload) {
            Ok(_) => Ok(()),
            Err(e) => Err(pack_error(e)),
        }
    }

    /// Adds a record whose payload `encode` appends to the buffer it is
    /// given (so a codec can serialise in place). If `encode` fails, the
    /// record is dropped and the error returned; the batch stays usable.
    ///
    /// `encode`'s error is boxed, in [`WalError::Encode`];
    /// [`push_with_typed`](Self::push_with_typed) hands it back as it is.
    pub fn push_with<E: Into<BoxError>>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), WalError> {
        pack_with(&mut self.packer, &mut self.wal.buf, encode)
    }

    /// Like [`push_with`](Self::push_with), with `encode`'s error handed
    /// back by value (not boxed) in [`CallbackError::Encode`]; every other
    /// failure (a record over [`WalOptions::max_record_len`]) is
    /// [`CallbackError::Wal`], the [`WalError`] `push_with` returns. Use
    /// this when the caller needs its own error type back without
    /// downcasting a [`BoxError`]. The record is dropped on failure; the
    /// batch stays usable.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wal_io::{CallbackError, FsStorage, Wal, WalOptions};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("events.log");
    /// let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |_| Ok(()))?;
    /// let mut batch = wal.batch()?;
    /// let pushed = batch.push_with_typed(|_buf| Err(std::fmt::Error));
    /// assert!(matches!(pushed, Err(CallbackError::Encode { source: std::fmt::Error })));
    /// assert!(batch.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_with_typed<E>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), CallbackError<E>> {
        pack_with_typed(&mut self.packer, &mut self.wal.buf, encode)
    }

    /// Records gathered so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.packer.next_seq().wrapping_sub(self.first_seq)
    }

    /// Whether no record has been gathered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the gathered records in one write; returns their sequence
    /// numbers. An empty batch writes nothing.
    pub fn commit(mut self) -> Result<Range<u64>, WalError> {
        let count = self.len();
        if count == 0 {
            return Ok(self.first_seq..self.first_seq);
        }
        self.packer.finish(&mut self.wal.buf);
        self.wal.write_buf(count)
    }
}
