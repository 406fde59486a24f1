//! The behavioural oracle for `check`: real Kamailio 5.6 (`kamailio -c`).
//! On every corpus config that Kamailio accepts, sercompat reading it as
//! Kamailio 5 reports no error, unless the error is a defect `kamailio -c`
//! cannot see (an undefined route, a pseudo-variable whose module is not
//! loaded, an invalid regex) recorded in `tests/kamailio-oracle-fixtures.tsv`.

use sercompat_grammar::{parse_file, Era, Options, Severity};
use std::path::{Path, PathBuf};

#[test]
fn no_errors_on_configs_kamailio_accepts() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let Some((bin, modules)) = sercompat_tests::kamailio() else {
        return;
    };
    let corpus = shared.join("corpus");
    let index = std::fs::read_to_string(corpus.join("INDEX.tsv")).expect("INDEX.tsv");
    let files: Vec<PathBuf> = index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 6 && f[5] == "0").then(|| corpus.join(f[0]))
        })
        .collect();
    // Only a defect `kamailio -c` cannot see may stand here, and the reason says why.
    let fixtures = sercompat_tests::read_fixtures("kamailio-oracle-fixtures.tsv", |r| {
        r.contains("kamailio -c")
    });
    // Two workers: the machine has two cores and each check is a process.
    let chunks: Vec<&[PathBuf]> = files.chunks(files.len().div_ceil(2).max(1)).collect();
    let accepted_files: Vec<PathBuf> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .filter(|f| sercompat_tests::kamailio_check(&bin, &modules, f, &[]).is_ok())
                        .cloned()
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut unexpected = Vec::new();
    for file in &accepted_files {
        let rel = file
            .strip_prefix(&corpus)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let opts = Options {
            dialect: Some(Era::Kamailio5),
            cwd: file.parent().map(Path::to_path_buf),
            ..Options::default()
        };
        let parsed = parse_file(file, &opts).expect("read");
        let mut diags = parsed.diagnostics.clone();
        diags.extend(sercompat_compiler::check(&parsed));
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            if !fixtures.contains_key(&(rel.clone(), d.code.to_string())) {
                let (line, col) = d
                    .primary_span()
                    .map_or((0, 0), |s| parsed.db.line_col(s.file, s.start as usize));
                unexpected.push(format!("{rel}:{line}:{col}: [{}] {}", d.code, d.message));
            }
        }
    }
    eprintln!(
        "kamailio -c accepts {} of {} corpus configs",
        accepted_files.len(),
        files.len()
    );
    assert!(
        accepted_files.len() * 20 >= files.len(),
        "kamailio -c accepted only {} of {} files: are its module packages installed?",
        accepted_files.len(),
        files.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} errors on configs that kamailio -c accepts (a false error, or a defect to record in tests/kamailio-oracle-fixtures.tsv):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
