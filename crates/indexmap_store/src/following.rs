//! [`ReadOnlyStore::follow`]: refreshing a reader on a timer, on a thread
//! of its own.

use std::hash::{BuildHasher, Hash, RandomState};
use std::io;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::read_only::{ReadOnlyStore, Refreshed};

/// A [`ReadOnlyStore`] refreshed on a timer by a thread of its own; see
/// [`ReadOnlyStore::follow`]. Dropping it stops the thread (and drops the
/// store); [`stop`](Self::stop) gives the store back.
#[derive(Debug)]
pub struct Following<K, V, S = RandomState> {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<ReadOnlyStore<K, V, S>>>,
}

impl<K, V, S> ReadOnlyStore<K, V, S>
where
    K: Hash + Eq + Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
    S: BuildHasher + Clone + Send + 'static,
{
    /// Moves the store to a new thread that calls
    /// [`refresh`](Self::refresh) every `every`, and `on_refresh` with the
    /// store and the result after each refresh that changed the map or
    /// failed. A failed refresh changes nothing and is tried again at the
    /// next tick.
    ///
    /// Polling a file is cheap (an `open`, a header read and a `stat` per
    /// tick when nothing changed), so no file-change notification is used.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use indexmap_store::OpenOptions;
    /// let reader = OpenOptions::new().open_read_only::<String, u64>("users.log")?;
    /// let following = reader.follow(Duration::from_millis(100), |store, refreshed| {
    ///     if let Ok(r) = refreshed {
    ///         println!("{} users ({} new operations)", store.len(), r.records);
    ///     }
    /// });
    /// // ... later:
    /// let reader = following.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn follow<F>(mut self, every: Duration, mut on_refresh: F) -> Following<K, V, S>
    where
        F: FnMut(&Self, io::Result<Refreshed>) + Send + 'static,
    {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            loop {
                let refreshed = self.refresh();
                if refreshed.as_ref().map_or(true, Refreshed::changed) {
                    on_refresh(&self, refreshed);
                }
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return self,
                }
            }
        });
        Following {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl<K, V, S> Following<K, V, S> {
    /// Stops the thread after its current refresh and returns the store.
    ///
    /// # Panics
    ///
    /// If the callback panicked: the panic is passed on.
    #[must_use]
    pub fn stop(mut self) -> ReadOnlyStore<K, V, S> {
        self.stop.take();
        let thread = self
            .thread
            .take()
            .expect("a running Following has its thread");
        match thread.join() {
            Ok(store) => store,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl<K, V, S> Drop for Following<K, V, S> {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // A panic of the callback was the thread's; nothing to add.
            let _ = thread.join();
        }
    }
}
