//! The route table: every route block by kind and name, and every place
//! that names a route (`route(X)`, `t_on_failure("X")`, ...), resolved.
//! This is the first part of the IR; the runtime will index routes the same
//! way.

use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Era, Span};
use std::collections::HashMap;

/// Route blocks that share a name space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteClass {
    /// `route[X]` sub-routes (and the main route, unnamed or `route[0]`).
    Request,
    Failure,
    OnReply,
    Branch,
    OnSend,
    Event,
    Error,
    Local,
}

impl RouteClass {
    pub fn of(kind: RouteKind) -> RouteClass {
        match kind {
            RouteKind::Request | RouteKind::RequestAlias => RouteClass::Request,
            RouteKind::Failure
            | RouteKind::Reply {
                means_failure: true,
            } => RouteClass::Failure,
            RouteKind::OnReply
            | RouteKind::Reply {
                means_failure: false,
            } => RouteClass::OnReply,
            RouteKind::Branch => RouteClass::Branch,
            RouteKind::OnSend => RouteClass::OnSend,
            RouteKind::Event => RouteClass::Event,
            RouteKind::Error => RouteClass::Error,
            RouteKind::Local => RouteClass::Local,
        }
    }

    /// How a block of this class is written, for messages.
    pub fn block(self) -> &'static str {
        match self {
            RouteClass::Request => "route",
            RouteClass::Failure => "failure_route",
            RouteClass::OnReply => "onreply_route",
            RouteClass::Branch => "branch_route",
            RouteClass::OnSend => "onsend_route",
            RouteClass::Event => "event_route",
            RouteClass::Error => "error_route",
            RouteClass::Local => "local_route",
        }
    }
}

/// One route block.
#[derive(Debug)]
pub struct RouteDef<'a> {
    pub class: RouteClass,
    /// `None` for the default block of its class (`route {}`, `route[0]`,
    /// `onreply_route {}`, `failure_route {}`, ...).
    pub name: Option<String>,
    pub block: &'a RouteBlock,
}

/// A place that names a route.
#[derive(Debug)]
pub struct RouteRef<'a> {
    pub class: RouteClass,
    pub name: String,
    /// The calling function (`route`, `t_on_failure`, ...).
    pub via: &'a str,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct RouteTable<'a> {
    pub defs: Vec<RouteDef<'a>>,
    /// Index into `defs` of each named route, by class and name (the first
    /// definition when there are several).
    pub by_name: HashMap<(RouteClass, String), usize>,
    pub refs: Vec<RouteRef<'a>>,
    /// Calls whose route name is computed at run time (`route($var(r))`):
    /// while there are any, no route can be called unused.
    pub dynamic_refs: Vec<Span>,
}

/// Functions whose first argument names a route, and the class it names.
/// `t_on_negative` is SER 0.8.8's name of `t_on_failure`.
const ROUTE_ARGS: &[(&str, RouteClass)] = &[
    ("route", RouteClass::Request),
    ("t_on_failure", RouteClass::Failure),
    ("t_on_negative", RouteClass::Failure),
    ("t_on_reply", RouteClass::OnReply),
    ("t_on_branch", RouteClass::Branch),
];

/// The class of route a function other than `route` arms by name
/// (`t_on_failure` → failure routes, ...).
pub(crate) fn route_arg_class(func: &str) -> Option<RouteClass> {
    ROUTE_ARGS
        .iter()
        .find(|(f, _)| *f == func && *f != "route")
        .map(|&(_, class)| class)
}

/// The route name a block or call names: numbers and names alike (K3.0+
/// `route[1]` ≡ `route["1"]`), `0` and none meaning the default block.
pub(crate) fn normalize(name: &str) -> Option<String> {
    let n = name.trim();
    if n.is_empty() || n == "0" {
        return None;
    }
    // `route[01]` and `route[1]` are the same number.
    if n.bytes().all(|b| b.is_ascii_digit()) {
        return Some(n.trim_start_matches('0').to_string());
    }
    Some(n.to_string())
}

/// The constant route name an argument gives, if it is constant.
fn constant_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Int(i) => Some(i.to_string()),
        ExprKind::Str(s) => Some(s.clone()),
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Paren(inner) => constant_name(inner),
        _ => None,
    }
}

impl<'a> RouteTable<'a> {
    pub fn build(config: &'a Config, _era: Era) -> RouteTable<'a> {
        let mut t = RouteTable::default();
        for block in walk::routes(config) {
            let class = RouteClass::of(block.kind);
            let name = block.name.as_ref().and_then(|n| normalize(&n.text));
            let idx = t.defs.len();
            if let Some(n) = &name {
                t.by_name.entry((class, n.clone())).or_insert(idx);
            }
            t.defs.push(RouteDef { class, name, block });
        }
        for def in &t.defs {
            walk::calls(&def.block.body.stmts, &mut |call| {
                let Some(&(_, class)) = ROUTE_ARGS.iter().find(|(f, _)| *f == call.name.text)
                else {
                    return;
                };
                let Some(arg) = call.args.first() else { return };
                match constant_name(arg) {
                    Some(n) => {
                        if let Some(name) = normalize(&n) {
                            t.refs.push(RouteRef {
                                class,
                                name,
                                via: &call.name.text,
                                span: arg.span,
                            });
                        }
                    }
                    None => t.dynamic_refs.push(arg.span),
                }
            });
        }
        t
    }

    pub fn lookup(&self, class: RouteClass, name: &str) -> Option<&RouteDef<'a>> {
        self.by_name
            .get(&(class, name.to_string()))
            .map(|&i| &self.defs[i])
    }
}
