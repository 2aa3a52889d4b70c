//! Group commit over the simulation: threads append while a leader runs
//! `begin_sync` / `SyncTicket::run` / `finish_sync`, the process dies at a
//! random operation and the machine loses power; the recovered log is a
//! prefix of what was appended that holds every record a finished ticket
//! declared durable. Plus the ticket's rules, one test each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use test_support::rng::Rng;
use wal_io::sim::{CrashVariant, Fault, FaultKind, SimStorage};
use wal_io::{Storage, Wal, WalError, WalOptions};

const LOG: &str = "group.log";
const SEEDS: u64 = 48;
const WRITERS: u64 = 3;
const APPENDS: u64 = 60;

/// Records by sequence number, with their payloads.
type Records = Vec<(u64, Vec<u8>)>;

fn open(sim: &SimStorage, opts: &WalOptions) -> Result<(Wal, Records), WalError> {
    let mut records = Vec::new();
    let storage: Arc<dyn Storage> = Arc::new(sim.clone());
    let (wal, _) = Wal::open(storage, LOG, opts.clone(), |r| {
        records.push((r.seq, r.payload.to_vec()));
        Ok(())
    })?;
    Ok((wal, records))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One seeded run: returns how many records recovery kept.
fn run(seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    let sim = SimStorage::new(seed);
    let opts = WalOptions {
        preallocate: seed.is_multiple_of(2).then_some(512),
        ..WalOptions::default()
    };
    let (wal, _) = open(&sim, &opts).expect("a new log opens");
    let wal = Arc::new(Mutex::new(wal));
    sim.crash_at(sim.ops() + 20 + rng.below(600));
    // Every appended record by sequence number, and the durable watermark
    // the finished tickets reported.
    let appended = Arc::new(Mutex::new(Records::new()));
    let durable = Arc::new(AtomicU64::new(0));
    let writers_done = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (wal, appended) = (Arc::clone(&wal), Arc::clone(&appended));
            thread::spawn(move || {
                for i in 0..APPENDS {
                    let payload = format!("writer {t} record {i}").into_bytes();
                    let mut guard = lock(&wal);
                    match guard.append(&payload) {
                        Ok(seq) => lock(&appended).push((seq, payload)),
                        Err(_) => return,
                    }
                    drop(guard);
                    thread::yield_now();
                }
            })
        })
        .collect();
    let leader = {
        let (wal, durable, done) = (
            Arc::clone(&wal),
            Arc::clone(&durable),
            Arc::clone(&writers_done),
        );
        thread::spawn(move || {
            loop {
                let last_round = done.load(Ordering::SeqCst);
                let Ok(ticket) = lock(&wal).begin_sync() else {
                    return;
                };
                // The fdatasync runs without the lock: writers go on.
                let completed = ticket.run();
                match lock(&wal).finish_sync(completed) {
                    Ok(watermark) => {
                        let before = durable.fetch_max(watermark, Ordering::SeqCst);
                        assert!(watermark >= before, "the watermark went back");
                    }
                    Err(_) => return,
                }
                if last_round {
                    return;
                }
            }
        })
    };
    for w in writers {
        w.join().expect("a writer panicked");
    }
    writers_done.store(true, Ordering::SeqCst);
    leader.join().expect("the leader panicked");
    let wal = Arc::into_inner(wal).expect("every thread is done");
    // Dropping seals (and so syncs) if the process is still alive.
    let alive = !sim.is_dead();
    drop(wal.into_inner().unwrap_or_else(PoisonError::into_inner));
    let variant = CrashVariant::ALL[usize::try_from(seed).unwrap_or(0) % CrashVariant::ALL.len()];
    sim.crash(variant);

    let (_wal, recovered) = open(&sim, &opts)
        .unwrap_or_else(|e| panic!("seed {seed} ({variant}): recovery failed: {e}"));
    let mut appended = std::mem::take(&mut *lock(&appended));
    appended.sort();
    let durable = durable.load(Ordering::SeqCst);
    assert!(
        recovered.len() <= appended.len(),
        "seed {seed} ({variant}): {} records recovered, {} appended",
        recovered.len(),
        appended.len()
    );
    assert_eq!(
        recovered[..],
        appended[..recovered.len()],
        "seed {seed} ({variant}): the recovered records are not a prefix of the appended ones"
    );
    let kept_upto = recovered.last().map_or(0, |(seq, _)| seq + 1);
    assert!(
        kept_upto >= durable,
        "seed {seed} ({variant}): records below {durable} were declared durable, recovery kept those below {kept_upto}"
    );
    if alive {
        assert_eq!(
            recovered.len(),
            appended.len(),
            "seed {seed}: a clean close kept everything"
        );
    }
    recovered.len() as u64
}

#[test]
fn concurrent_appends_and_group_syncs_survive_crashes_as_a_prefix() {
    let kept: u64 = (0..SEEDS).map(run).sum();
    // The runs are not vacuous: crashes came after records were kept.
    assert!(kept > SEEDS, "only {kept} records kept over {SEEDS} seeds");
}

fn new_log(seed: u64) -> (SimStorage, Wal) {
    let sim = SimStorage::new(seed);
    let (wal, _) = open(&sim, &WalOptions::default()).expect("a new log opens");
    (sim, wal)
}

#[test]
fn tickets_finish_in_any_order_and_the_watermark_never_goes_back() -> Result<(), WalError> {
    let (_sim, mut wal) = new_log(1);
    wal.append(b"a")?;
    let first = wal.begin_sync()?;
    assert_eq!(first.upto(), 1);
    wal.append(b"b")?;
    wal.append(b"c")?;
    let second = wal.begin_sync()?;
    assert_eq!(second.upto(), 3);
    assert_eq!(wal.durable_seq(), 0);
    let (first, second) = (first.run(), second.run());
    assert_eq!(wal.finish_sync(second)?, 3);
    assert_eq!(
        wal.finish_sync(first)?,
        3,
        "an older ticket does not lower it"
    );
    assert_eq!(wal.stats().durable_seq, 3);
    assert_eq!(wal.stats().unsynced_records, 0);
    Ok(())
}

#[test]
fn a_ticket_covers_only_what_was_appended_before_it() -> Result<(), WalError> {
    let (sim, mut wal) = new_log(2);
    wal.append(b"covered")?;
    let ticket = wal.begin_sync()?;
    // Appended after the ticket was taken: the fdatasync may take it
    // along if it starts later, but the ticket never claims it.
    wal.append(b"maybe")?;
    let completed = ticket.run();
    wal.append(b"after the sync")?;
    assert_eq!(wal.finish_sync(completed)?, 1);
    assert_eq!(wal.stats().unsynced_records, 2);
    // Power loss now keeps the covered record and loses the one written
    // after the sync.
    let image = sim.snapshot();
    image.crash(CrashVariant::LoseUnsynced);
    let (_reopened, records) = open(&image, &WalOptions::default())?;
    assert_eq!(records.first(), Some(&(0, b"covered".to_vec())));
    assert!(records.len() <= 2, "{records:?}");
    drop(wal);
    Ok(())
}

#[test]
fn a_failed_ticket_poisons_the_log() -> Result<(), WalError> {
    let (sim, mut wal) = new_log(3);
    wal.append(b"a")?;
    let ticket = wal.begin_sync()?;
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    let completed = ticket.run();
    assert!(!completed.succeeded());
    let err = wal.finish_sync(completed).unwrap_err();
    assert!(matches!(err, WalError::Io { .. }), "{err:?}");
    assert_eq!(wal.durable_seq(), 0);
    assert!(matches!(wal.append(b"b"), Err(WalError::Poisoned { .. })));
    assert!(matches!(wal.begin_sync(), Err(WalError::Poisoned { .. })));
    Ok(())
}

#[test]
fn a_successful_ticket_after_a_failed_one_proves_nothing() -> Result<(), WalError> {
    let (sim, mut wal) = new_log(4);
    wal.append(b"a")?;
    let good = wal.begin_sync()?.run();
    let bad = wal.begin_sync()?;
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    assert!(wal.finish_sync(bad.run()).is_err());
    assert!(matches!(
        wal.finish_sync(good),
        Err(WalError::Poisoned { .. })
    ));
    assert_eq!(wal.durable_seq(), 0);
    Ok(())
}

#[test]
fn a_ticket_from_before_a_rewrite_is_ignored() -> Result<(), WalError> {
    let (sim, mut wal) = new_log(5);
    wal.append(b"old")?;
    let ticket = wal.begin_sync()?;
    wal.rewrite(|w| w.push(b"new"))?;
    let after_rewrite = wal.durable_seq();
    // Even a failed sync of the replaced file changes nothing.
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    let completed = ticket.run();
    assert!(!completed.succeeded());
    assert_eq!(wal.finish_sync(completed)?, after_rewrite);
    assert!(wal.poisoned().is_none());
    wal.append(b"more")?;
    wal.sync()?;
    Ok(())
}

#[test]
fn an_empty_ticket_syncs_nothing() -> Result<(), WalError> {
    let (sim, mut wal) = new_log(6);
    let ops = sim.ops();
    let ticket = wal.begin_sync()?;
    assert_eq!(wal.finish_sync(ticket.run())?, 0);
    assert_eq!(sim.ops(), ops, "no storage operation for nothing to sync");
    Ok(())
}
