//! Model test: random sequences of every mutating method, on a real store
//! and on a plain `IndexMap`, must agree after every step and every reopen.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use indexmap_store::StoreConfig;
use proptest::prelude::*;
use proptest::test_runner::Config;
use store_test_kit::small::{BatchItem, K, KEYS, Op, Outcome, StoreUnderTest, V, ops_from_bytes};
use store_test_kit::{OP_VARIANTS, apply_model, check_step};

fn key() -> impl Strategy<Value = K> {
    prop::sample::select(&KEYS[..]).prop_map(str::to_owned)
}

fn value() -> impl Strategy<Value = V> {
    prop_oneof![4 => 0u32..8, 1 => any::<u32>()]
}

fn index() -> impl Strategy<Value = usize> {
    0usize..10
}

fn pairs() -> impl Strategy<Value = Vec<(K, V)>> {
    prop::collection::vec((key(), value()), 0..5)
}

fn batch_item() -> impl Strategy<Value = BatchItem> {
    prop_oneof![
        2 => (key(), value()).prop_map(|(k, v)| BatchItem::Insert(k, v)),
        1 => key().prop_map(BatchItem::ShiftRemove),
        1 => key().prop_map(BatchItem::SwapRemove),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![5 => old_op(), 2 => new_op(), 2 => sorted_and_spliced_op()]
}

/// The sorted inserts, `extract_if`, `append`, `splice` and the entries
/// by index.
fn sorted_and_spliced_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (key(), value()).prop_map(|(k, v)| Op::InsertSorted(k, v)),
        2 => (key(), value()).prop_map(|(k, v)| Op::InsertSortedBy(k, v)),
        2 => (key(), value()).prop_map(|(k, v)| Op::InsertSortedByKey(k, v)),
        2 => (index(), index(), value()).prop_map(|(a, b, d)| Op::ExtractIf(a, b, d)),
        2 => pairs().prop_map(Op::Append),
        3 => (index(), index(), pairs()).prop_map(|(a, b, p)| Op::Splice(a, b, p)),
        1 => (index(), value()).prop_map(|(i, v)| Op::IndexEntryInsert(i, v)),
        1 => Just(Op::FirstEntrySwapRemove),
        1 => value().prop_map(Op::LastEntryModify),
    ]
}

/// The methods of schema version 3: removals of many, reorders,
/// positional inserts.
fn new_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => value().prop_map(Op::Retain),
        1 => index().prop_map(Op::Truncate),
        2 => (index(), index()).prop_map(|(a, b)| Op::Drain(a, b)),
        1 => index().prop_map(Op::SplitOff),
        1 => value().prop_map(Op::PopIf),
        1 => key().prop_map(Op::ShiftRemoveEntry),
        1 => key().prop_map(Op::SwapRemoveEntry),
        1 => Just(Op::SortKeys),
        1 => Just(Op::SortBy),
        1 => Just(Op::SortByKey),
        1 => Just(Op::SortUnstableKeys),
        1 => Just(Op::SortUnstableBy),
        1 => Just(Op::SortUnstableByKey),
        1 => Just(Op::SortByCachedKey),
        1 => Just(Op::Reverse),
        2 => (index(), index()).prop_map(|(a, b)| Op::SwapIndices(a, b)),
        2 => (index(), key(), value()).prop_map(|(i, k, v)| Op::ShiftInsert(i, k, v)),
        2 => (index(), key(), value()).prop_map(|(i, k, v)| Op::InsertBefore(i, k, v)),
        2 => (index(), key()).prop_map(|(i, k)| Op::ReplaceIndex(i, k)),
    ]
}

fn old_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (key(), value()).prop_map(|(k, v)| Op::InsertFull(k, v)),
        2 => key().prop_map(Op::Remove),
        2 => key().prop_map(Op::ShiftRemove),
        2 => key().prop_map(Op::SwapRemove),
        1 => key().prop_map(Op::ShiftRemoveFull),
        1 => key().prop_map(Op::SwapRemoveFull),
        1 => index().prop_map(Op::ShiftRemoveIndex),
        1 => index().prop_map(Op::SwapRemoveIndex),
        1 => Just(Op::Pop),
        1 => Just(Op::Clear),
        2 => (index(), index()).prop_map(|(a, b)| Op::MoveIndex(a, b)),
        2 => (key(), value()).prop_map(|(k, v)| Op::Modify(k, v)),
        2 => (key(), value(), value())
            .prop_map(|(key, delta, default)| Op::Entry { key, delta, default }),
        1 => pairs().prop_map(Op::InsertMany),
        1 => pairs().prop_map(Op::Extend),
        2 => prop::collection::vec(batch_item(), 0..6).prop_map(Op::Apply),
        1 => Just(Op::Compact),
        1 => Just(Op::Flush),
        2 => Just(Op::Reopen),
    ]
}

fn config() -> impl Strategy<Value = StoreConfig> {
    (
        prop_oneof![Just(0u64), Just(64), Just(200), Just(1 << 20)],
        1.5f64..=3.0,
        prop::bool::weighted(0.15),
        prop_oneof![Just(0usize), Just(1), Just(64), Just(4096), Just(1 << 16)],
    )
        .prop_map(
            |(min_compact_bytes, compact_ratio, sync_on_write, buf_capacity)| StoreConfig {
                sync_on_write,
                min_compact_bytes,
                compact_ratio,
                buf_capacity,
            },
        )
}

/// Runs `ops` on a fresh store with `config` and on the model, checking
/// after every step.
fn run(config: StoreConfig, ops: &[Op]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sut = StoreUnderTest::open(dir.path().join("model.log"), config).expect("open");
    let mut model: IndexMap<K, V> = IndexMap::new();
    assert!(sut.store().is_empty());
    assert_eq!(sut.store().recovery_report().records, 0);
    for (step, op) in ops.iter().enumerate() {
        let before = sut.store().stats();
        let written = op.mutations(&model);
        let records = op.records_written(&model);
        let expected = apply_model(&mut model, op);
        let got = sut
            .apply(op)
            .unwrap_or_else(|e| panic!("step {step}: {op:?} failed: {e} ({e:?})"));
        assert_eq!(got, expected, "step {step}: result of {op:?}");
        if got == Outcome::Invalid || records == 0 && !matches!(op, Op::Reopen | Op::Compact) {
            // Refused, or nothing to do: nothing written.
            assert_eq!(
                sut.store().stats().log_bytes,
                before.log_bytes,
                "step {step}: {op:?} wrote nothing"
            );
        }
        check_step(&sut, &model, op, before, written);
    }
    // Whatever the history, a final reopen recovers the model.
    let before = sut.store().stats();
    sut.apply(&Op::Reopen).expect("final reopen");
    check_step(&sut, &model, &Op::Reopen, before, 0);
}

proptest! {
    #![proptest_config(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn store_matches_indexmap_model(
        config in config(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        run(config, &ops);
    }
}

#[test]
fn ops_from_bytes_covers_every_variant_and_runs() {
    // Every tag byte followed by argument bytes: all variants appear.
    let mut bytes: Vec<u8> = (0..=255u8)
        .flat_map(|b| [b, b.wrapping_mul(7), 3, 1, 2])
        .collect();
    // Then each tag once, padded with 30: as an argument it is a small key,
    // value or index and an empty pair list or batch, as a tag an op
    // without arguments (sort_unstable_by), so every tag is read as one.
    bytes.extend((0..OP_VARIANTS as u8).flat_map(|t| [t, 30, 30, 30]));
    let ops = ops_from_bytes(&bytes);
    let names: BTreeSet<&str> = ops.iter().map(Op::name).collect();
    assert_eq!(names.len(), OP_VARIANTS, "variants produced: {names:?}");
    assert!(ops_from_bytes(&[]).is_empty());
    // Truncated arguments are read as zeros, never a panic.
    assert_eq!(ops_from_bytes(&[0]), vec![Op::Insert("a".to_owned(), 0)]);
    let config = StoreConfig {
        min_compact_bytes: 64,
        compact_ratio: 2.0,
        ..StoreConfig::default()
    };
    run(config, &ops);
}

fn fixed_history() -> Vec<Op> {
    // A deterministic run touching every op on a non-empty map, so the
    // model test does not depend on luck for coverage.
    let k = |s: &str| s.to_owned();
    vec![
        Op::Insert(k("a"), 1),
        Op::InsertFull(k("b"), 2),
        Op::InsertMany(vec![(k("c"), 3), (k("d"), 4), (k("a"), 10)]),
        Op::Extend(vec![(k("e"), 5), (k("f"), 6)]),
        Op::Insert(k("b"), 20),
        Op::MoveIndex(0, 4),
        Op::Remove(k("c")),
        Op::SwapRemove(k("b")),
        Op::Reopen,
        Op::ShiftRemoveFull(k("d")),
        Op::SwapRemoveFull(k("zz")),
        Op::Insert(k("gg"), 7),
        Op::ShiftRemoveIndex(1),
        Op::SwapRemoveIndex(0),
        Op::SwapRemoveIndex(9),
        Op::Modify(k("gg"), 3),
        Op::Modify(k("nope"), 3),
        Op::Entry {
            key: k("gg"),
            delta: 1,
            default: 0,
        },
        Op::Entry {
            key: k("a"),
            delta: 1,
            default: 42,
        },
        Op::Apply(vec![
            BatchItem::Insert(k("b"), 1),
            BatchItem::Insert(k("c"), 2),
            BatchItem::SwapRemove(k("gg")),
            BatchItem::ShiftRemove(k("a")),
            BatchItem::Insert(k("a"), 3),
        ]),
        Op::Reopen,
        Op::Pop,
        Op::Flush,
        Op::Compact,
        Op::Reopen,
        Op::Clear,
        Op::Pop,
        Op::Clear,
        Op::Reopen,
        // Schema version 3: every new method, valid and out of bounds.
        Op::InsertMany((0..8).map(|i| (k(KEYS[7 - i]), i as V)).collect()),
        Op::SortKeys,
        Op::Reopen,
        Op::SortBy,
        Op::SortByKey,
        Op::Reverse,
        Op::SortUnstableKeys,
        Op::SortUnstableBy,
        Op::SortUnstableByKey,
        Op::SortByCachedKey,
        Op::Reopen,
        Op::SwapIndices(0, 7),
        Op::SwapIndices(3, 3),
        Op::SwapIndices(8, 0),
        Op::ShiftInsert(2, k("zz"), 9),
        Op::ShiftInsert(8, k("a"), 1),
        Op::ShiftInsert(10, k("y"), 1),
        Op::ShiftInsert(9, k("x"), 2),
        Op::InsertBefore(10, k("a"), 3),
        Op::InsertBefore(0, k("a"), 4),
        Op::InsertBefore(12, k("w"), 4),
        Op::ReplaceIndex(1, k("v")),
        Op::ReplaceIndex(0, k("b")),
        Op::ReplaceIndex(11, k("q")),
        Op::Reopen,
        Op::Retain(1),
        Op::Retain(100),
        Op::Compact,
        Op::Drain(1, 3),
        Op::Drain(2, 2),
        Op::Drain(3, 1),
        Op::Drain(0, 40),
        Op::Reopen,
        Op::SplitOff(40),
        Op::PopIf(0),
        Op::PopIf(u32::MAX),
        Op::ShiftRemoveEntry(k("b")),
        Op::SwapRemoveEntry(k("c")),
        Op::SplitOff(2),
        Op::Truncate(1),
        Op::Truncate(5),
        Op::Reopen,
        Op::SplitOff(0),
        Op::Reverse,
        Op::Reopen,
        // The sorted inserts, extract_if, append, splice, entries by index.
        Op::InsertSorted(k("d"), 4),
        Op::InsertSorted(k("b"), 2),
        Op::InsertSorted(k("f"), 6),
        Op::InsertSorted(k("b"), 20),
        Op::InsertSortedBy(k("c"), 3),
        Op::InsertSortedBy(k("b"), 0),
        Op::InsertSortedByKey(k("e"), 5),
        Op::InsertSortedByKey(k("d"), 1),
        Op::Reopen,
        Op::ExtractIf(1, 4, 0),
        Op::ExtractIf(0, 40, 1),
        Op::ExtractIf(3, 1, 1),
        Op::ExtractIf(0, 0, 2),
        Op::Append(vec![(k("a"), 1), (k("gg"), 2), (k("a"), 3), (k("zz"), 4)]),
        Op::Append(Vec::new()),
        Op::Compact,
        Op::Splice(
            1,
            3,
            vec![(k("x"), 1), (k("a"), 2), (k("x"), 3), (k("y"), 4)],
        ),
        Op::Splice(0, 0, Vec::new()),
        Op::Splice(2, 2, vec![(k("w"), 5)]),
        Op::Splice(4, 2, vec![(k("v"), 6)]),
        Op::Splice(0, 40, vec![(k("v"), 6)]),
        Op::Reopen,
        Op::IndexEntryInsert(0, 9),
        Op::IndexEntryInsert(40, 9),
        Op::LastEntryModify(3),
        Op::FirstEntrySwapRemove,
        Op::Reopen,
        Op::Splice(0, 6, Vec::new()),
        Op::FirstEntrySwapRemove,
        Op::LastEntryModify(3),
        Op::Reopen,
    ]
}

#[test]
fn model_with_a_fixed_history_of_every_op() {
    let ops = fixed_history();
    for min_compact_bytes in [0, 64, 1 << 20] {
        for sync_on_write in [false, true] {
            let config = StoreConfig {
                sync_on_write,
                min_compact_bytes,
                compact_ratio: 1.5,
                ..StoreConfig::default()
            };
            run(config, &ops);
        }
    }
}

#[test]
fn odd_configurations_keep_the_model() {
    // Ratios at and below 1, not a number, infinite or negative; no buffer;
    // a floor no log reaches. None may panic, loop, or lose an entry.
    let ops = fixed_history();
    let ratios = [0.0, 1.0, f64::NAN, f64::INFINITY, -1.0];
    for (i, compact_ratio) in ratios.into_iter().enumerate() {
        let config = StoreConfig {
            sync_on_write: false,
            min_compact_bytes: [0, 64][i % 2],
            compact_ratio,
            buf_capacity: 0,
        };
        run(config, &ops);
    }
    let config = StoreConfig {
        min_compact_bytes: u64::MAX,
        ..StoreConfig::default()
    };
    run(config, &ops);
}
