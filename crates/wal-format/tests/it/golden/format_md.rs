//! `FORMAT.md` shows the golden bytes: its dump of the example file, its
//! field-by-field breakdown and its dump of the sidecar claim match them.

use super::{FILE_ID, SEED, example_file, reference_crc32, stored_u32, unhex};

/// The dump format used in `FORMAT.md`: offset, then up to 16 bytes.
fn dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, line)| {
            let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:04x}  {}\n", i * 16, hex.join(" "))
        })
        .collect()
}

#[test]
fn format_md_shows_the_golden_bytes() {
    let doc = include_str!("../../../FORMAT.md");
    let dump = dump(&example_file());
    assert!(
        doc.contains(&dump),
        "FORMAT.md must contain this dump of the example:\n{dump}"
    );
}

/// The bytes the field-by-field breakdown in `FORMAT.md` shows: every line
/// `0xNN  bytes  field` must show the example's bytes at that offset, the
/// lines must follow each other without gap or overlap, and the last one,
/// with no bytes, must be the end of the file.
#[test]
fn format_md_breakdown_matches_the_example() {
    let doc = include_str!("../../../FORMAT.md");
    let file = example_file();
    let start = doc
        .find("Field by field")
        .expect("FORMAT.md has a field-by-field breakdown");
    let block = &doc[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let mut at = 0;
    let mut lines = 0;
    for line in block.lines() {
        let Some(rest) = line.strip_prefix("0x") else {
            continue;
        };
        let (offset, rest) = rest.split_once(' ').unwrap();
        let offset = usize::from_str_radix(offset, 16).unwrap();
        assert_eq!(offset, at, "breakdown line {line:?}");
        let bytes: Vec<u8> = rest
            .split_whitespace()
            .take_while(|t| t.len() == 2 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|t| u8::from_str_radix(t, 16).unwrap())
            .collect();
        assert_eq!(
            file.get(at..at + bytes.len()),
            Some(&bytes[..]),
            "breakdown line {line:?}"
        );
        at += bytes.len();
        lines += 1;
        if bytes.is_empty() {
            break;
        }
    }
    assert!(lines > 30, "only {lines} breakdown lines found");
    assert_eq!(at, file.len(), "the breakdown must cover the whole file");
}

/// The sidecar claim `FORMAT.md` shows for the example: `\x89WALclm\n`,
/// version 1, `file_id`, `durable_len` 139 (the example's length), crc.
/// The encoder lives in `wal-io`, which this crate cannot depend on; this
/// pins the documented layout and checks its checksum.
const CLAIM_HEX: &str = concat!(
    "8957414c636c6d0a", // magic
    "01000000",         // version 1
    "efcdab8967452301", // file_id 0x0123456789abcdef
    "8b00000000000000", // durable_len 139
    "f17a45ce",         // crc
);

#[test]
fn format_md_shows_the_sidecar_claim() {
    let claim = unhex(CLAIM_HEX);
    assert_eq!(claim.len(), 32);
    assert_eq!(&claim[..8], b"\x89WALclm\n");
    assert_eq!(stored_u32(&claim, 8), 1);
    assert_eq!(claim[12..20], FILE_ID.to_le_bytes());
    assert_eq!(claim[20..28], (example_file().len() as u64).to_le_bytes());
    assert_eq!(
        stored_u32(&claim, 28),
        wal_format::checksum::checksum(&claim[..28])
    );
    assert_eq!(stored_u32(&claim, 28), reference_crc32(SEED, &claim[..28]));
    assert_eq!(stored_u32(&claim, 28), 0xce45_7af1);
    let doc = include_str!("../../../FORMAT.md");
    let dump = dump(&claim);
    assert!(
        doc.contains(&dump),
        "FORMAT.md must contain this dump of the claim:\n{dump}"
    );
}
