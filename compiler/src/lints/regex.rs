//! Regular expressions that do not compile. Kamailio compiles them with
//! POSIX `regcomp` (extended, case-insensitive for `=~`) when the config is
//! loaded, after `kamailio -c` has already said the file is fine.

use super::{Lint, LintCtx};
use crate::ir::visit::each_call;
use crate::ir::{Program, ValueKind};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Severity};

pub const INVALID_REGEX: Lint = Lint {
    code: "L0105",
    name: "invalid-regex",
    severity: Severity::Error,
    summary: "a constant regular expression that does not compile",
};

/// Compiles `re` as POSIX extended: GNU's `\<`/`\>` word boundaries are
/// spelled `\b` in the `regex` crate; the rest of ERE is a subset of it.
/// Results are cached: the lints and the IR compile the same expressions,
/// and configs repeat them.
pub fn compile(re: &str, case_insensitive: bool) -> Result<regex::Regex, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Cache = Mutex<HashMap<(String, bool), Result<regex::Regex, String>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (re.to_string(), case_insensitive);
    if let Some(hit) = cache.lock().expect("regex cache").get(&key) {
        return hit.clone();
    }
    let compiled = compile_uncached(re, case_insensitive);
    let mut c = cache.lock().expect("regex cache");
    // Bounded: a hostile input cannot grow it without limit.
    if c.len() < 10_000 {
        c.insert(key, compiled.clone());
    }
    compiled
}

fn compile_uncached(re: &str, case_insensitive: bool) -> Result<regex::Regex, String> {
    let translated = re.replace("\\<", "\\b").replace("\\>", "\\b");
    regex::RegexBuilder::new(&translated)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => s
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim_start_matches("error: ")
                .to_string(),
            other => other.to_string(),
        })
}

const KAMAILIO_COMPILES_AT_START: &str = "Kamailio compiles it when it loads the config (POSIX extended syntax) and fails to start, although `kamailio -c` accepted the file";

fn report(out: &mut Vec<Diagnostic>, e: &Expr, re: &str, what: &str, icase: bool) {
    if let Err(why) = compile(re, icase) {
        out.push(
            INVALID_REGEX
                .diag(format!("{what} is not a valid regular expression: {why}"))
                .primary(e.span, "does not compile")
                .note(KAMAILIO_COMPILES_AT_START),
        );
    }
}

fn constant(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Str(s) => Some(s),
        ExprKind::Paren(x) => constant(x),
        _ => None,
    }
}

fn matches_in(e: &Expr, out: &mut Vec<Diagnostic>) {
    walk::exprs(e, &mut |x| {
        if let ExprKind::Binary(BinOp::Match | BinOp::NotMatch, _, b) = &x.kind {
            if let Some(re) = constant(b) {
                report(out, b, re, "the right side of `=~`", true);
            }
        }
    });
}

/// Constant regex arguments of module functions: the IR compiled each one
/// the function reads as a regex (catalog kind `re`) with the module's
/// flags, as Kamailio's fixups do at start.
fn arguments(program: &Program, out: &mut Vec<Diagnostic>) {
    for route in &program.routes {
        each_call(&route.body, &mut |call| {
            for (i, arg) in call.args.iter().enumerate() {
                let ValueKind::Pattern(p) = &arg.kind else {
                    continue;
                };
                let Err(why) = &p.regex else { continue };
                let which = match i {
                    0 => "the first argument".to_string(),
                    _ => format!("argument {}", i + 1),
                };
                out.push(
                    INVALID_REGEX
                        .diag(format!(
                            "{which} of `{}` is not a valid regular expression: {why}",
                            call.name
                        ))
                        .primary(arg.span, "does not compile")
                        .note(KAMAILIO_COMPILES_AT_START),
                );
            }
        });
    }
}

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    arguments(cx.program, out);
    for def in &cx.routes.defs {
        let stmts = &def.block.body.stmts;
        walk::statements(stmts, &mut |s| match &s.kind {
            StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => matches_in(cond, out),
            StmtKind::Assign { value, .. } => matches_in(value, out),
            StmtKind::Switch { cases, .. } => {
                for c in cases {
                    if let CaseLabel::Regex(re) = &c.label {
                        if let Err(why) = compile(re, true) {
                            out.push(
                                INVALID_REGEX
                                    .diag(format!(
                                        "`case /\"{re}\"` is not a valid regular expression: {why}"
                                    ))
                                    .primary(c.span, "does not compile"),
                            );
                        }
                    }
                }
            }
            _ => {}
        });
    }
}
