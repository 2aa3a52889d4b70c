//! [`Durable`]: what of an open log is known to survive power loss. The
//! only code that changes the synced watermark and length, so that their
//! invariant (never back, except when a rewrite starts a new file) holds
//! in one place.

/// The records and bytes of the log known durable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Durable {
    /// Records below this sequence number are durable.
    upto: u64,
    /// File length when `upto` was last established: the bytes known
    /// durable. A failed sync cuts the file back to it.
    len: u64,
}

impl Durable {
    /// Records below `upto` in the first `len` bytes are durable: what an
    /// open finds once it has synced the file.
    pub(crate) fn new(upto: u64, len: u64) -> Self {
        Self { upto, len }
    }

    /// A rewrite's file, its records from `base_seq` on, just replaced the
    /// log by a rename not yet synced: nothing of it is known durable.
    pub(crate) fn new_file(&mut self, base_seq: u64) {
        *self = Self {
            upto: base_seq,
            len: 0,
        };
    }

    /// A sync covering the records below `upto` and the first `len` bytes
    /// succeeded. Never moves back: syncs may finish in any order.
    pub(crate) fn synced(&mut self, upto: u64, len: u64) {
        self.upto = self.upto.max(upto);
        self.len = self.len.max(len);
    }

    /// Records below this sequence number are durable.
    pub(crate) fn upto(&self) -> u64 {
        self.upto
    }

    /// The bytes known durable.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}
