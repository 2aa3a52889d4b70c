//! `info`: the header, the records, the sidecar, the files beside the log,
//! whether a writer holds it, and the verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wal_format::FileHeader;
use wal_io::inspect::{Inspection, SidecarState};

use crate::codec::Codec;
use crate::error::{EXIT_NOT_A_LOG, EXIT_OK, ImstoreError};
use crate::frames::{self, Item, Source};
use crate::lock::{self, LockState};
use crate::verify::{self, open_would, run_inspect, salvage_would, verdict_name};

/// What a walk over the frames counted.
#[derive(Default)]
struct Counts {
    header: Option<FileHeader>,
    frames: u64,
    batch_frames: u64,
    seals: u64,
    records: u64,
    ops: BTreeMap<String, u64>,
    mutations: u64,
    /// Inserts less removals, a bound on the live entries without types.
    live_bound: u64,
    last_synced_upto: Option<u64>,
    schema: Option<Value>,
    damaged: u64,
}

fn count(codec: &dyn Codec, path: &Path) -> Result<Counts, ImstoreError> {
    let mut src = Source::open(path).map_err(|e| ImstoreError::io("opening", path, e))?;
    let mut c = Counts::default();
    let mut emit = |item: Item| match item {
        Item::Header(h) => c.header = Some(h),
        Item::Frame(f) => {
            c.frames += 1;
            c.last_synced_upto = Some(f.synced_upto);
            match f.kind {
                wal_format::FrameKind::Seal => c.seals += 1,
                wal_format::FrameKind::Record => {}
                _ => c.batch_frames += 1,
            }
            for p in &f.payloads {
                c.records += 1;
                let v = codec.op_json(p);
                let kind = v["op"].as_str().unwrap_or("unknown").to_owned();
                let m = v["mutations"].as_u64().unwrap_or(1);
                match kind.as_str() {
                    "schema" => {
                        c.schema = Some(v["decoded"].clone());
                    }
                    "insert" | "insert_at" => {
                        c.live_bound += 1;
                        c.mutations += 1;
                    }
                    // A splice adds at most its pairs (`m` counts them
                    // and the entries it removes).
                    "batch" | "splice" => {
                        c.live_bound += m;
                        c.mutations += m;
                    }
                    "clear" => {
                        c.live_bound = 0;
                        c.mutations += 1;
                    }
                    "shift_remove" | "swap_remove" | "remove_runs" => {
                        c.live_bound = c.live_bound.saturating_sub(m);
                        c.mutations += m;
                    }
                    _ => c.mutations += m,
                }
                *c.ops.entry(kind).or_default() += 1;
            }
        }
        Item::Damage { .. } | Item::Torn { .. } => c.damaged += 1,
        Item::NoHeader { .. } | Item::Zeros { .. } => {}
    };
    let start =
        frames::start(&mut src, &mut emit).map_err(|e| ImstoreError::io("reading", path, e))?;
    if let Some(start) = start {
        frames::walk(&mut src, start, &mut emit)
            .map_err(|e| ImstoreError::io("reading", path, e))?;
    }
    Ok(c)
}

/// Files beside the log whose names start with its name: the lock, temp
/// files, salvage copies, backups.
fn beside(path: &Path) -> Vec<(PathBuf, u64, &'static str)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let suffix = n.strip_prefix(&name)?.to_owned();
            if !suffix.starts_with('.') {
                return None;
            }
            let what = if suffix == ".lock" {
                "lock file and sidecar claim"
            } else if suffix.ends_with(".tmp") {
                "stale temporary file of an interrupted rewrite: the next open removes it (or sets it aside if it is not recognisably ours)"
            } else if suffix.starts_with(".corrupt-") {
                "bytes a salvage copied aside: read them with `imstore dump`"
            } else if suffix.contains(".unrecognized") {
                "a file found at the temporary path and set aside by an open: inspect, then delete it"
            } else if suffix == indexmap_store::LEGACY_BACKUP_SUFFIX {
                "the original of an imported 0.2.x log"
            } else {
                "other"
            };
            let len = e.metadata().map_or(0, |m| m.len());
            Some((e.path(), len, what))
        })
        .collect();
    out.sort();
    out
}

fn sidecar_text(found: &Inspection) -> String {
    let file_id = found.header.as_ref().map_or(0, |h| h.file_id);
    match found.sidecar {
        SidecarState::Absent => "none (no lock file)".to_owned(),
        SidecarState::Empty => "no claim (empty or torn)".to_owned(),
        SidecarState::Claim {
            file_id: id,
            durable_len,
        } => format!(
            "claims file_id {id:#018x} durable up to byte {durable_len} ({})",
            if id == file_id && file_id != 0 {
                "about this log"
            } else {
                "about another file: ignored"
            }
        ),
        SidecarState::Foreign => {
            "not a claim (another program's file): never written to".to_owned()
        }
        _ => "unknown".to_owned(),
    }
}

/// `info`.
pub(crate) fn info(codec: &dyn Codec, path: &Path, as_json: bool) -> Result<u8, ImstoreError> {
    let lock = lock::probe(path);
    let counts = count(codec, path)?;
    let inspected = run_inspect(codec, path);
    let files = beside(path);
    let writer = match &lock {
        LockState::Held => "held",
        LockState::Free => "free",
        LockState::NoLockFile => "no_lock_file",
        LockState::Unknown(_) => "unknown",
    };
    let live = inspected.as_ref().ok().and_then(|(_, l)| *l);
    let live_value = live.unwrap_or(counts.live_bound);
    let dead_ratio = if counts.mutations == 0 {
        0.0
    } else {
        (counts.mutations.saturating_sub(live_value)) as f64 / counts.mutations as f64
    };
    if as_json {
        let mut v = json!({
            "path": path,
            "bytes": std::fs::metadata(path).map_or(0, |m| m.len()),
            "frames": counts.frames,
            "batch_frames": counts.batch_frames,
            "seals": counts.seals,
            "records": counts.records,
            "ops": counts.ops,
            "mutations": counts.mutations,
            "live": live_value,
            "live_exact": live.is_some(),
            "dead_ratio": dead_ratio,
            "synced_watermark": counts.last_synced_upto,
            "schema": counts.schema,
            "writer": writer,
            "beside": files.iter().map(|(p, len, what)| json!({"path": p, "bytes": len, "what": what})).collect::<Vec<_>>(),
        });
        if let Some(h) = &counts.header {
            v["header"] = json!({"version": h.version, "app_tag": String::from_utf8_lossy(h.app_tag_trimmed()), "app_version": h.app_version, "base_seq": h.base_seq, "file_id": format!("{:#018x}", h.file_id), "vouched_len": h.vouched_len});
        }
        match &inspected {
            Ok((found, live)) => {
                v["verify"] = verify::to_json(found, *live);
                v["sidecar"] = json!(sidecar_text(found));
            }
            Err(e) => v["verify"] = json!({"error": e.to_string(), "exit": e.exit_code()}),
        }
        println!("{v}");
        return Ok(exit_of(&inspected));
    }
    println!(
        "path: {} ({} bytes)",
        path.display(),
        std::fs::metadata(path).map_or(0, |m| m.len())
    );
    match &counts.header {
        Some(h) => println!(
            "header: format version {}, app {:?} version {}, base_seq {}, file_id {:#018x}, vouched_len {}",
            h.version,
            String::from_utf8_lossy(h.app_tag_trimmed()),
            h.app_version,
            h.base_seq,
            h.file_id,
            h.vouched_len
        ),
        None => println!("header: none readable"),
    }
    if let Some(s) = &counts.schema {
        println!("schema record: {s}");
    }
    println!(
        "frames: {} ({} batch frames, {} seals), records: {}",
        counts.frames, counts.batch_frames, counts.seals, counts.records
    );
    let ops: Vec<String> = counts.ops.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "ops: {}",
        if ops.is_empty() {
            "none".to_owned()
        } else {
            ops.join(", ")
        }
    );
    if live.is_some() {
        println!(
            "mutations: {}, live entries: {live_value}, dead ratio: {dead_ratio:.3}",
            counts.mutations
        );
    } else {
        println!(
            "mutations: {}, live entries: at most {live_value} (inserts less removals; overwrites need the types), dead ratio: at least {dead_ratio:.3}",
            counts.mutations
        );
    }
    if let Some(w) = counts.last_synced_upto {
        println!("synced watermark: the last frame vouches that records below {w} were durable");
    }
    println!("writer lock: {}", lock.describe());
    match &inspected {
        Ok((found, _)) => {
            println!("sidecar: {}", sidecar_text(found));
            println!("vouched durable: {} bytes", found.vouched_len);
            println!("verdict: {}", verdict_name(&found.verdict).0);
            println!("open would: {}", open_would(found));
            if let Some(s) = salvage_would(found) {
                println!("salvage would: {s}");
            }
        }
        Err(e) => println!("verdict: {e}"),
    }
    for (p, len, what) in &files {
        println!("beside it: {} ({len} bytes): {what}", p.display());
    }
    Ok(exit_of(&inspected))
}

/// `info` succeeds whatever the verdict, but not on a file that is no log.
fn exit_of<T>(inspected: &Result<T, ImstoreError>) -> u8 {
    match inspected {
        Err(e) if e.exit_code() == EXIT_NOT_A_LOG => EXIT_NOT_A_LOG,
        _ => EXIT_OK,
    }
}
