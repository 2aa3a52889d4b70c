//! Issue 16, "many threads, one store": the store is `Sync`, so an
//! application shares it as `Arc<RwLock<IndexMapStore>>` with reader threads
//! and a writer, on a real file.

use std::io;
use std::sync::{Arc, RwLock};
use std::thread;

use indexmap_store::IndexMapStore;
use test_support::scratch;

type Users = IndexMapStore<String, u64>;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn the_store_is_send_and_sync() {
    assert_send_sync::<Users>();
    assert_send_sync::<Arc<RwLock<Users>>>();
    assert_send_sync::<wal_io::Wal>();
}

/// Readers see every write the writer finished before they took the read
/// lock, in insertion order; the file holds them all after the threads end.
#[test]
fn readers_and_a_writer_share_one_store() -> io::Result<()> {
    const WRITES: u64 = 200;
    const READERS: usize = 3;
    let (_dir, path) = scratch("shared.log");
    let store = Arc::new(RwLock::new(Users::open(&path)?));

    let writer = {
        let store = Arc::clone(&store);
        thread::spawn(move || -> io::Result<()> {
            for i in 0..WRITES {
                store
                    .write()
                    .expect("no thread panicked")
                    .insert(format!("user-{i}"), i)?;
            }
            Ok(())
        })
    };
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let mut last_len = 0;
                loop {
                    let guard = store.read().expect("no thread panicked");
                    let len = guard.len();
                    assert!(len >= last_len, "the store shrank from {last_len} to {len}");
                    // Every key written so far is there, in insertion order.
                    for (i, (key, value)) in guard.iter().enumerate() {
                        assert_eq!(key, &format!("user-{i}"));
                        assert_eq!(*value, i as u64);
                    }
                    last_len = len;
                    if len as u64 == WRITES {
                        return len;
                    }
                    drop(guard);
                    thread::yield_now();
                }
            })
        })
        .collect();
    writer.join().expect("the writer did not panic")?;
    for reader in readers {
        assert_eq!(
            reader.join().expect("a reader did not panic") as u64,
            WRITES
        );
    }

    let store = Arc::into_inner(store)
        .expect("every thread is done")
        .into_inner()
        .expect("no thread panicked");
    drop(store);
    let reopened = Users::open(&path)?;
    assert_eq!(reopened.len() as u64, WRITES);
    assert_eq!(reopened.get("user-199"), Some(&199));
    Ok(())
}
