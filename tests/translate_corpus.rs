//! The translation oracle over the public corpus: for every non-fragment
//! config, `sercompat check --fix` produces a file that real Kamailio 5.6
//! accepts (`kamailio -c`), or sercompat reports an error that names why
//! (a module no Kamailio 5.6 package provides, a construct with no safe
//! rewrite, an include the corpus does not hold). A rejection sercompat did
//! not foresee fails the test, unless it comes from the machine rather than
//! the config (`tests/translate-environment.tsv`, each with its reason).
//!
//! Each file is laid out in a scratch directory under its original name
//! with the includes the index resolves, translated there like
//! `--in-place` (era detected, as the command line does), and checked
//! without `-A` names.

use sercompat_compiler::translate::{self, Target};
use sercompat_compiler::variants;
use sercompat_grammar::Options;
use sercompat_tests::corpus::{Entry, Index};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The include names a config's text writes (`include_file "x"`,
/// `#!import_file "y"`, `!!include_file "z"`).
fn include_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        let l = l
            .strip_prefix("#!")
            .or_else(|| l.strip_prefix("!!"))
            .unwrap_or(l);
        let Some(rest) = l
            .strip_prefix("include_file")
            .or_else(|| l.strip_prefix("import_file"))
        else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(q) = rest.strip_prefix('"') {
            if let Some(end) = q.find('"') {
                out.push(q[..end].to_string());
            }
        }
    }
    out
}

/// Writes `e` and (recursively) the includes the index resolves into
/// `dir`, and returns the root's path there.
fn lay_out(corpus: &Path, index: &Index, e: &Entry, dir: &Path) -> PathBuf {
    let name = e.original.rsplit('/').next().unwrap_or(&e.file);
    let root = dir.join(name);
    let text = String::from_utf8_lossy(&std::fs::read(corpus.join(&e.file)).expect("corpus file"))
        .into_owned();
    let mut todo: Vec<String> = include_names(&text);
    std::fs::write(&root, text).expect("scratch write");
    let mut seen: Vec<String> = Vec::new();
    while let Some(rel) = todo.pop() {
        if rel.starts_with('/') || rel.contains("..") || seen.contains(&rel) || seen.len() > 64 {
            continue; // outside the scratch directory: stays missing
        }
        seen.push(rel.clone());
        let Some(file) = index.resolve(e, &rel) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(corpus.join(file)) else {
            continue;
        };
        let inc = String::from_utf8_lossy(&bytes).into_owned();
        todo.extend(include_names(&inc));
        let dest = dir.join(&rel);
        if let Some(p) = dest.parent() {
            let _ = std::fs::create_dir_all(p);
        }
        let _ = std::fs::write(dest, inc);
    }
    root
}

enum Outcome {
    Accepted,
    /// sercompat said why it cannot translate (the first error).
    Explained(String),
    /// Kamailio refused a translation sercompat reported as complete.
    Unexplained(String),
}

fn one(corpus: &Path, index: &Index, e: &Entry, dir: &Path, kam: &(PathBuf, PathBuf)) -> Outcome {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("scratch dir");
    let root = lay_out(corpus, index, e, dir);
    let opts = Options {
        cwd: Some(dir.to_path_buf()),
        ..Options::default()
    };
    let v = variants::check(&root, &opts, false).expect("readable");
    let t = translate::translate(&v, &Target::newest());
    for f in t.files.iter().filter(|f| f.changed()) {
        let _ = std::fs::write(&f.name, &f.output);
    }
    // What the default variant (no -A) shows: that is what `kamailio -c` reads.
    let first_error = t
        .diags
        .iter()
        .find(|(vi, d)| *vi == 0 && d.is_error())
        .or_else(|| t.diags.iter().find(|(_, d)| d.is_error()))
        .map(|(_, d)| format!("{} {}", d.code, d.message));
    let first_error = first_error.or_else(|| {
        v.variants[0]
            .parsed
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
    });
    match sercompat_tests::kamailio_check(&kam.0, &kam.1, &root, &[]) {
        Ok(()) => Outcome::Accepted,
        Err(k) => match first_error {
            Some(why) => Outcome::Explained(why),
            None => Outcome::Unexplained(k),
        },
    }
}

/// The reason kind of an explanation: its code and message with the names
/// taken out (for counting).
fn reason_kind(why: &str) -> String {
    let mut out = String::new();
    let mut in_tick = false;
    for c in why.chars() {
        if c == '`' {
            in_tick = !in_tick;
            if in_tick {
                out.push('X');
            }
        } else if !in_tick {
            out.push(c);
        }
    }
    out.chars().take(110).collect()
}

#[test]
fn corpus_translations_are_accepted_or_explained() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let Some(kam) = sercompat_tests::kamailio() else {
        return;
    };
    let corpus = shared.join("corpus");
    let index = Index::read(&corpus);
    let environment = sercompat_tests::read_fixtures("translate-environment.tsv", |r| r.len() > 20);
    let scratch = std::env::temp_dir().join(format!("sercompat-corpus-{}", std::process::id()));
    let files: Vec<&Entry> = index.entries.iter().filter(|e| !e.fragment).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(e) = files.get(i) else { break };
                mine.push((
                    i,
                    one(&corpus, &index, e, &scratch.join(i.to_string()), &kam),
                ));
            }
            mine
        };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(8 << 20)
                    .spawn_scoped(s, work)
                    .expect("worker")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&scratch);

    let mut per_era: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut environment_seen = 0;
    for (i, outcome) in &results {
        let e = files[*i];
        let era = per_era.entry(e.era.as_str()).or_default();
        era.0 += 1;
        match outcome {
            Outcome::Accepted => era.1 += 1,
            Outcome::Explained(why) => {
                era.2 += 1;
                *reasons.entry(reason_kind(why)).or_default() += 1;
            }
            Outcome::Unexplained(k) => {
                if environment.contains_key(&(e.file.clone(), "kamailio".to_string())) {
                    environment_seen += 1;
                } else {
                    unexpected.push(format!("{}: {k}", e.file));
                }
            }
        }
    }
    // SERCOMPAT_TRANSLATE_REPORT=FILE: every file's outcome, for working on the rules.
    if let Some(path) = std::env::var_os("SERCOMPAT_TRANSLATE_REPORT") {
        let mut report = String::new();
        for (i, outcome) in &results {
            let (kind, text) = match outcome {
                Outcome::Accepted => ("accepted", String::new()),
                Outcome::Explained(why) => ("explained", why.clone()),
                Outcome::Unexplained(k) => ("unexplained", k.replace('\n', " | ")),
            };
            report.push_str(&format!("{}\t{kind}\t{text}\n", files[*i].file));
        }
        std::fs::write(path, report).expect("report");
    }
    let total = files.len();
    let accepted: usize = per_era.values().map(|v| v.1).sum();
    let explained: usize = per_era.values().map(|v| v.2).sum();
    eprintln!(
        "translated {total} corpus configs: {accepted} accepted by kamailio -c ({:.1}%), {explained} with an error naming why, {environment_seen} refused for this machine's environment",
        accepted as f64 * 100.0 / total as f64
    );
    for (era, (n, a, x)) in &per_era {
        eprintln!(
            "  {era:<14} {n:>4} files  {a:>4} accepted ({:>5.1}%)  {x:>4} explained",
            *a as f64 * 100.0 / *n as f64
        );
    }
    let mut by_count: Vec<(&String, &usize)> = reasons.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (why, n) in by_count.iter().take(25) {
        eprintln!("  {n:>4}  {why}");
    }
    assert!(
        unexpected.is_empty(),
        "{} translations kamailio -c refuses without a sercompat error (a missing rule, or an environment case for tests/translate-environment.tsv):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert_eq!(
        environment_seen,
        environment.len(),
        "every tests/translate-environment.tsv entry still happens"
    );
    // The floor this suite has reached; raise it as rules are added.
    assert!(
        accepted * 100 >= total * 60,
        "only {accepted} of {total} translations are accepted (floor: 60%)"
    );
}
