//! Translation: rewrite a config of any era into one that current Kamailio
//! accepts, editing only the spans that must change.
//!
//! ```text
//! variants (one parse per #!ifdef combination)
//!   └─ rules (per parse) ─► edits + diagnostics ─► merge by file name ─► apply
//! ```
//!
//! Every rule has a stable code (`T0101`) and a section in
//! `docs/migration.md`. Where no safe rewrite exists a rule leaves the text
//! and reports an error that says what a person must do.

mod coverage;
pub mod edit;
mod rules;

pub use edit::{Edit, EditSet};
pub use rules::{Rule, ALL_RULES};

use crate::variants::{shown_with, Variants};
use sercompat_grammar::{Diagnostic, Parsed, Span};
use std::collections::HashSet;

/// The Debian layout of Kamailio's modules: `--module-path`'s default.
pub const DEBIAN_MODULE_PATH: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/// What to translate to.
#[derive(Clone, Debug)]
pub struct Target {
    /// `kamailio-5.6`.
    pub name: String,
    /// Where the target's modules are (`loadpath` / `mpath` are set to it).
    pub module_path: String,
}

impl Target {
    /// The targets `--translate` accepts.
    pub const NAMES: &'static [&'static str] = &["kamailio-5.6"];

    /// The newest supported target (`--fix`).
    pub fn newest() -> Target {
        Target::named("kamailio-5.6").expect("a known target")
    }

    pub fn named(name: &str) -> Option<Target> {
        let name = match name {
            "kamailio-5.6" | "kamailio5.6" | "5.6" => "kamailio-5.6",
            _ => return None,
        };
        Some(Target {
            name: name.to_string(),
            module_path: DEBIAN_MODULE_PATH.to_string(),
        })
    }
}

/// One file of the translation (the root file or an include).
#[derive(Debug)]
pub struct TranslatedFile {
    /// The name in the source database (the path as opened).
    pub name: String,
    pub original: String,
    pub output: String,
    /// The file is the one translated (not an include).
    pub root: bool,
}

impl TranslatedFile {
    pub fn changed(&self) -> bool {
        self.original != self.output
    }
}

/// The result of translating one config under all its variants.
pub struct Translation {
    pub files: Vec<TranslatedFile>,
    pub edits: EditSet,
    /// Each distinct diagnostic once, with the index of the variant whose
    /// source database its spans point into.
    pub diags: Vec<(usize, Diagnostic)>,
    /// For each variant: whether a rule found something it cannot rewrite
    /// in it (an error, whichever variant the deduplicated error names), or
    /// the original itself is broken there.
    pub variant_errors: Vec<bool>,
}

impl Translation {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|(_, d)| d.is_error())
    }
}

/// Codes of the diagnostics about the translation itself.
pub mod codes {
    /// An edit of one variant conflicts with an edit of another.
    pub const CONFLICT: &str = "T0001";
    /// A line of config code that no translated variant read.
    pub const UNCOVERED: &str = "T0002";
    /// The file has syntax errors: it is not translated.
    pub const NOT_PARSED: &str = "T0003";
}

/// Translates a config read under all its variants.
pub fn translate(v: &Variants, target: &Target) -> Translation {
    let mut edits = EditSet::default();
    let mut diags: Vec<(usize, Diagnostic)> = Vec::new();
    // A diagnostic is the same in two variants when its code, message and
    // primary span (by file name) agree.
    type Key = (String, Option<(String, u32, u32)>);
    let mut seen: HashSet<Key> = HashSet::new();
    let mut push = |vi: usize, p: &Parsed, d: Diagnostic, diags: &mut Vec<(usize, Diagnostic)>| {
        let key = (
            format!("{}{}", d.code, d.message),
            d.primary_span()
                .map(|s| (p.db.file(s.file).name.clone(), s.start, s.end)),
        );
        if seen.insert(key) {
            diags.push((vi, d));
        }
    };
    let many = v.variants.len() > 1;
    let mut variant_errors = vec![false; v.variants.len()];
    for (vi, variant) in v.variants.iter().enumerate() {
        let p = &variant.parsed;
        if p.has_errors() {
            // When the config parses without the variant's names, the names
            // make it invalid (a comment hidden in `#!ifdef NEVER`): the
            // original fails the same way there, so it is only a warning.
            let d = if vi > 0 && !v.variants[0].parsed.has_errors() {
                Diagnostic::warning(
                    codes::NOT_PARSED,
                    "the config does not parse with this variant's names defined (as in the original); it was not translated for them",
                )
            } else {
                let first = p
                    .diagnostics
                    .iter()
                    .find(|d| d.is_error())
                    .map_or(String::new(), |d| format!(" ({}: {})", d.code, d.message));
                Diagnostic::error(
                    codes::NOT_PARSED,
                    format!("this variant does not parse{first}: fix that first (see `sercompat check`); nothing in it was translated"),
                )
            };
            variant_errors[vi] = d.is_error();
            let d = if many {
                d.note(shown_with(&variant.defines))
            } else {
                d
            };
            push(vi, p, d, &mut diags);
            continue;
        }
        let rules::Found {
            edits: found,
            diags: found_diags,
            broken,
        } = rules::run(p, target, vi == 0);
        variant_errors[vi] = broken || found_diags.iter().any(Diagnostic::is_error);
        for d in found_diags {
            let d = if many {
                d.note(shown_with(&variant.defines))
            } else {
                d
            };
            push(vi, p, d, &mut diags);
        }
        for e in found {
            edits.add(e);
        }
    }
    for c in std::mem::take(&mut edits.conflicts) {
        diags.push((
            0,
            Diagnostic::error(
                codes::CONFLICT,
                format!(
                    "{}: two variants need different rewrites of bytes {}..{}: `{}` ({}) and `{}` ({}); the first is applied, check the second by hand",
                    c.kept.file,
                    c.dropped.start,
                    c.dropped.end,
                    c.kept.replacement,
                    c.kept.rule,
                    c.dropped.replacement,
                    c.dropped.rule
                ),
            ),
        ));
    }

    // Every file any variant read, by name, from the first variant that read it.
    let mut files: Vec<TranslatedFile> = Vec::new();
    let mut cover = coverage::Coverage::default();
    for variant in &v.variants {
        let p = &variant.parsed;
        cover.add(p);
        for id in p.db.ids() {
            let f = p.db.file(id);
            if f.name.starts_with('<') || files.iter().any(|t| t.name == f.name) {
                continue;
            }
            files.push(TranslatedFile {
                name: f.name.clone(),
                original: f.text.to_string(),
                output: String::new(),
                root: id == p.root,
            });
        }
    }
    for f in &mut files {
        f.output = edit::apply(&f.original, &edits.file(&f.name));
        let lines = cover.uncovered_lines(&f.name, &f.original);
        if !lines.is_empty() {
            let p = &v.variants[0].parsed;
            let label_span =
                p.db.ids()
                    .find(|&id| p.db.file(id).name == f.name)
                    .map(|id| line_span(p, id, lines[0]));
            let mut d = Diagnostic::warning(
                codes::UNCOVERED,
                format!(
                    "{}: {} line{} of config code {} in no translated variant ({}); translate {} by hand or name the #!ifdef switches with -A",
                    f.name,
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" },
                    if lines.len() == 1 { "is" } else { "are" },
                    summarize_lines(&lines),
                    if lines.len() == 1 { "it" } else { "them" },
                ),
            );
            if let Some(s) = label_span {
                d = d.primary(s, "first line no variant read");
            }
            diags.push((0, d));
        }
    }
    diags.sort_by_key(|(vi, d)| {
        let p = &v.variants[*vi].parsed;
        d.primary_span().map_or((1, String::new(), 0), |s| {
            (0, p.db.file(s.file).name.clone(), s.start)
        })
    });
    Translation {
        files,
        edits,
        diags,
        variant_errors,
    }
}

/// The span of 1-based line `line` of file `id`.
fn line_span(p: &Parsed, id: sercompat_grammar::FileId, line: usize) -> Span {
    let text = p.db.text(id);
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return Span::new(id, start, start + l.trim_end().len());
        }
        start += l.len();
    }
    Span::new(id, text.len(), text.len())
}

/// "3, 7-9, 12" (at most ten ranges, then "…").
fn summarize_lines(lines: &[usize]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &l in lines {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == l => *end = l,
            _ => ranges.push((l, l)),
        }
    }
    let mut parts: Vec<String> = ranges
        .iter()
        .take(10)
        .map(|&(a, b)| {
            if a == b {
                format!("line {a}")
            } else {
                format!("lines {a}-{b}")
            }
        })
        .collect();
    if ranges.len() > 10 {
        parts.push("…".into());
    }
    parts.join(", ")
}
