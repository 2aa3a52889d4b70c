//! The simulation's state: inodes, namespace, locks, faults and counters.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::fault::{Fault, FaultKind, OpKind, Rng, dead, err, stale};
use crate::storage::parent_dir;

/// The largest file the simulation holds; larger writes fail `EFBIG`.
pub(super) const MAX_FILE_LEN: usize = 1 << 30;

/// An unsynced change to a file's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DataOp {
    /// `write_at(offset, bytes)`.
    Write {
        /// Where the bytes go.
        offset: usize,
        /// What was written.
        bytes: Vec<u8>,
    },
    /// `set_len(len)`.
    SetLen(usize),
}

impl DataOp {
    /// Applies the change to `image`.
    pub(super) fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Self::Write { offset, bytes } => write_into(image, *offset, bytes),
            Self::SetLen(len) => image.resize(*len, 0),
        }
    }
}

/// Writes `bytes` at `offset`, zero-extending `image` as needed. An empty
/// write changes nothing.
pub(super) fn write_into(image: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let end = offset.saturating_add(bytes.len());
    if image.len() < end {
        image.resize(end, 0);
    }
    if let Some(dst) = image.get_mut(offset..end) {
        dst.copy_from_slice(bytes);
    }
}

/// A file's contents.
#[derive(Clone, Default)]
pub(super) struct Inode {
    /// What reads see.
    pub(super) visible: Vec<u8>,
    /// What survives a power loss.
    pub(super) durable: Vec<u8>,
    /// Changes since the last `sync_data`, oldest first.
    pub(super) pending: Vec<DataOp>,
    /// How many changes syncs have taken off `pending` so far: with the
    /// length of `pending`, it numbers every change, so that a sync that
    /// began before later writes knows which changes it covers.
    pub(super) drained: u64,
    /// Open handles of the current generation.
    pub(super) handles: usize,
}

impl Inode {
    /// A file holding `bytes`, durably.
    pub(super) fn durable(bytes: Vec<u8>) -> Self {
        Self {
            visible: bytes.clone(),
            durable: bytes,
            pending: Vec::new(),
            drained: 0,
            handles: 0,
        }
    }

    /// The image a completed `sync_data` would make durable: the durable
    /// image with every pending change applied. It differs from `visible`
    /// after a failed `sync_data` dropped changes.
    pub(super) fn target(&self) -> Vec<u8> {
        let mut image = self.durable.clone();
        for op in &self.pending {
            op.apply(&mut image);
        }
        image
    }

    /// The length of [`Inode::target`], without building it.
    pub(super) fn target_len(&self) -> usize {
        self.pending
            .iter()
            .fold(self.durable.len(), |len, op| match op {
                DataOp::Write { offset, bytes } if !bytes.is_empty() => {
                    len.max(offset.saturating_add(bytes.len()))
                }
                DataOp::Write { .. } => len,
                DataOp::SetLen(new) => *new,
            })
    }
}

/// A namespace change not yet made durable by `sync_dir(dir)`. Its effects
/// touch names in `dir` only, so changes in different directories commute.
#[derive(Debug, Clone)]
pub(super) struct NsOp {
    /// The directory whose `sync_dir` makes the change durable.
    pub(super) dir: PathBuf,
    /// Names bound to an inode (`Some`) or unbound (`None`), in order.
    pub(super) effects: Vec<(PathBuf, Option<u64>)>,
}

impl NsOp {
    /// Applies the change to a name map.
    pub(super) fn apply(&self, names: &mut BTreeMap<PathBuf, u64>) {
        for (path, target) in &self.effects {
            match target {
                Some(ino) => names.insert(path.clone(), *ino),
                None => names.remove(path),
            };
        }
    }
}

/// Everything behind a `SimStorage` handle.
#[derive(Clone)]
pub(super) struct State {
    /// The seeded randomness for crashes and short writes.
    pub(super) rng: Rng,
    /// Operations counted so far.
    pub(super) ops: u64,
    /// Bumped by every crash (and snapshot); older handles are stale.
    pub(super) generation: u64,
    /// The next inode number.
    pub(super) next_ino: u64,
    /// The next lock token.
    pub(super) next_token: u64,
    /// The seed the simulation was made with.
    pub(super) seed: u64,
    /// File identities handed out so far.
    pub(super) file_ids: u64,
    /// Every live file.
    pub(super) inodes: BTreeMap<u64, Inode>,
    /// The names reads and opens see.
    pub(super) visible: BTreeMap<PathBuf, u64>,
    /// The names that survive a power loss.
    pub(super) durable: BTreeMap<PathBuf, u64>,
    /// Namespace changes not yet durable, oldest first.
    pub(super) pending_ns: Vec<NsOp>,
    /// Existing directories besides `.`.
    pub(super) dirs: BTreeSet<PathBuf>,
    /// Held locks: name to token.
    pub(super) locks: BTreeMap<PathBuf, u64>,
    /// Injected faults, in injection order.
    pub(super) faults: Vec<Fault>,
    /// The operation from which on the process is dead.
    pub(super) crash_at: Option<u64>,
    /// Whether an operation was refused because of `crash_at`.
    pub(super) dead: bool,
}

impl State {
    /// An empty file system seeded with `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            ops: 0,
            generation: 0,
            next_ino: 1,
            next_token: 1,
            seed,
            file_ids: 0,
            inodes: BTreeMap::new(),
            visible: BTreeMap::new(),
            durable: BTreeMap::new(),
            pending_ns: Vec::new(),
            dirs: BTreeSet::new(),
            locks: BTreeMap::new(),
            faults: Vec::new(),
            crash_at: None,
            dead: false,
        }
    }

    /// Counts an operation and decides its fate: `Err` if the handle is
    /// stale (`generation` given and old) or the process is dead,
    /// `Ok(Some(kind))` if an injected fault fails it.
    pub(super) fn begin(
        &mut self,
        op: OpKind,
        generation: Option<u64>,
    ) -> io::Result<Option<FaultKind>> {
        let index = self.ops;
        self.ops = self.ops.saturating_add(1);
        if generation.is_some_and(|g| g != self.generation) {
            return Err(stale());
        }
        if self.crash_at.is_some_and(|at| index >= at) {
            self.dead = true;
            return Err(dead());
        }
        Ok(self
            .faults
            .iter()
            .find(|f| f.fires(index, op))
            .map(|f| f.kind))
    }

    /// Adds a file holding `inode`; returns its number.
    pub(super) fn add_inode(&mut self, inode: Inode) -> u64 {
        let ino = self.next_ino;
        self.next_ino = self.next_ino.saturating_add(1);
        self.inodes.insert(ino, inode);
        ino
    }

    /// The inode behind a handle.
    pub(super) fn inode_mut(&mut self, ino: u64) -> io::Result<&mut Inode> {
        self.inodes
            .get_mut(&ino)
            .ok_or_else(|| io::Error::other("simulated file system: inode vanished"))
    }

    /// Drops every inode no name, pending change or open handle refers to.
    pub(super) fn gc(&mut self) {
        let mut live: BTreeSet<u64> = self.visible.values().copied().collect();
        live.extend(self.durable.values().copied());
        for op in &self.pending_ns {
            live.extend(op.effects.iter().filter_map(|(_, target)| *target));
        }
        self.inodes
            .retain(|ino, inode| inode.handles > 0 || live.contains(ino));
    }

    /// Whether `path` names an existing directory.
    pub(super) fn is_dir(&self, path: &Path) -> bool {
        path == Path::new(".") || self.dirs.contains(path)
    }

    /// Checks that `path` can name a file and its directory exists.
    pub(super) fn check_file_path(&self, path: &Path) -> io::Result<()> {
        if path.as_os_str().is_empty() {
            return Err(err(io::ErrorKind::NotFound, "empty path"));
        }
        if path.file_name().is_none() || self.is_dir(path) {
            return Err(err(io::ErrorKind::IsADirectory, "is a directory"));
        }
        if !self.is_dir(parent_dir(path)) {
            return Err(err(
                io::ErrorKind::NotFound,
                "parent directory does not exist",
            ));
        }
        Ok(())
    }

    /// Records a namespace change and applies it to the visible names.
    pub(super) fn change_names(&mut self, op: NsOp) {
        op.apply(&mut self.visible);
        self.pending_ns.push(op);
    }

    /// Creates an empty file at `path` (already checked to be free), with
    /// a pending create; returns its inode.
    pub(super) fn create_file(&mut self, path: &Path, handles: usize) -> u64 {
        let ino = self.add_inode(Inode {
            handles,
            ..Inode::default()
        });
        let dir = parent_dir(path).to_path_buf();
        self.change_names(NsOp {
            dir,
            effects: vec![(path.to_path_buf(), Some(ino))],
        });
        ino
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Files<'a>(&'a State);
        impl fmt::Debug for Files<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for (path, ino) in &self.0.visible {
                    match self.0.inodes.get(ino) {
                        Some(i) => map.entry(
                            path,
                            &format_args!(
                                "ino {ino}: {} bytes visible, {} durable, {} pending ops",
                                i.visible.len(),
                                i.durable.len(),
                                i.pending.len()
                            ),
                        ),
                        None => map.entry(path, &format_args!("ino {ino}: missing")),
                    };
                }
                map.finish()
            }
        }
        f.debug_struct("SimStorage")
            .field("ops", &self.ops)
            .field("generation", &self.generation)
            .field("files", &Files(self))
            .field("durable_names", &self.durable.len())
            .field("pending_namespace_ops", &self.pending_ns.len())
            .field("inodes", &self.inodes.len())
            .field("dirs", &self.dirs)
            .field("locks", &self.locks.keys().collect::<Vec<_>>())
            .field("faults", &self.faults)
            .field("crash_at", &self.crash_at)
            .field("dead", &self.dead)
            .finish()
    }
}
