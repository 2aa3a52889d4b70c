//! Getting appended frames into the file: the append buffer
//! ([`WalOptions::append_buffer`](crate::WalOptions::append_buffer)), the
//! preallocated space ([`WalOptions::preallocate`](crate::WalOptions::preallocate)),
//! and the cut-backs after a full disk or a failed sync.

use std::io;
use std::ops::Range;

use wal_format::FrameHeader;

use crate::error::WalError;
use crate::wal::Wal;

impl Wal {
    /// Appends `self.buf` to the log as `count` records: written at once,
    /// or gathered in the append buffer if there is one and it has room.
    pub(crate) fn write_buf(&mut self, count: u64) -> Result<Range<u64>, WalError> {
        let cap = self.opts.append_buffer;
        if cap > 0 {
            if self.pending.len() + self.buf.len() > cap {
                self.flush_buffer()?;
            }
            if self.buf.len() < cap {
                self.pending.extend_from_slice(&self.buf);
                return Ok(self.account(count));
            }
        }
        let bytes = std::mem::take(&mut self.buf);
        let written = self.write_at_end(self.len, &bytes, true);
        self.buf = bytes;
        if let Err(e) = written {
            self.buf.clear();
            return Err(e);
        }
        Ok(self.account(count))
    }

    /// Counts `self.buf`'s `count` records as appended (written, or in the
    /// append buffer); returns their sequence numbers.
    pub(crate) fn account(&mut self, count: u64) -> Range<u64> {
        self.len += self.buf.len() as u64;
        let first = self.next_seq;
        self.next_seq += count;
        self.records += count;
        self.needs_seal = true;
        // Keep a large buffer while batches keep filling it (reallocating
        // and faulting in megabytes per call would cost more than the
        // write); give it back once a batch uses under a quarter of it.
        let keep = self.opts.buf_capacity.max(4096);
        if self.buf.capacity() > 2 * keep && self.buf.len() < self.buf.capacity() / 4 {
            self.buf = Vec::with_capacity(self.opts.buf_capacity.min(1 << 20));
        } else {
            self.buf.clear();
        }
        first..self.next_seq
    }

    /// Hands the append buffer to the operating system. On a full disk
    /// the leading whole frames that fit are written and the rest is
    /// kept, to be written by a later flush once there is room; the error
    /// is returned all the same.
    pub(crate) fn flush_buffer(&mut self) -> Result<(), WalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let at = self.len - pending.len() as u64;
        let mut result = self.write_at_end(at, &pending, true);
        let mut written = if result.is_ok() { pending.len() } else { 0 };
        if result.is_err() && self.poisoned().is_none() {
            written = self.write_what_fits(at, &pending);
        }
        self.pending = pending;
        self.pending.drain(..written);
        if self.pending.is_empty() {
            result = Ok(());
        }
        result
    }

    /// After `pending` did not fit at `at`: writes the longest run of its
    /// leading whole frames that the disk takes, trying halves of what is
    /// left (a few writes, not one per frame), so that the file always
    /// ends on a frame boundary. Returns how many bytes landed.
    fn write_what_fits(&mut self, at: u64, pending: &[u8]) -> usize {
        let mut ends = Vec::new();
        let mut end = 0;
        while let Some(header) = FrameHeader::peek(&pending[end..]) {
            match usize::try_from(header.frame_len()) {
                Ok(len) if len <= pending.len() - end => end += len,
                _ => break,
            }
            ends.push(end);
        }
        let mut written = 0;
        let mut span = pending.len() / 2;
        loop {
            // The frames not yet written start at ends[first..].
            let first = ends.partition_point(|&e| e <= written);
            let Some(&one) = ends.get(first) else {
                return written;
            };
            // As many of them as end within `span` bytes, at least one.
            let within = ends.partition_point(|&e| e <= written + span);
            let next = if within > first {
                ends[within - 1]
            } else {
                one
            };
            match self.write_at_end(at + written as u64, &pending[written..next], true) {
                Ok(()) => written = next,
                Err(_) if next != one && self.poisoned().is_none() => span /= 2,
                Err(_) => return written,
            }
        }
    }

    /// Writes `bytes` at `at`, the end of what the operating system has,
    /// first growing the preallocated space if `grow` and the options ask
    /// for it. A full disk is not damage: once whatever part of the write
    /// (or of the allocation) landed is cut off again, the log is exactly
    /// as it was and the error is returned; any other failure poisons it.
    pub(crate) fn write_at_end(
        &mut self,
        at: u64,
        bytes: &[u8],
        grow: bool,
    ) -> Result<(), WalError> {
        let end = at + bytes.len() as u64;
        let mut result = Ok(());
        if grow
            && end > self.allocated
            && end > self.prealloc_refused
            && let Some(chunk) = self.opts.preallocate.filter(|&c| c > 0)
        {
            let target = end.div_ceil(chunk).saturating_mul(chunk);
            match self.file.allocate(target) {
                Ok(()) => self.allocated = target,
                // No room for a whole chunk of zeros is no reason to
                // refuse bytes that fit: give back what the allocation
                // took and write them alone. Until the log grows past the
                // refused chunk, appends do not try again (each attempt
                // would write up to a chunk of zeros).
                Err(e) if is_full(&e) && self.file.set_len(at).is_ok() => {
                    self.allocated = at;
                    self.prealloc_refused = target;
                }
                Err(e) => result = Err(("preallocating space in", e)),
            }
        }
        if result.is_ok() {
            result = self
                .file
                .write_at(at, bytes)
                .map(|()| self.allocated = self.allocated.max(end))
                .map_err(|e| ("writing to", e));
        }
        let Err((op, e)) = result else {
            return Ok(());
        };
        if is_full(&e) && self.file.set_len(at).is_ok() {
            self.allocated = at;
            return Err(WalError::io(op, &self.path, e));
        }
        Err(self.poison_with(WalError::io(op, &self.path, e)))
    }

    /// Cuts preallocated space off the end of the file. A failure poisons
    /// the log: what the file holds is then unknown.
    pub(crate) fn trim(&mut self) -> Result<(), WalError> {
        if self.allocated > self.len && self.pending.is_empty() {
            if let Err(e) = self.file.set_len(self.len) {
                return Err(self.poison_with(WalError::io(
                    "cutting preallocated space off",
                    &self.path,
                    e,
                )));
            }
            self.allocated = self.len;
        }
        Ok(())
    }

    /// After a failed sync: cuts the file back to its last synced length
    /// (best effort; see [`Wal::sync`]).
    pub(crate) fn cut_back(&mut self) {
        self.pending.clear();
        let _ = self.file.set_len(self.durable.len());
        self.allocated = self.durable.len();
    }
}

/// Whether `e` says the file cannot grow: a full disk, a quota, the file
/// size limit. Not damage: the log is cut back and stays usable.
fn is_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}
