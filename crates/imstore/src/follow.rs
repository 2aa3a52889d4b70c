//! `tail`: the last frames, and with `-f` a live log followed read-only.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use crate::cli::{PayloadFormat, TailArgs};
use crate::codec::Codec;
use crate::dump::{Style, lines};
use crate::error::{EXIT_OK, ImstoreError};
use crate::frames::{self, Item, Resume, Source};

/// The file's identity: inode, and the header's `file_id`.
fn identity(path: &Path, src: &mut Source) -> (u64, u64) {
    let ino = std::fs::metadata(path).map_or(0, |m| m.ino());
    let file_id = src
        .get(0, wal_format::HEADER_LEN)
        .ok()
        .and_then(|h| match wal_format::FileHeader::decode(h) {
            Ok(wal_format::Decoded::Complete(h)) => Some(h.file_id),
            _ => None,
        })
        .unwrap_or(0);
    (ino, file_id)
}

fn print(out: &mut impl Write, lines: Vec<String>) -> io::Result<()> {
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// `tail`.
pub(crate) fn tail(codec: &dyn Codec, args: &TailArgs) -> Result<u8, ImstoreError> {
    let path: &Path = &args.path;
    let style = Style {
        json: args.json,
        ops: true,
        payload: PayloadFormat::Auto,
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let finish = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| ImstoreError::io("writing to", "standard output", e)),
    };
    'restart: loop {
        let mut src = Source::open(path).map_err(|e| ImstoreError::io("opening", path, e))?;
        let id = identity(path, &mut src);
        // The last frames first.
        let mut last: VecDeque<Item> = VecDeque::new();
        let mut keep = |item: Item| {
            if matches!(item, Item::Frame(_) | Item::Damage { .. }) || !args.follow {
                last.push_back(item);
                if last.len() > args.lines {
                    last.pop_front();
                }
            }
        };
        let start =
            frames::start(&mut src, &mut keep).map_err(|e| ImstoreError::io("reading", path, e))?;
        let mut at = match start {
            Some(s) => frames::walk(&mut src, s, &mut keep)
                .map_err(|e| ImstoreError::io("reading", path, e))?,
            None => Resume {
                offset: 0,
                seq: None,
            },
        };
        for item in last.drain(..) {
            finish(print(&mut out, lines(codec, style, &item)))?;
        }
        if !args.follow {
            return Ok(EXIT_OK);
        }
        loop {
            std::thread::sleep(Duration::from_millis(args.interval_ms));
            let Ok(len) = src.refresh() else { continue };
            let now = Source::open(path).ok().map(|mut s| identity(path, &mut s));
            if now.is_some_and(|now| now != id) || len < at.offset {
                finish(print(
                    &mut out,
                    vec![if args.json {
                        serde_json::json!({"rewritten": path}).to_string()
                    } else {
                        format!(
                            "-- {} was rewritten (a compaction or salvage): following the new file from its start --",
                            path.display()
                        )
                    }],
                ))?;
                continue 'restart;
            }
            if at.seq.is_none() && at.offset == 0 {
                // The header was not complete yet.
                continue 'restart;
            }
            let mut new = Vec::new();
            let mut collect = |item: Item| {
                // A frame still being written is not damage, and zeros are
                // space the writer reserved: wait for the frames.
                if !matches!(item, Item::Torn { .. } | Item::Zeros { .. }) {
                    new.push(item);
                }
            };
            at = frames::walk(&mut src, at, &mut collect)
                .map_err(|e| ImstoreError::io("reading", path, e))?;
            for item in new {
                finish(print(&mut out, lines(codec, style, &item)))?;
            }
        }
    }
}
