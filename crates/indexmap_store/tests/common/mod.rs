//! Shared test helpers: a model-checking vocabulary of store operations.
//!
//! [`Op`] names every mutating method of `IndexMapStore` (plus compaction,
//! flush and reopen). [`apply_model`] runs an op on a plain `IndexMap`,
//! [`StoreUnderTest::apply`] runs it on a real store, and both return an
//! [`Outcome`] holding what the method returned, so a test can demand that
//! they agree. [`ops_from_bytes`] turns arbitrary bytes into ops, for fuzzing.
//!
//! Every test binary compiles this module but uses only part of it. The
//! fuzz crate (`fuzz/src/lib.rs`) compiles it too, so it may use only what
//! that crate depends on: std, indexmap, wal-format, wal-io and
//! indexmap_store (`cargo xtask fuzz` fails to build otherwise).
#![allow(dead_code)]

use std::hash::BuildHasher;
use std::io;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use indexmap_store::{Batch, IndexMapStore, StoreConfig};

/// Key type of the model tests: short strings from a small set.
pub type K = String;
/// Value type of the model tests.
pub type V = u32;
/// The store under test.
pub type Store = IndexMapStore<K, V>;

/// The key space: few keys, so inserts collide and removals hit; two of
/// them longer, so records differ in size.
pub const KEYS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "gg", "hhhhhhhhhhhhhhhh"];

/// One operation of a batch passed to `IndexMapStore::apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    /// `Batch::insert`.
    Insert(K, V),
    /// `Batch::shift_remove`.
    ShiftRemove(K),
    /// `Batch::swap_remove`.
    SwapRemove(K),
}

/// One operation on the store, and on the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `insert(k, v)`.
    Insert(K, V),
    /// `insert_full(k, v)`.
    InsertFull(K, V),
    /// `remove(&k)`.
    Remove(K),
    /// `shift_remove(&k)`.
    ShiftRemove(K),
    /// `swap_remove(&k)`.
    SwapRemove(K),
    /// `shift_remove_full(&k)`.
    ShiftRemoveFull(K),
    /// `swap_remove_full(&k)`.
    SwapRemoveFull(K),
    /// `shift_remove_index(i)`; `i` may be out of bounds.
    ShiftRemoveIndex(usize),
    /// `swap_remove_index(i)`; `i` may be out of bounds.
    SwapRemoveIndex(usize),
    /// `pop()`.
    Pop,
    /// `clear()`.
    Clear,
    /// `move_index(from % len, to % len)`; nothing when the map is empty
    /// (an out-of-bounds move panics by contract).
    MoveIndex(usize, usize),
    /// `modify(&k, |v| { old = *v; *v += d; old })`.
    Modify(K, V),
    /// `entry(k).and_modify(|v| *v += d).or_insert(default)`.
    Entry {
        /// The key.
        key: K,
        /// Added to a present value.
        delta: V,
        /// Inserted when absent.
        default: V,
    },
    /// `insert_many(pairs)`.
    InsertMany(Vec<(K, V)>),
    /// `extend(pairs)`.
    Extend(Vec<(K, V)>),
    /// `apply(batch)`.
    Apply(Vec<BatchItem>),
    /// `compact()`.
    Compact,
    /// `flush()`.
    Flush,
    /// Drop the store and open it again.
    Reopen,
    /// `retain(|k, v| (v + k.len()) % 3 != d % 3)`.
    Retain(V),
    /// `truncate(len)`.
    Truncate(usize),
    /// `drain(start..end)`; may be out of bounds or reversed.
    Drain(usize, usize),
    /// `split_off(at)`; may be out of bounds.
    SplitOff(usize),
    /// `pop_if(|_, v| *v >= d)`.
    PopIf(V),
    /// `shift_remove_entry(&k)`.
    ShiftRemoveEntry(K),
    /// `swap_remove_entry(&k)`.
    SwapRemoveEntry(K),
    /// `sort_keys()`.
    SortKeys,
    /// `sort_by` on the values, descending (stable: ties keep their order).
    SortBy,
    /// `sort_by_key(|_, v| v % 3)` (stable).
    SortByKey,
    /// `sort_unstable_keys()`.
    SortUnstableKeys,
    /// `sort_unstable_by` on `(value, key)` (a total order).
    SortUnstableBy,
    /// `sort_unstable_by_key(|k, _| (k.len(), k.clone()))` (a total order).
    SortUnstableByKey,
    /// `sort_by_cached_key(|k, _| k.len())` (stable).
    SortByCachedKey,
    /// `reverse()`.
    Reverse,
    /// `swap_indices(a, b)`; may be out of bounds.
    SwapIndices(usize, usize),
    /// `shift_insert(i, k, v)`; may be out of bounds.
    ShiftInsert(usize, K, V),
    /// `insert_before(i, k, v)`; may be out of bounds.
    InsertBefore(usize, K, V),
    /// `replace_index(i, k)`; may be out of bounds.
    ReplaceIndex(usize, K),
}

/// What a method returned, comparable between store and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `()`.
    Unit,
    /// A previous or removed value.
    Value(Option<V>),
    /// `insert_full`'s index and previous value.
    Full(usize, Option<V>),
    /// A `*_remove_full` result.
    RemovedFull(Option<(usize, K, V)>),
    /// A removed entry (`*_remove_index`, `pop`).
    Removed(Option<(K, V)>),
    /// `modify`'s result: the old value, if the key was present.
    Modified(Option<V>),
    /// The value the entry API returned.
    EntryValue(V),
    /// Removed entries (`drain`, `split_off`).
    Entries(Vec<(K, V)>),
    /// `replace_index`'s result.
    Replaced(Result<K, (usize, K)>),
    /// An index or range out of bounds: `IndexMap` panics, the store
    /// returns `StoreError::InvalidIndex` (`InvalidInput`).
    Invalid,
}

impl Op {
    /// Mutations this op adds to the store's count (`total_records`) when
    /// applied to a store whose map equals `model` (before any automatic
    /// compaction): one per record, a batch's operation count for a batch.
    pub fn mutations(&self, model: &IndexMap<K, V>) -> u64 {
        match self {
            Op::InsertMany(pairs) | Op::Extend(pairs) => pairs.len() as u64,
            Op::Apply(items) => items.len() as u64,
            // Removals of many: the entries removed.
            Op::Retain(_) | Op::Truncate(_) | Op::Drain(..) | Op::SplitOff(_) => {
                let mut after = model.clone();
                apply_model(&mut after, self);
                (model.len() - after.len()) as u64
            }
            // Reorders: the entries whose index changes.
            op if op.is_reorder() => {
                let mut after = model.clone();
                apply_model(&mut after, op);
                model
                    .keys()
                    .zip(after.keys())
                    .filter(|(a, b)| a != b)
                    .count() as u64
            }
            _ => self.records_written(model),
        }
    }

    /// Whether this op only reorders the entries.
    pub fn is_reorder(&self) -> bool {
        matches!(
            self,
            Op::SortKeys
                | Op::SortBy
                | Op::SortByKey
                | Op::SortUnstableKeys
                | Op::SortUnstableBy
                | Op::SortUnstableByKey
                | Op::SortByCachedKey
                | Op::Reverse
                | Op::SwapIndices(..)
        )
    }

    /// Records this op appends to the log when applied to a store whose map
    /// equals `model` (before any automatic compaction).
    pub fn records_written(&self, model: &IndexMap<K, V>) -> u64 {
        let wrote = match self {
            Op::Insert(..) | Op::InsertFull(..) | Op::Entry { .. } => true,
            Op::Remove(k)
            | Op::ShiftRemove(k)
            | Op::SwapRemove(k)
            | Op::ShiftRemoveFull(k)
            | Op::SwapRemoveFull(k)
            | Op::Modify(k, _) => model.contains_key(k),
            Op::ShiftRemoveIndex(i) | Op::SwapRemoveIndex(i) => *i < model.len(),
            Op::Pop | Op::Clear | Op::MoveIndex(..) => !model.is_empty(),
            Op::InsertMany(pairs) | Op::Extend(pairs) => !pairs.is_empty(),
            Op::Apply(items) => !items.is_empty(),
            Op::Compact | Op::Flush | Op::Reopen => false,
            Op::Retain(_) | Op::Truncate(_) | Op::Drain(..) | Op::SplitOff(_) => {
                self.mutations(model) > 0
            }
            Op::PopIf(d) => model.last().is_some_and(|(_, v)| v >= d),
            Op::ShiftRemoveEntry(k) | Op::SwapRemoveEntry(k) => model.contains_key(k),
            op if op.is_reorder() => op.mutations(model) > 0,
            Op::ShiftInsert(..) | Op::InsertBefore(..) | Op::ReplaceIndex(..) => !matches!(
                apply_model(&mut model.clone(), self),
                Outcome::Invalid | Outcome::Replaced(Err(_))
            ),
            _ => unreachable!("every op is covered above"),
        };
        u64::from(wrote)
    }

    /// The op's name, for coverage checks.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Insert(..) => "insert",
            Op::InsertFull(..) => "insert_full",
            Op::Remove(_) => "remove",
            Op::ShiftRemove(_) => "shift_remove",
            Op::SwapRemove(_) => "swap_remove",
            Op::ShiftRemoveFull(_) => "shift_remove_full",
            Op::SwapRemoveFull(_) => "swap_remove_full",
            Op::ShiftRemoveIndex(_) => "shift_remove_index",
            Op::SwapRemoveIndex(_) => "swap_remove_index",
            Op::Pop => "pop",
            Op::Clear => "clear",
            Op::MoveIndex(..) => "move_index",
            Op::Modify(..) => "modify",
            Op::Entry { .. } => "entry",
            Op::InsertMany(_) => "insert_many",
            Op::Extend(_) => "extend",
            Op::Apply(_) => "apply",
            Op::Compact => "compact",
            Op::Flush => "flush",
            Op::Reopen => "reopen",
            Op::Retain(_) => "retain",
            Op::Truncate(_) => "truncate",
            Op::Drain(..) => "drain",
            Op::SplitOff(_) => "split_off",
            Op::PopIf(_) => "pop_if",
            Op::ShiftRemoveEntry(_) => "shift_remove_entry",
            Op::SwapRemoveEntry(_) => "swap_remove_entry",
            Op::SortKeys => "sort_keys",
            Op::SortBy => "sort_by",
            Op::SortByKey => "sort_by_key",
            Op::SortUnstableKeys => "sort_unstable_keys",
            Op::SortUnstableBy => "sort_unstable_by",
            Op::SortUnstableByKey => "sort_unstable_by_key",
            Op::SortByCachedKey => "sort_by_cached_key",
            Op::Reverse => "reverse",
            Op::SwapIndices(..) => "swap_indices",
            Op::ShiftInsert(..) => "shift_insert",
            Op::InsertBefore(..) => "insert_before",
            Op::ReplaceIndex(..) => "replace_index",
        }
    }
}

/// Number of distinct [`Op`] variants.
pub const OP_VARIANTS: usize = 39;

/// `retain`'s closure in [`Op::Retain`].
fn retain_keep(k: &K, v: &V, d: V) -> bool {
    v.wrapping_add(k.len() as V) % 3 != d % 3
}

fn add(v: &mut V, d: V) -> V {
    let old = *v;
    *v = v.wrapping_add(d);
    old
}

/// The valid `(from, to)` of a `MoveIndex` on a map of `len` entries.
fn move_indices(from: usize, to: usize, len: usize) -> Option<(usize, usize)> {
    (len > 0).then(|| (from % len, to % len))
}

/// Applies `op` to the model.
pub fn apply_model<S: BuildHasher + Clone>(model: &mut IndexMap<K, V, S>, op: &Op) -> Outcome {
    match op {
        Op::Insert(k, v) => Outcome::Value(model.insert(k.clone(), *v)),
        Op::InsertFull(k, v) => {
            let (i, old) = model.insert_full(k.clone(), *v);
            Outcome::Full(i, old)
        }
        Op::Remove(k) | Op::ShiftRemove(k) => Outcome::Value(model.shift_remove(k)),
        Op::SwapRemove(k) => Outcome::Value(model.swap_remove(k)),
        Op::ShiftRemoveFull(k) => Outcome::RemovedFull(model.shift_remove_full(k)),
        Op::SwapRemoveFull(k) => Outcome::RemovedFull(model.swap_remove_full(k)),
        Op::ShiftRemoveIndex(i) => Outcome::Removed(model.shift_remove_index(*i)),
        Op::SwapRemoveIndex(i) => Outcome::Removed(model.swap_remove_index(*i)),
        Op::Pop => Outcome::Removed(model.pop()),
        Op::Clear => {
            model.clear();
            Outcome::Unit
        }
        Op::MoveIndex(from, to) => {
            if let Some((from, to)) = move_indices(*from, *to, model.len()) {
                model.move_index(from, to);
            }
            Outcome::Unit
        }
        Op::Modify(k, d) => Outcome::Modified(model.get_mut(k).map(|v| add(v, *d))),
        Op::Entry {
            key,
            delta,
            default,
        } => Outcome::EntryValue(
            *model
                .entry(key.clone())
                .and_modify(|v| *v = v.wrapping_add(*delta))
                .or_insert(*default),
        ),
        Op::InsertMany(pairs) | Op::Extend(pairs) => {
            model.extend(pairs.iter().cloned());
            Outcome::Unit
        }
        Op::Apply(items) => {
            for item in items {
                match item {
                    BatchItem::Insert(k, v) => {
                        model.insert(k.clone(), *v);
                    }
                    BatchItem::ShiftRemove(k) => {
                        model.shift_remove(k);
                    }
                    BatchItem::SwapRemove(k) => {
                        model.swap_remove(k);
                    }
                }
            }
            Outcome::Unit
        }
        Op::Compact | Op::Flush | Op::Reopen => Outcome::Unit,
        Op::Retain(d) => {
            model.retain(|k, v| retain_keep(k, v, *d));
            Outcome::Unit
        }
        Op::Truncate(len) => {
            model.truncate(*len);
            Outcome::Unit
        }
        // Where IndexMap panics, the model says Invalid and changes nothing.
        Op::Drain(start, end) => {
            if start > end || *end > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(model.drain(start..end).collect())
        }
        Op::SplitOff(at) => {
            if *at > model.len() {
                return Outcome::Invalid;
            }
            Outcome::Entries(model.split_off(*at).into_iter().collect())
        }
        Op::PopIf(d) => Outcome::Removed(model.pop_if(|_, v| *v >= *d)),
        Op::ShiftRemoveEntry(k) => Outcome::Removed(model.shift_remove_entry(k)),
        Op::SwapRemoveEntry(k) => Outcome::Removed(model.swap_remove_entry(k)),
        Op::SortKeys => {
            model.sort_keys();
            Outcome::Unit
        }
        Op::SortBy => {
            model.sort_by(|_, v1, _, v2| v2.cmp(v1));
            Outcome::Unit
        }
        Op::SortByKey => {
            model.sort_by_key(|_, v| v % 3);
            Outcome::Unit
        }
        Op::SortUnstableKeys => {
            model.sort_unstable_keys();
            Outcome::Unit
        }
        Op::SortUnstableBy => {
            model.sort_unstable_by(|k1, v1, k2, v2| (v1, k1).cmp(&(v2, k2)));
            Outcome::Unit
        }
        Op::SortUnstableByKey => {
            model.sort_unstable_by_key(|k, _| (k.len(), k.clone()));
            Outcome::Unit
        }
        Op::SortByCachedKey => {
            model.sort_by_cached_key(|k, _| k.len());
            Outcome::Unit
        }
        Op::Reverse => {
            model.reverse();
            Outcome::Unit
        }
        Op::SwapIndices(a, b) => {
            if *a >= model.len() || *b >= model.len() {
                return Outcome::Invalid;
            }
            model.swap_indices(*a, *b);
            Outcome::Unit
        }
        Op::ShiftInsert(i, k, v) => {
            let limit = model.len() + usize::from(!model.contains_key(k));
            if *i >= limit {
                return Outcome::Invalid;
            }
            Outcome::Value(model.shift_insert(*i, k.clone(), *v))
        }
        Op::InsertBefore(i, k, v) => {
            if *i > model.len() {
                return Outcome::Invalid;
            }
            let (at, old) = model.insert_before(*i, k.clone(), *v);
            Outcome::Full(at, old)
        }
        Op::ReplaceIndex(i, k) => {
            if *i >= model.len() {
                return Outcome::Invalid;
            }
            Outcome::Replaced(model.replace_index(*i, k.clone()))
        }
    }
}

/// `result`, with the store's refusal of an index out of bounds
/// (`StoreError::InvalidIndex`, `InvalidInput`) as [`Outcome::Invalid`].
fn invalid_as_outcome(result: io::Result<Outcome>) -> io::Result<Outcome> {
    match result {
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                && matches!(
                    store_error(&e),
                    indexmap_store::StoreError::InvalidIndex { .. }
                ) =>
        {
            Ok(Outcome::Invalid)
        }
        other => other,
    }
}

/// Applies `op` to `store`, which must not be asked to [`Op::Reopen`]
/// (see [`StoreUnderTest`] for that).
pub fn apply_store<S: BuildHasher + Clone>(
    store: &mut IndexMapStore<K, V, S>,
    op: &Op,
) -> io::Result<Outcome> {
    Ok(match op {
        Op::Insert(k, v) => Outcome::Value(store.insert(k.clone(), *v)?),
        Op::InsertFull(k, v) => {
            let (i, old) = store.insert_full(k.clone(), *v)?;
            Outcome::Full(i, old)
        }
        Op::Remove(k) => Outcome::Value(store.remove(k.as_str())?),
        Op::ShiftRemove(k) => Outcome::Value(store.shift_remove(k.as_str())?),
        Op::SwapRemove(k) => Outcome::Value(store.swap_remove(k.as_str())?),
        Op::ShiftRemoveFull(k) => Outcome::RemovedFull(store.shift_remove_full(k.as_str())?),
        Op::SwapRemoveFull(k) => Outcome::RemovedFull(store.swap_remove_full(k.as_str())?),
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
        Op::Modify(k, d) => Outcome::Modified(store.modify(k.as_str(), |v| add(v, *d))?),
        Op::Entry {
            key,
            delta,
            default,
        } => Outcome::EntryValue(
            *store
                .entry(key.clone())
                .and_modify(|v| *v = v.wrapping_add(*delta))?
                .or_insert(*default)?,
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
                    BatchItem::Insert(k, v) => batch.insert(k.clone(), *v),
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
            store.retain(|k, v| retain_keep(k, v, *d))?;
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
        Op::ShiftRemoveEntry(k) => Outcome::Removed(store.shift_remove_entry(k.as_str())?),
        Op::SwapRemoveEntry(k) => Outcome::Removed(store.swap_remove_entry(k.as_str())?),
        Op::SortKeys => {
            store.sort_keys()?;
            Outcome::Unit
        }
        Op::SortBy => {
            store.sort_by(|_, v1, _, v2| v2.cmp(v1))?;
            Outcome::Unit
        }
        Op::SortByKey => {
            store.sort_by_key(|_, v| v % 3)?;
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
            store.sort_unstable_by_key(|k, _| (k.len(), k.clone()))?;
            Outcome::Unit
        }
        Op::SortByCachedKey => {
            store.sort_by_cached_key(|k, _| k.len())?;
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
            return invalid_as_outcome(store.shift_insert(*i, k.clone(), *v).map(Outcome::Value));
        }
        Op::InsertBefore(i, k, v) => {
            return invalid_as_outcome(
                store
                    .insert_before(*i, k.clone(), *v)
                    .map(|(at, old)| Outcome::Full(at, old)),
            );
        }
        Op::ReplaceIndex(i, k) => {
            return invalid_as_outcome(store.replace_index(*i, k.clone()).map(Outcome::Replaced));
        }
    })
}

/// A store at a path, which [`Op::Reopen`] drops and opens again.
#[derive(Debug)]
pub struct StoreUnderTest {
    path: PathBuf,
    config: StoreConfig,
    store: Option<Store>,
}

impl StoreUnderTest {
    /// Opens (creating) the store at `path` with `config`.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let store = Store::open_with(&path, config)?;
        Ok(Self {
            path,
            config,
            store: Some(store),
        })
    }

    /// The open store.
    pub fn store(&self) -> &Store {
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
    pub fn apply(&mut self, op: &Op) -> io::Result<Outcome> {
        if let Op::Reopen = op {
            drop(self.store.take());
            self.store = Some(Store::open_with(&self.path, self.config)?);
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

/// The store's entries, in order, owned.
pub fn entries(store: &Store) -> Vec<(K, V)> {
    store.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// The model's entries, in order, owned.
pub fn model_entries(model: &IndexMap<K, V>) -> Vec<(K, V)> {
    model.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// Reads bytes one at a time, yielding zeros once they run out.
struct ByteReader<'a>(&'a [u8]);

impl ByteReader<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn key(&mut self) -> K {
        KEYS[usize::from(self.byte()) % KEYS.len()].to_owned()
    }

    fn value(&mut self) -> V {
        // Mostly small values; a high first byte widens it (longer varints).
        match self.byte() {
            b @ 0..=239 => V::from(b % 8),
            b => V::from(b) << (8 * (b % 4)),
        }
    }

    fn index(&mut self) -> usize {
        usize::from(self.byte() % 12)
    }

    fn pairs(&mut self) -> Vec<(K, V)> {
        let n = self.byte() % 5;
        (0..n).map(|_| (self.key(), self.value())).collect()
    }
}

/// Decodes `data` into ops (for a fuzz target): one tag byte chooses the
/// variant, the following bytes its arguments. Every byte string is valid.
pub fn ops_from_bytes(data: &[u8]) -> Vec<Op> {
    let mut r = ByteReader(data);
    let mut ops = Vec::new();
    while !r.0.is_empty() {
        let op = match usize::from(r.byte()) % OP_VARIANTS {
            0 => Op::Insert(r.key(), r.value()),
            1 => Op::InsertFull(r.key(), r.value()),
            2 => Op::Remove(r.key()),
            3 => Op::ShiftRemove(r.key()),
            4 => Op::SwapRemove(r.key()),
            5 => Op::ShiftRemoveFull(r.key()),
            6 => Op::SwapRemoveFull(r.key()),
            7 => Op::ShiftRemoveIndex(r.index()),
            8 => Op::SwapRemoveIndex(r.index()),
            9 => Op::Pop,
            10 => Op::Clear,
            11 => Op::MoveIndex(r.index(), r.index()),
            12 => Op::Modify(r.key(), r.value()),
            13 => Op::Entry {
                key: r.key(),
                delta: r.value(),
                default: r.value(),
            },
            14 => Op::InsertMany(r.pairs()),
            15 => Op::Extend(r.pairs()),
            16 => {
                let n = r.byte() % 6;
                let items = (0..n)
                    .map(|_| match r.byte() % 3 {
                        0 => BatchItem::Insert(r.key(), r.value()),
                        1 => BatchItem::ShiftRemove(r.key()),
                        _ => BatchItem::SwapRemove(r.key()),
                    })
                    .collect();
                Op::Apply(items)
            }
            17 => Op::Compact,
            18 => Op::Flush,
            19 => Op::Retain(r.value()),
            20 => Op::Truncate(r.index()),
            21 => Op::Drain(r.index(), r.index()),
            22 => Op::SplitOff(r.index()),
            23 => Op::PopIf(r.value()),
            24 => Op::ShiftRemoveEntry(r.key()),
            25 => Op::SwapRemoveEntry(r.key()),
            26 => Op::SortKeys,
            27 => Op::SortBy,
            28 => Op::SortByKey,
            29 => Op::SortUnstableKeys,
            30 => Op::SortUnstableBy,
            31 => Op::SortUnstableByKey,
            32 => Op::SortByCachedKey,
            33 => Op::Reverse,
            34 => Op::SwapIndices(r.index(), r.index()),
            35 => Op::ShiftInsert(r.index(), r.key(), r.value()),
            36 => Op::InsertBefore(r.index(), r.key(), r.value()),
            37 => Op::ReplaceIndex(r.index(), r.key()),
            _ => Op::Reopen,
        };
        ops.push(op);
    }
    ops
}

/// The compaction rule of the specification, written independently of the
/// store: past `min_compact_bytes`, and `total >= ratio * live`, where no
/// live record at all means an infinite ratio. A log without a dead record
/// (`total <= live`) has nothing to compact, whatever the ratio (else a
/// ratio of at most 1 would compact after every write).
pub fn spec_says_compact(config: &StoreConfig, log_bytes: u64, total: u64, live: u64) -> bool {
    if log_bytes <= config.min_compact_bytes || total <= live {
        return false;
    }
    live == 0 || total as f64 >= config.compact_ratio * live as f64
}

/// Checks everything a step must leave true, besides the entries: stats
/// agree with the model, the log on disk has the size the stats claim, and
/// the log was compacted exactly when the rule says so.
///
/// `before` is the stats before the op, `written` the mutations the op
/// added (from [`Op::mutations`]).
pub fn check_step(
    sut: &StoreUnderTest,
    model: &IndexMap<K, V>,
    op: &Op,
    before: indexmap_store::StoreStats,
    written: u64,
) {
    let store = sut.store();
    let stats = store.stats();
    let live = model.len() as u64;
    assert_eq!(entries(store), model_entries(model), "entries after {op:?}");
    assert_eq!(store.len(), model.len(), "len after {op:?}");
    assert_eq!(stats.live_records, live, "live_records after {op:?}");
    let on_disk = std::fs::metadata(sut.path()).expect("log exists").len();
    assert_eq!(
        stats.log_bytes, on_disk,
        "log_bytes vs file size after {op:?}"
    );
    let cfg = sut.config();
    match op {
        Op::Reopen => {
            // Reopening a cleanly closed log replays it. Closing sealed the
            // log if records had been written since it was last sealed: one
            // 16-byte frame, not counted as a record. The open then compacts
            // if the policy says so for the file it found.
            // Replay counts the mutations the records hold (a batch counts
            // its operations, the schema record none).
            let report = store.recovery_report();
            let sealed = report.bytes - before.log_bytes;
            assert!(
                // (Every log holds a record: its schema record.)
                sealed == 0 || sealed == 16,
                "bytes across reopen: {} then {}",
                before.log_bytes,
                report.bytes
            );
            let due = cfg.should_compact(report.bytes, before.total_records, live);
            assert_eq!(
                stats.compactions,
                u64::from(due),
                "compacted at open iff due"
            );
            let records = if due { live } else { before.total_records };
            assert_eq!(stats.total_records, records, "records across reopen");
            if !due {
                assert_eq!(stats.log_bytes, report.bytes, "bytes across reopen");
            }
            assert_eq!(stats.unsynced_records, 0, "a reopened log is synced");
            assert!(
                report.truncated.is_none(),
                "a clean log has no torn tail: {report:?}"
            );
            assert!(
                report.removed_temp.is_none(),
                "no stale temp file: {report:?}"
            );
            assert!(
                !report.created && !report.initialized,
                "reopened, not created: {report:?}"
            );
        }
        Op::Compact => {
            assert_eq!(stats.compactions, before.compactions + 1, "compact counts");
            assert_eq!(
                stats.total_records, live,
                "one record per live entry after compact"
            );
            assert_eq!(stats.unsynced_records, 0, "a compacted log is synced");
        }
        _ if stats.compactions != before.compactions => {
            assert_eq!(
                stats.compactions,
                before.compactions + 1,
                "one compaction per op"
            );
            assert_eq!(
                stats.total_records, live,
                "automatic compaction after {op:?}"
            );
            assert!(
                written >= 1,
                "{op:?} wrote nothing, yet the log was compacted"
            );
            let total = before.total_records + written;
            // The pre-compaction byte count is unknown here, so only the
            // ratio half of the rule can be checked.
            assert!(
                live == 0 || total as f64 >= cfg.compact_ratio * live as f64,
                "compacted at {total} records for {live} live, ratio {}",
                cfg.compact_ratio
            );
        }
        _ => {
            assert_eq!(
                stats.total_records,
                before.total_records + written,
                "total_records after {op:?}"
            );
        }
    }
    assert!(
        !spec_says_compact(&cfg, stats.log_bytes, stats.total_records, live),
        "left a log the rule says to compact after {op:?}: {stats:?}"
    );
    if cfg.sync_on_write || *op == Op::Flush {
        assert_eq!(
            stats.unsynced_records, 0,
            "unsynced after {op:?} with {cfg:?}"
        );
    }
}

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

/// The [`indexmap_store::StoreError`] behind `err`; panics if there is none.
pub fn store_error(err: &io::Error) -> &indexmap_store::StoreError {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<indexmap_store::StoreError>())
        .unwrap_or_else(|| panic!("not a StoreError: {err:?}"))
}

/// `path` with `suffix` appended to its file name (`x.log` → `x.log.lock`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
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
