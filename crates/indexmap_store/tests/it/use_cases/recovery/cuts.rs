//! Recovery of files cut short or with bytes after their end: nothing or
//! part of a header opens as a new store (row 1), a torn tail after a
//! closed store is cut and reported (row 2), and a closed store cut by any
//! length is refused, never silently emptied.

use std::fs;
use std::io;

use indexmap_store::{IndexMapStore, OpenOptions, TruncationReason};
use test_support::scratch;

use super::closed_store;
use crate::use_cases::{
    Users, assert_refused, chain, cp_alone, entries, frames, header_len, open_fails,
    reopen_entries, set_len, snapshot,
};

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
