//! Flags: numbers out of range, names never declared.

use super::{Lint, LintCtx};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Era, Severity};
use std::collections::HashSet;

pub const FLAG_OUT_OF_RANGE: Lint = Lint {
    code: "L0201",
    name: "flag-out-of-range",
    severity: Severity::Error,
    summary: "a message, branch or script flag number outside 0–31",
};

pub const UNDECLARED_FLAG: Lint = Lint {
    code: "L0202",
    name: "undeclared-flag",
    severity: Severity::Error,
    summary: "a flag named but never declared with `flags` (or `#!define`)",
};

/// Flags are bits of a 32-bit word in every era.
const MAX_FLAG: i64 = 31;

const FLAG_FUNCTIONS: &[&str] = &[
    "setflag",
    "resetflag",
    "isflagset",
    "setbflag",
    "resetbflag",
    "isbflagset",
    "setbranchflag",
    "resetbranchflag",
    "isbranchflagset",
    "setsflag",
    "resetsflag",
    "issflagset",
    "setscriptflag",
    "resetscriptflag",
    "isscriptflagset",
];

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let mut declared: HashSet<&str> = HashSet::new();
    for item in &cx.parsed.config.items {
        if let ItemKind::Flags(decls) = &item.kind {
            for d in decls {
                declared.insert(&d.name.text);
                if let Some(bit) = d.bit.filter(|b| !(0..=MAX_FLAG).contains(b)) {
                    out.push(
                        FLAG_OUT_OF_RANGE
                            .diag(format!(
                                "flag `{}` is declared as bit {bit}; flags are 0 to {MAX_FLAG}",
                                d.name.text
                            ))
                            .primary(d.span, "out of range"),
                    );
                }
            }
        }
    }
    let named_flags = matches!(
        cx.parsed.era.era,
        Era::Ser2 | Era::Kamailio3 | Era::Kamailio4 | Era::Kamailio5 | Era::Kamailio6
    );
    for def in &cx.routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            if !FLAG_FUNCTIONS.contains(&call.name.text.as_str()) {
                return;
            }
            let Some(arg) = call.args.first() else { return };
            let value = match &arg.kind {
                ExprKind::Int(i) => Some(*i),
                ExprKind::Str(s) => s.trim().parse::<i64>().ok(),
                ExprKind::Unary(UnOp::Neg, inner) => match inner.kind {
                    ExprKind::Int(i) => Some(-i),
                    _ => None,
                },
                _ => None,
            };
            if let Some(v) = value {
                if !(0..=MAX_FLAG).contains(&v) {
                    out.push(
                        FLAG_OUT_OF_RANGE
                            .diag(format!(
                                "flag {v} is out of range: flags are 0 to {MAX_FLAG}"
                            ))
                            .primary(arg.span, "out of range")
                            .note("Kamailio refuses to start on it"),
                    );
                }
                return;
            }
            let name = match &arg.kind {
                ExprKind::Name(n) => n.as_str(),
                ExprKind::Str(s) if named_flags => s.as_str(),
                _ => return,
            };
            if !declared.contains(name) {
                let hint = if named_flags {
                    format!("declare it (`flags {name};`) or `#!define {name} <number>`")
                } else {
                    format!("this era has no named flags: use a number, or define `{name}`")
                };
                out.push(
                    UNDECLARED_FLAG
                        .diag(format!("flag `{name}` is not declared"))
                        .primary(arg.span, "unknown flag name")
                        .note(hint),
                );
            }
        });
    }
}
