//! AST → IR.

use super::pv::{parse_avp, parse_format, parse_pv, FormatPart};
use super::*;
use crate::catalog;
use crate::lints::functions::loaded_modules;
use crate::routes::RouteTable;
use sercompat_grammar::ast::{self, ExprKind, ItemKind, StmtKind, VarKind};
use sercompat_grammar::{Diagnostic, Parsed};

/// Constant division by zero (Kamailio 3.0+ refuses it at load time).
pub const DIVISION_BY_ZERO: &str = "E3001";
/// A pseudo-variable whose syntax the PV parser rejects.
pub const BAD_PSEUDO_VARIABLE: &str = "E3002";

struct Lowerer<'a> {
    era: Era,
    table: &'a RouteTable<'a>,
    flags: &'a HashMap<String, u8>,
    loaded: Vec<String>,
    diags: Vec<Diagnostic>,
    /// Whether string arguments of functions carry pseudo-variables
    /// (OpenSER 1.2+, Kamailio): they are split into formats.
    pv_strings: bool,
}

/// Lowers a parsed config. The diagnostics are the problems only lowering
/// can see (a constant division by zero, a malformed pseudo-variable).
pub fn lower(parsed: &Parsed) -> (Program, Vec<Diagnostic>) {
    lower_with(parsed, &RouteTable::build(&parsed.config, parsed.era.era))
}

/// [`lower`] with a route table already built (the checker shares its own
/// with the lints).
pub fn lower_with(parsed: &Parsed, table: &RouteTable) -> (Program, Vec<Diagnostic>) {
    let era = parsed.era.era;
    let named_flags = flags(&parsed.config);
    let mut l = Lowerer {
        era,
        table,
        flags: &named_flags,
        loaded: loaded_modules(&parsed.config),
        diags: Vec::new(),
        pv_strings: matches!(
            era,
            Era::OpenSer12 | Era::Kamailio3 | Era::Kamailio4 | Era::Kamailio5 | Era::Kamailio6
        ),
    };
    let mut program = Program {
        era,
        routes: Vec::with_capacity(table.defs.len()),
        by_name: HashMap::new(),
        defaults: HashMap::new(),
        flags: named_flags.clone(),
        modules: l.loaded.clone(),
        rules: rules(&parsed.config),
        module_loads: parsed
            .config
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::LoadModule { path, .. } => Some((
                    crate::lints::functions::module_name(&path.value).to_string(),
                    path.span,
                )),
                _ => None,
            })
            .collect(),
        module_params: module_params(&parsed.config, &l.loaded),
        core_settings: core_settings(&parsed.config),
    };
    for ((class, name), &idx) in &table.by_name {
        program
            .by_name
            .insert((*class, name.clone()), RouteId(idx as u32));
    }
    for (idx, def) in table.defs.iter().enumerate() {
        if def.name.is_none() {
            program
                .defaults
                .entry(def.class)
                .or_default()
                .push(RouteId(idx as u32));
        }
        let body = l.stmts(&def.block.body.stmts);
        program.routes.push(Route {
            class: def.class,
            name: def.name.clone(),
            body,
            span: def.block.keyword_span,
        });
    }
    (program, l.diags)
}

/// The 2001 rule table, regexes compiled once.
fn rules(config: &ast::Config) -> Vec<TableRule> {
    config
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Rules(r) => Some(r),
            _ => None,
        })
        .flatten()
        .map(|r| TableRule {
            method: compile_regex(&r.method.text),
            uri: compile_regex(&r.uri.text),
            dest: r.dest.text.clone(),
            span: r.span,
        })
        .collect()
}

/// `modparam`s with constant values, expanded over the loaded modules
/// their module pattern matches. A value that is not a constant (which
/// Kamailio refuses) is left out; the checker reports it.
fn module_params(config: &ast::Config, loaded: &[String]) -> Vec<ModuleParam> {
    let mut out = Vec::new();
    for item in &config.items {
        let ItemKind::ModParam {
            module,
            param,
            value,
            ..
        } = &item.kind
        else {
            continue;
        };
        let Some(constant) = param_const(value) else {
            continue;
        };
        let pattern = crate::lints::config::ModulePattern::new(&module.value);
        for m in loaded.iter().filter(|m| pattern.matches(m)) {
            out.push(ModuleParam {
                module: m.clone(),
                name: param.value.clone(),
                value: constant.clone(),
                span: param.span,
                value_span: value.span,
            });
        }
    }
    out
}

fn param_const(e: &ast::Expr) -> Option<ParamConst> {
    match &e.kind {
        ExprKind::Int(i) => Some(ParamConst::Int(*i)),
        ExprKind::Str(s) => Some(ParamConst::Str(s.clone())),
        ExprKind::Paren(inner) => param_const(inner),
        ExprKind::Unary(ast::UnOp::Neg, inner) => match param_const(inner)? {
            ParamConst::Int(i) => Some(ParamConst::Int(-i)),
            ParamConst::Str(_) => None,
        },
        _ => None,
    }
}

fn core_settings(config: &ast::Config) -> Vec<CoreSetting> {
    config
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::CoreParam { name, value } => Some(CoreSetting {
                name: name.text.clone(),
                value: value.clone(),
                span: name.span,
            }),
            _ => None,
        })
        .collect()
}

/// Named flags: `flags A : 3, B;` gives A bit 3 and B the next free bit.
fn flags(config: &ast::Config) -> HashMap<String, u8> {
    let mut out = HashMap::new();
    let mut used = 0u32;
    let decls = config.items.iter().filter_map(|i| match &i.kind {
        ItemKind::Flags(d) => Some(d),
        _ => None,
    });
    for d in decls.clone().flatten() {
        if let Some(bit) = d.bit.filter(|b| (0..32).contains(b)) {
            out.insert(d.name.text.clone(), bit as u8);
            used |= 1 << bit;
        }
    }
    for d in decls.flatten().filter(|d| d.bit.is_none()) {
        if let Some(bit) = (0..32u8).find(|b| used & (1 << b) == 0) {
            used |= 1 << bit;
            out.insert(d.name.text.clone(), bit);
        }
    }
    out
}

fn int(v: i64, span: Span) -> Value {
    Value {
        kind: ValueKind::Int(v),
        ty: Ty::Int,
        span,
    }
}

fn string(s: &str, span: Span) -> Value {
    Value {
        kind: ValueKind::Str(s.into()),
        ty: Ty::Str,
        span,
    }
}

impl Lowerer<'_> {
    fn stmts(&mut self, stmts: &[ast::Stmt]) -> Vec<Op> {
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            self.stmt(s, &mut out);
        }
        out
    }

    fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Op>) {
        match &s.kind {
            StmtKind::Call(c) => out.push(self.call(c, s.span)),
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.expr(cond);
                let then = self.stmts(std::slice::from_ref(then));
                let otherwise = otherwise
                    .as_deref()
                    .map(|o| self.stmts(std::slice::from_ref(o)))
                    .unwrap_or_default();
                out.push(Op::If {
                    cond,
                    then,
                    otherwise,
                });
            }
            StmtKind::While { cond, body } => {
                let cond = self.expr(cond);
                let body = self.stmts(std::slice::from_ref(body));
                out.push(Op::While { cond, body });
            }
            StmtKind::Switch { subject, cases } => {
                let subject = self.expr(subject);
                let cases = cases
                    .iter()
                    .map(|c| Case {
                        label: self.case_label(&c.label),
                        body: self.stmts(&c.body),
                    })
                    .collect();
                out.push(Op::Switch { subject, cases });
            }
            StmtKind::Assign { target, op, value } => {
                let target = self.expr(target);
                let value = self.expr(value);
                out.push(Op::Assign {
                    target,
                    op: *op,
                    value,
                    span: s.span,
                });
            }
            StmtKind::Stop {
                keyword,
                meaning,
                value,
            } => {
                let value = value.as_ref().map(|v| self.expr(v));
                out.push(Op::Stop {
                    keyword: *keyword,
                    meaning: *meaning,
                    value,
                    span: s.span,
                });
            }
            // A nested block is only grouping: its statements run in line.
            StmtKind::Block(b) => {
                for s in &b.stmts {
                    self.stmt(s, out);
                }
            }
            StmtKind::Empty | StmtKind::Error => {}
        }
    }

    fn case_label(&mut self, label: &ast::CaseLabel) -> CaseMatch {
        match label {
            ast::CaseLabel::Int(i) => CaseMatch::Int(*i),
            ast::CaseLabel::Str(s) => CaseMatch::Str(s.clone()),
            ast::CaseLabel::Regex(r) => match crate::lints::regex::compile(r, true) {
                Ok(re) => CaseMatch::Regex(Arc::new(re)),
                Err(_) => CaseMatch::Invalid(r.clone()),
            },
            ast::CaseLabel::Name(n) => CaseMatch::Invalid(n.clone()),
            ast::CaseLabel::Default => CaseMatch::Default,
        }
    }

    fn callee(&self, name: &str) -> Callee {
        if let Some(a) = catalog::core_action(name, self.era) {
            return Callee::Core(a);
        }
        let provided = catalog::function(name, self.era);
        match provided
            .iter()
            .find(|f| self.loaded.iter().any(|m| m == f.module))
            .or(provided.first())
        {
            Some(f) => Callee::Module(f),
            None => Callee::Unresolved(name.to_string()),
        }
    }

    fn call(&mut self, c: &ast::Call, span: Span) -> Op {
        if c.name.text == "route" {
            let target = match c.args.first() {
                Some(arg) => self.route_target(arg),
                None => RouteTarget::Missing(String::new()),
            };
            return Op::Route { target, span };
        }
        let callee = self.callee(&c.name.text);
        let slots = super::args::argument_slots(&callee, self.era, c.args.len());
        let typing = super::args::Typing {
            table: self.table,
            flags: self.flags,
            pv_strings: self.pv_strings,
        };
        let args = c
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                slots
                    .and_then(|s| s.get(i))
                    .and_then(|slot| typing.typed(&c.name.text, slot, a))
                    .unwrap_or_else(|| self.arg(a))
            })
            .collect();
        Op::Call {
            callee,
            name: c.name.text.clone(),
            args,
            span,
        }
    }

    fn route_target(&mut self, arg: &ast::Expr) -> RouteTarget {
        let name = match &arg.kind {
            ExprKind::Int(i) => Some(i.to_string()),
            ExprKind::Str(s) | ExprKind::Name(s) => Some(s.clone()),
            _ => None,
        };
        match name {
            Some(n) => {
                let key = n.trim().trim_start_matches('0');
                match self
                    .table
                    .by_name
                    .get(&(RouteClass::Request, key.to_string()))
                {
                    Some(&idx) => RouteTarget::Static(RouteId(idx as u32)),
                    None => RouteTarget::Missing(n),
                }
            }
            None => RouteTarget::Dynamic(Box::new(self.expr(arg))),
        }
    }

    /// A function argument: strings with pseudo-variables become formats.
    fn arg(&mut self, e: &ast::Expr) -> Value {
        if let ExprKind::Str(s) = &e.kind {
            if self.pv_strings && s.contains('$') {
                let parts = parse_format(s);
                if parts.iter().any(|p| matches!(p, FormatPart::Pv(_))) {
                    return Value {
                        kind: ValueKind::Format(parts),
                        ty: Ty::Str,
                        span: e.span,
                    };
                }
            }
        }
        self.expr(e)
    }

    fn var(&mut self, v: &ast::VarRef, span: Span) -> Value {
        let kind = match v.kind {
            VarKind::RetCode => ValueKind::RetCode,
            // Kamailio 3.0+ MAXCOMPAT: a bare `$name` is the pseudo-variable
            // of that name when one is registered, else a SER AVP.
            VarKind::AvpOrPv => {
                let name = v.text.trim_start_matches('$');
                if catalog::pv(name, self.era).is_empty() {
                    match parse_avp(&v.text) {
                        Ok(a) => ValueKind::Avp(a),
                        Err(why) => self.bad_var(&v.text, why, span),
                    }
                } else {
                    match parse_pv(&v.text) {
                        Ok(p) => ValueKind::Pv(p),
                        Err(why) => self.bad_var(&v.text, why, span),
                    }
                }
            }
            VarKind::SerAvp => match parse_avp(&v.text) {
                Ok(a) => ValueKind::Avp(a),
                Err(why) => self.bad_var(&v.text, why, span),
            },
            VarKind::Pv => match parse_pv(&v.text) {
                Ok(p) => ValueKind::Pv(p),
                Err(why) => self.bad_var(&v.text, why, span),
            },
        };
        Value {
            kind,
            ty: Ty::Any,
            span,
        }
    }

    fn bad_var(&mut self, text: &str, why: String, span: Span) -> ValueKind {
        self.diags.push(
            Diagnostic::error(
                BAD_PSEUDO_VARIABLE,
                format!("`{text}` is not a valid pseudo-variable: {why}"),
            )
            .primary(span, "Kamailio refuses to load this"),
        );
        ValueKind::Invalid
    }

    fn expr(&mut self, e: &ast::Expr) -> Value {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(i) => int(*i, span),
            ExprKind::Str(s) => string(s, span),
            ExprKind::Var(v) => self.var(v, span),
            ExprKind::Select(s) => Value {
                kind: ValueKind::Select(s.clone()),
                ty: Ty::Str,
                span,
            },
            ExprKind::Name(n) => Value {
                kind: ValueKind::Word(n.clone()),
                ty: Ty::Any,
                span,
            },
            ExprKind::Ipv4(a) | ExprKind::Ipv6(a) | ExprKind::Net(a) => Value {
                kind: ValueKind::Address(a.clone()),
                ty: Ty::Str,
                span,
            },
            ExprKind::Address(parts) => Value {
                kind: ValueKind::Address(parts.join(":")),
                ty: Ty::Str,
                span,
            },
            ExprKind::Call(c) => Value {
                kind: ValueKind::Call(Box::new(self.call(c, span))),
                ty: Ty::Int,
                span,
            },
            ExprKind::Paren(x) | ExprKind::Test(x) => self.expr(x),
            ExprKind::Unary(op, x) => {
                let v = self.expr(x);
                fold_unary(*op, v, span)
            }
            ExprKind::Cast(to, x) => {
                let v = self.expr(x);
                let ty = match to {
                    CastTo::Int => Ty::Int,
                    CastTo::Str => Ty::Str,
                };
                match (&v.kind, to) {
                    (ValueKind::Int(i), CastTo::Str) => string(&i.to_string(), span),
                    (ValueKind::Str(s), CastTo::Int) => int(s.trim().parse().unwrap_or(0), span),
                    _ => Value {
                        kind: ValueKind::Cast(*to, Box::new(v)),
                        ty,
                        span,
                    },
                }
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.expr(a);
                let b = if matches!(op, BinOp::Match | BinOp::NotMatch) {
                    self.regex_operand(b)
                } else {
                    self.expr(b)
                };
                self.fold_binary(*op, a, b, span)
            }
            ExprKind::Block(b) => Value {
                kind: ValueKind::Block(self.stmts(&b.stmts)),
                ty: Ty::Int,
                span,
            },
            ExprKind::AssignExpr(t, v) => {
                let t = self.expr(t);
                let v = self.expr(v);
                Value {
                    kind: ValueKind::AssignExpr(Box::new(t), Box::new(v)),
                    ty: Ty::Any,
                    span,
                }
            }
            ExprKind::Error => Value {
                kind: ValueKind::Invalid,
                ty: Ty::Any,
                span,
            },
        }
    }

    /// The right side of `=~`: a constant is compiled once (case-insensitive,
    /// as Kamailio does); an invalid one is left to lint L0105.
    fn regex_operand(&mut self, e: &ast::Expr) -> Value {
        if let ExprKind::Str(s) = &e.kind {
            if let Ok(re) = crate::lints::regex::compile(s, true) {
                return Value {
                    kind: ValueKind::Regex(Arc::new(re)),
                    ty: Ty::Str,
                    span: e.span,
                };
            }
        }
        self.expr(e)
    }

    fn fold_binary(&mut self, op: BinOp, a: Value, b: Value, span: Span) -> Value {
        use BinOp::*;
        // `+` takes the type of its left operand (K3.0+): a string left
        // side concatenates.
        if op == Add && a.ty == Ty::Str {
            if let (ValueKind::Str(x), ValueKind::Str(y)) = (&a.kind, &b.kind) {
                return string(&format!("{x}{y}"), span);
            }
            if let (ValueKind::Str(x), ValueKind::Int(y)) = (&a.kind, &b.kind) {
                return string(&format!("{x}{y}"), span);
            }
            return Value {
                kind: ValueKind::Concat(Box::new(a), Box::new(b)),
                ty: Ty::Str,
                span,
            };
        }
        if let (ValueKind::Int(x), ValueKind::Int(y)) = (&a.kind, &b.kind) {
            let (x, y) = (*x, *y);
            let folded = match op {
                Add => Some(x.wrapping_add(y)),
                Sub => Some(x.wrapping_sub(y)),
                Mul => Some(x.wrapping_mul(y)),
                Div | Mod if y == 0 => {
                    self.diags.push(
                        Diagnostic::error(
                            DIVISION_BY_ZERO,
                            "division by zero in a constant expression",
                        )
                        .primary(span, "Kamailio refuses to load this"),
                    );
                    return Value {
                        kind: ValueKind::Invalid,
                        ty: Ty::Int,
                        span,
                    };
                }
                Div => Some(x.wrapping_div(y)),
                Mod => Some(x.wrapping_rem(y)),
                BitAnd => Some(x & y),
                BitOr => Some(x | y),
                BitXor => Some(x ^ y),
                Shl => Some(x.wrapping_shl(y as u32)),
                Shr => Some(x.wrapping_shr(y as u32)),
                Eq | IntEq => Some((x == y) as i64),
                Ne | IntNe => Some((x != y) as i64),
                Lt => Some((x < y) as i64),
                Gt => Some((x > y) as i64),
                Le => Some((x <= y) as i64),
                Ge => Some((x >= y) as i64),
                And | LegacyAnd => Some((x != 0 && y != 0) as i64),
                Or | LegacyOr => Some((x != 0 || y != 0) as i64),
                _ => None,
            };
            if let Some(v) = folded {
                return int(v, span);
            }
        }
        let ty = match op {
            Add | Sub | Mul | Div | Mod | BitAnd | BitOr | BitXor | Shl | Shr => Ty::Int,
            _ => Ty::Int,
        };
        Value {
            kind: ValueKind::Binary(op, Box::new(a), Box::new(b)),
            ty,
            span,
        }
    }
}

fn fold_unary(op: UnOp, v: Value, span: Span) -> Value {
    match (&v.kind, op) {
        (ValueKind::Int(i), UnOp::Not) => int((*i == 0) as i64, span),
        (ValueKind::Int(i), UnOp::Neg) => int(i.wrapping_neg(), span),
        (ValueKind::Int(i), UnOp::BitNot) => int(!i, span),
        _ => Value {
            kind: ValueKind::Unary(op, Box::new(v)),
            ty: Ty::Int,
            span,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sercompat_grammar::preprocess::NoFiles;
    use sercompat_grammar::{parse_text, Options};
    use std::path::Path;

    fn lowered(src: &str) -> (Program, Vec<Diagnostic>) {
        let p = parse_text(
            "t.cfg",
            src.to_string(),
            Path::new("t.cfg"),
            &Options::default(),
            &NoFiles,
            &|_| None,
        );
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        lower(&p)
    }

    #[test]
    fn routes_are_indexed_and_calls_resolved() {
        let (prog, diags) = lowered(
            "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"tm.so\"\nrequest_route { route(RELAY); route(NOPE); }\nroute[RELAY] { if (!t_relay()) sl_reply_error(); }\n",
        );
        assert!(diags.is_empty());
        let main = prog.defaults[&RouteClass::Request][0];
        let body = &prog.route(main).body;
        let relay = prog.by_name[&(RouteClass::Request, "RELAY".into())];
        assert!(
            matches!(&body[0], Op::Route { target: RouteTarget::Static(id), .. } if *id == relay)
        );
        assert!(
            matches!(&body[1], Op::Route { target: RouteTarget::Missing(n), .. } if n == "NOPE")
        );
        let Op::If { cond, .. } = &prog.route(relay).body[0] else {
            panic!()
        };
        let ValueKind::Unary(UnOp::Not, inner) = &cond.kind else {
            panic!("{cond:?}")
        };
        let ValueKind::Call(call) = &inner.kind else {
            panic!()
        };
        assert!(matches!(&**call, Op::Call { callee: Callee::Module(f), .. } if f.module == "tm"));
    }

    #[test]
    fn rule_table_is_lowered_in_order() {
        let (prog, _) = lowered("INVITE|ACK ^sip:1[0-9]+@ 127.0.0.1:5070\n.* .* 127.0.0.1\n");
        assert_eq!(prog.era, Era::Rules2001);
        assert_eq!(prog.rules.len(), 2);
        let r = &prog.rules[0];
        assert!(r.method.as_ref().unwrap().is_match("ack"));
        assert!(r.uri.as_ref().unwrap().is_match("sip:123@x"));
        assert_eq!(r.dest, "127.0.0.1:5070");
        assert!(prog.routes.is_empty());
    }

    #[test]
    fn constants_fold_with_kamailio_types() {
        let (prog, diags) = lowered(
            "#!KAMAILIO\nrequest_route { $var(a) = 2 + 3 * 4; $var(s) = \"n=\" + 5; $var(x) = 1 / 0; }\n",
        );
        let body = &prog.route(prog.defaults[&RouteClass::Request][0]).body;
        let values: Vec<&ValueKind> = body
            .iter()
            .map(|op| match op {
                Op::Assign { value, .. } => &value.kind,
                _ => panic!(),
            })
            .collect();
        assert!(matches!(values[0], ValueKind::Int(14)));
        assert!(matches!(values[1], ValueKind::Str(s) if &**s == "n=5"));
        assert!(matches!(values[2], ValueKind::Invalid));
        assert_eq!(diags[0].code, DIVISION_BY_ZERO);
    }

    #[test]
    fn bare_names_are_pvs_when_registered_else_avps() {
        let (prog, _) = lowered("request_route { $x = $ru; }\n");
        let Op::Assign { target, value, .. } =
            &prog.route(prog.defaults[&RouteClass::Request][0]).body[0]
        else {
            panic!()
        };
        assert!(
            matches!(&target.kind, ValueKind::Avp(a) if a.name == "x"),
            "{target:?}"
        );
        assert!(
            matches!(&value.kind, ValueKind::Pv(p) if p.class == "ru"),
            "{value:?}"
        );
    }

    #[test]
    fn formats_regexes_and_flags() {
        let (prog, _) = lowered(
            "#!KAMAILIO\nflags A : 3, B;\nloadmodule \"xlog.so\"\nrequest_route { xlog(\"L_INFO\", \"$rm from $fu\\n\"); if ($rU =~ \"^1[0-9]+$\") exit; }\n",
        );
        assert_eq!((prog.flags["A"], prog.flags["B"]), (3, 0));
        let body = &prog.route(prog.defaults[&RouteClass::Request][0]).body;
        let Op::Call { args, .. } = &body[0] else {
            panic!()
        };
        assert!(matches!(&args[0].kind, ValueKind::Str(_)));
        assert!(matches!(&args[1].kind, ValueKind::Format(parts) if parts.len() == 4));
        let Op::If { cond, .. } = &body[1] else {
            panic!()
        };
        let ValueKind::Binary(BinOp::Match, _, re) = &cond.kind else {
            panic!()
        };
        assert!(matches!(&re.kind, ValueKind::Regex(r) if r.is_match("1234")));
    }

    #[test]
    fn arguments_are_typed_by_the_catalog() {
        let (prog, diags) = lowered(concat!(
            "#!KAMAILIO\nflags FLT_NAT : 5;\n",
            "loadmodule \"tm.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"textops.so\"\n",
            "request_route {\n",
            "  if (search(\"^To:.*bob$\")) setflag(FLT_NAT);\n",
            "  if (search(\"^To:.*$rU\")) exit;\n",
            "  if (search(\"(unclosed\")) exit;\n",
            "  t_on_failure(\"MISSED\");\n",
            "  t_on_reply(\"NOWHERE\");\n",
            "  mf_process_maxfwd_header(\"10\");\n",
            "  mf_process_maxfwd_header(\"010\");\n",
            "}\n",
            "failure_route[MISSED] { exit; }\n",
        ));
        assert!(diags.is_empty(), "{diags:?}");
        let body = &prog.route(prog.defaults[&RouteClass::Request][0]).body;
        let call = |op: &Op| -> (String, Vec<String>) {
            let op = match op {
                Op::If { cond, .. } => match &cond.kind {
                    ValueKind::Call(c) => &**c,
                    other => panic!("{other:?}"),
                },
                op => op,
            };
            let Op::Call { name, args, .. } = op else {
                panic!("{op:?}")
            };
            let kinds = args
                .iter()
                .map(|a| match &a.kind {
                    ValueKind::Pattern(p) => match &p.regex {
                        Ok(re) => format!("pattern {} ({})", p.source, re.is_match("To: BOB")),
                        Err(_) => format!("bad pattern {}", p.source),
                    },
                    ValueKind::RouteArg(r) => format!("{:?} {} {:?}", r.class, r.name, r.id),
                    ValueKind::Int(i) => format!("int {i}"),
                    ValueKind::Str(s) => format!("str {s}"),
                    ValueKind::Format(_) => "format".to_string(),
                    other => format!("{other:?}"),
                })
                .collect();
            (name.clone(), kinds)
        };
        let Op::If { then, .. } = &body[0] else {
            panic!()
        };
        assert_eq!(call(&body[0]).1, ["pattern ^To:.*bob$ (true)"]);
        // A named flag is its bit.
        assert_eq!(call(&then[0]).1, ["int 5"]);
        // A regex with a pseudo-variable is built per call.
        assert_eq!(call(&body[1]).1, ["format"]);
        // One that does not compile stays typed; lint L0105 reports it.
        assert_eq!(call(&body[2]).1, ["bad pattern (unclosed"]);
        let missed = prog.by_name[&(RouteClass::Failure, "MISSED".to_string())];
        assert_eq!(
            call(&body[3]).1,
            [format!("Failure MISSED Some({missed:?})")]
        );
        assert_eq!(call(&body[4]).1, ["OnReply NOWHERE None"]);
        assert_eq!(call(&body[5]).1, ["int 10"]);
        // Not written as the number it reads as: left as text.
        assert_eq!(call(&body[6]).1, ["str 010"]);
    }
}
