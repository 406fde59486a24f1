//! Calls against what the catalog says about their arguments and about where
//! they may be called: a constant argument of the wrong kind (L0113), a
//! function in a route block type it is not allowed in (L0114).
//!
//! Both look only at calls that the core of the file's era or a module the
//! config loads provides (what is unknown or not loaded is L0106/L0107), and
//! both are conservative: an argument built at run time, a position whose
//! kind the reference does not state, or a provider of unknown arity is not
//! checked.

use super::functions::{loaded_in_tables, loaded_modules, NOT_FUNCTIONS};
use super::{Lint, LintCtx};
use crate::catalog::release_exports::{EraExports, ReleaseExports, Releases};
use crate::catalog::{self, ArgKind, Catalog, RouteType};
use crate::ir::visit::{each_call, CallSite};
use crate::ir::{Callee, Value, ValueKind};
use crate::routes::{RouteClass, RouteDef};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Era, Severity};

pub const WRONG_ARGUMENT_KIND: Lint = Lint {
    code: "L0113",
    name: "wrong-argument-kind",
    severity: Severity::Warning,
    summary: "a constant argument that cannot be of the kind the function takes in that position",
};

pub const ROUTE_TYPE: Lint = Lint {
    code: "L0114",
    name: "route-type",
    severity: Severity::Error,
    summary: "a function called in a route block type it may not be used in",
};

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    if era == Era::Rules2001 {
        return;
    }
    let cat = catalog::catalog();
    let loaded = loaded_modules(&cx.parsed.config);
    for route in &cx.program.routes {
        each_call(&route.body, &mut |call| {
            if !NOT_FUNCTIONS.contains(&call.name) {
                argument_kinds(era, &loaded, &call, out);
            }
        });
    }
    let tables = ReleaseExports::kamailio()
        .era(era)
        .map(|exports| (exports, loaded_in_tables(&cx.parsed.config, exports)));
    for def in &cx.routes.defs {
        let Some(block) = block_type(def) else {
            continue;
        };
        walk::calls(&def.block.body.stmts, &mut |call| {
            if NOT_FUNCTIONS.contains(&call.name.text.as_str()) {
                return;
            }
            match &tables {
                Some((exports, keys)) => {
                    route_type_in_tables(cx, *exports, keys, call, def, block, out)
                }
                None => route_type(cat, era, &loaded, call, def, block, out),
            }
        });
    }
}

// ---------------------------------------------------------------------------
// L0113 wrong-argument-kind
// ---------------------------------------------------------------------------

/// What a constant argument is, as far as kinds go.
enum Constant<'a> {
    /// `"text"`, or a bare word (Kamailio passes an identifier argument
    /// of a module function as its text).
    Text(&'a str),
    Int(i64),
}

/// The constant a lowered argument is. A bare word counts only for module
/// functions from Kamailio 3.0 on: the core's own actions take keywords
/// there (SER 0.8 `len_gt(max_len)`, `forward(uri:host, uri:port)`).
/// Arguments the IR typed (a compiled pattern, a resolved route) already
/// have their kind; formats are built at run time.
fn constant(v: &Value, bare_words: bool) -> Option<Constant<'_>> {
    match &v.kind {
        ValueKind::Str(s) => Some(Constant::Text(s)),
        ValueKind::Word(s) if bare_words => Some(Constant::Text(s)),
        ValueKind::Int(i) => Some(Constant::Int(*i)),
        _ => None,
    }
}

/// Positions (function, 1-based argument, 0 for all) whose catalog kind
/// is narrower than what Kamailio 5.6 accepts: started with a non-numeric
/// or non-variable constant there, it loads (the fixup reads an AVP name or
/// a string with variables, or converts at run time). Every other `int` and
/// `pv` position that a module installed with Kamailio 5.6 provides was
/// checked the same way and refuses to load.
const LOOSER_THAN_CATALOG: &[(&str, usize)] = &[
    ("t_relay_to_avp", 0),
    ("allow_trusted", 0),
    ("allow_address", 2),
    ("add_contact_alias", 2),
    ("ds_select_routes", 2),
    ("rand_set_prob", 1),
];

/// A string that is evaluated when the function runs: it holds a
/// pseudo-variable or AVP (`$…`, SER's `%…`) or is a SER 2.0 select
/// (`@ruri.user`). Its kind is not known from the text.
fn is_dynamic(s: &str) -> bool {
    s.contains('$') || s.contains('%') || s.trim_start().starts_with('@')
}

/// Whether the text reads as an integer (decimal, or `0x` hex as some
/// functions take flags): before Kamailio 3.0 every argument is a quoted
/// string, numbers included, and later ones convert `"1"` too.
fn is_integer(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// The kinds a constant can stand for.
fn kinds_of(c: &Constant) -> Vec<ArgKind> {
    match c {
        Constant::Int(_) => vec![ArgKind::Int, ArgKind::Str, ArgKind::Re],
        Constant::Text(s) if is_integer(s) => vec![ArgKind::Int, ArgKind::Str, ArgKind::Re],
        Constant::Text(_) => vec![ArgKind::Str, ArgKind::Re],
    }
}

/// The argument kinds the call's bound entry states for its count, and
/// who provides it. `None` when the call is not checked: unknown, of a
/// module not loaded, arity not stated or not matched (L0106–L0108 speak
/// for those).
fn slots_of<'c>(
    era: Era,
    loaded: &[String],
    call: &CallSite<'c>,
) -> Option<(String, &'c [catalog::ArgSlot])> {
    let provider = match call.callee {
        Callee::Core(_) => "the core".to_string(),
        Callee::Module(f) if loaded.iter().any(|m| m == f.module) => {
            format!("module `{}`", f.module)
        }
        _ => return None,
    };
    let slots = crate::ir::argument_slots(call.callee, era, call.args.len())?;
    Some((provider, slots))
}

fn argument_kinds(era: Era, loaded: &[String], call: &CallSite, out: &mut Vec<Diagnostic>) {
    if call.args.is_empty() {
        return;
    }
    let Some((provider, slots)) = slots_of(era, loaded, call) else {
        return;
    };
    let name = call.name;
    let bare_words = era.is_merged_core() && !matches!(call.callee, Callee::Core(_));
    for (i, arg) in call.args.iter().enumerate() {
        if LOOSER_THAN_CATALOG
            .iter()
            .any(|(f, p)| *f == name && (*p == 0 || *p == i + 1))
        {
            continue;
        }
        let Some(c) = constant(arg, bare_words) else {
            continue;
        };
        if let Constant::Text(s) = &c {
            if is_dynamic(s) {
                continue;
            }
        }
        let Some(slot) = slots.get(i) else {
            continue;
        };
        // Route names are L0101's, flags L0201/L0202's; `?` is unknown.
        if slot
            .0
            .iter()
            .any(|k| matches!(k, ArgKind::Unknown | ArgKind::Route | ArgKind::Flag))
        {
            continue;
        }
        // A pseudo-variable name is read as one from Kamailio 3.0 on;
        // older AVP specs (`i:12`, `s:name`) are not pseudo-variables.
        if slot.0.contains(&ArgKind::Pv) && !era.is_merged_core() {
            continue;
        }
        if kinds_of(&c).iter().any(|k| slot.0.contains(k)) {
            continue;
        }
        let shown = match &c {
            Constant::Int(v) => v.to_string(),
            Constant::Text(s) => match &arg.kind {
                ValueKind::Word(_) => s.to_string(),
                _ => format!("\"{s}\""),
            },
        };
        let pos = i + 1;
        let d = if slot.0.contains(&ArgKind::Pv) {
            WRONG_ARGUMENT_KIND
                .diag(format!(
                    "argument {pos} of `{name}` must be a pseudo-variable, not `{shown}`"
                ))
                .primary(arg.span, "not a pseudo-variable")
                .note(format!(
                    "{provider} reads argument {pos} as `{slot}`: the name of a variable such as `$var(x)` or `$avp(x)`, which it reads or sets"
                ))
                .note("Kamailio refuses to start when the fixup cannot parse the name (`kamailio -c` does not run fixups)")
        } else {
            WRONG_ARGUMENT_KIND
                .diag(format!(
                    "argument {pos} of `{name}` must be an integer, not `{shown}`"
                ))
                .primary(arg.span, "not a number")
                .note(format!(
                    "{provider} reads argument {pos} as `{slot}`; a quoted number (`\"1\"`) or, from Kamailio 3.0, a pseudo-variable holding one is accepted"
                ))
                .note("Kamailio refuses to start when the fixup cannot convert it (`kamailio -c` does not run fixups)")
        };
        out.push(d);
    }
}

// ---------------------------------------------------------------------------
// L0114 route-type
// ---------------------------------------------------------------------------

/// The type a block is checked as, or `None` for blocks whose calls are not
/// checked: sub-routes (`route[X]` is a request route when Kamailio loads
/// it, but one called from a failure route runs in failure context, so
/// their calls are judged by where they are called from, which this lint
/// does not follow), `error_route` and the Kamailio 1.x `local_route`.
fn block_type(def: &RouteDef) -> Option<RouteType> {
    Some(match def.class {
        RouteClass::Request if def.name.is_none() => RouteType::Request,
        RouteClass::Failure => RouteType::Failure,
        RouteClass::OnReply => RouteType::OnReply,
        RouteClass::Branch => RouteType::Branch,
        RouteClass::OnSend => RouteType::OnSend,
        RouteClass::Event => RouteType::Event,
        _ => return None,
    })
}

/// Whether the mask lets the call load in a block of that type. Kamailio
/// loads every `event_route` as a request route (`EVENT_ROUTE` is
/// `REQUEST_ROUTE`), and the functions the reference marks for the
/// `tm:branch-failure` event route (`V`) load in request routes too
/// (checked with Kamailio 5.6: `t_branch_timeout` in `request_route`).
fn allowed(mask: catalog::RouteMask, t: RouteType) -> bool {
    match t {
        RouteType::Request | RouteType::Event => {
            mask.allows(RouteType::Request) || mask.allows(RouteType::Event)
        }
        t => mask.allows(t),
    }
}

fn block_name(t: RouteType, def: &RouteDef) -> String {
    let kw = def.block.kind.keyword();
    match (t, &def.block.name) {
        (RouteType::Request, _) => format!("the main `{kw}`"),
        (_, Some(n)) => format!("`{kw}[{}]`", n.text),
        (_, None) => format!("`{kw}`"),
    }
}

/// The mask as block names, for the note.
fn mask_names(mask: catalog::RouteMask) -> String {
    let mut v: Vec<&str> = Vec::new();
    for (t, name) in [
        (
            RouteType::Request,
            "request_route (and route[] called from it)",
        ),
        (RouteType::Failure, "failure_route"),
        (RouteType::OnReply, "onreply_route"),
        (RouteType::Branch, "branch_route"),
        (RouteType::OnSend, "onsend_route"),
        (
            RouteType::Local,
            "local_route / event_route[tm:local-request]",
        ),
        (RouteType::Event, "event_route[tm:branch-failure]"),
    ] {
        if mask.allows(t) {
            v.push(name);
        }
    }
    v.join(", ")
}

/// L0114 for an era with release tables: the route flags the loaded
/// modules' exports of the function carry in the era's releases.
fn route_type_in_tables(
    cx: &LintCtx,
    exports: EraExports,
    keys: &[String],
    call: &Call,
    def: &RouteDef,
    block: RouteType,
    out: &mut Vec<Diagnostic>,
) {
    let name = call.name.text.as_str();
    if exports.is_core_action(name) {
        return;
    }
    // Unknown or not loaded: L0106/L0107 speak for it.
    let masks: Vec<(&str, catalog::RouteMask)> = keys
        .iter()
        .filter_map(|k| exports.route_mask(k, name).map(|m| (k.as_str(), m)))
        .collect();
    if masks.is_empty() || masks.iter().any(|(_, m)| allowed(*m, block)) {
        return;
    }
    let era = cx.parsed.era.era;
    let within = exports.releases.describe();
    let allows = masks.iter().map(|(module, mask)| {
        format!(
            "module `{module}` allows `{name}` in: {} (`{mask}`) in {within}",
            mask_names(*mask)
        )
    });
    let refusal = format!(
        "{} refuses to start: \"misused command {name}\" … \"Command cannot be used in the block\"",
        super::functions::server(era)
    );
    let d = route_type_diag(
        super::functions::table_severity(era),
        era,
        call,
        def,
        block,
        allows,
        refusal,
    );
    let later: Releases = masks
        .iter()
        .map(|(k, _)| exports.releases_allowing(k, name, |m| allowed(m, block)))
        .collect();
    out.push(super::functions::unless_later(cx, exports, later, d));
}

/// L0114 for an era without release tables: the reference's route letters.
fn route_type(
    cat: &Catalog,
    era: Era,
    loaded: &[String],
    call: &Call,
    def: &RouteDef,
    block: RouteType,
    out: &mut Vec<Diagnostic>,
) {
    let name = call.name.text.as_str();
    // Core actions carry no route restriction in the catalog.
    if cat.core_action(name, era).is_some() {
        return;
    }
    let from_loaded = super::functions::among_loaded(cat.function(name, era), loaded);
    if from_loaded.is_empty() {
        return;
    }
    if from_loaded.iter().any(|f| allowed(f.routes, block)) {
        return;
    }
    // The route types are those of Kamailio 5.6 (or of the function's last
    // release), checked against it; older cores are not.
    let severity = if era.is_merged_core() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut shown: Vec<(&str, catalog::RouteMask)> = Vec::new();
    for f in &from_loaded {
        if !shown.contains(&(f.module, f.routes)) {
            shown.push((f.module, f.routes));
        }
    }
    let allows = shown.into_iter().map(|(module, mask)| {
        format!(
            "module `{module}` allows `{name}` in: {} (`{mask}`)",
            mask_names(mask)
        )
    });
    let refusal = if era.is_merged_core() {
        format!("Kamailio refuses to start: \"misused command {name}\" … \"Command cannot be used in the block\"")
    } else {
        format!("Kamailio 5.6 refuses to start on it (\"misused command {name}\"); the route types are those of current Kamailio, and {era} may have allowed more")
    };
    out.push(route_type_diag(
        severity, era, call, def, block, allows, refusal,
    ));
}

/// An L0114 finding: where the call stands, what each provider allows,
/// why the server refuses, and what to call instead.
fn route_type_diag(
    severity: Severity,
    era: Era,
    call: &Call,
    def: &RouteDef,
    block: RouteType,
    allows: impl Iterator<Item = String>,
    refusal: String,
) -> Diagnostic {
    let name = call.name.text.as_str();
    let mut d = ROUTE_TYPE
        .diag_at(
            severity,
            format!("`{name}` cannot be used in {}", block_name(block, def)),
        )
        .primary(
            call.name.span,
            format!("not allowed in {}", def.block.kind.keyword()),
        );
    for note in allows {
        d = d.note(note);
    }
    if block == RouteType::Event {
        d = d.note(format!(
            "{} loads every `event_route` as a request route: only what request_route allows may be called there",
            super::functions::server(era)
        ));
    }
    d = d.note(refusal);
    if let Some(hint) = instead(catalog::catalog(), name, block) {
        d = d.note(hint);
    }
    d
}

/// What to call instead in a failure or reply route, where the catalog's
/// renames say (`sl_send_reply` → `t_reply`).
fn instead(cat: &Catalog, name: &str, block: RouteType) -> Option<String> {
    if !matches!(block, RouteType::Failure | RouteType::OnReply) {
        return None;
    }
    cat.rename_of(name)
        .into_iter()
        .find(|r| r.kind == catalog::RenameKind::Usage)
        .map(|u| format!("use {} instead ({})", u.new, u.note))
}
