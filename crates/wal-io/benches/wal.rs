//! `Wal` throughput against raw-file floors measured in the same run: one
//! 128-byte record per `append` vs one `write(2)` of a pre-encoded frame;
//! 1000 records per `append_many` (128 B, 1 KiB and 4 KiB payloads; the
//! log packs them into batch frames) vs a `BufWriter<File>` writing the
//! same bytes, pre-encoded; `append` + `sync`, with and without
//! `WalOptions::preallocate`, vs `write(2)` + `fdatasync` appending and vs
//! positioned writes + `fdatasync` into a zero-filled preallocated file
//! (then the same four interleaved, round by round, for a disk whose sync
//! latency drifts);
//! and open-with-replay of a log of 128-byte records, one frame each (1 GiB,
//! 64 MiB with `BENCH_QUICK=1`) from the page cache vs reading the file in
//! 1 MiB chunks and running `crc32fast::hash` over each.
//!
//! After each group it prints the ratio to its floor (medians, and best
//! samples, which a busy machine disturbs less), the target (append ≥ 0.9,
//! sync ≥ 0.9, replay ≥ 0.5 of the floor's throughput) and whether it is
//! met, plus reference ratios against encoding the frames by hand; for
//! replay also the peak memory (`VmHWM`, reset first). A replay still
//! running after `BENCH_MAX_ITER_SECS` (20 s; 5 s with `BENCH_QUICK=1`) is
//! given up and its rate so far projected to the whole log, not sampled.
//!
//! Files live in a `tempfile::tempdir()` under `std::env::temp_dir()`; point
//! `TMPDIR` at a real disk (not tmpfs) for the sync figures to mean anything.
//! Run with `cargo bench -p wal-io --bench wal` (`BENCH_QUICK=1` for a short
//! run, `BENCH_REPLAY_MIB=<n>` for another replay log size); under
//! `cargo test --benches` every size is tiny.

use std::cell::OnceCell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use test_support::bench::{Group, Recorder, Scale, Target, selected};
use wal_format::{
    COUNT_LEN, CRC_LEN, DEFAULT_MAX_RECORD_LEN, ENTRY_OVERHEAD, FRAME_HEADER_LEN, FRAME_OVERHEAD,
    FileHeader, FrameHeader, FrameKind, HEADER_LEN, Packer, encode_record,
};
use wal_io::{FsStorage, Wal, WalError, WalOptions};

/// Payload size of every record.
const PAYLOAD: usize = 128;
/// Records per `append_many` call.
const MANY: usize = 1000;

/// Deterministic pseudo-random bytes (xorshift64*).
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn open_wal(path: &Path) -> Wal {
    open_wal_with(path, WalOptions::default())
}

fn open_wal_with(path: &Path, opts: WalOptions) -> Wal {
    let storage = Arc::new(FsStorage::new());
    Wal::open(storage, path, opts, |_| Ok(()))
        .expect("open the benchmark log")
        .0
}

/// The chunk of the preallocated log in the `append_sync` group.
const PREALLOC_CHUNK: u64 = 1 << 20;

/// Removes a benchmark file and the log's lock file, ignoring absence.
fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let _ = std::fs::remove_file(PathBuf::from(lock));
}

/// Times `run` on `subject` (made, untimed, by the caller), then drops
/// `subject` and removes the benchmark file at `path`, untimed: the shape
/// of every routine below that writes a file.
fn timed<T>(path: &Path, mut subject: T, run: impl FnOnce(&mut T)) -> Duration {
    let start = Instant::now();
    run(&mut subject);
    let elapsed = start.elapsed();
    drop(subject);
    remove(path);
    elapsed
}

/// A new log at `path`, preallocating in chunks of `preallocate`, with one
/// durable append made: the untimed start of the durable-append routines,
/// as the floors create (and fill) their file before the clock starts.
/// With preallocation, this is where the first chunk is zero-filled and
/// synced. The next chunk is needed only every [`PREALLOC_CHUNK`] bytes
/// (7,281 of these records), which few samples reach.
fn synced_wal(path: &Path, payloads: &[Vec<u8>], preallocate: Option<u64>) -> Wal {
    let mut wal = open_wal_with(
        path,
        WalOptions {
            preallocate,
            ..WalOptions::default()
        },
    );
    wal.append(&payloads[0]).unwrap();
    wal.sync().unwrap();
    wal
}

/// `n` durable appends (`append`, then `sync`), of `payloads` in turn.
fn append_sync_n(wal: &mut Wal, payloads: &[Vec<u8>], n: usize) {
    for i in 0..n {
        black_box(
            wal.append(black_box(&payloads[i % payloads.len()]))
                .unwrap(),
        );
        wal.sync().unwrap();
    }
}

/// `n` positioned writes of `frames` in turn, back to back from offset 0,
/// each followed by `fdatasync`: appending without growing the file when
/// it was filled beforehand.
fn write_at_sync_n(file: &File, frames: &[Vec<u8>], n: usize) {
    use std::os::unix::fs::FileExt;
    let mut at = 0;
    for i in 0..n {
        let frame = black_box(&frames[i % frames.len()]);
        file.write_all_at(frame, at).unwrap();
        at += frame.len() as u64;
        file.sync_data().unwrap();
    }
}

/// `payloads` packed as `Wal::append_many` writes them (batch frames of
/// about 64 KiB): all the bytes, and the same bytes cut into one piece per
/// record (its length and payload, in its own allocation, as an
/// application holds its records) plus each frame's header and trailer.
fn encode_batch(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut all = Vec::new();
    pack(&mut all, 0, payloads);
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(h) = FrameHeader::peek(&all[at..]) {
        let end = at + usize::try_from(h.frame_len()).unwrap();
        let mut entry = at + FRAME_HEADER_LEN;
        if h.kind == FrameKind::Batch {
            entry += COUNT_LEN;
        }
        pieces.push(all[at..entry].to_vec());
        while entry < end - CRC_LEN {
            let len = u32::from_le_bytes(all[entry..entry + 4].try_into().unwrap()) as usize;
            pieces.push(all[entry..entry + ENTRY_OVERHEAD + len].to_vec());
            entry += ENTRY_OVERHEAD + len;
        }
        pieces.push(all[entry..end].to_vec());
        at = end;
    }
    assert_eq!(at, all.len());
    assert_eq!(pieces.concat(), all);
    (all, pieces)
}

/// Appends `payloads` to `out` as records from `first_seq` on, packed as
/// the log packs them.
fn pack(out: &mut Vec<u8>, first_seq: u64, payloads: &[Vec<u8>]) {
    let mut packer = Packer::new(first_seq, first_seq, DEFAULT_MAX_RECORD_LEN);
    for p in payloads {
        packer.push(out, black_box(p)).unwrap();
    }
    packer.finish(out);
}

/// One `Vec` holding `frames` encoded back to back, and each frame alone.
fn encode_frames(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut all = Vec::new();
    let mut each = Vec::new();
    for (seq, p) in payloads.iter().enumerate() {
        let mut frame = Vec::new();
        encode_record(
            &mut frame,
            seq as u64,
            seq as u64,
            p,
            DEFAULT_MAX_RECORD_LEN,
        )
        .unwrap();
        all.extend_from_slice(&frame);
        each.push(frame);
    }
    (all, each)
}

/// One record per call: `Wal::append` vs one `write(2)` per pre-encoded
/// frame, and (for reference) encoding the frame and writing it.
fn append_one(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
    let payloads: Vec<Vec<u8>> = (0..1024).map(|i| payload(i, PAYLOAD)).collect();
    let (_, frames) = encode_frames(&payloads);
    let frame_len = frames[0].len();
    let path = dir.join("append_one.log");

    let mut g = Group::new(c, rec, "wal/append_one");
    g.group.throughput(Throughput::Bytes(frame_len as u64));
    g.sampled(scale, Duration::from_secs(1), Duration::from_secs(2));

    g.bench("floor_write_all", |iters| {
        timed(&path, File::create(&path).unwrap(), |file| {
            for i in 0..iters as usize {
                file.write_all(black_box(&frames[i % frames.len()]))
                    .unwrap();
            }
        })
    });

    g.bench("wal_append", |iters| {
        timed(&path, open_wal(&path), |wal| {
            for i in 0..iters as usize {
                black_box(
                    wal.append(black_box(&payloads[i % payloads.len()]))
                        .unwrap(),
                );
            }
        })
    });

    g.bench("ref_encode_write_all", |iters| {
        let subject = (File::create(&path).unwrap(), Vec::with_capacity(frame_len));
        timed(&path, subject, |(file, buf)| {
            for i in 0..iters {
                buf.clear();
                let p = &payloads[i as usize % payloads.len()];
                encode_record(buf, i, i, black_box(p), DEFAULT_MAX_RECORD_LEN).unwrap();
                file.write_all(buf).unwrap();
            }
        })
    });
    g.group.finish();
    rec.ratio(
        "wal/append_one/wal_append",
        &["wal/append_one/floor_write_all"],
        Target::Throughput(0.9),
    );
    rec.ratio(
        "wal/append_one/wal_append",
        &["wal/append_one/ref_encode_write_all"],
        Target::Reference,
    );
}

/// Payload sizes of the `append_many` groups beside [`PAYLOAD`], with their
/// group names: the floor does no checksumming, so the share of the
/// checksum in the log's work, and the ratio, depend on the record size.
const MANY_SIZES: [(usize, &str); 3] = [
    (PAYLOAD, "wal/append_many"),
    (1024, "wal/append_many_1KiB"),
    (4096, "wal/append_many_4KiB"),
];

/// [`MANY`] records of `payload_len` bytes per call: `Wal::append_many` vs
/// a `BufWriter<File>` (1 MiB, flushed at the end of each call) writing
/// the same bytes, pre-encoded: each frame's header, each record's length
/// and payload from its own allocation (as the log reads them), each
/// frame's trailer.
fn append_many(
    c: &mut Criterion,
    rec: &Recorder,
    dir: &Path,
    scale: Scale,
    (payload_len, name): (usize, &str),
) {
    let payloads: Vec<Vec<u8>> = (0..MANY as u64).map(|i| payload(i, payload_len)).collect();
    let (all, frames) = encode_batch(&payloads);
    let path = dir.join("append_many.log");

    let mut g = Group::new(c, rec, name);
    g.group.throughput(Throughput::Bytes(all.len() as u64));
    g.sampled(scale, Duration::from_secs(1), Duration::from_secs(1));

    g.bench("floor_bufwriter", |iters| {
        let w = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
        timed(&path, w, |w| {
            for _ in 0..iters {
                for frame in &frames {
                    w.write_all(black_box(frame)).unwrap();
                }
                w.flush().unwrap();
            }
        })
    });

    g.bench("wal_append_many", |iters| {
        timed(&path, open_wal(&path), |wal| {
            for _ in 0..iters {
                let seqs = wal
                    .append_many(payloads.iter().map(|p| black_box(p.as_slice())))
                    .unwrap();
                black_box(seqs);
            }
        })
    });

    g.bench("ref_encode_write_all", |iters| {
        let subject = (File::create(&path).unwrap(), Vec::with_capacity(all.len()));
        timed(&path, subject, |(file, buf)| {
            let mut seq = 0;
            for _ in 0..iters {
                buf.clear();
                pack(buf, seq, &payloads);
                seq += payloads.len() as u64;
                file.write_all(buf).unwrap();
            }
        })
    });
    g.group.finish();
    rec.ratio(
        &format!("{name}/wal_append_many"),
        &[&format!("{name}/floor_bufwriter")],
        Target::Throughput(0.9),
    );
    rec.ratio(
        &format!("{name}/wal_append_many"),
        &[&format!("{name}/ref_encode_write_all")],
        Target::Reference,
    );
}

/// One record and one sync per call: `Wal::append` + `Wal::sync`, with
/// and without preallocation, vs `write(2)` + `File::sync_data` appending
/// to a file, and vs positioned writes + `fdatasync` into a file whose
/// length was set beforehand with zeros (the floor a preallocated log
/// approaches), in the same directory.
fn append_sync(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
    let payloads: Vec<Vec<u8>> = (0..64).map(|i| payload(i, PAYLOAD)).collect();
    let (_, frames) = encode_frames(&payloads);
    let path = dir.join("append_sync.log");

    let mut g = Group::new(c, rec, "wal/append_sync");
    g.group
        .throughput(Throughput::Bytes(frames[0].len() as u64));
    g.sampled(scale, Duration::from_secs(2), Duration::from_secs(3));

    g.bench("floor_write_fdatasync", |iters| {
        let file = File::create(&path).unwrap();
        file.sync_all().unwrap();
        timed(&path, file, |file| {
            for i in 0..iters as usize {
                file.write_all(black_box(&frames[i % frames.len()]))
                    .unwrap();
                file.sync_data().unwrap();
            }
        })
    });

    g.bench("floor_prealloc_write_fdatasync", |iters| {
        use std::os::unix::fs::FileExt;
        let file = File::create(&path).unwrap();
        let need = iters * frames[0].len() as u64 + PREALLOC_CHUNK;
        let zeros = vec![0u8; PREALLOC_CHUNK as usize];
        let mut at = 0;
        while at < need {
            file.write_all_at(&zeros, at).unwrap();
            at += PREALLOC_CHUNK;
        }
        file.sync_all().unwrap();
        timed(&path, file, |file| {
            write_at_sync_n(file, &frames, iters as usize);
        })
    });

    for (id, preallocate) in [
        ("wal_append_sync", None),
        ("wal_append_sync_prealloc", Some(PREALLOC_CHUNK)),
    ] {
        g.bench(id, |iters| {
            let wal = synced_wal(&path, &payloads, preallocate);
            timed(&path, wal, |wal| {
                append_sync_n(wal, &payloads, iters as usize);
            })
        });
    }
    g.group.finish();
    rec.ratio(
        "wal/append_sync/wal_append_sync",
        &["wal/append_sync/floor_write_fdatasync"],
        Target::Throughput(0.9),
    );
    rec.ratio(
        "wal/append_sync/wal_append_sync_prealloc",
        &["wal/append_sync/floor_prealloc_write_fdatasync"],
        Target::Throughput(0.9),
    );
    rec.ratio(
        "wal/append_sync/wal_append_sync",
        &["wal/append_sync/floor_prealloc_write_fdatasync"],
        Target::Reference,
    );
}

/// The same four durable appends as [`append_sync`], interleaved: rounds
/// of `per_round` calls of each, in turn, and the median per-call time of
/// each over the rounds. On a disk shared with other work, whose sync
/// latency swings from one second to the next, criterion's one-after-the-
/// other groups can compare a calm period with a busy one; interleaving
/// exposes all four to the same periods. Prints the ratios.
fn interleaved_sync_probe(dir: &Path, scale: Scale) {
    use std::os::unix::fs::FileExt;
    let (rounds, per_round) = scale.pick((2, 5), (8, 200), (12, 400));
    let payloads: Vec<Vec<u8>> = (0..64).map(|i| payload(i, PAYLOAD)).collect();
    let (_, frames) = encode_frames(&payloads);
    let path = dir.join("interleaved.log");
    let names = ["floor append", "floor prealloc", "wal", "wal prealloc"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        for (k, times) in times.iter_mut().enumerate() {
            let elapsed = match k {
                0 | 1 => {
                    let file = File::create(&path).unwrap();
                    if k == 1 {
                        let need = per_round as u64 * frames[0].len() as u64;
                        file.write_all_at(&vec![0; usize::try_from(need).unwrap()], 0)
                            .unwrap();
                    }
                    file.sync_all().unwrap();
                    timed(&path, file, |file| {
                        write_at_sync_n(file, &frames, per_round);
                    })
                }
                _ => {
                    let preallocate = (k == 3).then_some(PREALLOC_CHUNK);
                    let wal = synced_wal(&path, &payloads, preallocate);
                    timed(&path, wal, |wal| append_sync_n(wal, &payloads, per_round))
                }
            };
            times.push(elapsed.as_secs_f64() / per_round as f64);
        }
    }
    let medians: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    eprintln!(
        "\ninterleaved durable appends ({rounds} rounds of {per_round} each, median per call):"
    );
    for (name, m) in names.iter().zip(&medians) {
        eprintln!("  {name:>14}: {:.1} µs", m * 1e6);
    }
    let ratio = |a: usize, b: usize| medians[b] / medians[a];
    eprintln!(
        "  throughput ratios: wal/floor append {:.3}x, wal prealloc/floor prealloc {:.3}x, wal prealloc/wal {:.3}x, floor prealloc/floor append {:.3}x",
        ratio(2, 0),
        ratio(3, 1),
        ratio(3, 2),
        ratio(1, 0)
    );
}

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
fn replay(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
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

fn main() {
    let scale = Scale::detect();
    let mut c = Criterion::default().configure_from_args();
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("create a temporary directory");
    if scale != Scale::Test {
        eprintln!(
            "wal bench: scale {scale:?}, files in {}",
            dir.path().display()
        );
    }
    let rec = Recorder::new(scale != Scale::Test);
    append_one(&mut c, &rec, dir.path(), scale);
    for size in MANY_SIZES {
        append_many(&mut c, &rec, dir.path(), scale, size);
    }
    append_sync(&mut c, &rec, dir.path(), scale);
    if selected("wal/append_sync") {
        interleaved_sync_probe(dir.path(), scale);
    }
    replay(&mut c, &rec, dir.path(), scale);
    if scale != Scale::Test {
        eprintln!("\nwal bench summary ({scale:?}):");
        for line in rec.summary() {
            eprintln!("  {line}");
        }
    }
    c.final_summary();
}
