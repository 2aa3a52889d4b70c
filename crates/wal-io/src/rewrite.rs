//! Atomic rewrite: replace the whole log with a new sequence of records.

use std::path::Path;

use wal_format::{FileHeader, Packer, encode_seal};

use crate::error::{BoxError, Context, WalError};
use crate::options::WalOptions;
use crate::storage::{OpenMode, StorageFile, parent_dir};
use crate::temp::{clear_temp, sibling};
use crate::wal::Wal;
use crate::wal::pack_with;

/// Receives the records of a rewrite; see [`Wal::rewrite`].
#[derive(Debug)]
pub struct RewriteWriter<'w> {
    file: &'w dyn StorageFile,
    buf: Vec<u8>,
    /// Bytes written to the file so far.
    written: u64,
    packer: Packer,
    base_seq: u64,
    flush_at: usize,
    /// An I/O error that must fail the rewrite even if the caller ignores it.
    failed: Option<std::io::Error>,
}

impl RewriteWriter<'_> {
    /// Adds a record with `payload`.
    pub fn push(&mut self, payload: &[u8]) -> Result<(), WalError> {
        self.push_with(|buf| {
            buf.extend_from_slice(payload);
            Ok::<(), std::convert::Infallible>(())
        })
    }

    /// Adds a record whose payload `encode` appends to the buffer it is
    /// given.
    pub fn push_with<E: Into<BoxError>>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), WalError> {
        if let Some(e) = &self.failed {
            return Err(WalError::io(
                "writing to",
                "the rewrite's temporary file",
                clone_io(e),
            ));
        }
        pack_with(&mut self.packer, &mut self.buf, encode)?;
        if self.buf.len() >= self.flush_at {
            self.packer.finish(&mut self.buf);
            self.write_out()?;
        }
        Ok(())
    }

    /// Records pushed so far.
    #[must_use]
    pub fn records(&self) -> u64 {
        self.packer.next_seq() - self.base_seq
    }

    fn write_out(&mut self) -> Result<(), WalError> {
        if let Err(e) = self.file.write_at(self.written, &self.buf) {
            let err = WalError::io("writing to", "the rewrite's temporary file", clone_io(&e));
            self.failed = Some(e);
            return Err(err);
        }
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

fn clone_io(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.to_string()),
    }
}

impl Wal {
    /// Replaces the whole log, atomically, with the records `fill` pushes,
    /// then keeps appending to the new file. Returns the number of records
    /// written.
    ///
    /// The records go to `<log><temp_suffix>`, which is synced, renamed over
    /// the log, and made durable by syncing the directory. A crash at any
    /// point leaves either the old log or the new one. Sequence numbers go
    /// on from where the old log ended. The new file has the current format
    /// version, the opener's [`WalOptions::app_version`](crate::WalOptions::app_version),
    /// a new `file_id`, and a header that vouches for its whole length, so
    /// that a later open refuses it cut short.
    ///
    /// If `fill` fails, or storage fails before the rename (a full disk
    /// while writing or syncing the temporary file), the temporary file is
    /// removed and the log is unchanged **and still usable**: the error is
    /// returned and the rewrite may be tried again later. If the rename or
    /// the directory sync after it fails, the log is poisoned, since which
    /// file is the log (and whether that is durable) is then unknown until
    /// it is reopened.
    pub fn rewrite<F>(&mut self, fill: F) -> Result<u64, WalError>
    where
        F: FnOnce(&mut RewriteWriter<'_>) -> Result<(), WalError>,
    {
        self.check_owner()?;
        self.check_poison()?;
        let tmp = sibling(&self.path, &self.opts.temp_suffix);
        let dir = parent_dir(&self.path).to_path_buf();
        // A leftover of an earlier rewrite is removed, anything else set aside.
        clear_temp(&*self.storage, &self.path, &self.opts)?;
        let file = self
            .storage
            .open(&tmp, OpenMode::CreateNew)
            .context("creating", &tmp)?;
        let base_seq = self.next_seq;
        let header = FileHeader::new(&self.opts.app_tag, self.opts.app_version, base_seq)
            .with_file_id(self.storage.new_file_id());
        let filled = match fill_file(&*file, header, &self.opts, &tmp, fill) {
            Ok(filled) => filled,
            Err(err) => {
                drop(file);
                // Best effort: the open after a crash removes it otherwise.
                if self.storage.remove(&tmp).is_ok() {
                    let _ = self.storage.sync_dir(&dir);
                }
                return Err(err);
            }
        };
        let Filled {
            header,
            records,
            written,
            next_seq,
            records_end,
        } = filled;
        if let Err(e) = self.storage.rename(&tmp, &self.path) {
            return Err(self.poison_with(WalError::io("renaming over", &self.path, e)));
        }
        // From here on the new file is the log, durable or not.
        self.file = std::sync::Arc::from(file);
        self.epoch += 1;
        self.pending.clear();
        self.allocated = written;
        self.prealloc_refused = 0;
        self.header = header;
        self.len = written;
        self.records = records;
        self.next_seq = next_seq;
        self.durable.new_file(base_seq);
        self.needs_seal = false;
        if let Err(e) = self.storage.sync_dir(&dir) {
            return Err(self.poison_with(WalError::io("syncing directory of", &self.path, e)));
        }
        // fill_file synced the file, and now its name is durable too.
        self.durable.synced(next_seq, written);
        self.write_claim(records_end);
        Ok(self.records)
    }
}

/// What [`fill_file`] wrote.
pub(crate) struct Filled {
    /// The header, vouching for every record.
    pub(crate) header: FileHeader,
    /// Records written.
    pub(crate) records: u64,
    /// Bytes written.
    pub(crate) written: u64,
    /// The sequence number after the last frame (the seal's included).
    pub(crate) next_seq: u64,
    /// Where the last frame holding records ends.
    pub(crate) records_end: u64,
}

/// Writes a whole log into the new, empty `file` (at `tmp`): `header`,
/// the records `fill` pushes, a seal, then the header again vouching for
/// every record, and syncs it. The caller renames it into place.
pub(crate) fn fill_file<F>(
    file: &dyn StorageFile,
    header: FileHeader,
    opts: &WalOptions,
    tmp: &Path,
    fill: F,
) -> Result<Filled, WalError>
where
    F: FnOnce(&mut RewriteWriter<'_>) -> Result<(), WalError>,
{
    let base_seq = header.base_seq;
    // The file is synced before it replaces the log, so as part of the
    // log every record before each one is durable: declaring so (a
    // watermark at the record itself, lag 0) lets recovery tell damage
    // to a compacted log from a torn tail. The new file has the current
    // format version, so its records share batch frames.
    let packer = Packer::new(base_seq, u64::MAX, opts.max_record_len);
    let mut writer = RewriteWriter {
        file,
        buf: Vec::with_capacity(opts.buf_capacity.max(4096)),
        written: 0,
        packer,
        base_seq,
        flush_at: opts.buf_capacity.max(4096),
        failed: None,
    };
    writer.buf.extend_from_slice(&header.encode());
    let filled = fill(&mut writer).and_then(|()| match writer.failed.take() {
        Some(e) => Err(WalError::io("writing to", tmp, e)),
        None => Ok(writer.records()),
    });
    let mut records_end = 0;
    let filled = filled.and_then(|records| {
        // End with a seal, so that the last record is vouched for too:
        // the file is synced before it becomes the log.
        writer.packer.finish(&mut writer.buf);
        records_end = writer.written + writer.buf.len() as u64;
        if records > 0 {
            encode_seal(&mut writer.buf, writer.packer.next_seq());
        }
        writer.write_out().map(|()| records)
    });
    let seal = u64::from(matches!(filled, Ok(records) if records > 0));
    let (written, next_seq) = (writer.written, writer.packer.next_seq() + seal);
    drop(writer);
    // The header now vouches for every record in the file: it is all
    // synced before the rename makes it the log.
    let header = header.with_vouched_len(records_end);
    let records = filled?;
    file.write_at(0, &header.encode())
        .and_then(|()| file.sync_data())
        .context("syncing", tmp)?;
    Ok(Filled {
        header,
        records,
        written,
        next_seq,
        records_end,
    })
}
