//! The raw floors of the `durable` workload: no store, only what the disk
//! gives a loop of one `write(2)` of a record and one `fdatasync(2)` per
//! entry. Two of them, run in the same `cargo xtask compare` as the stores:
//!
//! - `floor-append`: appended to a file that starts empty, so every sync
//!   must also record the file's new length (what an appending log pays);
//! - `floor-prealloc`: written in place into a file filled with zeros and
//!   synced beforehand (untimed), so its blocks are allocated and written
//!   and a sync records no new length or extent: the cheapest durable
//!   write this file system offers, the floor issue 16 measures
//!   indexmap_store's `Always` policy against.
//!
//! A record is the entry's key and value plus 8 bytes, about what a store
//! frames them with. `floor-group`, the floor of `durable-threads`, writes
//! the same records into the same preallocated file ([`crate::group_floor`]).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::data::{ENTRY_LEN, Entry};
use crate::stores::{Durability, Store};

/// Bytes written per entry.
pub const RECORD_LEN: u64 = ENTRY_LEN + 8;

/// One record: the entry's length (4 bytes), key and value, and 4 zero
/// bytes where a store would put its checksum.
pub type Record = [u8; RECORD_LEN as usize];

/// The record of entry `e`.
pub fn record(e: &Entry) -> Record {
    let mut record = [0; RECORD_LEN as usize];
    let (len, rest) = record.split_at_mut(4);
    len.copy_from_slice(&(ENTRY_LEN as u32).to_le_bytes());
    let (key, rest) = rest.split_at_mut(e.key().len());
    key.copy_from_slice(e.key().as_bytes());
    rest[..e.value().len()].copy_from_slice(e.value().as_bytes());
    record
}

/// Creates `floor.dat` in `dir`: empty, or (`prealloc`) `n` records long,
/// zero-filled and synced (`sync_all`, so its length and blocks are on
/// the disk before any timed write).
pub fn create(dir: &Path, prealloc: bool, n: u64) -> File {
    let path = dir.join("floor.dat");
    let mut file = File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("floor: create {}: {e}", path.display()));
    if prealloc {
        let zeros = vec![0; 1 << 20];
        let mut left = n * RECORD_LEN;
        while left > 0 {
            let chunk = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..chunk]).expect("floor: zero-fill");
            left -= chunk as u64;
        }
        file.sync_all().expect("floor: sync the zero-filled file");
    }
    file
}

/// One of the two floors.
pub struct Floor {
    file: File,
    offset: u64,
    sync_each: bool,
}

impl Floor {
    /// The floor over a new `floor.dat` in `dir` (see [`create`]).
    pub fn open(dir: &Path, durability: Durability, prealloc: bool, n: u64) -> Self {
        Floor {
            file: create(dir, prealloc, n),
            offset: 0,
            sync_each: durability == Durability::EveryWrite,
        }
    }
}

impl Store for Floor {
    fn insert(&mut self, e: &Entry) {
        self.file
            .write_all_at(&record(e), self.offset)
            .expect("floor: write");
        self.offset += RECORD_LEN;
        if self.sync_each {
            self.sync();
        }
    }
    fn insert_batch(&mut self, entries: &[Entry]) {
        let sync_each = std::mem::replace(&mut self.sync_each, false);
        for e in entries {
            self.insert(e);
        }
        self.sync_each = sync_each;
    }
    fn sync(&mut self) {
        self.file.sync_data().expect("floor: fdatasync");
    }
    fn value_len(&mut self, _key: &str) -> Option<usize> {
        panic!("the floors only write: they run the durable workload alone")
    }
    fn scan(&mut self) -> (u64, u64) {
        panic!("the floors only write: they run the durable workload alone")
    }
}
