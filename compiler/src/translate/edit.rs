//! Edits against the text a person wrote: a byte range of one file and
//! what replaces it. Edits from every `#!ifdef` variant are merged by file
//! name (file ids differ between variants) and applied once.

use std::collections::BTreeMap;

/// One rewrite of a byte range of one file (an insertion when the range
/// is empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The file's name in the source database (its path as opened).
    pub file: String,
    pub start: usize,
    pub end: usize,
    pub replacement: String,
    /// The rule that made it (`T0101`), see `docs/migration.md`.
    pub rule: &'static str,
    /// What it does, for a person: "module `mysql` is `db_mysql` since …".
    pub message: String,
}

/// Two edits that want different text for overlapping ranges of a file.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub kept: Edit,
    pub dropped: Edit,
}

/// The merged edits of one translation, by file.
#[derive(Default, Debug)]
pub struct EditSet {
    by_file: BTreeMap<String, Vec<Edit>>,
    pub conflicts: Vec<Conflict>,
}

impl EditSet {
    /// Adds an edit; the same edit from another variant is kept once. An
    /// edit that overlaps a different one is not applied (the first one
    /// wins) and is recorded as a conflict. Two insertions at the same
    /// offset are both kept, in arrival order, unless they are equal.
    pub fn add(&mut self, e: Edit) {
        let list = self.by_file.entry(e.file.clone()).or_default();
        for have in list.iter() {
            if have.start == e.start && have.end == e.end && have.replacement == e.replacement {
                return;
            }
            let overlaps = if have.start == have.end || e.start == e.end {
                // An insertion conflicts only with a rewrite strictly around it.
                (have.start == have.end && e.start < have.start && have.start < e.end)
                    || (e.start == e.end && have.start < e.start && e.start < have.end)
            } else {
                have.start < e.end && e.start < have.end
            };
            if overlaps {
                self.conflicts.push(Conflict {
                    kept: have.clone(),
                    dropped: e,
                });
                return;
            }
        }
        list.push(e);
    }

    /// The edits of one file, in text order.
    pub fn file(&self, name: &str) -> Vec<&Edit> {
        let mut v: Vec<&Edit> = self
            .by_file
            .get(name)
            .map_or(Vec::new(), |l| l.iter().collect());
        v.sort_by_key(|e| (e.start, e.end));
        v
    }

    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.by_file.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_file.values().all(Vec::is_empty)
    }

    pub fn all(&self) -> Vec<&Edit> {
        let mut v: Vec<&Edit> = self.by_file.values().flatten().collect();
        v.sort_by(|a, b| (&a.file, a.start, a.end).cmp(&(&b.file, b.start, b.end)));
        v
    }
}

/// `text` with `edits` (non-overlapping, in text order) applied.
pub fn apply(text: &str, edits: &[&Edit]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in edits {
        if e.start < at || e.end > text.len() {
            continue; // cannot happen for a merged set; never corrupt the text
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.replacement);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, r: &str) -> Edit {
        Edit {
            file: "f".into(),
            start,
            end,
            replacement: r.into(),
            rule: "T0000",
            message: String::new(),
        }
    }

    #[test]
    fn merges_duplicates_and_applies_in_order() {
        let mut set = EditSet::default();
        set.add(edit(6, 11, "there"));
        set.add(edit(0, 5, "HELLO"));
        set.add(edit(6, 11, "there"));
        assert_eq!(set.all().len(), 2);
        assert_eq!(apply("hello world", &set.file("f")), "HELLO there");
    }

    #[test]
    fn overlapping_different_edits_conflict() {
        let mut set = EditSet::default();
        set.add(edit(0, 5, "a"));
        set.add(edit(3, 8, "b"));
        assert_eq!(set.conflicts.len(), 1);
        assert_eq!(set.file("f").len(), 1);
    }

    #[test]
    fn insertions_next_to_rewrites_are_kept() {
        let mut set = EditSet::default();
        set.add(edit(5, 5, "!"));
        set.add(edit(0, 5, "HELLO"));
        assert!(set.conflicts.is_empty());
        assert_eq!(apply("hello world", &set.file("f")), "HELLO! world");
    }
}
