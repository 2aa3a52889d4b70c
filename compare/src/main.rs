//! `indexmap_store-compare`: runs ONE workload on ONE store in this process
//! and prints one result line, so the peak memory (`VmHWM`) is that of this
//! workload alone. `cargo xtask compare` runs it once per store and
//! workload and writes the report; see `docs/compare/REPORT.md`.
//!
//! ```text
//! indexmap_store-compare run --store NAME --workload NAME --n N --dir DIR [--threads T]
//! ```
//!
//! Stores: see [`stores::NAMES`]. Workloads: load-per-call, load-batch,
//! durable, durable-threads, get, setup, reopen, reopen-scan, churn (see
//! [`workloads::Workload`]). A store this build does not have yet (a hook
//! not filled) prints `UNAVAILABLE` and a reason instead of a result. The
//! result is one line on stdout,
//! `RESULT` and then tab-separated `key=value` fields: `store`, `workload`,
//! `n`, `threads`, `ops`, `secs`, `ops_per_sec`, `close_secs`, `peak_rss_bytes`,
//! `disk_bytes` (sum of the file sizes in DIR after the store is closed),
//! `alloc_bytes` (the blocks allocated to them), `live_bytes` (key and value
//! bytes of the live entries) and `check`.
//!
//! Linux only: the peak resident set size is read from `/proc/self/status`.

#![forbid(unsafe_code)]

mod data;
mod floor;
mod group_floor;
mod legacy;
mod stores;
mod threads;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use workloads::Workload;

/// The usage text.
const USAGE: &str = "\
Usage: indexmap_store-compare run --store NAME --workload NAME --n N --dir DIR [--threads T]
  stores:    indexmap_store, indexmap_store-buffered, indexmap_store-shared,
             indexmap_store-prealloc, indexmap_store-0.2.3, sled, redb, fjall,
             pickledb, floor-append, floor-prealloc, floor-group
             (indexmap_store-shared and floor-group run durable-threads only)
  workloads: load-per-call, load-batch, durable, durable-threads, get, setup,
             reopen, reopen-scan, churn
  --threads  writer threads of durable-threads (default 1)
";

/// The arguments of `run`.
struct Args {
    store: String,
    workload: Workload,
    n: u64,
    threads: u32,
    dir: PathBuf,
}

impl Args {
    /// Parses `run --store S --workload W --n N --dir D [--threads T]` (any
    /// order).
    fn parse(args: &[String]) -> Result<Args, String> {
        let Some((first, rest)) = args.split_first() else {
            return Err("no command".into());
        };
        if first != "run" {
            return Err(format!("unknown command `{first}`"));
        }
        let (mut store, mut workload, mut n, mut dir) = (None, None, None, None);
        let mut threads = 1;
        let mut rest = rest.iter();
        while let Some(flag) = rest.next() {
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--store" if stores::NAMES.contains(&value.as_str()) => store = Some(value.clone()),
                "--store" => return Err(format!("unknown store `{value}`")),
                "--workload" => {
                    let w = Workload::parse(value).ok_or(format!("unknown workload `{value}`"))?;
                    workload = Some(w);
                }
                "--n" => match value.parse::<u64>() {
                    Ok(v) if v > 0 => n = Some(v),
                    _ => return Err(format!("--n takes a whole number > 0, not `{value}`")),
                },
                "--threads" => match value.parse::<u32>() {
                    Ok(v) if v > 0 => threads = v,
                    _ => return Err(format!("--threads takes a whole number > 0, not `{value}`")),
                },
                "--dir" => dir = Some(PathBuf::from(value)),
                _ => return Err(format!("unknown argument `{flag}`")),
            }
        }
        let store: String = store.ok_or("--store is required")?;
        let workload = workload.ok_or("--workload is required")?;
        if stores::THREADS_ONLY.contains(&store.as_str()) && workload != Workload::DurableThreads {
            return Err(format!("`{store}` runs durable-threads only"));
        }
        Ok(Args {
            store,
            workload,
            n: n.ok_or("--n is required")?,
            threads,
            dir: dir.ok_or("--dir is required")?,
        })
    }
}

/// The peak resident set size of this process (`VmHWM`), in bytes.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .expect("VmHWM in /proc/self/status")
}

/// The sum of the sizes, and of the allocated blocks, of the files under
/// `dir`.
fn disk_usage(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        let meta = entry
            .metadata()
            .unwrap_or_else(|e| panic!("stat {}: {e}", entry.path().display()));
        if meta.is_dir() {
            let (size, alloc) = disk_usage(&entry.path());
            total = (total.0 + size, total.1 + alloc);
        } else {
            total = (total.0 + meta.len(), total.1 + meta.blocks() * 512);
        }
    }
    total
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match Args::parse(&args) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("indexmap_store-compare: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    std::fs::create_dir_all(&args.dir)
        .unwrap_or_else(|e| panic!("create {}: {e}", args.dir.display()));
    let Some(out) = workloads::run(&args.store, args.workload, args.n, args.threads, &args.dir)
    else {
        let hook = match args.store.as_str() {
            "indexmap_store-shared" => "indexmap_store_shared_durable in compare/src/threads.rs",
            "indexmap_store-buffered" => "indexmap_store_buffered in compare/src/stores.rs",
            _ => "in compare/src",
        };
        println!("UNAVAILABLE\tnot built yet: its hook {hook} is still empty");
        return ExitCode::SUCCESS;
    };
    let peak = peak_rss_bytes();
    let (disk, alloc) = disk_usage(&args.dir);
    let name = Workload::ALL
        .iter()
        .find(|(w, _)| *w == args.workload)
        .map_or("?", |(_, name)| name);
    let fields = [
        ("store", args.store.clone()),
        ("workload", name.to_owned()),
        ("n", args.n.to_string()),
        ("threads", args.threads.to_string()),
        ("ops", out.ops.to_string()),
        ("secs", format!("{:.6}", out.secs)),
        ("ops_per_sec", format!("{:.1}", out.ops as f64 / out.secs)),
        ("close_secs", format!("{:.6}", out.close_secs)),
        ("peak_rss_bytes", peak.to_string()),
        ("disk_bytes", disk.to_string()),
        ("alloc_bytes", alloc.to_string()),
        ("live_bytes", out.live_bytes.to_string()),
        ("check", out.check.to_string()),
    ];
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT\t{}", line.join("\t"));
    ExitCode::SUCCESS
}
