//! The sidecar's claim: a second record of how much of the log was durable.
//!
//! The lock file `<log>.lock` that [`Wal::open`](crate::Wal::open) locks
//! also holds, once the log has been opened cleanly, sealed or rewritten, a
//! small *claim*: "the log whose header carries `file_id` was durable up to
//! byte `durable_len`". A log whose valid frames end before a matching
//! claim lost synced data (it was cut short, or damaged at its end), and
//! recovery refuses it instead of taking the loss for a torn tail.
//!
//! ```text
//! offset  0        8          12         20            28       32
//!         +--------+----------+----------+-------------+--------+
//!         | magic  | version  | file_id  | durable_len | crc    |
//!         | 8 B    | u32 LE   | u64 LE   | u64 LE      | u32 LE |
//!         +--------+----------+----------+-------------+--------+
//! ```
//!
//! The claim is written only after the bytes it vouches for were synced, so
//! it never overstates; a torn or stale claim fails its checksum or names
//! another file and is ignored. It is written only into a lock file that is
//! empty or already holds a claim: a file of someone else's at that path is
//! never modified.

use std::path::Path;

use wal_format::checksum::checksum;

use crate::error::{VouchedBy, WalError};
use crate::storage::{OpenMode, Storage, read_exact_at};

/// The first bytes of a claim: like the log's magic, with `WALclm`.
const MAGIC: [u8; 8] = [0x89, b'W', b'A', b'L', b'c', b'l', b'm', b'\n'];
/// The claim layout's version.
const VERSION: u32 = 1;
const VERSION_OFFSET: usize = MAGIC.len();
const FILE_ID_OFFSET: usize = VERSION_OFFSET + size_of::<u32>();
const LEN_OFFSET: usize = FILE_ID_OFFSET + size_of::<u64>();
const CRC_OFFSET: usize = LEN_OFFSET + size_of::<u64>();
/// Size of an encoded claim.
pub(crate) const CLAIM_LEN: usize = CRC_OFFSET + size_of::<u32>();

/// What the sidecar says about the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claim {
    /// The `file_id` of the log the claim is about.
    pub file_id: u64,
    /// Bytes of that log, header included, known durable.
    pub durable_len: u64,
}

/// What the lock file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sidecar {
    /// Nothing (an empty or new lock file), or a claim cut short or damaged:
    /// ours to write.
    Empty,
    /// A valid claim.
    Claim(Claim),
    /// Bytes that are not a claim: someone else's file, never written to.
    Foreign,
}

impl Sidecar {
    /// The claim about the log with `file_id`, if the sidecar holds one.
    pub(crate) fn durable_len_of(self, file_id: u64) -> Option<u64> {
        match self {
            Self::Claim(claim) if file_id != 0 && claim.file_id == file_id => {
                Some(claim.durable_len)
            }
            _ => None,
        }
    }

    /// Whether a claim may be written into the lock file.
    pub(crate) fn writable(self) -> bool {
        !matches!(self, Self::Foreign)
    }
}

/// Encodes `claim`.
pub(crate) fn encode(claim: Claim) -> [u8; CLAIM_LEN] {
    let mut out = [0; CLAIM_LEN];
    out[..VERSION_OFFSET].copy_from_slice(&MAGIC);
    out[VERSION_OFFSET..FILE_ID_OFFSET].copy_from_slice(&VERSION.to_le_bytes());
    out[FILE_ID_OFFSET..LEN_OFFSET].copy_from_slice(&claim.file_id.to_le_bytes());
    out[LEN_OFFSET..CRC_OFFSET].copy_from_slice(&claim.durable_len.to_le_bytes());
    let crc = checksum(&out[..CRC_OFFSET]);
    out[CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes the contents of a lock file.
pub(crate) fn decode(bytes: &[u8]) -> Sidecar {
    let seen = bytes.len().min(MAGIC.len());
    if bytes.iter().all(|&b| b == 0) {
        // Empty, or zeros a crash left where a claim was being written.
        return Sidecar::Empty;
    }
    if bytes[..seen] != MAGIC[..seen] {
        return Sidecar::Foreign;
    }
    let (Some(head), Some(stored)) = (bytes.get(..CRC_OFFSET), bytes.get(CRC_OFFSET..CLAIM_LEN))
    else {
        return Sidecar::Empty;
    };
    let le_u64 = |at: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&head[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let mut crc = [0; 4];
    crc.copy_from_slice(stored);
    if u32::from_le_bytes(crc) != checksum(head)
        || head[VERSION_OFFSET..FILE_ID_OFFSET] != VERSION.to_le_bytes()
    {
        return Sidecar::Empty;
    }
    Sidecar::Claim(Claim {
        file_id: le_u64(FILE_ID_OFFSET),
        durable_len: le_u64(LEN_OFFSET),
    })
}

/// Bytes of a lock file read to decide what it holds.
const PROBE_LEN: usize = 64;

/// Reads what the lock file at `path` holds. A file that cannot be read
/// is treated as holding nothing usable and never written to.
pub(crate) fn read(storage: &dyn Storage, path: &Path) -> Sidecar {
    let Ok(file) = storage.open_read(path) else {
        return Sidecar::Foreign;
    };
    let Ok(len) = file.len() else {
        return Sidecar::Foreign;
    };
    let mut buf = vec![0; usize::try_from(len).unwrap_or(PROBE_LEN).min(PROBE_LEN)];
    match read_exact_at(&*file, 0, &mut buf) {
        Ok(()) if len > PROBE_LEN as u64 && decode(&buf) == Sidecar::Empty => {
            // Longer than any claim and not zeros at its start: not ours.
            Sidecar::Foreign
        }
        Ok(()) => decode(&buf),
        Err(_) => Sidecar::Foreign,
    }
}

/// The refusal of the log at `path`, found empty or holding a header cut
/// short (`file_len` bytes), when the lock file `lock_path` holds a valid
/// claim that a log there had records durable beyond its header. A new log
/// is created whole (written aside and renamed), so such a file did not
/// come from an interrupted creation: the log was emptied or cut short.
/// `None` when nothing vouches for lost records (no lock file, no claim).
pub(crate) fn emptied(
    storage: &dyn Storage,
    path: &Path,
    lock_path: &Path,
    file_len: u64,
) -> Option<WalError> {
    match read(storage, lock_path) {
        Sidecar::Claim(claim) if claim.durable_len > wal_format::HEADER_LEN as u64 => {
            Some(WalError::Truncated {
                path: path.to_path_buf(),
                offset: 0,
                file_len,
                vouched_len: claim.durable_len,
                by: VouchedBy::Sidecar {
                    path: lock_path.to_path_buf(),
                },
                valid_records: 0,
                source: None,
            })
        }
        _ => None,
    }
}

/// Writes `claim` into the lock file at `path` and syncs it, best effort:
/// a claim that fails to reach the disk only weakens a later check, so
/// errors are ignored. The caller has synced the log bytes it vouches for.
pub(crate) fn write(storage: &dyn Storage, path: &Path, claim: Claim) {
    if let Ok(file) = storage.open(path, OpenMode::Existing)
        && file.write_at(0, &encode(claim)).is_ok()
    {
        let _ = file.sync_data();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIM: Claim = Claim {
        file_id: 0xfeed_f00d,
        durable_len: 1234,
    };

    #[test]
    fn round_trips() {
        assert_eq!(decode(&encode(CLAIM)), Sidecar::Claim(CLAIM));
        assert_eq!(
            Sidecar::Claim(CLAIM).durable_len_of(0xfeed_f00d),
            Some(1234)
        );
        assert_eq!(Sidecar::Claim(CLAIM).durable_len_of(7), None);
        assert_eq!(Sidecar::Claim(CLAIM).durable_len_of(0), None);
    }

    #[test]
    fn empty_zeros_and_torn_claims_are_not_claims() {
        assert_eq!(decode(&[]), Sidecar::Empty);
        assert_eq!(decode(&[0; CLAIM_LEN]), Sidecar::Empty);
        let bytes = encode(CLAIM);
        for n in 1..CLAIM_LEN {
            assert_eq!(decode(&bytes[..n]), Sidecar::Empty, "prefix of {n}");
        }
        for bit in 0..CLAIM_LEN * 8 {
            let mut damaged = bytes;
            damaged[bit / 8] ^= 1 << (bit % 8);
            // A damaged magic reads as someone else's file, anything else
            // as a torn claim: never as a claim.
            let read = decode(&damaged);
            assert!(
                matches!(read, Sidecar::Empty | Sidecar::Foreign),
                "flip of bit {bit} read as {read:?}"
            );
        }
    }

    #[test]
    fn foreign_bytes_are_never_ours() {
        assert_eq!(decode(b"hello"), Sidecar::Foreign);
        assert!(!Sidecar::Foreign.writable());
        assert_eq!(Sidecar::Foreign.durable_len_of(CLAIM.file_id), None);
    }
}
