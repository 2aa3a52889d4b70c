//! Reading a log's records front to back, and looking past damage.
//!
//! Memory is bounded by the read buffer and the largest frame (a record, or
//! a batch of records), never by the file: a frame's length is checked against the bound and against the
//! bytes left in the file before the buffer grows for it.

use std::io;

use wal_format::{
    Decoded, ENTRY_OVERHEAD, FRAME_HEADER_LEN, FRAME_OVERHEAD, FormatError, FrameHeader, Run,
    decode_record, decode_run, peek_len,
};

use crate::storage::StorageFile;

/// A window over a file, refilled on demand.
pub(crate) struct Reader<'f> {
    file: &'f dyn StorageFile,
    file_len: u64,
    chunk: usize,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    start: u64,
}

/// Where and why reading stopped before the end of the file.
#[derive(Debug)]
pub(crate) struct Stop {
    pub offset: u64,
    pub seq: u64,
    /// `None`: the bytes end inside a frame.
    pub cause: Option<FormatError>,
}

impl<'f> Reader<'f> {
    pub(crate) fn new(file: &'f dyn StorageFile, file_len: u64, chunk: usize) -> Self {
        let chunk = chunk.max(FRAME_OVERHEAD * 64);
        Self {
            file,
            file_len,
            chunk,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The length of the file being read.
    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Up to `want` bytes at `offset` (fewer only at the end of the file).
    pub(crate) fn get(&mut self, offset: u64, want: usize) -> io::Result<&[u8]> {
        let avail = usize::try_from(self.file_len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let want = want.min(avail);
        let end = offset + want as u64;
        let buf_end = self.start + self.buf.len() as u64;
        if offset < self.start || end > buf_end {
            let len = want.max(self.chunk).min(avail);
            self.buf.resize(len, 0);
            crate::storage::read_exact_at(self.file, offset, &mut self.buf)?;
            self.start = offset;
            // Give back memory a huge record took, once it is behind us.
            if self.buf.capacity() > 2 * self.chunk && len <= self.chunk {
                self.buf.shrink_to(self.chunk);
            }
        }
        let from = usize::try_from(offset - self.start).unwrap_or(usize::MAX);
        Ok(&self.buf[from..from + want])
    }

    /// Every buffered byte from `offset` on: at least `want` (fewer only at
    /// the end of the file), refilling a whole chunk when needed.
    fn window(&mut self, offset: u64, want: usize) -> io::Result<&[u8]> {
        self.get(offset, want)?;
        let from = usize::try_from(offset - self.start).unwrap_or(usize::MAX);
        Ok(&self.buf[from..])
    }

    /// Decodes the valid records at `offset`, the first expected to be
    /// number `seq`: as many as the buffered bytes hold, verified together
    /// ([`decode_run`]). `Ok(Err(stop))` when the bytes at `offset` are
    /// damaged or cut short.
    ///
    /// Asks only for the bytes the first frame needs, so consecutive records
    /// are decoded from one buffered chunk: one read per chunk, not per
    /// record.
    pub(crate) fn run(
        &mut self,
        offset: u64,
        seq: u64,
        max_len: u32,
    ) -> io::Result<Result<Run<'_>, Stop>> {
        let stop = |cause| Ok(Err(Stop { offset, seq, cause }));
        let avail = self.file_len.saturating_sub(offset);
        let mut want = FRAME_OVERHEAD;
        // Buffer the first frame whole. Its header alone says how long it
        // is or that it is wrong; no checksum is computed yet.
        loop {
            let bytes = self.window(offset, want)?;
            let got = bytes.len();
            let frame_len = match peek_len(bytes, seq, max_len) {
                Ok(Decoded::Complete(frame_len)) => frame_len,
                Ok(Decoded::Incomplete { needed }) => got.saturating_add(needed),
                Err(e) => return stop(Some(e)),
            };
            if got >= frame_len {
                break;
            }
            if got as u64 >= avail {
                return stop(None);
            }
            want = frame_len;
        }
        let from = usize::try_from(offset - self.start).unwrap_or(usize::MAX);
        match decode_run(&self.buf[from..], seq, max_len) {
            Ok(Decoded::Complete(run)) => Ok(Ok(run)),
            Ok(Decoded::Incomplete { .. }) => stop(None),
            Err(e) => stop(Some(e)),
        }
    }

    /// Looks for a valid record after the damage at `stop` that declares
    /// the damaged record synced (its watermark is above `stop.seq`).
    /// Returns that record's offset.
    pub(crate) fn find_voucher(&mut self, stop: &Stop, max_len: u32) -> io::Result<Option<u64>> {
        let mut x = stop.offset + 1;
        let file_len = self.file_len;
        while x + FRAME_HEADER_LEN as u64 <= file_len {
            let window = self.get(x, self.chunk)?;
            let scan_end = window.len().saturating_sub(FRAME_HEADER_LEN - 1);
            let mut i = 0;
            let mut found = None;
            while i < scan_end {
                let Some(pos) = window[i..scan_end]
                    .iter()
                    .position(|&b| wal_format::FrameKind::from_marker(b).is_some())
                else {
                    i = scan_end;
                    break;
                };
                i += pos;
                if let Some(header) = FrameHeader::peek(&window[i..]) {
                    let at = x + i as u64;
                    if let Some(seq) = vouching_seq(&header, stop, at, file_len, max_len) {
                        // `vouching_seq` checked the frame fits in the file.
                        let frame_len = usize::try_from(header.frame_len()).unwrap_or(usize::MAX);
                        found = Some((at, seq, frame_len));
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
            if let Some((at, seq, frame_len)) = found {
                // Verify the candidate in full; this may move the window.
                let bytes = self.get(at, frame_len)?;
                if let Ok(Decoded::Complete(_)) = decode_record(bytes, seq, max_len) {
                    return Ok(Some(at));
                }
                x = at + 1;
                continue;
            }
            x += i as u64;
        }
        Ok(None)
    }
}

/// The sequence number a frame at `at` would have if it were a real record
/// written after the damage at `stop` that vouches for it, checking every
/// field that can be checked without the checksum.
fn vouching_seq(h: &FrameHeader, stop: &Stop, at: u64, file_len: u64, max_len: u32) -> Option<u64> {
    if at + h.frame_len() > file_len {
        return None;
    }
    let seq = h.seq_after(stop.seq)?;
    // At most one record per smallest record's worth of bytes since the
    // damage (a batch frame's empty record: its length field).
    let max_records_between = (at - stop.offset) / ENTRY_OVERHEAD as u64 + 1;
    if seq - stop.seq > max_records_between {
        return None;
    }
    // The header check every reader uses: the length bound, `seq_lo` (true
    // of `seq` by construction) and the watermark.
    let synced_upto = h.check(seq, max_len).ok()?;
    (synced_upto > stop.seq).then_some(seq)
}
