//! Walking the syntax tree: every statement and every call, with the route
//! block each sits in.

use sercompat_grammar::ast::*;

/// Calls `f` for every statement under `stmts`, depth first, in source order.
pub fn statements<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Stmt)) {
    for s in stmts {
        statement(s, f);
    }
}

fn statement<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Stmt)) {
    f(s);
    match &s.kind {
        StmtKind::If {
            then, otherwise, ..
        } => {
            statement(then, f);
            if let Some(o) = otherwise {
                statement(o, f);
            }
        }
        StmtKind::While { body, .. } => statement(body, f),
        StmtKind::Switch { cases, .. } => {
            for c in cases {
                statements(&c.body, f);
            }
        }
        StmtKind::Block(b) => statements(&b.stmts, f),
        _ => {}
    }
}

/// Calls `f` for every function call under `stmts`: call statements and
/// calls inside expressions (conditions, arguments, assignments).
pub fn calls<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Call)) {
    statements(stmts, &mut |s| match &s.kind {
        StmtKind::Call(c) => {
            f(c);
            for a in &c.args {
                expr_calls(a, f);
            }
        }
        StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => expr_calls(cond, f),
        StmtKind::Switch { subject, .. } => expr_calls(subject, f),
        StmtKind::Assign { target, value, .. } => {
            expr_calls(target, f);
            expr_calls(value, f);
        }
        StmtKind::Stop { value: Some(v), .. } => expr_calls(v, f),
        _ => {}
    });
}

fn expr_calls<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Call)) {
    match &e.kind {
        ExprKind::Call(c) => {
            f(c);
            for a in &c.args {
                expr_calls(a, f);
            }
        }
        ExprKind::Unary(_, a) | ExprKind::Cast(_, a) | ExprKind::Test(a) | ExprKind::Paren(a) => {
            expr_calls(a, f)
        }
        ExprKind::Binary(_, a, b) | ExprKind::AssignExpr(a, b) => {
            expr_calls(a, f);
            expr_calls(b, f);
        }
        ExprKind::Block(b) => calls(&b.stmts, f),
        _ => {}
    }
}

/// The expressions a statement holds directly (call arguments, condition,
/// switch subject, assignment sides, return value), not those of the
/// statements nested in it.
pub fn stmt_exprs(s: &Stmt) -> Vec<&Expr> {
    match &s.kind {
        StmtKind::Call(c) => c.args.iter().collect(),
        StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => vec![cond],
        StmtKind::Switch { subject, .. } => vec![subject],
        StmtKind::Assign { target, value, .. } => vec![target, value],
        StmtKind::Stop { value: Some(v), .. } => vec![v],
        _ => Vec::new(),
    }
}

/// Calls `f` for `e` and every expression inside it (operands, call
/// arguments), pre-order. Blocks used as values are not entered: their
/// statements belong to `statements`.
pub fn exprs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Unary(_, a) | ExprKind::Cast(_, a) | ExprKind::Paren(a) | ExprKind::Test(a) => {
            exprs(a, f)
        }
        ExprKind::Binary(_, a, b) | ExprKind::AssignExpr(a, b) => {
            exprs(a, f);
            exprs(b, f);
        }
        ExprKind::Call(c) => c.args.iter().for_each(|a| exprs(a, f)),
        _ => {}
    }
}

/// Calls `f` for every statement of every route block, depth first.
pub fn route_statements<'a>(config: &'a Config, f: &mut dyn FnMut(&'a Stmt)) {
    for r in routes(config) {
        statements(&r.body.stmts, f);
    }
}

/// Calls `f` for every expression of every route block (see [`exprs`]).
pub fn route_exprs<'a>(config: &'a Config, f: &mut dyn FnMut(&'a Expr)) {
    route_statements(config, &mut |s| {
        for root in stmt_exprs(s) {
            exprs(root, f);
        }
    });
}

/// The route blocks of a config, in source order.
pub fn routes(config: &Config) -> impl Iterator<Item = &RouteBlock> {
    config.items.iter().filter_map(|i| match &i.kind {
        ItemKind::Route(r) => Some(r),
        _ => None,
    })
}
