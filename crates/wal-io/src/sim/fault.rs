//! Fault and crash descriptions, the seeded PRNG and the simulated errors.

use std::fmt;
use std::io;

/// What an injected [`Fault`] does to an operation it hits.
///
/// A fault hitting [`sync_data`](crate::StorageFile::sync_data), whatever its
/// kind, has Linux's `fsync` failure semantics: the file's unsynced writes
/// are dropped from the pending list without reaching the durable image
/// (a crash loses them) yet stay readable, and the next `sync_data` with
/// nothing new pending succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The operation fails with `EIO` and has no effect.
    Eio,
    /// The operation fails with `ENOSPC` (kind `StorageFull`) if it could
    /// need space (`write_at`, extending `set_len`, creating `open` or
    /// `lock`, `sync_data`), else with `EIO`; it has no effect.
    /// Persistent, it fails only operations that need space: a full disk.
    Enospc,
    /// A `write_at` writes a seeded random strict prefix of its bytes, then
    /// fails with `EIO`. Any other operation fails as with [`FaultKind::Eio`].
    ShortWriteEio,
    /// A `write_at` writes a seeded random strict prefix of its bytes, then
    /// fails with `ENOSPC`. Any other operation fails as with
    /// [`FaultKind::Enospc`].
    ShortWriteEnospc,
    /// The operation fails with `EIO` (see above for `sync_data`).
    /// Persistent, it fails only `sync_data` and `sync_dir`.
    FsyncEio,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 5] = [
        Self::Eio,
        Self::Enospc,
        Self::ShortWriteEio,
        Self::ShortWriteEnospc,
        Self::FsyncEio,
    ];

    /// Whether a persistent fault of this kind keeps failing operations of
    /// kind `op` after its first one.
    pub(super) fn persists_on(self, op: OpKind) -> bool {
        match self {
            Self::Eio | Self::ShortWriteEio => true,
            Self::Enospc | Self::ShortWriteEnospc => op.allocates(),
            Self::FsyncEio => matches!(op, OpKind::SyncData | OpKind::SyncDir),
        }
    }

    /// The error an operation of kind `op` hit by this fault returns.
    pub(super) fn error_for(self, op: OpKind) -> io::Error {
        match self {
            Self::Enospc | Self::ShortWriteEnospc if op.allocates() || op == OpKind::SyncData => {
                enospc()
            }
            _ => eio(),
        }
    }

    /// Whether a `write_at` hit by this fault writes a prefix first.
    pub(super) fn is_short_write(self) -> bool {
        matches!(self, Self::ShortWriteEio | Self::ShortWriteEnospc)
    }
}

/// A fault to inject with [`SimStorage::inject`](super::SimStorage::inject).
///
/// Operations are numbered from 0 in the order they are called on the
/// simulation (see [`SimStorage::ops`](super::SimStorage::ops)); crashes do
/// not reset the numbering and do not clear faults. The operation numbered
/// `at_op` fails instead of running (whatever it is); if `persistent`,
/// every later operation the kind applies to fails too (see
/// [`FaultKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fault {
    /// The number of the first operation that fails.
    pub at_op: u64,
    /// What the failure looks like.
    pub kind: FaultKind,
    /// Whether later operations keep failing.
    pub persistent: bool,
}

impl Fault {
    /// A fault failing operation `at_op` only.
    #[must_use]
    pub const fn once(at_op: u64, kind: FaultKind) -> Self {
        Self {
            at_op,
            kind,
            persistent: false,
        }
    }

    /// A fault failing operation `at_op` and every later one it applies to.
    #[must_use]
    pub const fn persistent(at_op: u64, kind: FaultKind) -> Self {
        Self {
            at_op,
            kind,
            persistent: true,
        }
    }

    /// Whether this fault fails operation number `index` of kind `op`.
    pub(super) fn fires(&self, index: u64, op: OpKind) -> bool {
        index == self.at_op || (self.persistent && index > self.at_op && self.kind.persists_on(op))
    }
}

/// The kind of a counted storage operation of the simulation: what faults
/// match on, and what a test observing the operations (wal-io's crash and
/// fault suites wrap `SimStorage` to watch each one) reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpKind {
    /// `open` of an existing file.
    Open,
    /// `open` creating a file.
    CreateNew,
    /// `file_exists`.
    FileExists,
    /// `rename`.
    Rename,
    /// `remove`.
    Remove,
    /// `sync_dir`.
    SyncDir,
    /// `lock` of an existing lock file.
    Lock,
    /// `lock` creating its lock file.
    LockCreate,
    /// `len`.
    Len,
    /// `read_at`.
    Read,
    /// `write_at`.
    Write,
    /// `set_len` not growing the file.
    SetLen,
    /// `set_len` growing the file.
    SetLenExtend,
    /// `sync_data`.
    SyncData,
    /// `allocate`.
    Allocate,
}

impl OpKind {
    /// Whether the operation may need free space.
    fn allocates(self) -> bool {
        matches!(
            self,
            Self::CreateNew | Self::LockCreate | Self::Write | Self::SetLenExtend | Self::Allocate
        )
    }
}

/// The power-loss images [`SimStorage::crash`](super::SimStorage::crash)
/// can leave.
///
/// Every variant keeps all synced data and all namespace changes made
/// durable by `sync_dir`; they differ in what they do with the rest.
/// Variants that keep "a random prefix" of the pending namespace changes
/// draw one prefix for the whole file system; file data is decided per
/// file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashVariant {
    /// Every unsynced write and namespace change is lost.
    LoseUnsynced,
    /// Per file, a random prefix of the unsynced writes and `set_len`s
    /// survives, and the next write, if any, survives torn: only a random
    /// strict prefix of its bytes. A random prefix of the namespace changes
    /// survives.
    TornPrefix,
    /// Each 4 KiB page whose unsynced content differs from the durable one
    /// comes from either at random; the length is the durable or the
    /// unsynced one at random, bytes from neither being zeros. A random
    /// prefix of the namespace changes survives.
    Pages,
    /// As [`CrashVariant::TornPrefix`], but the 512-byte sector holding the
    /// tear is filled with seeded garbage from the tear to its end (the file
    /// grows to cover it).
    TornSectorGarbage,
    /// As [`CrashVariant::TornSectorGarbage`] with zeros for garbage.
    TornSectorZeros,
    /// The length of the unsynced image survives, none of the unsynced data
    /// does: past the durable content the file reads as zeros. Namespace
    /// changes are lost.
    LengthWithoutData,
    /// The unsynced writes within the durable length survive, but the
    /// length stays the durable one: writes past it and `set_len`s are
    /// lost. Namespace changes are lost.
    DataWithoutLength,
}

impl CrashVariant {
    /// Every variant.
    pub const ALL: [CrashVariant; 7] = [
        Self::LoseUnsynced,
        Self::TornPrefix,
        Self::Pages,
        Self::TornSectorGarbage,
        Self::TornSectorZeros,
        Self::LengthWithoutData,
        Self::DataWithoutLength,
    ];

    /// A short kebab-case name, as `Display` prints it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::LoseUnsynced => "lose-unsynced",
            Self::TornPrefix => "torn-prefix",
            Self::Pages => "pages",
            Self::TornSectorGarbage => "torn-sector-garbage",
            Self::TornSectorZeros => "torn-sector-zeros",
            Self::LengthWithoutData => "length-without-data",
            Self::DataWithoutLength => "data-without-length",
        }
    }

    /// Whether a random prefix of the pending namespace changes survives.
    pub(super) fn keeps_namespace_prefix(self) -> bool {
        matches!(
            self,
            Self::TornPrefix | Self::Pages | Self::TornSectorGarbage | Self::TornSectorZeros
        )
    }
}

impl fmt::Display for CrashVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SplitMix64: a tiny, seeded, deterministic PRNG.
#[derive(Debug, Clone)]
pub(super) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub(super) const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub(super) fn below(&mut self, n: usize) -> usize {
        let wide = (u128::from(self.next_u64()) * n as u128) >> 64;
        usize::try_from(wide).unwrap_or(0)
    }

    /// A fair coin.
    pub(super) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// Fills `buf` with random bytes.
    pub(super) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            for (dst, src) in chunk.iter_mut().zip(bytes) {
                *dst = src;
            }
        }
    }
}

/// `EIO`.
pub(super) fn eio() -> io::Error {
    io::Error::from_raw_os_error(5)
}

/// `ENOSPC` (kind `StorageFull`).
pub(super) fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

/// An operation on a handle from before the last crash.
pub(super) fn stale() -> io::Error {
    io::Error::other("simulated crash: stale handle")
}

/// An operation after the process died (see `crash_at`).
pub(super) fn dead() -> io::Error {
    io::Error::other("simulated crash: process is dead")
}

/// An error of `kind` with a message.
pub(super) fn err(kind: io::ErrorKind, msg: &'static str) -> io::Error {
    io::Error::new(kind, msg)
}
