//! Every tear of one shape's last record over real files (`FsStorage`),
//! and the lock released after the last check.

use std::sync::Arc;

use super::check::check;
use super::{FILLS, SHAPES, build, old_bytes, torn_image};
use crate::support::Rng;
use wal_io::{FsStorage, Storage, Wal, WalOptions};

/// The same over real files, for one shape.
#[test]
fn every_tear_over_real_files() {
    let shape = SHAPES[2];
    let seed = 77;
    let (bytes, prior, start, sidecar) = build(shape, seed);
    let old = old_bytes(bytes.len(), seed);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.log");
    let lock = dir.path().join("torn.log.lock");
    let start_us = usize::try_from(start).unwrap_or(usize::MAX);
    let mut cases = 0;
    for cut in start_us..bytes.len() {
        for fill in FILLS {
            let image = torn_image(&bytes, cut, fill, &old, &mut rng);
            if image == bytes {
                continue;
            }
            std::fs::write(&path, &image).unwrap();
            std::fs::write(&lock, &sidecar).unwrap();
            let read = || std::fs::read(&path).unwrap_or_default();
            let storage: Arc<dyn Storage> = Arc::new(FsStorage::new());
            if let Err(e) = check(
                storage,
                &path,
                &image,
                &prior,
                start,
                &mut rng,
                &read,
                cases % 2 == 1,
            ) {
                panic!(
                    "real file torn at byte {cut} (+{}), fill {fill:?}: {e}",
                    cut - start_us
                );
            }
            cases += 1;
        }
    }
    assert!(cases > 3 * (bytes.len() - start_us));
    // The lock is released: the directory holds the log and its lock file.
    let (wal, _) = Wal::open(
        Arc::new(FsStorage::new()),
        &path,
        WalOptions::default(),
        |_| Ok(()),
    )
    .unwrap();
    assert_eq!(wal.stats().records, prior.len() as u64 + 100);
}
