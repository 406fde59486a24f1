//! Control flow: statements that can never run.

use super::{Lint, LintCtx};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Severity};

pub const UNREACHABLE: Lint = Lint {
    code: "L0104",
    name: "unreachable-statement",
    severity: Severity::Warning,
    summary: "a statement after `exit`, `drop`, `return` or `break` in the same block",
};

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    for def in &cx.routes.defs {
        let body = &def.block.body.stmts;
        list(body, out);
        walk::statements(body, &mut |s| match &s.kind {
            StmtKind::Block(b) => list(&b.stmts, out),
            StmtKind::Switch { cases, .. } => cases.iter().for_each(|c| list(&c.body, out)),
            _ => {}
        });
    }
}

/// Reports the first statement after a stop in one statement list.
fn list(stmts: &[Stmt], out: &mut Vec<Diagnostic>) {
    let Some(stop) = stmts
        .iter()
        .position(|s| matches!(s.kind, StmtKind::Stop { .. }))
    else {
        return;
    };
    let Some(next) = stmts[stop + 1..]
        .iter()
        .find(|s| !matches!(s.kind, StmtKind::Empty | StmtKind::Error))
    else {
        return;
    };
    let StmtKind::Stop { keyword, .. } = &stmts[stop].kind else {
        return;
    };
    let word = match keyword {
        StopKeyword::Drop => "drop",
        StopKeyword::Exit => "exit",
        StopKeyword::Return => "return",
        StopKeyword::Break => "break",
    };
    out.push(
        UNREACHABLE
            .diag(format!(
                "this statement never runs: `{word}` comes before it"
            ))
            .primary(next.span, "unreachable")
            .secondary(stmts[stop].span, format!("`{word}` leaves here"))
            .note("move the statement before it, or remove it"),
    );
}
