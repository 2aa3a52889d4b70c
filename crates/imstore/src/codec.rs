//! How payloads are shown and what needs the key and value types: the
//! untyped build names operations; a typed build ([`crate::run`]) decodes
//! keys and values, counts live entries and can compact and import.

use std::hash::Hash;
use std::marker::PhantomData;
use std::path::Path;

use indexmap_store::inspect::{LoggedOp, decode_record, replay_read_only, summarize};
use indexmap_store::{IndexMapStore, OpenOptions, StoreError, WalError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wal_io::inspect::{Inspection, ReadOnlyFs};

use crate::error::ImstoreError;

/// What a build of the tool knows about the payloads.
pub trait Codec {
    /// Whether keys and values can be decoded.
    fn typed(&self) -> bool;

    /// The operation in `payload`, as JSON: at least `{"op": kind}`.
    fn op_json(&self, payload: &[u8]) -> Value;

    /// Replays the log read-only with the types: the live entries and the
    /// verdict. `None` for the untyped build.
    fn replay(&self, path: &Path) -> Option<Result<(u64, Inspection), ImstoreError>>;

    /// Opens the store and compacts it.
    ///
    /// # Errors
    ///
    /// [`ImstoreError::NeedsTypes`] in the untyped build; what the store's
    /// open or compaction fails with.
    fn compact(&self, path: &Path, schema_version: u32) -> Result<String, ImstoreError>;

    /// Opens a 0.2.x log, importing it.
    ///
    /// # Errors
    ///
    /// [`ImstoreError::NeedsTypes`] in the untyped build; what the import
    /// fails with.
    fn import_legacy(&self, path: &Path, schema_version: u32) -> Result<String, ImstoreError>;
}

/// Without types: operations named, their key-free fields decoded.
#[derive(Debug, Default, Clone, Copy)]
pub struct Untyped;

impl Codec for Untyped {
    fn typed(&self) -> bool {
        false
    }

    fn op_json(&self, payload: &[u8]) -> Value {
        let summary = summarize(payload);
        let mut v = json!({ "op": summary.kind });
        if let Some(m) = summary.mutations {
            v["mutations"] = json!(m);
        }
        if let Some(op) = summary.op {
            v["decoded"] = serde_json::to_value(op).unwrap_or(Value::Null);
        }
        v
    }

    fn replay(&self, _path: &Path) -> Option<Result<(u64, Inspection), ImstoreError>> {
        None
    }

    fn compact(&self, _path: &Path, _schema_version: u32) -> Result<String, ImstoreError> {
        Err(ImstoreError::NeedsTypes { what: "compact" })
    }

    fn import_legacy(&self, _path: &Path, _schema_version: u32) -> Result<String, ImstoreError> {
        Err(ImstoreError::NeedsTypes {
            what: "import-legacy",
        })
    }
}

/// With the store's key and value types.
pub struct Typed<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> Default for Typed<K, V> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<K, V> Codec for Typed<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    fn typed(&self) -> bool {
        true
    }

    fn op_json(&self, payload: &[u8]) -> Value {
        match decode_record::<K, V>(payload) {
            Ok(op) => {
                let kind = summarize(payload).kind;
                let decoded = match op {
                    LoggedOp::Insert(k, v) => json!({ "key": k, "value": v }),
                    other => serde_json::to_value(other).unwrap_or(Value::Null),
                };
                json!({ "op": kind, "decoded": decoded })
            }
            Err(e) => {
                let mut v = Untyped.op_json(payload);
                v["error"] = json!(format!("not an operation on these types: {e}"));
                v
            }
        }
    }

    fn replay(&self, path: &Path) -> Option<Result<(u64, Inspection), ImstoreError>> {
        Some(
            replay_read_only::<K, V>(&ReadOnlyFs, path)
                .map(|(map, found)| (map.len() as u64, found))
                .map_err(|e| legacy_or::<K, V>(path, e)),
        )
    }

    fn compact(&self, path: &Path, schema_version: u32) -> Result<String, ImstoreError> {
        let mut store: IndexMapStore<K, V> = OpenOptions::new()
            .schema_version(schema_version)
            .open(path)
            .map_err(ImstoreError::Store)?;
        let before = store.stats();
        store.compact().map_err(ImstoreError::Store)?;
        let after = store.stats();
        store.close().map_err(ImstoreError::Store)?;
        Ok(format!(
            "compacted {}: {} bytes -> {} bytes, {} live entries",
            path.display(),
            before.log_bytes,
            after.log_bytes,
            after.live_records
        ))
    }

    fn import_legacy(&self, path: &Path, schema_version: u32) -> Result<String, ImstoreError> {
        let store: IndexMapStore<K, V> = OpenOptions::new()
            .schema_version(schema_version)
            .import_legacy(true)
            .open(path)
            .map_err(ImstoreError::Store)?;
        let msg = match store.legacy_import() {
            Some(import) => format!(
                "imported {}: {} records replayed, {} entries, {} bytes at its end not imported; the original is kept as {}",
                path.display(),
                import.records,
                import.entries,
                import.ignored_bytes,
                import.backup.display()
            ),
            None => format!(
                "{} is already a log of this version; nothing was imported",
                path.display()
            ),
        };
        store.close().map_err(ImstoreError::Store)?;
        Ok(msg)
    }
}

/// `err`, a refusal of the log at `path`, as [`ImstoreError::LegacyLog`]
/// when the file is not a log of this version but the store's read-only
/// open recognises a 0.2.x log of `K` and `V` in it (it reads the file and
/// changes nothing); otherwise as it is.
fn legacy_or<K, V>(path: &Path, err: std::io::Error) -> ImstoreError
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    let not_a_log = matches!(
        err.get_ref().and_then(|e| e.downcast_ref::<StoreError>()),
        Some(StoreError::Log(WalError::NotALog { .. }))
    );
    if not_a_log
        && let Err(e) = OpenOptions::new().open_read_only::<K, V>(path)
        && let Some(StoreError::LegacyLog { records, .. }) =
            e.get_ref().and_then(|e| e.downcast_ref::<StoreError>())
    {
        return ImstoreError::LegacyLog {
            path: path.to_path_buf(),
            records: *records,
        };
    }
    ImstoreError::Store(err)
}
