//! Recognising a log of indexmap_store 0.2.x (the crates.io crate the
//! store replaces) without its key and value types: what the untyped build
//! says instead of "not a log" when the file's first bytes have that
//! format's shape ([`indexmap_store::inspect::legacy_shape`]).

use std::io::Read;
use std::path::Path;

use indexmap_store::inspect::legacy_shape;

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
    legacy_shape(&bytes)
}
