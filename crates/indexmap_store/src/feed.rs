//! The change feed: [`IndexMapStore::subscribe`] and the
//! [`Subscription`] it returns.
//!
//! The writer keeps one bounded queue per subscriber and never waits on
//! one: an operation is copied (its encoded record, shared by every
//! subscriber) into each queue that has room, once it is logged. A queue
//! that is full marks its subscriber *lagged*: it gets nothing more until
//! it resynchronises ([`IndexMapStore::resync`]), and is told so by a
//! [`FeedEvent::Lagged`] once it has taken what was queued. A subscriber
//! whose [`Subscription`] was dropped is pruned. With no subscriber, an
//! operation costs one branch more.

use std::cell::Cell;
use std::hash::Hash;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::IndexMapStore;
use crate::change::Change;
use crate::codec;
use crate::error::StoreError;

/// What [`Subscription::next_ready`] found.
enum Next<T> {
    Event(T),
    Empty,
    /// The store is gone and the queue empty.
    Closed,
}

/// The shortest and longest sleep of a waiting [`Subscription`].
const MIN_NAP: Duration = Duration::from_micros(20);
const MAX_NAP: Duration = Duration::from_millis(1);

/// The queue capacity of [`IndexMapStore::subscribe`].
pub const DEFAULT_FEED_CAPACITY: usize = 4096;

/// An operation as queued: its sequence number and encoded record.
#[derive(Debug)]
struct Raw {
    seq: u64,
    payload: Arc<[u8]>,
}

/// What a subscriber and the writer share.
#[derive(Debug, Default)]
struct Shared {
    /// 0, or the sequence number of the first operation dropped, plus one.
    lagged: AtomicU64,
    /// Operations below this sequence number are covered by the last
    /// resynchronisation's snapshot.
    resume_at: AtomicU64,
    /// The subscription was dropped.
    closed: AtomicBool,
}

/// One subscriber, on the writer's side.
#[derive(Debug)]
struct Sub {
    tx: SyncSender<Raw>,
    shared: Arc<Shared>,
}

/// A store's subscribers, and the record of the operation being logged.
#[derive(Debug, Default)]
pub(crate) struct Feed {
    subs: Vec<Sub>,
    /// The encoded record of the operation being logged.
    pending: Option<Arc<[u8]>>,
}

impl Feed {
    /// Whether anyone listens: the only cost of the feed without
    /// subscribers.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        !self.subs.is_empty()
    }

    /// Keeps a copy of the record being logged (one allocation, shared by
    /// every subscriber).
    pub(crate) fn capture(&mut self, payload: &[u8]) {
        self.pending = Some(Arc::from(payload));
    }

    /// Queues the captured record as operation `seq` for every subscriber
    /// that has room, never waiting; marks the others lagged and prunes
    /// the dropped ones.
    pub(crate) fn publish(&mut self, seq: u64) {
        let Some(payload) = self.pending.take() else {
            return;
        };
        self.subs.retain(|sub| {
            if sub.shared.closed.load(Ordering::Relaxed) {
                return false;
            }
            if sub.shared.lagged.load(Ordering::Acquire) != 0 {
                return true;
            }
            let raw = Raw {
                seq,
                payload: Arc::clone(&payload),
            };
            match sub.tx.try_send(raw) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    sub.shared.lagged.store(seq + 1, Ordering::Release);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }
}

/// What a [`Subscription`] receives.
#[derive(Debug)]
#[non_exhaustive]
pub enum FeedEvent<K, V> {
    /// The next operation, once logged, in log order.
    Change(Change<K, V>),
    /// The subscriber fell behind its queue: the operations from
    /// `missed_from` on were not delivered, and none will be until it
    /// resynchronises with [`IndexMapStore::resync`].
    Lagged {
        /// The sequence number of the first operation missed.
        missed_from: u64,
    },
}

/// A receiver of a store's operations; see [`IndexMapStore::subscribe`].
/// Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription<K, V> {
    rx: Receiver<Raw>,
    shared: Arc<Shared>,
    /// The lag (`Shared::lagged`) a [`FeedEvent::Lagged`] was last
    /// returned for, 0 for none. Each lag after a resynchronisation has a
    /// later `missed_from`, so a new lag is told even when the subscriber
    /// never looked while it was resynchronised and not yet lagged again.
    told: Cell<u64>,
    _types: PhantomData<fn() -> (K, V)>,
}

/// Names a [`Subscription`] to [`IndexMapStore::resync`] from any thread.
#[derive(Debug, Clone)]
pub struct FeedHandle(Arc<Shared>);

impl<K, V> Drop for Subscription<K, V> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
    }
}

impl<K: DeserializeOwned, V: DeserializeOwned> Subscription<K, V> {
    /// Waits for the next event; `None` once the store was dropped and
    /// every queued event taken. An `Err` is an operation that did not
    /// decode as `(K, V)` (possible only for types that do not read back
    /// what they write: see [`crate::OpenOptions::verify_writes`]).
    ///
    /// Waiting polls the queue, sleeping from 20 µs up to 1 ms between
    /// looks, instead of asking the writer to wake it: the writer never
    /// makes a system call for a subscriber. An event waits at most about
    /// a millisecond to be noticed.
    pub fn recv(&self) -> Option<io::Result<FeedEvent<K, V>>> {
        self.wait(None)
    }

    /// The next event if one is ready.
    pub fn try_recv(&self) -> Option<io::Result<FeedEvent<K, V>>> {
        match self.next_ready() {
            Next::Event(event) => Some(event),
            Next::Empty | Next::Closed => None,
        }
    }

    /// Like [`recv`](Self::recv), waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<io::Result<FeedEvent<K, V>>> {
        self.wait(Some(Instant::now() + timeout))
    }

    /// Polls until an event, the end of the feed, or `deadline`.
    fn wait(&self, deadline: Option<Instant>) -> Option<io::Result<FeedEvent<K, V>>> {
        let mut nap = MIN_NAP;
        loop {
            match self.next_ready() {
                Next::Event(event) => return Some(event),
                Next::Closed => return None,
                Next::Empty => {}
            }
            let now = Instant::now();
            let left = deadline.map_or(nap, |d| d.saturating_duration_since(now));
            if left.is_zero() {
                return None;
            }
            thread::sleep(nap.min(left));
            nap = (nap * 2).min(MAX_NAP);
        }
    }

    /// The next event queued (or the lag), without waiting.
    fn next_ready(&self) -> Next<io::Result<FeedEvent<K, V>>> {
        loop {
            match self.rx.try_recv() {
                Ok(raw) => {
                    if let Some(event) = self.deliver(raw) {
                        return Next::Event(event);
                    }
                }
                Err(TryRecvError::Empty) => return self.lag().map_or(Next::Empty, Next::Event),
                Err(TryRecvError::Disconnected) => {
                    return self.lag().map_or(Next::Closed, Next::Event);
                }
            }
        }
    }

    /// A handle that names this subscription to [`IndexMapStore::resync`],
    /// which the writer's thread may hold.
    #[must_use]
    pub fn handle(&self) -> FeedHandle {
        FeedHandle(Arc::clone(&self.shared))
    }

    /// Whether the subscriber is lagged (it missed operations and was not
    /// resynchronised since).
    #[must_use]
    pub fn is_lagged(&self) -> bool {
        self.shared.lagged.load(Ordering::Acquire) != 0
    }

    /// Decodes `raw`, unless the last resynchronisation covers it.
    fn deliver(&self, raw: Raw) -> Option<io::Result<FeedEvent<K, V>>> {
        if raw.seq < self.shared.resume_at.load(Ordering::Acquire) {
            return None;
        }
        Some(
            codec::decode(&raw.payload)
                .map(|op| FeedEvent::Change(Change { seq: raw.seq, op }))
                .map_err(|source| {
                    StoreError::Decode {
                        seq: raw.seq,
                        offset: 0,
                        source,
                    }
                    .into()
                }),
        )
    }

    /// A [`FeedEvent::Lagged`] not yet returned for the current lag.
    fn lag(&self) -> Option<io::Result<FeedEvent<K, V>>> {
        match self.shared.lagged.load(Ordering::Acquire) {
            0 => None,
            missed if missed == self.told.get() => None,
            missed => {
                self.told.set(missed);
                Some(Ok(FeedEvent::Lagged {
                    missed_from: missed - 1,
                }))
            }
        }
    }
}

impl<K: DeserializeOwned, V: DeserializeOwned> Iterator for &Subscription<K, V> {
    type Item = io::Result<FeedEvent<K, V>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.recv()
    }
}

/// A copy of a store's map and the sequence number it is current to.
pub type Snapshot<K, V> = (IndexMap<K, V>, u64);

impl<K, V> IndexMapStore<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Subscribes to the store's operations, with a queue of
    /// [`DEFAULT_FEED_CAPACITY`] operations; see
    /// [`subscribe_with_capacity`](Self::subscribe_with_capacity).
    pub fn subscribe(&mut self) -> Subscription<K, V> {
        self.subscribe_with_capacity(DEFAULT_FEED_CAPACITY)
    }

    /// Subscribes to the store's operations: every operation logged from
    /// now on is delivered, in log order with its sequence number, once
    /// logged (and synced, with `sync_on_write`). Delivery never blocks the
    /// writer: a subscriber more than `capacity` operations behind (at
    /// least 1) is marked lagged and receives [`FeedEvent::Lagged`]; it
    /// then catches up with [`resync`](Self::resync). Combine with
    /// [`snapshot`](Self::snapshot) for the state the feed starts from.
    pub fn subscribe_with_capacity(&mut self, capacity: usize) -> Subscription<K, V> {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let shared = Arc::new(Shared::default());
        shared.resume_at.store(self.next_seq(), Ordering::Release);
        self.feed.subs.push(Sub {
            tx,
            shared: Arc::clone(&shared),
        });
        Subscription {
            rx,
            shared,
            told: Cell::new(0),
            _types: PhantomData,
        }
    }
}

impl<K: Clone, V: Clone> IndexMapStore<K, V> {
    /// A copy of the map, and the sequence number of the next operation:
    /// the map after every operation below it. Cost: O(n) clones.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<K, V> {
        (self.map.clone(), self.wal.stats().next_seq)
    }

    /// Resynchronises a lagged subscriber: returns a
    /// [`snapshot`](Self::snapshot), and the subscription, from then on,
    /// skips what it had queued below the snapshot's sequence number and
    /// receives every later operation again. Applying those to the
    /// snapshot gives the store's map exactly. Cost: O(n) clones.
    #[must_use]
    pub fn resync(&self, subscriber: &FeedHandle) -> Snapshot<K, V> {
        let snapshot = self.snapshot();
        subscriber.0.resume_at.store(snapshot.1, Ordering::Release);
        subscriber.0.lagged.store(0, Ordering::Release);
        snapshot
    }
}

impl<K, V> IndexMapStore<K, V> {
    /// The sequence number the next logged operation will get: increasing
    /// (not always by one), compared with
    /// [`ReadOnlyStore::next_seq`](crate::ReadOnlyStore::next_seq) and
    /// [`Change::seq`].
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.wal.stats().next_seq
    }

    /// Subscribers that have not dropped their [`Subscription`] (pruned
    /// at the next operation after they drop it).
    #[must_use]
    pub fn subscribers(&self) -> usize {
        self.feed
            .subs
            .iter()
            .filter(|s| !s.shared.closed.load(Ordering::Relaxed))
            .count()
    }
}
