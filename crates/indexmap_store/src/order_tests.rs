//! Unit tests of `order.rs`: the permutation checks, and the fast path
//! against the plain one.

use super::*;

#[test]
fn permute_follows_cycles() {
    let mut map: IndexMap<u32, ()> = (0..6).map(|i| (i, ())).collect();
    permute(&mut map, &[2, 0, 1, 5, 4, 3]);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [2, 0, 1, 5, 4, 3]);
    for (k, i) in [(2, 0), (0, 1), (5, 3), (3, 5)] {
        assert_eq!(map.get_index_of(&k), Some(i));
    }
}

/// The fast path against the plain one, on random permutations of maps
/// of several sizes and key types: the same order, the same lookups.
#[test]
fn permute_in_place_matches_permute() {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |bound: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        usize::try_from(x % bound as u64).expect("below a usize bound")
    };
    for n in [0usize, 1, 2, 3, 10, 255, 256, 257, 1000, 70_000] {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, next(i + 1));
        }
        let strings: IndexMap<String, u64> = (0..n)
            .map(|i| (format!("k{}", next(1 << 20)), i as u64))
            .collect();
        let mut order_s: Vec<usize> = (0..strings.len()).collect();
        for i in (1..order_s.len()).rev() {
            order_s.swap(i, next(i + 1));
        }
        let (mut fast, mut plain) = (strings.clone(), strings);
        assert!(permute_in_place(&mut fast, &order_s));
        permute(&mut plain, &order_s);
        assert!(fast.iter().eq(plain.iter()), "n = {n}");
        for (i, k) in plain.keys().enumerate() {
            assert_eq!(fast.get_index_of(k), Some(i));
        }
        let numbers: IndexMap<u8, ()> = (0..n.min(256)).map(|i| (i as u8, ())).collect();
        let order_n: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| i < numbers.len())
            .collect();
        if order_n.len() == numbers.len() {
            let (mut fast, mut plain) = (numbers.clone(), numbers);
            assert!(permute_in_place(&mut fast, &order_n));
            permute(&mut plain, &order_n);
            assert!(fast.keys().eq(plain.keys()), "n = {n}");
        }
    }
}

#[test]
fn permute_in_place_refuses_what_is_not_a_permutation() {
    let mut map: IndexMap<u32, ()> = (0..4).map(|i| (i, ())).collect();
    assert!(!permute_in_place(&mut map, &[0, 1, 2]));
    assert!(!permute_in_place(&mut map, &[0, 1, 2, 9]));
    assert_eq!(map.len(), 4);
}

#[test]
fn only_permutations_pass() {
    assert_eq!(check_permutation(&[1, 0, 2], 3).unwrap(), [1, 0, 2]);
    assert!(check_permutation(&[1, 0], 3).is_err());
    assert!(check_permutation(&[1, 1, 2], 3).is_err());
    assert!(check_permutation(&[0, 1, 3], 3).is_err());
    assert!(check_permutation(&[0, 1, u64::MAX], 3).is_err());
    assert_eq!(moved(&[1, 0, 2]), 2);
}
