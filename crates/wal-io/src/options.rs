//! [`WalOptions`]: how a log is opened.

/// What recovery does when it finds synced data damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RecoveryMode {
    /// Refuse to open, touching no byte ([`WalError::Corrupt`](crate::WalError::Corrupt)).
    #[default]
    Strict,
    /// Copy every byte from the damage to the end into a sibling file
    /// `<log>.corrupt-<offset>` (synced), then keep the valid prefix.
    Salvage,
}

/// Options for [`Wal::open`](crate::Wal::open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// Identifies the application and its payload encoding; written into
    /// new logs and compared on open (at most 16 bytes are stored).
    pub app_tag: Vec<u8>,
    /// The application's schema version, written into new logs and
    /// reported by [`Wal::header`](crate::Wal::header). A log whose header
    /// names a higher version is refused, untouched.
    pub app_version: u32,
    /// The largest payload accepted, in bytes; checked before anything is
    /// allocated on replay. A reader must use a bound at least as large as
    /// the writer's: a complete, valid record longer than the reader's
    /// bound is not taken for damage but refused
    /// ([`WalError::RecordBeyondBound`](crate::WalError::RecordBeyondBound),
    /// nothing cut), naming the bound to open it with.
    pub max_record_len: u32,
    /// Size of the read buffer used by replay and of the write buffer used
    /// by rewrites; the append buffer shrinks back to it after a large record.
    pub buf_capacity: usize,
    /// What to do with damaged synced data.
    pub recovery: RecoveryMode,
    /// Grow the log file in chunks of this many bytes, filled with zeros
    /// ahead of the records ([`StorageFile::allocate`](crate::StorageFile::allocate)),
    /// so that most syncs write data only and not a new file length (on
    /// this project's ext4 machine, a `write` + `fdatasync` into
    /// zero-filled space took about 30 % less time than one appending; see
    /// the crate's README). About 1 MiB is a sensible chunk: its zero-fill
    /// is paid once per MiB of log, and a crash leaves at most that much
    /// to scan on open. `None` (the default, which keeps files exactly as
    /// long as their records): the file grows with every append.
    ///
    /// Recovery takes zeros after the last record for preallocated space:
    /// with this option set they are kept for later appends and reported in
    /// [`RecoveryReport::preallocated`](crate::RecoveryReport::preallocated),
    /// without it they are cut off like a torn tail. Closing the log cuts
    /// them off, so a closed log ends with its seal. When the disk has no
    /// room for a whole chunk (a full disk, a quota), appends are written
    /// without one, as far as the space goes; preallocation resumes once the
    /// log has grown past the chunk it could not allocate.
    pub preallocate: Option<u64>,
    /// Gather appended records in a user-space buffer of this many bytes,
    /// handing them to the operating system when the next one would not
    /// fit, on [`Wal::flush`](crate::Wal::flush), on every sync and on
    /// close; a record at least this large is written at once. `0` (the
    /// default): every append is written before it returns.
    ///
    /// The price is the loss window: a killed process (not only a power
    /// loss) loses the records still in the buffer, up to this many bytes
    /// ([`WalStats::buffered_bytes`](crate::WalStats::buffered_bytes)).
    /// Dropping the log without closing it flushes (and seals) best effort.
    /// What recovery finds is unchanged: a prefix of the appended records.
    ///
    /// A flush that meets a full disk (`StorageFull`) writes the leading
    /// whole records that fit, keeps the rest in the buffer and returns the
    /// error; flush again once there is room.
    pub append_buffer: usize,
    /// Suffix appended to the log's file name for the temporary file of a
    /// rewrite (`<log><suffix>`).
    pub temp_suffix: String,
}

impl Default for WalOptions {
    fn default() -> Self {
        Self {
            app_tag: b"wal-io".to_vec(),
            app_version: 0,
            max_record_len: wal_format::DEFAULT_MAX_RECORD_LEN,
            buf_capacity: 1 << 20,
            recovery: RecoveryMode::Strict,
            preallocate: None,
            append_buffer: 0,
            temp_suffix: ".rewrite.tmp".to_owned(),
        }
    }
}
