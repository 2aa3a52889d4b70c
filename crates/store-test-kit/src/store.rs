//! An [`Op`] applied to a real store: [`apply_store`], and
//! [`StoreUnderTest`] for the ops that need the store's path (`Reopen`).

use std::hash::BuildHasher;
use std::io;
use std::path::{Path, PathBuf};

use indexmap_store::{Batch, IndexMapStore, StoreConfig, StoreError};

use crate::flavor::Flavor;
use crate::model::{modified, move_indices};
use crate::op::{BatchItem, Op, Outcome};

/// The [`StoreError`] behind `err`; panics if there is none.
#[track_caller]
pub fn store_error(err: &io::Error) -> &StoreError {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<StoreError>())
        .unwrap_or_else(|| panic!("not a StoreError: {err:?}"))
}

/// `result`, with the store's refusal of an index out of bounds
/// (`StoreError::InvalidIndex`, `InvalidInput`) as [`Outcome::Invalid`].
fn invalid_as_outcome<F: Flavor>(result: io::Result<Outcome<F>>) -> io::Result<Outcome<F>> {
    match result {
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                && matches!(store_error(&e), StoreError::InvalidIndex { .. }) =>
        {
            Ok(Outcome::Invalid)
        }
        other => other,
    }
}

/// Applies `op` to `store`, which must not be asked to [`Op::Reopen`]
/// (see [`StoreUnderTest`] for that).
///
/// Deliberately mirrors [`apply_model`](crate::apply_model) arm for arm:
/// the two are the sides a test compares, so neither may call the other.
pub fn apply_store<F: Flavor, S: BuildHasher + Clone>(
    store: &mut IndexMapStore<F::K, F::V, S>,
    op: &Op<F>,
) -> io::Result<Outcome<F>> {
    Ok(match op {
        Op::Insert(k, v) => Outcome::Value(store.insert(k.clone(), v.clone())?),
        Op::InsertFull(k, v) => {
            let (i, old) = store.insert_full(k.clone(), v.clone())?;
            Outcome::Full(i, old)
        }
        Op::Remove(k) => Outcome::Value(store.remove(k)?),
        Op::ShiftRemove(k) => Outcome::Value(store.shift_remove(k)?),
        Op::SwapRemove(k) => Outcome::Value(store.swap_remove(k)?),
        Op::ShiftRemoveFull(k) => Outcome::RemovedFull(store.shift_remove_full(k)?),
        Op::SwapRemoveFull(k) => Outcome::RemovedFull(store.swap_remove_full(k)?),
        Op::ShiftRemoveIndex(i) => Outcome::Removed(store.shift_remove_index(*i)?),
        Op::SwapRemoveIndex(i) => Outcome::Removed(store.swap_remove_index(*i)?),
        Op::Pop => Outcome::Removed(store.pop()?),
        Op::Clear => {
            store.clear()?;
            Outcome::Unit
        }
        Op::MoveIndex(from, to) => {
            if let Some((from, to)) = move_indices(*from, *to, store.len()) {
                store.move_index(from, to)?;
            }
            Outcome::Unit
        }
        Op::Modify(k, d) => Outcome::Modified(store.modify(k, |v| modified::<F>(v, d))?),
        Op::Entry {
            key,
            delta,
            default,
        } => Outcome::EntryValue(
            store
                .entry(key.clone())
                .and_modify(|v| F::modify(v, delta))?
                .or_insert(default.clone())?
                .clone(),
        ),
        Op::InsertMany(pairs) => {
            store.insert_many(pairs.iter().cloned())?;
            Outcome::Unit
        }
        Op::Extend(pairs) => {
            store.extend(pairs.iter().cloned())?;
            Outcome::Unit
        }
        Op::Apply(items) => {
            let mut batch = Batch::new();
            for item in items {
                match item {
                    BatchItem::Insert(k, v) => batch.insert(k.clone(), v.clone()),
                    BatchItem::ShiftRemove(k) => batch.shift_remove(k.clone()),
                    BatchItem::SwapRemove(k) => batch.swap_remove(k.clone()),
                };
            }
            assert_eq!(batch.len(), items.len());
            store.apply(batch)?;
            Outcome::Unit
        }
        Op::Compact => {
            store.compact()?;
            Outcome::Unit
        }
        Op::Flush => {
            store.flush()?;
            Outcome::Unit
        }
        Op::Reopen => {
            return Err(io::Error::other(
                "apply_store cannot reopen; use StoreUnderTest",
            ));
        }
        Op::Retain(d) => {
            store.retain(|k, v| F::keep(k, v, *d))?;
            Outcome::Unit
        }
        Op::Truncate(len) => {
            store.truncate(*len)?;
            Outcome::Unit
        }
        Op::Drain(start, end) => {
            return invalid_as_outcome(store.drain(*start..*end).map(Outcome::Entries));
        }
        Op::SplitOff(at) => {
            return invalid_as_outcome(
                store
                    .split_off(*at)
                    .map(|m| Outcome::Entries(m.into_iter().collect())),
            );
        }
        Op::PopIf(d) => Outcome::Removed(store.pop_if(|_, v| *v >= *d)?),
        Op::ShiftRemoveEntry(k) => Outcome::Removed(store.shift_remove_entry(k)?),
        Op::SwapRemoveEntry(k) => Outcome::Removed(store.swap_remove_entry(k)?),
        Op::SortKeys => {
            store.sort_keys()?;
            Outcome::Unit
        }
        Op::SortBy => {
            store.sort_by(|k1, v1, k2, v2| F::compare(k1, v1, k2, v2))?;
            Outcome::Unit
        }
        Op::SortByKey => {
            store.sort_by_key(|k, v| F::class(k, v))?;
            Outcome::Unit
        }
        Op::SortUnstableKeys => {
            store.sort_unstable_keys()?;
            Outcome::Unit
        }
        Op::SortUnstableBy => {
            store.sort_unstable_by(|k1, v1, k2, v2| (v1, k1).cmp(&(v2, k2)))?;
            Outcome::Unit
        }
        Op::SortUnstableByKey => {
            store.sort_unstable_by_key(|k, _| (F::key_size(k), k.clone()))?;
            Outcome::Unit
        }
        Op::SortByCachedKey => {
            store.sort_by_cached_key(|k, _| F::key_size(k))?;
            Outcome::Unit
        }
        Op::Reverse => {
            store.reverse()?;
            Outcome::Unit
        }
        Op::SwapIndices(a, b) => {
            return invalid_as_outcome(store.swap_indices(*a, *b).map(|()| Outcome::Unit));
        }
        Op::ShiftInsert(i, k, v) => {
            return invalid_as_outcome(
                store
                    .shift_insert(*i, k.clone(), v.clone())
                    .map(Outcome::Value),
            );
        }
        Op::InsertBefore(i, k, v) => {
            return invalid_as_outcome(
                store
                    .insert_before(*i, k.clone(), v.clone())
                    .map(|(at, old)| Outcome::Full(at, old)),
            );
        }
        Op::ReplaceIndex(i, k) => {
            return invalid_as_outcome(store.replace_index(*i, k.clone()).map(Outcome::Replaced));
        }
        Op::InsertSorted(k, v) => {
            let (i, old) = store.insert_sorted(k.clone(), v.clone())?;
            Outcome::Full(i, old)
        }
        Op::InsertSortedBy(k, v) => {
            let (i, old) = store.insert_sorted_by(k.clone(), v.clone(), F::compare)?;
            Outcome::Full(i, old)
        }
        Op::InsertSortedByKey(k, v) => {
            let (i, old) = store.insert_sorted_by_key(k.clone(), v.clone(), F::class)?;
            Outcome::Full(i, old)
        }
        Op::ExtractIf(start, end, d) => {
            return invalid_as_outcome(
                store
                    .extract_if(*start..*end, |k, v| !F::keep(k, v, *d))
                    .map(Outcome::Entries),
            );
        }
        Op::Append(pairs) => {
            let mut other: indexmap::IndexMap<F::K, F::V> = pairs.iter().cloned().collect();
            store.append(&mut other)?;
            assert!(other.is_empty(), "append leaves `other` empty");
            Outcome::Unit
        }
        Op::Splice(start, end, pairs) => {
            return invalid_as_outcome(
                store
                    .splice(*start..*end, pairs.iter().cloned())
                    .map(Outcome::Entries),
            );
        }
        Op::IndexEntryInsert(i, v) => match store.get_index_entry(*i) {
            Some(mut e) => Outcome::Value(Some(e.insert(v.clone())?)),
            None => Outcome::Value(None),
        },
        Op::FirstEntrySwapRemove => match store.first_entry() {
            Some(e) => Outcome::Removed(Some(e.swap_remove_entry()?)),
            None => Outcome::Removed(None),
        },
        Op::LastEntryModify(d) => match store.last_entry() {
            Some(mut e) => Outcome::Modified(Some(e.modify(|v| modified::<F>(v, d))?)),
            None => Outcome::Modified(None),
        },
    })
}

/// A store at a path, which [`Op::Reopen`] drops and opens again.
#[derive(Debug)]
pub struct StoreUnderTest<F: Flavor> {
    path: PathBuf,
    config: StoreConfig,
    store: Option<IndexMapStore<F::K, F::V>>,
}

impl<F: Flavor> StoreUnderTest<F> {
    /// Opens (creating) the store at `path` with `config`.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let store = IndexMapStore::open_with(&path, config)?;
        Ok(Self {
            path,
            config,
            store: Some(store),
        })
    }

    /// The open store.
    pub fn store(&self) -> &IndexMapStore<F::K, F::V> {
        self.store
            .as_ref()
            .expect("the store is open between operations")
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration it is opened with.
    pub fn config(&self) -> StoreConfig {
        self.config
    }

    /// Applies `op`; [`Op::Reopen`] drops the store and opens it again.
    pub fn apply(&mut self, op: &Op<F>) -> io::Result<Outcome<F>> {
        if let Op::Reopen = op {
            drop(self.store.take());
            self.store = Some(IndexMapStore::open_with(&self.path, self.config)?);
            return Ok(Outcome::Unit);
        }
        apply_store(
            self.store
                .as_mut()
                .expect("the store is open between operations"),
            op,
        )
    }
}
