//! A linearizability checker for a history of key-value register
//! operations (Wing & Gong's search, with memoisation, key by key:
//! linearizability is local, so each key is checked alone).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::support::Rng;

/// Keys are used in windows of [`WINDOW`] keys; a key takes at most
/// [`OPS_PER_KEY`] operations (the checker's search stays small), then
/// the clients move to the next window.
const WINDOW: u64 = 8;
const OPS_PER_KEY: u64 = 60;

/// The history clients record as they run, with one logical clock, and
/// the keys they may use.
#[derive(Clone, Default)]
pub struct History {
    clock: Arc<AtomicU64>,
    events: Arc<Mutex<Vec<Event>>>,
    window: Arc<AtomicU64>,
    per_key: Arc<Mutex<BTreeMap<u64, u64>>>,
}

impl History {
    /// The logical time: call it just before a call and just after it returns.
    pub fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    pub fn record(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }

    /// Records a read of `key`, called at `call` (a [`tick`](Self::tick)),
    /// that has just returned `value`.
    pub fn returned_read(&self, key: u64, call: u64, value: Option<u64>) {
        let ret = Some(self.tick());
        self.record(Event {
            key,
            kind: Kind::Read(value),
            call,
            ret,
        });
    }

    /// Records a write of `value` to `key`, called at `call`, that has just
    /// returned: `acknowledged`, or failed or timed out, in which case its
    /// outcome is unknown (it may still have been applied).
    pub fn returned_write(&self, key: u64, value: u64, call: u64, acknowledged: bool) {
        let ret = acknowledged.then(|| self.tick());
        self.record(Event {
            key,
            kind: Kind::Write(value),
            call,
            ret,
        });
    }

    /// A key with budget left, from the current window.
    pub fn key(&self, rng: &mut Rng) -> u64 {
        loop {
            let window = self.window.load(Ordering::SeqCst);
            let key = window * WINDOW + rng.below(WINDOW);
            let mut per_key = self.per_key.lock().unwrap_or_else(PoisonError::into_inner);
            let used = per_key.entry(key).or_default();
            if *used < OPS_PER_KEY {
                *used += 1;
                return key;
            }
            drop(per_key);
            let _ = self.window.compare_exchange(
                window,
                window + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
    }

    pub fn keys_used(&self) -> Vec<u64> {
        self.per_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What an operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Wrote this value (values are unique per write).
    Write(u64),
    /// Read this value (`None`: the key was absent).
    Read(Option<u64>),
}

/// One operation of a client, with logical times from one clock.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub key: u64,
    pub kind: Kind,
    /// When it was called.
    pub call: u64,
    /// When it returned successfully; `None` for a write whose outcome is
    /// unknown (it failed or timed out, and may or may not have been
    /// applied).
    pub ret: Option<u64>,
}

/// `Ok` if the history is linearizable; else which key is not.
pub fn check(history: &[Event]) -> Result<(), String> {
    let mut by_key: BTreeMap<u64, Vec<Event>> = BTreeMap::new();
    for e in history {
        by_key.entry(e.key).or_default().push(*e);
    }
    for (key, ops) in by_key {
        // A write of unknown outcome whose value no read returned may be
        // taken as never applied: that changes no read's result. Dropping
        // those keeps the search small (each one would double it).
        let read: HashSet<u64> = ops
            .iter()
            .filter_map(|e| match e.kind {
                Kind::Read(Some(v)) => Some(v),
                _ => None,
            })
            .collect();
        let ops: Vec<Event> = ops
            .into_iter()
            .filter(|e| e.ret.is_some() || matches!(e.kind, Kind::Write(v) if read.contains(&v)))
            .collect();
        assert!(
            ops.len() <= 128,
            "key {key} has {} operations; the checker takes 128",
            ops.len()
        );
        let mut seen = HashSet::new();
        if !search(&ops, 0, None, &mut seen) {
            let mut ops = ops;
            ops.sort_by_key(|e| e.call);
            return Err(format!("key {key}: no linearization of {ops:#?}"));
        }
    }
    Ok(())
}

/// Whether the operations not in `done` can follow, from value `state`.
fn search(
    ops: &[Event],
    done: u128,
    state: Option<u64>,
    seen: &mut HashSet<(u128, Option<u64>)>,
) -> bool {
    let pending = |i: usize| done & (1 << i) == 0;
    // Every completed operation linearized: the rest (writes of unknown
    // outcome) may never have happened.
    let first_return = (0..ops.len())
        .filter(|&i| pending(i))
        .filter_map(|i| ops[i].ret)
        .min();
    let Some(first_return) = first_return else {
        return true;
    };
    if !seen.insert((done, state)) {
        return false;
    }
    // An operation can go next if it was called before every pending
    // operation returned.
    (0..ops.len())
        .filter(|&i| pending(i) && ops[i].call < first_return)
        .any(|i| match ops[i].kind {
            Kind::Write(v) => search(ops, done | (1 << i), Some(v), seen),
            Kind::Read(r) => r == state && search(ops, done | (1 << i), state, seen),
        })
}

#[test]
fn the_checker_accepts_linearizable_histories_and_refuses_others() {
    let w = |v, call, ret| Event {
        key: 1,
        kind: Kind::Write(v),
        call,
        ret,
    };
    let r = |v, call, ret| Event {
        key: 1,
        kind: Kind::Read(v),
        call,
        ret: Some(ret),
    };
    // Sequential: write 1, read 1.
    assert!(check(&[w(1, 0, Some(1)), r(Some(1), 2, 3)]).is_ok());
    // A read overlapping a write may see either value.
    assert!(check(&[w(1, 0, Some(5)), r(None, 1, 2), r(Some(1), 3, 4)]).is_ok());
    // A stale read after the write returned is not linearizable.
    assert!(check(&[w(1, 0, Some(1)), r(None, 2, 3)]).is_err());
    // An acknowledged write that a later read does not see (lost).
    assert!(check(&[w(1, 0, Some(1)), w(2, 2, Some(3)), r(Some(1), 4, 5)]).is_err());
    // A write of unknown outcome may or may not have happened...
    assert!(check(&[w(1, 0, None), r(None, 2, 3)]).is_ok());
    assert!(check(&[w(1, 0, None), r(Some(1), 2, 3)]).is_ok());
    // ...but not un-happen.
    assert!(check(&[w(1, 0, None), r(Some(1), 2, 3), r(None, 4, 5)]).is_err());
    // A value nobody wrote.
    assert!(check(&[r(Some(9), 0, 1)]).is_err());
    // Keys are independent.
    let other = Event {
        key: 2,
        kind: Kind::Read(None),
        call: 10,
        ret: Some(11),
    };
    assert!(check(&[w(1, 0, Some(1)), other]).is_ok());
}
