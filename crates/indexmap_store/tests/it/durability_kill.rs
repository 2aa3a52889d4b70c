//! Real processes, one per durability policy: a child inserts one entry
//! per call into a store on a real file and is killed with `SIGKILL` at a
//! random moment, several times per policy. A killed process loses nothing
//! the operating system already has, so what each policy promises for a
//! process crash is visible here:
//!
//! - `Always`, `OnFlush`, `Interval` and `Bytes` hand every record to the
//!   OS before the call returns: every acknowledged insert survives.
//! - `Buffered` keeps records in the process until its buffer
//!   (`buf_capacity`) fills or `flush` is called: everything before the
//!   last `flush` survives, and at most a buffer's worth of acknowledged
//!   inserts is lost.
//!
//! In every case the store reopens with a gap-free prefix of the inserts,
//! in order. Rerun with `DURABILITY_KILL_SEED=<seed>` for the same kill
//! choices (the timing itself cannot be replayed).

use std::path::Path;
use std::time::Duration;

use indexmap_store::{Durability, IndexMapStore, OpenOptions, StoreConfig};
use test_support::child::{Protocol, nth};
use test_support::rng::{Rng, announced_seed};

const PROTOCOL: Protocol = Protocol::new(
    "durability_kill::durability_kill_child",
    "DURABILITY_KILL_CHILD",
    "DURABILITY_KILL_ROLE",
);
const STORE: &str = "policy.log";
/// Every value's length: a record takes more bytes than this.
const VALUE_LEN: usize = 100;
/// The `Buffered` policy's buffer.
const BUFFER: usize = 4096;
/// `Buffered` children flush after every this many inserts.
const FLUSH_EVERY: u64 = 64;
const ROUNDS: u64 = 4;

fn policy(name: &str) -> Durability {
    match name {
        "always" => Durability::Always,
        "on_flush" => Durability::OnFlush,
        "interval" => Durability::Interval(Duration::from_millis(10)),
        "bytes" => Durability::Bytes(16 * 1024),
        "buffered" => Durability::Buffered,
        other => panic!("unknown policy {other}"),
    }
}

fn options(name: &str) -> OpenOptions {
    OpenOptions::new()
        .durability(policy(name))
        .config(StoreConfig {
            buf_capacity: BUFFER,
            ..StoreConfig::default()
        })
}

/// The child: continues the store from where the last child stopped,
/// inserting key `i` with a value of `i`'s digits, reporting `ACK i`
/// after each insert returned and, under `Buffered`, `FLUSHED i` after
/// each flush that covered inserts up to `i`.
#[test]
fn durability_kill_child() {
    let Some((dir, role)) = PROTOCOL.task() else {
        return;
    };
    let mut store: IndexMapStore<u64, String> = options(&role).open(dir.join(STORE)).unwrap();
    let mut next = store.len() as u64;
    PROTOCOL.report("OPENED", next);
    loop {
        store.insert(next, format!("{next:0>VALUE_LEN$}")).unwrap();
        PROTOCOL.report("ACK", next);
        if role == "buffered" && next % FLUSH_EVERY == FLUSH_EVERY - 1 {
            store.flush().unwrap();
            PROTOCOL.report("FLUSHED", next);
        }
        next += 1;
    }
}

/// Reopens the store and checks it holds keys `0..n` in order with their
/// values; returns `n`.
fn verify(path: &Path, ctx: &str) -> u64 {
    let store: IndexMapStore<u64, String> = IndexMapStore::open(path).unwrap();
    for (i, (k, v)) in store.iter().enumerate() {
        let i = i as u64;
        assert_eq!(*k, i, "{ctx}: entry {i} is key {k}: not a gap-free prefix");
        assert_eq!(*v, format!("{i:0>VALUE_LEN$}"), "{ctx}: key {i}'s value");
    }
    store.len() as u64
}

fn run_policy(name: &str, rng: &mut Rng) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE);
    let mut kept = 0;
    for round in 0..ROUNDS {
        let ctx = format!("{name}, round {round}");
        let mut child = PROTOCOL.spawn(dir.path(), name, |_| {});
        child.expect(&ctx, "OPENED", |p| p.tag == "OPENED");
        let inserts = 20 + rng.below(300);
        child.expect(&ctx, "enough inserts", nth("ACK", inserts));
        child.kill(&ctx);
        let acked = child.last(&["ACK"]).expect("acknowledged inserts");
        let len = verify(&path, &ctx);
        if name == "buffered" {
            let flushed = child.last(&["FLUSHED"]).map_or(kept, |f| f + 1);
            assert!(
                len >= flushed,
                "{ctx}: {len} entries, but inserts up to {flushed} were flushed"
            );
            let lost = (acked + 1).saturating_sub(len);
            assert!(
                lost as usize * VALUE_LEN <= BUFFER,
                "{ctx}: {lost} acknowledged inserts lost, more than a {BUFFER}-byte buffer holds"
            );
        } else {
            assert!(
                len > acked,
                "{ctx}: insert {acked} was acknowledged, but only {len} entries survived"
            );
        }
        kept = len;
    }
}

#[test]
fn each_policy_keeps_what_it_promises_when_the_process_is_killed() {
    let mut rng = Rng::new(announced_seed("durability kill", "DURABILITY_KILL_SEED"));
    for name in ["always", "on_flush", "interval", "bytes", "buffered"] {
        run_policy(name, &mut rng);
    }
}
