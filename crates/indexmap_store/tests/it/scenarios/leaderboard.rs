//! A sorted leaderboard, as an application keeps one: players kept in
//! score order with the sorted inserts, a round's results merged with
//! `append`, the bottom cut with `extract_if`, the podium replaced with
//! `splice`, a player fixed through an entry by index; the order survives
//! every reopen and a compaction. Each step is checked against the same
//! calls on a plain `IndexMap`, and the entries' indices against the
//! documented semantics.

use std::cmp::Reverse;
use std::io;

use indexmap::IndexMap;
use indexmap_store::IndexMapStore;
use serde::{Deserialize, Serialize};
use test_support::scratch;

/// A player's line on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Line {
    score: u32,
    country: String,
}

fn line(score: u32, country: &str) -> Line {
    Line {
        score,
        country: country.to_owned(),
    }
}

type Board = IndexMapStore<String, Line>;

/// The board's order: highest score first, then by name.
fn rank(name: &str, line: &Line) -> (Reverse<u32>, String) {
    (Reverse(line.score), name.to_owned())
}

fn names(board: &Board) -> Vec<&str> {
    board.keys().map(String::as_str).collect()
}

fn is_ranked(board: &Board) -> bool {
    let ranks: Vec<_> = board.iter().map(|(k, v)| rank(k, v)).collect();
    ranks.is_sorted()
}

#[test]
fn a_sorted_leaderboard_kept_with_insert_sorted_survives_reopens() -> io::Result<()> {
    let (_dir, path) = scratch("leaderboard.log");
    let mut board: Board = IndexMapStore::open(&path)?;
    let mut model: IndexMap<String, Line> = IndexMap::new();
    for (name, score, country) in [
        ("ann", 120, "se"),
        ("bob", 300, "uk"),
        ("cyd", 180, "fr"),
        ("dee", 300, "de"),
        ("eve", 50, "es"),
    ] {
        let got =
            board.insert_sorted_by_key(name.into(), line(score, country), |k, v| rank(k, v))?;
        let want = model.insert_sorted_by_key(name.into(), line(score, country), |k, v| rank(k, v));
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(names(&board), ["bob", "dee", "cyd", "ann", "eve"]);
    assert!(is_ranked(&board));

    // A new score for a player already on the board: insert_sorted_by
    // moves the entry to its new place (IndexMap's insert_before).
    let moved = board.insert_sorted_by("eve".into(), line(200, "es"), |k, v, k2, v2| {
        rank(k, v).cmp(&rank(k2, v2))
    })?;
    assert_eq!(moved, (2, Some(line(50, "es"))), "eve moved up to 2");
    model.insert_sorted_by("eve".into(), line(200, "es"), |k, v, k2, v2| {
        rank(k, v).cmp(&rank(k2, v2))
    });
    assert_eq!(names(&board), ["bob", "dee", "eve", "cyd", "ann"]);
    drop(board);

    // The order is the file's, not a sort at open.
    let mut board: Board = IndexMapStore::open(&path)?;
    assert!(board.iter().eq(model.iter()), "reopened");

    // A round's results arrive as a map: the players already on the board
    // keep their place and take the new line, the new ones go last; then
    // the board is sorted again.
    let mut round: IndexMap<String, Line> = [
        ("fay", line(260, "it")),
        ("ann", line(125, "se")),
        ("gus", line(10, "pt")),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into();
    model.append(&mut round.clone());
    board.append(&mut round)?;
    assert!(round.is_empty(), "append leaves the round empty");
    assert_eq!(
        names(&board),
        ["bob", "dee", "eve", "cyd", "ann", "fay", "gus"]
    );
    board.sort_by_key(|k, v| rank(k, v))?;
    model.sort_by_key(|k, v| rank(k, v));
    assert!(is_ranked(&board) && board.iter().eq(model.iter()));

    // insert_sorted on name order would misplace entries on a board
    // sorted by score; on a name-sorted copy it updates in place.
    let mut by_name: Board = IndexMapStore::open(path.with_extension("names"))?;
    by_name.insert_many(model.iter().map(|(k, v)| (k.clone(), v.clone())))?;
    by_name.sort_keys()?;
    assert_eq!(
        by_name.insert_sorted("cyd".into(), line(181, "fr"))?,
        (2, Some(line(180, "fr"))),
        "an existing key: the value replaced where it is"
    );
    assert_eq!(
        by_name.insert_sorted("dan".into(), line(1, "ie"))?,
        (3, None)
    );
    assert_eq!(by_name.get_index_of("cyd"), Some(2));
    drop(by_name);

    // Players under 100 are dropped, and returned for a notice.
    let dropped = board.extract_if(.., |_, v| v.score < 100)?;
    let want: Vec<_> = model.extract_if(.., |_, v| v.score < 100).collect();
    assert_eq!(dropped, want);
    assert_eq!(dropped, [("gus".to_owned(), line(10, "pt"))]);

    // The podium is replaced by the final's results: bob and dee leave the
    // board, hal joins, and eve (already below the podium) is updated where
    // she is.
    let podium =
        [("hal", line(400, "no")), ("eve", line(210, "es"))].map(|(k, v)| (k.to_owned(), v));
    let removed = board.splice(..3, podium.clone())?;
    let want: Vec<_> = model.splice(..3, podium).collect();
    assert_eq!(removed, want);
    assert_eq!(names(&board), ["hal", "eve", "cyd", "ann"]);
    assert_eq!(board.get("eve"), Some(&line(210, "es")));

    // A correction through the entry at an index.
    let mut first = board.first_entry().expect("not empty");
    assert_eq!(first.key(), "hal");
    first.modify(|l| l.country = "dk".into())?;
    model.first_mut().expect("not empty").1.country = "dk".into();
    let last = board.last_entry().expect("not empty");
    assert_eq!(last.index(), 3);
    assert_eq!(last.swap_remove()?, line(125, "se"));
    model.pop();
    assert!(board.iter().eq(model.iter()));

    board.close()?;
    let mut board: Board = IndexMapStore::open(&path)?;
    assert!(board.iter().eq(model.iter()), "reopened after the season");
    board.compact()?;
    drop(board);
    let board: Board = IndexMapStore::open(&path)?;
    assert!(board.iter().eq(model.iter()), "reopened after compaction");
    assert_eq!(names(&board), ["hal", "eve", "cyd"]);
    Ok(())
}
