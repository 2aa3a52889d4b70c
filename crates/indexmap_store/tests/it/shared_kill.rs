//! Real processes: a child with 8 threads doing durable inserts through one
//! `SharedStore` (`Durability::Always`, group commit) is killed with
//! `SIGKILL` at random, 100 times with a preallocated log and 100 times
//! without. Every insert the child acknowledged must survive, and each
//! thread's inserts (made one after another) must be a gap-free prefix.
//!
//! Thread `t`'s `i`-th insert is key `t * STRIDE + i` with value `i`; the
//! child reports `@@ACK <key>` once it returned, and continues the store
//! the previous child left. Rerun with `SHARED_KILL_SEED=<seed>` for the
//! same kill choices (the timing itself cannot be replayed).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use indexmap_store::{Durability, IndexMapStore, OpenOptions, SharedStore};
use test_support::child::{Protocol, env_u64, nth};
use test_support::rng::{Rng, announced_seed};

const PROTOCOL: Protocol = Protocol::new(
    "shared_kill::shared_kill_child",
    "SHARED_KILL_CHILD",
    "SHARED_KILL_ROLE",
);
const PREALLOC_ENV: &str = "SHARED_KILL_PREALLOC";
const STORE: &str = "shared.log";
const THREADS: u64 = 8;
const STRIDE: u64 = 1 << 32;
const KILLS: u64 = 100;

fn options(prealloc: bool) -> OpenOptions {
    OpenOptions::new()
        .durability(Durability::Always)
        .preallocate(prealloc.then_some(64 * 1024))
}

/// The child: 8 writer threads, each continuing its own key sequence.
#[test]
fn shared_kill_child() {
    let Some((dir, _role)) = PROTOCOL.task() else {
        return;
    };
    let prealloc = env_u64(PREALLOC_ENV) == 1;
    let store: SharedStore<u64, u64> = options(prealloc)
        .open_shared(dir.join(STORE))
        .expect("child: open");
    PROTOCOL.report("OPEN", 0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = store.clone();
            scope.spawn(move || {
                let mut i = (0..)
                    .find(|&i| !store.contains_key(&(t * STRIDE + i)))
                    .expect("a free key");
                loop {
                    store.insert(t * STRIDE + i, i).expect("child: insert");
                    PROTOCOL.report("ACK", t * STRIDE + i);
                    i += 1;
                }
            });
        }
    });
}

/// Checks the store at `dir` against the acknowledged keys: per thread a
/// gap-free run from 0 holding every acknowledged key. Returns the entries.
fn verify(dir: &Path, prealloc: bool, acked: &BTreeMap<u64, u64>, ctx: &str) -> usize {
    // With the same options as the writer: a preallocated tail is kept.
    let store: IndexMapStore<u64, u64> = options(prealloc)
        .open(dir.join(STORE))
        .unwrap_or_else(|e| panic!("{ctx}: reopen failed: {e}"));
    for t in 0..THREADS {
        let mine: Vec<u64> = store
            .keys()
            .filter(|k| *k / STRIDE == t)
            .map(|k| k % STRIDE)
            .collect();
        let mut sorted = mine.clone();
        sorted.sort_unstable();
        assert!(
            sorted.iter().enumerate().all(|(i, k)| i as u64 == *k),
            "{ctx}: thread {t}'s keys have a gap: {sorted:?}"
        );
        if let Some(&last) = acked.get(&t) {
            assert!(
                (sorted.len() as u64) > last,
                "{ctx}: thread {t} acknowledged insert {last}, the store holds only {}",
                sorted.len()
            );
        }
        for i in &mine {
            assert_eq!(store.get(&(t * STRIDE + i)), Some(i), "{ctx}: value");
        }
    }
    store.len()
}

fn run(prealloc: bool) {
    let seed = announced_seed("shared kill", "SHARED_KILL_SEED");
    let mut rng = Rng::new(seed ^ u64::from(prealloc));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut total = 0;
    for kill in 0..KILLS {
        let ctx = format!("seed {seed} prealloc {prealloc} kill {kill}");
        let mut child = PROTOCOL.spawn(dir.path(), "writer", |cmd| {
            cmd.env(PREALLOC_ENV, u64::from(prealloc).to_string());
        });
        child.expect(&ctx, "the open", nth("OPEN", 1));
        // Kill after a random number of acknowledgements (sometimes none).
        let wait = rng.below(40);
        if wait > 0 {
            child.expect(&ctx, "acknowledgements", nth("ACK", wait));
        }
        if rng.percent(30) {
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
        }
        child.kill(&ctx);
        for p in child.seen().iter().filter(|p| p.tag == "ACK") {
            let (t, i) = (p.n / STRIDE, p.n % STRIDE);
            let last = acked.entry(t).or_insert(i);
            *last = (*last).max(i);
        }
        total = verify(dir.path(), prealloc, &acked, &ctx);
    }
    assert!(
        total as u64 > KILLS,
        "prealloc {prealloc}: only {total} inserts in {KILLS} runs"
    );
}

#[test]
fn acknowledged_durable_inserts_survive_sigkill() {
    if PROTOCOL.task().is_some() {
        return;
    }
    run(false);
}

#[test]
fn acknowledged_durable_inserts_survive_sigkill_with_a_preallocated_log() {
    if PROTOCOL.task().is_some() {
        return;
    }
    run(true);
}
