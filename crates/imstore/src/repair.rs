//! The commands that write: `salvage`, `backup`, `compact`,
//! `import-legacy`. Each refuses while a writer holds the log.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use indexmap_store::inspect::inspection_options;
use serde_json::json;
use wal_io::inspect::{ReadOnlyFs, Verdict, inspect};
use wal_io::{FsStorage, RecoveryMode, TruncationReason, Wal, WalError, WalOptions};

use crate::codec::Codec;
use crate::error::{EXIT_OK, ImstoreError};
use crate::lock::{self, LockState};
use crate::progress;
use crate::verify::{log_options, run_inspect, salvage_would, to_json, verdict_name};

/// Refuses when a writer holds the log.
fn refuse_if_held(path: &Path) -> Result<(), ImstoreError> {
    if lock::probe(path) == LockState::Held {
        return Err(ImstoreError::Locked {
            path: path.to_path_buf(),
            lock: lock::lock_path(path),
        });
    }
    Ok(())
}

/// `salvage`: an open in salvage mode, after saying what it will do.
pub(crate) fn salvage(
    codec: &dyn Codec,
    path: &Path,
    dry_run: bool,
    as_json: bool,
) -> Result<u8, ImstoreError> {
    refuse_if_held(path)?;
    let (found, live) = run_inspect(codec, path)?;
    let plan = salvage_would(&found);
    if dry_run {
        if as_json {
            println!("{}", to_json(&found, live));
        } else {
            println!("verdict: {}", verdict_name(&found.verdict).0);
            match &plan {
                Some(s) => println!("salvage would: {s}"),
                None => println!(
                    "salvage would: do nothing a normal open would not (the log holds no damaged or missing synced data)"
                ),
            }
        }
        return Ok(EXIT_OK);
    }
    if plan.is_none() {
        return Err(ImstoreError::Refused(format!(
            "{} holds no damaged or missing synced data (verdict: {}); nothing was changed: a normal open recovers it",
            path.display(),
            verdict_name(&found.verdict).0
        )));
    }
    let opts = WalOptions {
        recovery: RecoveryMode::Salvage,
        ..log_options(path)
    };
    let (wal, report) =
        Wal::open(Arc::new(FsStorage::new()), path, opts, |_| Ok(())).map_err(|e| match e {
            WalError::AlreadyOpen { .. } => ImstoreError::Locked {
                path: path.to_path_buf(),
                lock: lock::lock_path(path),
            },
            e => ImstoreError::Wal(e),
        })?;
    wal.close()?;
    let copy = report.truncated.as_ref().and_then(|t| match &t.reason {
        TruncationReason::Salvaged { copy } => Some(copy.clone()),
        _ => None,
    });
    if as_json {
        println!(
            "{}",
            json!({"records": report.records, "bytes": report.bytes, "copy": copy})
        );
    } else {
        println!(
            "salvaged {}: kept {} records ({} bytes)",
            path.display(),
            report.records,
            report.bytes
        );
        if let Some(copy) = copy {
            println!(
                "the damaged bytes are in {} (read them with `imstore dump {}`)",
                copy.display(),
                copy.display()
            );
        }
    }
    Ok(EXIT_OK)
}

/// `backup`: copies the log under its lock, syncs the copy, verifies it.
pub(crate) fn backup(path: &Path, dest: &Path) -> Result<u8, ImstoreError> {
    let held = lock::take(path)?;
    let mut src = File::open(path).map_err(|e| ImstoreError::io("opening", path, e))?;
    let len = src.metadata().map_or(0, |m| m.len());
    let mut out = match OpenOptions::new().write(true).create_new(true).open(dest) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(ImstoreError::Exists {
                path: dest.to_path_buf(),
            });
        }
        Err(e) => return Err(ImstoreError::io("creating", dest, e)),
    };
    let bar = progress::bytes(len, "backing up");
    let mut buf = vec![0; 1 << 20];
    let mut copied = 0u64;
    let result = (|| -> Result<(), ImstoreError> {
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ImstoreError::io("reading", path, e)),
            };
            out.write_all(&buf[..n])
                .map_err(|e| ImstoreError::io("writing to", dest, e))?;
            copied += n as u64;
            bar.set_position(copied);
        }
        out.sync_all()
            .map_err(|e| ImstoreError::io("syncing", dest, e))?;
        let dir = wal_io::storage::parent_dir(dest);
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| ImstoreError::io("syncing directory", dir, e))
    })();
    bar.finish_and_clear();
    drop(held);
    if let Err(e) = result {
        let _ = std::fs::remove_file(dest);
        return Err(e);
    }
    let found = inspect(
        &ReadOnlyFs,
        dest,
        &inspection_options(log_options(dest)),
        |_| Ok(()),
    )?;
    println!(
        "backed up {} to {} ({copied} bytes, {} records); the copy verifies as: {}",
        path.display(),
        dest.display(),
        found.records,
        verdict_name(&found.verdict).0
    );
    if !matches!(found.verdict, Verdict::Clean | Verdict::Preallocated { .. }) {
        println!(
            "note: the log itself is not clean; `imstore verify {}` says why",
            path.display()
        );
    }
    Ok(EXIT_OK)
}

/// `compact`.
pub(crate) fn compact(
    codec: &dyn Codec,
    path: &Path,
    schema_version: u32,
) -> Result<u8, ImstoreError> {
    if !codec.typed() {
        return Err(ImstoreError::NeedsTypes { what: "compact" });
    }
    refuse_if_held(path)?;
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let spinner = progress::spinner(len, "compacting");
    let done = codec.compact(path, schema_version);
    spinner.finish_and_clear();
    println!("{}", done?);
    Ok(EXIT_OK)
}

/// `import-legacy`.
pub(crate) fn import_legacy(
    codec: &dyn Codec,
    path: &Path,
    schema_version: u32,
) -> Result<u8, ImstoreError> {
    if !codec.typed() {
        return Err(ImstoreError::NeedsTypes {
            what: "import-legacy",
        });
    }
    refuse_if_held(path)?;
    println!("{}", codec.import_legacy(path, schema_version)?);
    Ok(EXIT_OK)
}
