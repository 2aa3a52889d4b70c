//! The criterion harness the workspace's benches share: floors measured in
//! the same run as their subjects, and ratios printed against targets.
//!
//! Every sample's time per iteration is recorded ([`Recorder`]) through a
//! criterion group wrapper ([`Group`]); [`Recorder::ratio`] then prints the
//! subject's median (and best sample) against the sum of its floors', with
//! the [`Target`] and whether it is met. `cargo xtask bench` collects those
//! lines into one table. [`Scale`] reads how big a run is from the command
//! line and `BENCH_QUICK`.

use std::cell::RefCell;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, Criterion, SamplingMode};

/// Samples per benchmark.
pub const SAMPLES: usize = 10;

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// `cargo test --benches`, `-- --test` or `-- --list`: each routine
    /// runs once (or not at all), on tiny data.
    Test,
    /// `BENCH_QUICK=1`.
    Quick,
    /// The sizes the targets are stated for.
    Full,
}

impl Scale {
    /// The scale criterion's command line and `BENCH_QUICK` ask for.
    #[must_use]
    pub fn detect() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let bench = args.iter().any(|a| a == "--bench");
        let test = args.iter().any(|a| a == "--test" || a == "--list");
        if !bench || test {
            Scale::Test
        } else if std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1") {
            Scale::Quick
        } else {
            Scale::Full
        }
    }

    /// The value for this scale.
    pub fn pick<T>(self, test: T, quick: T, full: T) -> T {
        match self {
            Scale::Test => test,
            Scale::Quick => quick,
            Scale::Full => full,
        }
    }

    /// The longest one iteration of a slow routine may take before it is
    /// reported from a single run instead of criterion's samples
    /// (`BENCH_MAX_ITER_SECS` overrides).
    pub fn iter_budget(self) -> Duration {
        match std::env::var("BENCH_MAX_ITER_SECS") {
            Ok(secs) => {
                Duration::from_secs_f64(secs.parse().expect("BENCH_MAX_ITER_SECS: seconds"))
            }
            Err(_) => self.pick(
                Duration::from_secs(60),
                Duration::from_secs(5),
                Duration::from_secs(20),
            ),
        }
    }
}

/// Whether criterion's command line selects benchmark `id`: no filter, or
/// a filter that `id` contains. A filter using regex syntax counts as
/// selecting everything (this only decides whether to run an expensive
/// probe outside criterion).
pub fn selected(id: &str) -> bool {
    const TAKES_VALUE: [&str; 17] = [
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--plotting-backend",
        "--output-format",
        "--format",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filters = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if TAKES_VALUE.contains(&a.as_str()) || a == "-c" || a == "--color" {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            filters.push(a.clone());
        }
        i += 1;
    }
    filters
        .iter()
        .all(|f| f.contains(|c: char| "^$.*+?()[]{}|\\".contains(c)) || id.contains(f.as_str()))
}

/// Which way a ratio must go.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Subject throughput at least this share of the floor's.
    Throughput(f64),
    /// Subject time at most this multiple of the floor's.
    Time(f64),
    /// No target: printed to explain another ratio.
    Reference,
}

/// Per-iteration times of every sample of every benchmark, so ratios come
/// from this very run.
#[derive(Default)]
pub struct Recorder {
    /// Whether to print ratios (not in test mode, where each routine runs
    /// once).
    report: bool,
    samples: RefCell<Vec<(String, f64)>>,
    /// Why a benchmark's figure is not criterion's samples, by id.
    notes: RefCell<Vec<(String, String)>>,
    summary: RefCell<Vec<String>>,
}

impl Recorder {
    /// A recorder that prints ratios when `report` (not in test mode, where
    /// each routine runs once on tiny data).
    #[must_use]
    pub fn new(report: bool) -> Self {
        Self {
            report,
            ..Self::default()
        }
    }

    /// Whether ratios are printed (see [`Recorder::new`]).
    #[must_use]
    pub fn reports(&self) -> bool {
        self.report
    }

    /// The summary lines printed so far ([`Recorder::say`], ratios).
    #[must_use]
    pub fn summary(&self) -> Vec<String> {
        self.summary.borrow().clone()
    }

    /// Records a sample of `id`: `iters` iterations in `elapsed`.
    pub fn record(&self, id: &str, elapsed: Duration, iters: u64) {
        let per_iter = elapsed.as_secs_f64() / iters.max(1) as f64;
        self.samples.borrow_mut().push((id.to_owned(), per_iter));
    }

    /// Prints why `id`'s figure is not criterion's samples, and keeps it:
    /// every ratio that uses `id` repeats it.
    pub fn note(&self, id: &str, note: String) {
        eprintln!("{id}: {note}");
        self.notes.borrow_mut().push((id.to_owned(), note));
    }

    /// Prints `line` and keeps it for the summary.
    pub fn say(&self, line: String) {
        eprintln!("{line}");
        self.summary.borrow_mut().push(line);
    }

    /// Seconds per iteration of the last [`SAMPLES`] calls (the measured
    /// samples: criterion's warm-up calls come first), sorted.
    fn measured(&self, id: &str) -> Vec<f64> {
        let mut times: Vec<f64> = self
            .samples
            .borrow()
            .iter()
            .filter(|(name, _)| name == id)
            .map(|&(_, t)| t)
            .collect();
        let mut times = times.split_off(times.len() - times.len().min(SAMPLES));
        times.sort_by(f64::total_cmp);
        times
    }

    /// Prints (and keeps for the summary) `subject` against the sum of the
    /// `floors`' times: the ratio of the medians, which the verdict uses,
    /// and of the best samples, which a busy machine disturbs less.
    pub fn ratio(&self, subject: &str, floors: &[&str], target: Target) {
        let s = self.measured(subject);
        let f: Vec<Vec<f64>> = floors.iter().map(|id| self.measured(id)).collect();
        if !self.report || s.is_empty() || f.iter().any(Vec::is_empty) {
            return;
        }
        let median = |v: &[f64]| v[v.len() / 2];
        let (s_med, s_best) = (median(&s), s[0]);
        let f_med: f64 = f.iter().map(|v| median(v)).sum();
        let f_best: f64 = f.iter().map(|v| v[0]).sum();
        let (r_med, r_best, what, verdict) = match target {
            Target::Throughput(min) => {
                let r = f_med / s_med;
                let v = if r >= min { "met" } else { "MISSED" };
                (
                    r,
                    f_best / s_best,
                    "throughput",
                    format!("target >= {min}: {v}"),
                )
            }
            Target::Time(max) => {
                let r = s_med / f_med;
                let v = if r <= max { "met" } else { "MISSED" };
                (r, s_best / f_best, "time", format!("target <= {max}: {v}"))
            }
            Target::Reference => (
                f_med / s_med,
                f_best / s_best,
                "throughput",
                "reference".into(),
            ),
        };
        let mut line = format!(
            "ratio {subject} vs {}: {r_med:.3}x {what} (best samples {r_best:.3}x; \
             median {} vs {} per iteration; {verdict})",
            floors.join(" + "),
            fmt_time(s_med),
            fmt_time(f_med),
        );
        for (id, note) in self.notes.borrow().iter() {
            if id == subject || floors.contains(&id.as_str()) {
                line.push_str(&format!(" [{id}: {note}]"));
            }
        }
        self.say(line);
    }
}

/// `secs` in the unit that suits it (ns, µs, ms or s).
#[must_use]
pub fn fmt_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.3} ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.3} µs", secs * 1e6)
    } else {
        format!("{:.1} ns", secs * 1e9)
    }
}

/// A criterion group that also records every sample for the ratios.
pub struct Group<'c, 'r> {
    /// The criterion group, for its settings.
    pub group: BenchmarkGroup<'c, WallTime>,
    name: String,
    rec: &'r Recorder,
}

impl<'c, 'r> Group<'c, 'r> {
    /// Group `name` of `c`, recording into `rec`.
    pub fn new(c: &'c mut Criterion, rec: &'r Recorder, name: &str) -> Self {
        let mut group = c.benchmark_group(name);
        group.sample_size(SAMPLES);
        Self {
            group,
            name: name.to_owned(),
            rec,
        }
    }

    /// The full id of benchmark `id` of this group (`group/id`).
    #[must_use]
    pub fn id(&self, id: &str) -> String {
        format!("{}/{id}", self.name)
    }

    /// Benchmarks `routine` (given the iteration count, it returns the time
    /// of just the measured work) as `id`.
    pub fn bench(&mut self, id: &str, mut routine: impl FnMut(u64) -> Duration) {
        let full_id = self.id(id);
        let rec = self.rec;
        self.group.bench_function(id, |b: &mut Bencher<'_>| {
            b.iter_custom(|iters| {
                let elapsed = routine(iters);
                rec.record(&full_id, elapsed, iters);
                elapsed
            });
        });
    }

    /// Settings for routines whose one iteration is well under a second: a
    /// 500 ms warm-up, then `quick` (`BENCH_QUICK=1`) or `full` of sampling
    /// (under `cargo test --benches` each routine runs once, untimed).
    pub fn sampled(&mut self, scale: Scale, quick: Duration, full: Duration) {
        self.group.warm_up_time(Duration::from_millis(500));
        self.group
            .measurement_time(scale.pick(Duration::from_millis(10), quick, full));
    }

    /// Settings for routines whose one iteration takes a good part of a
    /// second: one iteration per sample.
    pub fn slow(&mut self, scale: Scale) {
        self.group.sampling_mode(SamplingMode::Flat);
        self.group.warm_up_time(Duration::from_millis(100));
        self.group.measurement_time(scale.pick(
            Duration::from_millis(10),
            Duration::from_secs(2),
            Duration::from_secs(5),
        ));
    }
}
