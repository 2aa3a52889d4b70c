//! The log format of indexmap_store 0.2.x, read with that crate's rules
//! ([`parse`]); what [`crate::legacy`] imports. The format and the rules
//! are described there.

use std::hash::Hash;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;

use crate::legacy::LegacyTail;

/// Bytes of a 0.2.x record's length prefix.
const LEN_BYTES: usize = 4;
/// A 0.2.x insert record's tag.
const TAG_INSERT: u8 = 0;
/// A 0.2.x remove record's tag.
const TAG_REMOVE: u8 = 1;

/// A 0.2.x log replayed.
pub(crate) struct Parsed<K, V> {
    pub(crate) map: IndexMap<K, V>,
    pub(crate) records: u64,
    /// Bytes of the records replayed.
    pub(crate) valid_len: usize,
    pub(crate) tail: Option<LegacyTail>,
    /// Why the first undecodable record did not decode.
    pub(crate) decode_error: Option<String>,
}

/// Decodes `bytes` whole with bincode 1's encoding, under the same
/// limit tiers as the log's records but from 1 MiB: the bytes are not
/// checksummed, and no length in them can make it allocate more than
/// [`CLAIM_PER_BYTE`](crate::codec::CLAIM_PER_BYTE) bytes per byte read.
fn decode_exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    crate::codec::decode_whole!(bytes, bincode::config::legacy(), 1 << 20)
        .map_err(|e| e.to_string())
}

/// Replays `bytes` as a 0.2.x log of `K` and `V`, with that crate's rules.
pub(crate) fn parse<K, V>(bytes: &[u8]) -> Parsed<K, V>
where
    K: Hash + Eq + DeserializeOwned,
    V: DeserializeOwned,
{
    let mut parsed = Parsed {
        map: IndexMap::new(),
        records: 0,
        valid_len: 0,
        tail: None,
        decode_error: None,
    };
    loop {
        let rest = &bytes[parsed.valid_len..];
        if rest.is_empty() {
            break;
        }
        let Some((len, rest)) = rest.split_first_chunk::<LEN_BYTES>() else {
            parsed.tail = Some(LegacyTail::Incomplete);
            break;
        };
        let len = u32::from_le_bytes(*len) as usize;
        let Some(record) = rest.get(..len) else {
            parsed.tail = Some(LegacyTail::Incomplete);
            break;
        };
        let Some((&tag, body)) = record.split_first() else {
            parsed.tail = Some(LegacyTail::ZeroLength);
            break;
        };
        let applied = match tag {
            TAG_INSERT => decode_exact::<(K, V)>(body).map(|(k, v)| {
                parsed.map.insert(k, v);
            }),
            TAG_REMOVE => decode_exact::<K>(body).map(|k| {
                parsed.map.shift_remove(&k);
            }),
            other => {
                parsed.tail = Some(LegacyTail::UnknownTag(other));
                break;
            }
        };
        if let Err(e) = applied {
            parsed.tail = Some(LegacyTail::Undecodable);
            parsed.decode_error = Some(e);
            break;
        }
        parsed.records += 1;
        parsed.valid_len += LEN_BYTES + len;
    }
    parsed
}

/// The complete records at the start of `bytes` if they have the shape of
/// a 0.2.x log, for a reader without the key and value types: every record
/// of non-zero length and tagged insert or remove, the first an insert
/// (0.2.x's first record always is); the bytes may end inside a record (a
/// torn end, or a prefix of the file). `None` without a complete record.
pub(crate) fn shape(bytes: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut records = 0;
    while let Some((len, rest)) = bytes[at..].split_first_chunk::<LEN_BYTES>() {
        let len = u32::from_le_bytes(*len) as usize;
        match rest.first() {
            Some(&TAG_INSERT) => {}
            Some(&TAG_REMOVE) if records > 0 => {}
            // A zero length, another tag, a remove first; or the bytes end
            // after the length.
            Some(_) => return None,
            None => break,
        }
        if len == 0 {
            return None;
        }
        if rest.len() < len {
            break;
        }
        records += 1;
        at += LEN_BYTES + len;
    }
    (records > 0).then_some(records)
}

/// Why an import of `bytes`, replayed as `parsed`, must be refused: 0.2.x
/// cut its log at the first record it could not apply, but only a record
/// cut short is surely a torn end; after a complete one that does not
/// apply, records that decode are valid data an import must not drop.
pub(crate) fn would_drop<K, V>(bytes: &[u8], parsed: &Parsed<K, V>) -> Option<String>
where
    K: DeserializeOwned,
    V: DeserializeOwned,
{
    if matches!(parsed.tail, None | Some(LegacyTail::Incomplete)) {
        return None;
    }
    let after = decodable_after::<K, V>(bytes, parsed.valid_len);
    if after == 0 {
        return None;
    }
    let what = match (parsed.tail, &parsed.decode_error) {
        (Some(LegacyTail::ZeroLength), _) => "has length zero".to_owned(),
        (Some(LegacyTail::UnknownTag(tag)), _) => {
            format!("has tag {tag}, neither insert (0) nor remove (1)")
        }
        (_, Some(e)) => format!("does not decode as the key and value types ({e})"),
        (_, None) => "does not decode as the key and value types".to_owned(),
    };
    Some(format!(
        "record {} (byte {}) {what}, yet {after} complete records after it decode: importing would drop them (0.2.x would have cut the file there). Nothing was changed. If it was written with other key or value types, import it with those; to import only the {} records before it, cut a copy of the file at byte {} and import the copy",
        parsed.records + 1,
        parsed.valid_len,
        parsed.records,
        parsed.valid_len,
    ))
}

/// Records after the one a replay stopped at (at byte `stop`: a complete
/// record it could not apply, of length zero, with an unknown tag, or not
/// decoding as `K` and `V`) that are complete and decode: valid data that
/// 0.2.x would have cut off with it. Each record is skipped by its length
/// prefix; the walk ends at the end of the bytes or at a record cut short.
fn decodable_after<K, V>(bytes: &[u8], stop: usize) -> u64
where
    K: DeserializeOwned,
    V: DeserializeOwned,
{
    let mut at = stop;
    let mut found = 0;
    let mut first = true;
    while let Some((len, rest)) = bytes
        .get(at..)
        .and_then(|rest| rest.split_first_chunk::<LEN_BYTES>())
    {
        let len = u32::from_le_bytes(*len) as usize;
        let Some(record) = rest.get(..len) else {
            break;
        };
        let decodes = match record.split_first() {
            Some((&TAG_INSERT, body)) => decode_exact::<(K, V)>(body).is_ok(),
            Some((&TAG_REMOVE, body)) => decode_exact::<K>(body).is_ok(),
            _ => false,
        };
        if !std::mem::take(&mut first) && decodes {
            found += 1;
        }
        at += LEN_BYTES + len;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_0_2_shape_is_recognised_and_others_are_not() {
        let log = [record(0, b"alice"), record(1, b"bob"), record(0, b"carol")].concat();
        assert_eq!(shape(&log), Some(3));
        // A torn last record, as a crash leaves it.
        assert_eq!(shape(&log[..log.len() - 2]), Some(2));
        // Starting with a remove, a zero length, another tag, no record.
        assert_eq!(shape(&record(1, b"x")), None);
        assert_eq!(shape(&[0, 0, 0, 0, 0]), None);
        assert_eq!(shape(&[log.clone(), record(7, b"x")].concat()), None);
        assert_eq!(shape(b""), None);
        assert_eq!(shape(b"hello, world"), None);
        assert_eq!(shape(&log[..3]), None);
    }

    fn record(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 1) as u32).to_le_bytes().to_vec();
        out.push(tag);
        out.extend_from_slice(body);
        out
    }

    fn insert(k: u32, v: u64) -> Vec<u8> {
        let mut body = k.to_le_bytes().to_vec();
        body.extend_from_slice(&v.to_le_bytes());
        record(TAG_INSERT, &body)
    }

    #[test]
    fn replays_with_shift_remove_and_stops_at_a_short_record() {
        let mut log = [insert(1, 10), insert(2, 20), insert(3, 30)].concat();
        log.extend(record(TAG_REMOVE, &1u32.to_le_bytes()));
        log.extend(insert(2, 21));
        let full = log.len();
        log.extend(&insert(4, 40)[..7]);
        let parsed = parse::<u32, u64>(&log);
        assert_eq!(parsed.records, 5);
        assert_eq!(parsed.valid_len, full);
        assert_eq!(parsed.tail, Some(LegacyTail::Incomplete));
        let entries: Vec<_> = parsed.map.into_iter().collect();
        assert_eq!(entries, [(2, 21), (3, 30)]);
    }

    #[test]
    fn stop_reasons() {
        let ok = insert(1, 1);
        let zero = [ok.clone(), vec![0; 9]].concat();
        assert_eq!(parse::<u32, u64>(&zero).tail, Some(LegacyTail::ZeroLength));
        let tag = [ok.clone(), record(7, &[1])].concat();
        assert_eq!(
            parse::<u32, u64>(&tag).tail,
            Some(LegacyTail::UnknownTag(7))
        );
        // Leftover bytes: bincode 1 allowed them, the import does not.
        let long = [ok.clone(), record(TAG_REMOVE, &[1, 0, 0, 0, 9])].concat();
        let parsed = parse::<u32, u64>(&long);
        assert_eq!(parsed.tail, Some(LegacyTail::Undecodable));
        assert_eq!(parsed.records, 1);
    }

    #[test]
    fn a_garbage_length_allocates_nothing_large() {
        // A string claiming 2^62 bytes in a 9-byte body.
        let mut body = (1u64 << 62).to_le_bytes().to_vec();
        body.push(b'x');
        let log = record(TAG_REMOVE, &body);
        let parsed = parse::<String, u64>(&log);
        assert_eq!(parsed.records, 0);
        assert_eq!(parsed.tail, Some(LegacyTail::Undecodable));
        // A record length past the file is a short record, not a read.
        let log = [u32::MAX.to_le_bytes().as_slice(), &[0, 1, 2]].concat();
        assert_eq!(
            parse::<String, u64>(&log).tail,
            Some(LegacyTail::Incomplete)
        );
    }
}
