//! Constructs that still parse but changed meaning: stop keywords, tm
//! timer units, log level numbers, AVP truthiness, how `$` reads, and route
//! block keywords.

use super::{Cx, Rule};
use crate::lints::era::{changed_stops, int_value, new_level};
use crate::routes::RouteTable;
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{DollarMode, Era};

pub const STOP_MEANING: Rule = Rule {
    code: "T0401",
    name: "stop-meaning",
    summary:
        "SER `break`/`drop`/`exit` rewritten to the keyword that means the same in current Kamailio",
};
pub const TIMER_UNITS: Rule = Rule {
    code: "T0402",
    name: "timer-units",
    summary: "tm timers in seconds (before Kamailio 3.0) multiplied into milliseconds",
};
pub const LOG_LEVELS: Rule = Rule {
    code: "T0403",
    name: "log-levels",
    summary: "`debug=` and `log(N, …)` level numbers shifted to Kamailio 3.0+ numbering",
};
pub const AVP_TRUTH: Rule = Rule {
    code: "T0404",
    name: "avp-truthiness",
    summary: "SER 2.0 `if ($avp)` (an existence test) becomes `if (defined $avp)`",
};
pub const MODE_HEADER: Rule = Rule {
    code: "T0405",
    name: "mode-header",
    summary: "a `#!SER` / `#!KAMAILIO` header so that current Kamailio reads `$` forms as the file's era did",
};
pub const ROUTE_BLOCK: Rule = Rule {
    code: "T0406",
    name: "route-block",
    summary: "route block keywords that were renamed (`reply_route[N]` of SER 0.8.8 → `failure_route[N]`, `local_route` → `event_route[tm:local-request]`)",
};

pub const MAX_LEN: Rule = Rule {
    code: "T0407",
    name: "max-len",
    summary: "`max_len` in a `msg:len` test (SER, OpenSER, Kamailio 1.x: the buffer size) becomes its value, 65535",
};
pub const STATEMENT_END: Rule = Rule {
    code: "T0408",
    name: "statement-end",
    summary: "SER 0.8 `if (c) f() else …`: the `;` current Kamailio wants before `else` is added",
};

pub const DIRECTIVE_BALANCE: Rule = Rule {
    code: "T0409",
    name: "directive-balance",
    summary: "an `#!endif` that closes nothing becomes a comment, an `#!ifdef` open to the end of the file gets its `#!endif` (Kamailio 5.4+ refuses unbalanced directives; older releases ignored them)",
};

pub const NULL_KEYWORD: Rule = Rule {
    code: "T0410",
    name: "null-keyword",
    summary: "OpenSER's `NULL` keyword (`if ($rU==NULL)`, `$avp(x) = NULL`) is the `$null` pseudo-variable",
};

pub const GUARDED_STATEMENT: Rule = Rule {
    code: "T0411",
    name: "guarded-statement",
    summary: "the September 2001 guarded statement `cond action;` becomes `if (cond) action;`",
};

pub const LEGACY_LOGIC: Rule = Rule {
    code: "T0412",
    name: "legacy-logic",
    summary: "single `&` / `|` that meant logical AND / OR (SER 0.8/0.9, OpenSER 1.0/1.1) become `&&` / `||` (bitwise since)",
};

pub(super) fn run(cx: &mut Cx) {
    let era = cx.parsed.era.era;
    if era == Era::Rules2001 {
        return;
    }
    max_len(cx);
    statement_ends(cx);
    directive_balance(cx);
    null_keyword(cx);
    guarded_statements(cx);
    legacy_logic(cx);
    if era.is_merged_core() {
        return;
    }
    mode_header(cx, era);
    let routes = RouteTable::build(&cx.parsed.config, era);
    stops(cx, era, &routes);
    log_levels(cx, &routes);
    if era == Era::Ser2 {
        avp_conditions(cx, &routes);
    }
    route_blocks(cx);
}

/// Pins how `$` reads with a header on the root file, and marks the file
/// as translated (a header makes sercompat read it as current Kamailio, so
/// translating again changes nothing).
fn mode_header(cx: &mut Cx, _era: Era) {
    if !cx.parsed.tokens.mode_headers.is_empty() {
        return;
    }
    let header = match cx.parsed.dollar {
        DollarMode::Ser => "#!SER",
        DollarMode::Kamailio => "#!KAMAILIO",
        DollarMode::MaxCompat => "#!MAXCOMPAT",
    };
    let root = cx.parsed.root;
    let span = sercompat_grammar::Span::new(root, 0, 0);
    cx.insert(
        span,
        0,
        format!("{header}\n"),
        &MODE_HEADER,
        format!("`$` reads as in {}", cx.parsed.era.era),
    );
}

fn stops(cx: &mut Cx, era: Era, routes: &RouteTable) {
    for c in changed_stops(routes, era) {
        // The statement's span may or may not hold its `;`.
        let span = c.stmt.span;
        let text = cx.text(span);
        let new = if text.trim_end().ends_with(';') {
            c.now
        } else {
            c.now.trim_end_matches(';')
        };
        cx.replace(span, new.to_string(), &STOP_MEANING, c.why);
    }
}

fn log_levels(cx: &mut Cx, routes: &RouteTable) {
    let mut found = Vec::new();
    for item in &cx.parsed.config.items {
        if let ItemKind::CoreParam { name, value } = &item.kind {
            if name.text == "debug" {
                if let ParamValueKind::Int(v) = value.kind {
                    found.push((value.span, v));
                }
            }
        }
    }
    for def in &routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            if call.name.text == "log" && call.args.len() == 2 {
                if let Some(v) = int_value(&call.args[0]) {
                    if matches!(call.args[0].kind, ExprKind::Int(_)) {
                        found.push((call.args[0].span, v));
                    }
                }
            }
        });
    }
    for (span, old) in found {
        if let Some((new, name)) = new_level(old) {
            if new != old {
                cx.replace(
                    span,
                    new.to_string(),
                    &LOG_LEVELS,
                    format!("level {old} ({name}) is {new} since Kamailio 3.0"),
                );
            }
        }
    }
}

/// SER 2.0 read a bare AVP or select in a condition as "exists / is not
/// empty"; Kamailio reads the AVP's value as a number and refuses a string
/// select there.
fn avp_conditions(cx: &mut Cx, routes: &RouteTable) {
    let mut found: Vec<(sercompat_grammar::Span, String)> = Vec::new();
    for def in &routes.defs {
        walk::statements(&def.block.body.stmts, &mut |s| {
            let (StmtKind::If { cond, .. } | StmtKind::While { cond, .. }) = &s.kind else {
                return;
            };
            truth_tests(cx, cond, &mut found);
        });
    }
    for (span, new) in found {
        cx.replace(
            span,
            new,
            &AVP_TRUTH,
            "SER 2.0 tested that the AVP or select exists",
        );
    }
}

/// The bare AVPs and selects in the boolean positions of `e`.
fn truth_tests(cx: &Cx, e: &Expr, found: &mut Vec<(sercompat_grammar::Span, String)>) {
    match &e.kind {
        ExprKind::Paren(inner) => truth_tests(cx, inner, found),
        ExprKind::Binary(BinOp::And | BinOp::Or | BinOp::LegacyAnd | BinOp::LegacyOr, a, b) => {
            truth_tests(cx, a, found);
            truth_tests(cx, b, found);
        }
        ExprKind::Unary(UnOp::Not, inner) => match &strip_parens(inner).kind {
            ExprKind::Select(_) => {
                let sel = cx.text(strip_parens(inner).span);
                found.push((e.span, format!("strempty({sel})")));
            }
            _ => truth_tests(cx, inner, found),
        },
        ExprKind::Select(_) => {
            found.push((e.span, format!("!strempty({})", cx.text(e.span))));
        }
        ExprKind::Var(v) if v.kind == VarKind::SerAvp => {
            found.push((e.span, format!("defined {}", cx.text(e.span))));
        }
        _ => {}
    }
}

fn strip_parens(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => strip_parens(inner),
        _ => e,
    }
}

/// Kamailio 5.4+ counts `#!if*` and `#!endif`; 3.x and 4.x did not: an
/// extra `#!endif` was ignored and an unclosed `#!ifdef` ran to the end.
fn directive_balance(cx: &mut Cx) {
    use sercompat_grammar::diagnostic::codes;
    let mut extra = Vec::new();
    let mut unclosed = Vec::new();
    for d in &cx.parsed.diagnostics {
        let Some(span) = d.primary_span() else {
            continue;
        };
        if d.code == codes::UNBALANCED_ELSE_ENDIF && d.message.starts_with("`#!endif` without") {
            extra.push(span);
        } else if d.code == codes::UNCLOSED_IFDEF {
            unclosed.push(span);
        }
    }
    for span in extra {
        let text = cx.text(span).to_string();
        cx.replace(
            span,
            format!("# {text}"),
            &DIRECTIVE_BALANCE,
            "this `#!endif` closes nothing (ignored before Kamailio 5.4)",
        );
    }
    for site in unclosed {
        let file = cx.parsed.db.text(site.file);
        let (line, _) = cx.parsed.db.line_col(site.file, site.start as usize);
        let end = file.len();
        let nl = if file.ends_with('\n') { "" } else { "\n" };
        cx.insert(
            sercompat_grammar::Span::new(site.file, end, end),
            end,
            format!("{nl}# sercompat: closes the conditional of line {line}, open to the end of the file before Kamailio 5.4\n#!endif\n"),
            &DIRECTIVE_BALANCE,
            "an `#!ifdef` open to the end of the file",
        );
    }
}

fn route_blocks(cx: &mut Cx) {
    let mut found = Vec::new();
    for item in &cx.parsed.config.items {
        if let ItemKind::Route(r) = &item.kind {
            match r.kind {
                RouteKind::Reply {
                    means_failure: true,
                } => {
                    found.push((
                        r.keyword_span,
                        "failure_route",
                        "SER 0.8.8 `reply_route[N]` is `failure_route[N]`",
                    ));
                }
                RouteKind::Local => {
                    found.push((
                        r.keyword_span,
                        "event_route[tm:local-request]",
                        "`local_route` is `event_route[tm:local-request]` since Kamailio 3.0",
                    ));
                }
                _ => {}
            }
        }
    }
    for (span, new, why) in found {
        cx.replace(span, new, &ROUTE_BLOCK, why);
    }
}

/// SER's `max_len` was BUF_SIZE, 65535 in every SER and Kamailio release.
fn max_len(cx: &mut Cx) {
    let mut found = Vec::new();
    walk::route_statements(&cx.parsed.config, &mut |s| {
        if let StmtKind::If { cond, .. } | StmtKind::While { cond, .. } = &s.kind {
            // Inside `len_gt(max_len)` the whole call is rewritten (T0302).
            let mut in_len_gt = Vec::new();
            walk::exprs(cond, &mut |e| {
                if let ExprKind::Call(c) = &e.kind {
                    if c.name.text == "len_gt" {
                        in_len_gt.push(e.span);
                    }
                }
                if let ExprKind::Name(n) = &e.kind {
                    if n == "max_len"
                        && !in_len_gt
                            .iter()
                            .any(|c| c.start <= e.span.start && e.span.end <= c.end)
                    {
                        found.push(e.span);
                    }
                }
            });
        }
    });
    for span in found {
        cx.replace(
            span,
            "65535",
            &MAX_LEN,
            "`max_len` was the buffer size, 65535; Kamailio 3.0+ has no `max_len`",
        );
    }
}

/// `if (c) f() else g();` (SER 0.8): Kamailio wants `f();` before `else`.
fn statement_ends(cx: &mut Cx) {
    let mut found = Vec::new();
    walk::route_statements(&cx.parsed.config, &mut |s| {
        if let StmtKind::If {
            then,
            otherwise: Some(_),
            ..
        } = &s.kind
        {
            if matches!(
                then.kind,
                StmtKind::Call(_) | StmtKind::Assign { .. } | StmtKind::Stop { .. }
            ) && !cx.text(then.span).trim_end().ends_with(';')
            {
                found.push(then.span);
            }
        }
    });
    for span in found {
        let at = span.end as usize;
        cx.insert(
            span,
            at,
            ";",
            &STATEMENT_END,
            "Kamailio 3.0+ ends a statement with `;` before `else`",
        );
    }
}

/// OpenSER 1.2 – Kamailio 1.5 wrote "no value" as the keyword `NULL`;
/// Kamailio 3.0+ has the `$null` pseudo-variable.
fn null_keyword(cx: &mut Cx) {
    let mut found = Vec::new();
    walk::route_exprs(&cx.parsed.config, &mut |e| {
        if matches!(&e.kind, ExprKind::Name(n) if n.eq_ignore_ascii_case("null")) {
            found.push(e.span);
        }
    });
    for span in found {
        cx.replace(
            span,
            "$null",
            &NULL_KEYWORD,
            "`NULL` is `$null` since Kamailio 3.0",
        );
    }
    if !cx.edits.iter().any(|e| e.rule == NULL_KEYWORD.code) {
        return;
    }
    cx.ensure_loaded("pv", &NULL_KEYWORD, "provides `$null`");
}

/// The pre-release 2001 grammar wrote `cond action;` (and continued lines
/// with `\`); every released SER and Kamailio wants `if (cond) action;`.
fn guarded_statements(cx: &mut Cx) {
    let mut found = Vec::new();
    walk::route_statements(&cx.parsed.config, &mut |s| {
        if let StmtKind::If { cond, then, .. } = &s.kind {
            if !cx.text(s.span).starts_with("if") && cond.span.file == s.span.file {
                found.push((cond.span, then.span));
            }
        }
    });
    for (cond, then) in found {
        // Insertions around the condition: rules may still rewrite inside it.
        cx.insert(
            cond,
            cond.start as usize,
            "if (",
            &GUARDED_STATEMENT,
            "a guarded statement of the 2001 grammar",
        );
        cx.insert(
            cond,
            cond.end as usize,
            ")",
            &GUARDED_STATEMENT,
            "a guarded statement of the 2001 grammar",
        );
        // A `\` that continued the line before the action.
        if cond.end < then.start {
            let gap =
                sercompat_grammar::Span::new(cond.file, cond.end as usize, then.start as usize);
            let between = cx.text(gap).to_string();
            if let Some(i) = between.find('\\') {
                let at = cond.end as usize + i;
                cx.replace(
                    sercompat_grammar::Span::new(cond.file, at, at + 1),
                    "",
                    &GUARDED_STATEMENT,
                    "line continuation of the 2001 grammar",
                );
            }
        }
    }
}

/// SER 0.8/0.9 and OpenSER 1.0/1.1 read a single `&`/`|` as logical
/// AND/OR; since SER 2.0 and OpenSER 1.2 they are bitwise.
fn legacy_logic(cx: &mut Cx) {
    let mut found = Vec::new();
    walk::route_exprs(&cx.parsed.config, &mut |e| {
        if let ExprKind::Binary(op @ (BinOp::LegacyAnd | BinOp::LegacyOr), a, b) = &e.kind {
            if a.span.file == b.span.file && a.span.end <= b.span.start {
                let sym = if *op == BinOp::LegacyAnd { '&' } else { '|' };
                found.push((a.span.file, a.span.end as usize, b.span.start as usize, sym));
            }
        }
    });
    for (file, from, to, sym) in found {
        let gap = cx
            .text(sercompat_grammar::Span::new(file, from, to))
            .to_string();
        if let Some(i) = gap.find(sym) {
            let at = from + i;
            let new = if sym == '&' { "&&" } else { "||" };
            cx.replace(
                sercompat_grammar::Span::new(file, at, at + 1),
                new,
                &LEGACY_LOGIC,
                format!("a single `{sym}` was logical before SER 2.0 / OpenSER 1.2"),
            );
        }
    }
}
