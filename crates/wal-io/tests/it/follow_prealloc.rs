//! A follower of a preallocated log: the zeros after the last record are
//! pending space, and an idle poll reads a page of them, not the whole
//! chunk, while every verdict stays the open's.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wal_io::sim::{OpKind, SimStorage};
use wal_io::{FollowEvent, Polled, Storage, Visibility, Wal, WalFollower, WalOptions};

use crate::support::{Hook, Hooked};

const CHUNK: u64 = 16 << 20;
const LOG: &str = "events.log";

/// A simulated disk whose reads are counted.
fn counted() -> (Arc<dyn Storage>, Arc<AtomicU64>) {
    let reads = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reads);
    let hook: Hook = Arc::new(move |op| {
        if op.op == OpKind::Read {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    (Arc::new(Hooked::new(SimStorage::new(3), hook)), reads)
}

fn writer(storage: &Arc<dyn Storage>) -> Wal {
    let opts = WalOptions {
        preallocate: Some(CHUNK),
        ..WalOptions::default()
    };
    Wal::open(Arc::clone(storage), Path::new(LOG), opts, |_| Ok(()))
        .expect("open the writer")
        .0
}

fn follower(storage: &Arc<dyn Storage>, visibility: Visibility) -> (WalFollower, Vec<Vec<u8>>) {
    let mut seen = Vec::new();
    let (follower, _) = WalFollower::open(
        Arc::clone(storage),
        Path::new(LOG),
        WalOptions::default(),
        visibility,
        |r| {
            seen.push(r.payload.to_vec());
            Ok(())
        },
    )
    .expect("open the follower");
    (follower, seen)
}

fn poll(follower: &mut WalFollower, seen: &mut Vec<Vec<u8>>) -> Polled {
    follower
        .poll(|event| {
            match event {
                FollowEvent::Reset => seen.clear(),
                FollowEvent::Record(r) => seen.push(r.payload.to_vec()),
            }
            Ok(())
        })
        .expect("poll")
}

/// Reads per poll of `polls` idle polls.
fn idle_reads(follower: &mut WalFollower, seen: &mut Vec<Vec<u8>>, reads: &AtomicU64) -> u64 {
    const POLLS: u64 = 10;
    let before = reads.load(Ordering::Relaxed);
    for _ in 0..POLLS {
        let polled = poll(follower, seen);
        assert_eq!(polled.records, 0);
        assert!(polled.pending_bytes > CHUNK / 2, "the zeros are pending");
    }
    (reads.load(Ordering::Relaxed) - before) / POLLS
}

fn follows_a_preallocated_writer(visibility: Visibility) {
    let (storage, reads) = counted();
    let mut wal = writer(&storage);
    for i in 0..10u32 {
        wal.append(&i.to_le_bytes()).expect("append");
    }
    wal.sync().expect("sync");
    // Durable visibility needs a later record's watermark.
    wal.append(b"after the sync").expect("append");
    // Everything written shows the last record too; durable shows what
    // the last record's watermark vouches for.
    let last = usize::from(visibility == Visibility::Written);
    let (mut follower, mut seen) = follower(&storage, visibility);
    assert_eq!(seen.len(), 10 + last, "{visibility:?}");

    // A whole chunk read per poll would be 16 reads of the 1 MiB buffer
    // for the zeros check alone.
    let per_poll = idle_reads(&mut follower, &mut seen, &reads);
    assert!(
        per_poll <= 6,
        "{visibility:?}: {per_poll} reads per idle poll"
    );

    // Records written into the preallocated space are delivered, and the
    // polls after them stay cheap.
    for i in 10..20u32 {
        wal.append(&i.to_le_bytes()).expect("append");
    }
    wal.sync().expect("sync");
    wal.append(b"after the second sync").expect("append");
    let polled = poll(&mut follower, &mut seen);
    assert_eq!(polled.records, 11, "{visibility:?}");
    assert_eq!(seen.len(), 21 + last);
    assert!(seen.contains(&19u32.to_le_bytes().to_vec()));
    let per_poll = idle_reads(&mut follower, &mut seen, &reads);
    assert!(
        per_poll <= 6,
        "{visibility:?}: {per_poll} reads per idle poll"
    );

    // A clean close trims the zeros and seals: the follower sees every
    // record, and no zeros are pending any more (at most the seal, which
    // a durable follower leaves pending).
    wal.close().expect("close");
    let polled = poll(&mut follower, &mut seen);
    assert!(polled.pending_bytes <= 16, "{visibility:?}: {polled:?}");
    assert_eq!(seen.len(), 22);
}

#[test]
fn an_idle_follower_reads_a_page_of_the_preallocated_tail_not_the_chunk() {
    follows_a_preallocated_writer(Visibility::Written);
}

#[test]
fn a_durable_follower_reads_a_page_of_the_preallocated_tail_not_the_chunk() {
    follows_a_preallocated_writer(Visibility::Durable);
}
