//! Every routing config of the public corpus parses with no error, except
//! the few in `tests/corpus-allowlist.tsv` that were broken in history
//! (each with its reason). Include fragments parse too.
//!
//! The corpus stores each file under a flattened name, so includes are
//! resolved through `INDEX.tsv`: an include name is looked up by its
//! original path next to the including file, taking the newest version not
//! newer than the including file. An include the public corpus does not
//! hold (holdout part, or a file that was never committed) is read as empty
//! and counted, so that the rest of the file is still checked.

use sercompat_grammar::preprocess::FileLoader;
use sercompat_grammar::{parse_text, Era, Options, Parsed, Severity};
use sercompat_tests::corpus::{Entry, Index};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Resolves include names of one corpus file through the index.
struct CorpusLoader<'a> {
    corpus: &'a Path,
    index: &'a Index,
    entry: &'a Entry,
    root_dir: PathBuf,
    missing: RefCell<Vec<String>>,
}

impl FileLoader for CorpusLoader<'_> {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        let rel = path
            .strip_prefix(&self.root_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .to_string();
        match self.index.resolve(self.entry, &rel) {
            Some(file) => std::fs::read_to_string(self.corpus.join(file)),
            None => {
                self.missing.borrow_mut().push(rel);
                Ok(String::new())
            }
        }
    }
}

/// Parses every file of the corpus index (with its labelled era, includes
/// resolved through the index) and hands each to `f`. Returns the number of
/// includes the public corpus does not hold (read as empty), or `None` when
/// `../shared` is absent (the caller skips).
fn for_each_corpus_file(mut f: impl FnMut(&Entry, &Parsed, usize)) -> Option<(usize, usize)> {
    let shared = sercompat_tests::shared_dir()?;
    let corpus = shared.join("corpus");
    let index = Index::read(&corpus);
    let mut missing_includes = 0;
    for e in &index.entries {
        let path = corpus.join(&e.file);
        let text = std::fs::read(&path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .expect("corpus file");
        let loader = CorpusLoader {
            corpus: &corpus,
            index: &index,
            entry: e,
            root_dir: path.parent().unwrap().to_path_buf(),
            missing: RefCell::new(Vec::new()),
        };
        // The index knows each file's era; detection is tested on our own configs.
        let opts = Options {
            dialect: Era::from_corpus_label(&e.era),
            fragment: e.fragment,
            ..Options::default()
        };
        let parsed = parse_text(&e.file, text, &path, &opts, &loader, &|_| None);
        let missing = loader.missing.borrow().len();
        missing_includes += missing;
        f(e, &parsed, missing);
    }
    Some((index.entries.len(), missing_includes))
}

/// `file<TAB>first field<TAB>reason` lines of a list under tests/, comments skipped.
fn read_list(name: &str) -> String {
    std::fs::read_to_string(sercompat_tests::repo_root().join("tests").join(name)).expect(name)
}

fn error_lines(e: &Entry, parsed: &Parsed, diags: &[sercompat_grammar::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let (line, col) = d
                .primary_span()
                .map_or((0, 0), |s| parsed.db.line_col(s.file, s.start as usize));
            format!("{}:{line}:{col}: [{}] {}", e.file, d.code, d.message)
        })
        .collect()
}

#[test]
fn public_corpus_parses() {
    let allow_text = read_list("corpus-allowlist.tsv");
    let allow: BTreeMap<&str, &str> = allow_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("allowlist line: file<TAB>reason"))
        .collect();
    for (file, reason) in &allow {
        assert!(
            reason.trim().len() > 10,
            "allowlist entry {file} needs a reason"
        );
    }
    let mut failures = Vec::new();
    let mut clean_but_allowed = Vec::new();
    let Some((total, missing_includes)) = for_each_corpus_file(|e, parsed, _| {
        let errors = error_lines(e, parsed, &parsed.diagnostics);
        match (errors.is_empty(), allow.contains_key(e.file.as_str())) {
            (false, false) => failures.push(format!(
                "{} ({}):\n    {}",
                e.file,
                if e.fragment { "fragment" } else { "config" },
                errors.join("\n    ")
            )),
            (true, true) => clean_but_allowed.push(e.file.clone()),
            _ => {}
        }
    }) else {
        return;
    };
    eprintln!(
        "corpus: {total} files, {} allowlisted as broken in history ({:.2}%), {missing_includes} includes not in the public corpus read as empty",
        allow.len(),
        allow.len() as f64 * 100.0 / total as f64
    );
    assert!(
        failures.is_empty(),
        "{} corpus files have errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        clean_but_allowed.is_empty(),
        "allowlisted files now parse cleanly; remove them: {clean_but_allowed:?}"
    );
}

/// No false errors from the lints: every error-severity lint finding on a
/// corpus file is a real defect recorded in `tests/lint-fixtures.tsv`
/// (file, code, reason), and every fixture still fires.
#[test]
fn corpus_lint_errors_are_real_defects() {
    let fixtures = sercompat_tests::read_fixtures("lint-fixtures.tsv", |r| r.trim().len() > 10);
    let mut unexpected = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut skipped = 0;
    let found = for_each_corpus_file(|e, parsed, missing| {
        // Read without its includes, a file's routes and defines are
        // incomplete: lint findings on it would be artifacts of the corpus.
        // A fragment calls routes of the file that includes it.
        if missing > 0 || e.fragment {
            skipped += 1;
            return;
        }
        let lints = sercompat_compiler::check(parsed);
        for d in lints.iter().filter(|d| d.severity == Severity::Error) {
            let key = (e.file.clone(), d.code.to_string());
            if fixtures.contains_key(&key) {
                seen.insert(key);
            } else {
                unexpected.extend(error_lines(e, parsed, std::slice::from_ref(d)));
            }
        }
    });
    if found.is_none() {
        return;
    }
    eprintln!(
        "corpus lints: {skipped} files skipped (fragments, or includes not in the public corpus)"
    );
    let stale: Vec<_> = fixtures.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        unexpected.is_empty(),
        "{} lint errors not in tests/lint-fixtures.tsv (fix the lint, or record the defect):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "fixtures that no longer fire; remove them: {stale:?}"
    );
}
