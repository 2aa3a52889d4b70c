//! `dump`: one line per frame or per operation, as text or JSON lines.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};
use wal_format::FrameKind;

use crate::cli::{DumpArgs, PayloadFormat};
use crate::codec::Codec;
use crate::error::{EXIT_NOT_A_LOG, EXIT_OK, ImstoreError};
use crate::frames::{self, Frame, Item, Source};

/// How lines are printed.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    pub json: bool,
    pub ops: bool,
    pub payload: PayloadFormat,
}

fn kind_name(kind: FrameKind) -> &'static str {
    match kind {
        FrameKind::Record => "record",
        FrameKind::Seal => "seal",
        _ => "batch",
    }
}

/// A payload as text where it is printable UTF-8, else as hex.
fn payload_text(payload: &[u8], format: PayloadFormat) -> Option<String> {
    const MAX: usize = 64;
    let shown = &payload[..payload.len().min(MAX)];
    let more = if payload.len() > MAX { "…" } else { "" };
    match format {
        PayloadFormat::None => None,
        PayloadFormat::Auto => match std::str::from_utf8(payload) {
            Ok(s) if !s.chars().any(char::is_control) => Some(format!("{s:?}")),
            // Hex, and the printable bytes as a hex dump's ASCII column.
            _ => Some(format!("hex:{}{more} |{}|", hex(shown), ascii(shown))),
        },
        PayloadFormat::Hex => Some(format!("hex:{}{more}", hex(shown))),
    }
}

fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The operation in a payload, in one short text.
fn op_text(codec: &dyn Codec, payload: &[u8]) -> String {
    let v = codec.op_json(payload);
    let kind = v["op"].as_str().unwrap_or("?").to_owned();
    match (&v["decoded"], &v["error"]) {
        (_, Value::String(e)) => format!("{kind} ({e})"),
        (Value::Null, _) => kind,
        (d, _) => format!("{kind} {d}"),
    }
}

/// The lines (text or JSON) for an item.
pub(crate) fn lines(codec: &dyn Codec, style: Style, item: &Item) -> Vec<String> {
    match item {
        Item::Header(h) => {
            if style.json {
                vec![
                    json!({"header": {"version": h.version, "app_tag": String::from_utf8_lossy(h.app_tag_trimmed()), "app_version": h.app_version, "base_seq": h.base_seq, "file_id": format!("{:#018x}", h.file_id), "vouched_len": h.vouched_len}})
                        .to_string(),
                ]
            } else {
                vec![format!(
                    "header: version {}, app {:?} version {}, base_seq {}, file_id {:#018x}, vouched_len {}, {} bytes",
                    h.version,
                    String::from_utf8_lossy(h.app_tag_trimmed()),
                    h.app_version,
                    h.base_seq,
                    h.file_id,
                    h.vouched_len,
                    h.encoded_len()
                )]
            }
        }
        Item::NoHeader { why } => {
            if style.json {
                vec![json!({"no_header": why}).to_string()]
            } else {
                vec![format!(
                    "no log header ({why}): looking for frames from byte 0; only the low 32 bits of sequence numbers are known"
                )]
            }
        }
        Item::Frame(f) => frame_lines(codec, style, f),
        Item::Damage {
            offset,
            bytes,
            cause,
        } => {
            if style.json {
                vec![
                    json!({"damage": {"offset": offset, "bytes": bytes, "cause": cause}})
                        .to_string(),
                ]
            } else {
                vec![format!(
                    "@{offset} DAMAGED: {bytes} bytes skipped up to the next valid frame: {cause}"
                )]
            }
        }
        Item::Zeros { offset, bytes } => {
            if style.json {
                vec![json!({"zeros": {"offset": offset, "bytes": bytes}}).to_string()]
            } else {
                vec![format!(
                    "@{offset} ZEROS: {bytes} bytes of zeros to the end of the file (space a preallocating writer reserved, or a tail a crash left unwritten): no record is in them"
                )]
            }
        }
        Item::Torn { offset, bytes } => {
            if style.json {
                vec![json!({"torn": {"offset": offset, "bytes": bytes}}).to_string()]
            } else {
                vec![format!(
                    "@{offset} TORN: the file ends inside a frame ({bytes} bytes)"
                )]
            }
        }
    }
}

fn frame_lines(codec: &dyn Codec, style: Style, f: &Frame) -> Vec<String> {
    let frame_head = |seq: u64| {
        format!(
            "@{} seq={} {} synced<{} len={} crc={:#010x}",
            f.offset,
            seq,
            kind_name(f.kind),
            f.synced_upto,
            f.len,
            f.crc
        )
    };
    let record_json = |i: usize, p: &[u8]| {
        let mut v = json!({
            "seq": f.seq + i as u64,
            "op": codec.op_json(p),
            "len": p.len(),
        });
        if let Some(text) = payload_text(p, style.payload) {
            v["payload"] = json!(text);
        }
        v
    };
    let frame_json = || {
        json!({
            "offset": f.offset,
            "seq": f.seq,
            "kind": kind_name(f.kind),
            "synced_upto": f.synced_upto,
            "len": f.len,
            "frame_len": f.frame_len,
            "crc": format!("{:#010x}", f.crc),
        })
    };
    if f.payloads.is_empty() {
        return vec![if style.json {
            frame_json().to_string()
        } else {
            frame_head(f.seq)
        }];
    }
    if style.ops {
        return f
            .payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if style.json {
                    let mut v = frame_json();
                    v["seq"] = json!(f.seq + i as u64);
                    v["record"] = record_json(i, p);
                    v.to_string()
                } else {
                    let mut line =
                        format!("{} {}", frame_head(f.seq + i as u64), op_text(codec, p));
                    if let Some(text) = payload_text(p, style.payload) {
                        line.push(' ');
                        line.push_str(&text);
                    }
                    line
                }
            })
            .collect();
    }
    if style.json {
        let mut v = frame_json();
        v["records"] = f
            .payloads
            .iter()
            .enumerate()
            .map(|(i, p)| record_json(i, p))
            .collect();
        return vec![v.to_string()];
    }
    let mut out = vec![];
    if f.payloads.len() == 1 {
        let p = &f.payloads[0];
        let mut line = format!("{} {}", frame_head(f.seq), op_text(codec, p));
        if let Some(text) = payload_text(p, style.payload) {
            line.push(' ');
            line.push_str(&text);
        }
        out.push(line);
    } else {
        out.push(format!(
            "{} records={}",
            frame_head(f.seq),
            f.payloads.len()
        ));
        for (i, p) in f.payloads.iter().enumerate() {
            let mut line = format!("    seq={} {}", f.seq + i as u64, op_text(codec, p));
            if let Some(text) = payload_text(p, style.payload) {
                line.push(' ');
                line.push_str(&text);
            }
            out.push(line);
        }
    }
    out
}

/// Whether `item` is within the ranges asked for.
fn wanted(args: &DumpArgs, item: &Item) -> bool {
    let offset = match item {
        Item::Header(_) | Item::NoHeader { .. } => return args.from.is_none_or(|f| f == 0),
        Item::Frame(f) => {
            let last = f.seq + (f.payloads.len() as u64).max(1) - 1;
            if args.seq_from.is_some_and(|s| last < s) || args.seq_to.is_some_and(|s| f.seq >= s) {
                return false;
            }
            f.offset
        }
        Item::Damage { offset, .. } | Item::Torn { offset, .. } | Item::Zeros { offset, .. } => {
            *offset
        }
    };
    args.from.is_none_or(|f| offset >= f) && args.to.is_none_or(|t| offset < t)
}

/// `dump`.
pub(crate) fn dump(codec: &dyn Codec, args: &DumpArgs) -> Result<u8, ImstoreError> {
    let path: &Path = &args.path;
    let mut src = Source::open(path).map_err(|e| ImstoreError::io("opening", path, e))?;
    let style = Style {
        json: args.json,
        ops: args.ops,
        payload: args.payload,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut damaged = 0u64;
    let mut write_err = None;
    let mut emit = |item: Item| {
        if matches!(item, Item::Damage { .. } | Item::Torn { .. }) {
            damaged += 1;
        }
        if write_err.is_some() || !wanted(args, &item) {
            return;
        }
        for line in lines(codec, style, &item) {
            if let Err(e) = writeln!(out, "{line}") {
                write_err = Some(e);
                return;
            }
        }
    };
    let walked = frames::start(&mut src, &mut emit).and_then(|start| {
        start
            .map(|s| frames::walk(&mut src, s, &mut emit))
            .transpose()
    });
    let walked = walked.map_err(|e| ImstoreError::io("reading", path, e))?;
    match write_err {
        // A closed pipe (`| head`) is not a failure.
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(EXIT_OK),
        Some(e) => return Err(ImstoreError::io("writing to", "standard output", e)),
        None => {}
    }
    let _ = out.flush();
    if walked.is_none() && src.len() == 0 {
        eprintln!("{} is empty", path.display());
        return Ok(EXIT_NOT_A_LOG);
    }
    if damaged > 0 {
        eprintln!(
            "{}: {damaged} damaged or incomplete range(s) reported; `imstore verify` says what an open would do with them",
            path.display()
        );
    }
    Ok(EXIT_OK)
}
