//! A store closed cleanly (by `close` or by dropping it) leaves its entry
//! count in the log's closing seal, and the next open sizes the map once
//! from it, as a compacted log's entry count does: no growth by doubling,
//! which costs the open its rehashing and leaves up to twice the room. A
//! log that does not end with that seal (a copy taken while the store was
//! open, or one appended to since) opens the same, growing the map.

use std::io;
use std::path::Path;

use indexmap_store::{IndexMapStore, OpenOptions};
use test_support::scratch;

type Store = IndexMapStore<String, u64>;

/// The entries an open gave, in order.
type Entries = Vec<(String, u64)>;

/// The store's seal note: tag 1, then the entry count, little-endian.
fn note_of(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).expect("read the log");
    wal_format::trailing_seal_note(&bytes).map(<[u8]>::to_vec)
}

fn expected_note(entries: u64) -> Vec<u8> {
    let mut note = vec![1];
    note.extend_from_slice(&entries.to_le_bytes());
    note
}

/// Rewrites the closed log's seal with a note claiming `entries` (and a
/// valid checksum): what only a forged or foreign file has.
fn forge_count(path: &Path, entries: u64) -> io::Result<()> {
    let mut bytes = std::fs::read(path)?;
    let len = bytes.len();
    let seal_len = wal_format::FRAME_OVERHEAD + 9;
    let seq_lo = u32::from_le_bytes(
        bytes[len - seal_len + 8..len - seal_len + 12]
            .try_into()
            .unwrap(),
    );
    bytes.truncate(len - seal_len);
    let note = expected_note(entries);
    wal_format::encode_seal_with_note(&mut bytes, u64::from(seq_lo), &note).unwrap();
    std::fs::write(path, &bytes)?;
    assert_eq!(note_of(path), Some(note));
    Ok(())
}

/// 5,000 inserts one call each, then every third key overwritten: what a
/// store that is never compacted looks like.
fn fill(store: &mut Store) -> io::Result<()> {
    for i in 0..5_000u64 {
        store.insert(format!("key {i}"), i)?;
    }
    for i in (0..5_000u64).step_by(3) {
        store.insert(format!("key {i}"), i + 1)?;
    }
    Ok(())
}

/// Opens with 1 and 2 recovery threads; returns the entries and the
/// capacities.
fn open_both(path: &Path) -> io::Result<(Entries, [usize; 2])> {
    let mut entries = Vec::new();
    let mut capacities = [0; 2];
    for (threads, capacity) in [1, 2].into_iter().zip(&mut capacities) {
        let store: Store = OpenOptions::new()
            .recovery_threads(threads)
            .open_threaded(path)?;
        let these: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
        if threads > 1 {
            assert_eq!(these, entries, "both opens give the same entries");
        }
        entries = these;
        *capacity = store.as_map().capacity();
    }
    Ok((entries, capacities))
}

#[test]
fn a_closed_store_tells_the_next_open_its_size() -> io::Result<()> {
    let (_dir, path) = scratch("noted.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    fill(&mut store)?;
    let live = store.len();
    assert_eq!(live, 5_000);
    store.close()?;
    assert_eq!(note_of(&path), Some(expected_note(5_000)));
    let (entries, capacities) = open_both(&path)?;
    assert_eq!(entries.len(), live);
    assert_eq!(entries[0], ("key 0".to_owned(), 1));
    assert_eq!(capacities, [live; 2], "the map is sized once, for {live}");

    // Opened and dropped with nothing written: the seal stays as it was.
    // Written to and dropped: the new seal has the new count.
    drop(IndexMapStore::<String, u64>::open(&path)?);
    assert_eq!(note_of(&path), Some(expected_note(5_000)));
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("one more".into(), 0)?;
    drop(store);
    assert_eq!(note_of(&path), Some(expected_note(5_001)));
    let (entries, capacities) = open_both(&path)?;
    assert_eq!(entries.last(), Some(&("one more".to_owned(), 0)));
    assert_eq!(capacities, [5_001; 2]);
    Ok(())
}

#[test]
fn the_note_is_the_count_after_removals_and_a_floor_for_the_replay() -> io::Result<()> {
    // The note is the count the log leaves, not the most the map held on
    // the way: a replay that passes through more entries grows the map
    // from there, as an open without a note would.
    let (_dir, path) = scratch("removed.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    fill(&mut store)?;
    for i in (0..5_000u64).step_by(2) {
        store.shift_remove(&format!("key {i}"))?;
    }
    let kept: Vec<_> = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
    drop(store);
    assert_eq!(note_of(&path), Some(expected_note(2_500)));
    let (entries, capacities) = open_both(&path)?;
    assert_eq!(entries, kept);
    assert!(capacities.iter().all(|&c| c >= 5_000), "{capacities:?}");
    Ok(())
}

#[test]
fn a_log_without_the_note_opens_the_same_and_grows_the_map() -> io::Result<()> {
    let (dir, path) = scratch("noted.log");
    let copy = dir.path().join("copy.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    fill(&mut store)?;
    store.flush()?;
    // Taken while the store is open: no seal at its end.
    std::fs::copy(&path, &copy)?;
    store.close()?;
    assert_eq!(note_of(&copy), None);
    let (noted, _) = open_both(&path)?;
    let (copied, capacities) = open_both(&copy)?;
    assert_eq!(copied, noted, "the same entries in the same order");
    for capacity in capacities {
        assert!(capacity >= noted.len(), "{capacity}");
    }
    Ok(())
}

#[test]
fn a_note_larger_than_the_log_could_hold_is_not_believed() -> io::Result<()> {
    // A seal note claiming more entries than the file has bytes (only a
    // forged or foreign file has one) sizes nothing and fails nothing.
    let (_dir, path) = scratch("forged.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    store.insert("a".into(), 1)?;
    store.close()?;
    forge_count(&path, u64::MAX / 2)?;
    let (entries, capacities) = open_both(&path)?;
    assert_eq!(entries, [("a".to_owned(), 1)]);
    assert!(capacities.iter().all(|&c| c < 1 << 20), "{capacities:?}");
    Ok(())
}

/// A read-only open sizes its map from the seal note too, and a note
/// larger than the file could hold sizes nothing there either.
#[test]
fn a_read_only_open_sizes_its_map_from_the_note() -> io::Result<()> {
    let (_dir, path) = scratch("read_only.log");
    let mut store: Store = IndexMapStore::open(&path)?;
    fill(&mut store)?;
    let kept: Entries = store.iter().map(|(k, v)| (k.clone(), *v)).collect();
    store.close()?;
    let reader = OpenOptions::new().open_read_only::<String, u64>(&path)?;
    let seen: Entries = reader.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(seen, kept);
    assert_eq!(reader.as_map().capacity(), 5_000, "sized once, for 5,000");
    drop(reader);

    // The same log with a forged count in its seal: opened as before.
    forge_count(&path, u64::MAX / 4)?;
    let reader = OpenOptions::new().open_read_only::<String, u64>(&path)?;
    assert_eq!(reader.len(), 5_000);
    assert!(
        reader.as_map().capacity() < 1 << 20,
        "the forged count sized nothing"
    );
    Ok(())
}
