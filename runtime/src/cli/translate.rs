//! `sercompat check --translate TARGET` / `--fix`: rewrite configs for
//! current Kamailio. Without `-o` or `--in-place`, prints a unified diff.

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sercompat_compiler::translate::{self, Edit, Target, Translation};
use sercompat_compiler::variants;
use sercompat_grammar::{diagnostic::codes, render, Options};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the translation goes.
pub enum Destination {
    Diff,
    Output(PathBuf),
    InPlace,
}

pub struct Request<'a> {
    pub files: &'a [PathBuf],
    pub opts: Options,
    pub target: Target,
    pub destination: Destination,
    pub json: bool,
}

/// 1-based line and column of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn edit_json(t: &Translation, e: &Edit) -> serde_json::Value {
    let text = t
        .files
        .iter()
        .find(|f| f.name == e.file)
        .map_or("", |f| f.original.as_str());
    let (line, column) = line_col(text, e.start);
    let (end_line, end_column) = line_col(text, e.end);
    let rule = translate::ALL_RULES.iter().find(|r| r.code == e.rule);
    serde_json::json!({
        "kind": "edit",
        "rule": e.rule,
        "rule_name": rule.map_or("", |r| r.name),
        "file": e.file,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "original": &text[e.start.min(text.len())..e.end.min(text.len())],
        "replacement": e.replacement,
        "message": e.message,
    })
}

/// Where an include's translation goes: next to OUT, at the same path
/// relative to the root file's directory (or by its file name when it is
/// outside that directory).
fn include_output(out: &Path, root: &Path, include: &Path) -> PathBuf {
    let out_dir = out.parent().unwrap_or(Path::new("."));
    let root_dir = root.parent().unwrap_or(Path::new("."));
    match include.strip_prefix(root_dir) {
        Ok(rel) if include.is_relative() == root.is_relative() => out_dir.join(rel),
        _ => out_dir.join(include.file_name().unwrap_or(include.as_os_str())),
    }
}

pub fn run(req: Request) -> i32 {
    let mut stdout = StandardStream::stdout(ColorChoice::Never);
    let mut stderr =
        StandardStream::stderr(if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        });
    if matches!(req.destination, Destination::Output(_)) && req.files.len() != 1 {
        eprintln!("error[{}]: -o takes exactly one input file", codes::IO);
        return 2;
    }
    let mut status = 0;
    for path in req.files {
        let v = match variants::check(path, &req.opts, false) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error[{}]: cannot read {}: {e}", codes::IO, path.display());
                status = 2;
                continue;
            }
        };
        let t = translate::translate(&v, &req.target);
        if t.has_errors() && status == 0 {
            status = 1;
        }
        // Diagnostics: JSON lines on stdout, or text on stderr (stdout
        // carries the diff).
        for (vi, d) in &t.diags {
            let p = &v.variants[*vi].parsed;
            let res = if req.json {
                writeln!(stdout, "{}", render::json_in(&p.db, d, Some(p.root)))
            } else {
                render::human(&p.db, d, &mut stderr)
            };
            if res.is_err() {
                return 2;
            }
        }
        if req.json {
            for e in t.edits.all() {
                if writeln!(stdout, "{}", edit_json(&t, e)).is_err() {
                    return 2;
                }
            }
        }
        let write = |file: &Path, text: &str| -> bool {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                if std::fs::create_dir_all(dir).is_err() {
                    eprintln!("error[{}]: cannot create {}", codes::IO, dir.display());
                    return false;
                }
            }
            if let Err(e) = std::fs::write(file, text) {
                eprintln!("error[{}]: cannot write {}: {e}", codes::IO, file.display());
                return false;
            }
            true
        };
        match &req.destination {
            Destination::Diff => {
                if req.json {
                    continue;
                }
                for f in t.files.iter().filter(|f| f.changed()) {
                    let diff = similar::TextDiff::from_lines(&f.original, &f.output);
                    let text = diff
                        .unified_diff()
                        .context_radius(3)
                        .header(&format!("a/{}", f.name), &format!("b/{}", f.name))
                        .to_string();
                    if write!(stdout, "{text}").is_err() {
                        return 2;
                    }
                }
            }
            Destination::Output(out) => {
                for f in &t.files {
                    let dest = if f.root {
                        out.clone()
                    } else {
                        include_output(out, path, Path::new(&f.name))
                    };
                    if !write(&dest, &f.output) {
                        status = 2;
                    }
                }
            }
            Destination::InPlace => {
                for f in t.files.iter().filter(|f| f.changed()) {
                    if !write(Path::new(&f.name), &f.output) {
                        status = 2;
                    }
                }
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_land_next_to_the_output() {
        let out = Path::new("/tmp/o/k.cfg");
        assert_eq!(
            include_output(out, Path::new("cfg/main.cfg"), Path::new("cfg/sub/a.cfg")),
            Path::new("/tmp/o/sub/a.cfg")
        );
        assert_eq!(
            include_output(out, Path::new("cfg/main.cfg"), Path::new("/etc/x.cfg")),
            Path::new("/tmp/o/x.cfg")
        );
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
