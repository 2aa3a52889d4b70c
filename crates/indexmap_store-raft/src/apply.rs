//! Applying a [`Command`] to an `IndexMap`: the same call on every node, so
//! every node ends with the same entries in the same order.

use indexmap::IndexMap;

use crate::types::{Command, Key, Response, Value};

/// Applies `command` to `map` and returns its answer. Deterministic: the
/// answer and the resulting map depend only on `map` and `command`.
pub fn apply_command<K: Key, V: Value>(
    map: &mut IndexMap<K, V>,
    command: Command<K, V>,
) -> Response<V> {
    match command {
        Command::Insert { key, value } => Response::Value(map.insert(key, value)),
        Command::ShiftRemove { key } => Response::Value(map.shift_remove(&key)),
        Command::SwapRemove { key } => Response::Value(map.swap_remove(&key)),
        Command::ShiftInsert { index, key, value } => {
            // A key already present moves within the map, so `index` may be
            // at most len - 1 for it; a new key may go at len.
            let bound = if map.contains_key(&key) {
                map.len()
            } else {
                map.len() + 1
            };
            if index >= bound {
                return out_of_range("shift_insert", index, bound);
            }
            Response::Value(map.shift_insert(index, key, value))
        }
        Command::MoveIndex { from, to } => {
            if from >= map.len() || to >= map.len() {
                return out_of_range("move_index", from.max(to), map.len());
            }
            map.move_index(from, to);
            Response::Done
        }
        Command::SwapIndices { a, b } => {
            if a >= map.len() || b >= map.len() {
                return out_of_range("swap_indices", a.max(b), map.len());
            }
            map.swap_indices(a, b);
            Response::Done
        }
        Command::Truncate { len } => {
            map.truncate(len);
            Response::Done
        }
        Command::Reverse => {
            map.reverse();
            Response::Done
        }
        Command::Clear => {
            map.clear();
            Response::Done
        }
        Command::Batch(commands) => Response::Batch(
            commands
                .into_iter()
                .map(|command| apply_command(map, command))
                .collect(),
        ),
    }
}

fn out_of_range<V>(op: &str, index: usize, bound: usize) -> Response<V> {
    Response::Rejected(format!(
        "{op}: index {index} is out of range (must be below {bound}); nothing was changed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(keys: &[&str]) -> IndexMap<String, u32> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| ((*k).to_owned(), i as u32))
            .collect()
    }

    fn keys(map: &IndexMap<String, u32>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    #[test]
    fn each_command_is_the_indexmap_method() {
        let mut m = map(&["a", "b", "c"]);
        assert_eq!(
            apply_command(
                &mut m,
                Command::Insert {
                    key: "b".into(),
                    value: 9
                }
            ),
            Response::Value(Some(1))
        );
        assert_eq!(keys(&m), ["a", "b", "c"]);
        assert_eq!(
            apply_command(&mut m, Command::ShiftRemove { key: "a".into() }),
            Response::Value(Some(0))
        );
        assert_eq!(keys(&m), ["b", "c"]);
        apply_command(
            &mut m,
            Command::ShiftInsert {
                index: 0,
                key: "z".into(),
                value: 1,
            },
        );
        assert_eq!(keys(&m), ["z", "b", "c"]);
        apply_command(&mut m, Command::MoveIndex { from: 0, to: 2 });
        assert_eq!(keys(&m), ["b", "c", "z"]);
        apply_command(&mut m, Command::SwapIndices { a: 0, b: 2 });
        assert_eq!(keys(&m), ["z", "c", "b"]);
        apply_command(&mut m, Command::Reverse);
        assert_eq!(keys(&m), ["b", "c", "z"]);
        assert_eq!(
            apply_command(&mut m, Command::SwapRemove { key: "b".into() }),
            Response::Value(Some(9))
        );
        assert_eq!(keys(&m), ["z", "c"]);
        apply_command(&mut m, Command::Truncate { len: 1 });
        assert_eq!(keys(&m), ["z"]);
        apply_command(&mut m, Command::Clear);
        assert!(m.is_empty());
    }

    #[test]
    fn out_of_range_indices_are_rejected_and_change_nothing() {
        let mut m = map(&["a", "b"]);
        let before = m.clone();
        for command in [
            Command::MoveIndex { from: 0, to: 2 },
            Command::SwapIndices { a: 5, b: 0 },
            Command::ShiftInsert {
                index: 2,
                key: "a".into(),
                value: 7,
            },
            Command::ShiftInsert {
                index: 3,
                key: "new".into(),
                value: 7,
            },
        ] {
            let answer = apply_command(&mut m, command);
            assert!(
                matches!(&answer, Response::Rejected(why) if why.contains("out of range")),
                "{answer:?}"
            );
            assert_eq!(m, before);
        }
        // A new key may go at the end.
        apply_command(
            &mut m,
            Command::ShiftInsert {
                index: 2,
                key: "c".into(),
                value: 2,
            },
        );
        assert_eq!(keys(&m), ["a", "b", "c"]);
    }

    #[test]
    fn a_batch_answers_each_command_in_order() {
        let mut m = map(&["a"]);
        let answer = apply_command(
            &mut m,
            Command::Batch(vec![
                Command::Insert {
                    key: "b".into(),
                    value: 1,
                },
                Command::MoveIndex { from: 0, to: 9 },
                Command::ShiftRemove { key: "a".into() },
            ]),
        );
        let Response::Batch(answers) = answer else {
            panic!("a batch answers a batch, got {answer:?}");
        };
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0], Response::Value(None));
        assert!(
            matches!(answers[1], Response::Rejected(_)),
            "{:?}",
            answers[1]
        );
        assert_eq!(answers[2], Response::Value(Some(0)));
        assert_eq!(keys(&m), ["b"]);
    }
}
