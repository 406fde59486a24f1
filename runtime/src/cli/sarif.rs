//! `sercompat check --format sarif`: one SARIF 2.1.0 document for the whole
//! run, for code-scanning UIs.

use sercompat_grammar::{Diagnostic, Parsed, Severity, SourceDb, Span};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Relative file names are relative to where `sercompat` ran.
const SRCROOT: &str = "%SRCROOT%";

/// The front end's codes, with their severity and description, read from
/// the table in `docs/diagnostics.md` (one source of truth).
const DIAGNOSTICS_MD: &str = include_str!("../../../docs/diagnostics.md");

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `(severity, what)` of a front-end code, from `docs/diagnostics.md`.
fn documented(code: &str) -> Option<(&'static str, &'static str)> {
    DIAGNOSTICS_MD.lines().find_map(|line| {
        let mut cells = line.strip_prefix('|')?.split('|').map(str::trim);
        (cells.next()? == code).then_some(())?;
        Some((cells.next()?, cells.next()?))
    })
}

/// The default level of a code that is not a lint: the documented
/// severity, else the code's letter (`E`, `W`, `N`).
fn front_end_level(code: &str) -> &'static str {
    let word = documented(code).map_or("", |(sev, _)| sev);
    match (word.split_whitespace().next(), code.chars().next()) {
        (Some("error"), _) | (None, Some('E')) => "error",
        (Some("warning"), _) | (None, Some('W')) => "warning",
        _ => "note",
    }
}

/// A file name as a URI reference: relative names stay relative (to
/// `%SRCROOT%`), absolute ones become `file://` URIs.
fn artifact(name: &str) -> Value {
    fn encode(path: &str) -> String {
        let mut out = String::with_capacity(path.len());
        for b in path.bytes() {
            match b {
                b'A'..=b'Z'
                | b'a'..=b'z'
                | b'0'..=b'9'
                | b'-'
                | b'.'
                | b'_'
                | b'~'
                | b'/'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'@' => out.push(b as char),
                b'\\' => out.push('/'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    if Path::new(name).is_absolute() {
        let path = encode(name);
        let sep = if path.starts_with('/') { "" } else { "/" };
        json!({ "uri": format!("file://{sep}{path}") })
    } else {
        json!({ "uri": encode(name), "uriBaseId": SRCROOT })
    }
}

/// Text that is not a file (`-A` arguments are kept as `<command line>`).
fn is_pseudo_file(name: &str) -> bool {
    name.starts_with('<') && name.ends_with('>')
}

fn physical(db: &SourceDb, span: Span) -> Option<Value> {
    let name = &db.file(span.file).name;
    if is_pseudo_file(name) {
        return None;
    }
    let (start_line, start_column) = db.line_col(span.file, span.start as usize);
    let (end_line, end_column) = db.line_col(span.file, span.end as usize);
    Some(json!({
        "artifactLocation": artifact(name),
        "region": {
            "startLine": start_line,
            "startColumn": start_column,
            "endLine": end_line,
            "endColumn": end_column,
        },
    }))
}

/// Collects results over the run; [`Sarif::finish`] builds the document.
#[derive(Default)]
pub struct Sarif {
    results: Vec<Value>,
    /// Codes seen that are not lints, with the severity first seen.
    front_end: BTreeMap<&'static str, Severity>,
    notifications: Vec<Value>,
}

impl Sarif {
    /// Adds one diagnostic of `p` (one without a span is about `p`'s root
    /// file).
    pub fn add(&mut self, p: &Parsed, d: &Diagnostic) {
        if !sercompat_compiler::lints::ALL
            .iter()
            .any(|l| l.code == d.code)
        {
            self.front_end.entry(d.code).or_insert(d.severity);
        }
        let mut text = d.message.clone();
        for n in sercompat_grammar::render::with_include_notes(&p.db, d) {
            text.push_str("\nnote: ");
            text.push_str(&n);
        }
        let mut result = Map::new();
        result.insert("ruleId".into(), json!(d.code));
        result.insert("level".into(), json!(level(d.severity)));
        result.insert("message".into(), json!({ "text": text }));
        let primary = d.labels.iter().find(|l| l.primary);
        let location = match primary {
            Some(l) => physical(&p.db, l.span).map(|phys| {
                let mut location = json!({ "physicalLocation": phys });
                if !l.message.is_empty() {
                    location["message"] = json!({ "text": l.message });
                }
                location
            }),
            None => Some(json!({
                "physicalLocation": { "artifactLocation": artifact(&p.db.file(p.root).name) }
            })),
        };
        if let Some(location) = location {
            result.insert("locations".into(), json!([location]));
        }
        let related: Vec<Value> = d
            .labels
            .iter()
            .filter(|l| !l.primary)
            .filter_map(|l| {
                let mut loc = json!({ "physicalLocation": physical(&p.db, l.span)? });
                if !l.message.is_empty() {
                    loc["message"] = json!({ "text": l.message });
                }
                Some(loc)
            })
            .enumerate()
            .map(|(i, mut loc)| {
                loc["id"] = json!(i + 1);
                loc
            })
            .collect();
        if !related.is_empty() {
            result.insert("relatedLocations".into(), Value::Array(related));
        }
        self.results.push(Value::Object(result));
    }

    /// A file that could not be read: a tool execution notification.
    pub fn io_error(&mut self, code: &str, path: &Path, e: &std::io::Error) {
        self.notifications.push(json!({
            "level": "error",
            "descriptor": { "id": code },
            "message": { "text": format!("cannot read {}: {e}", path.display()) },
            "locations": [{ "physicalLocation": { "artifactLocation": artifact(&path.display().to_string()) } }],
        }));
    }

    /// The SARIF 2.1.0 document: the rules (every lint, then the other
    /// codes that appear), and the results with their rule index.
    pub fn finish(self) -> Value {
        let mut rules: Vec<Value> = sercompat_compiler::lints::ALL
            .iter()
            .map(|l| {
                json!({
                    "id": l.code,
                    "name": l.name,
                    "shortDescription": { "text": l.summary },
                    "defaultConfiguration": { "level": level(l.severity) },
                })
            })
            .collect();
        for (&code, &seen) in &self.front_end {
            let text = documented(code).map_or_else(
                || format!("{code} ({} diagnostic)", level(seen)),
                |(_, what)| what.to_string(),
            );
            rules.push(json!({
                "id": code,
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": front_end_level(code) },
            }));
        }
        let index: BTreeMap<String, usize> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r["id"].as_str()?.to_string(), i)))
            .collect();
        let results: Vec<Value> = self
            .results
            .into_iter()
            .map(|mut r| {
                if let Some(&i) = r["ruleId"].as_str().and_then(|id| index.get(id)) {
                    r["ruleIndex"] = json!(i);
                }
                r
            })
            .collect();

        let mut driver = Map::new();
        driver.insert("name".into(), json!("sercompat"));
        driver.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        let home = [
            option_env!("CARGO_PKG_HOMEPAGE"),
            option_env!("CARGO_PKG_REPOSITORY"),
        ]
        .into_iter()
        .flatten()
        .find(|u| !u.is_empty());
        if let Some(home) = home {
            driver.insert("informationUri".into(), json!(home));
        }
        driver.insert("rules".into(), Value::Array(rules));

        let mut run = Map::new();
        run.insert("tool".into(), json!({ "driver": driver }));
        run.insert(
            "invocations".into(),
            json!([{
                "executionSuccessful": self.notifications.is_empty(),
                "toolExecutionNotifications": self.notifications,
            }]),
        );
        if let Some(cwd) = std::env::current_dir().ok().filter(|d| d.is_absolute()) {
            let Value::Object(mut uri) = artifact(&cwd.display().to_string()) else {
                unreachable!("artifact() builds an object")
            };
            if let Some(Value::String(u)) = uri.get_mut("uri") {
                if !u.ends_with('/') {
                    u.push('/');
                }
            }
            run.insert("originalUriBaseIds".into(), json!({ SRCROOT: uri }));
        }
        run.insert("columnKind".into(), json!("unicodeCodePoints"));
        run.insert("results".into(), Value::Array(results));
        json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [run],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_stay_relative() {
        assert_eq!(
            artifact("tests/broken/a b.cfg"),
            json!({ "uri": "tests/broken/a%20b.cfg", "uriBaseId": SRCROOT })
        );
        assert_eq!(
            artifact("../shared/x:y.cfg"),
            json!({ "uri": "../shared/x%3Ay.cfg", "uriBaseId": SRCROOT })
        );
    }

    #[cfg(unix)]
    #[test]
    fn absolute_names_are_file_uris() {
        assert_eq!(
            artifact("/etc/kamailio/kamailio.cfg"),
            json!({ "uri": "file:///etc/kamailio/kamailio.cfg" })
        );
    }

    #[test]
    fn front_end_codes_are_documented() {
        let (sev, what) = documented("E2001").expect("E2001 in docs/diagnostics.md");
        assert_eq!(sev, "error");
        assert!(what.starts_with("a syntax error"), "{what}");
        assert_eq!(front_end_level("E1002"), "error");
        assert_eq!(front_end_level("W1013"), "warning");
        assert_eq!(front_end_level("N0001"), "note");
        assert_eq!(front_end_level("W9999"), "warning");
    }
}
