//! The one place that knows how records are encoded: bincode 2.0.1 through
//! serde with `config::standard()` (varint integers, little-endian), a tag
//! byte first.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RaftStoreError;

/// Decoding may claim at most this much memory (bincode counts in-memory
/// sizes), so that no record read from disk or the network can make a
/// node allocate without bound. Records are bounded by the log's
/// `max_record_len` (64 MiB by default) long before this.
const DECODE_LIMIT: usize = 1 << 34;

fn encode_config() -> Configuration<LittleEndian, Varint> {
    config::standard()
}

fn decode_config() -> Configuration<LittleEndian, Varint, Limit<DECODE_LIMIT>> {
    config::standard().with_limit::<DECODE_LIMIT>()
}

/// Appends `tag` and then `value`'s encoding to `buf`.
pub(crate) fn encode_tagged<T: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    tag: u8,
    value: &T,
) -> Result<(), RaftStoreError> {
    buf.push(tag);
    bincode::serde::encode_into_std_write(value, buf, encode_config())
        .map(drop)
        .map_err(|source| RaftStoreError::Encode { source })
}

/// Splits a record into its tag and the rest; `None` for an empty record.
pub(crate) fn split_tag(payload: &[u8]) -> Option<(u8, &[u8])> {
    payload.split_first().map(|(tag, rest)| (*tag, rest))
}

/// Decodes `bytes` whole as a `T`: leftover bytes are an error.
pub(crate) fn decode_whole<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match bincode::serde::decode_from_slice(bytes, decode_config()) {
        Ok((value, used)) if used == bytes.len() => Ok(value),
        Ok((_, used)) => Err(format!(
            "{} bytes left over after the record",
            bytes.len() - used
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_record_round_trips_and_leftovers_are_refused() {
        let mut buf = Vec::new();
        encode_tagged(&mut buf, 7, &("key", 42_u64)).unwrap();
        let (tag, rest) = split_tag(&buf).unwrap();
        assert_eq!(tag, 7);
        let back: (String, u64) = decode_whole(rest).unwrap();
        assert_eq!(back, ("key".to_owned(), 42));
        let mut longer = rest.to_vec();
        longer.push(0);
        let err = decode_whole::<(String, u64)>(&longer).unwrap_err();
        assert!(err.contains("left over"), "{err}");
        assert!(split_tag(&[]).is_none());
    }

    #[test]
    fn a_length_from_damaged_bytes_does_not_allocate_it() {
        // A Vec<u64> claiming 2^60 elements in a few bytes is refused.
        let bytes = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x10];
        assert!(decode_whole::<Vec<u64>>(&bytes).is_err());
    }
}
