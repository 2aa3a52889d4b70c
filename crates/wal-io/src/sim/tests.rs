//! Tests of the namespace, handles, faults, locks and snapshots.

use std::io;
use std::path::Path;

use super::{CrashVariant, Fault, FaultKind, SimStorage};
use crate::storage::{OpenMode, Storage, StorageFile};

/// `path` as a `&Path`.
pub(super) fn p(path: &str) -> &Path {
    Path::new(path)
}

/// Creates `path` with `bytes`, synced and with its directory synced.
pub(super) fn durable_file(sim: &SimStorage, path: &str, bytes: &[u8]) -> Box<dyn StorageFile> {
    let file = sim.open(p(path), OpenMode::CreateNew).unwrap();
    file.write_at(0, bytes).unwrap();
    file.sync_data().unwrap();
    sim.sync_dir(crate::storage::parent_dir(p(path))).unwrap();
    file
}

#[test]
fn synced_data_survives_and_unsynced_is_lost() {
    let sim = SimStorage::new(1);
    let file = durable_file(&sim, "a.log", b"abc");
    file.write_at(3, b"def").unwrap();
    assert_eq!(sim.read_file("a.log").unwrap(), b"abcdef");
    assert_eq!(sim.durable_file("a.log").unwrap(), b"abc");
    sim.crash(CrashVariant::LoseUnsynced);
    assert_eq!(sim.read_file("a.log").unwrap(), b"abc");
    assert_eq!(sim.durable_file("a.log").unwrap(), b"abc");
}

#[test]
fn unsynced_create_is_undone() {
    let sim = SimStorage::new(2);
    let file = sim.open(p("new.log"), OpenMode::CreateNew).unwrap();
    file.write_at(0, b"data").unwrap();
    file.sync_data().unwrap();
    assert_eq!(sim.list(), vec![p("new.log").to_path_buf()]);
    assert!(sim.durable_list().is_empty());
    sim.crash(CrashVariant::LoseUnsynced);
    assert!(sim.list().is_empty());
    assert_eq!(sim.read_file("new.log"), None);
}

#[test]
fn rename_without_dir_sync_is_undone_or_kept() {
    let mut kept = 0;
    let mut undone = 0;
    for seed in 0..64 {
        let sim = SimStorage::new(seed);
        sim.write_file("a", b"old a").unwrap();
        sim.write_file("b", b"old b").unwrap();
        sim.rename(p("a"), p("b")).unwrap();
        assert_eq!(sim.list(), vec![p("b").to_path_buf()]);
        let copy = sim.snapshot();
        sim.crash(CrashVariant::LoseUnsynced);
        assert_eq!(sim.read_file("a").unwrap(), b"old a");
        assert_eq!(sim.read_file("b").unwrap(), b"old b");
        copy.crash(CrashVariant::TornPrefix);
        match (copy.read_file("a"), copy.read_file("b")) {
            (None, Some(b)) if b == b"old a" => kept += 1,
            (Some(a), Some(b)) if a == b"old a" && b == b"old b" => undone += 1,
            other => panic!("impossible image {other:?}"),
        }
    }
    assert!(kept > 0 && undone > 0, "kept {kept}, undone {undone}");
}

#[test]
fn sync_dir_makes_rename_and_remove_durable() {
    let sim = SimStorage::new(3);
    sim.create_dir("d").unwrap();
    sim.write_file("d/tmp", b"new").unwrap();
    sim.write_file("d/x", b"gone").unwrap();
    sim.write_file("other", b"o").unwrap();
    sim.rename(p("d/tmp"), p("d/cur")).unwrap();
    sim.remove(p("d/x")).unwrap();
    sim.remove(p("other")).unwrap();
    sim.sync_dir(p("d")).unwrap();
    sim.crash(CrashVariant::LoseUnsynced);
    assert_eq!(
        sim.list(),
        vec![p("d/cur").to_path_buf(), p("other").to_path_buf()]
    );
    assert_eq!(sim.read_file("d/cur").unwrap(), b"new");
}

#[test]
fn namespace_errors() {
    let sim = SimStorage::new(4);
    sim.create_dir("dir/sub").unwrap();
    let kind = |r: io::Result<Box<dyn StorageFile>>| r.unwrap_err().kind();
    for (path, mode, want) in [
        ("missing/x", OpenMode::CreateNew, io::ErrorKind::NotFound),
        ("dir", OpenMode::Existing, io::ErrorKind::IsADirectory),
        ("dir/sub", OpenMode::CreateNew, io::ErrorKind::AlreadyExists),
        ("dir/x", OpenMode::Existing, io::ErrorKind::NotFound),
    ] {
        assert_eq!(kind(sim.open(p(path), mode)), want, "{path} {mode:?}");
    }
    drop(sim.open(p("dir/sub/x"), OpenMode::CreateNew).unwrap());
    assert_eq!(
        kind(sim.open(p("dir/sub/x"), OpenMode::CreateNew)),
        io::ErrorKind::AlreadyExists
    );
    assert_eq!(
        sim.file_exists(p("dir")).unwrap_err().kind(),
        io::ErrorKind::IsADirectory
    );
    assert!(!sim.file_exists(p("nodir/x")).unwrap());
    assert!(sim.file_exists(p("dir/sub/x")).unwrap());
    assert!(!sim.file_exists(p("dir/y")).unwrap());
    assert_eq!(
        sim.remove(p("dir/y")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(
        sim.rename(p("dir/y"), p("z")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(
        sim.sync_dir(p("nodir")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    assert!(sim.create_dir("dir/sub/x").is_err());
    assert_eq!(
        kind(sim.open(p(""), OpenMode::CreateNew)),
        io::ErrorKind::NotFound
    );
}

#[test]
fn rename_replaces_target_and_handles_follow_the_inode() {
    let sim = SimStorage::new(5);
    let a = durable_file(&sim, "a", b"A");
    let b = durable_file(&sim, "b", b"BB");
    sim.rename(p("a"), p("b")).unwrap();
    a.write_at(1, b"!").unwrap();
    assert_eq!(sim.read_file("b").unwrap(), b"A!");
    assert_eq!(b.len().unwrap(), 2, "the replaced file lives on while open");
    assert_eq!(sim.list(), vec![p("b").to_path_buf()]);
}

#[test]
fn ops_are_counted() {
    let sim = SimStorage::new(6);
    assert_eq!(sim.ops(), 0);
    let f = sim.open(p("f"), OpenMode::CreateNew).unwrap();
    f.write_at(0, b"x").unwrap();
    f.len().unwrap();
    f.read_at(0, &mut [0; 4]).unwrap();
    f.set_len(4).unwrap();
    f.sync_data().unwrap();
    sim.sync_dir(p(".")).unwrap();
    sim.file_exists(p("f")).unwrap();
    drop(sim.lock(p("f.lock")).unwrap());
    sim.rename(p("f"), p("g")).unwrap();
    sim.remove(p("g")).unwrap();
    let _ = sim.read_file("g");
    assert_eq!(sim.ops(), 11);
}

#[test]
fn once_and_persistent_eio() {
    let sim = SimStorage::new(7);
    let f = durable_file(&sim, "f", b"");
    sim.inject(Fault::once(sim.ops() + 1, FaultKind::Eio));
    f.write_at(0, b"1").unwrap();
    let e = f.write_at(1, b"2").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(5));
    f.write_at(1, b"3").unwrap();
    assert_eq!(sim.read_file("f").unwrap(), b"13");

    sim.inject(Fault::persistent(sim.ops(), FaultKind::Eio));
    for _ in 0..3 {
        assert_eq!(f.write_at(0, b"x").unwrap_err().raw_os_error(), Some(5));
        assert!(f.read_at(0, &mut [0; 1]).is_err());
        assert!(sim.file_exists(p("f")).is_err());
    }
    assert_eq!(sim.read_file("f").unwrap(), b"13");
    sim.clear_faults();
    f.write_at(0, b"x").unwrap();
}

#[test]
fn persistent_enospc_fails_only_allocations() {
    let sim = SimStorage::new(8);
    let f = durable_file(&sim, "f", b"abc");
    sim.inject(Fault::persistent(sim.ops(), FaultKind::Enospc));
    assert_eq!(
        f.write_at(3, b"d").unwrap_err().kind(),
        io::ErrorKind::StorageFull
    );
    assert_eq!(
        f.write_at(0, b"d").unwrap_err().kind(),
        io::ErrorKind::StorageFull
    );
    assert_eq!(
        f.set_len(10).unwrap_err().kind(),
        io::ErrorKind::StorageFull
    );
    assert!(sim.open(p("g"), OpenMode::CreateNew).is_err());
    let mut buf = [0; 3];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 3);
    f.set_len(1).unwrap();
    f.sync_data().unwrap();
    sim.remove(p("f")).unwrap();
    assert!(sim.list().is_empty());
}

#[test]
fn fsync_eio_drops_pending_writes() {
    let sim = SimStorage::new(9);
    let f = durable_file(&sim, "f", b"base");
    f.write_at(4, b"+more").unwrap();
    sim.inject(Fault::once(sim.ops(), FaultKind::FsyncEio));
    assert_eq!(f.sync_data().unwrap_err().raw_os_error(), Some(5));
    assert_eq!(sim.read_file("f").unwrap(), b"base+more", "still visible");
    assert_eq!(sim.durable_file("f").unwrap(), b"base");
    f.sync_data().unwrap();
    assert_eq!(sim.durable_file("f").unwrap(), b"base", "the retry lies");
    for variant in CrashVariant::ALL {
        let copy = sim.snapshot();
        copy.crash(variant);
        assert_eq!(copy.read_file("f").unwrap(), b"base", "{variant}");
    }
}

#[test]
fn short_write_leaves_a_strict_prefix() {
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let sim = SimStorage::new(seed);
        let f = durable_file(&sim, "f", b"");
        sim.inject(Fault::once(sim.ops(), FaultKind::ShortWriteEnospc));
        let e = f.write_at(0, b"0123456789").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        let got = sim.read_file("f").unwrap();
        assert!(got.len() < 10 && b"0123456789".starts_with(&got));
        lengths.insert(got.len());
    }
    assert!(lengths.len() > 3, "{lengths:?}");
}

#[test]
fn crash_at_kills_the_process() {
    let sim = SimStorage::new(10);
    let f = durable_file(&sim, "f", b"a");
    sim.crash_at(sim.ops() + 1);
    f.write_at(1, b"b").unwrap();
    assert!(!sim.is_dead());
    let e = f.write_at(2, b"c").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::Other);
    assert_eq!(e.to_string(), "simulated crash: process is dead");
    assert!(sim.is_dead());
    assert!(sim.open(p("g"), OpenMode::CreateNew).is_err());
    assert_eq!(sim.read_file("f").unwrap(), b"ab");
    sim.crash(CrashVariant::LoseUnsynced);
    assert!(!sim.is_dead());
    assert_eq!(sim.read_file("f").unwrap(), b"a");
    sim.open(p("f"), OpenMode::Existing)
        .unwrap()
        .write_at(1, b"z")
        .unwrap();
}

#[test]
fn stale_handles_fail_after_crash() {
    let sim = SimStorage::new(11);
    let f = durable_file(&sim, "f", b"abc");
    sim.crash(CrashVariant::TornPrefix);
    let e = f.read_at(0, &mut [0; 3]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::Other);
    assert_eq!(e.to_string(), "simulated crash: stale handle");
    assert!(f.len().is_err() && f.write_at(0, b"x").is_err());
    assert!(f.set_len(0).is_err() && f.sync_data().is_err());
    let g = sim.open(p("f"), OpenMode::Existing).unwrap();
    drop(f);
    g.write_at(0, b"x").unwrap();
    assert_eq!(sim.read_file("f").unwrap(), b"xbc");
}

#[test]
fn locks_conflict_and_release() {
    let sim = SimStorage::new(12);
    let guard = sim.lock(p("db.lock")).unwrap();
    assert!(sim.file_exists(p("db.lock")).unwrap(), "lock file created");
    assert_eq!(
        sim.lock(p("db.lock")).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    drop(guard);
    assert!(!sim.is_locked("db.lock"));
    let old = sim.lock(p("db.lock")).unwrap();
    sim.crash(CrashVariant::LoseUnsynced);
    assert!(!sim.is_locked("db.lock"), "a crash releases locks");
    let new = sim.lock(p("db.lock")).unwrap();
    drop(old);
    assert!(sim.is_locked("db.lock"), "a stale guard must not release");
    drop(new);
    assert!(!sim.is_locked("db.lock"));
    assert_eq!(
        sim.lock(p("nodir/l")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
}

#[test]
fn snapshot_is_independent() {
    let sim = SimStorage::new(13);
    let f = durable_file(&sim, "f", b"one");
    let _lock = sim.lock(p("l")).unwrap();
    f.write_at(3, b" two").unwrap();
    let copy = sim.snapshot();
    assert!(!copy.is_locked("l"));
    assert_eq!(copy.ops(), sim.ops());
    assert!(copy.generation() > sim.generation());
    f.write_at(0, b"ONE").unwrap();
    copy.crash(CrashVariant::LoseUnsynced);
    assert_eq!(copy.read_file("f").unwrap(), b"one");
    assert_eq!(sim.read_file("f").unwrap(), b"ONE two");
    assert!(sim.is_locked("l"));
    let g = copy.open(p("f"), OpenMode::Existing).unwrap();
    g.write_at(0, b"new").unwrap();
    assert_eq!(sim.read_file("f").unwrap(), b"ONE two");
}

#[test]
fn write_file_plants_durable_bytes() {
    let sim = SimStorage::new(14);
    let _f = sim.open(p("f"), OpenMode::CreateNew).unwrap();
    sim.write_file("f", b"planted").unwrap();
    sim.crash(CrashVariant::LoseUnsynced);
    assert_eq!(sim.read_file("f").unwrap(), b"planted");
    assert!(sim.write_file("nodir/f", b"x").is_err());
}

#[test]
fn debug_is_a_summary() {
    let sim = SimStorage::new(15);
    let f = sim.open(p("big"), OpenMode::CreateNew).unwrap();
    f.write_at(0, &vec![7; 1 << 20]).unwrap();
    let text = format!("{sim:?} {f:?}");
    assert!(text.len() < 1000, "{text}");
    assert!(text.contains("big"));
}

#[test]
fn huge_offsets_fail_without_panicking() {
    let sim = SimStorage::new(16);
    let f = sim.open(p("f"), OpenMode::CreateNew).unwrap();
    assert_eq!(
        f.write_at(u64::MAX, b"x").unwrap_err().kind(),
        io::ErrorKind::FileTooLarge
    );
    assert_eq!(
        f.set_len(u64::MAX).unwrap_err().kind(),
        io::ErrorKind::FileTooLarge
    );
    assert_eq!(f.read_at(u64::MAX, &mut [0; 4]).unwrap(), 0);
    f.write_at(0, b"").unwrap();
    assert_eq!(f.len().unwrap(), 0);
}
