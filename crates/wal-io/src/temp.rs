//! Paths beside the log: siblings, and the temporary file of a rewrite or
//! creation, which a crash may leave behind.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Context, WalError};
use crate::options::WalOptions;
use crate::report::RecoveryReport;
use crate::storage::{OpenMode, Storage, parent_dir, read_exact_at};

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Records in `report` what [`clear_temp`] did.
pub(crate) fn note_temp(report: &mut RecoveryReport, cleared: TempCleared) {
    match cleared {
        TempCleared::Absent => {}
        TempCleared::Removed(tmp) => report.removed_temp = Some(tmp),
        TempCleared::SetAside(aside) => report.set_aside_temp = Some(aside),
    }
}

/// What [`clear_temp`] did.
#[derive(Debug)]
pub(crate) enum TempCleared {
    /// There was no temporary file.
    Absent,
    /// A leftover of an interrupted rewrite or creation was removed.
    Removed(PathBuf),
    /// A file not recognisably ours was renamed to this path, bytes intact.
    SetAside(PathBuf),
}

/// Clears the temporary path of the log at `path` for a rewrite or
/// creation: a leftover of ours (see [`temp_is_ours`]) is removed; any
/// other file is renamed to `<tmp>.unrecognized[-N]`, keeping its bytes, so
/// neither a crash artifact nor a stranger's file can block the log.
pub(crate) fn clear_temp(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
) -> Result<TempCleared, WalError> {
    let tmp = sibling(path, &opts.temp_suffix);
    if !storage.file_exists(&tmp).context("checking for", &tmp)? {
        return Ok(TempCleared::Absent);
    }
    let dir = parent_dir(path);
    let cleared = if temp_is_ours(storage, &tmp)? {
        storage.remove(&tmp).context("removing", &tmp)?;
        TempCleared::Removed(tmp)
    } else {
        let mut aside = sibling(&tmp, ".unrecognized");
        let mut n = 0u64;
        while storage.file_exists(&aside).context("opening", &aside)? {
            n += 1;
            aside = sibling(&tmp, &format!(".unrecognized-{n}"));
        }
        storage.rename(&tmp, &aside).context("renaming", &tmp)?;
        TempCleared::SetAside(aside)
    };
    storage
        .sync_dir(dir)
        .context("syncing directory of", path)?;
    Ok(cleared)
}

/// Bytes of a temporary file examined to decide whether it is ours.
const TEMP_PROBE_LEN: usize = 512;

/// Whether the file at `tmp` is what an interrupted rewrite can leave: empty,
/// starting with the log's first magic byte (a header, or one torn after its
/// first byte), or zeros (a crash that kept the length but not the data).
fn temp_is_ours(storage: &dyn Storage, tmp: &Path) -> Result<bool, WalError> {
    let file = storage
        .open(tmp, OpenMode::Existing)
        .context("opening", tmp)?;
    let len = file.len().context("reading", tmp)?;
    let mut head = vec![
        0;
        usize::try_from(len)
            .unwrap_or(TEMP_PROBE_LEN)
            .min(TEMP_PROBE_LEN)
    ];
    read_exact_at(&*file, 0, &mut head).context("reading", tmp)?;
    Ok(match head.first() {
        None => true,
        Some(&first) => first == wal_format::MAGIC[0] || head.iter().all(|&b| b == 0),
    })
}
