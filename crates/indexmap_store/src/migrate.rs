//! Migration: rewrite a store's log from old key and value types to new
//! ones, in one atomic rewrite.

use std::hash::{Hash, RandomState};
use std::io;
use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::open::{Replayed, SchemaCheck};
use crate::open_options::OpenOptions;
use crate::store::IndexMapStore;

impl OpenOptions {
    /// Opens the store at `path`, written with key and value types `K0`
    /// and `V0`, converts every entry with `f`, in order, and replaces the
    /// log with the converted entries and the schema record of `K` and `V`
    /// (at this options' [`schema_version`](Self::schema_version)) in one
    /// atomic rewrite: a temporary file, synced, renamed over the log, the
    /// directory synced. A crash at any point leaves the old log or the new
    /// one; an error leaves the old log (unless the log itself reports it
    /// is in doubt, as [`IndexMapStore::compact`] does).
    ///
    /// The log's schema record, if it has one, must match `K0` and `V0`;
    /// its user schema version may be any (converting between versions is
    /// what a migration is for). A log without a schema record (written
    /// before schemas were recorded) is read as `K0` and `V0` unchecked.
    /// A log that already records `K` and `V` at this schema version (a
    /// migration that completed before a crash) is simply opened. A log of
    /// indexmap_store 0.2.x is refused, untouched, with
    /// [`StoreError::LegacyLog`]: import it with its own types first
    /// ([`import_legacy`](Self::import_legacy)), then migrate.
    ///
    /// Entries keep their order. If `f` maps two entries to one key, the
    /// later one's value replaces the earlier one's, at the earlier one's
    /// position, as [`IndexMap::insert`] does.
    ///
    /// Cost: one replay of the old log, O(n) calls of `f`, and one
    /// sequential write of the new log.
    ///
    /// ```
    /// # use indexmap_store::{IndexMapStore, OpenOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("ages.log");
    /// let mut old: IndexMapStore<String, u32> = IndexMapStore::open(&path)?;
    /// old.insert("alice".into(), 30)?;
    /// drop(old);
    /// // Ages become u64, and the store gets schema version 1.
    /// let new: IndexMapStore<String, u64> = OpenOptions::new()
    ///     .schema_version(1)
    ///     .migrate(&path, |k: String, v: u32| (k, u64::from(v)))?;
    /// assert_eq!(new.get("alice"), Some(&30));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn migrate<K0, V0, K, V, F>(
        &self,
        path: impl AsRef<Path>,
        mut f: F,
    ) -> io::Result<IndexMapStore<K, V>>
    where
        K0: Hash + Eq + DeserializeOwned,
        V0: DeserializeOwned,
        K: Hash + Eq + Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
        F: FnMut(K0, V0) -> (K, V),
    {
        let path = path.as_ref();
        let new_schema = self.schema::<K, V>()?;
        let old_schema = self.schema::<K0, V0>()?;
        let old = match self.replay::<K0, V0, _>(
            path,
            &old_schema,
            SchemaCheck::TypesOnly,
            RandomState::new(),
        ) {
            Ok(old) => old,
            Err(e) if is_type_mismatch(&e) => {
                // Already migrated? Then this is an ordinary open, which
                // refuses any other types with its own message.
                return match self.open::<K, V>(path) {
                    Ok(store) => Ok(store),
                    Err(_) => Err(e),
                };
            }
            // A 0.2.x log of the old types: named, as `open` names it.
            Err(e) => return Err(self.legacy_refusal::<K0, V0>(e)),
        };
        let mut map = IndexMap::with_capacity(old.map.len());
        for (k0, v0) in old.map {
            let (k, v) = f(k0, v0);
            map.insert(k, v);
        }
        let replayed = Replayed {
            map,
            wal: old.wal,
            report: old.report,
            mutations: old.mutations,
            found: old.found,
        };
        let mut store = IndexMapStore::from_replayed(replayed, new_schema, self.config);
        store.verify_writes = self.verify_writes;
        store.compact()?;
        Ok(store)
    }
}

fn is_type_mismatch(e: &io::Error) -> bool {
    matches!(
        e.get_ref().and_then(|e| e.downcast_ref::<StoreError>()),
        Some(StoreError::TypeMismatch { .. })
    )
}

impl<K, V> IndexMapStore<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Converts the store at `path` from key and value types `K0` and `V0`
    /// to `K` and `V` with `f`, with default options (schema version 0):
    /// see [`OpenOptions::migrate`].
    ///
    /// ```
    /// # use indexmap_store::IndexMapStore;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize)]
    /// struct User { name: String }
    /// #[derive(Serialize, Deserialize)]
    /// struct UserV2 { name: String, admin: bool }
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("users.log");
    /// # let mut s: IndexMapStore<u32, User> = IndexMapStore::open(&path)?;
    /// # s.insert(1, User { name: "a".into() })?;
    /// # drop(s);
    /// let store = IndexMapStore::<u32, UserV2>::migrate(&path, |id, u: User| {
    ///     (id, UserV2 { name: u.name, admin: false })
    /// })?;
    /// assert!(!store.get(&1).unwrap().admin);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn migrate<K0, V0, F>(path: impl AsRef<Path>, f: F) -> io::Result<Self>
    where
        K0: Hash + Eq + DeserializeOwned,
        V0: DeserializeOwned,
        F: FnMut(K0, V0) -> (K, V),
    {
        OpenOptions::new().migrate(path, f)
    }
}
