//! `wal/replay`: open-with-replay of a log of 128-byte records, one frame
//! each, from the page cache, against reading the file in 1 MiB chunks and
//! hashing each with `crc32fast` (target ≥ 0.5 of its throughput), with the
//! replay's peak memory; and the building of that log.

use std::cell::OnceCell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use test_support::bench::{Group, Recorder, Scale, Target, selected};
use wal_format::{DEFAULT_MAX_RECORD_LEN, FRAME_OVERHEAD, FileHeader, HEADER_LEN, encode_record};
use wal_io::{FsStorage, Wal, WalError, WalOptions};

use crate::{PAYLOAD, open_wal, payload, remove};

/// Records per write while building the replay log.
const BUILD_CHUNK: u64 = 4096;

/// The size of the log [`build_log`] builds for `target` bytes: whole
/// chunks of [`BUILD_CHUNK`] records, up to at least `target`.
fn log_size(target: u64) -> (u64, u64) {
    let frame = (FRAME_OVERHEAD + PAYLOAD) as u64;
    let chunk = BUILD_CHUNK * frame;
    let chunks = (target - HEADER_LEN as u64).div_ceil(chunk);
    (chunks * BUILD_CHUNK, HEADER_LEN as u64 + chunks * chunk)
}

/// A synced log of 128-byte records of at least `target` bytes, one record
/// frame each, as `Wal::append` writes them: the hardest case for replay
/// (`append_many` would pack them into batch frames, which replay verifies
/// and splits faster). Returns its record count and size.
fn build_log(path: &Path, target: u64) -> (u64, u64) {
    let start = Instant::now();
    let payloads: Vec<Vec<u8>> = (0..BUILD_CHUNK).map(|i| payload(i, PAYLOAD)).collect();
    let header = FileHeader::new(&WalOptions::default().app_tag, 0, 0);
    let mut file = BufWriter::new(File::create(path).unwrap());
    file.write_all(&header.encode()).unwrap();
    let (mut bytes, mut seq, mut frames) = (HEADER_LEN as u64, 0, Vec::new());
    while bytes < target {
        frames.clear();
        for p in &payloads {
            encode_record(&mut frames, seq, seq, p, DEFAULT_MAX_RECORD_LEN).unwrap();
            seq += 1;
        }
        file.write_all(&frames).unwrap();
        bytes += frames.len() as u64;
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let mut wal = open_wal(path);
    wal.sync().unwrap();
    let stats = wal.stats();
    assert_eq!((stats.records, stats.bytes), log_size(target));
    eprintln!(
        "replay: built a log of {} records, {:.1} MiB, in {:.1?}",
        stats.records,
        stats.bytes as f64 / (1 << 20) as f64,
        start.elapsed()
    );
    (stats.records, stats.bytes)
}

/// A field of `/proc/self/status` (`VmRSS`, `VmHWM`), in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One open-with-replay of the log, given up (through the replay callback)
/// once it has run for `budget`. Returns the time taken, the records
/// replayed and whether it finished.
fn replay_once(path: &Path, records: u64, budget: Duration) -> (Duration, u64, bool) {
    let start = Instant::now();
    let mut seen = 0u64;
    let storage = Arc::new(FsStorage::new());
    let opened = Wal::open(storage, path, WalOptions::default(), |r| {
        black_box(r.payload);
        seen += 1;
        if seen.is_multiple_of(4096) && start.elapsed() > budget {
            return Err("over the time budget".into());
        }
        Ok(())
    });
    let elapsed = start.elapsed();
    match opened {
        Ok((wal, report)) => {
            assert_eq!((report.records, seen), (records, records));
            assert!(report.truncated.is_none());
            drop(wal);
            (elapsed, seen, true)
        }
        Err(WalError::Replay { .. }) => (elapsed, seen, false),
        Err(e) => panic!("replay failed: {e}"),
    }
}

/// Open-with-replay from the page cache vs reading the same file in 1 MiB
/// chunks and hashing each with `crc32fast`. One replay runs first on its
/// own, to measure its peak memory and to catch a replay too slow to
/// sample: if it is still going after [`Scale::iter_budget`], it is given
/// up and the figure is its rate so far, projected to the whole log.
pub(crate) fn replay(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
    let path = dir.join("replay.log");
    let target = match std::env::var("BENCH_REPLAY_MIB") {
        Ok(mib) => {
            mib.parse::<u64>()
                .expect("BENCH_REPLAY_MIB: a number of MiB")
                << 20
        }
        Err(_) => scale.pick(1 << 20, 64 << 20, 1 << 30),
    };
    let log: OnceCell<(u64, u64)> = OnceCell::new();
    let built = || *log.get_or_init(|| build_log(&path, target));

    let mut g = Group::new(c, rec, "wal/replay");
    g.group.throughput(Throughput::Bytes(log_size(target).1));
    g.slow(scale);

    g.bench("floor_read_crc32", |iters| {
        built();
        let mut buf = vec![0; 1 << 20];
        let start = Instant::now();
        for _ in 0..iters {
            let mut file = File::open(&path).unwrap();
            let mut acc = 0u32;
            loop {
                let n = file.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                acc ^= crc32fast::hash(&buf[..n]);
            }
            black_box(acc);
        }
        start.elapsed()
    });

    let id = g.id("wal_open_replay");
    let mut sample = true;
    if rec.reports() && selected(&id) {
        let (records, bytes) = built();
        // Reset the peak to the current RSS (Linux >= 4.0), so VmHWM shows
        // this replay's peak rather than the process's.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before = proc_status_kib("VmRSS").unwrap_or(0);
        let (elapsed, done, finished) = replay_once(&path, records, scale.iter_budget());
        let hwm = proc_status_kib("VmHWM").unwrap_or(0);
        let mib = |kib: u64| kib as f64 / 1024.0;
        rec.say(format!(
            "replay memory: log {:.1} MiB ({} of {records} records replayed); VmRSS before \
             {:.1} MiB, VmHWM after {:.1} MiB{}: peak growth {:.1} MiB (buf_capacity {} MiB)",
            bytes as f64 / f64::from(1 << 20),
            done,
            mib(before),
            mib(hwm),
            if reset {
                " (peak reset before the replay)"
            } else {
                " (process-wide peak: clear_refs unavailable)"
            },
            mib(hwm.saturating_sub(before)),
            WalOptions::default().buf_capacity >> 20,
        ));
        if !finished {
            let projected = elapsed.mul_f64(records as f64 / done as f64);
            rec.record(&id, projected, 1);
            rec.note(
                &id,
                format!(
                    "not sampled: one open gave up after {elapsed:.1?} (BENCH_MAX_ITER_SECS) \
                     having replayed {done} of {records} records, {:.1} MiB/s; \
                     projected to the whole log: {projected:.1?}",
                    (done * (FRAME_OVERHEAD + PAYLOAD) as u64) as f64
                        / f64::from(1 << 20)
                        / elapsed.as_secs_f64(),
                ),
            );
            sample = false;
        }
    }
    if sample {
        g.bench("wal_open_replay", |iters| {
            let (records, _) = built();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (elapsed, _, finished) = replay_once(&path, records, Duration::MAX);
                assert!(finished);
                total += elapsed;
            }
            total
        });
    }
    g.group.finish();
    rec.ratio(
        "wal/replay/wal_open_replay",
        &["wal/replay/floor_read_crc32"],
        Target::Throughput(0.5),
    );
    remove(&path);
}
