//! Recovery of flipped bits: in synced data, refused then salvaged
//! (row 3); in flushed data after a kill, refused; anywhere in a closed
//! store, never unnoticed.

use std::fs;
use std::io;

use indexmap_store::WalError;
use indexmap_store::{IndexMapStore, OpenOptions, StoreError, TruncationReason};
use test_support::{scratch, sibling};

use super::closed_store;
use crate::use_cases::{
    Users, assert_refused, cp_alone, entries, frames, open_fails, reopen_entries, snapshot,
};

/// Recovery row 3: "damaged records that had been synced (a later valid
/// record proves it): Fails with `InvalidData` naming the offset, changing
/// nothing ... `OpenOptions::new().salvage(true)`: the bytes from the damage
/// on are first copied to `<path>.corrupt-<offset>` (synced), then the
/// valid records before the damage are kept". One flipped bit in the
/// middle of a closed store's data.
#[test]
fn a_bit_flip_in_synced_data_is_refused_then_salvaged() -> io::Result<()> {
    let (dir, path) = scratch("flip.log");
    let want = closed_store(&path, 50);
    let mut bytes = fs::read(&path)?;
    // Frame 0 is the schema record; frame 26 holds the 26th entry.
    let victim = frames(&bytes)[26];
    assert_eq!(victim.marker, 0xA5);
    bytes[victim.offset as usize + 13] ^= 0x10;
    fs::write(&path, &bytes)?;
    let before = snapshot(dir.path());

    let err = open_fails(Users::open(&path), "a flipped bit in record 25");
    assert_refused(&err, io::ErrorKind::InvalidData, "a flipped bit");
    let msg = err.to_string();
    assert!(
        msg.contains(&victim.offset.to_string()),
        "the message names the offset {}: {msg}",
        victim.offset
    );
    match super::store_error(&err) {
        StoreError::Log(WalError::Corrupt { offset, .. }) => assert_eq!(*offset, victim.offset),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the failed open changed nothing"
    );

    let mut store: Users = OpenOptions::new().salvage(true).open(&path)?;
    assert_eq!(entries(&store), want[..25], "the records before the damage");
    let copy = sibling(&path, &format!(".corrupt-{}", victim.offset));
    assert_eq!(
        fs::read(&copy)?,
        bytes[victim.offset as usize..],
        "every byte from the damage on, in {}",
        copy.display()
    );
    match &store.recovery_report().truncated {
        Some(t) => assert_eq!(t.reason, TruncationReason::Salvaged { copy: copy.clone() }),
        None => panic!("the salvage is not reported"),
    }
    store.insert("after".into(), 1)?;
    drop(store);
    assert_eq!(reopen_entries::<String, u64>(&path).len(), 26);
    Ok(())
}

/// Recovery row 3, for a process that was killed rather than closed: what
/// was `flush`ed is vouched for by the records written after it, so a
/// flipped bit in it is refused, not cut off with everything after it.
#[test]
fn a_bit_flip_before_a_flush_is_refused_after_a_kill() -> io::Result<()> {
    let (dir, path) = scratch("flushed.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for i in 0..20 {
        store.insert(format!("k{i}"), i)?;
    }
    store.flush()?;
    for i in 20..25 {
        store.insert(format!("k{i}"), i)?;
    }
    std::mem::forget(store);
    let copy = cp_alone(&path, "killed");
    let mut bytes = fs::read(&copy)?;
    let victim = frames(&bytes)[10];
    bytes[victim.offset as usize + 12] ^= 1;
    fs::write(&copy, &bytes)?;
    let err = open_fails(Users::open(&copy), "a flipped bit in flushed data");
    assert_refused(
        &err,
        io::ErrorKind::InvalidData,
        "a flipped bit in flushed data",
    );
    assert!(
        err.to_string().contains(&victim.offset.to_string()),
        "{err}"
    );
    assert_eq!(fs::read(&copy)?, bytes, "the refused open changed the log");
    let mut left: Vec<String> = snapshot(copy.parent().unwrap()).into_keys().collect();
    left.retain(|name| name != "flushed.log" && name != "flushed.log.lock");
    assert!(
        left.is_empty(),
        "the refused open left files behind: {left:?}"
    );
    drop(dir);
    Ok(())
}

/// README: "damage to the last records of a store that was closed is
/// refused as corruption, like damage anywhere else": a flipped bit
/// anywhere in a closed store (header included) either fails the open with
/// `InvalidData`, leaving the file as it was, or (a flip in the seal
/// itself) opens with every entry; it never opens with other data.
#[test]
fn no_flipped_bit_in_a_closed_store_goes_unnoticed() -> io::Result<()> {
    let (dir, path) = scratch("sweep.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for i in 0..6 {
        store.insert(format!("k{i}"), i)?;
    }
    store.insert_many((6..10).map(|i| (format!("k{i}"), i)))?;
    store.remove("k2")?;
    let want = entries(&store);
    store.close()?;
    let clean = fs::read(&path)?;
    let p = dir.path().join("flipped").join("sweep.log");
    fs::create_dir(p.parent().unwrap())?;
    let mut silent = Vec::new();
    for at in 0..clean.len() {
        let mut bytes = clean.clone();
        bytes[at] ^= 1 << (at % 8);
        fs::write(&p, &bytes)?;
        match Users::open(&p) {
            Ok(store) if entries(&store) == want => {}
            Ok(store) => silent.push(format!("byte {at}: opened with {:?}", entries(&store))),
            Err(e) => {
                assert_refused(
                    &e,
                    io::ErrorKind::InvalidData,
                    &format!("flip at byte {at}"),
                );
                assert_eq!(fs::read(&p)?, bytes, "flip at byte {at}: the file changed");
            }
        }
        let _ = fs::remove_file(sibling(&p, ".lock"));
    }
    assert!(silent.is_empty(), "flips that went unnoticed: {silent:#?}");
    Ok(())
}
