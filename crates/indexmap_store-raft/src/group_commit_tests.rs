//! Group commit in the log store: appends that arrive while a sync runs
//! share the next `fdatasync`, and none is acknowledged before a sync that
//! covers it. The storage is the simulation behind a gate that holds a
//! sync until the test opens it, and counts the syncs.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openraft::{CommittedLeaderId, EntryPayload};
use wal_io::sim::{CrashVariant, SimStorage};
use wal_io::{OpenMode, Storage, StorageFile, StorageLock};

use crate::log_store::{Done, LogStore};
use crate::types::{Command, Entry, LogId};

/// Counts file syncs and, while closed, holds each one before it runs.
#[derive(Debug, Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    closed: bool,
    /// Syncs waiting at the closed gate.
    waiting: u64,
    /// Syncs that ran.
    synced: u64,
}

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_closed(&self, closed: bool) {
        self.state().closed = closed;
        self.changed.notify_all();
    }

    fn synced(&self) -> u64 {
        self.state().synced
    }

    /// Runs `sync` once the gate is open, counting it.
    fn pass(&self, sync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let mut state = self.state();
        state.waiting += 1;
        self.changed.notify_all();
        while state.closed {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.waiting -= 1;
        let result = sync();
        state.synced += 1;
        result
    }

    /// Waits until `n` syncs are held at the gate (a liveness bound, not a
    /// timing claim: the flusher gets a minute to reach its sync).
    fn await_waiting(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut state = self.state();
        while state.waiting < n {
            assert!(Instant::now() < deadline, "no sync reached the gate");
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Opens the gate when dropped: a failing assertion must not leave the
/// log's closing sync held at the gate (the test would hang, not fail).
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.set_closed(false);
    }
}

/// The simulation with every file's `sync_data` passing the gate.
#[derive(Debug)]
struct Gated {
    sim: SimStorage,
    gate: Arc<Gate>,
}

#[derive(Debug)]
struct GatedFile {
    file: Box<dyn StorageFile>,
    gate: Arc<Gate>,
}

impl Storage for Gated {
    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        self.sim.resolve(path)
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(GatedFile {
            file: self.sim.open(path, mode)?,
            gate: Arc::clone(&self.gate),
        }))
    }
    fn file_exists(&self, path: &Path) -> io::Result<bool> {
        self.sim.file_exists(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.sim.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.sim.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.sim.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn StorageLock>> {
        self.sim.lock(path)
    }
    fn link_count(&self, path: &Path) -> io::Result<u64> {
        self.sim.link_count(path)
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        self.sim.open_read(path)
    }
    fn new_file_id(&self) -> u64 {
        self.sim.new_file_id()
    }
}

impl StorageFile for GatedFile {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(offset, buf)
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_at(offset, data)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
    fn allocate(&self, len: u64) -> io::Result<()> {
        self.file.allocate(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.gate.pass(|| self.file.sync_data())
    }
}

const LOG: &str = "raft.log";

fn entry(index: u64) -> Entry<u64, u64> {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(Command::Insert {
            key: index,
            value: index * 10,
        }),
    }
}

/// An acknowledgement: the entry's index, the result, and how many syncs
/// had run when it came.
type Ack = (u64, io::Result<()>, u64);

fn probe(index: u64, gate: &Arc<Gate>, acks: &std::sync::mpsc::Sender<Ack>) -> Done {
    let (gate, acks) = (Arc::clone(gate), acks.clone());
    Box::new(move |result| {
        let _ = acks.send((index, result, gate.synced()));
    })
}

fn collect(acks: &Receiver<Ack>, n: usize) -> Vec<Ack> {
    (0..n)
        .map(|_| {
            acks.recv_timeout(Duration::from_secs(60))
                .expect("every append is acknowledged")
        })
        .collect()
}

#[test]
fn appends_queued_behind_a_sync_share_the_next_one() {
    const QUEUED: u64 = 20;
    let sim = SimStorage::new(7);
    let gate = Arc::new(Gate::default());
    let storage = Arc::new(Gated {
        sim: sim.clone(),
        gate: Arc::clone(&gate),
    });
    let (mut log, _) = LogStore::<u64, u64>::open(storage, LOG).expect("a new log opens");
    let _open_on_exit = OpenOnDrop(Arc::clone(&gate));
    let before = gate.synced();
    let (tx, rx) = channel();

    // The first append's sync is held at the gate ...
    gate.set_closed(true);
    log.append_then(vec![entry(1)], probe(1, &gate, &tx))
        .expect("append");
    gate.await_waiting(1);
    // ... while 20 more appends arrive, each its own call.
    for index in 2..=QUEUED + 1 {
        log.append_then(vec![entry(index)], probe(index, &gate, &tx))
            .expect("append");
    }
    let (_, entries) = log.contents();
    assert_eq!(
        entries.len() as u64,
        QUEUED + 1,
        "appends are readable at once"
    );
    assert!(
        rx.try_recv().is_err(),
        "nothing is acknowledged before its sync"
    );

    gate.set_closed(false);
    let acks = collect(&rx, (QUEUED + 1) as usize);
    for (index, result, synced) in &acks {
        assert!(result.is_ok(), "append {index} failed: {result:?}");
        let expected = if *index == 1 { before + 1 } else { before + 2 };
        assert_eq!(
            *synced, expected,
            "append {index} was acknowledged after {synced} syncs"
        );
    }
    assert_eq!(
        gate.synced(),
        before + 2,
        "the 20 queued appends share one sync"
    );

    // What was acknowledged survives a power loss.
    sim.crash(CrashVariant::LoseUnsynced);
    drop(log);
    let (log, _) = LogStore::<u64, u64>::open(Arc::new(sim), LOG).expect("reopen");
    let (_, entries) = log.contents();
    let indexes: Vec<u64> = entries.iter().map(|e| e.log_id.index).collect();
    assert_eq!(indexes, (1..=QUEUED + 1).collect::<Vec<_>>());
}
