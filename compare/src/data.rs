//! The data every store gets: deterministic, seeded keys and values, the
//! same bytes for every store and every run, made by splitmix64 (no `rand`).
//!
//! Key `i` is 16 lowercase hex digits of a bijective hash of `i`, so keys
//! are unique and arrive in no particular order (a B-tree or LSM-tree sees
//! random inserts). The value of key `i` in round `r` is 100 bytes of
//! `a..=z` derived from `(i, r)`. Both are ASCII, so every store can take
//! them as `&str`, `String` or bytes.

/// Bytes in a key.
pub const KEY_LEN: usize = 16;
/// Bytes in a value.
pub const VALUE_LEN: usize = 100;
/// The payload of one live entry: its key and value bytes, no overhead.
pub const ENTRY_LEN: u64 = (KEY_LEN + VALUE_LEN) as u64;

/// Seeds of the three streams, so keys, values and lookups are unrelated.
const KEY_SEED: u64 = 0x5EED_0000_0000_0001;
const VALUE_SEED: u64 = 0x5EED_0000_0000_0002;
const GET_SEED: u64 = 0x5EED_0000_0000_0003;

/// splitmix64: a bijection on `u64` with good mixing.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One entry: key and value bytes, both ASCII.
#[derive(Clone, Copy)]
pub struct Entry {
    key: [u8; KEY_LEN],
    value: [u8; VALUE_LEN],
}

impl Entry {
    /// Entry `index` as written in round `round` (the churn workload
    /// rewrites every key with a new value each round).
    pub fn new(index: u64, round: u64) -> Self {
        Entry {
            key: key_bytes(index),
            value: value_bytes(index, round),
        }
    }

    /// The key as text.
    pub fn key(&self) -> &str {
        std::str::from_utf8(&self.key).expect("keys are ASCII")
    }

    /// The value as text.
    pub fn value(&self) -> &str {
        std::str::from_utf8(&self.value).expect("values are ASCII")
    }
}

/// The key of entry `index`: 16 hex digits.
pub fn key_bytes(index: u64) -> [u8; KEY_LEN] {
    let hex = format!("{:016x}", splitmix64(index ^ KEY_SEED));
    let mut key = [0; KEY_LEN];
    key.copy_from_slice(hex.as_bytes());
    key
}

/// The value of entry `index` in round `round`: 100 letters.
fn value_bytes(index: u64, round: u64) -> [u8; VALUE_LEN] {
    let mut value = [0; VALUE_LEN];
    let mut state = splitmix64(index ^ VALUE_SEED) ^ round.wrapping_mul(0xA076_1D64_78BD_642F);
    for chunk in value.chunks_mut(8) {
        state = splitmix64(state);
        for (byte, from) in chunk.iter_mut().zip(state.to_le_bytes()) {
            *byte = b'a' + from % 26;
        }
    }
    value
}

/// The index of the `nth` random lookup among `n` entries (uniform).
pub fn lookup_index(nth: u64, n: u64) -> u64 {
    splitmix64(nth ^ GET_SEED) % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_hex_and_values_are_letters() {
        let keys: std::collections::HashSet<_> = (0..10_000).map(key_bytes).collect();
        assert_eq!(keys.len(), 10_000);
        let e = Entry::new(7, 3);
        assert_eq!((e.key().len(), e.value().len()), (KEY_LEN, VALUE_LEN));
        assert!(e.value().bytes().all(|b| b.is_ascii_lowercase()));
        assert_ne!(Entry::new(7, 3).value(), Entry::new(7, 4).value());
        assert_eq!(Entry::new(7, 3).value(), e.value());
    }
}
