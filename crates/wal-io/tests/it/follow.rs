//! `WalFollower`: a read-only reader that follows a live writer, over real
//! files, changing nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::{new_fs_log, open_fs};

use wal_io::{FollowEvent, FsStorage, Polled, Visibility, Wal, WalError, WalFollower, WalOptions};

/// A writer of the log at `path`.
fn open_wal(path: &Path) -> Wal {
    open_fs(path).unwrap().0
}

/// A closed log of `n` records, record `i` being `len` bytes of `i`.
fn closed_log(n: u8, len: usize) -> (tempfile::TempDir, PathBuf) {
    let (dir, path, mut wal) = new_fs_log();
    for i in 0..n {
        wal.append(&vec![i; len]).unwrap();
    }
    wal.close().unwrap();
    (dir, path)
}

/// A follower and the payloads it delivered (reset on `Reset`).
struct Seen {
    follower: WalFollower,
    records: Vec<Vec<u8>>,
    seqs: Vec<u64>,
}

fn follow(path: &Path, visibility: Visibility) -> Result<(Seen, Polled), WalError> {
    let mut records = Vec::new();
    let mut seqs = Vec::new();
    let (follower, polled) = WalFollower::open(
        Arc::new(FsStorage::new()),
        path,
        WalOptions::default(),
        visibility,
        |r| {
            records.push(r.payload.to_vec());
            seqs.push(r.seq);
            Ok(())
        },
    )?;
    Ok((
        Seen {
            follower,
            records,
            seqs,
        },
        polled,
    ))
}

impl Seen {
    fn poll(&mut self) -> Result<Polled, WalError> {
        let (records, seqs) = (&mut self.records, &mut self.seqs);
        self.follower.poll(|event| {
            match event {
                FollowEvent::Reset => {
                    records.clear();
                    seqs.clear();
                }
                FollowEvent::Record(r) => {
                    records.push(r.payload.to_vec());
                    seqs.push(r.seq);
                }
            }
            Ok(())
        })
    }
}

fn payloads(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|p| p.to_vec()).collect()
}

#[test]
fn follows_appends_in_order_reading_only_new_records() {
    let (_dir, path, mut wal) = new_fs_log();
    wal.append(b"one").unwrap();
    let (mut seen, polled) = follow(&path, Visibility::Written).unwrap();
    assert_eq!(seen.records, payloads(&[b"one"]));
    assert_eq!(polled.records, 1);
    assert_eq!(polled.pending_bytes, 0);

    let polled = seen.poll().unwrap();
    assert_eq!((polled.records, polled.reloaded), (0, false));

    wal.append_many([&b"two"[..], b"three"]).unwrap();
    wal.append(b"four").unwrap();
    let polled = seen.poll().unwrap();
    assert_eq!(polled.records, 3);
    assert!(!polled.reloaded);
    assert_eq!(seen.records, payloads(&[b"one", b"two", b"three", b"four"]));
    assert_eq!(seen.seqs, [0, 1, 2, 3]);
    assert_eq!(polled.next_seq, 4);

    // Closing seals the log: a seal delivers nothing.
    drop(wal);
    let polled = seen.poll().unwrap();
    assert_eq!(polled.records, 0);
    assert_eq!(seen.records.len(), 4);
}

#[test]
fn a_partly_written_frame_is_pending_then_delivered_whole() {
    let (dir, path, mut wal) = new_fs_log();
    wal.append(b"first").unwrap();
    let whole_len = fs::metadata(&path).unwrap().len();
    wal.append(b"second record").unwrap();
    drop(wal);
    let bytes = fs::read(&path).unwrap();
    let second_end = bytes.len() - 16; // the seal
    let second_start = usize::try_from(whole_len).unwrap();
    // As while the writer is still running: no claim covers the second
    // record yet (the close's claim would, and refuse the cut file).
    fs::remove_file(dir.path().join("events.log.lock")).unwrap();
    // The file as a reader sees it while the second frame is being written.
    for cut in second_start..second_end {
        fs::write(&path, &bytes[..cut]).unwrap();
        let (mut seen, polled) = follow(&path, Visibility::Written).unwrap();
        assert_eq!(seen.records, payloads(&[b"first"]), "cut at {cut}");
        assert_eq!(polled.pending_bytes, (cut - second_start) as u64);
        // The rest of the frame arrives.
        fs::write(&path, &bytes[..second_end]).unwrap();
        let polled = seen.poll().unwrap();
        assert_eq!(polled.records, 1, "cut at {cut}");
        assert_eq!(seen.records, payloads(&[b"first", b"second record"]));
        assert_eq!(polled.pending_bytes, 0);
    }
    // The read-only open cut nothing.
    assert_eq!(fs::read(&path).unwrap(), &bytes[..second_end]);
}

#[test]
fn a_rewrite_is_noticed_and_reloaded() {
    let (_dir, path, mut wal) = new_fs_log();
    for i in 0..10u8 {
        wal.append(&[i]).unwrap();
    }
    let (mut seen, _) = follow(&path, Visibility::Written).unwrap();
    assert_eq!(seen.records.len(), 10);
    wal.rewrite(|w| w.push(b"compacted")).unwrap();
    wal.append(b"after").unwrap();
    let polled = seen.poll().unwrap();
    assert!(polled.reloaded);
    assert_eq!(seen.records, payloads(&[b"compacted", b"after"]));
    // Sequence numbers go on from where the old log ended.
    // (The compacted file's seal takes number 11.)
    assert_eq!(seen.seqs, [10, 12]);
    let polled = seen.poll().unwrap();
    assert_eq!(
        (
            polled.reloaded,
            polled.records,
            polled.pending_bytes,
            polled.next_seq
        ),
        (false, 0, 0, 13)
    );
}

#[test]
fn damaged_synced_data_is_refused_with_the_writers_error() {
    let (dir, path) = closed_log(20, 40);
    let mut bytes = fs::read(&path).unwrap();
    bytes[200] ^= 0x40;
    fs::write(&path, &bytes).unwrap();
    let lock = dir.path().join("events.log.lock");
    let lock_bytes = fs::read(&lock).unwrap();

    let err = follow(&path, Visibility::Written).err().expect("refused");
    assert!(matches!(err, WalError::Corrupt { .. }), "{err}");
    let writer_err = open_fs(&path).unwrap_err();
    assert_eq!(err.to_string(), writer_err.to_string());
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert_eq!(fs::read(&lock).unwrap(), lock_bytes);
}

#[test]
fn a_log_cut_below_its_claim_is_refused_as_the_writer_refuses_it() {
    let (_dir, path) = closed_log(5, 10);
    let bytes = fs::read(&path).unwrap();
    // Cut at a frame boundary: the last record and the seal.
    fs::write(&path, &bytes[..bytes.len() - 16 - 26]).unwrap();
    let err = follow(&path, Visibility::Written).err().expect("refused");
    assert!(matches!(err, WalError::Truncated { .. }), "{err}");
}

#[test]
fn a_missing_log_is_an_error_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let err = follow(&path, Visibility::Written).err().expect("refused");
    assert_eq!(
        std::io::Error::from(err).kind(),
        std::io::ErrorKind::NotFound
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_empty_file_is_an_empty_log_until_its_writer_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    fs::write(&path, b"").unwrap();
    let (mut seen, polled) = follow(&path, Visibility::Written).unwrap();
    assert_eq!(polled.records, 0);
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    assert!(!dir.path().join("events.log.lock").exists());
    let mut wal = open_wal(&path);
    wal.append(b"hello").unwrap();
    let polled = seen.poll().unwrap();
    assert!(polled.reloaded);
    assert_eq!(seen.records, payloads(&[b"hello"]));
}

#[test]
fn durable_visibility_shows_only_what_a_watermark_seal_or_claim_vouches_for() {
    let (_dir, path, mut wal) = new_fs_log();
    wal.append(b"a").unwrap();
    wal.append(b"b").unwrap();
    let (mut seen, polled) = follow(&path, Visibility::Durable).unwrap();
    assert!(seen.records.is_empty());
    assert!(polled.pending_bytes > 0);
    // Synced, but nothing written after the sync vouches for it yet.
    wal.sync().unwrap();
    assert_eq!(seen.poll().unwrap().records, 0);
    // The next record's watermark vouches for both.
    wal.append(b"c").unwrap();
    assert_eq!(seen.poll().unwrap().records, 2);
    assert_eq!(seen.records, payloads(&[b"a", b"b"]));
    // Closing seals and claims everything.
    wal.close().unwrap();
    assert_eq!(seen.poll().unwrap().records, 1);
    assert_eq!(seen.records, payloads(&[b"a", b"b", b"c"]));

    // What everything-written shows, for comparison, on a fresh writer.
    let mut wal = open_wal(&path);
    wal.append(b"d").unwrap();
    let (written, _) = follow(&path, Visibility::Written).unwrap();
    assert_eq!(written.records.len(), 4);
    assert_eq!(seen.poll().unwrap().records, 0);
}
