//! Recognising a log of indexmap_store 0.2.x (the crates.io crate the
//! store replaces) without its key and value types: what the untyped build
//! says instead of "not a log" when the bytes have that format's shape.
//!
//! A 0.2.x log has no header and no checksum: records, each a `u32`
//! little-endian length, then that many bytes, the first a tag (0 insert,
//! 1 remove). Without the types the records cannot be decoded, so the
//! shape is all there is: every record complete (the last may be cut
//! short, as a crash leaves it), of non-zero length, tagged 0 or 1, and
//! the first an insert (0.2.x's first record always is).

use std::io::Read;
use std::path::Path;

/// Bytes of a record's length prefix.
const LEN_BYTES: usize = 4;

/// Bytes read at most: a shape that holds this far is a 0.2.x log for
/// this purpose (a message, not a decision about data).
const PROBE: u64 = 1 << 20;

/// The complete records of the 0.2.x shape at the start of the file at
/// `path` (within its first MiB), or `None` if the file does not have that
/// shape or cannot be read.
pub(crate) fn legacy_records(path: &Path) -> Option<u64> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(PROBE)
        .read_to_end(&mut bytes)
        .ok()?;
    shape(&bytes)
}

/// [`legacy_records`] on `bytes`: a record cut short ends them (a torn
/// end, or the end of the probe).
fn shape(bytes: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut records = 0;
    while at < bytes.len() {
        let Some((len, rest)) = bytes[at..].split_first_chunk::<LEN_BYTES>() else {
            break;
        };
        let len = u32::from_le_bytes(*len) as usize;
        let tag = rest.first().copied();
        let first_ok = records > 0 || tag == Some(0);
        if len == 0 || !matches!(tag, Some(0 | 1)) || !first_ok {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len() + 1)
            .unwrap()
            .to_le_bytes()
            .to_vec();
        out.push(tag);
        out.extend_from_slice(body);
        out
    }

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
}
