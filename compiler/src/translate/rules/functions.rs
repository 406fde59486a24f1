//! Function calls: renamed and rewritten functions, removed ones, and the
//! module each needs loaded in the target.

use super::{Cx, Rule};
use crate::catalog::{self, RenameKind};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{DollarMode, Span};

pub const FUNCTION_RENAME: Rule = Rule {
    code: "T0301",
    name: "function-rename",
    summary: "a function current Kamailio knows under another name (`t_on_negative` → `t_on_failure`, `rewriteFromRoute` → `loose_route`, ...)",
};
pub const FUNCTION_REWRITE: Rule = Rule {
    code: "T0302",
    name: "function-rewrite",
    summary: "a function whose replacement takes other arguments or is not a function (`save_noreply(t)` → `save(t, \"0x02\")`, `len_gt(n)` → `msg:len > n`, `avp_write` → assignment, ...)",
};
pub const FUNCTION_REMOVED: Rule = Rule {
    code: "T0303",
    name: "function-removed",
    summary: "a call whose job the target does by itself (`sl_filter_ACK()`): removed",
};
pub const FUNCTION_MISSING: Rule = Rule {
    code: "T0304",
    name: "function-missing",
    summary: "a function that no Kamailio 5.6 module or core provides: an error",
};
pub const PROVIDER_LOAD: Rule = Rule {
    code: "T0305",
    name: "provider-load",
    summary: "a function or pseudo-variable whose module the config does not load in the target (`append_branch` → `corex`, `setbflag` → `kex`, `$ru` → `pv`): the module is loaded",
};
pub const FUNCTION_ARITY: Rule = Rule {
    code: "T0306",
    name: "function-arity",
    summary: "a call with an argument count the target function does not accept: an error",
};

/// Operators written like calls (`strempty($x)`): core expression words.
const EXPRESSION_WORDS: &[&str] = &["strempty", "strlen", "defined", "selval"];

/// Modules to load for a function several modules export, most likely first.
const PREFERRED: &[&str] = &[
    "tm",
    "sl",
    "rr",
    "registrar",
    "usrloc",
    "maxfwd",
    "textops",
    "textopsx",
    "siputils",
    "kex",
    "corex",
    "pv",
    "xlog",
    "auth",
    "auth_db",
    "uri_db",
    "avpops",
    "cfgutils",
    "nathelper",
    "rtpproxy",
    "dispatcher",
    "acc",
    "permissions",
    "domain",
    "group",
    "exec",
    "sanity",
    "dialog",
    "htable",
    "sqlops",
    "alias_db",
    "speeddial",
    "enum",
    "lcr",
    "msilo",
    "pike",
    "presence",
    "uac",
    "xprint",
];

/// One call and where it stands.
struct Site<'a> {
    call: &'a Call,
    /// The span of the whole call (name to `)`).
    span: Span,
    /// The statement when the call is one (`f(...);`).
    stmt: Option<&'a Stmt>,
}

fn call_span(call: &Call, cx: &Cx) -> Span {
    let end = call.args.last().map_or(call.name.span.end, |a| a.span.end);
    // Up to and with the closing parenthesis.
    let file = cx.parsed.db.text(call.name.span.file);
    let mut e = end as usize;
    if call.parens {
        if let Some(i) = file[e..].find(')') {
            e += i + 1;
        }
    }
    Span::new(call.name.span.file, call.name.span.start as usize, e)
}

fn sites<'a>(cx: &Cx<'a>) -> Vec<Site<'a>> {
    let mut out = Vec::new();
    let mut exprs: Vec<&'a Expr> = Vec::new();
    walk::route_statements(&cx.parsed.config, &mut |s| {
        if let StmtKind::Call(c) = &s.kind {
            out.push(Site {
                call: c,
                span: call_span(c, cx),
                stmt: Some(s),
            });
        }
        exprs.extend(walk::stmt_exprs(s));
    });
    for e in exprs {
        walk::exprs(e, &mut |x| {
            if let ExprKind::Call(c) = &x.kind {
                out.push(Site {
                    call: c,
                    span: x.span,
                    stmt: None,
                });
            }
        });
    }
    out
}

fn str_arg(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Str(s) => Some(s),
        _ => None,
    }
}

fn arg_text<'a>(cx: &Cx<'a>, e: &Expr) -> &'a str {
    cx.text(e.span)
}

pub(super) fn run(cx: &mut Cx) {
    let map = super::modules::module_map(cx);
    let xprint = map
        .iter()
        .any(|(o, n)| o == "xlog" && n.as_deref() == Some("xprint"));
    let sites = sites(cx);
    for site in &sites {
        let name = site.call.name.text.as_str();
        let argc = site.call.args.len();
        if special(cx, site, xprint) {
            continue;
        }
        if cx.kam.core_action(name) || EXPRESSION_WORDS.contains(&name) {
            continue;
        }
        if !cx.kam.providers(name).is_empty() {
            provide(cx, site, name, argc);
            continue;
        }
        // Renamed: follow the rename table to a name the target has.
        let renamed = catalog::rename_of(name)
            .into_iter()
            .filter(|r| matches!(r.kind, RenameKind::Function | RenameKind::CoreAction))
            .map(|r| r.new)
            .find(|n| {
                is_identifier(n) && (cx.kam.core_action(n) || !cx.kam.providers(n).is_empty())
            });
        if let Some(new) = renamed {
            cx.replace(
                site.call.name.span,
                new,
                &FUNCTION_RENAME,
                format!("`{name}` is `{new}` in Kamailio 5.6"),
            );
            if !cx.kam.core_action(new) {
                provide(cx, site, new, argc);
            }
            continue;
        }
        let was = catalog::catalog()
            .function(name, cx.parsed.era.era)
            .first()
            .map(|f| format!(" (module `{}` in {})", f.module, cx.parsed.era.era))
            .unwrap_or_default();
        cx.cannot(
            &FUNCTION_MISSING,
            site.call.name.span,
            format!("`{name}`{was} does not exist in Kamailio 5.6"),
            "no Kamailio 5.6 module provides this",
            "replace the call with what current Kamailio offers for the same job, or delete it",
        );
    }
    pv_module(cx);
}

fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Makes sure a module exporting `name` is loaded, and that it takes
/// `argc` arguments.
fn provide(cx: &mut Cx, site: &Site, name: &str, argc: usize) {
    let providers = cx.kam.providers(name);
    let loaded: Vec<&str> = providers
        .iter()
        .copied()
        .filter(|m| cx.is_loaded(m))
        .collect();
    let chosen = if let Some(m) = loaded.first() {
        Some(*m)
    } else {
        let packaged: Vec<&str> = providers
            .iter()
            .copied()
            .filter(|m| cx.kam.packaged(m))
            .collect();
        PREFERRED
            .iter()
            .copied()
            .find(|m| packaged.contains(m))
            .or_else(|| (packaged.len() == 1).then(|| packaged[0]))
    };
    let Some(module) = chosen else {
        cx.cannot(
            &FUNCTION_MISSING,
            site.call.name.span,
            format!(
                "`{name}` is exported by {} in Kamailio 5.6, and the config loads none of them",
                list(&providers)
            ),
            "which module?",
            "load the module that provides it",
        );
        return;
    };
    if let Some(ar) = cx.kam.function(module, name) {
        if !ar.accepts(argc) {
            cx.cannot(
                &FUNCTION_ARITY,
                site.span,
                format!("`{name}` of module `{module}` does not take {argc} argument{} in Kamailio 5.6 ({})", if argc == 1 { "" } else { "s" }, ar),
                "argument count",
                "rewrite the call with the arguments the module's documentation gives",
            );
        }
    }
    let why = format!("provides `{name}`");
    cx.ensure_loaded(module, &PROVIDER_LOAD, &why);
}

fn list(v: &[&str]) -> String {
    let q: Vec<String> = v.iter().map(|m| format!("`{m}`")).collect();
    q.join(", ")
}

/// Whether the config calls `xlog`/`xdbg` with a SER `%` format (`%rm`,
/// `%{hdr}`), as SER's xlog module (now `xprint`) read them.
pub(super) fn uses_percent_formats(p: &sercompat_grammar::Parsed) -> bool {
    let mut found = false;
    for item in &p.config.items {
        let ItemKind::Route(r) = &item.kind else {
            continue;
        };
        walk::calls(&r.body.stmts, &mut |c| {
            if c.name.text == "xlog" || c.name.text == "xdbg" {
                for a in &c.args {
                    if let ExprKind::Str(s) = &a.kind {
                        let b = s.as_bytes();
                        if b.windows(2).any(|w| {
                            w[0] == b'%'
                                && (w[1].is_ascii_alphabetic() || w[1] == b'{' || w[1] == b'@')
                        }) {
                            found = true;
                        }
                    }
                }
            }
        });
    }
    found
}

/// Renames that the catalog's rename table does not hold.
#[rustfmt::skip]
const RENAMES: &[(&str, &str, &str)] = &[
    ("t_was_cancelled",      "t_is_canceled",        "renamed in Kamailio 1.4"),
    ("t_forward",            "t_relay",              "SER 0.8's `t_forward(host, port)` is `t_relay(host, port)`"),
    ("t_relay_udp",          "t_relay_to_udp",       "renamed in SER 0.8"),
    ("t_clear_forks",        "clear_branches",       "SER 0.8's `t_clear_forks()` (drop the branches added so far) is the core `clear_branches()`"),
    ("load_contacts",        "t_load_contacts",      "lcr's `load_contacts()` is tm's `t_load_contacts()` since Kamailio 3.0"),
    ("next_contacts",        "t_next_contacts",      "lcr's `next_contacts()` is tm's `t_next_contacts()` since Kamailio 3.0"),
    ("mf_is_maxfwd_zero",    "is_maxfwd_lt",         "SER 0.8's `mf_is_maxfwd_zero()` is `is_maxfwd_lt(\"1\")`"),
    ("check_user_blacklist", "check_user_blocklist", "`userblacklist` is `userblocklist` since Kamailio 5.5"),
    ("check_user_whitelist", "check_user_allowlist", "`userblacklist` is `userblocklist` since Kamailio 5.5"),
    ("check_blacklist",      "check_blocklist",      "`userblacklist` is `userblocklist` since Kamailio 5.5"),
    ("check_whitelist",      "check_allowlist",      "`userblacklist` is `userblocklist` since Kamailio 5.5"),
];

/// Rewrites that are not a plain rename. True when the call was handled.
fn special(cx: &mut Cx, site: &Site, xprint: bool) -> bool {
    let call = site.call;
    let name = call.name.text.as_str();
    let args = &call.args;
    if let Some(&(_, new, why)) = RENAMES.iter().find(|(o, _, _)| *o == name) {
        if name == "mf_is_maxfwd_zero" {
            cx.replace(site.span, "is_maxfwd_lt(\"1\")", &FUNCTION_REWRITE, why);
            provide(cx, site, new, 1);
            return true;
        }
        cx.replace(call.name.span, new, &FUNCTION_RENAME, why);
        if !cx.kam.core_action(new) {
            provide(cx, site, new, args.len());
        }
        return true;
    }
    if let (Some(n), Some(a)) = (cx.nat_bflag, args.first()) {
        let flag_fn = match name {
            "setflag" => Some("setbflag"),
            "resetflag" => Some("resetbflag"),
            "isflagset" => Some("isbflagset"),
            _ => None,
        };
        if let Some(new) =
            flag_fn.filter(|_| args.len() == 1 && crate::lints::era::int_value(a) == Some(n))
        {
            cx.replace(
                call.name.span,
                new,
                &FUNCTION_RENAME,
                format!("flag {n} is usrloc's `nat_bflag`, a branch flag, since Kamailio 1.5"),
            );
            provide(cx, site, new, 1);
            return true;
        }
    }
    match name {
        "save_noreply" | "save_memory" if args.len() == 1 => {
            let flag = if name == "save_noreply" {
                "0x02"
            } else {
                "0x01"
            };
            let new = format!("save({}, \"{flag}\")", arg_text(cx, &args[0]));
            cx.replace(
                site.span,
                new,
                &FUNCTION_REWRITE,
                format!("`{name}(t)` is `save(t, \"{flag}\")` since OpenSER 1.3"),
            );
            provide(cx, site, "save", 2);
            true
        }
        "save_contacts" | "lookup_contacts" if args.len() == 1 => {
            let new = if name == "save_contacts" {
                "save"
            } else {
                "lookup"
            };
            cx.replace(
                call.name.span,
                new,
                &FUNCTION_REWRITE,
                format!("SER's uid-keyed `{name}` is Kamailio's AoR-keyed `{new}`"),
            );
            cx.warn(
                &FUNCTION_REWRITE,
                call.name.span,
                format!("SER 2.0's `{name}` keys the location table by the user's uid (`$tu.uid`); Kamailio's `{new}` keys it by the To URI's user and domain: the same binding when each user's uid is their username, different for aliases and multi-domain uids"),
                "keyed by AoR now",
            );
            provide(cx, site, new, 1);
            true
        }
        // OpenSER / Kamailio 1.x `t_relay("proto:host:port")`.
        "t_relay" if args.len() == 1 => {
            let Some(dest) = str_arg(&args[0]) else {
                return false;
            };
            let parts: Vec<&str> = dest.split(':').collect();
            let (proto, host, port) = match parts.as_slice() {
                [p @ ("udp" | "tcp" | "tls"), h, port] => (Some(*p), *h, *port),
                [h, port] => (None, *h, *port),
                _ => return false,
            };
            let new = match proto {
                Some(p) => format!("t_relay_to_{p}(\"{host}\", \"{port}\")"),
                None => format!("t_relay(\"{host}\", \"{port}\")"),
            };
            cx.replace(site.span, new, &FUNCTION_REWRITE, "`t_relay(\"proto:host:port\")` (OpenSER, Kamailio 1.x) takes host and port apart since Kamailio 3.0");
            provide(cx, site, "t_relay", 2);
            true
        }
        // SER's core `send(host, port)`: corex `send_udp("host:port")`.
        "send" if args.len() == 2 => {
            let host = match &args[0].kind {
                ExprKind::Str(s) | ExprKind::Name(s) | ExprKind::Ipv4(s) => s.clone(),
                _ => return false,
            };
            let port = match &args[1].kind {
                ExprKind::Int(n) => n.to_string(),
                ExprKind::Str(s) => s.clone(),
                _ => return false,
            };
            cx.replace(
                site.span,
                format!("send_udp(\"{host}:{port}\")"),
                &FUNCTION_REWRITE,
                "SER's `send(host, port)` is corex's `send_udp(\"host:port\")`",
            );
            provide(cx, site, "send_udp", 1);
            true
        }
        "mf_decrement_maxfwd" if args.is_empty() => {
            cx.replace(site.span, "mf_process_maxfwd_header(\"10\")", &FUNCTION_REWRITE, "SER 0.8's `mf_decrement_maxfwd()` is the decrement of `mf_process_maxfwd_header()`");
            cx.warn(
                &FUNCTION_REWRITE,
                site.span,
                "`mf_decrement_maxfwd()` only decremented an existing Max-Forwards; `mf_process_maxfwd_header(\"10\")` also adds one (10) when it is missing and returns false at 0",
                "decrements, or adds when missing",
            );
            provide(cx, site, "mf_process_maxfwd_header", 1);
            true
        }
        "mf_is_maxfwd_present" if args.is_empty() => {
            cx.replace(
                site.span,
                "is_present_hf(\"Max-Forwards\")",
                &FUNCTION_REWRITE,
                "`mf_is_maxfwd_present()` (SER 0.8) is `is_present_hf(\"Max-Forwards\")`",
            );
            provide(cx, site, "is_present_hf", 1);
            true
        }
        "print" if args.len() == 1 => {
            let text = match &args[0].kind {
                // xlog reads `$` as a pseudo-variable; print printed it.
                ExprKind::Str(s) => format!(
                    "\"{}\"",
                    s.replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('$', "$$")
                        .replace('\n', "\\n")
                ),
                _ => arg_text(cx, &args[0]).to_string(),
            };
            cx.replace(
                site.span,
                format!("xlog(\"L_NOTICE\", {text})"),
                &FUNCTION_REWRITE,
                "SER's test function `print()` is written with `xlog`",
            );
            cx.warn(
                &FUNCTION_REWRITE,
                site.span,
                "`print()` wrote its text to standard output; `xlog` writes it to the log (standard error with `log_stderror=yes`)",
                "now a log line",
            );
            provide(cx, site, "xlog", 2);
            true
        }
        "sl_filter_ACK" => {
            match site.stmt {
                Some(stmt) => {
                    // An empty statement stands wherever a statement may.
                    let empty = if cx.text(stmt.span).trim_end().ends_with(';') {
                        ";"
                    } else {
                        ""
                    };
                    cx.replace(
                        stmt.span,
                        empty,
                        &FUNCTION_REMOVED,
                        "`sl_filter_ACK` removed: ACKs are filtered internally",
                    );
                }
                None => cx.replace(
                    site.span,
                    "1",
                    &FUNCTION_REMOVED,
                    "`sl_filter_ACK` removed: ACKs are filtered internally",
                ),
            }
            true
        }
        "len_gt" if args.len() == 1 && site.stmt.is_none() => {
            let n = arg_text(cx, &args[0]).trim_matches('"').trim().to_string();
            // `max_len` was the buffer size (see T0407).
            let n = if n == "max_len" {
                "65535".to_string()
            } else {
                n
            };
            cx.replace(
                site.span,
                format!("msg:len > {n}"),
                &FUNCTION_REWRITE,
                "`len_gt(n)` is `msg:len > n`",
            );
            true
        }
        "mf_add_maxfwd_header" => {
            let arg = args
                .first()
                .map_or("\"10\"".to_string(), |a| arg_text(cx, a).to_string());
            cx.replace(
                site.span,
                format!("mf_process_maxfwd_header({arg})"),
                &FUNCTION_REWRITE,
                "`mf_add_maxfwd_header` is `mf_process_maxfwd_header`",
            );
            provide(cx, site, "mf_process_maxfwd_header", 1);
            true
        }
        "force_rtp_proxy" => {
            cx.replace(
                call.name.span,
                "rtpproxy_manage",
                &FUNCTION_REWRITE,
                "`force_rtp_proxy` is `rtpproxy_manage` (module `rtpproxy`) since Kamailio 3.2",
            );
            provide(cx, site, "rtpproxy_manage", args.len());
            true
        }
        "avp_write" if args.len() == 2 => {
            let (Some(value), Some(avp)) = (str_arg(&args[0]), str_arg(&args[1])) else {
                return false;
            };
            let Some(stmt) = site.stmt else { return false };
            let target = if avp.starts_with("i:") || avp.starts_with("s:") {
                format!("$avp({avp})")
            } else if let Some(n) = avp.strip_prefix('$') {
                format!("$avp(s:{n})")
            } else {
                format!("$avp(s:{avp})")
            };
            let rhs = if value.starts_with('$')
                || value.starts_with("i:")
                || value.starts_with("s:")
            {
                cx.cannot(
                    &FUNCTION_REWRITE,
                    site.span,
                    format!("`avp_write` of `{value}` (a message field or another AVP) has no safe rewrite"),
                    "no safe rewrite",
                    format!("write the assignment by hand: `{target} = <pseudo-variable>;`"),
                );
                return true;
            } else {
                format!("\"{value}\"")
            };
            let semi = if cx.text(stmt.span).trim_end().ends_with(';') {
                ";"
            } else {
                ""
            };
            cx.replace(
                stmt.span,
                format!("{target} = {rhs}{semi}"),
                &FUNCTION_REWRITE,
                "`avp_write(v, name)` is an assignment since OpenSER 1.2",
            );
            provide_pv(cx);
            true
        }
        "xlog" | "xdbg" if xprint => {
            let new = if name == "xlog" { "xplog" } else { "xpdbg" };
            cx.replace(
                call.name.span,
                new,
                &FUNCTION_RENAME,
                format!("SER's `{name}` (with `%` formats) is `{new}` of module `xprint`"),
            );
            true
        }
        _ => false,
    }
}

fn provide_pv(cx: &mut Cx) {
    if cx.parsed.dollar != DollarMode::Ser {
        cx.ensure_loaded("pv", &PROVIDER_LOAD, "provides pseudo-variables");
    }
}

pub const PV_UNKNOWN: Rule = Rule {
    code: "T0307",
    name: "pv-unknown",
    summary: "a pseudo-variable (`$name(...)`, `$(name)`) no Kamailio 5.6 module registers, or only a module Debian does not package: an error",
};

/// Pseudo-variables (`$ru`, `$avp(x)`, `$var(x)`, or inside a string
/// argument) live in modules since Kamailio 1.5 (`pv` for most): the module
/// of each one the config uses is loaded. A variable no release knows is an
/// error.
fn pv_module(cx: &mut Cx) {
    if cx.parsed.dollar == DollarMode::Ser {
        return;
    }
    // (key, span, written in a form Kamailio refuses when unknown:
    // `$name(...)` or `$(...)` as a variable token)
    let mut uses: Vec<(String, Span, bool)> = Vec::new();
    walk::route_exprs(&cx.parsed.config, &mut |e| match &e.kind {
        ExprKind::Var(v) if v.kind == VarKind::Pv && v.text.starts_with('$') => {
            let strict = v.text.starts_with("$(") || v.text.contains('(');
            uses.push((catalog::pv_key(&v.text).to_string(), e.span, strict));
        }
        ExprKind::Str(s) => {
            for key in string_pvs(s) {
                uses.push((key, e.span, false));
            }
        }
        _ => {}
    });
    let mut done: Vec<String> = Vec::new();
    for (key, span, strict) in uses {
        if key.is_empty() || done.contains(&key) {
            continue;
        }
        done.push(key.clone());
        let providers = cx.kam.pv_providers(&key);
        if providers.is_empty() {
            // Kamailio refuses `$name(...)` / `$(name)` it does not know; a
            // bare unknown `$name` is read as an AVP.
            if strict {
                cx.cannot(
                    &PV_UNKNOWN,
                    span,
                    format!(
                        "`${key}` is not a pseudo-variable of Kamailio 5.6: no module registers it"
                    ),
                    "unknown pseudo-variable",
                    "correct the name, or replace it with what current Kamailio offers",
                );
            }
            continue;
        }
        if providers.iter().any(|m| *m == "core" || cx.is_loaded(m)) {
            continue;
        }
        let module = providers
            .iter()
            .copied()
            .find(|m| *m == "pv")
            .or_else(|| providers.iter().copied().find(|m| cx.kam.packaged(m)));
        match module {
            Some(m) => cx.ensure_loaded(m, &PROVIDER_LOAD, &format!("provides `${key}`")),
            None => cx.cannot(
                &PV_UNKNOWN,
                span,
                format!(
                    "`${key}` comes from {} in Kamailio 5.6, which no Debian package provides",
                    list(&providers)
                ),
                "module not packaged",
                "build the module from the Kamailio sources, or replace the pseudo-variable",
            ),
        }
    }
}

/// The pseudo-variable keys written in a string (`"$ru $hdr(X) $(avp(y))"`).
fn string_pvs(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        if b[i + 1] == b'$' {
            i += 2;
            continue;
        }
        let start = if b[i + 1] == b'(' { i + 2 } else { i + 1 };
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if j > start && b[start].is_ascii_alphabetic() {
            out.push(format!("${}", &s[start..j]));
        }
        i = j.max(i + 1);
    }
    out.into_iter()
        .map(|t| catalog::pv_key(&t).to_string())
        .collect()
}
