//! The public corpus index (`../shared/corpus/INDEX.tsv`) and include
//! resolution through it: the corpus stores each file under a flattened
//! name, so an include name is looked up by its original path next to the
//! including file, taking the newest version not newer than the includer.

use std::collections::HashMap;
use std::path::Path;

/// One line of `INDEX.tsv`.
pub struct Entry {
    /// The corpus file, relative to the corpus directory.
    pub file: String,
    /// Its path in the repository it came from.
    pub original: String,
    pub date: String,
    /// The era label (`ser-0.8`, `kamailio-5.x`, ...).
    pub era: String,
    pub fragment: bool,
}

/// The index, with the lookups include resolution needs.
pub struct Index {
    pub entries: Vec<Entry>,
    /// Original path → (date, corpus file), oldest first.
    by_original: HashMap<String, Vec<(String, String)>>,
    /// File name → original paths with that name.
    by_basename: HashMap<String, Vec<String>>,
}

/// `a/./b/../c` → `a/c`.
pub fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

impl Index {
    pub fn read(corpus: &Path) -> Index {
        let text = std::fs::read_to_string(corpus.join("INDEX.tsv")).expect("INDEX.tsv");
        let entries: Vec<Entry> = text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 6).then(|| Entry {
                    file: f[0].to_string(),
                    original: f[1].to_string(),
                    date: f[3].to_string(),
                    era: f[4].to_string(),
                    fragment: f[5] == "1",
                })
            })
            .collect();
        let mut by_original: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut by_basename: HashMap<String, Vec<String>> = HashMap::new();
        for e in &entries {
            by_original
                .entry(e.original.clone())
                .or_default()
                .push((e.date.clone(), e.file.clone()));
            let base = e.original.rsplit('/').next().unwrap().to_string();
            let v = by_basename.entry(base).or_default();
            if !v.contains(&e.original) {
                v.push(e.original.clone());
            }
        }
        for v in by_original.values_mut() {
            v.sort();
        }
        Index {
            entries,
            by_original,
            by_basename,
        }
    }

    /// The corpus file an include named `rel` (as written) of `includer`
    /// stands for: by original path next to the includer, else (absolute
    /// paths such as `/usr/local/etc/kamailio/x.cfg`) by file name; the
    /// newest version not newer than the includer.
    pub fn resolve(&self, includer: &Entry, rel: &str) -> Option<&str> {
        let original_dir = includer.original.rsplit_once('/').map_or("", |(d, _)| d);
        let wanted = (!rel.starts_with('/')).then(|| normalize(&format!("{original_dir}/{rel}")));
        let versions = wanted
            .as_ref()
            .and_then(|w| self.by_original.get(w))
            .or_else(|| {
                let base = rel.rsplit('/').next().unwrap_or(rel);
                self.by_basename
                    .get(base)
                    .and_then(|origs| origs.first())
                    .and_then(|o| self.by_original.get(o))
            })?;
        let pick = versions
            .iter()
            .rfind(|(d, _)| *d <= includer.date)
            .or_else(|| versions.first())?;
        Some(pick.1.as_str())
    }
}
