//! [`Wal::write_copy`]: writing a new log elsewhere (a backup, an export)
//! while the log stays open, atomically.

use std::io;
use std::path::Path;

use wal_format::FileHeader;

use crate::error::{Context, WalError};
use crate::options::WalOptions;
use crate::rewrite::{RewriteWriter, fill_file};
use crate::storage::{OpenMode, StorageLock, parent_dir};
use crate::temp::{clear_temp, sibling};
use crate::wal::Wal;

/// Suffix of the temporary file a copy is written to (`<dest>.copy.tmp`).
pub const COPY_TMP_SUFFIX: &str = ".copy.tmp";

impl Wal {
    /// Writes a new log at `dest` holding the records `fill` pushes, with
    /// this log's application tag and version: an ordinary log, which
    /// [`Wal::open`] opens. This log is neither changed nor locked out: the
    /// copy is a rewrite's output written elsewhere. Returns the number of
    /// records written.
    ///
    /// Atomic: the records go to `<dest>.copy.tmp`, which is synced and
    /// renamed to `dest`, and the directory is synced. A crash at any point
    /// leaves `dest` as it was (missing, or the file replaced) or the whole
    /// copy, never part of one; a leftover temporary file is removed by
    /// the next copy to the same place. Refuses ([`WalError::DestinationExists`],
    /// writing nothing) an existing `dest` unless `overwrite`, and always
    /// the log itself ([`WalError::CopyOntoSource`]); a `dest` that a writer has open
    /// ([`WalError::AlreadyOpen`]). If `fill` or storage fails, the
    /// temporary file is removed and `dest` is as it was.
    pub fn write_copy<F>(
        &self,
        dest: impl AsRef<Path>,
        overwrite: bool,
        fill: F,
    ) -> Result<u64, WalError>
    where
        F: FnOnce(&mut RewriteWriter<'_>) -> Result<(), WalError>,
    {
        let given = dest.as_ref();
        let storage = &*self.storage;
        let dest = storage.resolve(given).context("opening", given)?;
        let exists = storage.file_exists(&dest).context("opening", given)?;
        if dest == self.path {
            return Err(WalError::CopyOntoSource { path: dest });
        }
        if exists && !overwrite {
            return Err(WalError::DestinationExists { path: dest });
        }
        // Replacing a log: not one a writer has open.
        let _lock: Option<Box<dyn StorageLock>> = if exists {
            let lock_path = sibling(&dest, ".lock");
            match storage.lock(&lock_path) {
                Ok(lock) => Some(lock),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(WalError::AlreadyOpen { path: dest });
                }
                Err(e) => return Err(WalError::io("locking", lock_path, e)),
            }
        } else {
            None
        };
        let opts = WalOptions {
            temp_suffix: COPY_TMP_SUFFIX.to_owned(),
            ..self.opts.clone()
        };
        let tmp = sibling(&dest, COPY_TMP_SUFFIX);
        let dir = parent_dir(&dest);
        clear_temp(storage, &dest, &opts)?;
        let file = storage
            .open(&tmp, OpenMode::CreateNew)
            .context("creating", &tmp)?;
        let header =
            FileHeader::new(&opts.app_tag, opts.app_version, 0).with_file_id(storage.new_file_id());
        let written = fill_file(&*file, header, &opts, &tmp, fill).and_then(|filled| {
            storage
                .rename(&tmp, &dest)
                .context("renaming over", &dest)
                .map(|()| filled.records)
        });
        drop(file);
        let records = match written {
            Ok(records) => records,
            Err(err) => {
                // Best effort: the next copy removes it otherwise.
                if storage.remove(&tmp).is_ok() {
                    let _ = storage.sync_dir(dir);
                }
                return Err(err);
            }
        };
        storage
            .sync_dir(dir)
            .context("syncing directory of", &dest)?;
        Ok(records)
    }
}
