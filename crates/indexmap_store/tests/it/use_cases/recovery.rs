//! "Recovery: what `open` does with what it finds", one test per row, plus
//! the stale compaction file and the sealed (closed) store.

use std::fs;
use std::io;
use std::path::Path;

use indexmap_store::WalError;
use indexmap_store::{IndexMapStore, OpenOptions, StoreError, TruncationReason};
use test_support::{scratch, sibling};

use super::{
    Users, assert_refused, chain, cp_alone, entries, frames, header_len, open_fails,
    reopen_entries, set_len, snapshot,
};

/// A closed store of `n` single inserts; returns its entries.
fn closed_store(path: &Path, n: u64) -> Vec<(String, u64)> {
    let mut store: Users = IndexMapStore::open(path).unwrap();
    for i in 0..n {
        store.insert(format!("k{i}"), i * 3).unwrap();
    }
    let want = entries(&store);
    store.close().unwrap();
    want
}

/// Recovery row 1: "nothing (missing or empty), or the first bytes of a
/// header (a creation cut short): Creates a new, empty store", which then
/// works like any other.
#[test]
fn missing_empty_or_half_created_files_open_as_new_stores() -> io::Result<()> {
    let (dir, path) = scratch("new.log");
    let store: Users = IndexMapStore::open(&path)?;
    assert!(store.is_empty());
    assert!(store.recovery_report().created, "a missing file is created");
    store.close()?;

    let header = {
        let (_d, p) = scratch("h.log");
        closed_store(&p, 3);
        fs::read(&p)?[..header_len() as usize].to_vec()
    };
    for len in 0..header_len() as usize {
        let p = dir.path().join(format!("prefix{len}.log"));
        fs::write(&p, &header[..len])?;
        let mut store: Users = IndexMapStore::open(&p)
            .unwrap_or_else(|e| panic!("a header cut to {len} bytes: {}", chain(&e)));
        assert!(store.is_empty(), "header cut to {len} bytes");
        assert!(
            store.recovery_report().initialized,
            "header cut to {len} bytes"
        );
        store.insert("works".into(), len as u64)?;
        drop(store);
        assert_eq!(
            reopen_entries::<String, u64>(&p),
            vec![("works".to_owned(), len as u64)],
            "header cut to {len} bytes"
        );
    }
    Ok(())
}

/// Recovery row 2: "a torn tail ... Cuts the file back to the last complete
/// record, syncs, reports it in `recovery_report().truncated`, opens": a
/// partial frame, zeros, or garbage after the end of a closed store are
/// cut, nothing of the store is lost, and it keeps working.
#[test]
fn a_torn_tail_after_a_closed_store_is_cut_and_reported() -> io::Result<()> {
    let (_dir, path) = scratch("tail.log");
    let want = closed_store(&path, 10);
    let clean = fs::read(&path)?;
    let first = frames(&clean)[0];
    let partial_frame = clean[first.offset as usize..first.offset as usize + 7].to_vec();
    for (what, tail) in [
        ("a partial frame", partial_frame),
        ("zeros", vec![0u8; 100]),
        ("one byte", vec![0xA5]),
        ("garbage", b"\x01\x02garbage".to_vec()),
    ] {
        let p = cp_alone(&path, what);
        let mut bytes = clean.clone();
        bytes.extend_from_slice(&tail);
        fs::write(&p, &bytes)?;
        let mut store: Users =
            IndexMapStore::open(&p).unwrap_or_else(|e| panic!("{what} appended: {}", chain(&e)));
        assert_eq!(entries(&store), want, "{what} appended");
        let t = store
            .recovery_report()
            .truncated
            .clone()
            .unwrap_or_else(|| panic!("{what} appended: the cut is not reported"));
        assert_eq!(t.offset, clean.len() as u64, "{what}");
        assert_eq!(t.bytes, tail.len() as u64, "{what}");
        assert_eq!(t.reason, TruncationReason::TornTail, "{what}");
        assert_eq!(
            fs::metadata(&p)?.len(),
            clean.len() as u64,
            "{what}: cut back"
        );
        store.insert("more".into(), 1)?;
        drop(store);
        let mut more = want.clone();
        more.push(("more".into(), 1));
        assert_eq!(reopen_entries::<String, u64>(&p), more, "{what}");
    }
    Ok(())
}

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

/// README: "the seal written when the store is closed (and at the end of
/// every compacted log) ... So damage to the last records of a store that
/// was closed is refused as corruption". Eight entries, `compact()`,
/// `close()`, then 20 bytes cut off the end: the open must fail with
/// `InvalidData`, change no byte, and salvage must keep the records of the
/// frames before the damage and copy every byte from it on aside.
#[test]
fn a_truncated_closed_store_is_refused_not_emptied() -> io::Result<()> {
    let (dir, path) = scratch("cut.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    for i in 0..8 {
        store.insert(format!("k{i}"), i)?;
    }
    let want = entries(&store);
    store.compact()?;
    store.close()?;
    let len = fs::metadata(&path)?.len();
    set_len(&path, len - 20);
    let cut = fs::read(&path)?;
    let before = snapshot(dir.path());

    let err = open_fails(
        Users::open(&path),
        "20 bytes cut off a closed, compacted store",
    );
    assert_refused(
        &err,
        io::ErrorKind::InvalidData,
        "20 bytes cut off a closed store",
    );
    assert_eq!(fs::read(&path)?, cut, "the failed open changed the log");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the failed open changed the directory"
    );

    let store: Users = OpenOptions::new()
        .salvage(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("salvage: {}", chain(&e)));
    // The compaction wrote all eight records into one checksummed batch
    // frame, which the cut damaged: no record of it can be trusted, so
    // salvage keeps none, and copies the frame's bytes aside.
    let got = entries(&store);
    assert!(
        got.is_empty() && want.len() == 8,
        "salvage keeps only records of intact frames: {got:?}"
    );
    let Some(indexmap_store::Truncation {
        offset,
        reason: indexmap_store::TruncationReason::Salvaged { copy },
        ..
    }) = store.recovery_report().truncated.clone()
    else {
        panic!(
            "salvage must report what it cut: {:?}",
            store.recovery_report()
        );
    };
    assert_eq!(
        fs::read(&copy)?,
        cut[usize::try_from(offset).unwrap()..],
        "the salvage copy holds every byte from the damage on"
    );
    Ok(())
}

/// The same promise, swept: closed stores of several shapes (single
/// inserts, one batch, compacted, emptied by `clear`), cut by every length
/// from 1 byte to the whole body after the header. Each open either
/// returns exactly the store's entries or fails with `InvalidData` leaving
/// the file as it was; silent losses are counted and must be 0. (A store
/// that was killed rather than closed has no seal, and a cut there is a
/// torn tail: see `durability::a_log_cut_anywhere_after_a_kill_opens_at_a_prefix`.)
#[test]
fn no_cut_of_a_closed_store_loses_data_silently() -> io::Result<()> {
    type Shape = fn(&mut Users) -> io::Result<()>;
    let shapes: [(&str, Shape); 4] = [
        ("single inserts", |s| {
            for i in 0..8 {
                s.insert(format!("k{i}"), i)?;
            }
            Ok(())
        }),
        ("one batch", |s| {
            s.insert_many((0..8).map(|i| (format!("k{i}"), i)))
        }),
        ("compacted", |s| {
            for i in 0..8 {
                s.insert(format!("k{i}"), i)?;
                s.insert(format!("k{i}"), i + 100)?;
            }
            s.compact()
        }),
        ("emptied", |s| {
            for i in 0..4 {
                s.insert(format!("k{i}"), i)?;
            }
            s.clear()
        }),
    ];
    let mut silent = Vec::new();
    for (shape, build) in shapes {
        let (dir, path) = scratch("shape.log");
        let mut store: Users = IndexMapStore::open(&path)?;
        build(&mut store)?;
        let want = entries(&store);
        store.close()?;
        let clean = fs::read(&path)?;
        let p = dir.path().join("cut").join("shape.log");
        fs::create_dir(p.parent().unwrap())?;
        for cut in 1..=clean.len() - header_len() as usize {
            let bytes = &clean[..clean.len() - cut];
            fs::write(&p, bytes)?;
            match Users::open(&p) {
                Ok(store) if entries(&store) == want => {}
                Ok(store) => silent.push(format!(
                    "{shape}: {cut} bytes cut: opened with {} of {} entries",
                    store.len(),
                    want.len()
                )),
                Err(e) => {
                    assert_refused(
                        &e,
                        io::ErrorKind::InvalidData,
                        &format!("{shape}, cut {cut}"),
                    );
                    assert_eq!(fs::read(&p)?, bytes, "{shape}, cut {cut}: the file changed");
                }
            }
        }
    }
    assert!(
        silent.is_empty(),
        "{} cuts of closed stores lost data silently, e.g. {:#?}",
        silent.len(),
        &silent[..silent.len().min(8)]
    );
    Ok(())
}

/// README: "A stale `<path>.compact.tmp` left by an interrupted compaction
/// is removed when it is recognisably ours (empty, zeros, or starting with
/// the log's magic byte)."
#[test]
fn a_stale_compaction_file_of_ours_is_removed() -> io::Result<()> {
    let (_dir, path) = scratch("data.log");
    let want = closed_store(&path, 5);
    let tmp = sibling(&path, ".compact.tmp");
    let magic_start = fs::read(&path)?[..30].to_vec();
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("zeros", vec![0u8; 4096]),
        ("a log's first bytes", magic_start),
    ] {
        fs::write(&tmp, &bytes)?;
        let mut store: Users = IndexMapStore::open(&path)?;
        assert!(!tmp.exists(), "{what}: the stale file is still there");
        assert_eq!(
            store.recovery_report().removed_temp.as_deref(),
            Some(tmp.as_path()),
            "{what}"
        );
        assert_eq!(entries(&store), want, "{what}");
        store.compact()?;
    }
    Ok(())
}

/// README: "Any other file at that path is renamed, bytes intact, to
/// `<path>.compact.tmp.unrecognized` and reported in
/// `recovery_report().set_aside_temp`: neither a crash artifact nor a
/// stranger's file can block the store, and no byte of it is lost" - not
/// even when a second stranger's file turns up later.
#[test]
fn a_foreign_compaction_file_is_set_aside_intact() -> io::Result<()> {
    let (dir, path) = scratch("data.log");
    let want = closed_store(&path, 5);
    let tmp = sibling(&path, ".compact.tmp");
    let aside = sibling(&path, ".compact.tmp.unrecognized");
    let first = b"my precious notes, not a log".to_vec();
    fs::write(&tmp, &first)?;
    let mut store: Users = IndexMapStore::open(&path)?;
    assert_eq!(
        store.recovery_report().set_aside_temp.as_deref(),
        Some(aside.as_path())
    );
    assert_eq!(fs::read(&aside)?, first);
    assert!(!tmp.exists());
    assert_eq!(entries(&store), want);
    store.compact()?;
    store.insert("x".into(), 1)?;
    drop(store);

    let second = b"another stranger's file".to_vec();
    fs::write(&tmp, &second)?;
    let store: Users = IndexMapStore::open(&path)?;
    assert!(store.recovery_report().set_aside_temp.is_some());
    drop(store);
    let contents: Vec<Vec<u8>> = snapshot(dir.path()).into_values().collect();
    assert!(
        contents.contains(&first),
        "the first stranger's file was lost"
    );
    assert!(
        contents.contains(&second),
        "the second stranger's file was lost"
    );
    Ok(())
}
