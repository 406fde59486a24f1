//! A compact, deterministic outline of a parsed config, for people and for
//! snapshot tests: the era and why, one line per top-level item, and for
//! each route an indented outline of its statements.
//!
//! Every line is `location  text`, the location being `file:line` (the
//! file's last path component, so the outline does not depend on where the
//! checkout lives). Meanings that depend on the era are spelled out from
//! the syntax tree: `&(logical)` vs `&(bitwise)`, `%(mod)`, `[pv]$ru` vs
//! `[avp]$f.x` vs `[avp|pv]$x`, `break (drop)`, `reply_route[1] (failure
//! route)`, the 2001 rule table.

use crate::ast::*;
use crate::dialect::{DollarMode, EraReason, StopMeaning};
use crate::span::Span;
use crate::Parsed;
use std::fmt::Write as _;

/// Longest line the outline prints (in characters); longer ones end in `…`.
pub const MAX_LINE: usize = 120;
/// Longest expression shown in full.
const MAX_EXPR: usize = 100;
/// Longest string literal shown in full (inside its quotes) in an expression.
const MAX_STR: usize = 40;

/// The outline of `p` (see the module documentation).
pub fn summary(p: &Parsed) -> String {
    let mut out = String::new();
    let root = p.db.file(p.root);
    push_line(&mut out, &format!("file: {}", root.name));
    for id in p.db.ids() {
        let f = p.db.file(id);
        if let Some(site) = f.included_from {
            push_line(
                &mut out,
                &format!("includes: {} (from {})", f.name, loc(p, site)),
            );
        }
    }
    let _ = writeln!(out, "era: {}", p.era.era);
    match &p.era.reason {
        EraReason::Detected(evidence) => {
            for e in evidence {
                push_line(&mut out, &format!("  detected from: {e}"));
            }
        }
        other => push_line(&mut out, &format!("  {other}")),
    }
    let mode = match p.dollar {
        DollarMode::Ser => "ser ($name is a SER AVP)",
        DollarMode::Kamailio => "kamailio ($name is a pseudo-variable)",
        DollarMode::MaxCompat => "maxcompat ($name: pseudo-variable if registered, else AVP)",
    };
    let _ = writeln!(out, "$-mode: {mode}");
    let errors = p.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = p.diagnostics.len() - errors;
    let routes = p
        .config
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Route(_)))
        .count();
    let _ = writeln!(
        out,
        "items: {}, routes: {routes}, diagnostics: {errors} error(s), {warnings} warning(s)/note(s)",
        p.config.items.len()
    );
    out.push('\n');

    let mut lines = Lines {
        p,
        rows: Vec::new(),
    };
    for item in &p.config.items {
        lines.item(item);
    }
    let width = lines
        .rows
        .iter()
        .map(|(l, _, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (l, depth, text) in &lines.rows {
        let pad = width - l.chars().count();
        let line = format!("{l}{}  {}{text}", " ".repeat(pad), "  ".repeat(*depth));
        push_line(&mut out, &line);
    }
    out
}

/// Appends `line` (cut to [`MAX_LINE`] characters) and a newline.
fn push_line(out: &mut String, line: &str) {
    out.push_str(&clip(line.trim_end(), MAX_LINE));
    out.push('\n');
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// `file:line` of a span's start, the file shown by its last path component.
fn loc(p: &Parsed, span: Span) -> String {
    if span.file.0 as usize >= p.db.len() {
        return "?".into();
    }
    let name = &p.db.file(span.file).name;
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (line, _) = p.db.line_col(span.file, span.start as usize);
    format!("{base}:{line}")
}

struct Lines<'p> {
    p: &'p Parsed,
    /// (location, depth, text)
    rows: Vec<(String, usize, String)>,
}

impl Lines<'_> {
    fn row(&mut self, span: Span, depth: usize, text: String) {
        let l = loc(self.p, span);
        self.rows.push((l, depth, text));
    }

    fn item(&mut self, item: &Item) {
        let p = self.p;
        let text = match &item.kind {
            ItemKind::CoreParam { name, value } => {
                format!("param {} = {}", name.text, param_value(value))
            }
            ItemKind::CfgVar {
                group,
                index,
                var,
                value,
            } => {
                let idx = index
                    .as_ref()
                    .map_or(String::new(), |i| format!("[{}]", i.text));
                format!(
                    "cfgvar {}{idx}.{} = {}",
                    group.text,
                    var.text,
                    param_value(value)
                )
            }
            ItemKind::LoadModule { path, evaluated } => {
                format!(
                    "loadmodule {}{}",
                    quote_full(&path.value),
                    if *evaluated {
                        " (loadmodulex: evaluated)"
                    } else {
                        ""
                    }
                )
            }
            ItemKind::LoadPath { path } => format!("loadpath {}", quote_full(&path.value)),
            ItemKind::ModParam {
                module,
                param,
                value,
                evaluated,
            } => format!(
                "modparam {}/{} = {}{}",
                module.value,
                param.value,
                match &value.kind {
                    ExprKind::Str(s) => quote_full(s),
                    _ => expr(p, value),
                },
                if *evaluated {
                    " (modparamx: evaluated)"
                } else {
                    ""
                }
            ),
            ItemKind::Flags(flags) => {
                let list: Vec<String> = flags
                    .iter()
                    .map(|f| match f.bit {
                        Some(b) => format!("{}:{b}", f.name.text),
                        None => f.name.text.clone(),
                    })
                    .collect();
                format!("flags {}", list.join(", "))
            }
            ItemKind::AvpFlags(names) => {
                let list: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
                format!("avpflags {}", list.join(", "))
            }
            ItemKind::CfgEngine(s) => format!("cfgengine {}", quote(&s.value)),
            ItemKind::Route(r) => {
                let name = r
                    .name
                    .as_ref()
                    .map_or(String::new(), |n| format!("[{}]", n.text));
                let n = r.body.stmts.len();
                self.row(
                    item.span,
                    0,
                    format!(
                        "{}{name} ({}): {n} stmt{}",
                        r.kind.keyword(),
                        route_kind(r.kind),
                        plural(n)
                    ),
                );
                self.stmts(&r.body.stmts, 1);
                return;
            }
            ItemKind::Rules(rules) => {
                self.row(
                    item.span,
                    0,
                    format!(
                        "rule table (2001): {} rule{}",
                        rules.len(),
                        plural(rules.len())
                    ),
                );
                for r in rules {
                    self.row(
                        r.span,
                        1,
                        format!(
                            "rule method ~ {}  uri ~ {}  -> forward to {}",
                            r.method.text, r.uri.text, r.dest.text
                        ),
                    );
                }
                return;
            }
            ItemKind::Empty => "; (empty)".into(),
            ItemKind::Error => "<error: not parsed>".into(),
            #[allow(unreachable_patterns)]
            other => format!("<{}>", variant_name(other)),
        };
        self.row(item.span, 0, text);
    }

    fn stmts(&mut self, stmts: &[Stmt], depth: usize) {
        for s in stmts {
            self.stmt(s, depth);
        }
    }

    /// The statements of a branch: a block's statements, or the one statement.
    fn branch(&mut self, s: &Stmt, depth: usize) {
        match &s.kind {
            StmtKind::Block(b) => self.stmts(&b.stmts, depth),
            _ => self.stmt(s, depth),
        }
    }

    /// The statements of blocks used as values in a condition (SER's
    /// `if { f(); g(); } h();`), each under a `condition block` line.
    fn cond_blocks(&mut self, cond: &Expr, depth: usize) {
        let mut blocks = Vec::new();
        collect_blocks(cond, &mut blocks);
        for b in blocks {
            let n = b.stmts.len();
            self.row(
                b.span,
                depth,
                format!("condition block: {n} stmt{}", plural(n)),
            );
            self.stmts(&b.stmts, depth + 1);
        }
    }

    fn stmt(&mut self, s: &Stmt, depth: usize) {
        let p = self.p;
        match &s.kind {
            StmtKind::Call(c) => {
                let text = if c.parens {
                    format!("call {}/{} {}", c.name.text, c.args.len(), args(p, c))
                } else {
                    format!("call {} (no parentheses)", c.name.text)
                };
                self.row(s.span, depth, text);
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.row(s.span, depth, format!("if {}", expr(p, cond)));
                self.cond_blocks(cond, depth + 1);
                self.branch(then, depth + 1);
                let mut otherwise = otherwise.as_deref();
                while let Some(o) = otherwise {
                    match &o.kind {
                        StmtKind::If {
                            cond,
                            then,
                            otherwise: next,
                        } => {
                            self.row(o.span, depth, format!("else if {}", expr(p, cond)));
                            self.cond_blocks(cond, depth + 1);
                            self.branch(then, depth + 1);
                            otherwise = next.as_deref();
                        }
                        _ => {
                            self.row(o.span, depth, "else".into());
                            self.branch(o, depth + 1);
                            otherwise = None;
                        }
                    }
                }
            }
            StmtKind::Switch { subject, cases } => {
                self.row(
                    s.span,
                    depth,
                    format!(
                        "switch {}: {} case{}",
                        expr(p, subject),
                        cases.len(),
                        plural(cases.len())
                    ),
                );
                for c in cases {
                    let label = match &c.label {
                        CaseLabel::Int(i) => format!("case {i}"),
                        CaseLabel::Str(v) => format!("case {}", quote(v)),
                        CaseLabel::Regex(r) => format!("case regex {}", quote(r)),
                        CaseLabel::Name(n) => format!("case name {n}"),
                        CaseLabel::Default => "default".into(),
                    };
                    self.row(
                        c.span,
                        depth + 1,
                        format!("{label}: {} stmt{}", c.body.len(), plural(c.body.len())),
                    );
                    self.stmts(&c.body, depth + 2);
                }
            }
            StmtKind::While { cond, body } => {
                self.row(s.span, depth, format!("while {}", expr(p, cond)));
                self.cond_blocks(cond, depth + 1);
                self.branch(body, depth + 1);
            }
            StmtKind::Assign { target, op, value } => {
                let op = match op {
                    AssignOp::Assign => "=".to_string(),
                    AssignOp::Replace => ":= (replace all values)".to_string(),
                    AssignOp::Compound(b) => format!("{}=", compound_symbol(*b)),
                };
                self.row(
                    s.span,
                    depth,
                    format!("assign {} {op} {}", expr(p, target), expr(p, value)),
                );
            }
            StmtKind::Stop {
                keyword,
                meaning,
                value,
            } => {
                let kw = match keyword {
                    StopKeyword::Drop => "drop",
                    StopKeyword::Exit => "exit",
                    StopKeyword::Return => "return",
                    StopKeyword::Break => "break",
                };
                let mut t = kw.to_string();
                if let Some(v) = value {
                    t.push(' ');
                    t.push_str(&expr(p, v));
                }
                if let Some(m) = meaning {
                    let _ = write!(t, " ({})", stop_meaning(*m));
                }
                self.row(s.span, depth, t);
            }
            StmtKind::Block(b) => {
                self.row(
                    s.span,
                    depth,
                    format!("block: {} stmt{}", b.stmts.len(), plural(b.stmts.len())),
                );
                self.stmts(&b.stmts, depth + 1);
            }
            StmtKind::Empty => self.row(s.span, depth, "; (empty)".into()),
            StmtKind::Error => self.row(s.span, depth, "<error: not parsed>".into()),
            #[allow(unreachable_patterns)]
            other => self.row(s.span, depth, format!("<{}>", variant_name(other))),
        }
    }
}

/// The blocks used as values in `e`, outermost first, left to right.
fn collect_blocks<'e>(e: &'e Expr, out: &mut Vec<&'e Block>) {
    match &e.kind {
        ExprKind::Block(b) => out.push(b),
        ExprKind::Unary(_, x) | ExprKind::Cast(_, x) | ExprKind::Test(x) | ExprKind::Paren(x) => {
            collect_blocks(x, out)
        }
        ExprKind::Binary(_, a, b) | ExprKind::AssignExpr(a, b) => {
            collect_blocks(a, out);
            collect_blocks(b, out);
        }
        ExprKind::Call(c) => c.args.iter().for_each(|a| collect_blocks(a, out)),
        _ => {}
    }
}

/// The variant name of a node kind this outline does not know yet.
fn variant_name(v: &dyn std::fmt::Debug) -> String {
    let d = format!("{v:?}");
    d.split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("?")
        .to_string()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn route_kind(k: RouteKind) -> &'static str {
    match k {
        RouteKind::Request => "request route",
        RouteKind::RequestAlias => "main request route",
        RouteKind::Failure => "failure route",
        RouteKind::Reply {
            means_failure: true,
        } => "failure route, SER 0.8 spelling",
        RouteKind::Reply {
            means_failure: false,
        } => "core reply route",
        RouteKind::OnReply => "reply route",
        RouteKind::Branch => "branch route",
        RouteKind::OnSend => "onsend route",
        RouteKind::Event => "event route",
        RouteKind::Error => "error route",
        RouteKind::Local => "local route",
    }
}

fn stop_meaning(m: StopMeaning) -> &'static str {
    match m {
        StopMeaning::Drop => "drop",
        StopMeaning::Exit => "exit",
        StopMeaning::ReturnZero => "return 0",
        StopMeaning::LeaveSwitch => "leave switch",
        StopMeaning::LeaveLoopOrReturn => "leave loop/switch, else return",
    }
}

fn compound_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Mod => "%",
        other => other.symbol(),
    }
}

fn param_value(v: &ParamValue) -> String {
    let shown = match &v.kind {
        ParamValueKind::Int(i) => match v.words.as_slice() {
            [w] if *w != i.to_string() => format!("{i} (int, written {w})"),
            _ => format!("{i} (int)"),
        },
        ParamValueKind::Str(s) => format!("{} (str)", quote_full(s)),
        ParamValueKind::Word(w) => format!("{w} (word)"),
        ParamValueKind::Compound => {
            let mut s = String::new();
            for (i, w) in v.words.iter().enumerate() {
                let tight = |t: &str| t == ":" || t == ".";
                let glue = i > 0 && !tight(w) && !tight(&v.words[i - 1]);
                if glue {
                    s.push(' ');
                }
                s.push_str(w);
            }
            format!("{} (compound)", clip(&s, MAX_EXPR))
        }
    };
    match &v.desc {
        Some(d) => format!("{shown} desc {}", quote(&d.value)),
        None => shown,
    }
}

/// A string literal, quoted and escaped, cut to [`MAX_STR`] characters.
fn quote(s: &str) -> String {
    let e = escape(s);
    format!("\"{}\"", clip(&e, MAX_STR))
}

/// A string literal, quoted and escaped, whole (the line may still be cut).
fn quote_full(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

fn escape(s: &str) -> String {
    let mut e = String::new();
    for c in s.chars() {
        match c {
            '"' => e.push_str("\\\""),
            '\\' => e.push_str("\\\\"),
            '\n' => e.push_str("\\n"),
            '\r' => e.push_str("\\r"),
            '\t' => e.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(e, "\\x{:02x}", c as u32);
            }
            c => e.push(c),
        }
    }
    e
}

/// A call inside an expression.
fn call(p: &Parsed, c: &Call) -> String {
    if !c.parens {
        return c.name.text.clone();
    }
    format!("{}{}", c.name.text, args(p, c))
}

/// `(a, b)`
fn args(p: &Parsed, c: &Call) -> String {
    let args: Vec<String> = c.args.iter().map(|a| expr_inner(p, a)).collect();
    format!("({})", args.join(", "))
}

fn expr(p: &Parsed, e: &Expr) -> String {
    clip(&expr_inner(p, e), MAX_EXPR)
}

fn var_tag(k: VarKind) -> &'static str {
    match k {
        VarKind::Pv => "pv",
        VarKind::SerAvp => "avp",
        VarKind::AvpOrPv => "avp|pv",
        VarKind::RetCode => "retcode",
    }
}

/// The operator as written between two operands, when the source shows it.
fn written_op<'a>(p: &'a Parsed, a: &Expr, b: &Expr) -> Option<&'a str> {
    if a.span.file != b.span.file
        || a.span.end > b.span.start
        || a.span.file.0 as usize >= p.db.len()
    {
        return None;
    }
    let gap = Span {
        start: a.span.end,
        end: b.span.start,
        file: a.span.file,
    };
    let t = p.db.slice(gap).trim();
    (!t.is_empty() && t.len() <= 4).then_some(t)
}

fn binop(p: &Parsed, op: BinOp, a: &Expr, b: &Expr) -> String {
    match op {
        BinOp::LegacyAnd => "&(logical)".into(),
        BinOp::LegacyOr => "|(logical)".into(),
        BinOp::BitAnd => "&(bitwise)".into(),
        BinOp::BitOr => "|(bitwise)".into(),
        BinOp::Mod => match written_op(p, a, b) {
            Some("%") => "%(mod)".into(),
            _ => "mod".into(),
        },
        other => other.symbol().into(),
    }
}

/// An operand of a binary operator: nested operators are parenthesised so
/// that the tree's grouping shows.
fn operand(p: &Parsed, e: &Expr) -> String {
    match e.kind {
        ExprKind::Binary(..) => format!("({})", expr_inner(p, e)),
        _ => expr_inner(p, e),
    }
}

fn expr_inner(p: &Parsed, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Str(s) => quote(s),
        ExprKind::Var(v) => format!("[{}]{}", var_tag(v.kind), v.text),
        ExprKind::Select(s) => s.clone(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Ipv4(s) | ExprKind::Ipv6(s) | ExprKind::Net(s) => s.clone(),
        ExprKind::Address(parts) => parts.join(":"),
        ExprKind::Call(c) => call(p, c),
        ExprKind::Unary(op, x) => match op {
            UnOp::Not => format!("!{}", operand(p, x)),
            UnOp::Neg => format!("-{}", operand(p, x)),
            UnOp::BitNot => format!("~{}", operand(p, x)),
            UnOp::Defined => format!("defined {}", operand(p, x)),
        },
        ExprKind::Binary(op, a, b) => format!(
            "{} {} {}",
            operand(p, a),
            binop(p, *op, a, b),
            operand(p, b)
        ),
        ExprKind::Cast(to, x) => format!(
            "({}){}",
            if *to == CastTo::Int { "int" } else { "str" },
            operand(p, x)
        ),
        ExprKind::Test(x) => format!("[ {} ]", expr_inner(p, x)),
        ExprKind::Paren(x) => format!("({})", expr_inner(p, x)),
        ExprKind::AssignExpr(t, v) => format!("({} = {})", expr_inner(p, t), expr_inner(p, v)),
        ExprKind::Block(b) => format!(
            "{{ block: {} stmt{} }}",
            b.stmts.len(),
            plural(b.stmts.len())
        ),
        ExprKind::Error => "<error>".into(),
        #[allow(unreachable_patterns)]
        other => format!("<{}>", variant_name(other)),
    }
}
