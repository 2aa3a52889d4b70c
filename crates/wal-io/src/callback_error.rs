//! [`CallbackError`]: the error of an entry point that runs your code (a
//! replay or encode callback), with your code's error handed back unboxed,
//! and its conversion into the boxed [`WalError`].

use std::io;
use std::path::PathBuf;

use crate::error::{BoxError, WalError};

/// What can go wrong in an operation that runs your code (a replay or
/// encode callback), with your code's error `E` handed back as it is,
/// never boxed: what the `_typed` entry points return
/// ([`Wal::open_typed`](crate::Wal::open_typed),
/// [`Wal::open_with_typed`](crate::Wal::open_with_typed),
/// [`WalFollower::open_typed`](crate::WalFollower::open_typed),
/// [`WalFollower::poll_typed`](crate::WalFollower::poll_typed),
/// [`inspect_typed`](crate::inspect::inspect_typed),
/// [`Batch::push_with_typed`](crate::Batch::push_with_typed)), so that a
/// caller gets its own error type back by value instead of downcasting a
/// [`BoxError`].
///
/// It mirrors [`WalError`]: [`Replay`](Self::Replay) and
/// [`Encode`](Self::Encode) are [`WalError::Replay`] and
/// [`WalError::Encode`] with the callback's error unboxed (same fields,
/// same messages, same [`kind`](Self::kind)), and [`Wal`](Self::Wal) is
/// every failure of the log itself. `WalError::from` boxes it into exactly
/// the error the boxed entry point returns.
///
/// ```
/// use std::sync::Arc;
/// use wal_io::{CallbackError, FsStorage, Wal, WalOptions};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("not a number")]
/// struct NotANumber;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("numbers.log");
/// let (mut wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, WalOptions::default(), |_| Ok(()))?;
/// wal.append(b"12")?;
/// wal.append(b"twelve")?;
/// drop(wal);
///
/// let mut sum = 0u64;
/// let opened = Wal::open_typed(Arc::new(FsStorage::new()), &path, WalOptions::default(), |r| {
///     let n: u64 = std::str::from_utf8(r.payload).ok().and_then(|s| s.parse().ok()).ok_or(NotANumber)?;
///     sum += n;
///     Ok(())
/// });
/// match opened {
///     // Your error, by value, with the record it belongs to.
///     Err(CallbackError::Replay { seq, source: NotANumber, .. }) => assert_eq!(seq, 1),
///     other => panic!("expected the callback's error, got {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError<E> {
    /// The log failed, not the callback: I/O, locking, a foreign or
    /// damaged file, poisoning, a record too large; see [`WalError`].
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The replay callback rejected a record (as [`WalError::Replay`]);
    /// the file was left untouched.
    // Deliberately repeats `WalError::Replay`'s message and fields: a
    // typed caller and a boxed one must read the same error.
    #[error(
        "record {seq} at byte {offset} of {path} was rejected: {source}; the file was left untouched"
    )]
    Replay {
        /// The log's path.
        path: PathBuf,
        /// The record's sequence number.
        seq: u64,
        /// The record's byte offset.
        offset: u64,
        /// The callback's error.
        #[source]
        source: E,
    },
    /// The encode callback failed (as [`WalError::Encode`]); nothing was
    /// written.
    #[error("encoding a record failed; nothing was written")]
    Encode {
        /// The callback's error.
        #[source]
        source: E,
    },
}

impl<E> CallbackError<E> {
    /// The `io::ErrorKind` this error maps to: that of the [`WalError`]
    /// it boxes into.
    #[must_use]
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Self::Wal(e) => e.kind(),
            Self::Replay { .. } | Self::Encode { .. } => io::ErrorKind::InvalidData,
        }
    }

    /// The callback's own error as `Ok` (that of a
    /// [`Replay`](Self::Replay) or an [`Encode`](Self::Encode), without
    /// the record's position: match on the variant to keep it), the log's
    /// failure as `Err`. For a caller whose error type wraps a
    /// [`WalError`], this is the whole conversion, with no arm for
    /// variants a later version may add:
    ///
    /// ```
    /// # use wal_io::{CallbackError, WalError};
    /// #[derive(Debug)]
    /// enum MyError { Log(WalError), BadRecord(String) }
    ///
    /// fn convert(e: CallbackError<MyError>) -> MyError {
    ///     e.into_callback().unwrap_or_else(MyError::Log)
    /// }
    /// # let e = CallbackError::Encode { source: MyError::BadRecord("x".into()) };
    /// # assert!(matches!(convert(e), MyError::BadRecord(_)));
    /// ```
    pub fn into_callback(self) -> Result<E, WalError> {
        match self {
            Self::Replay { source, .. } | Self::Encode { source } => Ok(source),
            Self::Wal(e) => Err(e),
        }
    }
}

/// Boxes the callback's error: the [`WalError`] the boxed entry point
/// ([`Wal::open`](crate::Wal::open), [`Batch::push_with`](crate::Batch::push_with), ...)
/// returns for the same failure.
impl<E: Into<BoxError>> From<CallbackError<E>> for WalError {
    fn from(e: CallbackError<E>) -> Self {
        match e {
            CallbackError::Wal(e) => e,
            CallbackError::Replay {
                path,
                seq,
                offset,
                source,
            } => WalError::Replay {
                path,
                seq,
                offset,
                source: source.into(),
            },
            CallbackError::Encode { source } => WalError::Encode {
                source: source.into(),
            },
        }
    }
}
