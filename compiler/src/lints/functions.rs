//! Function calls against the module catalog: unknown functions, functions
//! of modules that are not loaded, wrong numbers of arguments.
//!
//! Configs of every era but the 2001 rule tables are checked against the
//! export tables of every release of the era (`catalog::release_exports`),
//! which are complete for their releases: an unknown function or a refused
//! argument count is then what the server refused at start, with the
//! severity of [`table_severity`] (warnings for SER, OpenSER and Kamailio
//! 1.x, whose configs were often written against trunk between releases).
//! A config of an era without tables would be checked against the era
//! catalog, which samples a few releases and covers the common modules only.

use super::{Lint, LintCtx};
use crate::catalog::release_exports::{EraExports, ModuleExports, ReleaseExports, Releases};
use crate::catalog::{self, Catalog, Function};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Era, EraReason, Severity};

pub const UNKNOWN_FUNCTION: Lint = Lint {
    code: "L0106",
    name: "unknown-function",
    severity: Severity::Warning,
    summary: "a function that neither the core nor any loaded module provides",
};

pub const MODULE_NOT_LOADED: Lint = Lint {
    code: "L0107",
    name: "module-not-loaded",
    severity: Severity::Error,
    summary: "a function of a module that the config does not load",
};

pub const WRONG_ARITY: Lint = Lint {
    code: "L0108",
    name: "wrong-arity",
    severity: Severity::Warning,
    summary: "a function called with a number of arguments it does not accept",
};

/// Words that parse as calls but are expression operators or statement
/// words of some era, not functions.
pub(crate) const NOT_FUNCTIONS: &[&str] = &[
    "route", "strlen", "strempty", "selval", "defined", "esac", "retcode",
];

/// The module name a `loadmodule` path loads: `…/tm.so` → `tm`. SER 0.8
/// built tm as `tm_mod.so`; the module still calls itself `tm`.
pub fn module_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.strip_suffix(".so").unwrap_or(base);
    base.strip_suffix("_mod").unwrap_or(base)
}

/// The functions of `candidates` whose module the config loads.
pub fn among_loaded<'f>(
    candidates: impl IntoIterator<Item = &'f Function>,
    loaded: &[String],
) -> Vec<&'f Function> {
    candidates
        .into_iter()
        .filter(|f| loaded.iter().any(|m| m == f.module))
        .collect()
}

/// The severity of the release-table findings (unknown function, argument
/// count, core parameter, module parameter name and type) for an era. All
/// were refusals at start in every era with tables, but SER configs were
/// written against CVS trunk between releases (the ser-0.8 corpus is mostly
/// 2001–2002 trunk, before 0.8.11; ser-2 is trunk up to 2008, past the 2.0
/// branch), whose names the release tables cannot vouch for: there the
/// findings stay warnings. So for OpenSER 1.0–1.3 and Kamailio 1.4/1.5,
/// whose tables are trunk snapshots at the branch points (Kamailio 1.x with
/// OpenSER's core of the 2008 split) and whose corpus is largely trunk
/// between them. See `docs/lints.md`.
pub(crate) fn table_severity(era: Era) -> Severity {
    match era {
        Era::Ser08 | Era::Ser09 | Era::Ser2 | Era::OpenSer10 | Era::OpenSer12 => Severity::Warning,
        _ => Severity::Error,
    }
}

/// A release-table finding, softened where the era was detected rather than
/// given with `--dialect` and a later release than the era's has the name
/// (`later`): detection cannot tell a 4.0 config from a 3.3 one (the 4.0
/// default config reads as 3.x), and under that release there would be no
/// finding. Such a finding is a warning that says so.
pub(crate) fn unless_later(
    cx: &LintCtx,
    exports: EraExports,
    later: Releases,
    d: Diagnostic,
) -> Diagnostic {
    if d.severity != Severity::Error
        || matches!(cx.parsed.era.reason, EraReason::CommandLine)
        || !later.has_later_than(exports.releases)
    {
        return d;
    }
    let mut d = d.note(format!(
        "the era was detected, not given: {} has it; if the config is for a later release, say which with `--dialect`",
        later.describe()
    ));
    d.severity = Severity::Warning;
    d
}

/// The server an era's configs were written for, for the notes.
pub(crate) fn server(era: Era) -> &'static str {
    match era {
        Era::Rules2001 | Era::Ser08 | Era::Ser09 | Era::Ser2 => "SER",
        Era::OpenSer10 | Era::OpenSer12 => "OpenSER",
        _ => "Kamailio",
    }
}

/// The modules a config loads as the release tables name them (in 3.x
/// `modules_k/<m>` and `modules_s/<m>` for those trees, and possibly two
/// for one line, see `EraExports::module_keys`), in order. The search path
/// is every `mpath = "…"` and `loadpath "…"` of the config.
pub(crate) fn loaded_in_tables(config: &Config, exports: EraExports) -> Vec<String> {
    let mut search: Vec<&str> = Vec::new();
    for item in &config.items {
        match &item.kind {
            ItemKind::CoreParam { name, value } if name.text == "mpath" => {
                if let ParamValueKind::Str(s) = &value.kind {
                    search.extend(s.split(':'));
                }
            }
            ItemKind::LoadPath { path } => search.extend(path.value.split(':')),
            _ => {}
        }
    }
    config
        .items
        .iter()
        .flat_map(|i| match &i.kind {
            ItemKind::LoadModule { path, .. } => {
                exports.module_keys(module_name(&path.value), &path.value, &search)
            }
            _ => Vec::new(),
        })
        .collect()
}

/// The module names a config loads, in order.
pub fn loaded_modules(config: &Config) -> Vec<String> {
    config
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::LoadModule { path, .. } => Some(module_name(&path.value).to_string()),
            _ => None,
        })
        .collect()
}

fn counts(a: catalog::arity::Arity) -> String {
    let c: Vec<String> = a.counts().iter().map(|n| n.to_string()).collect();
    match c.len() {
        0 => "no arguments".into(),
        1 => format!("{} argument{}", c[0], if c[0] == "1" { "" } else { "s" }),
        _ => format!(
            "{} or {} arguments",
            c[..c.len() - 1].join(", "),
            c[c.len() - 1]
        ),
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn suggestion<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    if era == Era::Rules2001 {
        return;
    }
    if let Some(exports) = ReleaseExports::kamailio().era(era) {
        check_against_releases(cx, exports, out);
        return;
    }
    let cat: &Catalog = catalog::catalog();
    let loaded = loaded_modules(&cx.parsed.config);
    // A module the catalog does not describe may export anything: calls
    // that no known module provides are then not reported as unknown. The
    // catalog's own additions beyond the reference (SER's `print`) are
    // described only in their era: a later file loading them is treated
    // as loading an unknown module, as before they were added.
    let all_known = loaded.iter().all(|m| {
        cat.module_named(m)
            .is_some_and(|module| !module.beyond_reference() || module.exists_in(era))
    });
    module_calls(cx, out, |call, name, n, out| {
        let provided = cat.function(name, era);
        let from_loaded = among_loaded(provided.iter().copied(), &loaded);
        if !from_loaded.is_empty() {
            let mut accepted: Option<catalog::arity::Arity> = None;
            for f in &from_loaded {
                match f.arities(era) {
                    Some(a) if a.is_unknown() => return,
                    Some(a) => accepted = Some(accepted.map_or(a, |acc| acc.union(a))),
                    None => return,
                }
            }
            if let Some(a) = accepted {
                if !a.accepts(n) {
                    out.push(arity_diag(
                        call,
                        n,
                        a,
                        &format!("module `{}`", from_loaded[0].module),
                    ));
                }
            }
            return;
        }
        // A loaded module the catalog does not describe may export the
        // same name (SER's `pa` has `handle_publish` too).
        if let (Some(f), true) = (provided.first(), all_known) {
            let mut modules: Vec<&str> = provided.iter().map(|f| f.module).collect();
            modules.dedup();
            out.push(
                    MODULE_NOT_LOADED
                        .diag(format!("`{name}` is a function of module `{}`, which is not loaded", modules.join("` or `")))
                        .primary(call.name.span, "provided by a module this config does not load")
                        .note(format!("add `loadmodule \"{}.so\"` before the routes (Kamailio says \"unknown command, missing loadmodule?\")", f.module)),
                );
            return;
        }
        if !all_known || !provided.is_empty() {
            return;
        }
        // A name the catalog knows from other releases but not from
        // this era is reported only when the reference records it as
        // renamed or removed: between two sampled releases the catalog
        // cannot tell "gone" from "not sampled".
        let renamed = cat.rename_of(name);
        let elsewhere = cat.functions_named(name);
        if renamed.is_empty() && (!elsewhere.is_empty() || cat.core_action_named(name).is_some()) {
            return;
        }
        let mut d = UNKNOWN_FUNCTION
            .diag(format!("unknown function `{name}` in {era}"))
            .primary(
                call.name.span,
                "neither the core nor a loaded module provides this",
            );
        if let Some(r) = renamed.first() {
            let since = r.since.map_or(String::new(), |s| format!(" (since {s:?})"));
            d = d.note(format!("`{name}` was replaced by `{}`{since}", r.new));
        }
        let candidates = loaded
            .iter()
            .flat_map(|m| cat.module_functions(m, era))
            .map(|f| f.name)
            .chain(
                cat.core_actions()
                    .iter()
                    .filter(|a| a.eras.in_era(era))
                    .flat_map(|a| a.names()),
            );
        if renamed.is_empty() {
            if let Some(s) = suggestion(name, candidates) {
                d = d.note(format!("did you mean `{s}`?"));
            }
        }
        out.push(d);
    });
}

fn arity_diag(call: &Call, n: usize, a: catalog::arity::Arity, provider: &str) -> Diagnostic {
    WRONG_ARITY
        .diag(format!("`{}` takes {}, not {n}", call.name.text, counts(a)))
        .primary(
            call.name.span,
            format!("called with {n} argument{}", if n == 1 { "" } else { "s" }),
        )
        .note(format!("as provided by {provider} in this era"))
}

/// Calls of a config against its era's release tables.
fn check_against_releases(cx: &LintCtx, exports: EraExports, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    let (severity, server) = (table_severity(era), server(era));
    let cat: &Catalog = catalog::catalog();
    let loaded = loaded_in_tables(&cx.parsed.config, exports);
    let names = loaded_modules(&cx.parsed.config);
    let all_read = exports_cover(exports, era, &loaded);
    let within = exports.releases.describe();
    module_calls(cx, out, |call, name, n, out| {
        if exports.is_core_action(name) {
            return;
        }
        let providers = exports.providers(name);
        let from_loaded: Vec<&str> = providers
            .iter()
            .copied()
            .filter(|p| loaded.iter().any(|m| m == p))
            .collect();
        if !from_loaded.is_empty() {
            let mut counts = Vec::new();
            for m in &from_loaded {
                let (ok, accepted) = exports.accepts(m, name, n);
                if ok {
                    return;
                }
                counts.extend(accepted.into_iter().map(|a| a.to_string()));
            }
            counts.sort();
            counts.dedup();
            let later = exports.accepting_releases(name, n);
            out.push(unless_later(cx, exports, later,
                    WRONG_ARITY
                        .diag_at(
                            severity,
                            format!("`{name}` takes {}, not {n}", counts.join(" or ")),
                        )
                        .primary(
                            call.name.span,
                            format!("called with {n} argument{}", if n == 1 { "" } else { "s" }),
                        )
                        .note(format!(
                            "as exported by module `{}` in {within}; {server} refuses to start (\"unknown command, missing loadmodule?\")",
                            from_loaded.join("` or `")
                        )),
                ));
            return;
        }
        if !all_read {
            return;
        }
        // Where the table findings are warnings (SER), a module not loaded
        // is an error only when the era catalog, which spans the era's
        // trunk too, agrees; a name the tables do not know but the catalog
        // gives to a module not loaded is that module's.
        let from_catalog = (severity == Severity::Warning)
            .then(|| catalog_providers_not_loaded(name, era, &names))
            .flatten();
        if let (true, Some(modules)) = (providers.is_empty(), &from_catalog) {
            out.push(not_loaded_diag(
                call,
                name,
                modules,
                server,
                Severity::Error,
            ));
            return;
        }
        if !providers.is_empty() {
            let severity = if severity == Severity::Error || from_catalog.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            };
            out.push(not_loaded_diag(call, name, &providers, server, severity));
            return;
        }
        let mut d = UNKNOWN_FUNCTION
                .diag_at(severity, format!("unknown function `{name}` in {era}"))
                .primary(call.name.span, "neither the core nor any module provides this")
                .note(format!(
                    "no module of {within} exports it; {server} refuses to start (\"unknown command, missing loadmodule?\")"
                ));
        let elsewhere = exports.function_releases(name);
        if !elsewhere.is_empty() {
            d = d.note(format!("`{name}` exists in {}", elsewhere.describe()));
        }
        let renamed = cat.rename_of(name);
        if let Some(r) = renamed.first() {
            let since = r.since.map_or(String::new(), |s| format!(" (since {s:?})"));
            d = d.note(format!("`{name}` was replaced by `{}`{since}", r.new));
        } else {
            let candidates = loaded.iter().flat_map(|m| exports.functions_of(m)).chain(
                cat.core_actions()
                    .iter()
                    .filter(|a| a.eras.in_era(era))
                    .flat_map(|a| a.names()),
            );
            if let Some(s) = suggestion(name, candidates) {
                d = d.note(format!("did you mean `{s}`?"));
            }
        }
        out.push(unless_later(cx, exports, elsewhere, d));
    });
}

/// The modules the era catalog says provide `name` in `era` when the config
/// loads none of them (and the catalog describes every module it loads):
/// the era catalog's own module-not-loaded finding.
fn catalog_providers_not_loaded(
    name: &str,
    era: Era,
    loaded: &[String],
) -> Option<Vec<&'static str>> {
    let cat = catalog::catalog();
    let all_known = loaded.iter().all(|m| {
        cat.module_named(m)
            .is_some_and(|module| !module.beyond_reference() || module.exists_in(era))
    });
    let provided = cat.function(name, era);
    if !all_known
        || provided.is_empty()
        || !among_loaded(provided.iter().copied(), loaded).is_empty()
    {
        return None;
    }
    let mut modules: Vec<&'static str> = provided.iter().map(|f| f.module).collect();
    modules.dedup();
    Some(modules)
}

fn not_loaded_diag(
    call: &Call,
    name: &str,
    modules: &[&str],
    server: &str,
    severity: Severity,
) -> Diagnostic {
    MODULE_NOT_LOADED
        .diag_at(
            severity,
            format!(
                "`{name}` is a function of module `{}`, which is not loaded",
                modules.join("` or `")
            ),
        )
        .primary(call.name.span, "provided by a module this config does not load")
        .note(format!(
            "add `loadmodule \"{}.so\"` before the routes ({server} says \"unknown command, missing loadmodule?\")",
            modules[0]
        ))
}

/// Walks every call of the config's routes that is a function, not a core
/// action or an operator word, with its name and argument count. A core
/// action's count is checked here, against the era catalog.
fn module_calls(
    cx: &LintCtx,
    out: &mut Vec<Diagnostic>,
    mut f: impl FnMut(&Call, &str, usize, &mut Vec<Diagnostic>),
) {
    let era = cx.parsed.era.era;
    let cat: &Catalog = catalog::catalog();
    for def in &cx.routes.defs {
        walk::calls(&def.block.body.stmts, &mut |call| {
            let name = call.name.text.as_str();
            if NOT_FUNCTIONS.contains(&name) {
                return;
            }
            let n = call.args.len();
            if let Some(action) = cat.core_action(name, era) {
                if let Some(a) = action.arities(era).filter(|a| !a.is_unknown()) {
                    if !a.accepts(n) {
                        out.push(arity_diag(call, n, a, "the core"));
                    }
                }
                return;
            }
            f(call, name, n, out);
        });
    }
}

/// Whether the release tables account for everything the loaded modules
/// can provide. A module outside the tables (a third-party one, or a file
/// name that is not the module's) or one whose exports could not be read
/// may provide any name: unknown names are then not reported. A module the
/// era catalog knows from earlier releases but no release of this era has
/// (`mi_fifo` in 5.x) provides nothing here; one that only later releases
/// have, and the era catalog does not place in the era, is treated as
/// unknown.
pub(crate) fn exports_cover(exports: EraExports, era: Era, loaded: &[String]) -> bool {
    loaded.iter().all(|m| match exports.module(m) {
        ModuleExports::Known => true,
        ModuleExports::Unread => false,
        // A module that the era catalog does not place in the era and that
        // later releases have (janssonrpc-c in a config read as 3.x) says
        // the config is for one of them: what it provides there is not
        // this era's business.
        ModuleExports::Absent => catalog::catalog().module_named(m).is_some_and(|module| {
            module.exists_in(era) || !exports.module_releases(m).has_later_than(exports.releases)
        }),
    })
}
