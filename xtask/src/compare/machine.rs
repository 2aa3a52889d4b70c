//! What `cargo xtask compare` says about the machine it ran on: CPU,
//! memory, kernel, file system, toolchain and the versions of the stores,
//! read from `/proc`, probe commands and `compare/Cargo.lock`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::figures::{Unit, Value, format_value};
use super::report::Context;
use crate::cmd;

/// The first line of `path` that starts with `key`, after the `:`.
fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The file system `path` is on (`ext4 (/dev/vda on /)`), from
/// `/proc/mounts`: the mount with the longest matching mount point.
pub fn filesystem(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && path.starts_with(f[1])).then(|| (f[1].len(), f))
        })
        .max_by_key(|(len, _)| *len)
        .map_or("unknown".into(), |(_, f)| {
            format!("{} ({} on {}, {})", f[2], f[0], f[1], f[3])
        })
}

/// `name = "version"` of every package in a `Cargo.lock`.
pub fn lock_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        let value = |l: &str| {
            l.split_once('=')
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        };
        if line.starts_with("name = ") {
            name = value(line);
        } else if line.starts_with("version = ")
            && let (Some(n), Some(v)) = (name.take(), value(line))
        {
            out.push((n, v));
        }
    }
    out
}

/// A civil UTC date and time from seconds since the Unix epoch.
pub fn utc(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m) = (secs % 86_400 / 3600, secs % 3600 / 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02} UTC")
}

/// The trimmed stdout of a probe command, or `unknown`.
fn probe(program: &str, args: &[&str], dir: &Path) -> String {
    let out = cmd::output(Command::new(program).args(args).current_dir(dir));
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => "unknown".into(),
    }
}

/// The date and time now, in UTC.
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// The machine, toolchain and crate versions.
pub fn describe(cx: &Context, date: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let cpu = proc_field("/proc/cpuinfo", "model name").unwrap_or("unknown".into());
    let ram = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/version").unwrap_or("unknown".into());
    let rustc = probe("rustc", &["--version"], cx.root);
    let git = probe("git", &["describe", "--always", "--dirty"], cx.root);
    let lock =
        std::fs::read_to_string(cx.root.join("compare").join("Cargo.lock")).unwrap_or_default();
    let versions = lock_versions(&lock);
    let mut text = String::from("## Machine and versions\n\n");
    let _ = writeln!(text, "- Date: {date}");
    let _ = writeln!(text, "- CPU: {cpu}, {cores} cores; RAM: {ram}");
    let _ = writeln!(text, "- Kernel: {}", kernel.trim());
    let _ = writeln!(text, "- Stores' directories on: {}", cx.filesystem);
    let _ = writeln!(
        text,
        "- One `write` of 130 bytes + `fdatasync` there, timed before the runs (median of \
         1,000): {} appended to a growing file, {} into a file whose length was set \
         beforehand",
        format_value(&Value(cx.sync_costs.0, Unit::Secs)),
        format_value(&Value(cx.sync_costs.1, Unit::Secs)),
    );
    let _ = writeln!(
        text,
        "- Toolchain: {rustc}; release profile (`opt-level = 3`)"
    );
    for store in super::STORES {
        // Two packages are named indexmap_store: this repository's and 0.2.3.
        let (package, legacy) = match store {
            "indexmap_store" => ("indexmap_store", false),
            "indexmap_store-0.2.3" => ("indexmap_store", true),
            other => (other, false),
        };
        let version = versions.iter().find(|(n, v)| {
            n == package && (package != "indexmap_store" || v.starts_with("0.2.") == legacy)
        });
        let version = version.map_or("(not in compare/Cargo.lock)", |(_, v)| v.as_str());
        match store {
            "indexmap_store" => writeln!(
                text,
                "- indexmap_store {version}: this repository at `{git}` (`-dirty`: with \
                 uncommitted changes)"
            ),
            "indexmap_store-0.2.3" => writeln!(
                text,
                "- indexmap_store {version} from crates.io, at its defaults (from \
                 `compare/Cargo.lock`)"
            ),
            "indexmap_store-buffered" | "indexmap_store-shared" | "indexmap_store-prealloc" => {
                continue;
            }
            "floor-append" | "floor-prealloc" | "floor-group" => continue,
            _ => writeln!(text, "- {store} {version} (from `compare/Cargo.lock`)"),
        }
        .expect("writing to a String");
    }
    let _ = writeln!(
        text,
        "- Wall time of the runs: {:.0} s ({} stores x {} workloads x {} runs)",
        cx.wall_secs,
        cx.stores.len(),
        cx.workloads.len(),
        cx.runs
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_versions_and_dates_are_read() {
        let lock = "[[package]]\nname = \"sled\"\nversion = \"0.34.7\"\nsource = \"x\"\n\n\
                    [[package]]\nname = \"redb\"\nversion = \"4.6.0\"\n";
        let versions = lock_versions(lock);
        assert_eq!(versions[0], ("sled".to_owned(), "0.34.7".to_owned()));
        assert_eq!(versions[1], ("redb".to_owned(), "4.6.0".to_owned()));
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(utc(1_767_225_599), "2025-12-31 23:59 UTC");
    }
}
