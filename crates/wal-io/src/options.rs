//! [`WalOptions`]: how a log is opened.

/// What recovery does when it finds synced data damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
            temp_suffix: ".rewrite.tmp".to_owned(),
        }
    }
}
