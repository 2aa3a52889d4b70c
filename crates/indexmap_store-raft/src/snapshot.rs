//! Snapshots: the compacted log format, kept in one file.
//!
//! A snapshot is a wal-io log (tag [`SNAPSHOT_APP_TAG`]) holding a header
//! record (the openraft metadata and the entry count), then one insert
//! record per live entry, in the map's order. It is written with wal-io's
//! atomic rewrite (temporary file, sync, rename, directory sync), so a
//! crash leaves the old snapshot or the new one, whole. The same bytes are
//! what a leader sends to a follower that fell behind; the follower checks
//! every checksum and the count before it installs them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use wal_io::storage::{OpenMode, read_exact_at};
use wal_io::{Storage, Visibility, Wal, WalFollower, WalOptions};

use crate::codec::{decode_whole, encode_tagged, split_tag};
use crate::error::RaftStoreError;
use crate::types::{Key, SnapshotMeta, Value};

/// The snapshot file's application tag.
pub const SNAPSHOT_APP_TAG: &[u8] = b"imsraft/snap-bc2";
/// The snapshot's record schema version.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

const TAG_HEADER: u8 = 1;
const TAG_INSERT: u8 = 2;

/// The suffix of the file a received snapshot is checked in.
const INCOMING_SUFFIX: &str = ".incoming";

/// The first record of a snapshot.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    meta: SnapshotMeta,
    entries: u64,
}

fn options() -> WalOptions {
    WalOptions {
        app_tag: SNAPSHOT_APP_TAG.to_vec(),
        app_version: SNAPSHOT_SCHEMA_VERSION,
        ..WalOptions::default()
    }
}

/// A decoded snapshot.
pub(crate) struct Loaded<K, V> {
    pub meta: SnapshotMeta,
    pub map: IndexMap<K, V>,
}

/// Rebuilds a snapshot from its records.
struct Decoder<K, V> {
    header: Option<Header>,
    map: IndexMap<K, V>,
    records: u64,
}

impl<K: Key, V: Value> Decoder<K, V> {
    fn new() -> Self {
        Self {
            header: None,
            map: IndexMap::new(),
            records: 0,
        }
    }

    fn record(&mut self, payload: &[u8]) -> Result<(), String> {
        self.records += 1;
        match (split_tag(payload), &self.header) {
            (Some((TAG_HEADER, body)), None) => {
                let header: Header = decode_whole(body)?;
                // The count is checked against the records at the end;
                // up to a million entries are reserved at once.
                self.map
                    .reserve(usize::try_from(header.entries.min(1 << 20)).unwrap_or(0));
                self.header = Some(header);
                Ok(())
            }
            (Some((TAG_INSERT, body)), Some(_)) => {
                let (key, value): (K, V) = decode_whole(body)?;
                if self.map.insert(key, value).is_some() {
                    return Err("a key appears twice".to_owned());
                }
                Ok(())
            }
            (Some((tag, _)), header) => Err(format!(
                "record {} has tag {tag}, unexpected {} the header",
                self.records,
                if header.is_some() { "after" } else { "before" }
            )),
            (None, _) => Err("an empty record".to_owned()),
        }
    }

    /// The snapshot, if the file held one, checked whole.
    fn finish(self) -> Result<Option<Loaded<K, V>>, String> {
        let Some(header) = self.header else {
            return Ok(None);
        };
        if header.entries != self.map.len() as u64 {
            return Err(format!(
                "the header announces {} entries but {} follow: the snapshot is incomplete",
                header.entries,
                self.map.len()
            ));
        }
        Ok(Some(Loaded {
            meta: header.meta,
            map: self.map,
        }))
    }
}

/// The snapshot file of one node.
#[derive(Debug)]
pub(crate) struct SnapshotFile {
    wal: Wal,
    storage: Arc<dyn Storage>,
    path: PathBuf,
}

impl SnapshotFile {
    /// Opens (or creates) the snapshot file at `path` and loads the
    /// snapshot it holds, if any.
    pub fn open<K: Key, V: Value>(
        storage: Arc<dyn Storage>,
        path: &Path,
    ) -> Result<(Self, Option<Loaded<K, V>>), RaftStoreError> {
        let mut decoder = Decoder::new();
        let opened = Wal::open_typed(Arc::clone(&storage), path, options(), |record| {
            decoder
                .record(record.payload)
                .map_err(|reason| RaftStoreError::Decode {
                    path: path.to_path_buf(),
                    seq: record.seq,
                    what: "snapshot record",
                    reason,
                })
        });
        let (wal, _) =
            opened.map_err(|e| e.into_callback().unwrap_or_else(RaftStoreError::from))?;
        let loaded = decoder.finish().map_err(|reason| RaftStoreError::Decode {
            path: path.to_path_buf(),
            seq: 0,
            what: "snapshot",
            reason,
        })?;
        Ok((
            Self {
                wal,
                storage,
                path: path.to_path_buf(),
            },
            loaded,
        ))
    }

    /// Replaces the snapshot with `meta` and `map`, atomically; durable
    /// when it returns.
    pub fn write<K: Key, V: Value>(
        &mut self,
        meta: &SnapshotMeta,
        map: &IndexMap<K, V>,
    ) -> Result<(), RaftStoreError> {
        let header = Header {
            meta: meta.clone(),
            entries: map.len() as u64,
        };
        let mut failure = None;
        let result = self.wal.rewrite(|w| {
            let mut fail = |e: RaftStoreError| {
                let message = e.to_string();
                failure = Some(e);
                message
            };
            w.push_with(|buf| encode_tagged(buf, TAG_HEADER, &header).map_err(&mut fail))?;
            for entry in map {
                w.push_with(|buf| encode_tagged(buf, TAG_INSERT, &entry).map_err(&mut fail))?;
            }
            Ok(())
        });
        match (result, failure) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
        }
    }

    /// The snapshot's bytes, as a follower receives them.
    pub fn read_bytes(&self) -> Result<Vec<u8>, RaftStoreError> {
        let io = |source| RaftStoreError::Io {
            op: "reading",
            path: self.path.clone(),
            source,
        };
        let file = self.storage.open_read(&self.path).map_err(io)?;
        let len = file.len().map_err(io)?;
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(usize::MAX)];
        read_exact_at(&*file, 0, &mut bytes).map_err(io)?;
        Ok(bytes)
    }

    /// Checks and decodes a snapshot received as `bytes`: every checksum,
    /// every record and the entry count. The bytes are written beside the
    /// snapshot file to be read with wal-io's reader, then removed.
    pub fn decode_received<K: Key, V: Value>(
        &self,
        bytes: &[u8],
    ) -> Result<Loaded<K, V>, RaftStoreError> {
        let mut incoming = self.path.clone().into_os_string();
        incoming.push(INCOMING_SUFFIX);
        let incoming = PathBuf::from(incoming);
        let io = |source| RaftStoreError::Io {
            op: "writing",
            path: incoming.clone(),
            source,
        };
        if self.storage.file_exists(&incoming).map_err(io)? {
            self.storage.remove(&incoming).map_err(io)?;
        }
        let file = self
            .storage
            .open(&incoming, OpenMode::CreateNew)
            .map_err(io)?;
        file.write_at(0, bytes).map_err(io)?;
        drop(file);
        let mut decoder = Decoder::new();
        let read = WalFollower::open_typed(
            Arc::clone(&self.storage),
            &incoming,
            options(),
            Visibility::Written,
            |record| decoder.record(record.payload),
        );
        let _ = self.storage.remove(&incoming);
        let bad = |reason: String| RaftStoreError::BadSnapshot { reason };
        // The decoder's reason, or the log's error in words.
        let (_, polled) =
            read.map_err(|e| bad(e.into_callback().unwrap_or_else(|e| e.to_string())))?;
        if polled.pending_bytes != 0 {
            return Err(bad(format!(
                "{} bytes at its end are not whole records",
                polled.pending_bytes
            )));
        }
        decoder
            .finish()
            .map_err(bad)?
            .ok_or_else(|| bad("it holds no snapshot header".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use wal_io::FsStorage;

    use super::*;

    /// A snapshot log whose first record is an insert, before any header.
    fn headless(path: &Path) -> Vec<u8> {
        let (mut wal, _) =
            Wal::open(Arc::new(FsStorage::new()), path, options(), |_| Ok(())).unwrap();
        wal.append(&[TAG_INSERT]).unwrap();
        wal.close().unwrap();
        std::fs::read(path).unwrap()
    }

    const HEADLESS: &str = "record 1 has tag 2, unexpected before the header";

    #[test]
    fn a_snapshot_record_that_does_not_decode_fails_the_open_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot");
        headless(&path);
        let err = SnapshotFile::open::<String, String>(Arc::new(FsStorage::new()), &path)
            .err()
            .expect("a record that does not decode must fail the open");
        match &err {
            RaftStoreError::Decode {
                seq, what, reason, ..
            } => {
                assert_eq!((*seq, *what), (0, "snapshot record"));
                assert_eq!(reason, HEADLESS);
            }
            other => panic!("expected a decode error, got {other}"),
        }
    }

    #[test]
    fn a_received_snapshot_is_refused_with_the_decoders_or_the_logs_reason() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(FsStorage::new());
        let (file, loaded) =
            SnapshotFile::open::<String, String>(Arc::clone(&storage), &dir.path().join("snap"))
                .unwrap();
        assert!(loaded.is_none());
        let reason = |bytes: &[u8]| match file.decode_received::<String, String>(bytes) {
            Err(RaftStoreError::BadSnapshot { reason }) => reason,
            Err(other) => panic!("expected a bad snapshot, got {other}"),
            Ok(_) => panic!("expected a bad snapshot, got one"),
        };

        let bytes = headless(&dir.path().join("headless"));
        assert_eq!(reason(&bytes), HEADLESS);

        let not_a_log = reason(b"{\"not\": \"a log\"}");
        assert!(
            not_a_log.contains("is not a log file written by this library"),
            "{not_a_log}"
        );
    }
}
