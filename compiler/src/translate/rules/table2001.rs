//! The 2001 rule table (`method_re uri_re dest` lines) becomes a request
//! route: one `if` per rule, in order, first match forwards statelessly.

use super::{Cx, Rule};
use sercompat_grammar::ast::{ItemKind, Rule as TableRule};
use sercompat_grammar::Span;

pub const RULE_TABLE: Rule = Rule {
    code: "T0501",
    name: "rule-table",
    summary: "the 2001 rule table becomes a `request_route` with one `if` per rule (first match forwards to its destination)",
};

/// A string literal Kamailio reads back as `s` (backslashes and quotes escaped).
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn statement(r: &TableRule) -> String {
    format!(
        "if (method=~{} && uri=~{}) {{ $du = {}; forward(); exit; }}",
        quoted(&r.method.text),
        quoted(&r.uri.text),
        quoted(&format!("sip:{}", r.dest.text)),
    )
}

pub(super) fn run(cx: &mut Cx) {
    let Some(rules) = cx.parsed.config.items.iter().find_map(|i| match &i.kind {
        ItemKind::Rules(r) => Some(r),
        _ => None,
    }) else {
        return;
    };
    let (Some(first), Some(last)) = (rules.first(), rules.last()) else {
        return;
    };
    let text = cx.parsed.db.text(first.span.file);
    let line_start = text[..first.span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let anchor = Span::new(first.span.file, line_start, line_start);
    cx.insert(
        anchor,
        line_start,
        "# sercompat: the 2001 rule table as a request route; the first rule whose\n\
         # method and Request-URI regexes both match forwards the request statelessly.\n\
         loadmodule \"pv.so\"\n\
         \n\
         request_route {\n",
        &RULE_TABLE,
        "the rule table becomes a request route",
    );
    for r in rules {
        let line_start = text[..r.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let whole = Span::new(r.span.file, line_start, r.span.end as usize);
        cx.replace(
            whole,
            format!("    {}", statement(r)),
            &RULE_TABLE,
            format!("rule `{} {} {}`", r.method.text, r.uri.text, r.dest.text),
        );
    }
    let end = text[last.span.end as usize..]
        .find('\n')
        .map_or(text.len(), |i| last.span.end as usize + i);
    cx.insert(
        Span::new(last.span.file, end, end),
        end,
        "\n    # no rule matched: the request is not forwarded\n}",
        &RULE_TABLE,
        "end of the request route",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_keep_their_backslashes() {
        assert_eq!(quoted(r"^sip:example\.org"), r#""^sip:example\\.org""#);
    }
}
