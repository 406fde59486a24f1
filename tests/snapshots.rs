//! Snapshot tests of the front end:
//!
//! * the [`summary`] outline of every config in `compat-configs/`, which must
//!   parse without errors, and the era each is detected as;
//! * the rendered diagnostics of every deliberately broken config in
//!   `tests/broken/`, one file per error class.
//!
//! Files are read with names relative to the repository root and includes
//! resolved against the including file's directory, so that the snapshots do
//! not depend on where the checkout lives or where the test runs.
//!
//! Update with `cargo insta test -p sercompat-tests --accept` (or
//! `INSTA_UPDATE=always cargo test -p sercompat-tests --test snapshots`),
//! then read every changed `.snap` file.

use codespan_reporting::term::termcolor::NoColor;
use sercompat_grammar::preprocess::FileLoader;
use sercompat_grammar::summary::summary;
use sercompat_grammar::{diagnostic::codes, parse_text, render, Era, Options, Parsed, Severity};
use sercompat_tests::repo_root;
use std::path::{Path, PathBuf};

/// Reads files relative to the repository root (absolute paths as they are).
struct RepoLoader(PathBuf);

impl FileLoader for RepoLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(self.0.join(path))
    }
}

/// Parses `rel` (a path relative to the repository root) the way
/// `sercompat check` run from the file's directory would: include names are
/// tried against the file's directory. No environment variable is set.
fn parse_rel(rel: &str, dialect: Option<Era>, defines: &[&str]) -> Parsed {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
    let path = Path::new(rel);
    let opts = Options {
        dialect,
        defines: defines.iter().map(|d| d.to_string()).collect(),
        cwd: path.parent().map(Path::to_path_buf),
        ..Options::default()
    };
    parse_text(rel, text, path, &opts, &RepoLoader(root), &|_| None)
}

/// Every diagnostic of `p`, rendered as `sercompat check` does, without colour.
fn render_all(p: &Parsed) -> String {
    let mut out = NoColor::new(Vec::new());
    for d in &p.diagnostics {
        render::human(&p.db, d, &mut out).expect("rendering to memory");
    }
    String::from_utf8(out.into_inner()).expect("rendered text is UTF-8")
}

fn snapshot_name(rel: &str) -> String {
    rel.replace('/', "__")
}

/// The `.cfg` files under `dir` (relative to the repository root), sorted,
/// as repository-relative paths with `/` separators.
fn cfg_files(dir: &str) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        {
            let entry = entry.expect("directory entry");
            let rel = dir.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                walk(root, &rel, out);
            } else if rel.extension().is_some_and(|e| e == "cfg") {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root(), Path::new(dir), &mut out);
    out.sort();
    out
}

// ------------------------------------------------------------ compat-configs

/// Include fragments: checked through the file that includes them.
const FRAGMENTS: &[&str] = &["compat-configs/kamailio-3.x/kamailio-3-local.cfg"];

fn compat_configs() -> Vec<String> {
    let files: Vec<String> = cfg_files("compat-configs")
        .into_iter()
        .filter(|f| !FRAGMENTS.contains(&f.as_str()))
        .collect();
    assert!(
        files.len() >= 8,
        "compat-configs/ holds fewer configs than expected: {files:?}"
    );
    files
}

#[test]
fn compat_config_summaries() {
    let mut failures = Vec::new();
    for rel in compat_configs() {
        let p = parse_rel(&rel, None, &[]);
        let errors: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{rel} has errors:\n{}", render_all(&p)));
        }
        insta::assert_snapshot!(snapshot_name(&rel), summary(&p));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The era each compat-config is read as, detected from its text alone.
#[test]
fn compat_config_eras() {
    let expected = |rel: &str| -> Option<Era> {
        if rel.ends_with("/rules-2001.cfg") {
            return Some(Era::Rules2001);
        }
        let dir = rel.split('/').nth(1).expect("compat-configs/<era>/file");
        match dir {
            "ser-0.8" => Some(Era::Ser08),
            "ser-0.9" => Some(Era::Ser09),
            "ser-2.x" => Some(Era::Ser2),
            "openser-1.x" => Some(Era::OpenSer12),
            "kamailio-3.x" => Some(Era::Kamailio3),
            "kamailio-5.x" => Some(Era::Kamailio5),
            // No expectation: the detected era is recorded below.
            "kamailio-6.x" => None,
            other => panic!("compat-configs/{other}: no expected era for this directory; add one"),
        }
    };
    let mut report = String::new();
    let mut wrong = Vec::new();
    for rel in compat_configs() {
        let p = parse_rel(&rel, None, &[]);
        report.push_str(&format!("{rel}: {} ({})\n", p.era.era, p.era.reason));
        if let Some(want) = expected(&rel) {
            if p.era.era != want {
                wrong.push(format!(
                    "{rel}: expected {want}, detected {} ({})",
                    p.era.era, p.era.reason
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    insta::assert_snapshot!("compat-config-eras", report);
}

// ------------------------------------------------------------ broken configs

struct Broken {
    /// Path relative to the repository root.
    file: &'static str,
    /// Read with `--dialect`; also names the snapshot (`…__<era>`).
    dialect: Option<Era>,
    /// The codes of all diagnostics, in the order they are reported.
    codes: &'static [&'static str],
}

const fn broken(file: &'static str, codes: &'static [&'static str]) -> Broken {
    Broken {
        file,
        dialect: None,
        codes,
    }
}

impl Broken {
    fn snapshot_name(&self) -> String {
        match self.dialect {
            Some(era) => format!("{}__{era}", snapshot_name(self.file)),
            None => snapshot_name(self.file),
        }
    }
}

// Each case lists every diagnostic code the file must produce, in order:
// one error per mistake, no cascade.
const BROKEN: &[Broken] = &[
    broken(
        "tests/broken/recursive-define.cfg",
        &[codes::RECURSIVE_DEFINE],
    ),
    broken(
        "tests/broken/mutual-recursive-define.cfg",
        &[codes::RECURSIVE_DEFINE],
    ),
    broken(
        "tests/broken/else-without-ifdef.cfg",
        &[codes::UNBALANCED_ELSE_ENDIF],
    ),
    broken(
        "tests/broken/endif-without-ifdef.cfg",
        &[codes::UNBALANCED_ELSE_ENDIF],
    ),
    broken("tests/broken/unclosed-ifdef.cfg", &[codes::UNCLOSED_IFDEF]),
    broken(
        "tests/broken/missing-include.cfg",
        &[codes::MISSING_INCLUDE],
    ),
    broken("tests/broken/cycle/a.cfg", &[codes::INCLUDE_CYCLE]),
    broken("tests/broken/deep/main.cfg", &[codes::INCLUDE_DEPTH]),
    broken(
        "tests/broken/already-defined.cfg",
        &[codes::ALREADY_DEFINED],
    ),
    broken("tests/broken/bad-subst-flag.cfg", &[codes::BAD_SUBST]),
    broken("tests/broken/missing-env.cfg", &[codes::MISSING_ENV]),
    // The open string swallows the rest: no end-of-file error on top.
    broken(
        "tests/broken/unterminated-string.cfg",
        &[codes::UNTERMINATED_STRING],
    ),
    broken(
        "tests/broken/unterminated-comment.cfg",
        &[codes::UNTERMINATED_COMMENT],
    ),
    broken(
        "tests/broken/invalid-character.cfg",
        &[codes::INVALID_TOKEN],
    ),
    broken("tests/broken/missing-semicolon.cfg", &[codes::SYNTAX]),
    broken(
        "tests/broken/missing-brace-eof.cfg",
        &[codes::UNEXPECTED_EOF],
    ),
    // A `}` missing in the middle: one error at the next route header, naming
    // the `{` left open, and no end-of-file error on top.
    broken(
        "tests/broken/missing-brace-before-route.cfg",
        &[codes::SYNTAX],
    ),
    broken("tests/broken/stray-brace.cfg", &[codes::SYNTAX]),
    broken(
        "tests/broken/three-errors.cfg",
        &[codes::SYNTAX, codes::SYNTAX, codes::SYNTAX],
    ),
    broken("tests/broken/include-error/main.cfg", &[codes::SYNTAX]),
    broken("tests/broken/define-expansion-error.cfg", &[codes::SYNTAX]),
    Broken {
        file: "tests/broken/rules-2001-two-fields.cfg",
        dialect: Some(Era::Rules2001),
        codes: &[codes::BAD_RULE],
    },
    // Detection tolerates the one short line: still a rule table.
    broken("tests/broken/rules-2001-two-fields.cfg", &[codes::BAD_RULE]),
    // `#!endif # WITH_NAT` is a comment to Kamailio: the `#!ifdef` stays open
    // (reported in source order: the `#!ifdef` on line 3, then line 5).
    broken(
        "tests/broken/lost-directive.cfg",
        &[codes::UNCLOSED_IFDEF, codes::LOST_DIRECTIVE],
    ),
];

/// Files under tests/broken/ that are read through another one.
const BROKEN_HELPERS: &[&str] = &[
    "tests/broken/cycle/b.cfg",
    "tests/broken/include-error/local.cfg",
    // Broken only with `-A WITH_BROKEN`: runtime/tests/cli.rs.
    "tests/broken/cli/ifdef-branch.cfg",
];

fn is_helper(rel: &str) -> bool {
    BROKEN_HELPERS.contains(&rel)
        || (rel.starts_with("tests/broken/deep/level") && rel.ends_with(".cfg"))
}

fn find(file: &str) -> &'static Broken {
    BROKEN
        .iter()
        .find(|b| b.file == file && b.dialect.is_none())
        .unwrap_or_else(|| panic!("{file} is not in BROKEN"))
}

#[test]
fn broken_configs_render() {
    let mut mismatches = Vec::new();
    for b in BROKEN {
        let p = parse_rel(b.file, b.dialect, &[]);
        let got: Vec<&str> = p.diagnostics.iter().map(|d| d.code).collect();
        let rendered = render_all(&p);
        if got != b.codes {
            mismatches.push(format!(
                "{}: expected codes {:?}, got {:?}:\n{rendered}",
                b.file, b.codes, got
            ));
        }
        let description = format!("{} read as {} ({})", b.file, p.era.era, p.era.reason);
        insta::with_settings!({ description => description, omit_expression => true }, {
            insta::assert_snapshot!(b.snapshot_name(), rendered);
        });
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_broken_file_is_a_case() {
    for rel in cfg_files("tests/broken") {
        assert!(
            BROKEN.iter().any(|b| b.file == rel) || is_helper(&rel),
            "{rel} is neither a case in BROKEN nor a helper file"
        );
    }
}

#[test]
fn broken_configs_are_errors() {
    for b in BROKEN {
        let p = parse_rel(b.file, b.dialect, &[]);
        assert!(p.has_errors(), "{}: no error reported", b.file);
    }
}

#[test]
fn missing_semicolon_names_the_call() {
    let p = parse_rel(find("tests/broken/missing-semicolon.cfg").file, None, &[]);
    let d = &p.diagnostics[0];
    assert_eq!(d.message, "expected `;` after `sl_send_reply(...)`");
    let span = d.primary_span().expect("a primary label");
    assert_eq!(
        p.db.line_col(span.file, span.start as usize).0,
        4,
        "reported at the end of the call's line"
    );
}

#[test]
fn three_errors_are_each_reported_once() {
    let p = parse_rel(find("tests/broken/three-errors.cfg").file, None, &[]);
    let mut lines: Vec<usize> = p
        .diagnostics
        .iter()
        .map(|d| {
            let s = d.primary_span().expect("a primary label");
            p.db.line_col(s.file, s.start as usize).0
        })
        .collect();
    lines.sort();
    // One in request_route, one in route[RELAY], one in failure_route.
    assert_eq!(p.diagnostics.len(), 3, "{}", render_all(&p));
    assert!(
        lines[0] < 9 && (11..14).contains(&lines[1]) && lines[2] >= 16,
        "lines {lines:?}\n{}",
        render_all(&p)
    );
}

#[test]
fn error_in_include_points_into_the_included_file() {
    let p = parse_rel(find("tests/broken/include-error/main.cfg").file, None, &[]);
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error");
    let span = d.primary_span().expect("a primary label");
    assert_eq!(
        p.db.file(span.file).name,
        "tests/broken/include-error/local.cfg"
    );
    let rendered = render_all(&p);
    assert!(
        rendered.contains("included from main.cfg:3")
            || rendered.contains("included from tests/broken/include-error/main.cfg:3"),
        "{rendered}"
    );
}

#[test]
fn error_in_define_points_at_the_use_site() {
    let p = parse_rel(
        find("tests/broken/define-expansion-error.cfg").file,
        None,
        &[],
    );
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error");
    let span = d.primary_span().expect("a primary label");
    assert_eq!(
        p.db.file(span.file).name,
        "tests/broken/define-expansion-error.cfg"
    );
    assert_eq!(
        p.db.line_col(span.file, span.start as usize).0,
        4,
        "the line where REPLY_OK is used"
    );
}

// ------------------------------------------------------- era meanings in the outline

/// Small configs whose outline must show what the era makes of `&`, `|`,
/// `%`, `$name`, `break`/`drop`/`exit` and `reply_route`.
const ERA_SAMPLES: &[(&str, Era, &str)] = &[
    (
        "ser-0.8",
        Era::Ser08,
        r#"route {
	if (method=="INVITE" & uri=~"^sip:1" | src_ip==127.0.0.1) { t_on_negative("1"); t_relay(); break; };
	drop;
}
reply_route[1] {
	exit;
}
"#,
    ),
    (
        "ser-2",
        Era::Ser2,
        r#"route {
	$f.count = 2;
	if ($f.flags & 4 | 1) { break; }
	drop;
	exit;
}
"#,
    ),
    (
        "openser-1.0",
        Era::OpenSer10,
        r#"route {
	if ($var(a) & 1 | $var(b)) { $var(c) = $var(a) % 3; }
	switch ($retcode) { case 1: break; default: exit; }
}
"#,
    ),
    (
        "kamailio-3-maxcompat",
        Era::Kamailio3,
        r#"request_route {
	$x = $y + 1;
	$f.a = %t.b;
	$var(i) = ($var(i) & 4) | 1;
	if ($rc mod 2) { $var(r) = $var(i) % 2; }
	while ($var(i) < 3) { $var(i) = $var(i) + 1; break; }
	return 1;
}
reply_route {
	drop;
}
"#,
    ),
];

#[test]
fn summary_shows_era_meanings() {
    for (name, era, text) in ERA_SAMPLES {
        let opts = Options {
            dialect: Some(*era),
            ..Options::default()
        };
        let file = format!("{name}.cfg");
        let p = parse_text(
            &file,
            text.to_string(),
            Path::new(&file),
            &opts,
            &RepoLoader(repo_root()),
            &|_| None,
        );
        assert!(!p.has_errors(), "{name}: {}", render_all(&p));
        insta::assert_snapshot!(format!("era-sample__{name}"), summary(&p));
    }
}

// ------------------------------------------------------- the outline on the corpus

/// The outline of every corpus config (when `../shared` is present): no
/// panic, and no line longer than [`MAX_LINE`](sercompat_grammar::summary::MAX_LINE).
#[test]
fn summary_of_corpus_configs_is_bounded() {
    let Some(shared) = sercompat_tests::shared_dir() else {
        return;
    };
    let corpus = shared.join("corpus");
    let index = std::fs::read_to_string(corpus.join("INDEX.tsv")).expect("INDEX.tsv");
    let mut checked = 0;
    for line in index.lines().skip(1) {
        let file = line.split('\t').next().expect("a file column");
        let path = corpus.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let opts = Options {
            cwd: path.parent().map(Path::to_path_buf),
            ..Options::default()
        };
        let p = parse_text(file, text, &path, &opts, &RepoLoader(repo_root()), &|_| {
            None
        });
        let outline = summary(&p);
        for l in outline.lines() {
            assert!(
                l.chars().count() <= sercompat_grammar::summary::MAX_LINE,
                "{file}: line too long: {l}"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no corpus file read");
}
