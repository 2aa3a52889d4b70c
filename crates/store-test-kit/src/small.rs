//! The model test's data ([`Small`]): its key space, aliases of the
//! generic vocabulary for it, and [`ops_from_bytes`], which turns arbitrary
//! bytes into ops for fuzzing.

use indexmap_store::IndexMapStore;

use crate::flavor::Small;
use crate::op::OP_VARIANTS;

/// Key type of the model tests: short strings from [`KEYS`].
pub type K = String;
/// Value type of the model tests.
pub type V = u32;
/// The store under test.
pub type Store = IndexMapStore<K, V>;
/// An operation on the model tests' data.
pub type Op = crate::Op<Small>;
/// An item of an [`Op::Apply`] batch on the model tests' data.
pub type BatchItem = crate::BatchItem<Small>;
/// What an [`Op`] returned.
pub type Outcome = crate::Outcome<Small>;
/// A [`Store`] at a path, which `Op::Reopen` reopens.
pub type StoreUnderTest = crate::StoreUnderTest<Small>;

/// The key space: few keys, so inserts collide and removals hit; two of
/// them longer, so records differ in size.
pub const KEYS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "gg", "hhhhhhhhhhhhhhhh"];

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
            38 => Op::InsertSorted(r.key(), r.value()),
            39 => Op::InsertSortedBy(r.key(), r.value()),
            40 => Op::InsertSortedByKey(r.key(), r.value()),
            41 => Op::ExtractIf(r.index(), r.index(), r.value()),
            42 => Op::Append(r.pairs()),
            43 => Op::Splice(r.index(), r.index(), r.pairs()),
            44 => Op::IndexEntryInsert(r.index(), r.value()),
            45 => Op::FirstEntrySwapRemove,
            46 => Op::LastEntryModify(r.value()),
            _ => Op::Reopen,
        };
        ops.push(op);
    }
    ops
}
