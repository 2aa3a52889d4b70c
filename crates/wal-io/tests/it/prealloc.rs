//! Preallocation (`WalOptions::preallocate`) and the append buffer
//! (`WalOptions::append_buffer`): what the file holds, what a kill or a
//! power loss leaves, and that recovery's verdicts on damage are those of a
//! log without preallocated space.

use std::sync::Arc;

use test_support::scratch;
use wal_io::sim::{CrashVariant, SimStorage};
use wal_io::{FsStorage, RecoveryReport, Storage, TruncationReason, Wal, WalError, WalOptions};

const LOG: &str = "pre.log";
const CHUNK: u64 = 4096;

fn prealloc() -> WalOptions {
    WalOptions {
        preallocate: Some(CHUNK),
        ..WalOptions::default()
    }
}

fn buffered(cap: usize) -> WalOptions {
    WalOptions {
        append_buffer: cap,
        ..WalOptions::default()
    }
}

/// Opens the log on `sim` with `opts`; returns it, its payloads and the
/// report.
fn open(
    sim: &SimStorage,
    opts: &WalOptions,
) -> Result<(Wal, Vec<Vec<u8>>, RecoveryReport), WalError> {
    let mut payloads = Vec::new();
    let storage: Arc<dyn Storage> = Arc::new(sim.clone());
    let (wal, report) = Wal::open(storage, LOG, opts.clone(), |r| {
        payloads.push(r.payload.to_vec());
        Ok(())
    })?;
    Ok((wal, payloads, report))
}

fn payload(i: usize) -> Vec<u8> {
    format!("record {i} {}", "x".repeat(40 + i % 7)).into_bytes()
}

/// What a killed process leaves: every write it made, nothing locked.
fn killed(sim: &SimStorage) -> SimStorage {
    sim.snapshot()
}

#[test]
fn a_preallocated_log_grows_in_chunks_and_a_clean_close_trims_it() -> Result<(), WalError> {
    let (_dir, path) = scratch("pre.log");
    let opts = WalOptions {
        preallocate: Some(64 << 10),
        ..WalOptions::default()
    };
    let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, opts.clone(), |_| Ok(()))?;
    for i in 0..10 {
        wal.append(&payload(i))?;
        wal.sync()?;
    }
    let bytes = wal.stats().bytes;
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        64 << 10,
        "one chunk"
    );
    assert!(bytes < 64 << 10);
    wal.close()?;
    let closed_len = std::fs::metadata(&path).unwrap().len();
    assert!(
        closed_len > bytes && closed_len < bytes + 64,
        "the file ends with its seal: {closed_len}"
    );
    let mut n = 0;
    let (_wal, report) = Wal::open(Arc::new(FsStorage::new()), &path, opts, |r| {
        assert_eq!(r.payload, payload(n));
        n += 1;
        Ok(())
    })?;
    assert_eq!((n, report.records, report.preallocated), (10, 10, 0));
    assert_eq!(report.truncated, None);
    assert_eq!(report.bytes, closed_len);
    Ok(())
}

#[test]
fn the_zeros_a_killed_writer_left_are_preallocated_space() -> Result<(), WalError> {
    let sim = SimStorage::new(1);
    let (mut wal, _, _) = open(&sim, &prealloc())?;
    for i in 0..5 {
        wal.append(&payload(i))?;
    }
    wal.sync()?;
    let bytes = wal.stats().bytes;
    for variant in [
        None,
        Some(CrashVariant::LoseUnsynced),
        Some(CrashVariant::LengthWithoutData),
    ] {
        let image = killed(&sim);
        if let Some(v) = variant {
            image.crash(v);
        }
        assert_eq!(image.read_file(LOG).map(|f| f.len() as u64), Some(CHUNK));
        let (mut reopened, records, report) = open(&image, &prealloc())?;
        assert_eq!(records.len(), 5, "{variant:?}");
        assert_eq!(report.truncated, None, "{variant:?}");
        assert_eq!(report.preallocated, CHUNK - bytes, "{variant:?}");
        assert_eq!(report.bytes, bytes);
        // The space is used by later appends; a clean close trims it.
        reopened.append(b"after")?;
        reopened.close()?;
        let (_w, records, report) = open(&image, &prealloc())?;
        assert_eq!(records.len(), 6);
        assert_eq!(report.preallocated, 0);
        // Without the option, the same zeros are cut off as a torn tail.
        let image = killed(&sim);
        let (_w, records, report) = open(&image, &WalOptions::default())?;
        assert_eq!(records.len(), 5);
        let cut = report.truncated.expect("the zeros were cut");
        assert_eq!(
            (cut.offset, cut.bytes, cut.reason),
            (bytes, CHUNK - bytes, TruncationReason::TornTail)
        );
    }
    drop(wal);
    Ok(())
}

#[test]
fn a_crash_after_the_allocation_and_before_any_write_loses_nothing_synced() -> Result<(), WalError>
{
    for variant in CrashVariant::ALL {
        let sim = SimStorage::new(2);
        let (mut wal, _, _) = open(&sim, &prealloc())?;
        wal.append(b"synced")?;
        wal.sync()?;
        // The next chunk: this record does not fit in the first.
        let big = vec![7u8; CHUNK as usize];
        let before = sim.ops();
        sim.crash_at(before + 1); // the allocation runs, its write does not
        assert!(wal.append(&big).is_err());
        drop(wal);
        sim.crash(variant);
        let (_w, records, report) = open(&sim, &prealloc())?;
        assert_eq!(records, vec![b"synced".to_vec()], "{variant}");
        assert!(
            report.truncated.is_none()
                || report
                    .truncated
                    .as_ref()
                    .is_some_and(|t| t.reason == TruncationReason::TornTail),
            "{variant}: {report:?}"
        );
    }
    Ok(())
}

/// A log on `sim` with records `0..n` synced one by one in a preallocated
/// file; returns the frames' offsets (and the end of the last).
fn synced_log(sim: &SimStorage, n: usize) -> Result<(Wal, Vec<u64>), WalError> {
    let (mut wal, _, _) = open(sim, &prealloc())?;
    let mut offsets = vec![wal.stats().bytes];
    for i in 0..n {
        wal.append(&payload(i))?;
        wal.sync()?;
        offsets.push(wal.stats().bytes);
    }
    Ok((wal, offsets))
}

/// The log's image after a kill, with bytes `range` zeroed.
fn zeroed(sim: &SimStorage, range: std::ops::Range<u64>) -> SimStorage {
    let image = killed(sim);
    let mut bytes = image.read_file(LOG).expect("the log exists");
    let (lo, hi) = (range.start as usize, range.end as usize);
    bytes[lo..hi].fill(0);
    image.write_file(LOG, &bytes).unwrap();
    image
}

#[test]
fn a_torn_record_followed_by_zeros_is_still_a_torn_tail() -> Result<(), WalError> {
    let sim = SimStorage::new(3);
    let (mut wal, offsets) = synced_log(&sim, 3)?;
    wal.append(&payload(3))?; // unsynced, its second half never written
    let end = wal.stats().bytes;
    let image = zeroed(&sim, (offsets[3] + 14)..end);
    let (_w, records, report) = open(&image, &prealloc())?;
    assert_eq!(records.len(), 3);
    let cut = report.truncated.expect("the torn record was cut");
    assert_eq!(cut.reason, TruncationReason::TornTail);
    assert_eq!(cut.offset, offsets[3]);
    assert_eq!(
        report.preallocated, 0,
        "a torn record is not preallocated space"
    );
    drop(wal);
    Ok(())
}

#[test]
fn zeros_that_a_later_record_vouches_for_are_corruption() -> Result<(), WalError> {
    let sim = SimStorage::new(4);
    let (wal, offsets) = synced_log(&sim, 4)?;
    // Record 1 was synced before record 2 was written, whose watermark
    // says so: zeros in its place are damage, found past the zero run.
    let image = zeroed(&sim, offsets[1]..offsets[2]);
    let err = open(&image, &prealloc()).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, WalError::Corrupt { offset, .. } if offset == offsets[1]),
        "{err:?}"
    );
    drop(wal);
    Ok(())
}

#[test]
fn zeros_where_the_claim_vouched_for_records_are_a_truncation() -> Result<(), WalError> {
    let sim = SimStorage::new(5);
    let (wal, offsets) = synced_log(&sim, 3)?;
    wal.close()?; // the sidecar's claim now vouches for all three
    // The last record and the seal read back as zeros in a file as long as
    // a preallocated one.
    let mut bytes = sim.read_file(LOG).expect("the log exists");
    bytes.truncate(offsets[2] as usize);
    bytes.resize(CHUNK as usize, 0);
    sim.write_file(LOG, &bytes).unwrap();
    let err = open(&sim, &prealloc()).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, WalError::Truncated { vouched_len, .. } if vouched_len == offsets[3]),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn buffered_appends_reach_the_os_when_the_buffer_fills_or_on_flush() -> Result<(), WalError> {
    let sim = SimStorage::new(6);
    let (mut wal, _, _) = open(&sim, &buffered(1024))?;
    let header_only = sim.read_file(LOG).unwrap().len() as u64;
    for i in 0..3 {
        wal.append(&payload(i))?;
    }
    let stats = wal.stats();
    assert_eq!(
        sim.read_file(LOG).unwrap().len() as u64,
        header_only,
        "still buffered"
    );
    assert_eq!(stats.buffered_bytes, stats.bytes - header_only);
    assert_eq!(stats.records, 3);
    // A kill now loses them.
    let (_w, records, _) = open(&killed(&sim), &buffered(1024))?;
    assert!(records.is_empty());
    wal.flush()?;
    assert_eq!(wal.stats().buffered_bytes, 0);
    assert_eq!(sim.read_file(LOG).unwrap().len() as u64, stats.bytes);
    let (_w, records, _) = open(&killed(&sim), &buffered(1024))?;
    assert_eq!(records.len(), 3);
    // Filling the buffer writes what it held; a record as large as the
    // buffer is written at once.
    for i in 3..40 {
        wal.append(&payload(i))?;
    }
    assert!(wal.stats().buffered_bytes < 1024);
    let (_w, records, _) = open(&killed(&sim), &buffered(1024))?;
    assert!(
        records.len() > 20,
        "{} records reached the OS",
        records.len()
    );
    wal.append(&vec![1u8; 2048])?;
    assert_eq!(wal.stats().buffered_bytes, 0);
    let (_w, records, _) = open(&killed(&sim), &buffered(1024))?;
    assert_eq!(records.len(), 41);
    Ok(())
}

#[test]
fn a_sync_flushes_the_buffer_and_a_drop_flushes_and_seals() -> Result<(), WalError> {
    let sim = SimStorage::new(7);
    let (mut wal, _, _) = open(&sim, &buffered(1 << 16))?;
    wal.append(b"a")?;
    wal.sync()?;
    let image = sim.snapshot();
    image.crash(CrashVariant::LoseUnsynced);
    let (_w, records, _) = open(&image, &buffered(1 << 16))?;
    assert_eq!(records, vec![b"a".to_vec()]);
    wal.append(b"b")?;
    wal.append_many([&b"c"[..], b"d"])?;
    drop(wal);
    let (_w, records, report) = open(&sim, &buffered(1 << 16))?;
    assert_eq!(records.len(), 4);
    assert_eq!(report.truncated, None);
    Ok(())
}

#[test]
fn preallocation_and_the_buffer_together() -> Result<(), WalError> {
    let sim = SimStorage::new(8);
    let opts = WalOptions {
        preallocate: Some(CHUNK),
        append_buffer: 512,
        ..WalOptions::default()
    };
    let (mut wal, _, _) = open(&sim, &opts)?;
    for i in 0..200 {
        wal.append(&payload(i))?;
        if i % 50 == 49 {
            wal.sync()?;
        }
    }
    let image = sim.snapshot();
    image.crash(CrashVariant::LoseUnsynced);
    let (_w, records, report) = open(&image, &opts)?;
    assert_eq!(records.len(), 200);
    assert_eq!(report.truncated, None);
    assert_eq!(sim.read_file(LOG).unwrap().len() as u64 % CHUNK, 0);
    wal.close()?;
    let (_w, records, report) = open(&sim, &opts)?;
    assert_eq!((records.len(), report.preallocated), (200, 0));
    Ok(())
}
