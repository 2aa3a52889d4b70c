//! The counted, fault-injectable operations, on the locked state.

use std::io;
use std::path::Path;

use super::fault::{OpKind, dead, err, stale};
use super::state::{DataOp, MAX_FILE_LEN, NsOp, State};
use crate::storage::{OpenMode, parent_dir};

/// `offset + extra` as an in-memory length, if within [`MAX_FILE_LEN`].
fn file_len(offset: u64, extra: usize) -> io::Result<usize> {
    usize::try_from(offset)
        .ok()
        .and_then(|o| o.checked_add(extra))
        .filter(|&end| end <= MAX_FILE_LEN)
        .ok_or_else(|| err(io::ErrorKind::FileTooLarge, "simulated file too large"))
}

impl State {
    /// `Storage::open`; returns the inode and the generation of the handle.
    pub(super) fn open(&mut self, path: &Path, mode: OpenMode) -> io::Result<(u64, u64)> {
        let op = match mode {
            OpenMode::Existing => OpKind::Open,
            OpenMode::CreateNew => OpKind::CreateNew,
        };
        if let Some(fault) = self.begin(op, None)? {
            return Err(fault.error_for(op));
        }
        if mode == OpenMode::CreateNew && self.is_dir(path) {
            return Err(err(
                io::ErrorKind::AlreadyExists,
                "a directory has this name",
            ));
        }
        self.check_file_path(path)?;
        let ino = match (mode, self.visible.get(path).copied()) {
            (OpenMode::Existing, Some(ino)) => {
                self.inode_mut(ino)?.handles += 1;
                ino
            }
            (OpenMode::Existing, None) => {
                return Err(err(io::ErrorKind::NotFound, "no such file"));
            }
            (OpenMode::CreateNew, Some(_)) => {
                return Err(err(io::ErrorKind::AlreadyExists, "file exists"));
            }
            (OpenMode::CreateNew, None) => self.create_file(path, 1),
        };
        Ok((ino, self.generation))
    }

    /// `Storage::file_exists`.
    pub(super) fn file_exists(&mut self, path: &Path) -> io::Result<bool> {
        if let Some(fault) = self.begin(OpKind::FileExists, None)? {
            return Err(fault.error_for(OpKind::FileExists));
        }
        if self.is_dir(path) {
            return Err(err(io::ErrorKind::IsADirectory, "is a directory"));
        }
        Ok(self.is_dir(parent_dir(path)) && self.visible.contains_key(path))
    }

    /// `Storage::rename`.
    pub(super) fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        if let Some(fault) = self.begin(OpKind::Rename, None)? {
            return Err(fault.error_for(OpKind::Rename));
        }
        self.check_file_path(from)?;
        let ino = self
            .visible
            .get(from)
            .copied()
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no such file"))?;
        self.check_file_path(to)?;
        if from == to {
            return Ok(());
        }
        let (from_dir, to_dir) = (parent_dir(from).to_path_buf(), parent_dir(to).to_path_buf());
        let (from, to) = (from.to_path_buf(), to.to_path_buf());
        if from_dir == to_dir {
            self.change_names(NsOp {
                dir: from_dir,
                effects: vec![(to, Some(ino)), (from, None)],
            });
        } else {
            // Two directories, two independent journal entries: the new
            // name can become durable before the old one goes away.
            self.change_names(NsOp {
                dir: to_dir,
                effects: vec![(to, Some(ino))],
            });
            self.change_names(NsOp {
                dir: from_dir,
                effects: vec![(from, None)],
            });
        }
        self.gc();
        Ok(())
    }

    /// `Storage::remove`.
    pub(super) fn remove(&mut self, path: &Path) -> io::Result<()> {
        if let Some(fault) = self.begin(OpKind::Remove, None)? {
            return Err(fault.error_for(OpKind::Remove));
        }
        self.check_file_path(path)?;
        if !self.visible.contains_key(path) {
            return Err(err(io::ErrorKind::NotFound, "no such file"));
        }
        let dir = parent_dir(path).to_path_buf();
        self.change_names(NsOp {
            dir,
            effects: vec![(path.to_path_buf(), None)],
        });
        self.gc();
        Ok(())
    }

    /// `Storage::sync_dir`.
    pub(super) fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        if let Some(fault) = self.begin(OpKind::SyncDir, None)? {
            return Err(fault.error_for(OpKind::SyncDir));
        }
        if !self.is_dir(dir) {
            return Err(if self.visible.contains_key(dir) {
                err(io::ErrorKind::NotADirectory, "not a directory")
            } else {
                err(io::ErrorKind::NotFound, "no such directory")
            });
        }
        let (synced, rest) = std::mem::take(&mut self.pending_ns)
            .into_iter()
            .partition(|op| op.dir == dir);
        self.pending_ns = rest;
        let synced: Vec<NsOp> = synced;
        for op in &synced {
            op.apply(&mut self.durable);
        }
        self.gc();
        Ok(())
    }

    /// `Storage::lock`; returns the lock's token.
    pub(super) fn lock(&mut self, path: &Path) -> io::Result<u64> {
        let creates = !self.visible.contains_key(path);
        let op = if creates {
            OpKind::LockCreate
        } else {
            OpKind::Lock
        };
        if let Some(fault) = self.begin(op, None)? {
            return Err(fault.error_for(op));
        }
        self.check_file_path(path)?;
        if self.locks.contains_key(path) {
            return Err(err(io::ErrorKind::WouldBlock, "lock is held"));
        }
        if creates {
            self.create_file(path, 0);
        }
        let token = self.next_token;
        self.next_token = self.next_token.saturating_add(1);
        self.locks.insert(path.to_path_buf(), token);
        Ok(token)
    }

    /// Releases the lock `token` on `path`, if it still holds it.
    pub(super) fn unlock(&mut self, path: &Path, token: u64) {
        if self.locks.get(path) == Some(&token) {
            self.locks.remove(path);
        }
    }

    /// Closes a handle on `ino` opened in `generation`.
    pub(super) fn close(&mut self, ino: u64, generation: u64) {
        if generation == self.generation {
            if let Some(inode) = self.inodes.get_mut(&ino) {
                inode.handles = inode.handles.saturating_sub(1);
            }
            self.gc();
        }
    }

    /// `StorageFile::len`.
    pub(super) fn len(&mut self, ino: u64, generation: u64) -> io::Result<u64> {
        if let Some(fault) = self.begin(OpKind::Len, Some(generation))? {
            return Err(fault.error_for(OpKind::Len));
        }
        Ok(self.inode_mut(ino)?.visible.len() as u64)
    }

    /// `StorageFile::read_at`.
    pub(super) fn read_at(
        &mut self,
        ino: u64,
        generation: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        if let Some(fault) = self.begin(OpKind::Read, Some(generation))? {
            return Err(fault.error_for(OpKind::Read));
        }
        let image = &self.inode_mut(ino)?.visible;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let available = image.get(start..).unwrap_or_default();
        let n = available.len().min(buf.len());
        for (dst, src) in buf.iter_mut().zip(available) {
            *dst = *src;
        }
        Ok(n)
    }

    /// `StorageFile::write_at`.
    pub(super) fn write_at(
        &mut self,
        ino: u64,
        generation: u64,
        offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        let fault = self.begin(OpKind::Write, Some(generation))?;
        let end = file_len(offset, data.len());
        let keep = match fault {
            None => data.len(),
            Some(kind) if kind.is_short_write() && end.is_ok() => self.rng.below(data.len()),
            Some(kind) => return Err(kind.error_for(OpKind::Write)),
        };
        let start = end? - data.len();
        let inode = self.inode_mut(ino)?;
        if let Some(bytes) = data.get(..keep).filter(|b| !b.is_empty()) {
            let op = DataOp::Write {
                offset: start,
                bytes: bytes.to_vec(),
            };
            op.apply(&mut inode.visible);
            inode.pending.push(op);
        }
        match fault {
            Some(kind) => Err(kind.error_for(OpKind::Write)),
            None => Ok(()),
        }
    }

    /// `StorageFile::allocate`: one write of zeros from the end of the file
    /// to `len` (nothing if the file is that long already), which a crash
    /// may lose, tear or keep like any other write.
    pub(super) fn allocate(&mut self, ino: u64, generation: u64, len: u64) -> io::Result<()> {
        if let Some(fault) = self.begin(OpKind::Allocate, Some(generation))? {
            return Err(fault.error_for(OpKind::Allocate));
        }
        let len = file_len(len, 0)?;
        let inode = self.inode_mut(ino)?;
        let current = inode.visible.len();
        if len > current {
            let op = DataOp::Write {
                offset: current,
                bytes: vec![0; len - current],
            };
            op.apply(&mut inode.visible);
            inode.pending.push(op);
        }
        Ok(())
    }

    /// `StorageFile::set_len`.
    pub(super) fn set_len(&mut self, ino: u64, generation: u64, len: u64) -> io::Result<()> {
        let current = self.inodes.get(&ino).map_or(0, |i| i.visible.len() as u64);
        let op = if len > current {
            OpKind::SetLenExtend
        } else {
            OpKind::SetLen
        };
        if let Some(fault) = self.begin(op, Some(generation))? {
            return Err(fault.error_for(op));
        }
        let len = file_len(len, 0)?;
        let inode = self.inode_mut(ino)?;
        let op = DataOp::SetLen(len);
        op.apply(&mut inode.visible);
        inode.pending.push(op);
        Ok(())
    }

    /// The start of `StorageFile::sync_data`: counts the operation and
    /// returns the number of the last change it covers (every change made
    /// before it began). A faulted sync drops the pending changes here.
    pub(super) fn sync_begin(&mut self, ino: u64, generation: u64) -> io::Result<u64> {
        let fault = self.begin(OpKind::SyncData, Some(generation))?;
        let inode = self.inode_mut(ino)?;
        if let Some(kind) = fault {
            // fsyncgate: the kernel marks the pages clean and forgets the
            // error; the data stays readable but never reaches the disk.
            let dropped = std::mem::take(&mut inode.pending);
            inode.drained += dropped.len() as u64;
            return Err(kind.error_for(OpKind::SyncData));
        }
        Ok(inode.drained + inode.pending.len() as u64)
    }

    /// The end of `StorageFile::sync_data` begun by [`State::sync_begin`],
    /// which returned `covers`: makes durable every change up to it, and a
    /// random number of the changes made since (a sync running
    /// concurrently with writes may or may not take them along). A crash
    /// or the process's death in between fails it, making nothing durable.
    pub(super) fn sync_end(&mut self, ino: u64, generation: u64, covers: u64) -> io::Result<()> {
        if generation != self.generation {
            return Err(stale());
        }
        if self.dead {
            return Err(dead());
        }
        let extra_budget = {
            let inode = self.inode_mut(ino)?;
            let covered = usize::try_from(covers.saturating_sub(inode.drained))
                .unwrap_or(usize::MAX)
                .min(inode.pending.len());
            (covered, inode.pending.len() - covered)
        };
        let (covered, later) = extra_budget;
        // Draw only when there is a choice, so that a sync with no
        // concurrent writes consumes no randomness.
        let extra = if later == 0 {
            0
        } else {
            self.rng.below(later + 1)
        };
        let inode = self.inode_mut(ino)?;
        let taken: Vec<DataOp> = inode.pending.drain(..covered + extra).collect();
        inode.drained += taken.len() as u64;
        for op in &taken {
            op.apply(&mut inode.durable);
        }
        Ok(())
    }
}
