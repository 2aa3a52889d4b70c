//! Real processes: a writer child doing random operations with very
//! frequent automatic compaction, killed with `SIGKILL` over and over, and
//! reader children following it read-only the whole time.
//!
//! Every state a reader shows must be the writer's model after some prefix
//! of its operations, and the prefixes a reader shows must never go
//! backwards (each reader checks both on every refresh, and panics, ending
//! its process, on a violation or on any refresh error). After every kill
//! the parent recovers the store with a writer's open and checks it
//! against the model (the acknowledged operations, or one more), then
//! starts the next writer from there. At the end it publishes the final
//! state's fingerprint and waits for every reader to show exactly that
//! state. One reader follows with `durable_only(true)`.
//!
//! The plumbing is `test_support::child`; rerun a failure with
//! `STORE_FOLLOW_SEED=<seed>` for the same operations and kill points.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, OpenOptions, ReadOnlyStore, StoreConfig};
use store_test_kit::{BatchItem, apply_model, apply_store};
use test_support::chain;
use test_support::child::{Protocol, Running, env_u64, nth};
use test_support::rng::{Rng, announced_seed, mix};

use crate::kill::Strings;

const PROTOCOL: Protocol = Protocol::new(
    "followers::follow_child",
    "STORE_FOLLOW_CHILD",
    "STORE_FOLLOW_ROLE",
);
const SEED_ENV: &str = "STORE_FOLLOW_SEED";
const START_ENV: &str = "STORE_FOLLOW_START";
/// The most operations any writer of the run may reach: a reader's bound
/// when it looks for the prefix it shows.
const MAX_ENV: &str = "STORE_FOLLOW_MAX";
const STORE_NAME: &str = "follow.store";
/// Written by the parent at the end: the final state's fingerprint.
const FINAL_NAME: &str = "final";

/// Writer processes killed in one run.
const KILLS: u64 = 110;
/// The most operations a writer does before it is killed.
const MAX_PER_ROUND: u64 = 200;
/// Reader processes (sized for 2 cores): the last one durable-only.
const READERS: usize = 3;
const KEYS: u64 = 20;

type Map = IndexMap<String, String>;
type Store = IndexMapStore<String, String>;

/// An operation of the run: the kit's vocabulary on the kill test's
/// `String` flavor (this test uses none of the flavor's closures).
type Op = store_test_kit::Op<Strings>;

/// Operation `i` of the run of `seed`.
fn op(seed: u64, i: u64) -> Op {
    let mut rng = Rng::new(mix(seed, i));
    let key = |rng: &mut Rng| format!("k{:02}", rng.below(KEYS));
    let value = |rng: &mut Rng, j: u64| {
        // Now and then a few KiB, so that records straddle pages and
        // readers meet frames being written.
        let len = if rng.percent(10) {
            1000 + rng.below(4000)
        } else {
            rng.below(30)
        };
        let mut v = format!("{i}.{j}:");
        v.extend((0..len).map(|x| char::from(b'a' + ((i + x) % 26) as u8)));
        v
    };
    match rng.below(100) {
        0..=44 => {
            let k = key(&mut rng);
            Op::Insert(k, value(&mut rng, 0))
        }
        45..=59 => Op::ShiftRemove(key(&mut rng)),
        60..=69 => Op::SwapRemove(key(&mut rng)),
        70..=84 => Op::InsertMany(
            (0..1 + rng.below(5))
                .map(|j| (key(&mut rng), value(&mut rng, j)))
                .collect(),
        ),
        85..=92 => Op::Apply(
            (0..1 + rng.below(5))
                .map(|j| (rng.percent(50), key(&mut rng), value(&mut rng, j)))
                .map(|(insert, k, v)| {
                    if insert {
                        BatchItem::Insert(k, v)
                    } else {
                        BatchItem::ShiftRemove(k)
                    }
                })
                .collect(),
        ),
        // `move_index(a % len, b % len)`, if not empty.
        93..=98 => Op::MoveIndex(rng.next_u64() as usize, rng.next_u64() as usize),
        _ => Op::Clear,
    }
}

/// A fingerprint of a state: entries and order.
fn fingerprint<'a>(entries: impl Iterator<Item = (&'a String, &'a String)>) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for (k, v) in entries {
        (k, v).hash(&mut h);
    }
    // Progress counts are parsed as u64 and must not be 0 for `nth`.
    h.finish() | 1
}

/// A compaction every dozen operations or so.
fn config() -> StoreConfig {
    StoreConfig {
        sync_on_write: false,
        min_compact_bytes: 4096,
        compact_ratio: 1.5,
        buf_capacity: 16 * 1024,
    }
}

// ---------------------------------------------------------------------------
// The children.

fn run_writer(path: &Path, seed: u64, start: u64) -> Store {
    let mut store = Store::open_with(path, config())
        .unwrap_or_else(|e| panic!("writer open failed: {}", chain(&e)));
    for i in start..start + MAX_PER_ROUND {
        let op = op(seed, i);
        PROTOCOL.report("DO", i + 1);
        apply_store(&mut store, &op)
            .map(drop)
            .unwrap_or_else(|e| panic!("operation {i} failed: {}", chain(&e)));
        PROTOCOL.report("ACK", i + 1);
    }
    store
}

/// A reader: refreshes in a loop, and checks that each state it shows is
/// the model after a prefix at or after the last one it showed.
fn run_reader(dir: &Path, seed: u64, max: u64, durable: bool) {
    let path = dir.join(STORE_NAME);
    let mut reader: ReadOnlyStore<String, String> = OpenOptions::new()
        .durable_only(durable)
        .open_read_only(&path)
        .unwrap_or_else(|e| panic!("read-only open failed: {}", chain(&e)));
    let mut model = Map::new();
    let mut at = 0; // `model` is the state after operations `0..at`.
    let mut reported = u64::MAX;
    let mut last_report = Instant::now();
    let mut converged = false;
    loop {
        let refreshed = reader
            .refresh()
            .unwrap_or_else(|e| panic!("refresh failed after prefix {at}: {}", chain(&e)));
        // The first prefix at or after `at` that the reader's state is.
        while !(reader.len() == model.len() && reader.iter().eq(model.iter())) {
            assert!(
                at < max,
                "the reader shows a state that is no prefix at or after {at} \
                 ({} entries, {refreshed:?}); it went backwards or is not the writer's",
                reader.len()
            );
            apply_model(&mut model, &op(seed, at));
            at += 1;
        }
        if at != reported && last_report.elapsed() > Duration::from_millis(5) {
            PROTOCOL.report("AT", at + 1);
            reported = at;
            last_report = Instant::now();
        }
        if !converged && let Ok(text) = std::fs::read_to_string(dir.join(FINAL_NAME)) {
            let want: u64 = text.trim().parse().expect("final fingerprint");
            if fingerprint(reader.iter()) == want {
                converged = true;
                PROTOCOL.report("CONVERGED", want);
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The child side, selected by `STORE_FOLLOW_ROLE`: `writer`, `reader`
/// or `durable-reader`. Run by the harness as a plain test, it checks the
/// generator against a store in process.
#[test]
fn follow_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_NAME);
        let store = run_writer(&path, 7, 0);
        let mut model = Map::new();
        (0..MAX_PER_ROUND).for_each(|i| {
            apply_model(&mut model, &op(7, i));
        });
        assert!(store.iter().eq(model.iter()));
        assert!(store.stats().compactions >= 3, "{:?}", store.stats());
        return;
    };
    let seed = env_u64(SEED_ENV);
    match role.as_str() {
        "writer" => {
            let store = run_writer(&dir.join(STORE_NAME), seed, env_u64(START_ENV));
            PROTOCOL.idle(store.len() as u64);
        }
        "reader" => run_reader(&dir, seed, env_u64(MAX_ENV), false),
        "durable-reader" => run_reader(&dir, seed, env_u64(MAX_ENV), true),
        other => panic!("unknown role {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The parent.

struct Ctx {
    seed: u64,
    kill: u64,
}

impl fmt::Display for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[seed {} kill {}; rerun with {SEED_ENV}={}]",
            self.seed, self.kill, self.seed
        )
    }
}

fn spawn(dir: &Path, role: &str, seed: u64, start: u64) -> Running {
    PROTOCOL.spawn(dir, role, |child| {
        child
            .env(SEED_ENV, seed.to_string())
            .env(START_ENV, start.to_string())
            .env(MAX_ENV, (KILLS * MAX_PER_ROUND + 1).to_string());
    })
}

#[test]
fn readers_follow_a_writer_killed_over_and_over() {
    let seed = announced_seed("followers", SEED_ENV);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_NAME);
    drop(Store::open_with(&path, config()).unwrap());
    let mut readers: Vec<Running> = (0..READERS)
        .map(|i| {
            let role = if i + 1 == READERS {
                "durable-reader"
            } else {
                "reader"
            };
            spawn(dir.path(), role, seed, 0)
        })
        .collect();
    let mut rng = Rng::new(mix(seed, 0xf011));
    let mut model = Map::new();
    let mut done = 0; // operations the store holds
    for kill in 0..KILLS {
        let ctx = Ctx { seed, kill };
        let mut writer = spawn(dir.path(), "writer", seed, done);
        let wait = 1 + rng.below(MAX_PER_ROUND - 1);
        writer.expect(&ctx, "progress", nth("ACK", wait));
        writer.kill(&ctx);
        let acked = writer.last(&["ACK"]).expect("an ACK");
        // Recover as a writer would, beside the readers.
        let store = Store::open_with(&path, config())
            .unwrap_or_else(|e| panic!("{ctx}: recovery failed: {}", chain(&e)));
        let mut next = model.clone();
        for i in done..acked {
            apply_model(&mut next, &op(seed, i));
        }
        if !store.iter().eq(next.iter()) {
            // The operation in flight reached the log.
            apply_model(&mut next, &op(seed, acked));
            assert!(
                store.iter().eq(next.iter()),
                "{ctx}: recovered neither the {acked} acknowledged operations nor one more"
            );
            done = acked + 1;
        } else {
            done = acked;
        }
        model = next;
        drop(store);
    }
    let want = fingerprint(model.iter());
    // Written aside and renamed: a reader polling for the file must never
    // see it created but still empty.
    let aside = dir.path().join(format!("{FINAL_NAME}.tmp"));
    std::fs::write(&aside, want.to_string()).unwrap();
    std::fs::rename(&aside, dir.path().join(FINAL_NAME)).unwrap();
    let ctx = Ctx { seed, kill: KILLS };
    for reader in &mut readers {
        reader.expect(&ctx, "convergence", |m| m.tag == "CONVERGED");
        // Readers went forward through many prefixes.
        assert!(reader.count("AT") > 10, "{ctx}: {:?}", reader.seen().len());
    }
    for reader in &mut readers {
        reader.kill(&ctx);
    }
    assert!(done > KILLS, "{ctx}: only {done} operations");
}
