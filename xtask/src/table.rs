//! The text table `cargo xtask fuzz` and `cargo xtask bench` end with.

/// Lays `rows` out under `headers` as a text table: columns separated by
/// ` | `, a rule under the headers, numeric columns right-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .filter_map(|row| row.get(i))
            .map(|cell| cell.chars().count())
            .chain([headers[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..headers.len()).map(width).collect();
    let numeric: Vec<bool> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .all(|cell| cell.parse::<f64>().is_ok() || cell == "-" || cell.is_empty())
                && !rows.is_empty()
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| match numeric[i] {
                true => format!("{cell:>w$}", w = widths[i]),
                false => format!("{cell:<w$}", w = widths[i]),
            })
            .collect();
        format!("{}\n", padded.join(" | ").trim_end())
    };
    let mut text = line(headers.to_vec());
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    text.push_str(&format!("{}\n", rule.join("-+-")));
    for row in rows {
        let mut cells: Vec<&str> = row.iter().map(String::as_str).collect();
        cells.resize(headers.len(), "");
        text.push_str(&line(cells));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_right_aligns_numbers() {
        let rows = vec![
            vec!["store_ops".to_owned(), "31".to_owned(), "ok".to_owned()],
            vec!["recover".to_owned(), "7".to_owned(), "CRASH".to_owned()],
        ];
        let text = table(&["target", "seconds", "result"], &rows);
        let expected = "\
target    | seconds | result
----------+---------+-------
store_ops |      31 | ok
recover   |       7 | CRASH
";
        assert_eq!(text, expected);
    }

    #[test]
    fn table_pads_short_rows_and_handles_no_rows() {
        let text = table(&["a", "b"], &[vec!["x".to_owned()]]);
        assert_eq!(text, "a | b\n--+--\nx |\n");
        assert_eq!(table(&["a"], &[]), "a\n-\n");
    }
}
