//! The 2001 rule-table format of the first sip_router: each line is
//! `method_regex uri_regex destination`; the first rule whose regexes match
//! a request forwards it statelessly to the destination.

use crate::ast::{Config, Item, ItemKind, Name, Rule};
use crate::detect::strip_rule_comment;
use crate::diagnostic::{codes, Diagnostic};
use crate::dialect::Era;
use crate::source::SourceDb;
use crate::span::{FileId, Span};

pub fn parse(db: &SourceDb, file: FileId) -> (Config, Vec<Diagnostic>) {
    let text = db.text(file);
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = strip_rule_comment(line);
        let mut fields = Vec::new();
        let mut start = None;
        for (i, c) in content
            .char_indices()
            .chain(std::iter::once((content.len(), ' ')))
        {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    fields.push(Name {
                        text: content[s..i].to_string(),
                        span: Span::new(file, offset + s, offset + i),
                    });
                    start = None;
                }
                _ => {}
            }
        }
        match fields.len() {
            0 => {}
            3 => {
                let span = fields[0].span.to(fields[2].span);
                let mut f = fields.into_iter();
                rules.push(Rule {
                    method: f.next().unwrap(),
                    uri: f.next().unwrap(),
                    dest: f.next().unwrap(),
                    span,
                });
            }
            n => diags.push(
                Diagnostic::error(
                    codes::BAD_RULE,
                    format!("a rule has three fields, this line has {n}"),
                )
                .primary(
                    fields[0].span.to(fields[n - 1].span),
                    "expected `method_regex uri_regex destination`",
                )
                .note("regular expressions in the rule table cannot contain blanks"),
            ),
        }
        offset += line.len();
    }
    let span = match (rules.first(), rules.last()) {
        (Some(a), Some(b)) => a.span.to(b.span),
        _ => Span::new(file, 0, 0),
    };
    let config = Config {
        era: Era::Rules2001,
        items: vec![Item {
            kind: ItemKind::Rules(rules),
            span,
        }],
    };
    (config, diags)
}
