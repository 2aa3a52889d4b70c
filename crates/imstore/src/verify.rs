//! `verify`: the recovery of an open, run read-only, and its verdict.

use std::path::Path;

use indexmap_store::inspect::inspection_options;
use serde_json::{Value, json};
use wal_format::FileHeader;
use wal_io::inspect::{Inspection, ReadOnlyFs, Verdict, inspect};
use wal_io::{VouchedBy, WalError, WalOptions};

use crate::codec::Codec;
use crate::error::{EXIT_CORRUPT, EXIT_FAILED, EXIT_OK, EXIT_TORN, ImstoreError};
use crate::frames::Source;
use crate::legacy;
use crate::lock::LockState;
use crate::progress;

/// The options an open of this log would use: its own application tag
/// (this tool reads every application's logs), and the store's temporary
/// suffix for a store's log.
pub(crate) fn log_options(path: &Path) -> WalOptions {
    let store = indexmap_store::inspect::wal_options();
    let header = Source::open(path).ok().and_then(|mut src| {
        let head = src.get(0, wal_format::HEADER_LEN).ok()?.to_vec();
        match FileHeader::decode(&head) {
            Ok(wal_format::Decoded::Complete(h)) => Some(h),
            _ => None,
        }
    });
    match header {
        Some(h) if h.app_tag_trimmed() == store.app_tag => WalOptions {
            app_version: u32::MAX,
            ..store
        },
        Some(h) => WalOptions {
            app_tag: h.app_tag_trimmed().to_vec(),
            app_version: u32::MAX,
            ..WalOptions::default()
        },
        None => store,
    }
}

/// Runs the read-only recovery; with the types, the store's own replay.
pub(crate) fn run_inspect(
    codec: &dyn Codec,
    path: &Path,
) -> Result<(Inspection, Option<u64>), ImstoreError> {
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let spinner = progress::spinner(if codec.typed() { len } else { 0 }, "replaying");
    let replayed = codec.replay(path);
    spinner.finish_and_clear();
    if let Some(replayed) = replayed {
        let (live, found) = replayed?;
        return Ok((found, Some(live)));
    }
    let bar = progress::bytes(len, "verifying");
    let found = inspect(
        &ReadOnlyFs,
        path,
        &inspection_options(log_options(path)),
        |r| {
            bar.set_position(r.offset);
            Ok(())
        },
    );
    bar.finish_and_clear();
    match found {
        Ok(found) => Ok((found, None)),
        Err(WalError::NotALog { .. }) if let Some(records) = legacy::legacy_records(path) => {
            Err(ImstoreError::LegacyShape {
                path: path.to_path_buf(),
                records,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The verdict's name and exit status.
pub(crate) fn verdict_name(v: &Verdict) -> (&'static str, u8) {
    match v {
        Verdict::Clean => ("clean", EXIT_OK),
        Verdict::Initialize => ("empty (an open initialises it)", EXIT_OK),
        Verdict::TornTail { .. } => ("torn tail", EXIT_TORN),
        Verdict::Preallocated { .. } => ("clean, with zeros at the end", EXIT_OK),
        Verdict::Refused(WalError::Corrupt { .. }) => ("corrupt", EXIT_CORRUPT),
        Verdict::Refused(WalError::Truncated { .. }) => ("synced data missing", EXIT_CORRUPT),
        Verdict::Refused(_) => ("refused", EXIT_FAILED),
        _ => ("unknown", EXIT_FAILED),
    }
}

/// What an open would do, in a sentence.
pub(crate) fn open_would(found: &Inspection) -> String {
    match &found.verdict {
        Verdict::Clean => "change nothing".to_owned(),
        Verdict::Initialize => "initialise the file as a new log".to_owned(),
        Verdict::TornTail { cut_to, bytes } => format!(
            "cut {bytes} bytes from byte {cut_to} (a torn tail: nothing proves they were synced), keeping {} records",
            found.records
        ),
        Verdict::Preallocated { bytes, .. } => format!(
            "keep the {bytes} bytes of zeros after the records as preallocated space, or cut them \
             if it does not preallocate (space a preallocating writer reserved, or a tail a \
             crash left unwritten): no record is in them"
        ),
        Verdict::Refused(e) => format!("refuse, changing nothing: {e}"),
        _ => "(unknown verdict)".to_owned(),
    }
}

/// What salvage would do, in a sentence.
pub(crate) fn salvage_would(found: &Inspection) -> Option<String> {
    let plan = found.salvage.as_ref()?;
    Some(match &plan.copy {
        Some((copy, bytes)) => format!(
            "keep {} records (bytes 0..{}), after copying the {bytes} bytes from byte {} on to {}",
            plan.records,
            plan.keep_to,
            plan.keep_to,
            copy.display()
        ),
        None => format!(
            "keep all {} records (bytes 0..{}): the file was cut short, nothing is left to copy",
            plan.records, plan.keep_to
        ),
    })
}

fn vouched_by(by: &VouchedBy) -> String {
    match by {
        VouchedBy::Header => "the header".to_owned(),
        VouchedBy::Sidecar { path } => format!("the sidecar {}", path.display()),
        other => format!("{other:?}"),
    }
}

/// The inspection as JSON.
pub(crate) fn to_json(found: &Inspection, live: Option<u64>) -> Value {
    let (name, exit) = verdict_name(&found.verdict);
    let mut v = json!({
        "path": found.path,
        "verdict": name,
        "exit": exit,
        "file_len": found.file_len,
        "records": found.records,
        "seals": found.seals,
        "valid_end": found.end,
        "records_end": found.records_end,
        "next_seq": found.next_seq,
        "unsealed": found.unsealed,
        "vouched_len": found.vouched_len,
        "vouched_by": vouched_by(&found.vouched_by),
        "open_would": open_would(found),
    });
    if let Some(live) = live {
        v["live"] = json!(live);
    }
    if let Some(stop) = &found.stop {
        v["stop"] = json!({
            "offset": stop.offset,
            "seq": stop.seq,
            "cause": stop.cause.as_ref().map_or_else(|| "the file ends inside a frame".to_owned(), ToString::to_string),
        });
    }
    if let Some(plan) = &found.salvage {
        v["salvage"] = json!({
            "keep_to": plan.keep_to,
            "records": plan.records,
            "copy_to": plan.copy.as_ref().map(|(p, _)| p),
            "copy_bytes": plan.copy.as_ref().map_or(0, |(_, b)| *b),
        });
    }
    v
}

/// The inspection as text lines.
pub(crate) fn to_text(found: &Inspection) -> Vec<String> {
    let (name, _) = verdict_name(&found.verdict);
    let mut out = vec![format!("verdict: {name}")];
    out.push(format!(
        "records: {} valid ({} seals), valid frames end at byte {} of {}",
        found.records, found.seals, found.end, found.file_len
    ));
    if let Verdict::Preallocated { records_end, bytes } = found.verdict {
        out.push(format!(
            "zeros: {bytes} bytes from byte {records_end} to the end of the file"
        ));
    } else if let Some(stop) = &found.stop {
        out.push(format!(
            "first bad frame: byte {} (record {}): {}",
            stop.offset,
            stop.seq,
            stop.cause
                .as_ref()
                .map_or_else(|| "the file ends inside it".to_owned(), ToString::to_string)
        ));
    }
    out.push(format!("open would: {}", open_would(found)));
    if let Some(s) = salvage_would(found) {
        out.push(format!("salvage would: {s}"));
    }
    out
}

/// When a writer holds the log and it ends in a torn tail: the last frame
/// may be a record the writer is appending now, not a crash's leftover.
/// The verdict stays the open's; this says how to read it.
fn live_torn_note(found: &Inspection, path: &Path) -> Option<String> {
    let torn = matches!(found.verdict, Verdict::TornTail { .. });
    (torn && crate::lock::probe(path) == LockState::Held).then(|| {
        "a writer holds the log: the torn frame may be a record being written \
         right now, not damage; run verify again, or stop the writer for a verdict \
         that holds"
            .to_owned()
    })
}

/// `verify`.
pub(crate) fn verify(codec: &dyn Codec, path: &Path, json: bool) -> Result<u8, ImstoreError> {
    let (found, live) = run_inspect(codec, path)?;
    let note = live_torn_note(&found, path);
    if json {
        let mut v = to_json(&found, live);
        if let Some(note) = note {
            v["writer"] = json!("held");
            v["note"] = json!(note);
        }
        println!("{v}");
    } else {
        for line in to_text(&found) {
            println!("{line}");
        }
        if let Some(note) = note {
            println!("note: {note}");
        }
    }
    Ok(verdict_name(&found.verdict).1)
}
