//! Routes: called but not defined, defined twice, defined but never used.

use super::{Lint, LintCtx};
use crate::routes::RouteClass;
use sercompat_grammar::ast::ItemKind;
use sercompat_grammar::{Diagnostic, Era, Severity};
use std::collections::HashSet;

pub const UNDEFINED_ROUTE: Lint = Lint {
    code: "L0101",
    name: "undefined-route",
    severity: Severity::Error,
    summary: "a route is called or armed that no block defines",
};

pub const DUPLICATE_ROUTE: Lint = Lint {
    code: "L0102",
    name: "duplicate-route",
    severity: Severity::Error,
    summary: "two blocks define the same route",
};

pub const UNUSED_ROUTE: Lint = Lint {
    code: "L0103",
    name: "unused-route",
    severity: Severity::Warning,
    summary: "a named route that nothing calls or arms",
};

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    undefined(cx, out);
    duplicates(cx, out);
    unused(cx, out);
}

fn undefined(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let t = cx.routes;
    for r in &t.refs {
        if t.lookup(r.class, &r.name).is_some() {
            continue;
        }
        let block = r.class.block();
        if r.class == RouteClass::Request {
            out.push(
                UNDEFINED_ROUTE
                    .diag(format!(
                        "`{}({})` calls a route that is not defined",
                        r.via, r.name
                    ))
                    .primary(
                        r.span,
                        format!("no `route[{}]` block in this config", r.name),
                    )
                    .note("Kamailio's `kamailio -c` accepts this; the call then fails at run time"),
            );
        } else {
            // Kamailio creates an empty block for an armed but undefined
            // failure/reply/branch route: it runs and does nothing.
            out.push(
                UNDEFINED_ROUTE
                    .diag_at(Severity::Warning, format!("`{}` arms `{block}[{}]`, which is not defined", r.via, r.name))
                    .primary(r.span, format!("no `{block}[{}]` block in this config", r.name))
                    .note("Kamailio runs an empty block instead: whatever this route was meant to do does not happen"),
            );
        }
    }
}

fn duplicates(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let t = cx.routes;
    let era = cx.parsed.era.era;
    // SER 0.x behaviour is not documented; Kamailio 3.0+ and OpenSER refuse.
    let severity = match era {
        Era::Ser08 | Era::Ser09 | Era::Ser2 | Era::Rules2001 => Severity::Warning,
        _ => Severity::Error,
    };
    for (i, def) in t.defs.iter().enumerate() {
        let Some(name) = &def.name else { continue };
        let first = t.by_name[&(def.class, name.clone())];
        if first == i {
            continue;
        }
        let prev = &t.defs[first];
        let block = def.class.block();
        out.push(
            DUPLICATE_ROUTE
                .diag_at(severity, format!("`{block}[{name}]` is defined twice"))
                .primary(def.block.keyword_span.to(def.block.name.as_ref().map_or(def.block.keyword_span, |n| n.span)), "defined again here")
                .secondary(prev.block.keyword_span, "first defined here")
                .note("Kamailio 3.0+ and OpenSER refuse to start: \"duplicate route\"; rename one or merge the bodies"),
        );
    }
}

fn unused(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let t = cx.routes;
    // A route name computed at run time could be any of them.
    if !t.dynamic_refs.is_empty() {
        return;
    }
    let used: HashSet<(RouteClass, &str)> =
        t.refs.iter().map(|r| (r.class, r.name.as_str())).collect();
    // Modules call routes by name from their parameters (rtimer, htable,
    // dispatcher, ...): a name that appears in any modparam string is used.
    let mut named_in_params: Vec<&str> = Vec::new();
    for item in &cx.parsed.config.items {
        if let ItemKind::ModParam { value, .. } = &item.kind {
            if let sercompat_grammar::ast::ExprKind::Str(s) = &value.kind {
                named_in_params.push(s);
            }
        }
    }
    for def in &t.defs {
        let Some(name) = &def.name else { continue };
        // Only sub-routes and the armed kinds are called by name; event
        // routes, onsend and error routes are called by the core.
        if !matches!(
            def.class,
            RouteClass::Request | RouteClass::Failure | RouteClass::OnReply | RouteClass::Branch
        ) {
            continue;
        }
        if used.contains(&(def.class, name.as_str()))
            || named_in_params.iter().any(|p| p.contains(name.as_str()))
        {
            continue;
        }
        let span = def
            .block
            .name
            .as_ref()
            .map_or(def.block.keyword_span, |n| n.span);
        out.push(
            UNUSED_ROUTE
                .diag(format!("`{}[{name}]` is never used", def.class.block()))
                .primary(span, "nothing calls or arms this route")
                .note("remove it, or call it where it was meant to run"),
        );
    }
}
