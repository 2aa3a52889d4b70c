//! The charts of `cargo xtask compare`: one hand-written SVG per workload,
//! a horizontal bar per store for each of the workload's figures and its
//! peak memory, each bar labelled with its value; for `durable-threads` a
//! line per store of its rate against the thread count
//! ([`threads_chart`]). No plotting dependency.

use std::fmt::Write as _;

use super::Job;
use super::figures::{self, METRICS, Metric, PEAK_RSS, Unit, Value};
use super::report;

/// Chart width, in pixels.
const WIDTH: f64 = 760.0;
/// Where the bars start (the store names are left of it).
const BARS_X: f64 = 150.0;
/// The longest bar (room is left after it for the value).
const BAR_MAX: f64 = 440.0;
/// Height of a bar, and of the gap under it.
const BAR_H: f64 = 20.0;
const GAP: f64 = 6.0;
/// Height of a panel's heading.
const HEADING: f64 = 30.0;

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One panel: a heading, then a bar per store, from `y`; returns the
/// panel's SVG and its height.
fn panel(metric: &Metric, workload: &str, stores: &[&str], jobs: &[Job], y: f64) -> (String, f64) {
    let values: Vec<Option<f64>> = stores
        .iter()
        .map(|store| {
            let job = jobs
                .iter()
                .find(|j| j.store == *store && j.workload == workload)?;
            figures::value(metric, job)
        })
        .collect();
    let max = values.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));
    let better = if metric.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let unit = match metric.unit {
        Unit::PerSec => "operations per second",
        Unit::Secs => "seconds",
        Unit::Times => "bytes on disk / bytes of live keys and values",
        Unit::Bytes => "MiB, the timed process",
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<text x="20" y="{:.0}" font-size="14" font-weight="bold">{} <tspan font-weight="normal" fill="#555">({}; {})</tspan></text>"##,
        y + 18.0,
        escape(metric.label),
        escape(unit),
        better
    );
    for (i, (store, v)) in stores.iter().zip(&values).enumerate() {
        let top = y + HEADING + i as f64 * (BAR_H + GAP);
        let mid = top + BAR_H / 2.0 + 4.5;
        let _ = writeln!(
            svg,
            r#"<text x="{:.0}" y="{mid:.1}" font-size="13" text-anchor="end">{store}</text>"#,
            BARS_X - 8.0
        );
        let Some(x) = v else {
            let _ = writeln!(
                svg,
                r##"<text x="{BARS_X:.0}" y="{mid:.1}" font-size="13" fill="#c53030">failed</text>"##
            );
            continue;
        };
        let len = if max > 0.0 {
            (x / max * BAR_MAX).max(1.0)
        } else {
            1.0
        };
        let fill = if *store == "indexmap_store" {
            "#2b6cb0"
        } else {
            "#a0aec0"
        };
        let _ = writeln!(
            svg,
            r#"<rect x="{BARS_X:.0}" y="{top:.1}" width="{len:.1}" height="{BAR_H:.0}" fill="{fill}"/>"#
        );
        let note = match metric.label == figures::headline(workload).label {
            true => report::mark(store, workload),
            false => String::new(),
        };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{mid:.1}" font-size="13">{}{note}</text>"#,
            BARS_X + len + 6.0,
            escape(&figures::format_value(&Value(*x, metric.unit)))
        );
    }
    (svg, HEADING + stores.len() as f64 * (BAR_H + GAP) + 12.0)
}

/// The chart of `workload`: its figures and its peak memory, one panel
/// each, under a title and the line `subtitle` (sizes, runs, date).
pub fn workload_chart(workload: &str, subtitle: &str, stores: &[&str], jobs: &[Job]) -> String {
    let metrics: Vec<&Metric> = METRICS
        .iter()
        .filter(|m| m.workload == workload)
        .chain([&PEAK_RSS])
        .collect();
    let mut body = String::new();
    let mut y = 62.0;
    for metric in metrics {
        let (svg, height) = panel(metric, workload, stores, jobs, y);
        body.push_str(&svg);
        y += height;
    }
    for (i, (store, w, short, _)) in super::text::NOTES.iter().enumerate() {
        if *w == workload && stores.contains(store) {
            let _ = writeln!(
                body,
                r##"<text x="20" y="{:.0}" font-size="12" fill="#555">[{}] {}</text>"##,
                y + 6.0,
                i + 1,
                escape(short)
            );
            y += 18.0;
        }
    }
    let height = y + 8.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="28" font-size="18" font-weight="bold">{}</text>
<text x="20" y="50" font-size="13" fill="#555">{}</text>
{body}</svg>
"##,
        escape(&format!(
            "{workload}: {} vs {}",
            stores.first().unwrap_or(&"-"),
            stores.get(1..).unwrap_or_default().join(", ")
        )),
        escape(subtitle)
    )
}

/// Colours of the lines of [`threads_chart`], by store (indexmap_store's
/// blue as in the bar charts; the floor black, and dashed).
fn line_colour(store: &str) -> &'static str {
    match store {
        "indexmap_store" => "#2b6cb0",
        "indexmap_store-shared" => "#2f855a",
        "fjall" => "#c05621",
        "redb" => "#9b2c2c",
        "sled" => "#718096",
        "floor-group" => "#1a202c",
        _ => "#553c9a",
    }
}

/// The chart of `durable-threads`: durable inserts per second against the
/// writer threads (1 to 32, evenly spaced on a log scale), one line per
/// store that ran, each point labelled with its rate; the floor
/// `floor-group`'s line is dashed.
pub fn threads_chart(subtitle: &str, stores: &[&str], jobs: &[Job]) -> String {
    const LEFT: f64 = 90.0;
    const TOP: f64 = 80.0;
    const PLOT_W: f64 = 470.0;
    const PLOT_H: f64 = 300.0;
    let threads = super::THREADS;
    let lines: Vec<(&str, Vec<Option<f64>>)> = stores
        .iter()
        .filter_map(|store| {
            let job = jobs
                .iter()
                .find(|j| j.store == *store && j.workload == "durable-threads")?;
            let metrics = METRICS.iter().filter(|m| m.workload == "durable-threads");
            let points: Vec<Option<f64>> = metrics.map(|m| figures::value(m, job)).collect();
            points
                .iter()
                .any(Option::is_some)
                .then_some((*store, points))
        })
        .collect();
    let max = lines
        .iter()
        .flat_map(|(_, p)| p.iter().flatten())
        .fold(0.0_f64, |a, &b| a.max(b));
    let max = if max > 0.0 { max * 1.1 } else { 1.0 };
    let x = |i: usize| LEFT + i as f64 * PLOT_W / (threads.len() - 1).max(1) as f64;
    let y = |v: f64| TOP + PLOT_H - v / max * PLOT_H;
    let mut body = String::new();
    // Axes, ticks and grid.
    let _ = writeln!(
        body,
        r##"<path d="M{LEFT:.0} {TOP:.0} V{:.0} H{:.0}" stroke="#333" fill="none"/>"##,
        TOP + PLOT_H,
        LEFT + PLOT_W
    );
    for (i, t) in threads.iter().enumerate() {
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.0}" font-size="12" text-anchor="middle">{t}</text>"#,
            x(i),
            TOP + PLOT_H + 18.0
        );
    }
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let _ = writeln!(
            body,
            r##"<path d="M{LEFT:.0} {:.1} H{:.0}" stroke="#e2e8f0"/><text x="{:.0}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            y(v),
            LEFT + PLOT_W,
            LEFT - 6.0,
            y(v) + 4.0,
            escape(&figures::format_value(&Value(v, Unit::PerSec)))
        );
    }
    let _ = writeln!(
        body,
        r#"<text x="{:.0}" y="{:.0}" font-size="13" text-anchor="middle">writer threads</text>"#,
        LEFT + PLOT_W / 2.0,
        TOP + PLOT_H + 40.0
    );
    let _ = writeln!(
        body,
        r#"<text x="20" y="{:.0}" font-size="13" transform="rotate(-90 20 {:.0})" text-anchor="middle">durable inserts per second (higher is better)</text>"#,
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0
    );
    for (n, (store, points)) in lines.iter().enumerate() {
        let colour = line_colour(store);
        let dash = match store.starts_with("floor-") {
            true => r#" stroke-dasharray="6 4""#,
            false => "",
        };
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = writeln!(
            body,
            r#"<polyline points="{}" stroke="{colour}" stroke-width="2"{dash} fill="none"/>"#,
            path.join(" ")
        );
        for (i, p) in points.iter().enumerate() {
            if let Some(v) = p {
                let _ = writeln!(
                    body,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{store}, {} thread(s): {}</title></circle>"#,
                    x(i),
                    y(*v),
                    threads[i],
                    escape(&figures::format_value(&Value(*v, Unit::PerSec)))
                );
            }
        }
        let ly = TOP + 10.0 + n as f64 * 22.0;
        let last = points.iter().rev().flatten().next();
        let _ = writeln!(
            body,
            r#"<rect x="{:.0}" y="{:.0}" width="14" height="4" fill="{colour}"/><text x="{:.0}" y="{:.0}" font-size="13">{store}{}</text>"#,
            LEFT + PLOT_W + 20.0,
            ly - 4.0,
            LEFT + PLOT_W + 40.0,
            ly + 1.0,
            last.map_or(String::new(), |v| format!(
                " ({} at {})",
                figures::format_value(&Value(*v, Unit::PerSec)),
                threads[points.iter().rposition(Option::is_some).unwrap_or(0)]
            ))
        );
    }
    let height = TOP + PLOT_H + 60.0;
    let width = LEFT + PLOT_W + 300.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="28" font-size="18" font-weight="bold">durable-threads: durable inserts/s against writer threads</text>
<text x="20" y="50" font-size="13" fill="#555">{}</text>
{body}</svg>
"##,
        escape(subtitle)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Measure;

    #[test]
    fn a_chart_has_a_bar_per_store_and_a_label_per_bar() {
        let m = |f: &str| Measure::parse(&format!("RESULT\t{}", f.replace(' ', "\t"))).unwrap();
        let jobs = [
            Job {
                store: "indexmap_store",
                workload: "get",
                runs: vec![vec![m("ops_per_sec=2000000 peak_rss_bytes=1048576")]],
                ..Job::default()
            },
            Job {
                store: "sled",
                workload: "get",
                error: Some("boom".into()),
                ..Job::default()
            },
        ];
        let svg = workload_chart("get", "N <&> 1", &["indexmap_store", "sled"], &jobs);
        assert!(svg.contains(">N &lt;&amp;&gt; 1<"));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Two panels (gets/s, peak RSS), one bar each for the store that ran.
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains(">2.00 M/s<") && svg.contains(">1.00 MiB<"));
        assert_eq!(svg.matches(">failed<").count(), 2);
        assert!(svg.contains("higher is better") && svg.contains("lower is better"));
    }

    #[test]
    fn the_threads_chart_has_a_line_per_store_that_ran() {
        let m = |f: &str| Measure::parse(&format!("RESULT\t{}", f.replace(' ', "\t"))).unwrap();
        let ran = |store| Job {
            store,
            workload: "durable-threads",
            runs: vec![vec![
                m("threads=1 ops_per_sec=1000"),
                m("threads=32 ops_per_sec=4000"),
            ]],
            ..Job::default()
        };
        let jobs = [
            ran("indexmap_store"),
            ran("fjall"),
            ran("floor-group"),
            Job {
                store: "indexmap_store-shared",
                workload: "durable-threads",
                unavailable: Some("hook".into()),
                ..Job::default()
            },
        ];
        let stores = [
            "indexmap_store",
            "indexmap_store-shared",
            "fjall",
            "floor-group",
        ];
        let svg = threads_chart("sub", &stores, &jobs);
        assert_eq!(svg.matches("<polyline").count(), 3);
        // The floor's line, and only it, is dashed.
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        // Two points per line: 1 and 32 threads.
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("fjall (4.00 k/s at 32)"), "{svg}");
        assert!(!svg.contains("indexmap_store-shared"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
