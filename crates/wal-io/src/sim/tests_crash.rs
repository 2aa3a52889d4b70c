//! Tests of the crash variants' images and of determinism.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::tests::{durable_file, p};
use super::{CrashVariant, SimStorage};
use crate::storage::{OpenMode, Storage};

/// The visible state: every name with its contents.
fn image(sim: &SimStorage) -> Vec<(PathBuf, Vec<u8>)> {
    sim.list()
        .into_iter()
        .map(|path| (path.clone(), sim.read_file(path).unwrap()))
        .collect()
}

/// A sim holding `base` durably in "f", with `write` appended unsynced.
fn appended(seed: u64, base: &[u8], write: &[u8]) -> SimStorage {
    let sim = SimStorage::new(seed);
    let f = durable_file(&sim, "f", base);
    f.write_at(base.len() as u64, write).unwrap();
    sim
}

#[test]
fn display_and_all() {
    let names: BTreeSet<String> = CrashVariant::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names.len(), CrashVariant::ALL.len());
    assert_eq!(CrashVariant::TornPrefix.to_string(), "torn-prefix");
}

#[test]
fn after_any_crash_everything_is_durable() {
    for variant in CrashVariant::ALL {
        for seed in 0..8 {
            let sim = SimStorage::new(seed);
            sim.create_dir("d").unwrap();
            let f = durable_file(&sim, "d/f", b"base");
            f.write_at(2, &[9; 5000]).unwrap();
            f.set_len(3000).unwrap();
            let g = sim.open(p("g"), OpenMode::CreateNew).unwrap();
            g.write_at(0, b"g").unwrap();
            sim.rename(p("d/f"), p("h")).unwrap();
            sim.crash(variant);
            assert_eq!(sim.list(), sim.durable_list(), "{variant}");
            for (path, bytes) in image(&sim) {
                assert_eq!(
                    sim.durable_file(&path).unwrap(),
                    bytes,
                    "{variant} {path:?}"
                );
            }
            let names = sim.list();
            assert!(names.contains(&p("d/f").to_path_buf()) || names.contains(&p("h").into()));
        }
    }
}

#[test]
fn torn_prefix_keeps_a_prefix_of_the_write() {
    let write: Vec<u8> = (0..200u8).collect();
    let mut lengths = BTreeSet::new();
    for seed in 0..64 {
        let sim = appended(seed, b"base", &write);
        sim.crash(CrashVariant::TornPrefix);
        let got = sim.read_file("f").unwrap();
        assert!(
            got.starts_with(b"base") && write.starts_with(&got[4..]),
            "{got:?}"
        );
        lengths.insert(got.len());
    }
    assert!(
        lengths.contains(&204) && lengths.iter().any(|&l| l < 204),
        "{lengths:?}"
    );
}

#[test]
fn torn_sector_fills_the_rest_of_the_sector() {
    for (variant, zeros) in [
        (CrashVariant::TornSectorZeros, true),
        (CrashVariant::TornSectorGarbage, false),
    ] {
        let mut torn = 0;
        let mut garbage = 0;
        for seed in 0..64 {
            let sim = appended(seed, b"base", &[0xAA; 1000]);
            sim.crash(variant);
            let got = sim.read_file("f").unwrap();
            assert_eq!(&got[..4], b"base");
            if got.len() == 1004 && got[4..].iter().all(|&b| b == 0xAA) {
                continue;
            }
            torn += 1;
            assert_eq!(got.len() % 512, 0, "{variant}: covers the torn sector");
            let tear = 4 + got[4..].iter().take_while(|&&b| b == 0xAA).count();
            assert!(got.len() - tear <= 512, "{variant}");
            if zeros {
                assert!(got[tear..].iter().all(|&b| b == 0), "{variant}");
            } else if got[tear..].iter().any(|&b| b != 0) {
                garbage += 1;
            }
        }
        assert!(torn > 0, "{variant}");
        assert!(zeros || garbage > 0, "{variant}");
    }
}

#[test]
fn pages_mix_old_and_new() {
    let mut mixed = false;
    let mut lengths = BTreeSet::new();
    for seed in 0..32 {
        let sim = SimStorage::new(seed);
        let f = durable_file(&sim, "f", &[1; 3 * 4096]);
        f.write_at(0, &[2; 4 * 4096 + 100]).unwrap();
        sim.crash(CrashVariant::Pages);
        let got = sim.read_file("f").unwrap();
        lengths.insert(got.len());
        let pages: Vec<u8> = got.chunks(4096).map(|c| c[0]).collect();
        for (i, page) in got.chunks(4096).enumerate() {
            let first = page[0];
            assert!(page.iter().all(|&b| b == first), "page {i} is whole");
            assert!(if i < 3 {
                first == 1 || first == 2
            } else {
                first == 2 || first == 0
            });
        }
        mixed |= pages.contains(&1) && pages.contains(&2);
    }
    assert!(mixed);
    assert_eq!(lengths, BTreeSet::from([3 * 4096, 4 * 4096 + 100]));
}

#[test]
fn length_without_data_reads_zeros() {
    let sim = appended(1, b"hello", b" world");
    sim.crash(CrashVariant::LengthWithoutData);
    assert_eq!(sim.read_file("f").unwrap(), b"hello\0\0\0\0\0\0");
}

#[test]
fn data_without_length_keeps_the_durable_length() {
    let sim = SimStorage::new(2);
    let f = durable_file(&sim, "f", &[b'a'; 10]);
    f.write_at(5, &[b'b'; 10]).unwrap();
    f.set_len(2).unwrap();
    sim.crash(CrashVariant::DataWithoutLength);
    assert_eq!(sim.read_file("f").unwrap(), b"aaaaabbbbb");
}

#[test]
fn unsynced_namespace_changes_lost_without_prefix_variants() {
    for variant in CrashVariant::ALL
        .into_iter()
        .filter(|v| !v.keeps_namespace_prefix())
    {
        for seed in 0..8 {
            let sim = SimStorage::new(seed);
            sim.write_file("keep", b"k").unwrap();
            sim.remove(p("keep")).unwrap();
            let f = sim.open(p("new"), OpenMode::CreateNew).unwrap();
            f.write_at(0, b"x").unwrap();
            f.sync_data().unwrap();
            sim.crash(variant);
            assert_eq!(sim.list(), vec![p("keep").to_path_buf()], "{variant}");
        }
    }
}

/// A workload touching every kind of pending state, then a crash.
fn workload(seed: u64, variant: CrashVariant) -> Vec<(PathBuf, Vec<u8>)> {
    let sim = SimStorage::new(seed);
    let a = durable_file(&sim, "a", &[3; 700]);
    for i in 0..20u8 {
        a.write_at(u64::from(i) * 300, &[i; 450]).unwrap();
        if i % 7 == 0 {
            a.sync_data().unwrap();
        }
    }
    let b = sim.open(p("b"), OpenMode::CreateNew).unwrap();
    b.write_at(0, &[5; 9000]).unwrap();
    sim.rename(p("b"), p("c")).unwrap();
    sim.remove(p("a")).unwrap();
    sim.crash(variant);
    image(&sim)
}

#[test]
fn same_seed_same_image() {
    for variant in CrashVariant::ALL {
        let runs: BTreeSet<_> = (0..16).map(|seed| workload(seed, variant)).collect();
        for seed in 0..16 {
            assert_eq!(
                workload(seed, variant),
                workload(seed, variant),
                "{variant}"
            );
        }
        if variant.keeps_namespace_prefix() {
            assert!(runs.len() > 1, "{variant}: seeds should matter");
        }
    }
}

#[test]
fn crash_with_seed_is_reproducible() {
    let sim = appended(0, b"x", &[1; 5000]);
    let one = sim.snapshot();
    let two = sim.snapshot();
    one.crash_with_seed(CrashVariant::TornSectorGarbage, 99);
    two.crash_with_seed(CrashVariant::TornSectorGarbage, 99);
    assert_eq!(image(&one), image(&two));
}

#[test]
fn random_operations_never_panic() {
    use super::fault::Rng;
    use super::{Fault, FaultKind};
    let paths = ["a", "b", "d/c", "d", "nodir/x", "", ".", "d/"];
    let kinds = [
        FaultKind::Eio,
        FaultKind::Enospc,
        FaultKind::ShortWriteEio,
        FaultKind::ShortWriteEnospc,
        FaultKind::FsyncEio,
    ];
    for seed in 0..20 {
        let sim = SimStorage::new(seed);
        sim.create_dir("d").unwrap();
        let mut rng = Rng::new(seed ^ 0xABCD);
        let mut files = Vec::new();
        let mut locks = Vec::new();
        for _ in 0..300 {
            let path = p(paths[rng.below(paths.len())]);
            let offset = [0, 1, 511, 4096, 5000, u64::MAX][rng.below(6)];
            let data = vec![rng.below(256) as u8; rng.below(6000)];
            match rng.below(16) {
                0 => files.extend(sim.open(path, OpenMode::CreateNew).ok()),
                1 => files.extend(sim.open(path, OpenMode::Existing).ok()),
                2 => drop(sim.file_exists(path)),
                3 => drop(sim.rename(path, p(paths[rng.below(paths.len())]))),
                4 => drop(sim.remove(path)),
                5 => drop(sim.sync_dir(path)),
                6 => locks.extend(sim.lock(path).ok()),
                7 if !locks.is_empty() => drop(locks.swap_remove(rng.below(locks.len()))),
                8 => {
                    let at_op = sim.ops() + rng.below(5) as u64;
                    let kind = kinds[rng.below(kinds.len())];
                    sim.inject(Fault {
                        at_op,
                        kind,
                        persistent: rng.below(8) == 0,
                    });
                }
                9 if rng.below(4) == 0 => sim.crash(CrashVariant::ALL[rng.below(7)]),
                10 if rng.below(8) == 0 => sim.crash_at(sim.ops() + rng.below(20) as u64),
                11 => sim.clear_faults(),
                12 if rng.below(4) == 0 => {
                    let copy = sim.snapshot();
                    copy.crash(CrashVariant::ALL[rng.below(7)]);
                    for path in copy.list() {
                        assert_eq!(copy.read_file(&path), copy.durable_file(&path));
                    }
                }
                _ if !files.is_empty() => {
                    let i = rng.below(files.len());
                    let f = &mut files[i];
                    let _ = match rng.below(6) {
                        0 => f.write_at(offset, &data).map(|()| 0),
                        1 => f.set_len(offset.min(9000)).map(|()| 0),
                        2 => f.sync_data().map(|()| 0),
                        3 => f.len().map(|_| 0),
                        4 => f.read_at(offset, &mut [0; 100]),
                        _ => Ok(files.swap_remove(i).len().map_or(0, |_| 1)),
                    };
                }
                _ => {}
            }
        }
        let _ = format!("{sim:?}");
    }
}
