//! `wal/append_sync`: one record and one sync per call, `Wal::append` +
//! `Wal::sync` with and without `WalOptions::preallocate`, against
//! `write(2)` + `fdatasync` appending and positioned writes + `fdatasync`
//! into a zero-filled file (target ≥ 0.9 of their throughput); then
//! [`interleaved_sync_probe`], the same four interleaved round by round.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use test_support::bench::{Group, Recorder, Scale, Target};
use wal_io::{Wal, WalOptions};

use crate::{PAYLOAD, encode_frames, open_wal_with, payload, timed};

/// The chunk of the preallocated log in the `append_sync` group.
const PREALLOC_CHUNK: u64 = 1 << 20;

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

/// One record and one sync per call: `Wal::append` + `Wal::sync`, with
/// and without preallocation, vs `write(2)` + `File::sync_data` appending
/// to a file, and vs positioned writes + `fdatasync` into a file whose
/// length was set beforehand with zeros (the floor a preallocated log
/// approaches), in the same directory.
pub(crate) fn append_sync(c: &mut Criterion, rec: &Recorder, dir: &Path, scale: Scale) {
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
pub(crate) fn interleaved_sync_probe(dir: &Path, scale: Scale) {
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
