//! Turning the compiled-in TSVs into typed entries, with cross-checks.
//! Every problem panics with `file:line: reason` (see [`super::tsv`]).

use super::arity::{Arity, AritySpans};
use super::entries::*;
use super::kinds::{ArgKinds, CoreValueKind, ParamType, WriteAccess};
use super::release::{Lineage, Release, Sampling};
use super::span::EraSpan;
use super::tsv::{self, Row};
use super::Catalog;
use std::collections::{HashMap, HashSet};

pub(crate) const MODULES: (&str, &str) = (
    "compiler/catalog/modules.tsv",
    include_str!("../../catalog/modules.tsv"),
);
pub(crate) const FUNCTIONS: (&str, &str) = (
    "compiler/catalog/functions.tsv",
    include_str!("../../catalog/functions.tsv"),
);
pub(crate) const PARAMS: (&str, &str) = (
    "compiler/catalog/params.tsv",
    include_str!("../../catalog/params.tsv"),
);
pub(crate) const CORE_PARAMS: (&str, &str) = (
    "compiler/catalog/core_params.tsv",
    include_str!("../../catalog/core_params.tsv"),
);
pub(crate) const CORE_ACTIONS: (&str, &str) = (
    "compiler/catalog/core_actions.tsv",
    include_str!("../../catalog/core_actions.tsv"),
);
pub(crate) const PVS: (&str, &str) = (
    "compiler/catalog/pvs.tsv",
    include_str!("../../catalog/pvs.tsv"),
);
pub(crate) const RENAMES: (&str, &str) = (
    "compiler/catalog/renames.tsv",
    include_str!("../../catalog/renames.tsv"),
);
pub(crate) const IMPLEMENTED: (&str, &str) = (
    "compiler/catalog/implemented.txt",
    include_str!("../../catalog/implemented.txt"),
);

const MODULE_COLS: &[&str] = &["module", "eras", "eras_ref", "note"];
const FUNCTION_COLS: &[&str] = &[
    "module",
    "lineage",
    "function",
    "arity",
    "routes",
    "arg_kinds",
    "args_ref",
    "returns",
    "source",
];
const PARAM_COLS: &[&str] = &[
    "module", "param", "type", "default", "eras", "eras_ref", "type_ref", "ref", "notes",
];
const CORE_PARAM_COLS: &[&str] = &[
    "name",
    "aliases",
    "kind",
    "eras",
    "eras_ref",
    "value_ref",
    "ref",
    "renamed_to",
    "renamed_in",
    "note",
];
const CORE_ACTION_COLS: &[&str] = &[
    "action",
    "aliases",
    "arity",
    "arg_kinds",
    "eras",
    "eras_ref",
    "moved_to",
    "ref",
    "section",
    "meaning",
];
const PV_COLS: &[&str] = &[
    "pv", "form", "aliases", "module", "write", "eras", "eras_ref", "ref", "meaning",
];
const RENAME_COLS: &[&str] = &[
    "kind",
    "old",
    "old_module",
    "old_eras",
    "new",
    "new_module",
    "since",
    "source",
    "note",
];

fn release(s: &str) -> Result<Release, String> {
    Release::from_code(s).ok_or_else(|| format!("unknown release `{s}`"))
}

fn list(s: &'static str) -> Vec<&'static str> {
    if s.is_empty() || s == "-" {
        Vec::new()
    } else {
        s.split(',').map(str::trim).collect()
    }
}

/// `module@K4.0`.
fn module_at(s: &'static str) -> Result<(&'static str, Release), String> {
    let (m, r) = s
        .split_once('@')
        .ok_or_else(|| format!("`{s}`: expected NAME@RELEASE"))?;
    Ok((m, release(r)?))
}

fn check_kinds_cover(row: &Row, arity: &AritySpans, kinds: &ArgKinds) {
    let all = arity
        .segments()
        .iter()
        .fold(Arity::NONE, |a, (_, b)| a.union(*b));
    if all.is_unknown() && all.counts().is_empty() {
        return;
    }
    for n in all.counts() {
        if kinds.for_count(n as usize).is_none() {
            row.fail(format!(
                "arg_kinds `{}` say nothing about calls with {n} argument(s)",
                row.get("arg_kinds")
            ));
        }
    }
    if let ArgKinds::Positional(v) = kinds {
        if Some(v.len() as u8) != all.max() {
            row.fail(format!(
                "arg_kinds list {} position(s) but at most {} argument(s) are accepted",
                v.len(),
                all.max().unwrap_or(0)
            ));
        }
    }
}

fn load_modules() -> Vec<Module> {
    let (file, text) = MODULES;
    let mut seen = HashSet::new();
    tsv::parse(file, text, MODULE_COLS)
        .iter()
        .map(|r| {
            let name = r.req("module");
            if !seen.insert(name) {
                r.fail(format!("module `{name}` listed twice"));
            }
            Module {
                name,
                eras: r.parse("eras", |s| EraSpan::parse(s, Sampling::Modules)),
                eras_ref: r.get("eras_ref"),
                note: r.get("note"),
                lineages: Vec::new(),
                implemented: false,
            }
        })
        .collect()
}

fn load_functions(modules: &mut [Module]) -> Vec<Function> {
    let (file, text) = FUNCTIONS;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in tsv::parse(file, text, FUNCTION_COLS) {
        let module = r.req("module");
        let lineage = r.parse("lineage", |s| {
            Lineage::from_code(s).ok_or_else(|| format!("unknown lineage `{s}`"))
        });
        let name = r.req("function");
        let arity = r.parse("arity", |s| AritySpans::parse(s, Sampling::Modules));
        let args = r.parse("arg_kinds", ArgKinds::parse);
        check_kinds_cover(&r, &arity, &args);
        let source = r.parse("source", |s| match s {
            "table" => Ok(FunctionSource::Table),
            "removed" => Ok(FunctionSource::Removed),
            _ => Err(format!("unknown source `{s}`")),
        });
        if !seen.insert((module, lineage, name)) {
            r.fail(format!("{module}/{lineage} `{name}` listed twice"));
        }
        let Some(m) = modules.iter_mut().find(|m| m.name == module) else {
            r.fail(format!("module `{module}` is not in modules.tsv"));
        };
        let span = arity.span();
        if span.intersect(m.eras) != span {
            r.fail(format!(
                "`{name}` exists in {span} but module `{module}` only in {}",
                m.eras
            ));
        }
        match m.lineages.iter_mut().find(|(l, _)| *l == lineage) {
            Some((_, s)) => *s = s.union(span),
            None => m.lineages.push((lineage, span)),
        }
        out.push(Function {
            module,
            lineage,
            name,
            arity,
            arity_ref: r.get("arity"),
            routes: r.parse("routes", super::route::RouteMask::parse),
            args,
            args_ref: r.get("args_ref"),
            returns: r.get("returns"),
            source,
            implemented: false,
        });
    }
    for m in modules.iter_mut() {
        m.lineages.sort_by_key(|(l, _)| *l);
    }
    out
}

fn load_params(modules: &[Module]) -> Vec<ModParam> {
    let (file, text) = PARAMS;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in tsv::parse(file, text, PARAM_COLS) {
        let module = r.req("module");
        let name = r.req("param");
        let Some(m) = modules.iter().find(|m| m.name == module) else {
            r.fail(format!("module `{module}` is not in modules.tsv"));
        };
        let eras = match r.get("eras") {
            "*" => m.eras,
            s => r
                .parse("eras", |_| EraSpan::parse(s, Sampling::Modules))
                .intersect(m.eras),
        };
        if eras.is_empty() {
            r.fail(format!(
                "`{name}` exists in no release of module `{module}` ({})",
                m.eras
            ));
        }
        if !seen.insert((module, name)) {
            r.fail(format!("{module} parameter `{name}` listed twice"));
        }
        out.push(ModParam {
            module,
            name,
            ty: r.parse("type", ParamType::parse),
            ty_ref: r.get("type_ref"),
            default: r.get("default"),
            eras,
            eras_ref: r.get("eras_ref"),
            reference: r.req("ref"),
            notes: r.get("notes"),
            implemented: false,
        });
    }
    out
}

fn load_core_params() -> Vec<CoreParam> {
    let (file, text) = CORE_PARAMS;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in tsv::parse(file, text, CORE_PARAM_COLS) {
        let renamed_to = match (r.opt("renamed_to"), r.opt("renamed_in")) {
            (None, None) => None,
            (Some(n), Some(_)) => Some((n, r.parse("renamed_in", release))),
            _ => r.fail("renamed_to and renamed_in go together"),
        };
        let p = CoreParam {
            name: r.req("name"),
            aliases: list(r.get("aliases")),
            kind: r.parse("kind", CoreValueKind::parse),
            eras: r.parse("eras", |s| EraSpan::parse(s, Sampling::Language)),
            eras_ref: r.req("eras_ref"),
            value_ref: r.req("value_ref"),
            reference: r.req("ref"),
            renamed_to,
            note: r.get("note"),
            implemented: false,
        };
        for n in p.names() {
            if !seen.insert(n) {
                r.fail(format!("core parameter name `{n}` listed twice"));
            }
        }
        out.push(p);
    }
    out
}

fn load_core_actions() -> Vec<CoreAction> {
    let (file, text) = CORE_ACTIONS;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in tsv::parse(file, text, CORE_ACTION_COLS) {
        let eras = r.parse("eras", |s| EraSpan::parse(s, Sampling::Language));
        let arity = r.parse("arity", |s| {
            if s.contains(':') {
                AritySpans::parse(s, Sampling::Language)
            } else {
                Ok(AritySpans::uniform(eras, Arity::parse(s)?))
            }
        });
        if arity.span().intersect(eras) != arity.span() {
            r.fail(format!(
                "arity covers {} but the action exists in {eras}",
                arity.span()
            ));
        }
        let args = r.parse("arg_kinds", ArgKinds::parse);
        check_kinds_cover(&r, &arity, &args);
        let a = CoreAction {
            name: r.req("action"),
            aliases: list(r.get("aliases")),
            arity,
            args,
            eras,
            eras_ref: r.req("eras_ref"),
            moved_to: r.opt("moved_to").map(|_| r.parse("moved_to", module_at)),
            reference: r.req("ref"),
            section: r.req("section"),
            meaning: r.get("meaning"),
            implemented: false,
        };
        for n in a.names() {
            if !seen.insert(n) {
                r.fail(format!("core action name `{n}` listed twice"));
            }
        }
        out.push(a);
    }
    out
}

fn load_pvs() -> Vec<PseudoVar> {
    let (file, text) = PVS;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in tsv::parse(file, text, PV_COLS) {
        let p = PseudoVar {
            key: r.req("pv"),
            form: r.req("form"),
            aliases: list(r.get("aliases")),
            module: r.req("module"),
            write: r.parse("write", WriteAccess::parse),
            eras: r.parse("eras", |s| EraSpan::parse(s, Sampling::Language)),
            eras_ref: r.get("eras_ref"),
            reference: r.req("ref"),
            meaning: r.get("meaning"),
            implemented: false,
        };
        if !seen.insert((p.key, p.module)) {
            r.fail(format!("`${}` from `{}` listed twice", p.key, p.module));
        }
        if p.eras.is_empty() {
            r.fail("empty era span");
        }
        out.push(p);
    }
    out
}

fn load_renames() -> Vec<Rename> {
    let (file, text) = RENAMES;
    tsv::parse(file, text, RENAME_COLS)
        .iter()
        .map(|r| {
            let kind = r.parse("kind", RenameKind::parse);
            let sampling = match kind {
                RenameKind::CoreParam | RenameKind::CoreAction | RenameKind::RouteBlock => {
                    Sampling::Language
                }
                _ => Sampling::Modules,
            };
            Rename {
                kind,
                old: r.req("old"),
                old_module: r.opt("old_module"),
                old_eras: r
                    .opt("old_eras")
                    .map(|_| r.parse("old_eras", |s| EraSpan::parse(s, sampling))),
                new: r.req("new"),
                new_module: r.opt("new_module"),
                since: r.opt("since").map(|_| r.parse("since", release)),
                source: r.req("source"),
                note: r.get("note"),
            }
        })
        .collect()
}

/// Mark the entries named in implemented.txt.
fn apply_implemented(c: &mut Catalog) {
    let (file, text) = IMPLEMENTED;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |msg: String| -> ! { panic!("{file}:{}: {msg}", i + 1) };
        let mut hits = 0;
        if let Some(m) = line.strip_prefix("module:") {
            for x in c.modules.iter_mut().filter(|x| x.name == m) {
                x.implemented = true;
                hits += 1;
            }
        } else if let Some(rest) = line.strip_prefix("modparam:") {
            let (m, p) = rest
                .split_once('.')
                .unwrap_or_else(|| fail(format!("`{line}`: expected modparam:MODULE.PARAM")));
            for x in c.params.iter_mut().filter(|x| x.module == m && x.name == p) {
                x.implemented = true;
                hits += 1;
            }
        } else if let Some(n) = line.strip_prefix("coreparam:") {
            for x in c
                .core_params
                .iter_mut()
                .filter(|x| x.names().any(|a| a == n))
            {
                x.implemented = true;
                hits += 1;
            }
        } else if let Some(k) = line.strip_prefix("pv:") {
            for x in c.pvs.iter_mut().filter(|x| x.key == k) {
                x.implemented = true;
                hits += 1;
            }
        } else if let Some(a) = line.strip_prefix("core.") {
            for x in c
                .core_actions
                .iter_mut()
                .filter(|x| x.names().any(|n| n == a))
            {
                x.implemented = true;
                hits += 1;
            }
        } else if let Some((m, f)) = line.split_once('.') {
            for x in c
                .functions
                .iter_mut()
                .filter(|x| x.module == m && x.name == f)
            {
                x.implemented = true;
                hits += 1;
            }
        } else {
            fail(format!(
                "`{line}`: expected MODULE.FUNCTION (see the header)"
            ));
        }
        if hits == 0 {
            fail(format!("`{line}` names no catalog entry"));
        }
    }
}

pub(crate) fn load() -> Catalog {
    let mut modules = load_modules();
    let functions = load_functions(&mut modules);
    let params = load_params(&modules);
    let mut c = Catalog {
        modules,
        functions,
        params,
        core_params: load_core_params(),
        core_actions: load_core_actions(),
        pvs: load_pvs(),
        renames: load_renames(),
        by_function: HashMap::new(),
        by_param: HashMap::new(),
        by_core_param: HashMap::new(),
        by_pv: HashMap::new(),
        by_rename: HashMap::new(),
    };
    apply_implemented(&mut c);
    for (i, f) in c.functions.iter().enumerate() {
        c.by_function.entry(f.name).or_default().push(i);
    }
    for (i, p) in c.params.iter().enumerate() {
        c.by_param.entry((p.module, p.name)).or_default().push(i);
    }
    for (i, p) in c.core_params.iter().enumerate() {
        for n in p.names() {
            c.by_core_param.insert(n, i);
        }
    }
    for (i, p) in c.pvs.iter().enumerate() {
        for n in p.names() {
            c.by_pv.entry(n).or_default().push(i);
        }
    }
    for (i, r) in c.renames.iter().enumerate() {
        c.by_rename.entry(r.old).or_default().push(i);
    }
    c
}
