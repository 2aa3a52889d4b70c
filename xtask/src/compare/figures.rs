//! The figures of `cargo xtask compare`: which figures each workload
//! yields ([`METRICS`]), read from its processes' result lines as the best
//! of the runs, and how they are written (`1.79 M/s`, `41.2 ms`).

use super::{Job, Measure};

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Operations per second.
    PerSec,
    /// Seconds.
    Secs,
    /// A plain ratio (file size over live data).
    Times,
    /// Bytes.
    Bytes,
}

/// A figure with its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Value(pub f64, pub Unit);

/// One row of the table: a figure that a workload yields.
pub struct Metric {
    /// The workload it comes from.
    pub workload: &'static str,
    /// What it is, for the table.
    pub label: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Whether more is better.
    pub higher_is_better: bool,
    /// Reads it from the workload's measures (one per process).
    pub read: fn(&[Measure]) -> f64,
}

/// Every figure, in table order; the first of each workload is its headline.
pub const METRICS: [Metric; 16] = [
    Metric {
        workload: "load-per-call",
        label: "inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| m[0].get("ops_per_sec"),
    },
    Metric {
        workload: "load-per-call",
        label: "disk / live data",
        unit: Unit::Times,
        higher_is_better: false,
        read: |m| m[0].get("alloc_bytes") / m[0].get("live_bytes"),
    },
    Metric {
        workload: "load-batch",
        label: "inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| m[0].get("ops_per_sec"),
    },
    Metric {
        workload: "durable",
        label: "durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| m[0].get("ops_per_sec"),
    },
    Metric {
        workload: "durable-threads",
        label: "1 thread: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 1),
    },
    Metric {
        workload: "durable-threads",
        label: "2 threads: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 2),
    },
    Metric {
        workload: "durable-threads",
        label: "4 threads: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 4),
    },
    Metric {
        workload: "durable-threads",
        label: "8 threads: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 8),
    },
    Metric {
        workload: "durable-threads",
        label: "16 threads: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 16),
    },
    Metric {
        workload: "durable-threads",
        label: "32 threads: durable inserts/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| at_threads(m, 32),
    },
    Metric {
        workload: "get",
        label: "gets/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| m[0].get("ops_per_sec"),
    },
    Metric {
        workload: "reopen",
        label: "open time",
        unit: Unit::Secs,
        higher_is_better: false,
        read: |m| m[m.len() - 1].get("secs"),
    },
    Metric {
        workload: "reopen-scan",
        label: "open + scan time",
        unit: Unit::Secs,
        higher_is_better: false,
        read: |m| m[m.len() - 1].get("secs"),
    },
    Metric {
        workload: "churn",
        label: "writes/s",
        unit: Unit::PerSec,
        higher_is_better: true,
        read: |m| m[0].get("ops_per_sec"),
    },
    Metric {
        workload: "churn",
        label: "disk / live data",
        unit: Unit::Times,
        higher_is_better: false,
        read: |m| m[0].get("alloc_bytes") / m[0].get("live_bytes"),
    },
    Metric {
        workload: "churn",
        label: "reopen time",
        unit: Unit::Secs,
        higher_is_better: false,
        read: |m| m[m.len() - 1].get("secs"),
    },
];

/// The rate of the process of `durable-threads` that ran `threads`
/// threads (NaN when there is none).
pub fn at_threads(measures: &[Measure], threads: u32) -> f64 {
    measures
        .iter()
        .find(|m| m.get("threads") == f64::from(threads))
        .map_or(f64::NAN, |m| m.get("ops_per_sec"))
}

/// The peak-memory row of a workload.
pub const PEAK_RSS: Metric = Metric {
    workload: "",
    label: "peak RSS",
    unit: Unit::Bytes,
    higher_is_better: false,
    read: |m| m[0].get("peak_rss_bytes"),
};

/// The measure of the timed process: the reopen's for `reopen` and
/// `reopen-scan`, the most threads' for `durable-threads`, else the first.
pub fn timed<'a>(workload: &str, measures: &'a [Measure]) -> &'a Measure {
    match workload {
        "reopen" | "reopen-scan" | "durable-threads" => &measures[measures.len() - 1],
        _ => &measures[0],
    }
}

/// The headline figure of `workload` (its first in [`METRICS`]).
pub fn headline(workload: &str) -> &'static Metric {
    METRICS
        .iter()
        .find(|m| m.workload == workload)
        .unwrap_or(&PEAK_RSS)
}

/// Figure `metric` of one run of `workload` (NaN when missing).
pub fn read(metric: &Metric, workload: &str, measures: &[Measure]) -> f64 {
    if measures.is_empty() {
        f64::NAN
    } else if metric.unit == Unit::Bytes {
        timed(workload, measures).get("peak_rss_bytes")
    } else {
        (metric.read)(measures)
    }
}

/// The median of `xs` (the mean of the middle two for an even count).
pub fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    match xs.len() {
        0 => None,
        n if !n.is_multiple_of(2) => Some(xs[mid]),
        _ => Some((xs[mid - 1] + xs[mid]) / 2.0),
    }
}

/// Figure `metric` of `job`: the best of its runs (the highest where
/// higher is better, else the lowest); `None` if it failed. On a machine
/// that other work shares, a disturbance only makes a run slower (or its
/// memory or files larger), so the best run is the least disturbed one.
pub fn value(metric: &Metric, job: &Job) -> Option<f64> {
    if job.error.is_some() || job.unavailable.is_some() {
        return None;
    }
    let runs = job.runs.iter().map(|run| read(metric, job.workload, run));
    let finite = runs.filter(|x| x.is_finite());
    match metric.higher_is_better {
        true => finite.reduce(f64::max),
        false => finite.reduce(f64::min),
    }
}

/// `x` with three significant digits.
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$}")
}

/// Bytes as MiB.
pub fn mib(bytes: f64) -> String {
    format!("{} MiB", sig3(bytes / (1024.0 * 1024.0)))
}

/// A figure in its unit, scaled (`1.79 M/s`, `41.2 ms`, `1.16x`, `25.3 MiB`).
pub fn format_value(v: &Value) -> String {
    let Value(x, unit) = *v;
    if !x.is_finite() {
        return "-".into();
    }
    match unit {
        Unit::PerSec if x >= 1e6 => format!("{} M/s", sig3(x / 1e6)),
        Unit::PerSec if x >= 1e3 => format!("{} k/s", sig3(x / 1e3)),
        Unit::PerSec => format!("{} /s", sig3(x)),
        Unit::Secs if x >= 1.0 => format!("{} s", sig3(x)),
        Unit::Secs if x >= 1e-3 => format!("{} ms", sig3(x * 1e3)),
        Unit::Secs => format!("{} µs", sig3(x * 1e6)),
        Unit::Times => format!("{}x", sig3(x)),
        Unit::Bytes => mib(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_scaled_to_their_unit() {
        assert_eq!(format_value(&Value(1_790_000.0, Unit::PerSec)), "1.79 M/s");
        assert_eq!(format_value(&Value(589_197.6, Unit::PerSec)), "589 k/s");
        assert_eq!(format_value(&Value(6_458.1, Unit::PerSec)), "6.46 k/s");
        assert_eq!(format_value(&Value(0.0409, Unit::Secs)), "40.9 ms");
        assert_eq!(format_value(&Value(0.00056, Unit::Secs)), "560 µs");
        assert_eq!(format_value(&Value(12.3456, Unit::Secs)), "12.3 s");
        assert_eq!(format_value(&Value(1.1638, Unit::Times)), "1.16x");
        assert_eq!(
            format_value(&Value(25.0 * 1048576.0, Unit::Bytes)),
            "25.0 MiB"
        );
        assert_eq!(format_value(&Value(f64::NAN, Unit::Secs)), "-");
    }
}
