//! A strict reader for the catalog's tab-separated tables.
//!
//! Lines starting with `#` are comments; blank lines are skipped; the first
//! other line is the header and must name exactly the expected columns;
//! every row must have exactly that many fields. Any violation panics with
//! `file:line: reason` — a malformed row is a bug in the data, never skipped.

use std::fmt::Display;

pub(crate) struct Row {
    pub file: &'static str,
    pub line: usize,
    columns: &'static [&'static str],
    fields: Vec<&'static str>,
}

impl Row {
    /// The field of column `col` (a name from the table's column list).
    pub fn get(&self, col: &str) -> &'static str {
        let i = self
            .columns
            .iter()
            .position(|c| *c == col)
            .unwrap_or_else(|| panic!("{}: no column `{col}`", self.file));
        self.fields[i]
    }

    /// A non-empty field.
    pub fn req(&self, col: &str) -> &'static str {
        let v = self.get(col);
        if v.is_empty() {
            self.fail(format!("column `{col}` is empty"));
        }
        v
    }

    /// Parse a field, panicking with `file:line: column: reason` on error.
    pub fn parse<T>(&self, col: &str, f: impl FnOnce(&'static str) -> Result<T, String>) -> T {
        let v = self.get(col);
        f(v).unwrap_or_else(|e| self.fail(format!("column `{col}`: {e}")))
    }

    /// `-` or empty → `None`.
    pub fn opt(&self, col: &str) -> Option<&'static str> {
        match self.get(col) {
            "" | "-" => None,
            v => Some(v),
        }
    }

    pub fn fail(&self, msg: impl Display) -> ! {
        panic!("{}:{}: {}", self.file, self.line, msg)
    }
}

/// Parse `text` (the contents of `file`) with the given columns.
pub(crate) fn parse(
    file: &'static str,
    text: &'static str,
    columns: &'static [&'static str],
) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&'static str> = line.split('\t').collect();
        if !header_seen {
            if fields != columns {
                panic!(
                    "{file}:{line_no}: header should be `{}`",
                    columns.join("\\t")
                );
            }
            header_seen = true;
            continue;
        }
        if fields.len() != columns.len() {
            panic!(
                "{file}:{line_no}: expected {} tab-separated fields, found {}",
                columns.len(),
                fields.len()
            );
        }
        if let Some((c, f)) = columns
            .iter()
            .zip(&fields)
            .find(|(_, f)| f.starts_with("FIXME"))
        {
            panic!("{file}:{line_no}: column `{c}` still has a draft value `{f}`");
        }
        rows.push(Row {
            file,
            line: line_no,
            columns,
            fields,
        });
    }
    if !header_seen {
        panic!("{file}: no header line");
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[&str] = &["a", "b"];

    #[test]
    fn reads_rows() {
        let rows = parse("t.tsv", "# c\na\tb\n\nx\ty\n", COLS);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("b"), "y");
        assert_eq!(rows[0].line, 4);
    }

    #[test]
    #[should_panic(expected = "t.tsv:2: expected 2 tab-separated fields, found 1")]
    fn short_row_panics_with_location() {
        parse("t.tsv", "a\tb\nx\n", COLS);
    }

    #[test]
    #[should_panic(expected = "t.tsv:1: header should be")]
    fn wrong_header_panics() {
        parse("t.tsv", "a\tc\n", COLS);
    }

    #[test]
    #[should_panic(expected = "t.tsv:2: column `b`: bad")]
    fn parse_error_names_column() {
        let rows = parse("t.tsv", "a\tb\nx\ty\n", COLS);
        rows[0].parse("b", |_| Err::<(), _>("bad".to_string()));
    }

    #[test]
    #[should_panic(expected = "draft value")]
    fn draft_values_are_rejected() {
        parse("t.tsv", "a\tb\nx\tFIXME:y\n", COLS);
    }
}
