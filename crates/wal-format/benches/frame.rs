//! Frame throughput: encoding, decoding with verification, and the floor
//! they are measured against, `crc32fast::hash` over the same frame bytes.
//! One group per payload size, so the ratios come from the same run; a
//! summary at the end gives each size's encode and decode throughput as a
//! share of the floor's (medians of this run's samples).

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use wal_format::{DEFAULT_MAX_RECORD_LEN, Decoded, decode_record, encode_record};

const SIZES: [(&str, usize); 3] = [("16B", 16), ("128B", 128), ("4KiB", 4096)];
const SEQ: u64 = 1_000_003;
const SYNCED_UPTO: u64 = 1_000_000;
/// Criterion's samples per benchmark (its default, set explicitly so the
/// summary knows how many of the recorded calls are the measured ones).
const SAMPLES: usize = 100;

/// Seconds per iteration of every call of every benchmark, by id, for the
/// summary.
#[derive(Default)]
struct Recorder(RefCell<Vec<(String, f64)>>);

impl Recorder {
    /// A criterion routine timing `iters` calls of `routine`, recording each
    /// sample under `id` (criterion's `iter`, plus the record).
    fn timed<'a>(
        &'a self,
        id: String,
        mut routine: impl FnMut() + 'a,
    ) -> impl FnMut(&mut Bencher<'_>) + 'a {
        move |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    routine();
                }
                let elapsed = start.elapsed();
                let per_iter = elapsed.as_secs_f64() / iters.max(1) as f64;
                self.0.borrow_mut().push((id.clone(), per_iter));
                elapsed
            });
        }
    }

    /// The median and best time per iteration of `id`'s measured samples
    /// (the last [`SAMPLES`] calls: warm-up calls come first).
    fn median_best(&self, id: &str) -> Option<(f64, f64)> {
        let all = self.0.borrow();
        let mut times: Vec<f64> = all
            .iter()
            .filter(|(i, _)| i == id)
            .map(|&(_, t)| t)
            .collect();
        let mut times = times.split_off(times.len().saturating_sub(SAMPLES));
        times.sort_by(f64::total_cmp);
        Some((*times.get(times.len() / 2)?, *times.first()?))
    }

    /// The summary line of `subject` against `floor`, in the format of the
    /// other benches' summaries.
    fn ratio(&self, subject: &str, floor: &str) -> Option<String> {
        let (s_med, s_best) = self.median_best(subject)?;
        let (f_med, f_best) = self.median_best(floor)?;
        Some(format!(
            "ratio {subject} vs {floor}: {:.3}x throughput (best samples {:.3}x; \
             median {} vs {} per iteration; reference)",
            f_med / s_med,
            f_best / s_best,
            fmt_time(s_med),
            fmt_time(f_med),
        ))
    }
}

fn fmt_time(secs: f64) -> String {
    if secs >= 1e-3 {
        format!("{:.3} ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.3} µs", secs * 1e6)
    } else {
        format!("{:.1} ns", secs * 1e9)
    }
}

fn frames(c: &mut Criterion) {
    let rec = Recorder::default();
    for (name, size) in SIZES {
        let payload: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let mut frame = Vec::new();
        encode_record(
            &mut frame,
            SEQ,
            SYNCED_UPTO,
            &payload,
            DEFAULT_MAX_RECORD_LEN,
        )
        .unwrap();

        let group_name = format!("frame/{name}");
        let mut group = c.benchmark_group(&group_name);
        group.sample_size(SAMPLES);
        // Every variant is charged for the whole frame, so their throughputs
        // compare directly.
        group.throughput(Throughput::Bytes(frame.len() as u64));

        let mut out = Vec::with_capacity(frame.len());
        let id = |bench: &str| format!("{group_name}/{bench}");
        group.bench_function(
            "encode",
            rec.timed(id("encode"), || {
                out.clear();
                encode_record(
                    &mut out,
                    black_box(SEQ),
                    black_box(SYNCED_UPTO),
                    black_box(&payload),
                    DEFAULT_MAX_RECORD_LEN,
                )
                .unwrap();
                black_box(&out);
            }),
        );

        group.bench_function(
            "decode",
            rec.timed(id("decode"), || {
                match decode_record(black_box(&frame), black_box(SEQ), DEFAULT_MAX_RECORD_LEN) {
                    Ok(Decoded::Complete(record)) => black_box(record),
                    other => panic!("the benchmark frame must decode: {other:?}"),
                };
            }),
        );

        group.bench_function(
            "crc_floor",
            rec.timed(id("crc_floor"), || {
                black_box(crc32fast::hash(black_box(&frame)));
            }),
        );

        group.finish();
    }

    // Like the other benches: a summary only when really benchmarking (not
    // under `cargo test --benches`, `--test` or `--list`).
    let args: Vec<String> = std::env::args().collect();
    let test = args.iter().any(|a| a == "--test" || a == "--list");
    if args.iter().any(|a| a == "--bench") && !test {
        eprintln!("\nframe bench summary:");
        for (name, _) in SIZES {
            for subject in ["encode", "decode"] {
                let floor = format!("frame/{name}/crc_floor");
                if let Some(line) = rec.ratio(&format!("frame/{name}/{subject}"), &floor) {
                    eprintln!("  {line}");
                }
            }
        }
    }
}

criterion_group!(benches, frames);
criterion_main!(benches);
