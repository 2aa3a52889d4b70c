//! Seal notes (`Wal::set_seal_note`, `Replay::seal_note`): the note the
//! closing seal carries reaches the next open before any record, exactly
//! as set, and only while the file still ends with that seal; nothing
//! else (a killed writer, later appends, a damaged seal, a plain seal)
//! produces one, and no verdict of the open changes with it.

use std::path::Path;
use std::sync::Arc;

use wal_io::{FsStorage, MAX_SEAL_NOTE, Replay, ReplayRecord, Wal, WalError, WalOptions};

use crate::support::new_fs_log;

/// What an open handed over, in order: `Some(note)` for a seal note,
/// `None` for a record.
#[derive(Default)]
struct Seen {
    events: Vec<Option<Vec<u8>>>,
}

impl Seen {
    fn notes(&self) -> Vec<&[u8]> {
        self.events.iter().flatten().map(Vec::as_slice).collect()
    }
}

impl Replay for Seen {
    fn seal_note(&mut self, note: &[u8]) {
        self.events.push(Some(note.to_vec()));
    }

    fn record(&mut self, _: ReplayRecord<'_>) -> Result<(), wal_io::BoxError> {
        self.events.push(None);
        Ok(())
    }
}

fn open(path: &Path) -> Result<(Wal, Seen), WalError> {
    let mut seen = Seen::default();
    let (wal, _) = Wal::open_with(
        Arc::new(FsStorage::new()),
        path,
        WalOptions::default(),
        &mut seen,
    )?;
    Ok((wal, seen))
}

fn append(wal: &mut Wal, n: u32) {
    for i in 0..n {
        wal.append(format!("record {i}").as_bytes()).unwrap();
    }
}

#[test]
fn the_note_reaches_the_next_open_first_and_as_set() {
    let (_dir, path, mut wal) = new_fs_log();
    append(&mut wal, 10);
    wal.set_seal_note(b"first note").unwrap();
    // The last note set before the seal is the one written.
    wal.set_seal_note(b"ten records").unwrap();
    wal.close().unwrap();
    let (wal, seen) = open(&path).unwrap();
    assert_eq!(seen.events.len(), 11);
    assert_eq!(seen.events[0].as_deref(), Some(&b"ten records"[..]));
    assert!(seen.events[1..].iter().all(Option::is_none));
    drop(wal);
    // Dropping a log with nothing appended leaves the seal as it was.
    let (_, seen) = open(&path).unwrap();
    assert_eq!(seen.notes(), [&b"ten records"[..]]);
}

#[test]
fn a_longest_note_is_kept_and_a_longer_one_refused() {
    let (_dir, path, mut wal) = new_fs_log();
    append(&mut wal, 3);
    let longest = [7u8; MAX_SEAL_NOTE];
    wal.set_seal_note(&longest).unwrap();
    let err = wal.set_seal_note(&[8u8; MAX_SEAL_NOTE + 1]).unwrap_err();
    assert!(
        matches!(err, WalError::SealNoteTooLong { len, max } if len == MAX_SEAL_NOTE + 1 && max == MAX_SEAL_NOTE),
        "{err}"
    );
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("keep the note to 64 bytes"),
        "{err}"
    );
    wal.close().unwrap();
    let (_, seen) = open(&path).unwrap();
    assert_eq!(
        seen.notes(),
        [&longest[..]],
        "the refused note changed nothing"
    );
}

#[test]
fn no_note_without_one_set_or_after_records_appended_since() {
    let (_dir, path, mut wal) = new_fs_log();
    append(&mut wal, 5);
    wal.close().unwrap();
    let (mut wal, seen) = open(&path).unwrap();
    assert!(seen.notes().is_empty(), "a plain seal has no note");
    assert_eq!(seen.events.len(), 5);

    // Sealed with a note, then more records, and the file as a writer
    // killed before it closes would leave it (a copy taken now, with no
    // closing seal): the stale note is not handed over.
    wal.set_seal_note(b"stale").unwrap();
    wal.seal().unwrap();
    append(&mut wal, 4);
    wal.sync().unwrap();
    let killed = path.with_file_name("killed.log");
    std::fs::copy(&path, &killed).unwrap();
    let (_, seen) = open(&killed).unwrap();
    assert!(seen.notes().is_empty(), "the file ends with a record");
    assert_eq!(seen.events.len(), 9, "every record is replayed");

    // `seal` keeps the log open; a later close seals again with the note
    // then in force.
    wal.set_seal_note(b"nine").unwrap();
    wal.seal().unwrap();
    append(&mut wal, 1);
    wal.set_seal_note(b"ten").unwrap();
    wal.close().unwrap();
    let (_, seen) = open(&path).unwrap();
    assert_eq!(seen.notes(), [&b"ten"[..]]);
    assert_eq!(seen.events.len(), 11);
}

#[test]
fn a_damaged_note_is_no_note_and_changes_no_verdict() {
    // The same log sealed with and without a note, its seal's last
    // payload-or-header byte flipped: the opens agree, and neither hands
    // a note over.
    let mut verdicts = Vec::new();
    for note in [&b""[..], &b"note"[..]] {
        let (_dir, path, mut wal) = new_fs_log();
        append(&mut wal, 20);
        wal.set_seal_note(note).unwrap();
        wal.close().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 5; // in the note, or the seal's header
        bytes[at] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        let opened = open(&path);
        if let Ok((_, seen)) = &opened {
            assert!(seen.notes().is_empty(), "a damaged seal hands no note");
        }
        verdicts.push(
            opened
                .map(|(_, seen)| seen.events.len())
                .map_err(|e| e.kind()),
        );
    }
    assert_eq!(verdicts[0], verdicts[1], "the note changes no verdict");
}

/// `read_seal_note`, for a reader that follows the log: the same note an
/// open would hand over, read from the end of the file alone, changing
/// nothing; none for a plain seal, records after the seal or a damaged
/// seal; `NotFound` for no file.
#[test]
fn read_seal_note_reads_the_same_note_from_the_tail_alone() {
    let storage = FsStorage::new();
    let (_dir, path, mut wal) = new_fs_log();
    append(&mut wal, 5);
    wal.close().unwrap();
    assert_eq!(wal_io::read_seal_note(&storage, &path).unwrap(), None);

    let (mut wal, _) = open(&path).unwrap();
    append(&mut wal, 2);
    wal.set_seal_note(b"seven").unwrap();
    wal.seal().unwrap();
    let before = std::fs::read(&path).unwrap();
    let note = wal_io::read_seal_note(&storage, &path).unwrap();
    assert_eq!(note.as_deref(), Some(&b"seven"[..]));
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");

    append(&mut wal, 1);
    wal.sync().unwrap();
    assert_eq!(wal_io::read_seal_note(&storage, &path).unwrap(), None);
    wal.set_seal_note(b"eight").unwrap();
    wal.close().unwrap();
    let note = wal_io::read_seal_note(&storage, &path).unwrap();
    assert_eq!(note.as_deref(), Some(&b"eight"[..]));
    let (_, seen) = open(&path).unwrap();
    assert_eq!(seen.notes(), [&b"eight"[..]], "what an open hands over");

    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 5;
    bytes[at] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(wal_io::read_seal_note(&storage, &path).unwrap(), None);

    let err = wal_io::read_seal_note(&storage, &path.with_file_name("none.log")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
}
