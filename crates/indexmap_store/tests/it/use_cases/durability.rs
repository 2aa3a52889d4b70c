//! "What survives a crash": a killed process is simulated by leaking the
//! open store (`mem::forget`: no drop, no seal, no userspace cleanup) and
//! copying its log as it is at that moment, which is what the file system
//! holds after a `SIGKILL`.

use std::fs;
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, StoreConfig, TruncationReason};
use test_support::scratch;

use super::{Users, chain, cp_alone, entries, model_entries, reopen_entries};

/// A store that is never closed: what a killed process leaves behind.
fn kill(store: Users) {
    std::mem::forget(store);
}

/// Runs a mixed workload of every kind of mutation on a store at `path`,
/// returning the state after each mutation and the log's length then
/// (index 0: the empty store just created).
/// The state of a store after each mutation of a workload.
type States = Vec<Vec<(String, u64)>>;

fn workload(path: &Path, cfg: StoreConfig) -> (Users, States, Vec<u64>) {
    let mut store: Users = IndexMapStore::open_with(path, cfg).unwrap();
    let mut states = vec![Vec::new()];
    let mut ends = vec![fs::metadata(path).unwrap().len()];
    let mut record = |store: &Users| {
        states.push(entries(store));
        ends.push(fs::metadata(path).unwrap().len());
    };
    for i in 0..12u64 {
        store.insert(format!("k{i}"), i).unwrap();
        record(&store);
    }
    store.insert("k3".into(), 300).unwrap();
    record(&store);
    store.remove("k5").unwrap();
    record(&store);
    store.swap_remove("k0").unwrap();
    record(&store);
    store.modify("k7", |v| *v *= 10).unwrap();
    record(&store);
    store
        .insert_many((20..30).map(|i| (format!("k{i}"), i)))
        .unwrap();
    record(&store);
    let mut batch = Batch::new();
    batch
        .insert("b".into(), 1)
        .shift_remove("k20".into())
        .swap_remove("k1".into());
    store.apply(batch).unwrap();
    record(&store);
    store.move_index(0, 5).unwrap();
    record(&store);
    store.entry("k9".into()).and_modify(|v| *v += 1).unwrap();
    record(&store);
    store.clear().unwrap();
    record(&store);
    store.insert("after-clear".into(), 1).unwrap();
    record(&store);
    (store, states, ends)
}

/// README "What survives a crash": "The process crashes or is killed ...
/// Every mutation that returned `Ok`", with either `sync_on_write`; a copy
/// of the log taken at that moment opens with the last state, order
/// included, and nothing is reported cut.
#[test]
fn a_killed_process_loses_no_ok_mutation() {
    for sync_on_write in [false, true] {
        let (_dir, path) = scratch("killed.log");
        let cfg = StoreConfig {
            sync_on_write,
            ..StoreConfig::default()
        };
        let (store, states, _) = workload(&path, cfg);
        kill(store);
        let copy = cp_alone(&path, "after-kill");
        let recovered: Users = IndexMapStore::open(&copy).unwrap();
        assert_eq!(
            entries(&recovered),
            *states.last().unwrap(),
            "sync_on_write = {sync_on_write}"
        );
        assert_eq!(recovered.recovery_report().truncated, None);
    }
}

/// README: "In every case the recovered store equals the store after some
/// prefix of the mutations, in order ... never a hole, never a reordering",
/// and the recovery row "a torn tail ... Cuts the file back to the last
/// complete record, syncs, reports it in `recovery_report().truncated`":
/// the log of a killed process, cut at every length, opens with exactly the
/// mutations whose records are complete.
#[test]
fn a_log_cut_anywhere_after_a_kill_opens_at_a_prefix() {
    let (dir, path) = scratch("torn.log");
    let (store, states, ends) = workload(&path, StoreConfig::default());
    kill(store);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(*ends.last().unwrap(), bytes.len() as u64);
    let cut_path = dir.path().join("cut").join("torn.log");
    fs::create_dir(cut_path.parent().unwrap()).unwrap();
    let cut_lock = dir.path().join("cut").join("torn.log.lock");
    for len in 0..=bytes.len() as u64 {
        // Each cut is a fresh copy of the log alone: the previous cut's
        // open left a sidecar whose claim would (rightly) refuse a shorter
        // copy of the same log.
        let _ = fs::remove_file(&cut_lock);
        fs::write(&cut_path, &bytes[..len as usize]).unwrap();
        let store: Users = IndexMapStore::open(&cut_path)
            .unwrap_or_else(|e| panic!("cut to {len} bytes: the open failed: {}", chain(&e)));
        if len < ends[0] {
            // Inside the header (a creation cut short) or the schema record
            // the store writes after it: an empty store, which records its
            // schema again.
            assert!(
                store.is_empty(),
                "cut to {len}: a header or schema record cut short is an empty store"
            );
            continue;
        }
        let done = ends.iter().rposition(|&end| end <= len).unwrap();
        assert_eq!(
            entries(&store),
            states[done],
            "cut to {len} bytes: expected the state after mutation {done}"
        );
        let report = store.recovery_report();
        if len == ends[done] {
            assert_eq!(report.truncated, None, "cut to {len}: a clean cut");
        } else {
            let t = report
                .truncated
                .as_ref()
                .unwrap_or_else(|| panic!("cut to {len}: the torn tail is not reported"));
            assert_eq!(t.offset, ends[done], "cut to {len}");
            assert_eq!(t.bytes, len - ends[done], "cut to {len}");
            assert_eq!(t.reason, TruncationReason::TornTail, "cut to {len}");
        }
        assert_eq!(
            fs::metadata(&cut_path).unwrap().len(),
            ends[done],
            "cut to {len}: the open cuts the file back to the last complete record"
        );
        drop(store);
    }
}

/// README "Recovery": a batch "is one record: after any crash it is there
/// whole or not at all": a killed process's log cut inside a batch's
/// record opens without any of the batch.
#[test]
fn a_batch_cut_short_is_not_there_at_all() -> io::Result<()> {
    let (_dir, path) = scratch("batch-kill.log");
    let mut store: Users = IndexMapStore::open(&path)?;
    store.insert("before".into(), 0)?;
    let before = fs::metadata(&path)?.len();
    store.insert_many((0..1000).map(|i| (format!("k{i}"), i)))?;
    let after = fs::metadata(&path)?.len();
    kill(store);
    for len in [before + 1, before + 100, (before + after) / 2, after - 1] {
        let copy = cp_alone(&path, &format!("cut{len}"));
        super::set_len(&copy, len);
        let store: Users = IndexMapStore::open(&copy)?;
        assert_eq!(
            entries(&store),
            vec![("before".to_owned(), 0)],
            "cut to {len}"
        );
    }
    Ok(())
}

/// README: "Single writer ... The store owns its file" and one log file
/// holds everything: a `cp` of the log alone (no lock file) to another
/// directory opens with the same data and order, accepts writes, and
/// leaves the original as it was.
#[test]
fn a_copy_of_the_log_alone_is_a_working_store() -> io::Result<()> {
    let (_dir, path) = scratch("orig.log");
    let mut model = IndexMap::new();
    {
        let mut store: Users = IndexMapStore::open(&path)?;
        for i in (0..50u64).rev() {
            store.insert(format!("k{i}"), i)?;
            model.insert(format!("k{i}"), i);
        }
        store.remove("k25")?;
        model.shift_remove("k25");
        store.close()?;
    }
    let original = fs::read(&path)?;
    let copy = cp_alone(&path, "elsewhere");
    {
        let mut store: Users = IndexMapStore::open(&copy)?;
        assert_eq!(entries(&store), model_entries(&model));
        store.insert("only-in-copy".into(), 1)?;
    }
    assert_eq!(fs::read(&path)?, original, "the original is untouched");
    assert_eq!(reopen_entries::<String, u64>(&path), model_entries(&model));
    model.insert("only-in-copy".into(), 1);
    assert_eq!(reopen_entries::<String, u64>(&copy), model_entries(&model));
    Ok(())
}
