//! What a node does with damaged files: it never keeps a salvaged prefix.
//!
//! wal-io can salvage a damaged log (keep the valid prefix, copy the rest
//! aside), and `indexmap_store` offers that. A Raft node must not: the
//! prefix may lack entries it acknowledged to a leader, or the vote it
//! cast in the current term, and a voter that forgets either can let two
//! leaders be elected or a committed entry be lost. So a node whose log or
//! snapshot is damaged refuses to start ([`RaftStoreError::Damaged`]), and
//! comes back as a **fresh learner**:
//!
//! 1. on the leader, [`change_membership`](crate::ReplicatedMap::change_membership)
//!    without the node;
//! 2. [`set_aside`] its files (renamed beside themselves, never deleted);
//! 3. start it again: it starts empty;
//! 4. on the leader, [`add_learner`](crate::ReplicatedMap::add_learner) (it
//!    catches up from the leader's snapshot and log), then
//!    `change_membership` with it to make it a voter again.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use wal_io::storage::parent_dir;
use wal_io::{FsStorage, Storage};

use crate::error::RaftStoreError;
use crate::node::{LOG_FILE, SNAPSHOT_FILE};

/// Renames a node's log and snapshot in `dir` to
/// `<file>.damaged-<unix seconds>` (never deleting them), so that the node
/// starts empty; see the [module docs](self). Returns the new paths.
pub fn set_aside(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, RaftStoreError> {
    set_aside_on(&FsStorage::new(), dir.as_ref())
}

/// Like [`set_aside`], on any [`Storage`].
pub fn set_aside_on(storage: &dyn Storage, dir: &Path) -> Result<Vec<PathBuf>, RaftStoreError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut moved = Vec::new();
    for name in [LOG_FILE, SNAPSHOT_FILE] {
        let from = dir.join(name);
        let io = |op, path: &Path, source| RaftStoreError::Io {
            op,
            path: path.to_path_buf(),
            source,
        };
        if !storage
            .file_exists(&from)
            .map_err(|e| io("checking", &from, e))?
        {
            continue;
        }
        let mut n = 0;
        let to = loop {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!(".{n}")
            };
            let to = dir.join(format!("{name}.damaged-{stamp}{suffix}"));
            if !storage
                .file_exists(&to)
                .map_err(|e| io("checking", &to, e))?
            {
                break to;
            }
            n += 1;
        };
        storage
            .rename(&from, &to)
            .map_err(|e| io("renaming", &from, e))?;
        moved.push(to);
    }
    // The directory as wal-io names it ("." for a bare file name).
    let synced = parent_dir(&dir.join(LOG_FILE)).to_path_buf();
    storage.sync_dir(&synced).map_err(|e| io_dir(&synced, e))?;
    Ok(moved)
}

fn io_dir(dir: &Path, source: std::io::Error) -> RaftStoreError {
    RaftStoreError::Io {
        op: "syncing",
        path: dir.to_path_buf(),
        source,
    }
}

/// Whether `e`, met while opening a node's files, means they are damaged
/// (rather than, say, locked or unreadable).
pub(crate) fn is_damage(e: &RaftStoreError) -> bool {
    match e {
        RaftStoreError::Decode { .. } => true,
        RaftStoreError::Wal { source } => matches!(
            source,
            wal_io::WalError::Corrupt { .. } | wal_io::WalError::Truncated { .. }
        ),
        _ => false,
    }
}
