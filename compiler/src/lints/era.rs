//! Constructs whose meaning changed between the file's era and current
//! Kamailio: each warning states the old meaning, the new one and the fix.

use super::{Lint, LintCtx};
use crate::routes::{RouteClass, RouteTable};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::dialect::StopMeaning;
use sercompat_grammar::{Diagnostic, Era, Severity};

pub const STOP_MEANING: Lint = Lint {
    code: "L0301",
    name: "changed-stop-meaning",
    severity: Severity::Warning,
    summary: "`break`, `drop` or `exit` means something else in current Kamailio",
};

pub const TIMER_UNITS: Lint = Lint {
    code: "L0302",
    name: "tm-timer-seconds",
    severity: Severity::Warning,
    summary: "a tm timer set in seconds, which Kamailio 3.0+ reads as milliseconds",
};

pub const LOG_LEVELS: Lint = Lint {
    code: "L0303",
    name: "shifted-log-level",
    severity: Severity::Warning,
    summary: "a numeric log level whose number means another level since Kamailio 3.0",
};

pub const AVP_TRUTH: Lint = Lint {
    code: "L0304",
    name: "avp-truthiness",
    severity: Severity::Warning,
    summary: "`if ($avp)` tested existence in SER 2.0, tests the value since SER 2.1",
};

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    if era.is_merged_core() || era == Era::Rules2001 {
        return;
    }
    stops(cx, era, out);
    timers(cx, era, out);
    log_levels(cx, era, out);
    if era == Era::Ser2 {
        avp_conditions(cx, out);
    }
}

fn stops(cx: &LintCtx, era: Era, out: &mut Vec<Diagnostic>) {
    for c in changed_stops(cx.routes, era) {
        out.push(
            STOP_MEANING
                .diag(c.was)
                .primary(c.stmt.span, "meaning changed")
                .note(c.fix),
        );
    }
}

/// A stop statement whose keyword means something else in current
/// Kamailio: what it meant, the statement that keeps that meaning now,
/// and the short reason a translation records. Decided here once for the
/// lint (L0301) and the translation rule (T0401).
pub(crate) struct ChangedStop<'a> {
    pub stmt: &'a Stmt,
    pub was: &'static str,
    pub fix: &'static str,
    /// The statement to write instead (with its `;`).
    pub now: &'static str,
    pub why: &'static str,
}

pub(crate) fn changed_stops<'a>(routes: &'a RouteTable, era: Era) -> Vec<ChangedStop<'a>> {
    let mut found = Vec::new();
    for def in &routes.defs {
        let sub_route = def.class == RouteClass::Request && def.name.is_some();
        let reply_like = matches!(def.class, RouteClass::OnReply | RouteClass::Branch);
        visit_stops(
            &def.block.body.stmts,
            false,
            &mut |stmt, keyword, meaning, in_loop| {
                let change = match (keyword, meaning) {
                    // SER 0.x `break` stopped everything; now it only leaves
                    // the current route, and the caller goes on (in the main
                    // route, returning ends the script anyway).
                    (StopKeyword::Break, StopMeaning::Drop) if sub_route && !in_loop => Some((
                        "in SER 0.8/0.9 `break` stopped the script like `drop`; in Kamailio 3.0+ it only returns from this route and the caller continues",
                        "write `drop;` to stop processing as before",
                        "drop;",
                        "SER 0.8/0.9 `break` stopped the script",
                    )),
                    (StopKeyword::Break, StopMeaning::ReturnZero) if !in_loop => Some((
                        "in SER 2.0 `break` returned 0 from the route (0 ends the script); in Kamailio 3.0+ it returns from the route and the caller continues",
                        "write `return 0;` (ends the script) or `return;`, whichever was meant",
                        "return 0;",
                        "SER 2.0 `break` returned 0 (ending the script)",
                    )),
                    (StopKeyword::Drop | StopKeyword::Exit, StopMeaning::Exit)
                        if era == Era::Ser2 && reply_like =>
                    {
                        Some((
                            "in SER 2.0 `drop` was `exit`: the reply or branch still went out; in Kamailio 3.0+ `drop` here discards it",
                            "write `exit;` to let it go out, `drop;` to discard it",
                            "exit;",
                            "SER 2.0 `drop` here let the reply or branch go out",
                        ))
                    }
                    (StopKeyword::Exit, StopMeaning::Drop) if reply_like => Some((
                        "in SER 2.0 `exit` was `drop`: it discarded the reply or branch; in Kamailio 3.0+ `exit` lets it go out",
                        "write `drop;` to discard it as before",
                        "drop;",
                        "SER 2.0 `exit` here discarded the reply or branch",
                    )),
                    _ => None,
                };
                if let Some((was, fix, now, why)) = change {
                    found.push(ChangedStop {
                        stmt,
                        was,
                        fix,
                        now,
                        why,
                    });
                }
            },
        );
    }
    found
}

/// Calls `f` for each stop statement, with whether it is inside a loop or
/// switch (where `break` keeps its meaning).
pub(crate) fn visit_stops<'a>(
    stmts: &'a [Stmt],
    in_loop: bool,
    f: &mut dyn FnMut(&'a Stmt, StopKeyword, StopMeaning, bool),
) {
    for s in stmts {
        match &s.kind {
            StmtKind::Stop {
                keyword,
                meaning: Some(m),
                ..
            } => f(s, *keyword, *m, in_loop),
            StmtKind::If {
                then, otherwise, ..
            } => {
                visit_stops(std::slice::from_ref(then), in_loop, f);
                if let Some(o) = otherwise {
                    visit_stops(std::slice::from_ref(o), in_loop, f);
                }
            }
            StmtKind::While { body, .. } => visit_stops(std::slice::from_ref(body), true, f),
            StmtKind::Switch { cases, .. } => {
                cases.iter().for_each(|c| visit_stops(&c.body, true, f))
            }
            StmtKind::Block(b) => visit_stops(&b.stmts, in_loop, f),
            _ => {}
        }
    }
}

/// tm timers that were seconds before Kamailio 3.0 (SER 2.0: only the
/// final-response timers).
pub fn timer_in_seconds(era: Era, param: &str) -> bool {
    match param {
        "fr_timer" | "fr_inv_timer" => true,
        "wt_timer" | "delete_timer" | "retr_timer1" | "retr_timer2" => era != Era::Ser2,
        _ => false,
    }
}

pub(crate) fn int_value(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(i) => Some(*i),
        ExprKind::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn timers(cx: &LintCtx, era: Era, out: &mut Vec<Diagnostic>) {
    for item in &cx.parsed.config.items {
        let ItemKind::ModParam {
            module,
            param,
            value,
            ..
        } = &item.kind
        else {
            continue;
        };
        if module.value != "tm" || !timer_in_seconds(era, &param.value) {
            continue;
        }
        let Some(v) = int_value(value) else { continue };
        out.push(
            TIMER_UNITS
                .diag(format!(
                    "`{}` = {v} meant {v} s in {era}; Kamailio 3.0+ reads it as {v} ms",
                    param.value
                ))
                .primary(value.span, "seconds here")
                .note(format!(
                    "write {} to keep the same timeout in Kamailio 3.0+",
                    v.saturating_mul(1000)
                )),
        );
    }
}

/// The Kamailio 3.0+ number for a pre-3.0 log level number, and its name.
pub(crate) fn new_level(old: i64) -> Option<(i64, &'static str)> {
    Some(match old {
        -3 => (-5, "ALERT"),
        -2 => (-2, "CRIT"),
        -1 => (-1, "ERR"),
        1 => (0, "WARN"),
        2 => (1, "NOTICE"),
        3 => (2, "INFO"),
        4 => (3, "DBG"),
        n if n > 4 => (n - 1, "DBG"),
        _ => return None,
    })
}

fn new_name(n: i64) -> &'static str {
    match n {
        i64::MIN..=-5 => "ALERT",
        -4 => "BUG",
        -3 | -2 => "CRIT",
        -1 => "ERR",
        0 => "WARN",
        1 => "NOTICE",
        2 => "INFO",
        _ => "DBG",
    }
}

fn level_warning(old: i64, what: &str, span: sercompat_grammar::Span) -> Option<Diagnostic> {
    let (new, name) = new_level(old)?;
    if new == old {
        return None;
    }
    Some(
        LOG_LEVELS
            .diag(format!(
                "{what} {old} meant {name} before Kamailio 3.0; Kamailio 3.0+ reads {old} as {}",
                new_name(old)
            ))
            .primary(span, "level number shifted in 3.0")
            .note(format!("write {new} for {name}")),
    )
}

fn log_levels(cx: &LintCtx, _era: Era, out: &mut Vec<Diagnostic>) {
    for item in &cx.parsed.config.items {
        if let ItemKind::CoreParam { name, value } = &item.kind {
            if name.text == "debug" {
                if let ParamValueKind::Int(v) = value.kind {
                    out.extend(level_warning(v, "`debug` level", value.span));
                }
            }
        }
    }
    for def in &cx.routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            if call.name.text == "log" && call.args.len() == 2 {
                if let Some(v) = int_value(&call.args[0]) {
                    out.extend(level_warning(v, "`log` level", call.args[0].span));
                }
            }
        });
    }
}

/// `if ($x)`, `if (!$x)`: a bare SER AVP as a condition.
pub(crate) fn bare_avp(e: &Expr) -> Option<&Expr> {
    match &e.kind {
        ExprKind::Var(v) if v.kind == VarKind::SerAvp => Some(e),
        ExprKind::Paren(inner) | ExprKind::Unary(UnOp::Not, inner) => bare_avp(inner),
        _ => None,
    }
}

fn avp_conditions(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    for def in &cx.routes.defs {
        walk::statements(&def.block.body.stmts, &mut |s| {
            let (StmtKind::If { cond, .. } | StmtKind::While { cond, .. }) = &s.kind else {
                return;
            };
            if let Some(avp) = bare_avp(cond) {
                let ExprKind::Var(v) = &avp.kind else { return };
                out.push(
                    AVP_TRUTH
                        .diag(format!(
                            "in SER 2.0 `{}` as a condition tested that the AVP exists; since SER 2.1 and in Kamailio 3.0+ it tests its value (a non-numeric string or 0 is false)",
                            v.text
                        ))
                        .primary(avp.span, "existence test in SER 2.0")
                        .note(format!("write `defined {}` to test existence", v.text)),
                );
            }
        });
    }
}
