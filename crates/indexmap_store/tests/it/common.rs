//! Helpers several of the facade's integration tests share: the hand
//! parser of the log format ([`log_records`], a second oracle written
//! apart from the library and from `store-test-kit`, on purpose), a
//! writer of logs with raw payloads ([`raw_log`]) and file helpers. The
//! operation vocabulary, its model and the step oracle live in
//! `store-test-kit`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap_store::COMPACT_TMP_SUFFIX;
use wal_io::{FsStorage, Wal, WalOptions};

/// Length of the file header of the logs the store writes (format version
/// 3; versions 1 and 2 had 44 bytes).
pub const HEADER_LEN: usize = 60;

/// The records of a valid log file's bytes, as `(offset, payload)`, parsed
/// by the documented format (a 60-byte header, 44 bytes before version 3,
/// then frames of a 12-byte
/// header whose bytes 4..8 are the payload length, the payload, and a
/// 4-byte checksum; seals, marker `0x5A`, are skipped; a batch frame,
/// marker `0xC3`, holds a `u32` count and that many `u32`-length-prefixed
/// records, each reported at its frame's offset). Panics on anything else:
/// only for logs the store wrote.
pub fn log_records(bytes: &[u8]) -> Vec<(usize, Vec<u8>)> {
    assert!(
        bytes.len() >= HEADER_LEN,
        "no header: {} bytes",
        bytes.len()
    );
    let mut at = if bytes[8] >= 3 { HEADER_LEN } else { 44 };
    let mut records = Vec::new();
    while at < bytes.len() {
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let len = u32_at(at + 4);
        let start = at + 12;
        let end = start + len as usize;
        assert!(end + 4 <= bytes.len(), "frame at {at} runs past the end");
        match bytes[at] {
            0xA5 => records.push((at, bytes[start..end].to_vec())),
            0x5A => {}
            0xC3 => {
                let mut entry = start + 4;
                for _ in 0..u32_at(start) {
                    let len = u32_at(entry) as usize;
                    records.push((at, bytes[entry + 4..entry + 4 + len].to_vec()));
                    entry += 4 + len;
                }
                assert_eq!(entry, end, "batch frame at {at} is not filled exactly");
            }
            other => panic!("frame marker {other:#04x} at {at}"),
        }
        at = end + 4;
    }
    records
}

/// The application tag in a store's log header, written out here rather
/// than taken from the library.
pub const STORE_APP_TAG: &[u8] = b"ims/bincode2-std";

/// Writes `payloads` as the records of a log whose header names `app_tag`
/// and schema version `app_version`, framed as a store frames them
/// (checksums valid) whatever they hold, syncs and closes it (sealed), and
/// returns the file's bytes.
pub fn raw_log(
    path: &Path,
    app_tag: &[u8],
    app_version: u32,
    payloads: &[&[u8]],
) -> io::Result<Vec<u8>> {
    let opts = WalOptions {
        app_tag: app_tag.to_vec(),
        app_version,
        temp_suffix: COMPACT_TMP_SUFFIX.to_owned(),
        ..WalOptions::default()
    };
    let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), path, opts, |_| Ok(()))?;
    for payload in payloads {
        wal.append(payload)?;
    }
    wal.sync()?;
    wal.close()?;
    std::fs::read(path)
}

/// Every file directly in `dir` whose content is exactly `bytes`.
pub fn files_holding(dir: &Path, bytes: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("dir entry").path();
        if path.is_file() && std::fs::read(&path).expect("read") == bytes {
            found.push(path);
        }
    }
    found
}

/// Asserts that `bytes` (a file the store does not own) survive exactly once
/// in `dir`, at `tmp` or at a name beside it that starts with `tmp`'s name
/// (a set-aside copy), and returns where.
pub fn assert_foreign_file_intact(dir: &Path, tmp: &Path, bytes: &[u8]) -> PathBuf {
    let holders = files_holding(dir, bytes);
    assert_eq!(
        holders.len(),
        1,
        "the foreign bytes must survive exactly once: {holders:?}"
    );
    let holder = holders.into_iter().next().expect("one");
    let tmp_name = tmp
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let name = holder
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&tmp_name),
        "foreign file moved to {}",
        holder.display()
    );
    holder
}
