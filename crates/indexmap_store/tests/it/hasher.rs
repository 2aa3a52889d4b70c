//! The hasher parameter: `IndexMapStore<K, V, S>` behaves as
//! `IndexMap<K, V, S>` under every operation, and the hasher never reaches
//! the file (a log written under one hasher opens under any other, and the
//! bytes of the records do not depend on it).

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, RandomState};
use std::path::Path;

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, OpenOptions, StoreConfig};
use store_test_kit::small::{K, Op, V, ops_from_bytes};
use store_test_kit::{apply_model, apply_store};
use test_support::rng::{Rng, announced_seed};

/// foldhash with a fixed seed: the same hasher in every process, as an
/// application that wants reproducible iteration of a `HashMap` would pick.
fn fixed_fold(seed: u64) -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(seed)
}

fn open_with<S: BuildHasher + Clone>(
    path: &Path,
    config: StoreConfig,
    hasher: S,
) -> IndexMapStore<K, V, S> {
    OpenOptions::new()
        .config(config)
        .open_with_hasher(path, hasher)
        .expect("open the store")
}

fn entries<S>(store: &IndexMapStore<K, V, S>) -> Vec<(K, V)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn model_entries<S>(model: &IndexMap<K, V, S>) -> Vec<(K, V)> {
    model.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// Runs `ops` on a store with hasher `S` and on an `IndexMap` with the same
/// hasher, comparing every outcome and the entries after every op; reopens
/// (under a new instance of the hasher) and compacts as the ops ask.
fn run_model<S: BuildHasher + Clone>(path: &Path, ops: &[Op], make: impl Fn(u64) -> S) {
    let config = StoreConfig {
        // Small thresholds: automatic compactions happen in the run too.
        min_compact_bytes: 256,
        compact_ratio: 0.5,
        ..StoreConfig::default()
    };
    let mut reopens = 0;
    let mut store = open_with(path, config, make(reopens));
    let mut model: IndexMap<K, V, S> = IndexMap::with_hasher(make(1000));
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Reopen => {
                drop(store);
                reopens += 1;
                store = open_with(path, config, make(reopens));
            }
            Op::Compact => store.compact().expect("compact"),
            Op::Flush => store.flush().expect("flush"),
            op => {
                let got = apply_store(&mut store, op).expect("the op is accepted");
                let want = apply_model(&mut model, op);
                assert_eq!(got, want, "op {i} ({op:?}) returned differently");
            }
        }
        assert_eq!(
            entries(&store),
            model_entries(&model),
            "after op {i} ({op:?})"
        );
    }
    drop(store);
    // The same log, under the default hasher.
    let store: IndexMapStore<K, V> = IndexMapStore::open_with(path, config).expect("reopen");
    assert_eq!(entries(&store), model_entries(&model), "under RandomState");
}

/// `rounds` runs of [`run_model`], each on its own log, with the ops of 600
/// random bytes from the seed announced as `name`, and the hasher
/// `make(seed, n)` for the `n`th open.
fn model_rounds<S: BuildHasher + Clone>(name: &str, rounds: u64, make: impl Fn(u64, u64) -> S) {
    let seed = announced_seed(name, "HASHER_SEED");
    let mut rng = Rng::new(seed);
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = vec![0u8; 600];
        rng.fill(&mut bytes);
        let ops = ops_from_bytes(&bytes);
        run_model(&dir.path().join(format!("{round}.log")), &ops, |n| {
            make(seed, n)
        });
    }
}

#[test]
fn every_operation_matches_indexmap_under_foldhash() {
    // A new seed per reopen: the hasher of one handle is not the next's.
    model_rounds("hasher model", 40, |seed, n| fixed_fold(seed ^ n));
}

#[test]
fn every_operation_matches_indexmap_under_a_default_hasher() {
    type Sip = BuildHasherDefault<DefaultHasher>;
    model_rounds("hasher model (default)", 20, |_, _| Sip::default());
}

/// The records' bytes: the log after its header, which holds a random file
/// identity and so differs between any two logs.
fn records(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("read the log");
    bytes[wal_format::HEADER_LEN..].to_vec()
}

#[test]
fn the_hasher_never_reaches_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = ["zeta", "alpha", "mid", "beta", "omega"];
    let fold_path = dir.path().join("fold.log");
    let mut fold = open_with(&fold_path, StoreConfig::default(), fixed_fold(7));
    for (v, k) in (0..).zip(keys) {
        fold.insert(k.to_owned(), v).expect("insert");
    }
    fold.sort_keys().expect("sort");
    fold.swap_remove("mid").expect("remove");
    fold.close().expect("close");

    let std_path = dir.path().join("std.log");
    let mut std_store: IndexMapStore<K, V> = IndexMapStore::open(&std_path).expect("open");
    for (v, k) in (0..).zip(keys) {
        std_store.insert(k.to_owned(), v).expect("insert");
    }
    std_store.sort_keys().expect("sort");
    std_store.swap_remove("mid").expect("remove");
    std_store.close().expect("close");

    assert_eq!(
        records(&fold_path),
        records(&std_path),
        "the same operations under two hashers wrote different records"
    );

    // Each opens under the other's hasher with the same entries, in order.
    let a: IndexMapStore<K, V> = IndexMapStore::open(&fold_path).expect("open fold log");
    let b = open_with(&std_path, StoreConfig::default(), fixed_fold(99));
    // Sorted, then `mid` swap-removed: the last entry took its place.
    let want = vec![
        ("alpha".to_owned(), 1),
        ("beta".to_owned(), 3),
        ("zeta".to_owned(), 0),
        ("omega".to_owned(), 4),
    ];
    assert_eq!(entries(&a), want);
    assert_eq!(entries(&b), want);
    assert_eq!(
        b.hasher().hash_one("alpha"),
        fixed_fold(99).hash_one("alpha")
    );
}

#[test]
fn split_off_returns_a_map_with_the_stores_hasher() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("split.log");
    let mut store = open_with(&path, StoreConfig::default(), fixed_fold(3));
    for i in 0..10u32 {
        store.insert(format!("k{i}"), i).expect("insert");
    }
    let tail: IndexMap<K, V, foldhash::fast::FixedState> = store.split_off(6).expect("split");
    assert_eq!(tail.len(), 4);
    assert_eq!(tail.hasher().hash_one("x"), fixed_fold(3).hash_one("x"));
    assert_eq!(tail.get("k7"), Some(&7));
    let empty = store.split_off(6).expect("split at len");
    assert!(empty.is_empty());
    drop(store);
    let reopened = open_with(&path, StoreConfig::default(), RandomState::new());
    assert_eq!(reopened.len(), 6);
    assert_eq!(reopened.get_index(5), Some((&"k5".to_owned(), &5)));
}

/// A reader hashes with its own hasher, whatever the writer's, and keeps
/// it when a compaction makes it reload the log whole.
#[test]
fn a_reader_follows_under_its_own_hasher_across_a_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("read.log");
    let mut writer: IndexMapStore<K, V> = IndexMapStore::open(&path).expect("open");
    for i in 0..5u32 {
        writer.insert(format!("k{i}"), i).expect("insert");
    }
    let mut reader = OpenOptions::new()
        .open_read_only_with_hasher::<K, V, _>(&path, fixed_fold(11))
        .expect("open read-only");
    assert_eq!(reader.get("k3"), Some(&3));

    writer.shift_remove("k0").expect("remove");
    writer.insert("k9".to_owned(), 9).expect("insert");
    let refreshed = reader.refresh().expect("refresh");
    assert!(!refreshed.reloaded);
    writer.compact().expect("compact");
    writer.insert("k10".to_owned(), 10).expect("insert");
    let refreshed = reader.refresh().expect("refresh after the compaction");
    assert!(refreshed.reloaded, "a compaction replaces the file");

    let want: Vec<(K, V)> = writer.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let seen: Vec<(K, V)> = reader.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(seen, want);
    assert_eq!(
        reader.get("k9"),
        Some(&9),
        "lookups hash with the reader's hasher"
    );
    assert_eq!(
        reader.hasher().hash_one("k9"),
        fixed_fold(11).hash_one("k9"),
        "the reload kept the reader's hasher"
    );
}
