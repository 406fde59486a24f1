//! The config's settings against the catalog: core parameters, `modparam`
//! targets, loaded modules and pseudo-variables of the file's era.

use super::functions::loaded_modules;
use super::{Lint, LintCtx};
use crate::catalog::release_exports::{EraExports, ModuleExports, ReleaseExports, Releases};
use crate::catalog::target::ParamType;
use crate::catalog::{self, CoreParamLookup};
use crate::walk;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Diagnostic, Era, Severity, Span};

pub const UNKNOWN_CORE_PARAM: Lint = Lint {
    code: "L0109",
    name: "unknown-core-param",
    severity: Severity::Warning,
    summary: "a core parameter that the file's era does not have (removed, renamed, or never one)",
};

pub const MODPARAM_NOT_LOADED: Lint = Lint {
    code: "L0110",
    name: "modparam-module-not-loaded",
    severity: Severity::Error,
    summary: "a `modparam` whose module pattern matches no loaded module",
};

pub const MODULE_NOT_IN_ERA: Lint = Lint {
    code: "L0111",
    name: "module-not-in-era",
    severity: Severity::Warning,
    summary: "a loaded module that the file's era does not have (removed or renamed)",
};

pub const PV_MODULE_NOT_LOADED: Lint = Lint {
    code: "L0112",
    name: "pv-module-not-loaded",
    severity: Severity::Error,
    summary: "a pseudo-variable whose module is not loaded",
};

pub const PV_UNKNOWN: Lint = Lint {
    code: "L0117",
    name: "pv-unknown",
    severity: Severity::Error,
    summary: "a pseudo-variable that no module of any release of the era and not the core registers (Kamailio 4, 5 and 6 configs)",
};

pub const MODPARAM_UNKNOWN_PARAM: Lint = Lint {
    code: "L0115",
    name: "modparam-unknown-param",
    severity: Severity::Error,
    summary: "a `modparam` naming a parameter the module does not have (configs of every era from SER 0.8 on, checked against every release of the era)",
};

pub const MODPARAM_VALUE_TYPE: Lint = Lint {
    code: "L0116",
    name: "modparam-value-type",
    severity: Severity::Error,
    summary: "a `modparam` value of the wrong type: a string for an integer parameter or a number for a string one (configs of every era from SER 0.8 on, checked against every release of the era)",
};

pub fn check(cx: &LintCtx, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    if era == Era::Rules2001 {
        return;
    }
    let loaded = loaded_modules(&cx.parsed.config);
    let exports = ReleaseExports::kamailio().era(era);
    core_params(cx, era, exports, out);
    modparams(cx, &loaded, out);
    if let Some(exports) = exports {
        modparam_types(cx, exports, out);
    }
    modules(cx, era, out);
    // Pseudo-variables are checked against the tables from Kamailio 4 on;
    // 3.x registered them from three module trees and the core, and stays
    // on the era catalog (L0112 only).
    let pv_exports = exports.filter(|_| era >= Era::Kamailio4);
    pvs(cx, era, pv_exports, &loaded, out);
}

/// Core parameters. Configs of the eras with release tables (all from SER
/// 0.8 on) are checked against the lexer of every release of the era (an
/// unknown name is a syntax error there; severity per `table_severity`);
/// others would be against the era catalog, which samples releases
/// (warnings).
fn core_params(cx: &LintCtx, era: Era, exports: Option<EraExports>, out: &mut Vec<Diagnostic>) {
    for item in &cx.parsed.config.items {
        let ItemKind::CoreParam { name, .. } = &item.kind else {
            continue;
        };
        if let Some(exports) = exports {
            if exports.is_core_param(&name.text) {
                continue;
            }
            let mut d = UNKNOWN_CORE_PARAM
                .diag_at(
                    super::functions::table_severity(era),
                    format!(
                        "`{}` is not a core parameter in {}",
                        name.text,
                        exports.releases.describe()
                    ),
                )
                .primary(name.span, "unknown core parameter")
                .note(format!(
                    "{} rejects an unknown `name = value` at the top level as a syntax error",
                    super::functions::server(era)
                ));
            // The era catalog's history (removals, renames) comes first.
            let elsewhere = exports.core_param_releases(&name.text);
            if let absent @ CoreParamLookup::Absent { .. } = catalog::core_param(&name.text, era) {
                let history = absent.to_string();
                let history = history
                    .split_once(": ")
                    .map_or(history.as_str(), |(_, h)| h);
                d = d.note(format!("`{}`: {history}", name.text));
            } else if !elsewhere.is_empty() {
                d = d.note(format!(
                    "`{}` exists in {}",
                    name.text,
                    elsewhere.describe()
                ));
            }
            out.push(super::functions::unless_later(cx, exports, elsewhere, d));
            continue;
        }
        match catalog::core_param(&name.text, era) {
            CoreParamLookup::Present(_) => {}
            absent @ CoreParamLookup::Absent { .. } => out.push(
                UNKNOWN_CORE_PARAM
                    .diag(absent.to_string())
                    .primary(name.span, "not a core parameter in this era"),
            ),
            CoreParamLookup::Unknown => out.push(
                UNKNOWN_CORE_PARAM
                    .diag(format!("`{}` is not a core parameter in any era", name.text))
                    .primary(name.span, "unknown core parameter")
                    .note("Kamailio rejects an unknown `name = value` at the top level as a syntax error"),
            ),
        }
    }
}

/// Kamailio matches the module argument of `modparam` as a case-insensitive
/// POSIX extended regex anchored at both ends. (SER 0.8 compared the exact
/// name; a plain name matches itself either way, so one rule serves.)
pub(crate) struct ModulePattern {
    re: Option<regex::Regex>,
    text: String,
}

impl ModulePattern {
    pub(crate) fn new(pattern: &str) -> ModulePattern {
        // Most patterns are a plain module name: no regex to build.
        let plain = pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ModulePattern {
            re: if plain {
                None
            } else {
                super::regex::compile(&format!("^({pattern})$"), true).ok()
            },
            text: pattern.to_string(),
        }
    }

    pub(crate) fn matches(&self, module: &str) -> bool {
        match &self.re {
            Some(re) => re.is_match(module),
            None => self.text.eq_ignore_ascii_case(module),
        }
    }
}

fn modparams(cx: &LintCtx, loaded: &[String], out: &mut Vec<Diagnostic>) {
    let cat = catalog::catalog();
    // A module file the catalog does not know may call itself by another
    // name (`vm.so` is "voicemail"): a pattern that names no catalog module
    // is then not reported.
    let all_known = loaded.iter().all(|m| cat.module_named(m).is_some());
    let mut seen_loads: Vec<&str> = Vec::new();
    // Kamailio applies a modparam when it reads it: the module must be
    // loaded above it.
    for item in &cx.parsed.config.items {
        match &item.kind {
            ItemKind::LoadModule { path, .. } => {
                seen_loads.push(super::functions::module_name(&path.value))
            }
            ItemKind::ModParam { module, .. } => {
                if module.value.contains('$') {
                    continue;
                }
                let pattern = ModulePattern::new(&module.value);
                if seen_loads.iter().any(|m| pattern.matches(m)) {
                    continue;
                }
                let later = loaded.iter().any(|m| pattern.matches(m));
                let names_known = cat.modules().iter().any(|k| pattern.matches(k.name));
                if !later && !all_known && !names_known {
                    continue;
                }
                let (message, label) = if later {
                    (
                        format!(
                            "`modparam(\"{}\", …)` comes before its module is loaded",
                            module.value
                        ),
                        "the `loadmodule` for this module comes later",
                    )
                } else {
                    (
                        format!("`modparam(\"{}\", …)` names no loaded module", module.value),
                        "no `loadmodule` matches this",
                    )
                };
                out.push(
                    MODPARAM_NOT_LOADED
                        .diag(message)
                        .primary(module.span, label)
                        .note("Kamailio refuses to start: a module parameter needs its module loaded above it"),
                );
            }
            _ => {}
        }
    }
}

/// Parameter names and value types of a config's modules, against the
/// exports of every release of its era: a name no release had or a type no
/// release took is refused at start (severity per `table_severity`).
fn modparam_types(cx: &LintCtx, exports: EraExports, out: &mut Vec<Diagnostic>) {
    let era = cx.parsed.era.era;
    let (severity, server) = (
        super::functions::table_severity(era),
        super::functions::server(era),
    );
    let within = exports.releases.describe();
    let loaded = super::functions::loaded_in_tables(&cx.parsed.config, exports);
    for item in &cx.parsed.config.items {
        let ItemKind::ModParam {
            module,
            param,
            value,
            evaluated: false,
        } = &item.kind
        else {
            continue;
        };
        let name = module.value.as_str();
        // Plain module names only (a regex is L0110's business), and only
        // modules whose exports the tables hold. In 3.x the name is that
        // of the loaded module of whichever tree.
        if !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let mut keys: Vec<&str> = loaded
            .iter()
            .map(String::as_str)
            .filter(|k| k.rsplit('/').next() == Some(name))
            .collect();
        if keys.is_empty() {
            keys.push(name);
        }
        if keys
            .iter()
            .any(|k| exports.module(k) != ModuleExports::Known)
        {
            continue;
        }
        let m = keys.join("` or `");
        let types: Vec<ParamType> = keys
            .iter()
            .flat_map(|k| exports.param_types(k, &param.value))
            .collect();
        if types.is_empty() {
            let mut d = MODPARAM_UNKNOWN_PARAM
                .diag_at(severity, format!("module `{m}` has no parameter `{}` in {within}", param.value))
                .primary(param.span, "unknown parameter")
                .note(format!("{server} refuses to start on an unknown module parameter; check the module's documentation for its current name"));
            // in 3.x `modules_k/htable`; from 4.0 the same module is `htable`
            let elsewhere: Releases = keys
                .iter()
                .chain([&name])
                .map(|k| exports.param_releases(k, &param.value))
                .collect();
            if !elsewhere.is_empty() {
                d = d.note(format!(
                    "`{name}` has `{}` in {}",
                    param.value,
                    elsewhere.describe()
                ));
            } else if let Some(s) = super::functions::suggestion(
                &param.value,
                keys.iter().flat_map(|k| exports.params_of(k)),
            ) {
                d = d.note(format!("did you mean `{s}`?"));
            }
            out.push(super::functions::unless_later(cx, exports, elsewhere, d));
            continue;
        }
        let wrong = match &value.kind {
            ExprKind::Str(_) if !types.iter().any(|t| t.accepts_str()) => {
                Some(("a string", "an integer"))
            }
            ExprKind::Int(_) if !types.iter().any(|t| t.accepts_int()) => {
                Some(("a number", "a string"))
            }
            _ => None,
        };
        if let Some((got, wants)) = wrong {
            out.push(
                MODPARAM_VALUE_TYPE
                    .diag_at(severity, format!("`{m}` parameter `{}` takes {wants}, and this is {got}", param.value))
                    .primary(value.span, format!("{got} here"))
                    .note(format!("in {within}; {server} refuses to start: module parameter types are strict (write `30`, not `\"30\"`, for an integer)")),
            );
        }
    }
}

fn modules(cx: &LintCtx, era: Era, out: &mut Vec<Diagnostic>) {
    let cat = catalog::catalog();
    for item in &cx.parsed.config.items {
        let ItemKind::LoadModule { path, .. } = &item.kind else {
            continue;
        };
        let name = super::functions::module_name(&path.value);
        let Some(module) = cat.module_named(name) else {
            continue;
        };
        if module.exists_in(era) {
            continue;
        }
        let mut d = MODULE_NOT_IN_ERA
            .diag(format!(
                "module `{name}` does not exist in {era} (it exists in {})",
                module.eras_ref
            ))
            .primary(path.span, "not in this era");
        if let Some(r) = cat.rename_of(name).first() {
            d = d.note(format!("`{name}` was replaced by `{}`", r.new));
        }
        out.push(d);
    }
}

/// Pseudo-variables: whether the core or a loaded module registers each.
/// Kamailio 4–6 configs are checked against the release tables (a class no
/// release of the era registers is unknown, L0117); Kamailio 3 against the
/// era catalog, which only knows the common ones (L0112 only).
fn pvs(
    cx: &LintCtx,
    era: Era,
    exports: Option<EraExports>,
    loaded: &[String],
    out: &mut Vec<Diagnostic>,
) {
    // Before Kamailio 3.0 the core provides the common pseudo-variables.
    if !era.is_merged_core() {
        return;
    }
    let cat = catalog::catalog();
    let tables_cover = exports.is_some_and(|e| super::functions::exports_cover(e, era, loaded));
    let mut reported: Vec<String> = Vec::new();
    let mut check = |key: &str, span: Span| {
        if key.is_empty() || reported.iter().any(|r| r == key) {
            return;
        }
        let modules: Vec<&str> = match exports {
            Some(exports) => exports.pv_providers(key),
            None => {
                let mut m: Vec<&str> = cat.pv(key, era).iter().map(|p| p.module).collect();
                m.dedup();
                m
            }
        };
        if modules
            .iter()
            .any(|p| *p == "core" || loaded.iter().any(|m| m == p))
        {
            return;
        }
        if modules.is_empty() {
            let Some(exports) = exports.filter(|_| tables_cover) else {
                return;
            };
            reported.push(key.to_string());
            let mut d = PV_UNKNOWN
                .diag(format!("unknown pseudo-variable `${key}` in {era}"))
                .primary(span, "neither the core nor any module registers this")
                .note(format!(
                    "no module of {} registers it; Kamailio refuses to start (\"error searching pvar\")",
                    exports.releases.describe()
                ));
            let elsewhere = exports.pv_releases(key);
            if !elsewhere.is_empty() {
                d = d.note(format!("`${key}` exists in {}", elsewhere.describe()));
            }
            out.push(d);
            return;
        }
        reported.push(key.to_string());
        out.push(
            PV_MODULE_NOT_LOADED
                .diag(format!("`${key}` needs module `{}`, which is not loaded", modules.join("` or `")))
                .primary(span, "its module is not loaded")
                .note("Kamailio refuses to start on an unknown pseudo-variable; `kamailio -c` does not always see it"),
        );
    };
    for def in &cx.routes.defs {
        walk::statements(&def.block.body.stmts, &mut |s| {
            let mut exprs: Vec<&Expr> = Vec::new();
            match &s.kind {
                StmtKind::Assign { target, value, .. } => exprs.extend([target, value]),
                StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => exprs.push(cond),
                StmtKind::Switch { subject, .. } => exprs.push(subject),
                StmtKind::Call(c) => exprs.extend(c.args.iter()),
                _ => {}
            }
            for e in exprs {
                vars(e, &mut |v, span| {
                    if v.kind == VarKind::Pv {
                        check(catalog::pv_key(&v.text), span);
                    }
                });
            }
            // Formats the function parses at start (the fixup fails on an
            // unknown variable, which `kamailio -c` does not run).
            if let StmtKind::Call(c) = &s.kind {
                let Some(arg) = format_argument(c) else {
                    return;
                };
                if let ExprKind::Str(text) = &arg.kind {
                    for part in crate::ir::pv::parse_format(text) {
                        if let crate::ir::pv::FormatPart::Pv(pv) = part {
                            check(&pv.class, arg.span);
                        }
                    }
                }
            }
        });
    }
}

/// The argument of `call` that Kamailio parses as a pseudo-variable format
/// when it fixes the call up at start: xlog's format (its last argument) and
/// the reason phrase of the reply functions. (Many more functions parse
/// their strings as formats; these are the ones checked against a starting
/// Kamailio 5.6, which refuses an unknown variable in them.)
fn format_argument(call: &Call) -> Option<&Expr> {
    const XLOG: &[&str] = &[
        "xlog", "xlogl", "xdbg", "xdbgl", "xinfo", "xnotice", "xwarn", "xerr", "xbug", "xcrit",
        "xalert",
    ];
    const REPLY: &[&str] = &["sl_send_reply", "send_reply", "t_reply"];
    let name = call.name.text.as_str();
    if XLOG.contains(&name) {
        call.args.last()
    } else if REPLY.contains(&name) && call.args.len() == 2 {
        call.args.get(1)
    } else {
        None
    }
}

fn vars<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a VarRef, Span)) {
    walk::exprs(e, &mut |x| {
        if let ExprKind::Var(v) = &x.kind {
            f(v, x.span);
        }
    });
}
