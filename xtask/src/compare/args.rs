//! The arguments of `cargo xtask compare`: the help text's lines, the
//! parser, and the sizes of a run they choose.

use std::path::PathBuf;

use super::jobs::{STORES, WORKLOADS};
use crate::args::{Args, positive};

/// The `compare` lines of the help text.
pub const USAGE: &str = "\
Usage: cargo xtask compare [--quick] [--runs N] [--stores LIST] [--workloads LIST] [--out DIR]
                           [--n N] [--durable N] [--durable-threads N] [--churn-keys N]
  --quick           small sizes (100k entries): about 3 minutes instead of 15-20
  --runs N          repetitions of each (store, workload); figures are the best (default 3)
  --stores LIST     comma-separated, of: indexmap_store,indexmap_store-buffered,
                    indexmap_store-shared,indexmap_store-prealloc,
                    indexmap_store-0.2.3,sled,redb,fjall,pickledb,
                    floor-append,floor-prealloc,floor-group
  --workloads LIST  comma-separated, of: load-per-call,load-batch,durable,
                    durable-threads,get,reopen,reopen-scan,churn
  --out DIR         where REPORT.md and the charts go (default: docs/compare)
  --n N             entries loaded, read and reopened (default 1000000, --quick 100000)
  --durable N       durable inserts on one thread (default 5000, --quick 1000)
  --durable-threads N  durable inserts shared by 1, 2, 4, ... 32 threads, for each
                    thread count (default 2000, --quick 1000)
  --churn-keys N    keys written 10 times each in churn (default 100000, --quick 20000)
The first run builds compare/ in release mode, fetching its crates from
crates.io (network access, a few minutes on 2 cores).
";

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Entries loaded, read and reopened.
    pub n: u64,
    /// Writes in `durable`, each synced.
    pub durable: u64,
    /// Writes in `durable-threads` for each thread count, each synced.
    pub durable_threads: u64,
    /// Keys in `churn` (each written 10 times).
    pub churn_keys: u64,
}

/// The default run.
pub const FULL: Sizes = Sizes {
    n: 1_000_000,
    durable: 5_000,
    durable_threads: 2_000,
    churn_keys: 100_000,
};

/// Repetitions without `--runs`.
pub const DEFAULT_RUNS: u32 = 3;

/// `--quick`.
pub const QUICK: Sizes = Sizes {
    n: 100_000,
    durable: 1_000,
    durable_threads: 1_000,
    churn_keys: 20_000,
};

/// The arguments of `cargo xtask compare` (see [`USAGE`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CompareArgs {
    /// `--quick`.
    pub quick: bool,
    /// `--runs N`.
    pub runs: Option<u32>,
    /// `--stores`: the stores to run, in [`STORES`] order (empty: all).
    pub stores: Vec<&'static str>,
    /// `--workloads`: the workloads to run, in [`WORKLOADS`] order (empty: all).
    pub workloads: Vec<&'static str>,
    /// `--out DIR`.
    pub out: Option<PathBuf>,
    /// `--n`, `--durable`, `--durable-threads`, `--churn-keys`: sizes that
    /// replace those of [`FULL`] or [`QUICK`].
    pub n: Option<u64>,
    /// `--durable N`.
    pub durable: Option<u64>,
    /// `--durable-threads N`.
    pub durable_threads: Option<u64>,
    /// `--churn-keys N`.
    pub churn_keys: Option<u64>,
}

impl CompareArgs {
    /// Parses the arguments after `compare` (`--flag VALUE` or `--flag=VALUE`).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = CompareArgs::default();
        let mut args = Args::new(args);
        while let Some((arg, flag, inline)) = args.next_arg() {
            let mut value = || args.value(flag, inline.clone());
            match flag {
                "--quick" if inline.is_none() => parsed.quick = true,
                "--runs" => parsed.runs = Some(positive(flag, &value()?)?),
                "--stores" => parsed.stores = pick(flag, &value()?, &STORES)?,
                "--workloads" => parsed.workloads = pick(flag, &value()?, &WORKLOADS)?,
                "--out" => parsed.out = Some(PathBuf::from(value()?)),
                "--n" => parsed.n = Some(positive(flag, &value()?)?),
                "--durable" => parsed.durable = Some(positive(flag, &value()?)?),
                "--durable-threads" => {
                    parsed.durable_threads = Some(positive(flag, &value()?)?);
                }
                "--churn-keys" => parsed.churn_keys = Some(positive(flag, &value()?)?),
                _ => return Err(format!("unknown argument `{arg}`")),
            }
        }
        Ok(parsed)
    }

    /// The sizes of this run.
    pub fn sizes(&self) -> Sizes {
        let base = if self.quick { QUICK } else { FULL };
        Sizes {
            n: self.n.unwrap_or(base.n),
            durable: self.durable.unwrap_or(base.durable),
            durable_threads: self.durable_threads.unwrap_or(base.durable_threads),
            churn_keys: self.churn_keys.unwrap_or(base.churn_keys),
        }
    }

    /// The flags that change what is measured, as they would be typed
    /// (` --quick --n 5000`), for the report to say how it was made.
    pub fn flags(&self) -> String {
        let mut text = String::new();
        if self.quick {
            text.push_str(" --quick");
        }
        let sizes = [
            ("--runs", self.runs.map(u64::from)),
            ("--n", self.n),
            ("--durable", self.durable),
            ("--durable-threads", self.durable_threads),
            ("--churn-keys", self.churn_keys),
        ];
        for (flag, value) in sizes {
            if let Some(value) = value {
                text.push_str(&format!(" {flag} {value}"));
            }
        }
        text
    }

    /// The stores to run: those asked for, or all.
    pub fn stores(&self) -> Vec<&'static str> {
        if self.stores.is_empty() {
            STORES.to_vec()
        } else {
            self.stores.clone()
        }
    }

    /// The workloads to run: those asked for, or all.
    pub fn workloads(&self) -> Vec<&'static str> {
        if self.workloads.is_empty() {
            WORKLOADS.to_vec()
        } else {
            self.workloads.clone()
        }
    }
}

/// The names of the comma-separated `list` that are in `known`, in
/// `known`'s order, or an error naming `flag` and the first stranger.
fn pick(flag: &str, list: &str, known: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let asked: Vec<&str> = list.split(',').map(str::trim).collect();
    if let Some(bad) = asked.iter().find(|a| !known.contains(a)) {
        return Err(format!(
            "{flag}: unknown name `{bad}` (known: {})",
            known.join(",")
        ));
    }
    Ok(known
        .iter()
        .copied()
        .filter(|k| asked.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CompareArgs, String> {
        CompareArgs::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn compare_flags_parse() {
        let none = parse(&[]).unwrap();
        assert_eq!(none, CompareArgs::default());
        assert_eq!(
            (none.stores(), none.workloads()),
            (STORES.to_vec(), WORKLOADS.to_vec())
        );
        assert_eq!(none.sizes(), FULL);
        let all = parse(&[
            "--quick",
            "--stores",
            "redb,indexmap_store",
            "--workloads=get",
            "--out",
            "x",
        ])
        .unwrap();
        assert_eq!((all.sizes(), all.runs), (QUICK, None));
        assert_eq!(parse(&["--runs", "5"]).unwrap().runs, Some(5));
        // Listed in the report's order, whatever the order typed.
        assert_eq!(all.stores, ["indexmap_store", "redb"]);
        assert_eq!(all.workloads, ["get"]);
        assert_eq!(all.out, Some(PathBuf::from("x")));
        let sized = parse(&["--quick", "--durable-threads", "300", "--n=5000"]).unwrap();
        assert_eq!(sized.flags(), " --quick --n 5000 --durable-threads 300");
        assert_eq!(
            sized.sizes(),
            Sizes {
                n: 5_000,
                durable_threads: 300,
                ..QUICK
            }
        );
    }

    #[test]
    fn bad_compare_flags_are_refused() {
        for bad in [
            &["--stores"][..],
            &["--stores", "lmdb"],
            &["--workloads", "get,scan"],
            &["--quick=yes"],
            &["--runs", "0"],
            &["--durable-threads", "0"],
            &["--n", "many"],
            &["--slow"],
            &["get"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
