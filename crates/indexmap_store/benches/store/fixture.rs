//! The bench's data and files: N pairs of 16-byte keys and 100-byte
//! values, fresh stores, and the N-entry log the read groups share.

use std::cell::OnceCell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap_store::{IndexMapStore, StoreConfig};

pub(crate) const KEY_LEN: usize = 16;
pub(crate) const VALUE_LEN: usize = 100;

pub(crate) type Store = IndexMapStore<String, String>;
pub(crate) type Pairs = Vec<(String, String)>;

/// Key `i`: 16 ASCII bytes, allocated at exactly their length (as a
/// decoded one is).
pub(crate) fn key(i: u64) -> String {
    let mut s = String::with_capacity(KEY_LEN);
    s.push_str("key-");
    s.push_str(&format!("{i:012}"));
    debug_assert_eq!((s.len(), s.capacity()), (KEY_LEN, KEY_LEN));
    s
}

/// Value `i`: 100 pseudo-random lowercase letters, exactly allocated.
pub(crate) fn value(i: u64) -> String {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(VALUE_LEN);
    for _ in 0..VALUE_LEN {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.push(char::from(
            b'a' + (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 59) as u8 % 26,
        ));
    }
    s
}

/// Shuffles `items` in place (Fisher-Yates driven by an xorshift sequence
/// from `seed`): the same order in every run.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..items.len()).rev() {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        items.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// The fixture's keys in a shuffled order, for lookups.
pub(crate) fn shuffled_keys(data: &Pairs) -> Vec<String> {
    let mut keys: Vec<String> = data.iter().map(|(k, _)| k.clone()).collect();
    shuffle(&mut keys, 0x2545_F491_4F6C_DD1D);
    keys
}

/// The time of `iters` rounds of looking up each of `keys` with `get`:
/// the loop of every lookup group, whose floors and subjects differ only
/// in `get`.
pub(crate) fn time_lookups<R>(
    iters: u64,
    keys: &[String],
    mut get: impl FnMut(&str) -> R,
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        for k in keys {
            black_box(get(black_box(k.as_str())));
        }
    }
    start.elapsed()
}

pub(crate) fn pairs(n: u64) -> Pairs {
    (0..n).map(|i| (key(i), value(i))).collect()
}

/// Removes a store's file and its lock file, ignoring absence.
pub(crate) fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let _ = std::fs::remove_file(PathBuf::from(lock));
}

pub(crate) fn fresh_store(path: &Path, config: StoreConfig) -> Store {
    remove(path);
    IndexMapStore::open_with(path, config).unwrap()
}

/// Everything the groups share, built on first use so a filtered run
/// builds only what it needs.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) n: u64,
    pub(crate) data: OnceCell<Pairs>,
    /// A log of one insert record per entry (`insert_many`, then `compact`).
    pub(crate) loaded: OnceCell<PathBuf>,
}

impl Fixture {
    pub(crate) fn data(&self) -> &Pairs {
        self.data.get_or_init(|| pairs(self.n))
    }

    /// A copy of the data to insert, and a new store at `path` (default
    /// configuration), with [`OpenOptions::verify_writes`] as `verified`
    /// says: what the read-back check costs is the difference.
    ///
    /// [`OpenOptions::verify_writes`]: indexmap_store::OpenOptions::verify_writes
    pub(crate) fn data_and_store(&self, path: &Path, verified: bool) -> (Pairs, Store) {
        remove(path);
        let store = indexmap_store::OpenOptions::new()
            .verify_writes(verified)
            .open(path)
            .unwrap();
        (self.data().clone(), store)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn loaded(&self) -> &Path {
        self.loaded.get_or_init(|| {
            let start = Instant::now();
            let path = self.path("loaded.log");
            let mut store = fresh_store(&path, StoreConfig::default());
            store.insert_many(self.data().iter().cloned()).unwrap();
            store.compact().unwrap();
            let stats = store.stats();
            assert_eq!(stats.total_records, self.n);
            eprintln!(
                "built a log of {} entries, {:.1} MiB, in {:.1?}",
                self.n,
                stats.log_bytes as f64 / f64::from(1 << 20),
                start.elapsed()
            );
            path
        })
    }
}
