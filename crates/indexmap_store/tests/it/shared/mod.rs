//! `SharedStore` and the durability policies over `SimStorage`: concurrent
//! writers crashed at random points, a failed sync with many waiters, the
//! background syncer of an idle store, and the policies' windows.
//!
//! One module per subject: [`crashes`] (crashed concurrent writers and a
//! failed sync, against the log-order oracle), [`policies`] (the background
//! syncer and the windows of `Interval`, `Bytes`, `OnFlush` and `Buffered`)
//! and [`handles`] (readers beside a writer, closing handles). This file
//! holds what they share: the simulated log's path and open options, and
//! the strictest crash.

mod crashes;
mod handles;
mod policies;

use std::sync::Arc;

use indexmap_store::{Durability, OpenOptions, SharedStore};
use wal_io::sim::{CrashVariant, SimStorage};

const PATH: &str = "shared.log";

type Shared = SharedStore<u32, u64>;

fn options(sim: &SimStorage, durability: Durability, prealloc: bool) -> OpenOptions {
    OpenOptions::new()
        .storage(Arc::new(sim.clone()))
        .durability(durability)
        .preallocate(prealloc.then_some(1024))
}

/// The crash variant that keeps nothing unsynced: the strictest test of
/// "durable without a call".
fn strictest() -> CrashVariant {
    CrashVariant::LoseUnsynced
}
