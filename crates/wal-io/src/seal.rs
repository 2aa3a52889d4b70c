//! Sealing a log: the seal frame [`Wal::close`] appends, and the note it
//! may carry ([`Wal::set_seal_note`]), which the next open hands to its
//! [`Replay`](crate::Replay) before any record
//! ([`Replay::seal_note`](crate::Replay::seal_note)).

use std::io;
use std::path::Path;

use wal_format::{FRAME_OVERHEAD, MAX_SEAL_NOTE, encode_seal_with_note, trailing_seal_note};

use crate::error::WalError;
use crate::reader::Reader;
use crate::storage::Storage;
use crate::wal::Wal;

impl Wal {
    /// Sets the note the log's next seal carries: up to
    /// [`MAX_SEAL_NOTE`] bytes of your own, which the next open hands to
    /// [`Replay::seal_note`](crate::Replay::seal_note) before the first
    /// record when the file still ends with that seal (it was closed
    /// cleanly and nothing was appended since). A hint, such as how many
    /// entries the records will build, so that the reader can size its
    /// structures before it reads them: a crash, a later append or a
    /// damaged seal leaves the next open without it, and nothing in the
    /// file is judged by it. Set it just before closing: it is written as
    /// it is when the log is sealed. Cost: a copy of the note.
    ///
    /// # Errors
    ///
    /// [`WalError::SealNoteTooLong`] for a note over [`MAX_SEAL_NOTE`]
    /// bytes; the note in force is kept.
    pub fn set_seal_note(&mut self, note: &[u8]) -> Result<(), WalError> {
        if note.len() > MAX_SEAL_NOTE {
            return Err(WalError::SealNoteTooLong {
                len: note.len(),
                max: MAX_SEAL_NOTE,
            });
        }
        self.seal_note.clear();
        self.seal_note.extend_from_slice(note);
        Ok(())
    }

    /// Seals the log now, as [`close`](Wal::close) does, and keeps it
    /// open: syncs every record (flushing the append buffer), cuts
    /// preallocated space off, then appends a seal frame (with the
    /// [note](Wal::set_seal_note)) and syncs it. Records appended later go
    /// after the seal, and closing seals again. Nothing to do but the cut
    /// when the last frame is already a seal (or there is none). Cost: up
    /// to two syncs.
    ///
    /// # Errors
    ///
    /// As [`sync`](Wal::sync), and [`WalError::WrongProcess`] in a forked
    /// child; a failed write or sync poisons the log.
    pub fn seal(&mut self) -> Result<(), WalError> {
        self.check_owner()?;
        self.check_poison()?;
        if !self.needs_seal {
            // Preallocated space kept by the open and not used since (if
            // the shorter length is lost in a crash, the next open finds
            // the zeros again).
            return self.trim();
        }
        self.sync()?;
        let records_end = self.len;
        // A clean close leaves no preallocated space: the file ends with
        // its seal (the seal's sync makes the shorter length durable).
        self.trim()?;
        self.buf.clear();
        // Never too long: `set_seal_note` refused a longer note.
        let _ = encode_seal_with_note(&mut self.buf, self.next_seq, &self.seal_note);
        let seal = std::mem::take(&mut self.buf);
        let written = self.write_at_end(self.len, &seal, false);
        self.buf = seal;
        written?;
        self.account(1);
        self.records -= 1;
        self.needs_seal = false;
        self.sync()?;
        self.write_claim(records_end);
        Ok(())
    }
}

/// The note of the seal the file ends with, if it ends with a seal that
/// has one (see [`Wal::set_seal_note`]); anything else at the end is no
/// note. A read that fails fails the open, as any other read of it does.
pub(crate) fn read_note(reader: &mut Reader<'_>) -> io::Result<Option<Vec<u8>>> {
    let want = FRAME_OVERHEAD + MAX_SEAL_NOTE;
    let from = reader.file_len().saturating_sub(want as u64);
    let tail = reader.get(from, want)?;
    Ok(trailing_seal_note(tail).map(<[u8]>::to_vec))
}

/// The note of the seal the log at `path` ends with now, if it ends with
/// a seal that has one (see [`Wal::set_seal_note`]): for a reader that
/// sizes something before it follows the log with a
/// [`WalFollower`](crate::WalFollower), which delivers records only.
/// Reads the last bytes of the file and nothing else; takes no lock and
/// changes nothing. A writer may append or compact at any moment after,
/// so the note is a hint about the file as it was, like the one
/// [`Replay::seal_note`](crate::Replay::seal_note) gets.
///
/// # Errors
///
/// [`WalError::Io`] if the file cannot be opened or read (`NotFound` if
/// there is none).
pub fn read_seal_note(storage: &dyn Storage, path: &Path) -> Result<Option<Vec<u8>>, WalError> {
    let io = |op, e| WalError::io(op, path, e);
    let file = storage.open_read(path).map_err(|e| io("opening", e))?;
    let len = file.len().map_err(|e| io("reading", e))?;
    read_note(&mut Reader::new(&*file, len, 0)).map_err(|e| io("reading", e))
}
