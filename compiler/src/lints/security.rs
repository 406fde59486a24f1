//! Security: configs that relay for anyone, loop forever, or register
//! without authenticating.

use super::{Lint, LintCtx};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Severity, Span};

pub const OPEN_RELAY: Lint = Lint {
    code: "L0401",
    name: "open-relay",
    severity: Severity::Warning,
    summary: "requests are relayed without authenticating or restricting the caller",
};

pub const NO_MAX_FORWARDS: Lint = Lint {
    code: "L0402",
    name: "no-max-forwards-check",
    severity: Severity::Warning,
    summary: "requests are relayed without a Max-Forwards check",
};

pub const UNAUTHENTICATED_REGISTER: Lint = Lint {
    code: "L0403",
    name: "unauthenticated-register",
    severity: Severity::Warning,
    summary: "REGISTERs are saved without authentication although auth modules are loaded",
};

/// Functions that send a request on (stateless or stateful).
const RELAY: &[&str] = &[
    "t_relay",
    "t_relay_to_udp",
    "t_relay_to_tcp",
    "t_relay_to_tls",
    "t_forward_nonack",
    "t_forward_nonack_udp",
    "t_forward_nonack_tcp",
    "forward",
    "forward_udp",
    "forward_tcp",
    "forward_tls",
    "forward_sctp",
];

/// Functions that authenticate the caller (every era's spellings).
const AUTHENTICATE: &[&str] = &[
    "www_authorize",
    "proxy_authorize",
    "www_authenticate",
    "proxy_authenticate",
    "auth_check",
    "pv_www_authenticate",
    "pv_proxy_authenticate",
    "pv_auth_check",
    "radius_www_authorize",
    "radius_proxy_authorize",
    "diameter_www_authorize",
    "diameter_proxy_authorize",
    "auth_challenge",
];

/// Calls and condition words that restrict who or what gets relayed: the
/// caller (authentication, source address), the destination (a local user,
/// a local domain), or the dialog/transaction the request belongs to.
const RESTRICTS: &[&str] = &[
    "lookup",
    "registered",
    "is_uri_host_local",
    "is_from_local",
    "lookup_domain",
    "is_domain_local",
    "does_uri_exist",
    "loose_route",
    "has_totag",
    "t_check_trans",
    "t_lookup_request",
    "check_route_param",
    "ds_is_from_list",
    "myself",
    "src_ip",
    "uri",
    "from_uri",
];

/// Functions that trust a caller by address.
const TRUST: &[&str] = &[
    "allow_trusted",
    "allow_source_address",
    "allow_address",
    "allow_routing",
    "allow_source_address_group",
    "is_in_subnet",
];

const MAX_FORWARDS: &[&str] = &[
    "mf_process_maxfwd_header",
    "maxfwd_process",
    "process_maxfwd",
    "mf_lowlimit",
];

const AUTH_MODULES: &[&str] = &[
    "auth_db",
    "auth_radius",
    "auth_diameter",
    "uid_auth_db",
    "auth_ephemeral",
];

struct Facts {
    relay: Option<Span>,
    save: Option<Span>,
    authenticates: bool,
    checks_max_forwards: bool,
}

fn facts(cx: &LintCtx) -> Facts {
    let mut f = Facts {
        relay: None,
        save: None,
        authenticates: false,
        checks_max_forwards: false,
    };
    for def in &cx.routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            let n = call.name.text.as_str();
            if RELAY.contains(&n) && f.relay.is_none() {
                f.relay = Some(call.name.span);
            }
            if (n == "save" || n == "save_noreply" || n == "save_memory") && f.save.is_none() {
                f.save = Some(call.name.span);
            }
            f.authenticates |= AUTHENTICATE.contains(&n);
            f.checks_max_forwards |= MAX_FORWARDS.contains(&n);
        });
        walk::statements(&def.block.body.stmts, &mut |s| {
            if let StmtKind::If { cond, .. } | StmtKind::While { cond, .. } = &s.kind {
                f.checks_max_forwards |= mentions(cond, &|e| match &e.kind {
                    ExprKind::Var(v) => v.text.to_ascii_lowercase().contains("max-forwards"),
                    ExprKind::Select(s) => s.contains("max_forwards"),
                    _ => false,
                });
            }
        });
    }
    f
}

/// Whether the request is restricted (see `RESTRICTS`, and the
/// authentication and address-trust functions) when `e` is true, and when
/// it is false: `lookup()` restricts when true, `!lookup()` when false,
/// `uri != myself` never does.
fn truth(e: &Expr) -> (bool, bool) {
    let is_restricting_name =
        |x: &Expr| matches!(&x.kind, ExprKind::Name(n) if RESTRICTS.contains(&n.as_str()));
    match &e.kind {
        ExprKind::Call(c) => {
            let n = c.name.text.as_str();
            let r = RESTRICTS.contains(&n) || AUTHENTICATE.contains(&n) || TRUST.contains(&n);
            (r, false)
        }
        ExprKind::Paren(x) | ExprKind::Test(x) => truth(x),
        ExprKind::Unary(UnOp::Not, x) => {
            let (t, f) = truth(x);
            (f, t)
        }
        ExprKind::Binary(op, a, b) => match op {
            BinOp::Eq | BinOp::Match | BinOp::StrEq | BinOp::IntEq => {
                let r = is_restricting_name(a) || is_restricting_name(b);
                (r, false)
            }
            BinOp::Ne | BinOp::NotMatch | BinOp::StrNe | BinOp::IntNe => {
                let r = is_restricting_name(a) || is_restricting_name(b);
                (false, r)
            }
            BinOp::And | BinOp::LegacyAnd => {
                let (ta, fa) = truth(a);
                let (tb, fb) = truth(b);
                (ta || tb, fa && fb)
            }
            BinOp::Or | BinOp::LegacyOr => {
                let (ta, fa) = truth(a);
                let (tb, fb) = truth(b);
                (ta && tb, fa || fb)
            }
            _ => (false, false),
        },
        _ => (false, false),
    }
}

/// Whether a statement always ends the route (its last statement stops).
fn always_stops(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Stop { .. } => true,
        StmtKind::Block(b) => b
            .stmts
            .iter()
            .rev()
            .find(|s| !matches!(s.kind, StmtKind::Empty))
            .is_some_and(always_stops),
        StmtKind::If {
            then,
            otherwise: Some(o),
            ..
        } => always_stops(then) && always_stops(o),
        _ => false,
    }
}

/// Follows the main request route (and the sub-routes it calls) and
/// returns the first relay call that a request can reach without any
/// restricting check on its way: the open relay.
fn unrestricted_relay(cx: &LintCtx) -> Option<Span> {
    let t = cx.routes;
    let main: Vec<&Stmt> = t
        .defs
        .iter()
        .filter(|d| d.class == crate::routes::RouteClass::Request && d.name.is_none())
        .flat_map(|d| d.block.body.stmts.iter())
        .collect();
    let mut walker = RelayWalk {
        cx,
        visiting: Vec::new(),
        found: None,
        steps: 0,
    };
    walker.list(main.into_iter(), false);
    walker.found
}

struct RelayWalk<'a, 'c> {
    cx: &'c LintCtx<'a>,
    visiting: Vec<String>,
    found: Option<Span>,
    steps: usize,
}

impl<'a, 'c> RelayWalk<'a, 'c> {
    /// Walks statements in order; `restricted` is whether a check already
    /// stands between the request and this point.
    fn list<'s>(&mut self, stmts: impl Iterator<Item = &'s Stmt>, mut restricted: bool) -> bool {
        for s in stmts {
            if self.found.is_some() || self.steps > 100_000 {
                return restricted;
            }
            self.steps += 1;
            restricted = self.stmt(s, restricted);
        }
        restricted
    }

    fn stmt(&mut self, s: &Stmt, restricted: bool) -> bool {
        match &s.kind {
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                let (when_true, when_false) = truth(cond);
                self.calls_in(cond, restricted);
                let then_state = self.stmt(then, restricted || when_true);
                let else_state = match otherwise {
                    Some(o) => self.stmt(o, restricted || when_false),
                    None => restricted || when_false,
                };
                // Only the branches that do not stop lead on: `if
                // (!lookup(...)) { ...; exit; }` guards what follows.
                let else_stops = otherwise.as_deref().is_some_and(always_stops);
                match (always_stops(then), else_stops) {
                    (true, true) => true,
                    (true, false) => else_state,
                    (false, true) => then_state,
                    (false, false) => then_state && else_state,
                }
            }
            StmtKind::While { cond, body } => {
                self.stmt(body, restricted || truth(cond).0);
                restricted
            }
            StmtKind::Switch { cases, .. } => {
                for c in cases {
                    self.list(c.body.iter(), restricted);
                }
                restricted
            }
            StmtKind::Block(b) => self.list(b.stmts.iter(), restricted),
            // A sub-route that guards (`if (!auth_check(…)) exit;`) guards
            // what follows its call too.
            StmtKind::Call(c) => self.call(c, restricted),
            StmtKind::Assign { value, .. } => {
                self.calls_in(value, restricted);
                restricted
            }
            _ => restricted,
        }
    }

    fn calls_in(&mut self, e: &Expr, restricted: bool) {
        match &e.kind {
            ExprKind::Call(c) => {
                self.call(c, restricted);
            }
            ExprKind::Unary(_, a)
            | ExprKind::Cast(_, a)
            | ExprKind::Paren(a)
            | ExprKind::Test(a) => self.calls_in(a, restricted),
            ExprKind::Binary(_, a, b) | ExprKind::AssignExpr(a, b) => {
                self.calls_in(a, restricted);
                self.calls_in(b, restricted);
            }
            _ => {}
        }
    }

    /// Follows a call; returns whether the request is restricted after it.
    fn call(&mut self, c: &Call, restricted: bool) -> bool {
        let n = c.name.text.as_str();
        if RELAY.contains(&n) && !restricted {
            self.found.get_or_insert(c.name.span);
            return restricted;
        }
        if n != "route" {
            return restricted;
        }
        let Some(name) = c.args.first().and_then(|a| match &a.kind {
            ExprKind::Int(i) => Some(i.to_string()),
            ExprKind::Str(s) | ExprKind::Name(s) => Some(s.clone()),
            _ => None,
        }) else {
            return restricted;
        };
        if self.visiting.contains(&name) || self.visiting.len() > 32 {
            return restricted;
        }
        let Some(def) = self
            .cx
            .routes
            .lookup(crate::routes::RouteClass::Request, &name)
        else {
            return restricted;
        };
        self.visiting.push(name);
        let after = self.list(def.block.body.stmts.iter(), restricted);
        self.visiting.pop();
        after
    }
}

fn mentions(e: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    let mut found = false;
    walk::exprs(e, &mut |x| found |= pred(x));
    found
}

fn loaded_module(cx: &LintCtx, names: &[&str]) -> bool {
    cx.parsed.config.items.iter().any(|i| match &i.kind {
        ItemKind::LoadModule { path, .. } => {
            names.contains(&super::functions::module_name(&path.value))
        }
        _ => false,
    })
}

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let f = facts(cx);
    if let Some(relay) = f.relay {
        if let Some(open) = unrestricted_relay(cx) {
            out.push(
                OPEN_RELAY
                    .diag("a request can reach this relay without its caller, its source or its destination being checked")
                    .primary(open, "relays whatever reaches it")
                    .note("anyone can send calls through this proxy to any domain (toll fraud, spam); before relaying, authenticate the caller (proxy_authorize/auth_check), accept only known sources (allow_trusted, src_ip==…), or relay only to local users (lookup) and existing dialogs (loose_route, t_check_trans)"),
            );
        }
        if !f.checks_max_forwards {
            out.push(
                NO_MAX_FORWARDS
                    .diag("requests are relayed without a Max-Forwards check")
                    .primary(relay, "relays without checking Max-Forwards")
                    .note("a request looping between proxies is relayed until the network gives up; call `mf_process_maxfwd_header(\"10\")` (maxfwd) first and answer 483 when it fails"),
            );
        }
    }
    if let Some(save) = f.save {
        if !f.authenticates && loaded_module(cx, AUTH_MODULES) {
            out.push(
                UNAUTHENTICATED_REGISTER
                    .diag("REGISTERs are saved without authentication, although an auth module is loaded")
                    .primary(save, "saves any contact for any user")
                    .note("anyone can register as any user and take their calls; call www_authorize/auth_check before save()"),
            );
        }
    }
}
