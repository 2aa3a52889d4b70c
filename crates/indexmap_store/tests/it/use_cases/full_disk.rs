//! A full disk, for real: a 1 MiB tmpfs (needs root; skipped with a
//! message otherwise). README "What survives a crash": "When a write, sync
//! or compaction fails (disk full, I/O error), the call returns the error
//! ...: what reached the disk is unknown until a reopen re-reads it", and
//! the summary: a torn tail "never bricks the store".

use std::fs;
use std::io;
use std::path::Path;
use std::process::Command;

use indexmap::IndexMap;
use indexmap_store::{Durability, IndexMapStore, OpenOptions, StoreConfig};

use super::{chain, entries, model_entries};

/// A tmpfs mounted on a fresh temporary directory, unmounted on drop.
struct Tmpfs {
    dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=`), or says why not.
    fn mount(size: &str) -> Result<Self, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| format!("cannot run `id -u`: {e}"))?;
        let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
        if uid != "0" {
            return Err(format!("not root (uid {uid}): cannot mount a tmpfs"));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().unwrap().path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = Command::new("umount").arg(dir.path()).status();
            drop(dir);
        }
    }
}

type Store = IndexMapStore<String, (u64, Vec<u8>)>;

/// What the workload did last.
#[derive(Debug)]
enum Step {
    Insert(String),
    Overwrite(String),
    Modify,
}

/// Fill the disk with new keys, then overwrites (so that an automatic
/// compaction becomes due when the disk cannot hold its new log) and
/// `modify(|v| v.0 += 1)` on a counter, until a call fails. Then:
///
/// - the failure is `StorageFull`, and every call that returned `Ok` is
///   readable in memory;
/// - after drop and reopen (the open must succeed on the full disk), every
///   `Ok` mutation is there, in order, the counter's `modify`s applied
///   exactly once each, and the failed call is not there: an `Err` is never
///   returned for a mutation that was logged and applied (say, because the
///   compaction after it failed);
/// - once space is freed, the store accepts writes again (after a reopen
///   if needed) and keeps them.
#[test]
fn a_full_disk_loses_nothing_and_does_not_brick_the_store() {
    let fs_ = match Tmpfs::mount("1m") {
        Ok(t) => t,
        Err(why) => {
            eprintln!("SKIPPED a_full_disk_loses_nothing_and_does_not_brick_the_store: {why}");
            return;
        }
    };
    let filler = fs_.path().join("filler");
    fs::write(&filler, vec![0xEEu8; 192 * 1024]).unwrap();
    let path = fs_.path().join("data.log");
    let cfg = StoreConfig {
        min_compact_bytes: 64 * 1024,
        ..StoreConfig::default()
    };
    let mut store: Store = IndexMapStore::open_with(&path, cfg).unwrap();
    let mut model: IndexMap<String, (u64, Vec<u8>)> = IndexMap::new();
    store.insert("counter".into(), (0, Vec::new())).unwrap();
    model.insert("counter".into(), (0, Vec::new()));

    let mut failure = None;
    for i in 0u64..200_000 {
        let payload = vec![(i % 251) as u8; 100];
        // First new keys, until the live data is about 300 KiB; then only
        // overwrites and modifies: the log grows to twice the live data,
        // and the compaction that is then due needs 300 KiB more than the
        // disk has left, so it fails after a mutation was logged.
        let loading = fs::metadata(&path).unwrap().len() < 300 * 1024;
        let (step, result) = match i % 4 {
            0 | 1 if loading => {
                let k = format!("k{i:07}");
                let r = store.insert(k.clone(), (i, payload.clone())).map(|_| ());
                if r.is_ok() {
                    model.insert(k.clone(), (i, payload));
                }
                (Step::Insert(k), r)
            }
            0..=2 => {
                let (k, _) = model.get_index((i as usize * 7) % model.len()).unwrap();
                let k = k.clone();
                let r = store.insert(k.clone(), (i, payload.clone())).map(|_| ());
                if r.is_ok() {
                    model.insert(k.clone(), (i, payload));
                }
                (Step::Overwrite(k), r)
            }
            _ => {
                let r = store.modify("counter", |v| v.0 += 1);
                if let Ok(found) = &r {
                    assert_eq!(*found, Some(()));
                    model.get_mut("counter").unwrap().0 += 1;
                }
                (Step::Modify, r.map(|_| ()))
            }
        };
        if let Err(e) = result {
            failure = Some((i, step, e));
            break;
        }
    }
    let (at, step, err) = failure.expect("1 MiB never filled up");
    assert_eq!(
        err.kind(),
        io::ErrorKind::StorageFull,
        "call {at} ({step:?}) failed with {}",
        chain(&err)
    );
    super::store_error(&err);
    let failed_key = match &step {
        Step::Insert(k) | Step::Overwrite(k) => k.clone(),
        Step::Modify => "counter".to_owned(),
    };
    for (k, v) in &model {
        if *k != failed_key {
            assert_eq!(
                store.get(k),
                Some(v),
                "key {k}, Ok before the disk filled, in memory"
            );
        }
    }
    drop(store);

    let store: Store = IndexMapStore::open_with(&path, cfg).unwrap_or_else(|e| {
        panic!(
            "the store is bricked: reopening on the full disk after call {at} ({step:?}) \
             failed: {}",
            chain(&e)
        )
    });
    if let Step::Insert(k) = &step {
        assert!(
            !store.contains_key(k),
            "call {at} returned Err, yet its insert of {k} is in the log"
        );
    }
    assert_eq!(
        store.get("counter").map(|v| v.0),
        Some(model["counter"].0),
        "each modify that returned Ok applied exactly once (failed call {at}: {step:?})"
    );
    let got = entries(&store);
    let want = model_entries(&model);
    assert_eq!(
        got.len(),
        want.len(),
        "after the reopen (failed call {at}: {step:?})"
    );
    assert!(
        got == want,
        "after the reopen, the store differs from the Ok calls (failed call {at}: {step:?})"
    );
    drop(store);

    fs::remove_file(&filler).unwrap();
    let mut store: Store = IndexMapStore::open_with(&path, cfg).unwrap();
    if store.insert("after-0".into(), (0, vec![1; 10])).is_err() {
        drop(store);
        store = IndexMapStore::open_with(&path, cfg).unwrap();
    }
    for i in 0..20u64 {
        let k = format!("after-{i}");
        store
            .insert(k.clone(), (i, vec![1; 10]))
            .unwrap_or_else(|e| panic!("space freed, yet {k} fails: {}", chain(&e)));
        model.insert(k, (i, vec![1; 10]));
    }
    store.close().unwrap();
    let store: Store = IndexMapStore::open_with(&path, cfg).unwrap();
    assert!(
        entries(&store) == model_entries(&model),
        "after freeing space, the writes since are not all there"
    );
}

/// Inserts 1000-byte values under the keys 0, 1, 2… until an insert
/// fails; returns how many returned `Ok`, and the error.
fn insert_until_full(store: &mut IndexMapStore<u64, String>) -> (u64, io::Error) {
    let mut acked = 0;
    loop {
        match store.insert(acked, "x".repeat(1000)) {
            Ok(_) => acked += 1,
            Err(e) => return (acked, e),
        }
    }
}

/// Inserts 1000-byte values into a fresh store on a fresh 2 MiB tmpfs
/// until one fails; returns how many returned `Ok`, after checking the
/// failure is `StorageFull` and a reopen has every one of them.
fn inserts_until_full(preallocate: Option<u64>) -> Result<u64, String> {
    let fs_ = Tmpfs::mount("2m")?;
    let path = fs_.path().join("data.log");
    let opts = OpenOptions::new().preallocate(preallocate);
    let mut store: IndexMapStore<u64, String> = opts.open(&path).unwrap();
    let (acked, err) = insert_until_full(&mut store);
    assert_eq!(
        err.kind(),
        io::ErrorKind::StorageFull,
        "preallocate {preallocate:?}: {}",
        chain(&err)
    );
    store.close().unwrap();
    let store: IndexMapStore<u64, String> = opts.open(&path).unwrap();
    assert_eq!(store.len() as u64, acked, "preallocate {preallocate:?}");
    Ok(acked)
}

/// README "What survives a crash": "A write refused for lack of space ...
/// keeps accepting writes once there is room", and `preallocate` is
/// recommended with 1 MiB chunks. A store that preallocates must accept
/// every record the disk has room for, not refuse once the disk has no
/// room for a whole chunk of zeros: on a 2 MiB disk, a 1 MiB chunk used
/// to stop it at half the records an appending store took.
#[test]
fn a_preallocated_store_fills_the_disk_as_far_as_an_appending_one() {
    let plain = match inserts_until_full(None) {
        Ok(n) => n,
        Err(why) => {
            eprintln!(
                "SKIPPED a_preallocated_store_fills_the_disk_as_far_as_an_appending_one: {why}"
            );
            return;
        }
    };
    for chunk in [64 << 10, 1 << 20] {
        let preallocated = inserts_until_full(Some(chunk)).unwrap();
        assert!(
            preallocated + 2 >= plain,
            "with {chunk}-byte chunks the store refused writes after {preallocated} \
             inserts, where an appending store took {plain}: the disk had room"
        );
    }
}

/// Inserts 1000-byte values under `durability` into a fresh store on a
/// fresh 3 MiB tmpfs that a 1 MiB file fills a third of, until one fails
/// with `StorageFull`. Then either drops the store on the full disk, or
/// deletes the file and flushes. Returns how many inserts returned `Ok`
/// and how many the reopened store holds, after checking they are the
/// first ones, in order.
fn fill_then(durability: Durability, free_space: bool) -> Result<(u64, u64), String> {
    let fs_ = Tmpfs::mount("3m")?;
    let filler = fs_.path().join("filler");
    fs::write(&filler, vec![0xEEu8; 1 << 20]).unwrap();
    let path = fs_.path().join("data.log");
    let opts = OpenOptions::new().durability(durability);
    let mut store: IndexMapStore<u64, String> = opts.open(&path).unwrap();
    let (acked, err) = insert_until_full(&mut store);
    assert_eq!(err.kind(), io::ErrorKind::StorageFull, "{}", chain(&err));
    assert_eq!(
        store.len() as u64,
        acked,
        "the refused insert is not in the map"
    );
    if free_space {
        fs::remove_file(&filler).unwrap();
        store
            .flush()
            .unwrap_or_else(|e| panic!("space freed, yet flush fails: {}", chain(&e)));
        store.close().unwrap();
    } else {
        drop(store);
    }
    let store: IndexMapStore<u64, String> = opts.open(&path).unwrap();
    for (i, (k, v)) in store.iter().enumerate() {
        assert_eq!(
            (*k, v.len()),
            (i as u64, 1000),
            "the reopened store holds a prefix"
        );
    }
    Ok((acked, store.len() as u64))
}

/// README "What survives a crash": under `Buffered`, "a flush of the buffer
/// that meets a full disk writes the whole records that fit and keeps the
/// rest buffered". The buffer used to be written all or nothing: once the
/// disk had less room than the buffer held, nothing more reached it, and
/// a drop lost up to a whole buffer (about 1000 inserts here) that the
/// disk had room for most of.
#[test]
fn a_buffered_store_on_a_full_disk_writes_what_fits_and_the_rest_later() {
    let (_, appending) = match fill_then(Durability::OnFlush, false) {
        Ok(counts) => counts,
        Err(why) => {
            eprintln!(
                "SKIPPED a_buffered_store_on_a_full_disk_writes_what_fits_and_the_rest_later: {why}"
            );
            return;
        }
    };
    let (acked, kept) = fill_then(Durability::Buffered, false).unwrap();
    assert!(acked >= kept, "{kept} kept of {acked} inserts");
    assert!(
        kept + 2 >= appending,
        "dropped on a full disk, the buffered store kept {kept} of {acked} inserts, \
         where an appending store filled the same disk with {appending}"
    );
    let (acked, kept) = fill_then(Durability::Buffered, true).unwrap();
    assert_eq!(kept, acked, "once there was room, flush wrote every insert");
}
