//! Tests of a sync running concurrently with writes, and of `allocate`.

use std::io;

use super::tests::{durable_file, p};
use super::{CrashVariant, Fault, FaultKind, SimStorage};

/// The inode and generation of the file at `path`.
fn handle(sim: &SimStorage, path: &str) -> (u64, u64) {
    sim.with(|st| (st.visible[p(path)], st.generation))
}

#[test]
fn a_sync_covers_every_write_made_before_it_began() {
    let mut later_kept = 0;
    for seed in 0..64 {
        let sim = SimStorage::new(seed);
        let file = durable_file(&sim, "a.log", b"abc");
        file.write_at(3, b"def").unwrap();
        let (ino, generation) = handle(&sim, "a.log");
        let covers = sim.with(|st| st.sync_begin(ino, generation)).unwrap();
        // A write lands while the sync is in flight.
        file.write_at(6, b"ghi").unwrap();
        sim.with(|st| st.sync_end(ino, generation, covers)).unwrap();
        let durable = sim.durable_file("a.log").unwrap();
        assert!(durable.starts_with(b"abcdef"), "seed {seed}: {durable:?}");
        later_kept += usize::from(durable == b"abcdefghi");
        // Whatever the sync left pending, a later one takes.
        file.sync_data().unwrap();
        assert_eq!(sim.durable_file("a.log").unwrap(), b"abcdefghi");
    }
    assert!(
        later_kept > 0 && later_kept < 64,
        "the later write is taken sometimes: {later_kept}"
    );
}

#[test]
fn a_sync_in_flight_when_the_process_dies_makes_nothing_durable() {
    let sim = SimStorage::new(1);
    let file = durable_file(&sim, "a.log", b"abc");
    file.write_at(3, b"def").unwrap();
    let (ino, generation) = handle(&sim, "a.log");
    let covers = sim.with(|st| st.sync_begin(ino, generation)).unwrap();
    sim.crash_at(sim.ops());
    assert!(file.write_at(6, b"x").is_err());
    assert!(sim.with(|st| st.sync_end(ino, generation, covers)).is_err());
    assert_eq!(sim.durable_file("a.log").unwrap(), b"abc");
}

#[test]
fn two_syncs_in_flight_finish_in_either_order() {
    let sim = SimStorage::new(2);
    let file = durable_file(&sim, "a.log", b"");
    let (ino, generation) = handle(&sim, "a.log");
    file.write_at(0, b"one").unwrap();
    let first = sim.with(|st| st.sync_begin(ino, generation)).unwrap();
    file.write_at(3, b"two").unwrap();
    let second = sim.with(|st| st.sync_begin(ino, generation)).unwrap();
    sim.with(|st| st.sync_end(ino, generation, second)).unwrap();
    assert_eq!(sim.durable_file("a.log").unwrap(), b"onetwo");
    sim.with(|st| st.sync_end(ino, generation, first)).unwrap();
    assert_eq!(sim.durable_file("a.log").unwrap(), b"onetwo");
}

#[test]
fn allocate_is_one_operation_of_zeros_that_never_shrinks() {
    let sim = SimStorage::new(3);
    let file = durable_file(&sim, "a.log", b"head");
    let ops = sim.ops();
    file.allocate(4096).unwrap();
    assert_eq!(sim.ops(), ops + 1);
    let mut want = b"head".to_vec();
    want.resize(4096, 0);
    assert_eq!(sim.read_file("a.log").unwrap(), want);
    file.allocate(100).unwrap();
    assert_eq!(file.len().unwrap(), 4096, "never shrinks");
    // Unsynced, a crash may lose it, or keep the length without data.
    let lost = sim.snapshot();
    lost.crash(CrashVariant::LoseUnsynced);
    assert_eq!(lost.read_file("a.log").unwrap(), b"head");
    let kept = sim.snapshot();
    kept.crash(CrashVariant::LengthWithoutData);
    assert_eq!(kept.read_file("a.log").unwrap(), want);
    file.sync_data().unwrap();
    assert_eq!(sim.durable_file("a.log").unwrap(), want);
}

#[test]
fn allocate_fails_on_a_full_disk() {
    let sim = SimStorage::new(4);
    let file = durable_file(&sim, "a.log", b"head");
    sim.inject(Fault::persistent(sim.ops(), FaultKind::Enospc));
    let err = file.allocate(4096).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert_eq!(sim.read_file("a.log").unwrap(), b"head");
}
