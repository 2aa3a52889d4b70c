//! Shared support of the crash and fault suites: the seeded generator (re-exported from `test-support`), a deterministic workload generator, the one oracle, and a storage wrapper that observes every storage operation.
//!
//! The crash, fault, bit-flip, torn-write and protocol-step modules use it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use wal_format::{
    DEFAULT_MAX_RECORD_LEN, Decoded, FileHeader, FrameHeader, FrameKind, HEADER_LEN, decode_record,
};
use wal_io::sim::{OpKind, SimStorage};
use wal_io::{
    FsStorage, OpenMode, RecoveryReport, Storage, StorageFile, StorageLock, Wal, WalError,
    WalOptions,
};

/// The log every suite writes.
pub const LOG: &str = "wal.log";
/// The temporary file of its rewrites (default suffix).
pub const TMP: &str = "wal.log.rewrite.tmp";
/// The lock file beside [`LOG`], which also holds the sidecar's claim.
pub const LOCK: &str = "wal.log.lock";

pub use test_support::rng::Rng;

/// One call of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `Wal::append`.
    Append(Vec<u8>),
    /// `Wal::append_many`.
    AppendMany(Vec<Vec<u8>>),
    /// `Wal::batch`, `push` each, `commit`.
    Batch(Vec<Vec<u8>>),
    /// `Wal::sync`.
    Sync,
    /// `Wal::rewrite` with the current records from `keep_from` on,
    /// followed by `extra`.
    Rewrite {
        /// How many of the oldest records to drop.
        keep_from: usize,
        /// New records after the kept ones.
        extra: Vec<Vec<u8>>,
    },
    /// Drop the `Wal` and open it again.
    Reopen,
}

impl Step {
    /// A short description for failure messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Append(p) => format!("append({} B)", p.len()),
            Self::AppendMany(ps) => format!("append_many({} records)", ps.len()),
            Self::Batch(ps) => format!("batch({} records)", ps.len()),
            Self::Sync => "sync".to_owned(),
            Self::Rewrite { keep_from, extra } => {
                format!("rewrite(drop {keep_from}, add {})", extra.len())
            }
            Self::Reopen => "reopen".to_owned(),
        }
    }
}

/// Shape of a generated workload.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadShape {
    /// Number of calls.
    pub calls: usize,
    /// Rewrite (dropping a prefix) once the log holds this many bytes...
    pub max_bytes: usize,
    /// ...or this many records.
    pub max_records: usize,
}

impl WorkloadShape {
    /// `calls` calls over a log kept under ~48 KiB.
    #[must_use]
    pub fn new(calls: usize) -> Self {
        Self {
            calls,
            max_bytes: 48 << 10,
            max_records: 80,
        }
    }
}

/// A payload of a random size (mostly 0..2000 bytes, one in ten 4..12 KiB,
/// so that records straddle 4 KiB pages) starting with its unique `id`.
pub fn payload(rng: &mut Rng, id: u64) -> Vec<u8> {
    let len = match rng.index(100) {
        0..=4 => rng.index(8),
        5..=59 => rng.range(8, 200),
        60..=89 => rng.range(200, 2000),
        _ => rng.range(4097, 12 << 10),
    };
    let mut p = vec![0; len];
    rng.fill(&mut p);
    let id = id.to_le_bytes();
    let n = len.min(id.len());
    p[..n].copy_from_slice(&id[..n]);
    p
}

/// The deterministic workload of `seed`: appends, batches, syncs, rewrites
/// (keeping everything, dropping a prefix, or adding new records) and
/// reopens, with a rewrite dropping old records whenever the log grows
/// past the shape's bounds. It depends on the seed only, never on results.
#[must_use]
pub fn workload(seed: u64, shape: WorkloadShape) -> Vec<Step> {
    let mut rng = Rng::new(seed ^ 0x5EED_0F3A_u64);
    let mut sizes: Vec<usize> = Vec::new();
    let mut id = seed << 32;
    let mut next = |rng: &mut Rng| {
        id += 1;
        payload(rng, id)
    };
    let mut steps = Vec::with_capacity(shape.calls);
    while steps.len() < shape.calls {
        let bytes: usize = sizes.iter().map(|s| s + 16).sum();
        let step = if bytes > shape.max_bytes || sizes.len() > shape.max_records {
            let keep = rng.range(0, 10).min(sizes.len());
            let extra = (0..rng.index(3)).map(|_| next(&mut rng)).collect();
            Step::Rewrite {
                keep_from: sizes.len() - keep,
                extra,
            }
        } else {
            match rng.index(100) {
                0..=39 => Step::Append(next(&mut rng)),
                40..=49 => Step::AppendMany((0..rng.range(1, 6)).map(|_| next(&mut rng)).collect()),
                50..=57 => Step::Batch((0..rng.range(0, 5)).map(|_| next(&mut rng)).collect()),
                58..=84 => Step::Sync,
                85..=91 => {
                    let keep_from = match rng.index(3) {
                        0 => 0,
                        1 => rng.index(sizes.len() + 1),
                        _ => sizes.len(),
                    };
                    let extra = (0..rng.index(4)).map(|_| next(&mut rng)).collect();
                    Step::Rewrite { keep_from, extra }
                }
                _ => Step::Reopen,
            }
        };
        match &step {
            Step::Append(p) => sizes.push(p.len()),
            Step::AppendMany(ps) | Step::Batch(ps) => sizes.extend(ps.iter().map(Vec::len)),
            Step::Rewrite { keep_from, extra } => {
                sizes.drain(..*keep_from);
                sizes.extend(extra.iter().map(Vec::len));
            }
            Step::Sync | Step::Reopen => {}
        }
        steps.push(step);
    }
    steps
}

/// The oracle: what was appended, what a successful sync covered, and a
/// rewrite in flight.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The payloads appended or being appended, in order: the log's
    /// contents if nothing is lost.
    pub records: Vec<Vec<u8>>,
    /// How many of `records` a successful sync (or open, or rewrite) made
    /// durable.
    pub synced: usize,
    /// While a rewrite is in flight: the list it replaces `records` with.
    pub rewrite_to: Option<Vec<Vec<u8>>>,
}

impl Model {
    /// Marks `step` in flight: appended payloads count as appended, a
    /// rewrite's new list becomes an acceptable outcome.
    pub fn begin(&mut self, step: &Step) {
        match step {
            Step::Append(p) => self.records.push(p.clone()),
            Step::AppendMany(ps) | Step::Batch(ps) => self.records.extend(ps.iter().cloned()),
            Step::Rewrite { keep_from, extra } => {
                let from = (*keep_from).min(self.records.len());
                let mut list = self.records[from..].to_vec();
                list.extend(extra.iter().cloned());
                self.rewrite_to = Some(list);
            }
            Step::Sync | Step::Reopen => {}
        }
    }

    /// Records that `step`, begun with [`Model::begin`], succeeded.
    pub fn commit(&mut self, step: &Step) {
        match step {
            Step::Append(_) | Step::AppendMany(_) | Step::Batch(_) => {}
            Step::Sync | Step::Reopen => self.synced = self.records.len(),
            Step::Rewrite { .. } => {
                if let Some(list) = self.rewrite_to.take() {
                    self.records = list;
                }
                self.synced = self.records.len();
            }
        }
    }

    /// Whether `got` (the payloads a recovery replayed) is possible: the
    /// first k records for some synced <= k <= appended, or, with a rewrite
    /// in flight, exactly its new list.
    pub fn check(&self, got: &[Vec<u8>]) -> Result<(), String> {
        if self.rewrite_to.as_deref() == Some(got) {
            return Ok(());
        }
        let n = got.len();
        let bounds = format!(
            "synced {} <= k <= appended {}{}",
            self.synced,
            self.records.len(),
            if self.rewrite_to.is_some() {
                " (or the rewrite's new list)"
            } else {
                ""
            }
        );
        if let Some(i) = (0..n.min(self.records.len())).find(|&i| got[i] != self.records[i]) {
            return Err(format!(
                "replayed record {i} ({} B) differs from appended record {i} ({} B); {n} replayed, {bounds}",
                got[i].len(),
                self.records[i].len()
            ));
        }
        if n < self.synced || n > self.records.len() {
            return Err(format!("{n} records replayed, expected {bounds}"));
        }
        Ok(())
    }
}

/// What a recovery replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Sequence number of each record.
    pub seqs: Vec<u64>,
    /// Payload of each record.
    pub payloads: Vec<Vec<u8>>,
}

/// Opens the log at `path`, collecting the replayed records.
pub fn open_at(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &WalOptions,
) -> Result<(Wal, Replayed, RecoveryReport), WalError> {
    let mut replayed = Replayed::default();
    let (wal, report) = Wal::open(storage, path, opts.clone(), |r| {
        replayed.seqs.push(r.seq);
        replayed.payloads.push(r.payload.to_vec());
        Ok(())
    })?;
    Ok((wal, replayed, report))
}

/// Opens the log at `path` on real files; returns the replayed payloads.
pub fn open_fs_with(path: &Path, opts: WalOptions) -> Result<(Wal, Vec<Vec<u8>>), WalError> {
    let (wal, replayed, _) = open_at(Arc::new(FsStorage::new()), path, &opts)?;
    Ok((wal, replayed.payloads))
}

/// [`open_fs_with`] with the default options.
pub fn open_fs(path: &Path) -> Result<(Wal, Vec<Vec<u8>>), WalError> {
    open_fs_with(path, WalOptions::default())
}

/// A new, empty log `events.log` in a fresh temporary directory, on real
/// files: the directory (which removes itself when dropped), the log's
/// path, and the log.
pub fn new_fs_log() -> (tempfile::TempDir, PathBuf, Wal) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (wal, _) = open_fs(&path).unwrap();
    (dir, path, wal)
}

/// Opens [`LOG`], collecting the replayed records.
pub fn open_log(
    storage: Arc<dyn Storage>,
    opts: &WalOptions,
) -> Result<(Wal, Replayed, RecoveryReport), WalError> {
    open_at(storage, Path::new(LOG), opts)
}

/// Checks what a successful open reports against what it replayed:
/// consecutive sequence numbers from the header's base, counts, stats.
pub fn check_open(wal: &Wal, replayed: &Replayed, report: &RecoveryReport) -> Result<(), String> {
    let base = wal.header().base_seq;
    // Sequence numbers follow the file's frames: consecutive, except that a
    // seal (never two in a row, never first) takes one between records.
    let mut expected = base;
    for (i, &seq) in replayed.seqs.iter().enumerate() {
        if !(seq == expected || (i > 0 && seq == expected + 1)) {
            return Err(format!(
                "record {i} replayed with seq {seq}, expected {expected} (or one more after a seal)"
            ));
        }
        expected = seq + 1;
    }
    let n = replayed.payloads.len() as u64;
    let stats = wal.stats();
    if report.records != n || stats.records != n || stats.unsynced_records != 0 {
        return Err(format!(
            "{n} records replayed but report says {} and stats {stats:?}",
            report.records
        ));
    }
    let sealed_end = n > 0 && stats.next_seq == expected + 1;
    if !(stats.next_seq == expected || sealed_end) || report.bytes != stats.bytes {
        return Err(format!(
            "after replaying {n} records from base {base}: stats {stats:?}, report {report:?}"
        ));
    }
    Ok(())
}

/// Why a workload step failed.
#[derive(Debug)]
pub enum StepError {
    /// The call returned an error.
    Wal(WalError),
    /// The call succeeded but broke a promise (described).
    Check(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wal(e) => write!(f, "call failed: {e}"),
            Self::Check(s) => write!(f, "check failed: {s}"),
        }
    }
}

/// Runs workload steps against a log, keeping the shared [`Model`] up to
/// date. The model's lock is never held during a `Wal` call, so a storage
/// hook may read it.
pub struct Driver {
    /// The open log, if any.
    pub wal: Option<Wal>,
    /// Where it lives.
    pub storage: Arc<dyn Storage>,
    /// How it is opened.
    pub opts: WalOptions,
    /// The oracle.
    pub model: Arc<Mutex<Model>>,
}

/// Locks a mutex, ignoring poisoning (a failed check already panicked).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Driver {
    /// A driver over `storage`; call [`Driver::open`] first.
    pub fn new(storage: Arc<dyn Storage>, opts: WalOptions) -> Self {
        Self {
            wal: None,
            storage,
            opts,
            model: Arc::new(Mutex::new(Model::default())),
        }
    }

    /// Closes the log if it is open (sealing it), then opens it again: a
    /// clean reopen, so everything in the model must replay.
    pub fn open(&mut self) -> Result<(), StepError> {
        if let Some(wal) = self.wal.take() {
            wal.close().map_err(StepError::Wal)?;
        }
        let (wal, replayed, report) =
            open_log(self.storage.clone(), &self.opts).map_err(StepError::Wal)?;
        check_open(&wal, &replayed, &report).map_err(StepError::Check)?;
        let mut model = lock(&self.model);
        if replayed.payloads != model.records {
            return Err(StepError::Check(format!(
                "a clean reopen replayed {} records, {} were appended",
                replayed.payloads.len(),
                model.records.len()
            )));
        }
        model.synced = model.records.len();
        drop(model);
        self.wal = Some(wal);
        Ok(())
    }

    /// Runs one step. On error the model keeps the step in flight.
    pub fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let new_list = {
            let mut model = lock(&self.model);
            model.begin(step);
            model.rewrite_to.clone()
        };
        if *step == Step::Reopen {
            return self.open();
        }
        let wal = self
            .wal
            .as_mut()
            .ok_or_else(|| StepError::Check("no open log".to_owned()))?;
        let result = match step {
            Step::Append(p) => wal.append(p).map(|_| ()),
            Step::AppendMany(ps) => wal.append_many(ps.iter().map(Vec::as_slice)).map(|_| ()),
            Step::Batch(ps) => wal.batch().and_then(|mut b| {
                for p in ps {
                    b.push(p)?;
                }
                b.commit().map(|_| ())
            }),
            Step::Sync => wal.sync(),
            Step::Rewrite { .. } => {
                let list = new_list.unwrap_or_default();
                let n = wal
                    .rewrite(|w| {
                        for p in &list {
                            w.push(p)?;
                        }
                        Ok(())
                    })
                    .map_err(StepError::Wal)?;
                if n != list.len() as u64 {
                    return Err(StepError::Check(format!(
                        "rewrite returned {n}, {} records were pushed",
                        list.len()
                    )));
                }
                Ok(())
            }
            Step::Reopen => unreachable!("handled above"),
        };
        result.map_err(StepError::Wal)?;
        let mut model = lock(&self.model);
        model.commit(step);
        let stats = wal.stats();
        let unsynced = (model.records.len() - model.synced) as u64;
        if stats.records != model.records.len() as u64 || stats.unsynced_records != unsynced {
            return Err(StepError::Check(format!(
                "after {}: stats {stats:?}, model has {} records ({} synced)",
                step.describe(),
                model.records.len(),
                model.synced
            )));
        }
        Ok(())
    }
}

/// Whether an operation of kind `op` may change what a crash leaves
/// (anything but lookups and reads; taking a lock may create its file).
#[must_use]
pub fn mutates(op: OpKind) -> bool {
    !matches!(
        op,
        OpKind::Open | OpKind::FileExists | OpKind::Len | OpKind::Read
    )
}

/// One storage operation about to run.
#[derive(Debug, Clone)]
pub struct OpInfo {
    /// Its number in the simulation ([`SimStorage::ops`]).
    pub index: u64,
    /// What it is. [`Hooked`] sees the call, not its effect: it reports a
    /// `lock` as [`OpKind::Lock`] whether or not it creates the lock file,
    /// and a `set_len` as [`OpKind::SetLen`] whether or not it grows the
    /// file.
    pub op: OpKind,
    /// The file or directory it acts on.
    pub path: PathBuf,
}

/// A callback run before every storage operation.
pub type Hook = Arc<dyn Fn(&OpInfo) + Send + Sync>;

/// The current name of each open file of a [`Hooked`] storage.
type Names = Arc<Mutex<Vec<Weak<Mutex<PathBuf>>>>>;

/// A [`SimStorage`] that calls a hook before every operation.
#[derive(Clone)]
pub struct Hooked {
    sim: SimStorage,
    hook: Hook,
    names: Names,
}

impl Hooked {
    /// `sim`, observed by `hook`.
    pub fn new(sim: SimStorage, hook: Hook) -> Self {
        Self {
            sim,
            hook,
            names: Arc::default(),
        }
    }

    fn before(&self, op: OpKind, path: &Path) {
        (self.hook)(&OpInfo {
            index: self.sim.ops(),
            op,
            path: path.to_path_buf(),
        });
    }

    /// Open files named `from` are now named `to`.
    fn renamed(&self, from: &Path, to: &Path) {
        let mut names = lock(&self.names);
        names.retain(|n| n.strong_count() > 0);
        for name in names.iter().filter_map(Weak::upgrade) {
            let mut name = lock(&name);
            if *name == from {
                *name = to.to_path_buf();
            }
        }
    }
}

impl fmt::Debug for Hooked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Hooked").field(&self.sim).finish()
    }
}

impl Storage for Hooked {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let op = match mode {
            OpenMode::Existing => OpKind::Open,
            OpenMode::CreateNew => OpKind::CreateNew,
        };
        self.before(op, path);
        let inner = self.sim.open(path, mode)?;
        let name = Arc::new(Mutex::new(path.to_path_buf()));
        lock(&self.names).push(Arc::downgrade(&name));
        Ok(Box::new(HookedFile {
            inner,
            storage: self.clone(),
            name,
        }))
    }

    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        self.before(OpKind::FileExists, path);
        self.sim.file_exists(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.before(OpKind::Rename, from);
        self.sim.rename(from, to)?;
        self.renamed(from, to);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.before(OpKind::Remove, path);
        self.sim.remove(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.before(OpKind::SyncDir, dir);
        self.sim.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>> {
        self.before(OpKind::Lock, path);
        self.sim.lock(path)
    }
}

/// An open file of a [`Hooked`] storage.
struct HookedFile {
    inner: Box<dyn StorageFile>,
    storage: Hooked,
    /// Its current name (renames follow it).
    name: Arc<Mutex<PathBuf>>,
}

impl HookedFile {
    fn before(&self, op: OpKind) {
        let name = lock(&self.name).clone();
        self.storage.before(op, &name);
    }
}

impl fmt::Debug for HookedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HookedFile").field(&self.inner).finish()
    }
}

impl StorageFile for HookedFile {
    fn len(&self) -> io::Result<u64> {
        self.before(OpKind::Len);
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.before(OpKind::Read);
        self.inner.read_at(offset, buf)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.before(OpKind::Write);
        self.inner.write_at(offset, data)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.before(OpKind::SetLen);
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.before(OpKind::SyncData);
        self.inner.sync_data()
    }

    fn allocate(&self, len: u64) -> io::Result<()> {
        self.before(OpKind::Allocate);
        self.inner.allocate(len)
    }
}

/// If `bytes` (a log image) holds a damaged or partial record followed by
/// a valid one, describes it.
#[must_use]
pub fn partial_then_valid(bytes: &[u8]) -> Option<String> {
    let Ok(Decoded::Complete(header)) = FileHeader::decode(bytes) else {
        return None;
    };
    let mut at = HEADER_LEN;
    let mut seq = header.base_seq;
    while at < bytes.len() {
        match decode_record(&bytes[at..], seq, DEFAULT_MAX_RECORD_LEN) {
            Ok(Decoded::Complete(r)) => {
                at += r.frame_len;
                seq += r.seq_count();
            }
            _ => break,
        }
    }
    let damaged = at;
    for x in damaged + 1..bytes.len() {
        // Records, alone or in batches. Seals are left out: a known gap.
        // When an fsync fails and the cut-back to the synced length fails
        // too, a reopen before a reboot sees the lost records in the page
        // cache, and the seal it writes on close vouches for them, so a later
        // strict open reports `Corrupt` instead of a torn tail (no data is
        // dropped silently; salvage opens it).
        if !matches!(
            FrameKind::from_marker(bytes[x]),
            Some(FrameKind::Record | FrameKind::Batch)
        ) {
            continue;
        }
        let Some(h) = FrameHeader::peek(&bytes[x..]) else {
            continue;
        };
        let Some(candidate) = h.seq_after(seq.wrapping_sub(1)) else {
            continue;
        };
        if let Ok(Decoded::Complete(_)) =
            decode_record(&bytes[x..], candidate, DEFAULT_MAX_RECORD_LEN)
        {
            return Some(format!(
                "the records end at byte {damaged} (record {seq}) of {}, but a valid record {candidate} follows at byte {x}",
                bytes.len()
            ));
        }
    }
    None
}
