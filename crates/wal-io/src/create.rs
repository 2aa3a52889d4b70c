//! Opening the file: creating a new log atomically, or opening an existing
//! one and checking that its header is this application's.

use std::path::{Path, PathBuf};

use wal_format::{Decoded, FileHeader, FormatError, HEADER_LEN};

use crate::error::{Context, WalError};
use crate::options::{RecoveryMode, WalOptions};
use crate::report::RecoveryReport;
use crate::sidecar;
use crate::storage::{OpenMode, Storage, StorageFile, parent_dir, read_exact_at};
use crate::temp::{clear_temp, note_temp, sibling};

/// Creates a new log at `path` holding only its header, durably and
/// atomically: the header is written and synced in the temporary file,
/// which is then renamed over `path` (missing, or empty / a header prefix)
/// and the directory synced. A crash at any point leaves `path` as it was
/// or a complete log, never a file a later open would refuse.
pub(crate) fn create(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
    report: &mut RecoveryReport,
) -> Result<(Box<dyn StorageFile>, FileHeader), WalError> {
    let tmp = sibling(path, &opts.temp_suffix);
    note_temp(report, clear_temp(storage, path, opts)?);
    let file = storage
        .open(&tmp, OpenMode::CreateNew)
        .context("creating", &tmp)?;
    let header = FileHeader::new(&opts.app_tag, opts.app_version, 0)
        .with_file_id(storage.new_file_id())
        .with_vouched_len(wal_format::HEADER_LEN as u64);
    let written = file
        .write_at(0, &header.encode())
        .context("writing to", &tmp)
        .and_then(|()| file.sync_data().context("syncing", &tmp))
        .and_then(|()| storage.rename(&tmp, path).context("renaming over", path));
    if let Err(e) = written {
        // Best effort: leave nothing behind (a later open removes it else).
        drop(file);
        let _ = storage.remove(&tmp);
        return Err(e);
    }
    storage
        .sync_dir(parent_dir(path))
        .context("syncing directory of", path)?;
    Ok((file, header))
}

/// Opens an existing file and checks that it is this application's log.
pub(crate) fn open_existing(
    storage: &dyn Storage,
    path: &Path,
    lock_path: &Path,
    opts: &WalOptions,
    report: &mut RecoveryReport,
) -> Result<(Box<dyn StorageFile>, FileHeader), WalError> {
    let file = storage
        .open(path, OpenMode::Existing)
        .context("opening", path)?;
    match read_header(&*file, path, opts)? {
        Some(header) => Ok((file, header)),
        None => {
            // Empty, or a header prefix: a new log, unless the lock file
            // vouches that a log here had durable records (it was emptied
            // or cut short; creation never leaves such a file). Salvage
            // keeps the valid records before the loss: none.
            if opts.recovery != RecoveryMode::Salvage {
                let file_len = file.len().context("reading", path)?;
                if let Some(refusal) = sidecar::emptied(storage, path, lock_path, file_len) {
                    return Err(refusal);
                }
            }
            drop(file);
            report.initialized = true;
            create(storage, path, opts, report)
        }
    }
}

/// Reads and checks the header of `file`: `None` for an empty file or a
/// strict prefix of a header (a creation cut short); an error, touching
/// nothing, for anything that is not this application's log.
pub(crate) fn read_header(
    file: &dyn StorageFile,
    path: &Path,
    opts: &WalOptions,
) -> Result<Option<FileHeader>, WalError> {
    let len = file.len().context("reading", path)?;
    let mut head = vec![0; usize::try_from(len).unwrap_or(HEADER_LEN).min(HEADER_LEN)];
    read_exact_at(file, 0, &mut head).context("reading", path)?;
    match FileHeader::decode(&head) {
        Ok(Decoded::Complete(header)) => {
            let expected = FileHeader::new(&opts.app_tag, 0, 0);
            if header.app_tag != expected.app_tag {
                return Err(WalError::WrongApp {
                    expected: String::from_utf8_lossy(expected.app_tag_trimmed()).into_owned(),
                    found: String::from_utf8_lossy(header.app_tag_trimmed()).into_owned(),
                    path: path.to_path_buf(),
                });
            }
            if header.app_version > opts.app_version {
                return Err(WalError::NewerAppVersion {
                    found: header.app_version,
                    supported: opts.app_version,
                    path: path.to_path_buf(),
                });
            }
            Ok(Some(header))
        }
        Ok(Decoded::Incomplete { .. }) => Ok(None),
        Err(FormatError::NotALog) => Err(WalError::NotALog {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(WalError::BadHeader {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Refuses, before anything is created beside it, a file at `path` that is
/// not this application's log. The check is repeated under the lock.
pub(crate) fn precheck(
    storage: &dyn Storage,
    path: &Path,
    opts: &WalOptions,
) -> Result<(), WalError> {
    let file = storage
        .open(path, OpenMode::Existing)
        .context("opening", path)?;
    read_header(&*file, path, opts).map(drop)
}

/// `given` with its symbolic links resolved, if a file stands there; a
/// missing file is a `NotFound` error that says `why` (the callers that
/// read only never create one). A directory or a special file is refused
/// here, as by an open.
pub(crate) fn existing(
    storage: &dyn Storage,
    given: &Path,
    why: &'static str,
) -> Result<PathBuf, WalError> {
    let path = storage.resolve(given).context("opening", given)?;
    if !storage.file_exists(&path).context("opening", given)? {
        return Err(WalError::io(
            "opening",
            given,
            std::io::Error::new(std::io::ErrorKind::NotFound, why),
        ));
    }
    Ok(path)
}
