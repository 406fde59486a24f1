//! Names that are right for the file's era but that current Kamailio (5.6,
//! 6.x) renamed or removed (L0305): functions and core actions, loaded
//! modules, core parameters and route block keywords, from the catalog's
//! rename table (`compiler/catalog/renames.tsv`), following a name through
//! several renames (`send` → corex `send` → `send_udp`).
//!
//! A name that is already wrong in the file's own era is reported by
//! L0106 (function), L0109 (core parameter) or L0111 (module) and not here;
//! a name the catalog knows as gone but for which the rename table records
//! nothing is not reported either (between two sampled releases the
//! catalog cannot tell "removed" from "not sampled").

use super::functions::{loaded_modules, module_name, NOT_FUNCTIONS};
use super::{Lint, LintCtx};
use crate::catalog::{self, Catalog, EraSpan, Release, Rename, RenameKind};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Era, Severity, Span};

pub const RENAMED_SINCE: Lint = Lint {
    code: "L0305",
    name: "renamed-since",
    severity: Severity::Warning,
    summary: "a function, module, core parameter or route block of the file's era that current Kamailio renamed or removed",
};

/// The releases that stand for "current Kamailio".
const CURRENT: [Release; 2] = [Release::K5_6, Release::K6x];

fn current(span: EraSpan) -> bool {
    CURRENT.iter().any(|r| span.contains(*r))
}

const LABEL: &str = "not in Kamailio 5.6/6.x";

/// A plain name (follow-up renames are looked up only for those).
fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn removed(r: &Rename) -> bool {
    r.new == "none" || r.new.starts_with("none ")
}

/// " (since Kamailio 5.0)", or nothing.
fn since(r: &Rename) -> String {
    r.since
        .map_or(String::new(), |s| format!(" (since {})", s.product()))
}

/// How the replacement of one rename reads: `` `t_on_failure` ``,
/// `` `send_udp` of module `corex` ``, `` `modparam("pv", "avp_aliases", …)` ``,
/// or the reference's own words.
fn replacement(r: &Rename, old_module: Option<&str>) -> String {
    if removed(r) {
        return "nothing".into();
    }
    if !is_identifier(r.new) {
        return format!("`{}`", r.new);
    }
    let module = r.new_module.filter(|m| *m != "core");
    match (r.kind, module) {
        (RenameKind::Param | RenameKind::CoreParam, Some(m)) => {
            format!("`modparam(\"{m}\", \"{}\", …)`", r.new)
        }
        (RenameKind::Module, _) => format!("module `{}`", r.new),
        (_, Some(m)) if Some(m) != old_module => format!("`{}` of module `{m}`", r.new),
        _ => format!("`{}`", r.new),
    }
}

/// The rename rows of `name` of these kinds whose old module is `module`
/// (when given); those whose old span covers `era` first, all of them when
/// none does (the span is where the reference saw the old name, which may
/// be narrower than the catalog's).
fn rows<'c>(
    cat: &'c Catalog,
    name: &str,
    kinds: &[RenameKind],
    module: Option<&str>,
    era: Era,
) -> Vec<&'c Rename> {
    let all: Vec<&Rename> = cat
        .rename_of(name)
        .into_iter()
        .filter(|r| kinds.contains(&r.kind))
        .filter(|r| module.is_none() || r.old_module.is_none_or(|m| Some(m) == module))
        .collect();
    let in_era: Vec<&Rename> = all
        .iter()
        .copied()
        .filter(|r| r.old_eras.is_some_and(|s| s.in_era(era)))
        .collect();
    if in_era.is_empty() {
        all
    } else {
        in_era
    }
}

/// Whether the replacement a rename names is there in current Kamailio.
fn lands_current(cat: &Catalog, r: &Rename) -> bool {
    if removed(r) || !is_identifier(r.new) {
        return false;
    }
    match r.kind {
        RenameKind::Function | RenameKind::CoreAction => function_is_current(cat, r.new),
        // A module the catalog does not describe (`uid_gflags`) is taken at
        // the rename table's word.
        RenameKind::Module => cat.module_named(r.new).is_none_or(|m| current(m.eras)),
        RenameKind::Param | RenameKind::CoreParam => match r.new_module {
            Some(m) if m != "core" => cat
                .module_params_named(m, r.new)
                .iter()
                .any(|p| current(p.eras)),
            _ => cat
                .core_params()
                .iter()
                .find(|p| p.names().any(|n| n == r.new))
                .is_some_and(|p| current(p.eras)),
        },
        RenameKind::RouteBlock | RenameKind::Usage => true,
    }
}

/// The renames from `first` on, as long as the name it leads to is itself
/// gone: `send` (core) → `send` (corex, K4.0) → `send_udp` (K5.4);
/// core `fifo` → mi_fifo `fifo_name` → jsonrpcs `fifo_name`.
fn chain<'c>(cat: &'c Catalog, first: &'c Rename) -> Vec<&'c Rename> {
    let mut out = vec![first];
    while out.len() < 5 {
        let last = out[out.len() - 1];
        if !is_identifier(last.new) || removed(last) || lands_current(cat, last) {
            break;
        }
        let next_kinds: &[RenameKind] = match last.kind {
            RenameKind::Function | RenameKind::CoreAction => {
                &[RenameKind::Function, RenameKind::CoreAction]
            }
            RenameKind::CoreParam | RenameKind::Param => {
                &[RenameKind::Param, RenameKind::CoreParam]
            }
            RenameKind::Module => &[RenameKind::Module],
            _ => break,
        };
        let next = cat.rename_of(last.new).into_iter().find(|r| {
            next_kinds.contains(&r.kind)
                && r.old_module == last.new_module
                && !out.iter().any(|o| std::ptr::eq(*o, *r))
        });
        match next {
            Some(n) => out.push(n),
            None => break,
        }
    }
    out
}

/// The chains of every candidate row, those that end in something current
/// Kamailio has first (all when none does).
fn chains<'c>(cat: &'c Catalog, candidates: &[&'c Rename]) -> Vec<Vec<&'c Rename>> {
    let all: Vec<Vec<&Rename>> = candidates.iter().map(|r| chain(cat, r)).collect();
    let landing: Vec<Vec<&Rename>> = all
        .iter()
        .filter(|c| {
            let last = c[c.len() - 1];
            removed(last) || lands_current(cat, last)
        })
        .cloned()
        .collect();
    if landing.is_empty() {
        all
    } else {
        landing
    }
}

/// "`X` was renamed `Y` (since …)" / "was replaced by …" / "was removed".
fn headline(what: &str, old_module: Option<&str>, chains: &[Vec<&Rename>]) -> String {
    let ends: Vec<&Rename> = chains.iter().map(|c| c[c.len() - 1]).collect();
    if ends.iter().all(|r| removed(r)) {
        return format!("{what} was removed{}", since(ends[0]));
    }
    let ends: Vec<&Rename> = ends.into_iter().filter(|r| !removed(r)).collect();
    if let [one] = ends.as_slice() {
        let same_module = one
            .new_module
            .is_none_or(|m| Some(m) == old_module || m == "core");
        if is_identifier(one.new) && same_module && one.kind != RenameKind::Module {
            return format!("{what} was renamed `{}`{}", one.new, since(one));
        }
        return format!(
            "{what} was replaced by {}{}",
            replacement(one, old_module),
            since(one)
        );
    }
    let news: Vec<String> = ends.iter().map(|r| replacement(r, old_module)).collect();
    format!("{what} was replaced by {}", news.join(" or "))
}

/// One note per chain: the path and the reference's remarks.
fn path_notes(
    mut d: Diagnostic,
    name: &str,
    old_module: Option<&str>,
    chains: &[Vec<&Rename>],
) -> Diagnostic {
    for c in chains {
        let path: Vec<String> = c
            .iter()
            .map(|r| format!("{}{}", replacement(r, old_module), since(r)))
            .collect();
        let remarks: Vec<&str> = c.iter().map(|r| r.note).filter(|n| !n.is_empty()).collect();
        let remarks = if remarks.is_empty() {
            String::new()
        } else {
            format!(" — {}", remarks.join("; "))
        };
        d = d.note(format!("`{name}` → {}{remarks}", path.join(" → ")));
    }
    d
}

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    if era == Era::Rules2001 {
        return;
    }
    let cat = catalog::catalog();
    functions(cx, cat, era, out);
    items(cx, cat, era, out);
    blocks(cx, cat, era, out);
}

// ---------------------------------------------------------------------------
// functions and core actions
// ---------------------------------------------------------------------------

/// Whether current Kamailio has a function or core action of that name
/// (from any module: a function that only moved to another module is not a
/// rename; its module's `loadmodule` line says what to load instead).
fn function_is_current(cat: &Catalog, name: &str) -> bool {
    cat.functions_named(name).iter().any(|f| current(f.eras()))
        || cat.core_action_named(name).is_some_and(|a| current(a.eras))
}

struct Use {
    name: String,
    spans: Vec<Span>,
}

fn functions(cx: &LintCtx, cat: &Catalog, era: Era, out: &mut Vec<Diagnostic>) {
    let loaded = loaded_modules(&cx.parsed.config);
    // Each name once, at its first use; the other uses as secondary labels.
    let mut uses: Vec<Use> = Vec::new();
    for def in &cx.routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            let name = call.name.text.as_str();
            if NOT_FUNCTIONS.contains(&name) {
                return;
            }
            match uses.iter_mut().find(|u| u.name == name) {
                Some(u) => u.spans.push(call.name.span),
                None => uses.push(Use {
                    name: name.to_string(),
                    spans: vec![call.name.span],
                }),
            }
        });
    }
    for mut u in uses {
        u.spans.sort_by_key(|s| (s.file.0, s.start));
        let name = u.name.as_str();
        if function_is_current(cat, name) {
            continue;
        }
        // Valid in the file's era: a core action, or a function of a module
        // the config loads (else L0106/L0107 report it).
        let (old_module, meaning) = if let Some(a) = cat.core_action(name, era) {
            ("core", format!("a core action: {}", a.meaning))
        } else if let Some(f) = cat
            .function(name, era)
            .into_iter()
            .find(|f| loaded.iter().any(|m| m == f.module))
        {
            let form = if f.args_ref.is_empty() || f.args_ref == "—" {
                String::new()
            } else if f.args_ref.starts_with('`') {
                format!(": {}", f.args_ref)
            } else {
                format!(" (arguments: {})", f.args_ref)
            };
            (
                f.module,
                format!("a function of module `{}`{form}", f.module),
            )
        } else {
            continue;
        };
        let candidates = rows(
            cat,
            name,
            &[RenameKind::Function, RenameKind::CoreAction],
            Some(old_module),
            era,
        );
        if candidates.is_empty() {
            continue;
        }
        let chains = chains(cat, &candidates);
        let mut d = RENAMED_SINCE
            .diag(headline(&format!("`{name}`"), Some(old_module), &chains))
            .primary(u.spans[0], format!("valid in {era}, {LABEL}"));
        for s in &u.spans[1..] {
            d = d.secondary(*s, "also used here");
        }
        d = d.note(format!("in {era}, `{name}` is {meaning}"));
        d = path_notes(d, name, Some(old_module), &chains);
        let last = chains[0][chains[0].len() - 1];
        d = d.note(if removed(last) {
            format!("current Kamailio has nothing in its place: remove the call, or rewrite what `{name}` did")
        } else if is_identifier(last.new) {
            let module = match last.new_module {
                Some(m) if m != "core" && m != old_module => format!(" and load module `{m}`"),
                _ => String::new(),
            };
            format!(
                "for current Kamailio, call `{}` instead{module} (its arguments may differ)",
                last.new
            )
        } else {
            format!("for current Kamailio, rewrite the call as: {}", last.new)
        });
        out.push(d);
    }
}

// ---------------------------------------------------------------------------
// modules and core parameters
// ---------------------------------------------------------------------------

fn items(cx: &LintCtx, cat: &'static Catalog, era: Era, out: &mut Vec<Diagnostic>) {
    for item in &cx.parsed.config.items {
        match &item.kind {
            ItemKind::LoadModule { path, .. } => {
                let name = module_name(&path.value);
                // Not in the era: L0111. Still there today: nothing to say.
                let Some(m) = cat.module(name, era) else {
                    continue;
                };
                if current(m.eras) {
                    continue;
                }
                let candidates = rows(cat, name, &[RenameKind::Module], None, era);
                if candidates.is_empty() {
                    continue;
                }
                let chains = chains(cat, &candidates);
                let mut d = RENAMED_SINCE
                    .diag(headline(&format!("module `{name}`"), None, &chains))
                    .primary(path.span, format!("valid in {era}, {LABEL}"))
                    .note(format!("in {era}, `{name}` is a module: {}", m.note));
                d = path_notes(d, name, None, &chains);
                d = d.note("for current Kamailio, load the replacement and move this module's `modparam` lines to its parameters");
                out.push(d);
            }
            ItemKind::CoreParam { name, .. } => {
                let n = name.text.as_str();
                // Not in the era: L0109.
                let catalog::CoreParamLookup::Present(p) = cat.core_param(n, era) else {
                    continue;
                };
                if current(p.eras) {
                    continue;
                }
                let mut d = if let Some((new, when)) = p.renamed_to {
                    RENAMED_SINCE
                        .diag(format!(
                            "core parameter `{n}` was renamed `{new}` (since {})",
                            when.product()
                        ))
                        .primary(name.span, format!("valid in {era}, {LABEL}"))
                        .note(format!(
                            "{} rejects the old name as a syntax error: rename it to `{new}`",
                            when.product()
                        ))
                } else {
                    let candidates = rows(cat, n, &[RenameKind::CoreParam], None, era);
                    if candidates.is_empty() {
                        continue;
                    }
                    let chains = chains(cat, &candidates);
                    let d = RENAMED_SINCE
                        .diag(headline(
                            &format!("core parameter `{n}`"),
                            Some("core"),
                            &chains,
                        ))
                        .primary(name.span, format!("valid in {era}, {LABEL}"));
                    path_notes(d, n, Some("core"), &chains).note(
                        "current Kamailio rejects an unknown core parameter as a syntax error: remove the line, or set the replacement",
                    )
                };
                if !p.note.is_empty() {
                    d = d.note(format!("in {era}: {}", p.note));
                }
                out.push(d);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// route block keywords
// ---------------------------------------------------------------------------

fn blocks(cx: &LintCtx, cat: &Catalog, era: Era, out: &mut Vec<Diagnostic>) {
    for block in walk::routes(&cx.parsed.config) {
        let (kw, meaning) = match block.kind {
            RouteKind::Reply {
                means_failure: true,
            } => (
                "reply_route",
                "a failure route (armed by `t_on_negative`, run on a negative final reply)",
            ),
            RouteKind::Error => ("error_route", "the route run when a request fails to parse"),
            RouteKind::Local => (
                "local_route",
                "the route run for requests that tm sends itself",
            ),
            _ => continue,
        };
        let Some(r) = cat.rename_of(kw).into_iter().find(|r| {
            r.kind == RenameKind::RouteBlock && r.old_eras.is_some_and(|s| s.in_era(era))
        }) else {
            continue;
        };
        let name = block
            .name
            .as_ref()
            .map_or(String::new(), |n| format!("[{}]", n.text));
        let mut d = RENAMED_SINCE
            .diag(if removed(r) {
                format!("`{kw}` was removed{}", since(r))
            } else if r.new.contains('[') {
                format!("`{kw}` was replaced by `{}`{}", r.new, since(r))
            } else {
                format!("`{kw}{name}` is `{}{name}` in current Kamailio", r.new)
            })
            .primary(block.keyword_span, format!("valid in {era}, {LABEL}"))
            .note(format!("in {era}, `{kw}{name}` is {meaning}"));
        if !r.note.is_empty() {
            d = d.note(r.note);
        }
        d = d.note(if removed(r) {
            "Kamailio 5.6 rejects the block as a syntax error: remove it".to_string()
        } else if r.new.contains('[') {
            format!("Kamailio 5.6 rejects `{kw}` as a syntax error: write `{}`", r.new)
        } else {
            format!(
                "Kamailio 5.6 rejects `{kw}{name}` as a syntax error: rename the block to `{}{name}`",
                r.new
            )
        });
        out.push(d);
    }
}
