//! Rendering diagnostics at the edge: human (codespan-reporting) and JSON
//! lines.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceDb;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};

/// The notes of `d`, followed by the include chain of its primary span
/// ("included from FILE:LINE"): what every renderer shows.
pub fn with_include_notes(db: &SourceDb, d: &Diagnostic) -> Vec<String> {
    let mut notes = d.notes.clone();
    if let Some(span) = d.primary_span() {
        for site in db.include_chain(span.file) {
            let (line, _) = db.line_col(site.file, site.start as usize);
            notes.push(format!(
                "included from {}:{}",
                db.file(site.file).name,
                line
            ));
        }
    }
    notes
}

pub fn to_codespan(db: &SourceDb, d: &Diagnostic) -> cs::Diagnostic<crate::span::FileId> {
    let sev = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let labels = d
        .labels
        .iter()
        .map(|l| {
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            cs::Label::new(style, l.span.file, l.span.range()).with_message(l.message.clone())
        })
        .collect();
    cs::Diagnostic::new(sev)
        .with_code(d.code)
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(with_include_notes(db, d))
}

/// Writes one diagnostic in rustc style.
pub fn human(db: &SourceDb, d: &Diagnostic, out: &mut dyn WriteColor) -> std::io::Result<()> {
    let config = term::Config::default();
    term::emit(out, &config, db, &to_codespan(db, d))
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// One JSON object (a single line) for a diagnostic.
pub fn json(db: &SourceDb, d: &Diagnostic) -> String {
    json_in(db, d, None)
}

/// Like [`json`]; a diagnostic about a whole file (no span) names `file`.
pub fn json_in(db: &SourceDb, d: &Diagnostic, file: Option<crate::span::FileId>) -> String {
    let mut fields = vec![
        format!("\"severity\":{}", quote(d.severity.as_str())),
        format!("\"code\":{}", quote(d.code)),
        format!("\"message\":{}", quote(&d.message)),
    ];
    match d.primary_span() {
        Some(s) => {
            let (line, column) = db.line_col(s.file, s.start as usize);
            let (end_line, end_column) = db.line_col(s.file, s.end as usize);
            fields.push(format!("\"file\":{}", quote(&db.file(s.file).name)));
            fields.push(format!("\"line\":{line},\"column\":{column},\"end_line\":{end_line},\"end_column\":{end_column}"));
        }
        None => {
            let name = file.map_or_else(|| "null".to_string(), |f| quote(&db.file(f).name));
            fields.push(format!(
                "\"file\":{name},\"line\":null,\"column\":null,\"end_line\":null,\"end_column\":null"
            ));
        }
    }
    let notes = with_include_notes(db, d);
    if !notes.is_empty() {
        let n: Vec<String> = notes.iter().map(|n| quote(n)).collect();
        fields.push(format!("\"notes\":[{}]", n.join(",")));
    }
    format!("{{{}}}", fields.join(","))
}

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
